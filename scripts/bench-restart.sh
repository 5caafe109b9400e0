#!/usr/bin/env bash
# bench-restart.sh — the durability benchmarks of docs/BENCHMARKS.md
# ("Durability"): restart time of a 1M x 384 store and ingest speed under
# each fsync policy. Both drive the real binaries (tests/crash/bench_durability.py).
#
#   scripts/bench-restart.sh                 everything (~10 min, ~10 GB of temp files)
#   scripts/bench-restart.sh restart [--n 1000000 --tail 100000 --repeat 3 --data FILE --tmp DIR --index flat|hnsw --catch-up]
#   scripts/bench-restart.sh ingest  [--transport rest|bus --workers N --configs 100x1,1x16 --seconds 5]
#
# Data for the restart benchmark: /tmp/bench/data/g384_1m/base.f32 when it
# exists (make it with: cd /tmp/bench && /usr/bin/python3 gen_data.py --n 1000000
# --name g384_1m), else seeded synthetic vectors (slower to generate).
# VX_BIN: directory of the binaries (default build/bin).
set -eu
cd "$(dirname "$0")/.."
export VX_BIN=${VX_BIN:-$PWD/build/bin}
for b in vectron-store vectron-api; do
  [ -x "$VX_BIN/$b" ] || { echo "missing $VX_BIN/$b (run: make)" >&2; exit 1; }
done
B="/usr/bin/python3 tests/crash/bench_durability.py"
what=${1:-all}
[ $# -gt 0 ] && shift
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
case "$what" in
  restart) $B restart "$@" ;;
  ingest)  $B ingest "$@" ;;
  all)
    $B restart
    $B ingest --transport rest
    $B ingest --transport bus --configs 1x1,1x8,1x32,100x4
    $B ingest --transport bus --workers 32 --policies always,everysec --configs 1x1,1x8,1x32
    ;;
  *) echo "usage: $0 [all|restart|ingest] [options]" >&2; exit 2 ;;
esac
