#!/bin/bash
# netns.sh up|down|env|fsxd-conf|node-down NODE|node-up NODE|status
#
# An emulated dev cluster on one machine (issue 13): network namespaces as
# hosts, joined by a bridge that lives in a namespace of its own, so the
# root namespace gets no interface, address or route.
#
#   fsx-br   bridge fsxbr0, one veth port per host (v-ctl, v-n1, ..., v-cl)
#   fsx-ctl  10.77.0.10   where fsxd runs
#   fsx-n1   10.77.0.11   storage node, sshd on :22, data dir STATE/n1
#   fsx-n2   10.77.0.12   storage node, sshd on :22, data dir STATE/n2
#   fsx-n3   10.77.0.13   storage node, sshd on :22, data dir STATE/n3
#   fsx-cl   10.77.0.20   a client
#
# Each host's interface is eth0 inside its namespace. 10.77.0.0/24 exists
# only inside these namespaces; nothing here routes anywhere else.
#
# STATE is FSX_CLUSTER_DIR (default /tmp/fsx-cluster): the client key
# (id_ed25519, no passphrase), known_hosts with every node's host key (for
# StrictHostKeyChecking=yes), each node's sshd config, host key, pid file
# and log (ssh/NODE/), and the node data dirs. The file system is shared by
# every namespace, so the same build/bin serves every "host".
#
#   up         down first (a crashed run is cleaned), then build it all,
#              start the sshds and check: ssh from fsx-ctl to every node with
#              the key, and a TCP connect from fsx-cl to every node's :22
#   down       end every process in these namespaces (sshds, and what they
#              started), delete the namespaces (and so the bridge), remove
#              STATE; safe to run twice
#   env        shell lines (export NAME='value') for eval or for tests
#   fsxd-conf  fsxd config lines, one 'node = ...' per storage node; the
#              binaries are FSX_BIN (default $(pwd)/build/bin)
#   node-down NODE / node-up NODE
#              take NODE's bridge port down (unreachable; its processes go
#              on running) or back up
#   status     namespaces, addresses and the pids in each
#   fsxd-start fsxd in fsx-ctl on 10.77.0.10:4566 (FSX_PORT), config
#              STATE/fsxd.conf (written from fsxd-conf when absent), state
#              STATE/ctl, log STATE/fsxd.log; waits for "fsxd ready"; fails
#              (status 3) with the log's tail when fsxd exits instead
#   fsxd-stop  fsxd and the engine processes of STATE/ctl (tools/fsxctl.sh)
#   usage      how to reach the cluster from the client namespace
#
# Needs root, iproute2 and openssh-server (tools/deps.sh --test).
set -u

STATE=${FSX_CLUSTER_DIR:-/tmp/fsx-cluster}
KEY=$STATE/id_ed25519
NODES="n1 n2 n3"
BRNS=fsx-br
BR=fsxbr0
NET=10.77.0
SSHD=${SSHD:-/usr/sbin/sshd}
SSH_OPTS="-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
MARK=.fsx-cluster	# in STATE: down removes only a dir that has it

# host name -> namespace, address
ns_of() { echo "fsx-$1"; }
addr_of() {
	case $1 in
	ctl) echo "$NET.10" ;;
	n1) echo "$NET.11" ;;
	n2) echo "$NET.12" ;;
	n3) echo "$NET.13" ;;
	cl) echo "$NET.20" ;;
	*) return 1 ;;
	esac
}
HOSTS="ctl $NODES cl"

die() { echo "netns: $*" >&2; exit 1; }
say() { echo "netns: $*"; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }
is_node() { case " $NODES " in *" $1 "*) return 0 ;; esac; return 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, sshd)"
	command -v ip >/dev/null || die "no ip: install iproute2 (sh tools/deps.sh --test)"
}

