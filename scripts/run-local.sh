#!/usr/bin/env bash
# run-local.sh — what `make run` calls: starts vectron-store, vectron-embed
# (built-in use-lite model) and vectron-api on 127.0.0.1 in the foreground.
# Ctrl-C (SIGINT) or SIGTERM stops all three cleanly (SIGTERM to each, then
# wait). If any service exits on its own, the others are stopped too.
#
# Environment: VECTRON_PORT (default 3000), VECTRON_DATA_DIR (default ./data),
# VECTRON_BIND (default 127.0.0.1), VX_BIN (binaries, default build/bin).
set -u
cd "$(dirname "$0")/.."
BIN=${VX_BIN:-build/bin}
export VECTRON_PORT=${VECTRON_PORT:-3000}
export VECTRON_DATA_DIR=${VECTRON_DATA_DIR:-./data}
export VECTRON_STORE_URL=${VECTRON_STORE_URL:-tcp://127.0.0.1:5601}
export VECTRON_STORE_EVENTS_URL=${VECTRON_STORE_EVENTS_URL:-tcp://127.0.0.1:5602}
export VECTRON_EMBED_URL=${VECTRON_EMBED_URL:-tcp://127.0.0.1:5611}
mkdir -p "$VECTRON_DATA_DIR"

# The store and the embed service listen on their tcp address (for programs
# that speak nng to them) AND on a unix socket under the data dir, which the
# co-located gateway uses: after a long scan, a reply over ipc costs ~130 µs
# less than over tcp loopback (docs/BENCHMARKS.md). A path too long for a
# unix socket (107 bytes) keeps the gateway on tcp.
RUN_DIR=$VECTRON_DATA_DIR/run
mkdir -p "$RUN_DIR"
store_listen=$VECTRON_STORE_URL; api_store=$VECTRON_STORE_URL
embed_listen=$VECTRON_EMBED_URL; api_embed=$VECTRON_EMBED_URL
if [ ${#RUN_DIR} -le 90 ]; then
  store_listen="$VECTRON_STORE_URL,ipc://$RUN_DIR/store.sock"; api_store="ipc://$RUN_DIR/store.sock"
  embed_listen="$VECTRON_EMBED_URL,ipc://$RUN_DIR/embed.sock"; api_embed="ipc://$RUN_DIR/embed.sock"
fi

pids=()
stop_all() {
  trap - INT TERM
  echo "run-local: stopping services" >&2
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  exit 0
}
trap stop_all INT TERM

"$BIN/vectron-store" --listen "$store_listen" & pids+=($!)
if [ -x "$BIN/vectron-embed" ]; then
  "$BIN/vectron-embed" --listen "$embed_listen" & pids+=($!)
else
  echo "run-local: vectron-embed not built; text routes will answer 503" >&2
fi
"$BIN/vectron-api" --store-url "$api_store" --embed-url "$api_embed" & pids+=($!)

echo "run-local: Vectron on http://127.0.0.1:$VECTRON_PORT (dashboard: http://127.0.0.1:$VECTRON_PORT/dashboard; data in $VECTRON_DATA_DIR); Ctrl-C stops" >&2
# Wait until any service exits, then stop the rest.
wait -n
echo "run-local: a service exited; stopping the others" >&2
stop_all
