#!/usr/bin/env bash
# bench-rest.sh — exact single-query search through REST next to the layers
# under it and the peers, plus batch upsert throughput through REST, all in
# ONE run on this machine (docs/BENCHMARKS.md, "Exact search through REST and
# batch upsert").
#
# What it does:
#  1. builds vectron-store, vectron-api and the two clients of tests/bench/
#     (rest_bench: plain sockets, one keep-alive connection; inproc_exact:
#     coll_search_exact in-process, or upstream_call over the bus);
#  2. starts vectron-store (temp data dir) and vectron-api on 127.0.0.1 (the
#     bus on a unix socket (ipc) as `make run` connects the gateway, or on tcp
#     loopback with --bus tcp);
#  3. PUT /collections/g384 (dot, flat) and loads all base vectors with
#     POST .../points in batches of 1000 (timed: vectors/s), then LOAD100
#     vectors into a second collection in batches of 100 (timed);
#  4. ROUNDS rounds, each: 1000 sequential exact k=10 searches through REST
#     (rest_bench), through the bus only (inproc_exact bus), and in-process
#     (inproc_exact inproc) — interleaved so machine noise hits all three;
#     recall@10 against the ground truth for each;
#  5. stops the services, then the peers: membw -r 5 (bandwidth limit) and
#     FAISS IndexFlatIP (bench_faiss.py --skip-hnsw);
#  6. prints the medians over the rounds and REST overhead = REST p50 −
#     in-process p50 (and bus overhead = bus p50 − in-process p50). Because
#     the scan itself varies by milliseconds on a shared machine, it also
#     prints the overhead measured per request: latency − the took_ms the
#     store reports for its own scan ("around the scan"), and the same three
#     layers on a 1000-vector collection, where the scan is ~30 µs.
#
# usage: scripts/bench-rest.sh [--data DIR] [--rounds N] [--load100 N]
#                              [--bus tcp|ipc] [--log-level LEVEL]
#                              [--skip-peers] [--bench-dir DIR] [--api BIN]
# defaults: --data /tmp/bench/data/g384_100k --rounds 3 --load100 20000
#           --bus ipc --log-level info (the service default: one access line
#           per request) --bench-dir /tmp/bench (membw, bench_faiss.py)
#           --api build/bin/vectron-api (another build: before/after runs)
# Environment: STORE_WRAP / API_WRAP prefix the two service commands (e.g.
# API_WRAP='taskset -c 0' for a pinning experiment).
# Needs: a C compiler, curl, and for the peers what scripts/bench-setup.sh
# prepares (the kit in --bench-dir with membw built, python3-faiss).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=/tmp/bench/data/g384_100k
ROUNDS=3
LOAD100=20000
BUS=ipc
LOG_LEVEL=info
PEERS=1
BENCH_DIR=/tmp/bench
API_BIN=build/bin/vectron-api
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --load100) LOAD100=$2; shift 2 ;;
    --bus) BUS=$2; shift 2 ;;
    --log-level) LOG_LEVEL=$2; shift 2 ;;
    --skip-peers) PEERS=0; shift ;;
    --bench-dir) BENCH_DIR=$2; shift 2 ;;
    --api) API_BIN=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench-rest: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$DATA/base.f32" ] || { echo "bench-rest: no dataset at $DATA (scripts/bench-setup.sh makes it)" >&2; exit 1; }
if [ "$PEERS" = 1 ]; then
  [ -x "$BENCH_DIR/membw" ] && [ -f "$BENCH_DIR/bench_faiss.py" ] || {
    echo "bench-rest: the peers are missing from $BENCH_DIR (scripts/bench-setup.sh --dir $BENCH_DIR builds them; --skip-peers runs without)" >&2
    exit 1
  }
fi

