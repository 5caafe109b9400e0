#!/usr/bin/env bash
# check-fmtfloat-exhaustive.sh — checks common/vx_fmtfloat.c's float output
# on all 2^32 bit patterns (scripts/check_fmtfloat_exhaustive.c: strtof
# round trip, shortest and nearest by exact arithmetic, "-" symmetry).
# Not part of make test: about 10 minutes of one core. Last line "OK" or
# "FAILED" (exit status 1).
#
#   scripts/check-fmtfloat-exhaustive.sh [FIRST LAST]   hex bit-pattern range
#   scripts/check-fmtfloat-exhaustive.sh --bench        512-float vector timing
#   scripts/check-fmtfloat-exhaustive.sh --diff-old N   vs the former printf loop
#
# On a shared machine: nice -n 19 scripts/check-fmtfloat-exhaustive.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/fmtfloat-check
mkdir -p "$out"
${CC:-gcc} -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -Icommon \
  scripts/check_fmtfloat_exhaustive.c common/vx_fmtfloat.c \
  -pthread -lm -o "$out/check_fmtfloat_exhaustive"
exec "$out/check_fmtfloat_exhaustive" "$@"
