#!/bin/sh
# fsxctl.sh status|stop STATE_DIR
#
# status: fsxd (its pid and port), each file system's stores and the engine
#         process serving each one.
# stop:   end fsxd, then every engine process of the state dir (they outlive
#         fsxd on purpose, so that a restarted fsxd adopts them).
#
# Who serves a store is the pid written in its LOCK file (src/core/lockfile.h);
# a pid counts only while it is alive and its command line names this state
# dir, so a recycled pid is never signalled.
set -u
cmd=${1:-status}
state=${2:-./var}
[ -d "$state" ] || { echo "no state dir $state"; exit 0; }
state=$(cd "$state" && pwd)

# The live pid in DIR/LOCK whose command line mentions the state dir, or "".
holder() {
	pid=$(head -c 16 "$1/LOCK" 2>/dev/null | tr -dc 0-9)
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
	tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$state" && echo "$pid"
	return 0
}

engines() {
	for store in "$state"/fs/*/*; do
		[ -d "$store" ] && holder "$store"
	done | sort -u
}

case $cmd in
status)
	pid=$(holder "$state")
	if [ -n "$pid" ]; then
		port=$(tr '\0' ' ' < /proc/$pid/cmdline | sed -n 's/.*--port \([0-9]*\).*/\1/p')
		echo "fsxd: running, pid $pid${port:+, port $port}, state $state"
	else
		echo "fsxd: not running (state $state)"
	fi
	for fs in "$state"/fs/*; do
		[ -d "$fs" ] || continue
		echo "$(basename "$fs"):"
		for store in "$fs"/*; do
			[ -d "$store" ] || continue
			p=$(holder "$store")
			if [ -n "$p" ]; then
				echo "  $(basename "$store")  $(basename "$(tr '\0' '\n' < /proc/$p/cmdline | head -1)") pid $p"
			else
				echo "  $(basename "$store")  (no process)"
			fi
		done
	done
	;;
stop)
	pid=$(holder "$state")
	if [ -n "$pid" ]; then
		kill "$pid"
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		echo "fsxd (pid $pid) stopped"
	fi
	pids=$(engines)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for i in $(seq 50); do
		left=""
		for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -n "${left:-}" ] && kill -9 $left 2>/dev/null
	echo "$(echo $pids | wc -w) engine process(es) stopped"
	;;
*)
	echo "usage: $0 status|stop [STATE_DIR]" >&2
	exit 2
	;;
esac
