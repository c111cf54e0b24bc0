#!/bin/sh
# make bench: every benchmark, each printing its figures beside real
# baselines measured in the same run, then bench/report.py, which writes
# bench/results/latest.md, bench/results/<date>-<host>.json and the plots.
#
#   QUICK=1   short runs (one rep, small files, every figure): under 3
#             minutes on an idle 2-core machine
#   PEERS=1   also GlusterFS and MooseFS (bench/peers_bench.py)
#   BENCH_ONLY="api engine"   run only these steps
#
# Steps run one after another (the machine has 2 cores; parallel benches
# would measure each other). A step that fails is reported and the others
# still run; the exit status says whether all passed.
set -u
cd "$(dirname "$0")/.."
mkdir -p bench/results
QUICK=${QUICK:-}
PEERS=${PEERS:-}
export QUICK
if [ "$QUICK" = 1 ]; then
	export BENCH_REPS=${BENCH_REPS:-1} BENCH_SEQ_MB=${BENCH_SEQ_MB:-128}
	export BENCH_FILES=${BENCH_FILES:-1000} BENCH_RAND_SECS=${BENCH_RAND_SECS:-1}
	export BENCH_COH_FILES=${BENCH_COH_FILES:-150}
	export BENCH_STRIPE_MB=${BENCH_STRIPE_MB:-32}
	export BENCH_S3_MIB=${BENCH_S3_MIB:-32} BENCH_S3_OBJECTS=${BENCH_S3_OBJECTS:-200}
	export BENCH_S3_SMALL=${BENCH_S3_SMALL:-50}
	backup_args="--mib 128 --files 200"
	idle_n=${BENCH_IDLE_N:-100}
	idle_args="--settle 5 --window 10"
else
	# the full run in under 30 minutes: 1 GiB sequential files, 256 MiB
	# per stripe run (medians of 3 kept)
	export BENCH_SEQ_MB=${BENCH_SEQ_MB:-1024} BENCH_STRIPE_MB=${BENCH_STRIPE_MB:-256}
	backup_args=""
	idle_n=${BENCH_IDLE_N:-1000}
	idle_args=""
fi

# FUSE over io_uring (Linux 6.14+): fsx-mount takes its requests from
# per-CPU rings where the fuse module allows it (enable_uring, off by
# default); the run allows it and puts the setting back at the end.
# passthrough_ll (Debian's libfuse 3.14) cannot use it. BENCH_NO_URING=1
# leaves the setting alone.
ur=/sys/module/fuse/parameters/enable_uring
if [ -w "$ur" ] && [ -z "${BENCH_NO_URING:-}" ]; then
	ur_old=$(cat "$ur")
	echo Y > "$ur"
	trap 'echo "$ur_old" > "$ur"' EXIT
fi
BENCH_FUSE_URING=$(cat "$ur" 2>/dev/null || echo absent)
export BENCH_FUSE_URING

steps="api engine stripe workload"
for s in backup s3 idle leases; do
	[ -f "bench/${s}_bench.py" ] && steps="$steps $s"
done
[ "$PEERS" = 1 ] && steps="$steps peers"
[ -n "${BENCH_ONLY:-}" ] && steps="$BENCH_ONLY"

n=0
total=$(echo $steps | wc -w)
failed=""
t0=$(date +%s)
for s in $steps; do
	n=$((n + 1))
	echo "== bench [$n/$total] $s ($(($(date +%s) - t0)) s elapsed)"
	case $s in
	engine) sh bench/run_engine.sh ;;
	backup) python3 bench/backup_bench.py $backup_args ;;
	idle) python3 bench/idle_bench.py "$idle_n" $idle_args ;;
	*) python3 "bench/${s}_bench.py" ;;
	esac || { echo "== bench: $s FAILED"; failed="$failed $s"; }
done
echo "== bench: report ($(($(date +%s) - t0)) s elapsed)"
python3 bench/report.py || failed="$failed report"
if [ -n "$failed" ]; then
	echo "== bench: failed:$failed"
	exit 1
fi
echo "== bench: done in $(($(date +%s) - t0)) s"
