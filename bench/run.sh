#!/bin/sh
# make bench: every benchmark, each printing its figure beside a baseline
# measured in the same run. Results go under bench/results/.
set -e
cd "$(dirname "$0")/.."
mkdir -p bench/results
python3 bench/api_bench.py
if [ -x bench/run_engine.sh ] || [ -f bench/run_engine.sh ]; then
	sh bench/run_engine.sh
fi
python3 bench/s3_bench.py
