#!/bin/sh
# Engine benchmarks: fsx-mount (1 MDS, 4 OSTs) against the raw disk and a
# libfuse's own passthrough_ll example (built from Debian's libfuse3-dev
# examples into a temporary directory) over the same disk. Root, fio,
# /dev/fuse.
#
#   sh bench/run_engine.sh          (from the top of the tree)
#
# Results: bench/results/engine-<date>.txt and .json. Knobs (environment):
# BENCH_DIR (scratch dir, default /var/tmp), BENCH_REPS (3), BENCH_SEQ_MB
# (2048), BENCH_FILES (20000), BENCH_RAND_SECS (5), BENCH_OSS (2),
# FSX_BIN (build/bin), BENCH_BIN (build/bench).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-build}
export FSX_BIN=${FSX_BIN:-$top/$O/bin}
export BENCH_BIN=${BENCH_BIN:-$top/$O/bench}

if [ "$(id -u)" -ne 0 ]; then
	echo "run_engine.sh: needs root (FUSE mounts, drop_caches)" >&2
	exit 1
fi
command -v fio >/dev/null || { echo "run_engine.sh: fio missing" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "run_engine.sh: /dev/fuse missing" >&2; exit 1; }

need="$FSX_BIN/fsx-mds $FSX_BIN/fsx-oss $FSX_BIN/fsx-mount"
missing=
for b in $need; do [ -x "$b" ] || missing="$missing $b"; done
if [ -n "$missing" ]; then
	make -j2 O="$O" $(for b in $need; do echo "${b#$top/}"; done) >&2
fi
[ -x "$BENCH_BIN/fsc_stream" ] || [ ! -f bench/fsc_stream.c ] || \
	make -j2 O="$O" "$O/bench/fsc_stream" >&2 || true

exec python3 bench/engine_bench.py
