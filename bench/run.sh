#!/usr/bin/env bash
# bench/run.sh BUILD - the benchmarks of `make bench`.
# Each benchmark measures Posthorn and, when it is installed, Postfix in the
# same run on the same machine and prints the ratio. Postfix is never needed:
# without it the Posthorn figures are printed alone.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/*_bench.py; do
  /usr/bin/python3 "$b" "$build"
done
