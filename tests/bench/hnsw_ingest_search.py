#!/usr/bin/env python3
"""hnsw_ingest_search.py — search latency while batches are upserted into an
hnsw collection, through REST (docs/BENCHMARKS.md, "Searches while a batch
is linked"). Run by scripts/bench-hnsw-ingest.sh, which starts the services.

    hnsw_ingest_search.py PORT DATASET_DIR INITIAL_POINTS EXTRA_THOUSANDS

Creates collection "h" (cosine, hnsw, 384-d), loads INITIAL_POINTS vectors
of DATASET_DIR/base.f32 in batches of 500, measures a repeated k=10 search
alone for 2 s, then upserts EXTRA_THOUSANDS x 1000 more points in batches of
500 on one connection while another connection searches, and prints the
ingest rate and the search p50 / p99 / max in both phases. stdlib only.
"""
import http.client, json, sys, threading, time, struct, statistics, os
port = int(sys.argv[1]); data = sys.argv[2]; n0 = int(sys.argv[3]); nb = int(sys.argv[4])
D = 384
base = open(os.path.join(data, "base.f32"), "rb")
def vec(i):
    base.seek(i * D * 4); return list(struct.unpack("%df" % D, base.read(D * 4)))
def req(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    r = conn.getresponse(); return r.status, r.read()
c = http.client.HTTPConnection("127.0.0.1", port)
req(c, "PUT", "/collections/h", {"dimension": D, "metric": "cosine", "index": {"type": "hnsw"}})
def batch(i0, n):
    return {"points": [{"id": "p%d" % i, "vector": [round(x, 7) for x in vec(i)]} for i in range(i0, i0 + n)]}
bodies = [json.dumps(batch(i, 500)) for i in range(0, n0 + nb * 1000, 500)]
c = http.client.HTTPConnection("127.0.0.1", port); t0 = time.time()
for b in bodies[: n0 // 500]:
    c.request("POST", "/collections/h/points", body=b, headers={"Content-Type": "application/json"}); r = c.getresponse(); x = r.read(); assert r.status == 200, x
print("initial load %d points: %.0f points/s" % (n0, n0 / (time.time() - t0)))
q = json.dumps({"vector": [round(x, 7) for x in vec(5)], "k": 10})
def search_lat(stop, out):
    s = http.client.HTTPConnection("127.0.0.1", port)
    while not stop.is_set():
        t = time.perf_counter(); s.request("POST", "/collections/h/search", body=q, headers={"Content-Type": "application/json"}); r = s.getresponse(); r.read(); out.append((time.perf_counter() - t) * 1e3)
base_lat = []; ev = threading.Event(); th = threading.Thread(target=search_lat, args=(ev, base_lat)); th.start(); time.sleep(2); ev.set(); th.join()
lat = []; ev = threading.Event(); th = threading.Thread(target=search_lat, args=(ev, lat)); th.start()
c = http.client.HTTPConnection("127.0.0.1", port); t0 = time.time()
for b in bodies[n0 // 500:]:
    c.request("POST", "/collections/h/points", body=b, headers={"Content-Type": "application/json"}); r = c.getresponse(); x = r.read(); assert r.status == 200, x
dt = time.time() - t0; ev.set(); th.join()
def pct(xs, p): s = sorted(xs); return s[min(len(s) - 1, int(len(s) * p))]
print("ingest during searches: %d points in %.1f s = %.0f points/s" % (nb * 1000, dt, nb * 1000 / dt))
print("search alone: n %d p50 %.2f ms p99 %.2f ms max %.1f ms" % (len(base_lat), pct(base_lat, .5), pct(base_lat, .99), max(base_lat)))
print("search during ingest: n %d p50 %.2f ms p99 %.2f ms max %.1f ms" % (len(lat), pct(lat, .5), pct(lat, .99), max(lat)))
