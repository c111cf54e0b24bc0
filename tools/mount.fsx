#!/bin/sh
# mount.fsx: mount(8) helper, so that
#	mount -t fsx fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh /mnt/fsx -o relatime,flock
# works. mount(8) runs "/sbin/mount.fsx SPEC DIR [-sfnvN] [-o OPTS]"; this
# execs fsx-mount with the same spec, directory and options. fsx-mount drops
# the options that only mean something to mount(8) or to Lustre (flock,
# _netdev, defaults, ...). FSX_MOUNT overrides which fsx-mount is run.
set -eu

usage() {
	echo "usage: mount.fsx SPEC DIR [-sfnv] [-o OPTS]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
spec=$1
dir=$2
shift 2
opts=
while [ $# -gt 0 ]; do
	case $1 in
	-o)	[ $# -ge 2 ] || usage
		opts=${opts:+$opts,}$2
		shift 2 ;;
	-o*)	opts=${opts:+$opts,}${1#-o}
		shift ;;
	-s|-n|-v|-N*)	shift ;;	# sloppy, no mtab, verbose, namespace
	-f)	echo "mount.fsx: fake mount of $spec on $dir" >&2
		exit 0 ;;
	*)	usage ;;
	esac
done

bin=${FSX_MOUNT:-}
if [ -z "$bin" ]; then
	here=$(dirname "$(readlink -f "$0")")
	for c in "$here/fsx-mount" "$here/../build/bin/fsx-mount" \
	    /usr/local/bin/fsx-mount /usr/bin/fsx-mount /usr/local/sbin/fsx-mount \
	    /usr/sbin/fsx-mount; do
		if [ -x "$c" ]; then
			bin=$c
			break
		fi
	done
fi
if [ -z "$bin" ]; then
	bin=$(command -v fsx-mount || true)
fi
[ -n "$bin" ] || { echo "mount.fsx: fsx-mount not found" >&2; exit 1; }

if [ -n "$opts" ]; then
	exec "$bin" -o "$opts" "$spec" "$dir"
fi
exec "$bin" "$spec" "$dir"
