#!/usr/bin/env bash
# fuzz.sh — drives the libFuzzer targets built by `make fuzz-build`.
#
#   scripts/fuzz.sh replay NAME...        run each target once over its corpus
#                                         (regression inputs; prints N passed, N failed)
#   scripts/fuzz.sh run SECONDS NAME...   fuzz each target for SECONDS; new
#                                         crash inputs are copied into the corpus
set -u
cd "$(dirname "$0")/.."
mode=$1; shift
secs=0
if [ "$mode" = run ]; then secs=$1; shift; fi
pass=0; fail=0
for name in "$@"; do
  bin=build-fuzz/fuzz/fuzz_$name
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus"
  if [ "$mode" = replay ]; then
    if "$bin" -runs=0 "$corpus" >"/tmp/fuzz_$name.log" 2>&1; then
      echo "ok   fuzz replay $name ($(ls "$corpus" | wc -l) inputs)"; pass=$((pass + 1))
    else
      echo "FAIL fuzz replay $name"; tail -n 30 "/tmp/fuzz_$name.log"; fail=$((fail + 1))
    fi
  else
    work=$(mktemp -d /tmp/fuzz_$name.XXXXXX)
    art=$(mktemp -d /tmp/fuzz_art_$name.XXXXXX)
    if "$bin" -max_total_time="$secs" -artifact_prefix="$art/" "$work" "$corpus" \
         >"/tmp/fuzz_$name.log" 2>&1; then
      echo "ok   fuzz $name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "/tmp/fuzz_$name.log" | tail -1) $(tail -n 1 "/tmp/fuzz_$name.log")"
      pass=$((pass + 1))
    else
      echo "FAIL fuzz $name: crash inputs copied into $corpus"
      cp "$art"/* "$corpus"/ 2>/dev/null
      tail -n 30 "/tmp/fuzz_$name.log"; fail=$((fail + 1))
    fi
    rm -rf "$work" "$art"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
