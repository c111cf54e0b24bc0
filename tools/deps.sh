#!/bin/sh
# Install the Debian packages named on the command line that are missing.
# As root it runs apt-get itself; otherwise it prints the one command to run.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing packages; run:"
	echo "  sudo apt-get install -y$missing"
	exit 1
fi
