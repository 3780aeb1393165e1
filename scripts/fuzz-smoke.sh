#!/usr/bin/env bash
# fuzz-smoke.sh DIR - runs every fuzzer in DIR once over each file of its seed
# corpus (t/fuzz/corpus/NAME/), as a test: a crash or sanitizer report fails.
set -euo pipefail
dir=$1
pass=0 fail=0
for f in "$dir"/*; do
  [ -x "$f" ] || continue
  name=${f##*/}
  corpus=t/fuzz/corpus/$name
  if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    echo "fuzz-smoke: $name: no seed corpus in $corpus" >&2; fail=$((fail + 1)); continue
  fi
  if "$f" "$corpus"/* >"$dir/$name.smoke.log" 2>&1; then
    pass=$((pass + 1))
  else
    echo "fuzz-smoke: $name failed; see $dir/$name.smoke.log" >&2
    tail -30 "$dir/$name.smoke.log" >&2
    fail=$((fail + 1))
  fi
done
echo "fuzz-smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