# tcp_ok NS ADDR PORT SECS: a TCP connect from namespace NS succeeds.
tcp_ok() {
	ip netns exec "$1" timeout "$4" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

# ssh_ok NODE [SECS]: the key logs in as root on NODE from fsx-ctl.
ssh_ok() {
	# shellcheck disable=SC2086
	ip netns exec fsx-ctl timeout $((${2:-5} + 2)) ssh -i "$KEY" $SSH_OPTS \
	    -o ConnectTimeout="${2:-5}" "root@$(addr_of "$1")" true </dev/null
}

# Every live pid in namespace NS (none when it does not exist).
ns_pids() { ns_exists "$1" && ip netns pids "$1" 2>/dev/null; }

# A FUSE client in the namespace keeps its mount after it dies ("Transport
# endpoint is not connected"): unmount it first, in its own mount namespace
# (ip netns exec gives each command a private one; nsenter --net does not).
unmount_clients() {
	for pid in $(ns_pids "$1"); do
		[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = fsx-mount ] || continue
		mp=$(tr '\0' '\n' < /proc/"$pid"/cmdline | tail -n 1)
		case $mp in /*) ;; *) continue ;; esac
		nsenter -t "$pid" -m umount -l "$mp" 2>/dev/null
	done
}

# End every process of namespace NS: TERM, up to 3 s, then KILL.
ns_kill() {
	pids=$(ns_pids "$1")
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null
	for _ in $(seq 30); do
		pids=$(ns_pids "$1")
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null
	for _ in $(seq 20); do
		[ -n "$(ns_pids "$1")" ] || return 0
		sleep 0.1
	done
	say "namespace $1: processes left: $(ns_pids "$1" | tr '\n' ' ')"
}

cmd_down() {
	need_root
	# fsxd first, so it starts nothing while the rest go
	unmount_clients fsx-cl
	ns_kill fsx-ctl
	for h in $NODES cl; do ns_kill "$(ns_of "$h")"; done
	for h in $HOSTS; do
		ns=$(ns_of "$h")
		ns_exists "$ns" && ip netns del "$ns"
	done
	ns_exists "$BRNS" && ip netns del "$BRNS"
	if [ -d "$STATE" ]; then
		if [ -e "$STATE/$MARK" ]; then
			rm -rf "$STATE"
		else
			say "left $STATE alone: it has no $MARK (not made by netns.sh up)"
		fi
	fi
	return 0
}

# sshd_conf NODE: write STATE/ssh/NODE/sshd_config (and its host key).
sshd_conf() {
	d=$STATE/ssh/$1
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C "fsx-$1" -f "$d/ssh_host_ed25519_key" || return 1
	cat > "$d/sshd_config" <<EOF
# fsx-local emulated storage node $1 (tests/cluster/netns.sh)
Port 22
ListenAddress $(addr_of "$1")
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $KEY.pub
StrictModes no
UsePAM no
PrintMotd no
X11Forwarding no
MaxStartups 64:30:128
MaxSessions 64
LogLevel INFO
Subsystem sftp internal-sftp
EOF
}

cmd_up() {
	need_root
	[ -x "$SSHD" ] || die "no $SSHD: install openssh-server (sh tools/deps.sh --test)"
	command -v ssh >/dev/null || die "no ssh: install openssh-client (sh tools/deps.sh --test)"
	t0=$(date +%s.%N)
	cmd_down >/dev/null
	mkdir -p "$STATE" && chmod 0755 "$STATE" || die "cannot create $STATE"
	: > "$STATE/$MARK"
	ssh-keygen -q -t ed25519 -N '' -C fsx-cluster -f "$KEY" || die "ssh-keygen failed"

	ip netns add "$BRNS" || die "ip netns add $BRNS failed"
	ip -n "$BRNS" link set lo up
	ip -n "$BRNS" link add "$BR" type bridge forward_delay 0 stp_state 0 || die "bridge $BR failed"
	ip -n "$BRNS" link set "$BR" up
	for h in $HOSTS; do
		ns=$(ns_of "$h")
		ip netns add "$ns" || die "ip netns add $ns failed"
		ip -n "$ns" link set lo up
		ip -n "$BRNS" link add "v-$h" type veth peer name eth0 netns "$ns" ||
			die "veth for $ns failed"
		ip -n "$BRNS" link set "v-$h" master "$BR" up
		ip -n "$ns" addr add "$(addr_of "$h")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done

	# privilege separation dir sshd insists on (shared by every namespace)
	mkdir -p /run/sshd && chmod 0755 /run/sshd
	for n in $NODES; do
		mkdir -p "$STATE/$n"
		sshd_conf "$n" || die "sshd config for $n failed"
		d=$STATE/ssh/$n
		echo "$(addr_of "$n") $(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts"
		ip netns exec "$(ns_of "$n")" "$SSHD" -f "$d/sshd_config" -E "$d/sshd.log" ||
			die "sshd for $n did not start: $(tail -n 3 "$d/sshd.log" 2>/dev/null)"
	done

	# checks: every node takes the key from fsx-ctl; fsx-cl reaches every node
	for n in $NODES; do
		ok=""
		for _ in $(seq 50); do
			tcp_ok fsx-ctl "$(addr_of "$n")" 22 1 && { ok=1; break; }
			sleep 0.1
		done
		[ -n "$ok" ] || die "$n: sshd not listening on $(addr_of "$n"):22 ($(tail -n 3 "$STATE/ssh/$n/sshd.log" 2>/dev/null))"
		ssh_ok "$n" 5 || die "$n: ssh root@$(addr_of "$n") from fsx-ctl with $KEY failed"
		tcp_ok fsx-cl "$(addr_of "$n")" 22 3 || die "$n: fsx-cl cannot reach $(addr_of "$n"):22"
	done
	t1=$(date +%s.%N)
	say "up in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s: fsx-ctl $(addr_of ctl)," \
	    "$(for n in $NODES; do printf '%s %s, ' "fsx-$n" "$(addr_of "$n")"; done)fsx-cl $(addr_of cl); state $STATE"
}

cmd_env() {
	q() { printf "export %s='%s'\n" "$1" "$2"; }
	q FSX_CLUSTER_DIR "$STATE"
	q FSX_CLUSTER_KEY "$KEY"
	q FSX_CLUSTER_KNOWN_HOSTS "$STATE/known_hosts"
	q FSX_CLUSTER_SSH_OPTS "-i $KEY $SSH_OPTS"
	q FSX_NODES "$NODES"
	q FSX_CTL_NS fsx-ctl
	q FSX_CTL_ADDR "$(addr_of ctl)"
	q FSX_CLIENT_NS fsx-cl
	q FSX_CLIENT_ADDR "$(addr_of cl)"
	for n in $NODES; do
		u=$(echo "$n" | tr a-z A-Z)
		q "FSX_NODE_${u}_NS" "$(ns_of "$n")"
		q "FSX_NODE_${u}_ADDR" "$(addr_of "$n")"
		q "FSX_NODE_${u}_HOST" "root@$(addr_of "$n")"
		q "FSX_NODE_${u}_DIR" "$STATE/$n"
	done
}

cmd_fsxd_conf() {
	bin=$(fsxd_bin)
	for n in $NODES; do
		echo "node = $n driver=ssh host=root@$(addr_of "$n") address=$(addr_of "$n") dir=$STATE/$n bin=$bin capacity=9600 key=$KEY"
	done
}

cmd_node() {
	need_root
	[ -n "${2:-}" ] && is_node "$2" || die "usage: $0 $1 NODE (one of: $NODES)"
	ns_exists "$BRNS" || die "no cluster: run $0 up"
	case $1 in
	node-down) ip -n "$BRNS" link set "v-$2" down && say "$2 unreachable (its processes go on)" ;;
	node-up) ip -n "$BRNS" link set "v-$2" up && say "$2 reachable" ;;
	esac
}

cmd_status() {
	for h in $HOSTS; do
		ns=$(ns_of "$h")
		if ns_exists "$ns"; then
			port=$(ip -n "$BRNS" -br link show "v-$h" 2>/dev/null | awk '{print $2}')
			echo "$ns $(addr_of "$h") port ${port:-?} pids: $(ns_pids "$ns" | tr '\n' ' ')"
		else
			echo "$ns (absent)"
		fi
	done
}

fsxd_bin() {
	bin=${FSX_BIN:-$(pwd)/build/bin}
	case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
	echo "$bin"
}

cmd_fsxd_start() {
	need_root
	ns_exists fsx-ctl || die "no cluster: run $0 up"
	bin=$(fsxd_bin)
	[ -x "$bin/fsxd" ] || die "no $bin/fsxd: build first (make all) or set FSX_BIN"
	conf=$STATE/fsxd.conf
	[ -f "$conf" ] || cmd_fsxd_conf > "$conf"
	log=$STATE/fsxd.log
	mkdir -p "$STATE/ctl"
	: > "$log"
	ip netns exec fsx-ctl setsid "$bin/fsxd" --listen "$(addr_of ctl)" \
	    --port "${FSX_PORT:-4566}" --config "$conf" --state-dir "$STATE/ctl" \
	    </dev/null >>"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "fsxd ready" "$log" && { say "fsxd pid $pid: $(grep -m1 "fsxd ready" "$log")"; return 0; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "fsxd (pid $pid) not ready after 10 s; log $log:"
	else
		wait "$pid"
		say "fsxd exited (status $?) instead of starting; log $log:"
	fi
	tail -n 5 "$log" | sed 's/^/    /'
	return 3
}

cmd_fsxd_stop() {
	[ -d "$STATE/ctl" ] || return 0
	sh "$(dirname "$0")/../../tools/fsxctl.sh" stop "$STATE/ctl"
}

cmd_usage() {
	bin=$(fsxd_bin)
	url=http://$(addr_of ctl):${FSX_PORT:-4566}
	cat <<EOF
cluster: fsxd in fsx-ctl at $url (state $STATE/ctl, log $STATE/fsxd.log),
storage nodes $(for n in $NODES; do printf '%s=%s ' "$n" "$(addr_of "$n")"; done)(sshd, key $KEY),
client namespace fsx-cl ($(addr_of cl)). The root namespace has no route to
10.77.0.0/24: run clients in fsx-cl.

  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  ip netns exec fsx-cl aws fsx --endpoint-url $url describe-file-systems
  ip netns exec fsx-cl aws fsx --endpoint-url $url create-file-system \\
      --file-system-type LUSTRE --storage-capacity 1200 --subnet-ids subnet-0123456789abcdef0 \\
      --lustre-configuration DeploymentType=SCRATCH_2
  ip netns exec fsx-cl $bin/fsx-mount --endpoint-url $url FSID /mnt/x

'ip netns exec' gives the command a mount namespace of its own, so that
mount is seen only by fsx-mount itself. To see it from this shell, switch
only the network namespace:
  nsenter --net=/run/netns/fsx-cl $bin/fsx-mount --endpoint-url $url FSID /mnt/x

  eval "\$(bash tests/cluster/netns.sh env)"     # FSX_CLUSTER_KEY, FSX_NODES, ...
  bash tests/cluster/netns.sh node-down n2       # fault: n2 unreachable; node-up n2
  make cluster-down                             # fsxd, engines, namespaces, $STATE
EOF
}

case ${1:-} in
up) cmd_up ;;
fsxd-start) cmd_fsxd_start ;;
fsxd-stop) cmd_fsxd_stop ;;
usage) cmd_usage ;;
down) cmd_down ;;
env) cmd_env ;;
fsxd-conf) cmd_fsxd_conf ;;
node-down | node-up) cmd_node "$@" ;;
status) cmd_status ;;
*)
	sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
