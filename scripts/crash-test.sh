#!/usr/bin/env bash
# crash-test.sh — the long crash test (`make crash-test`): kill -9 the store
# at random moments (also while it writes a snapshot and while it recovers)
# under concurrent REST and bus writers, restart it, and check that every
# acknowledged write survived and every acknowledged delete stayed deleted.
#
#   scripts/crash-test.sh                 500 kills with --fsync always
#   KILLS=1000 SEED=7 scripts/crash-test.sh
#   POLICIES="always everysec none" scripts/crash-test.sh   split the kills over the policies
#
# VX_BIN: directory of the binaries (default build/bin). Prints the counts of
# each run; the last line is the sum "N passed, N failed" (one per kill cycle).
set -u
cd "$(dirname "$0")/.."
kills=${KILLS:-500}
seed=${SEED:-$(( (RANDOM << 15 | RANDOM) % 100000 + 1 ))}
policies=${POLICIES:-always}
export VX_BIN=${VX_BIN:-$PWD/build/bin}
for b in vectron-store vectron-api; do
  [ -x "$VX_BIN/$b" ] || { echo "missing $VX_BIN/$b (run: make)"; echo "0 passed, 1 failed"; exit 1; }
done
n_pol=$(echo $policies | wc -w)
per=$(( (kills + n_pol - 1) / n_pol ))
total_pass=0; total_fail=0; i=0
for pol in $policies; do
  i=$((i + 1))
  log=$(mktemp /tmp/vxcrash-run.XXXXXX.log)
  echo "=== fsync $pol: $per kills, seed $((seed + i)) (log: $log)"
  /usr/bin/python3 tests/crash/crash_harness.py --kills "$per" --seed $((seed + i)) --fsync "$pol" 2>&1 \
    | tee "$log" | grep -E '^(FAIL|ok cycle|    |!!|---|kills|acknowledged|unknown|point states|restart|temp dir|NOTE)'
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    echo "!! the harness ended without a summary"; total_fail=$((total_fail + 1)); continue
  fi
  echo "$summary"
  p=${summary%% passed*}; f=${summary#*, }; f=${f%% failed}
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
