#!/usr/bin/env bash
# replay.sh — regression run of every fuzz target over its committed corpus
# (seeds + crash inputs found so far). Needs `make fuzz-build` first.
cd "$(dirname "$0")/../.."
names=$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||; s|\.c$||')
exec scripts/fuzz.sh replay $names
