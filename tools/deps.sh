#!/bin/sh
# deps.sh [--test] DEB_PACKAGE...
#
# Install the Debian packages named on the command line that are missing.
# With --test, also what the test suites call when it is missing: the aws
# CLI (awscli), boto3 (python3-boto3), node and npm (nodejs, npm), and for
# the emulated cluster (tests/cluster/netns.sh) ip (iproute2), ssh and sshd
# (openssh-client, openssh-server), and clang for make fuzz. A tool already
# present (a pip or pyenv install, say) is used as it is.
# As root it runs apt-get itself; otherwise it prints the one command to
# run and fails.
missing=""
if [ "${1:-}" = "--test" ]; then
	shift
	command -v aws >/dev/null 2>&1 || missing="$missing awscli"
	python3 -c 'import boto3' >/dev/null 2>&1 || missing="$missing python3-boto3"
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	set -- "$@" iproute2 openssh-client openssh-server clang
fi
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
