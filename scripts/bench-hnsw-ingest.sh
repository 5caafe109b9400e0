#!/usr/bin/env bash
# bench-hnsw-ingest.sh — searches of an hnsw collection while batches are
# upserted into it, through REST (tests/bench/hnsw_ingest_search.py).
#   scripts/bench-hnsw-ingest.sh [BIN_DIR] [INITIAL_POINTS] [EXTRA_THOUSANDS]
# BIN_DIR defaults to build/bin (built first); data: /tmp/bench/data/g384_100k.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin}
[ "$BIN" = build/bin ] && make -s build/bin/vectron-store build/bin/vectron-api
DATA=${BENCH_DATA:-/tmp/bench/data/g384_100k}
D=$(mktemp -d /tmp/vx-bench-ingest.XXXXXX)
pids=()
stop() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
         for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; rm -rf "$D"; }
trap stop EXIT
"$BIN/vectron-store" --listen "ipc://$D/s.sock" --events-url "ipc://$D/e.sock" \
  --data-dir "$D/data" --log-level warn 2>"$D/store.log" & pids+=($!)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/vectron-api" --store-url "ipc://$D/s.sock" --embed-url "ipc://$D/none.sock" --port "$PORT" \
  --log-level warn 2>"$D/api.log" & pids+=($!)
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$PORT/health" | grep -q '"store":"ok"' && break; sleep 0.1
done
/usr/bin/python3 tests/bench/hnsw_ingest_search.py "$PORT" "$DATA" "${2:-20000}" "${3:-10}"
