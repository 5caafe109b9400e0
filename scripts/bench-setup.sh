#!/usr/bin/env bash
# bench-setup.sh — prepares what every command in docs/BENCHMARKS.md expects:
# the peers' packages, a copy of the shared bench kit with its data sets, and
# the kit's two native peers (membw, hnsw_native). Idempotent: each step is
# skipped when its result is already there, so it is cheap to run again.
#
#   scripts/bench-setup.sh [--kit DIR] [--dir DIR] [--1m]
#
#   --kit DIR   the bench kit to copy (default: ../shared/bench next to this
#               checkout; its README describes the data and the peers)
#   --dir DIR   where the copy, the data and the peers live (default /tmp/bench,
#               the default of every bench script's --bench-dir / --data)
#   --1m        also generate g384_1m (1.5 GB, ~25–45 s); only the 1M runs need it
#
# The data sets stay out of the repository (they are large and regenerated
# deterministically by the kit's gen_data.py).
set -euo pipefail
cd "$(dirname "$0")/.."

KIT=../shared/bench
DIR=/tmp/bench
WANT_1M=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kit) KIT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --1m) WANT_1M=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench-setup: unknown argument $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --bench

if [ ! -f "$DIR/gen_data.py" ]; then
  [ -f "$KIT/gen_data.py" ] || {
    echo "bench-setup: no bench kit at $KIT (pass --kit DIR: the directory with gen_data.py, membw.c, hnsw_native.cpp)" >&2
    exit 1
  }
  echo "bench-setup: copying the kit $KIT to $DIR" >&2
  mkdir -p "$DIR"
  cp -r "$KIT"/. "$DIR"/
fi

cd "$DIR"
# Debian's python3: another python3 earlier on PATH may not see python3-numpy.
if [ ! -f data/g384_100k/base.f32 ]; then
  echo "bench-setup: generating data/g384_100k" >&2
  /usr/bin/python3 gen_data.py
fi
if [ "$WANT_1M" = 1 ] && [ ! -f data/g384_1m/base.f32 ]; then
  echo "bench-setup: generating data/g384_1m (1.5 GB)" >&2
  /usr/bin/python3 gen_data.py --n 1000000 --name g384_1m
fi
if [ ! -x membw ]; then
  echo "bench-setup: building membw" >&2
  gcc -O3 -march=native -fopenmp -o membw membw.c -lm
fi
if [ ! -x hnsw_native ]; then
  echo "bench-setup: building hnsw_native" >&2
  g++ -O3 -march=native -fopenmp -o hnsw_native hnsw_native.cpp
fi
echo "bench-setup: ready in $DIR (data: $(ls data | tr '\n' ' '))" >&2