TMP=$(mktemp -d /tmp/vx-bench-rest.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== build" >&2
make --no-print-directory -j2 build/bin/vectron-store build/bin/vectron-api \
  build/lib/libvxstore.a build/lib/libvxapi.a build/lib/libvxproto.a build/lib/libvxcommon.a >&2
CF="-D_GNU_SOURCE -std=c11 -Wall -Wextra -Werror -O2 -pthread"
cc $CF -o "$TMP/rest_bench" tests/bench/rest_bench.c
cc $CF -Icommon -Iproto -Istore-svc -Iapi-gateway -o "$TMP/inproc_exact" tests/bench/inproc_exact.c \
  build/lib/libvxstore.a build/lib/libvxapi.a build/lib/libvxproto.a build/lib/libvxcommon.a \
  -lnng -lmsgpackc -lcivetweb -lcurl -ljansson -lopenblas -lm

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
if [ "$BUS" = ipc ]; then
  STORE_URL="ipc://$TMP/store.sock"
else
  STORE_URL="tcp://127.0.0.1:$(free_port)"
fi

echo "== start services (bus $STORE_URL, http 127.0.0.1:$PORT, data $TMP/data)" >&2
mkdir -p "$TMP/data"
${STORE_WRAP:-} build/bin/vectron-store --listen "$STORE_URL" --events-url "ipc://$TMP/events.sock" \
  --data-dir "$TMP/data" --log-level "$LOG_LEVEL" 2>"$TMP/store.log" & PIDS+=($!)
${API_WRAP:-} "$API_BIN" --bind 127.0.0.1 --port "$PORT" --store-url "$STORE_URL" \
  --embed-url "ipc://$TMP/embed.sock" --log-level "$LOG_LEVEL" 2>"$TMP/api.log" & PIDS+=($!)
URL="http://127.0.0.1:$PORT"
# up = the gateway answers AND has reached the store (it dials in the background)
store_up() { curl -sf "$URL/health" 2>/dev/null | grep -q '"store":"ok"'; }
for _ in $(seq 100); do
  store_up && break
  sleep 0.1
done
store_up || { echo "bench-rest: gateway or store did not come up" >&2; cat "$TMP"/*.log >&2; exit 1; }

put_coll() {
  curl -sf -X PUT "$URL/collections/$1" -H 'Content-Type: application/json' \
    -d '{"dimension": 384, "metric": "dot", "index": {"type": "flat"}}' >/dev/null
}
put_coll g384
put_coll g384_b100
put_coll g384_small

OUT="$TMP/out.txt"
echo "== load (batch 1000, all vectors; batch 100, $LOAD100 vectors)" >&2
"$TMP/rest_bench" load 127.0.0.1 "$PORT" "$DATA" g384 1000 | sed 's/^/b1000 /' | tee -a "$OUT" >&2
"$TMP/rest_bench" load 127.0.0.1 "$PORT" "$DATA" g384_b100 100 "$LOAD100" | sed 's/^/b100 /' | tee -a "$OUT" >&2
"$TMP/rest_bench" load 127.0.0.1 "$PORT" "$DATA" g384_small 1000 1000 >/dev/null

echo "== search: $ROUNDS rounds of REST / bus / in-process, 1000 queries each" >&2
for r in $(seq "$ROUNDS"); do
  "$TMP/rest_bench" search 127.0.0.1 "$PORT" "$DATA" g384 1 100 | tee -a "$OUT" >&2
  "$TMP/inproc_exact" bus "$DATA" "$STORE_URL" g384 1 100 | tee -a "$OUT" >&2
  "$TMP/inproc_exact" inproc "$DATA" 1 100 | tee -a "$OUT" >&2
  "$TMP/rest_bench" search 127.0.0.1 "$PORT" "$DATA" g384_small 1 100 | sed 's/^/small_/' | tee -a "$OUT" >&2
  "$TMP/inproc_exact" bus "$DATA" "$STORE_URL" g384_small 1 100 | sed 's/^/small_/' | tee -a "$OUT" >&2
  "$TMP/inproc_exact" inproc "$DATA" 1 100 1000 | sed 's/^/small_/' | tee -a "$OUT" >&2
done
echo "gateway log lines: $(wc -l <"$TMP/api.log")" >&2

for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()

if [ "$PEERS" = 1 ]; then
  echo "== peers: membw -r 5" >&2
  "$BENCH_DIR/membw" -r 5 | tee "$TMP/membw.txt" | grep -E '^\| 100000 \|' | tee -a "$OUT" >&2 || true
  echo "== peers: FAISS IndexFlatIP" >&2
  env -u OPENBLAS_CORETYPE OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$BENCH_DIR/bench_faiss.py" \
    "$DATA" --skip-hnsw 2>&1 | tee "$TMP/faiss.txt" >&2 || true
fi

echo
echo "## bench-rest summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), bus $BUS, log level $LOG_LEVEL, $ROUNDS rounds, medians)"
awk '
  function med(arr, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  function name(L) {
    sub(/^small_/, "", L)
    return L == "search" ? "REST" : L == "bus" ? "bus only" : "in-process"
  }
  $2 == "load_vectors_per_s" { printf "upsert through REST, batch %s: %s vectors/s\n", substr($1, 2), $3 }
  $1 ~ /_rep$/ {
    L = substr($1, 1, length($1) - 4); n[L]++
    p50[L, n[L]] = $4; p90[L, n[L]] = $6; p99[L, n[L]] = $8; qps[L, n[L]] = $12; rec[L] = $14; rect[L] = $16
    ap50[L, n[L]] = $18; ap99[L, n[L]] = $20
  }
  END {
    for (s = 0; s < 2; s++) {
      pre = s ? "small_" : ""
      if (s) printf "\nsame, on a 1000-vector collection (the scan ~30 µs; recall not applicable):\n"
      printf "| layer | p50 µs | p90 µs | p99 µs | QPS | around the scan p50 / p99 µs | recall@10 (ties) |\n|---|---|---|---|---|---|---|\n"
      split("inproc bus search", order, " ")
      for (o = 1; o <= 3; o++) {
        L = pre order[o]; if (!n[L]) continue
        for (i = 1; i <= n[L]; i++) { a[i] = p50[L, i]; b[i] = p90[L, i]; c[i] = p99[L, i]; d[i] = qps[L, i]; e[i] = ap50[L, i]; f[i] = ap99[L, i] }
        m50[L] = med(a, n[L]); am50[L] = med(e, n[L])
        printf "| %s | %.0f | %.0f | %.0f | %.1f | %.0f / %.0f | %s |\n", name(L), m50[L], med(b, n[L]), med(c, n[L]), med(d, n[L]), am50[L], med(f, n[L]), s ? "-" : rec[L] " (" rect[L] ")"
      }
      R = pre "search"; B = pre "bus"; I = pre "inproc"
      if (n[R] && n[I]) printf "REST overhead at p50: REST − in-process = %.0f µs; per request (around-the-scan REST − in-process) = %.0f µs\n", m50[R] - m50[I], am50[R] - am50[I]
      if (n[B] && n[I]) printf "bus share: bus − in-process = %.0f µs; per request = %.0f µs\n", m50[B] - m50[I], am50[B] - am50[I]
      if (n[R] && n[B]) printf "HTTP + JSON share: REST − bus = %.0f µs; per request = %.0f µs\n", m50[R] - m50[B], am50[R] - am50[B]
    }
  }' "$OUT"
if [ "$PEERS" = 1 ]; then
  grep -E '^\| 100000 \|' "$TMP/membw.txt" | head -1 | awk -F'|' '{printf "membw (N=100000): 1-thread bandwidth limit %s QPS, plain AVX-512 kernel 1T %s QPS\n", $4, $6}'
  grep -iE 'flat|single' "$TMP/faiss.txt" | head -6 || true
fi
