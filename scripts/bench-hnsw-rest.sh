#!/usr/bin/env bash
# bench-hnsw-rest.sh — an hnsw collection end to end through REST
# (docs/BENCHMARKS.md, "HNSW collections through REST"):
#  1. builds vectron-store / vectron-api and tests/bench/rest_bench.c (the
#     REST client of scripts/bench-rest.sh; compiled here from a copy whose
#     search body is '"k":10,' + $VX_BENCH_SEARCH instead of '"exact":true');
#  2. starts the services on a temp data dir, PUT /collections/h (cosine,
#     hnsw, M=16, ef_construction=200) and a flat twin, loads the data set
#     through POST .../points in batches of 1000 (timed: vectors/s; the flat
#     twin gets the first FLATN vectors: throughput without the graph);
#  3. searches every query, REPS reps, through REST at each ef of EFS and
#     with "exact": true: p50/p90/p99 latency, recall@10 against gt_ids.i32;
#  4. restart: SIGTERM (snapshot on exit), start again, checks the store log
#     says the graph was loaded without a rebuild, searches again at ef=64;
#  5. WAL replay into a loaded graph: upserts 1000 more vectors (copies of
#     base vectors under new ids), kills the store with SIGKILL (no
#     snapshot), restarts: the snapshot's graph is loaded and the WAL's 1000
#     points are inserted into it; checks the count and that a search for
#     one of the new points finds it.
# usage: scripts/bench-hnsw-rest.sh [--data DIR] [--reps N] [--efs "16 32 64 128"]
#                                    [--flatn N]
# The services' logs are kept in /tmp/vx-bench-hnsw-logs/ after the run.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=/tmp/bench/data/g384_100k
REPS=2
EFS="16 32 64 128 256"
FLATN=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --efs) EFS=$2; shift 2 ;;
    --flatn) FLATN=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench-hnsw-rest: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$DATA/base.f32" ] || { echo "bench-hnsw-rest: no dataset at $DATA" >&2; exit 1; }

