#!/usr/bin/env bash
# run-tests.sh — runs test programs and sums their results.
#
#   scripts/run-tests.sh LABEL TEST...
#
# Each TEST is a unit-test binary or an integration script (*.py, run with
# Debian's python3). Every test program prints "N passed, N failed" as its
# last line; a program that crashes, times out or prints no such line counts
# as one failure. The last line of this script is the sum, in the same form.
set -u
label=$1; shift
total_pass=0; total_fail=0
log_dir=${VX_TEST_LOG_DIR:-$(mktemp -d /tmp/vxtestlog.XXXXXX)}
timeout_s=${VX_TEST_TIMEOUT:-600}
for t in "$@"; do
  name=$(echo "$t" | sed "s|$PWD/||")
  log="$log_dir/$(echo "$name" | tr '/' '_').log"
  case "$t" in
    *.py) cmd=(/usr/bin/python3 "$t") ;;
    *.sh) cmd=(bash "$t") ;;
    *)    cmd=("$t") ;;
  esac
  start=$(date +%s)
  timeout --kill-after=10 "$timeout_s" "${cmd[@]}" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -n "$summary" ]; then
    p=${summary%% passed*}; f=${summary#*, }; f=${f%% failed}
  else
    p=0; f=0
  fi
  if [ -z "$summary" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
    f=$((f + 1))   # crashed, timed out, or exited non-zero without saying why
    echo "!! $name exited with status $rc without a complete summary"
  fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if [ "$f" -gt 0 ]; then
    echo "FAIL $name: $p passed, $f failed (${secs}s) — log follows"
    grep -E '^(FAIL|    |!!)|ERROR|AddressSanitizer|runtime error|Traceback' "$log" | head -n 60
    tail -n 15 "$log"
  else
    echo "ok   $name: $p passed (${secs}s)"
  fi
done
echo "logs: $log_dir"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