TMP=$(mktemp -d /tmp/vx-bench-hnsw.XXXXXX)
STORE_PID=
API_PID=
cleanup() {
  for p in $API_PID $STORE_PID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $API_PID $STORE_PID; do wait "$p" 2>/dev/null || true; done
  mkdir -p /tmp/vx-bench-hnsw-logs && cp "$TMP"/*.log /tmp/vx-bench-hnsw-logs/ 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== build" >&2
make --no-print-directory build/bin/vectron-store build/bin/vectron-api >&2
/usr/bin/python3 - "$TMP/rest_bench.c" <<'EOF'
import sys
src = open("tests/bench/rest_bench.c").read()
old = 'sb_printf(&body, ",\\"k\\":%d,\\"exact\\":true}", K);'
new = ('sb_printf(&body, ",\\"k\\":%d,%s}", K, getenv("VX_BENCH_SEARCH") ? '
       'getenv("VX_BENCH_SEARCH") : "\\"exact\\":true");')
assert src.count(old) == 1, "rest_bench.c changed: update bench-hnsw-rest.sh"
open(sys.argv[1], "w").write(src.replace(old, new))
EOF
cc -D_GNU_SOURCE -std=c11 -Wall -Wextra -Werror -O2 -pthread -o "$TMP/rest_bench" "$TMP/rest_bench.c"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
STORE_URL="tcp://127.0.0.1:$(free_port)"
URL="http://127.0.0.1:$PORT"
mkdir -p "$TMP/data"

start_store() {
  build/bin/vectron-store --listen "$STORE_URL" --events-url "ipc://$TMP/events.sock" \
    --data-dir "$TMP/data" --fsync everysec 2>>"$TMP/store.log" &
  STORE_PID=$!
}
wait_up() {
  for _ in $(seq 600); do
    curl -sf "$URL/collections/h" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench-hnsw-rest: the store did not come back" >&2; tail -20 "$TMP/store.log" >&2; exit 1
}
search() { # label, extra JSON members
  VX_BENCH_SEARCH="$2" "$TMP/rest_bench" search 127.0.0.1 "$PORT" "$DATA" h "$REPS" 100 |
    grep '^search_rep' | sed "s/^/$1 /"
}

echo "== start services (http 127.0.0.1:$PORT)" >&2
start_store
build/bin/vectron-api --bind 127.0.0.1 --port "$PORT" --store-url "$STORE_URL" \
  --embed-url "ipc://$TMP/embed.sock" --log-level warn 2>"$TMP/api.log" &
API_PID=$!
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf -X PUT "$URL/collections/h" -H 'Content-Type: application/json' \
  -d '{"dimension": 384, "metric": "cosine", "index": {"type": "hnsw", "m": 16, "ef_construction": 200}}' >/dev/null
curl -sf -X PUT "$URL/collections/f" -H 'Content-Type: application/json' \
  -d '{"dimension": 384, "metric": "cosine", "index": {"type": "flat"}}' >/dev/null

echo "== load (batches of 1000): flat twin ($FLATN vectors), then hnsw (all)" >&2
"$TMP/rest_bench" load 127.0.0.1 "$PORT" "$DATA" f 1000 "$FLATN" | sed 's/^/flat /'
"$TMP/rest_bench" load 127.0.0.1 "$PORT" "$DATA" h 1000 | sed 's/^/hnsw /'
curl -sf "$URL/collections/h" | sed 's/^/info /'; echo

echo "== search ($REPS reps of all queries each)" >&2
for ef in $EFS; do search "ef=$ef" "\"ef\":$ef"; done
search exact '"exact":true'

echo "== restart (SIGTERM: snapshot on exit)" >&2
kill -TERM "$STORE_PID"; wait "$STORE_PID" || true
t0=$(date +%s.%N)
start_store; wait_up
echo "restart_s $(echo "$(date +%s.%N) - $t0" | bc)"
grep -E "HNSW|recover" "$TMP/store.log" | tail -3 | sed 's/^/log /'
search "after_restart_ef=64" '"ef":64'

echo "== WAL replay into the loaded graph (1000 upserts, SIGKILL, restart)" >&2
/usr/bin/python3 - "$DATA" "$URL" <<'EOF'
import json, struct, sys, urllib.request
data, url = sys.argv[1], sys.argv[2]
d = 384
with open(data + "/base.f32", "rb") as f:
    raw = f.read(1000 * d * 4)
pts = [{"id": "replay%d" % i, "vector": list(struct.unpack_from("%df" % d, raw, i * d * 4))}
       for i in range(1000)]
req = urllib.request.Request(url + "/collections/h/points", json.dumps({"points": pts}).encode(),
                             {"Content-Type": "application/json"}, method="POST")
print("replay_upsert", urllib.request.urlopen(req).status)
EOF
kill -KILL "$STORE_PID"; wait "$STORE_PID" 2>/dev/null || true
start_store; wait_up
grep -E "HNSW|recover|replay" "$TMP/store.log" | tail -3 | sed 's/^/log /'
curl -sf "$URL/collections/h" | sed 's/^/info_after_replay /'; echo
/usr/bin/python3 - "$DATA" "$URL" <<'EOF'
import json, struct, sys, urllib.request
data, url = sys.argv[1], sys.argv[2]
d = 384
with open(data + "/base.f32", "rb") as f:
    raw = f.read(1000 * d * 4)
ok = 0
for i in range(0, 1000, 50):
    v = list(struct.unpack_from("%df" % d, raw, i * d * 4))
    body = json.dumps({"vector": v, "k": 2, "ef": 64}).encode()
    req = urllib.request.Request(url + "/collections/h/search", body,
                                 {"Content-Type": "application/json"}, method="POST")
    hits = json.load(urllib.request.urlopen(req))
    ids = {h["id"] for h in hits.get("hits", hits.get("results", []))}
    ok += ids == {"p%d" % i, "replay%d" % i}
print("replayed_points_found %d/20 (both the original and its replayed copy in the top 2)" % ok)
EOF
