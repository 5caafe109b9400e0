#!/usr/bin/python3
"""rebuild_bench.py — what a user sees while an HNSW graph is rebuilt after
many deletes (docs/BENCHMARKS.md, "Deletes that trigger a rebuild").

Starts vectron-store and vectron-api (VX_BIN, default build/bin) on
loopback with a temp data dir, loads the first N vectors of a dataset into
an hnsw collection (dot, M=16, ef_construction=200) with rest_bench, then
deletes 35 % of them in batches of 500 ids (crossing the 30 % tombstone
threshold) while one client searches without pause (k=10, ef=64, the
dataset's queries in turn). Prints the latency of every delete request
(the slowest is the one that crossed the threshold) and the search
latencies (p50 / p99 / max, count) from the first delete until 15 s
later, plus the longest gap between two completed searches.

  tests/bench/rebuild_bench.py DATASET_DIR N REST_BENCH_BINARY
"""
import array
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import vxharness as vx  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def main():
    data, n, rest_bench = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    dim = json.load(open(os.path.join(data, "meta.json")))["d"]
    q = array.array("f")
    with open(os.path.join(data, "query.f32"), "rb") as f:
        q.frombytes(f.read())
    queries = [list(q[i * dim:(i + 1) * dim]) for i in range(min(100, len(q) // dim))]
    s = vx.Services(embed=False)
    s.start()
    try:
        c = vx.Client(s.port, timeout=120)
        r = c.put("/collections/rb", {"dimension": dim, "metric": "dot",
                                      "index": {"type": "hnsw", "m": 16, "ef_construction": 200}})
        assert r.status == 201, r
        t0 = time.time()
        subprocess.run([rest_bench, "load", "127.0.0.1", str(s.port), data, "rb", "1000", str(n)],
                       check=True, stdout=subprocess.DEVNULL)
        print("loaded %d vectors in %.1f s" % (n, time.time() - t0))

        stop = threading.Event()
        searches = []  # (t_done, latency_s)

        def searcher():
            sc = vx.Client(s.port, timeout=120)
            i = 0
            while not stop.is_set():
                t = time.time()
                rr = sc.post("/collections/rb/search", {"vector": queries[i % len(queries)], "k": 10, "ef": 64})
                assert rr.status == 200, rr
                searches.append((time.time(), time.time() - t))
                i += 1

        th = threading.Thread(target=searcher)
        th.start()
        time.sleep(2.0)
        before = [lat for _, lat in searches]
        deletes = []
        start = time.time()
        victims = list(range(0, n, 20)) + [i for i in range(n) if i % 20 in (1, 2, 3, 4, 5, 6)]
        for b in range(0, len(victims), 500):
            ids = ["p%d" % i for i in victims[b:b + 500]]
            t = time.time()
            rr = c.post("/collections/rb/points/delete", {"ids": ids})
            assert rr.status == 200, rr
            deletes.append(time.time() - t)
        time.sleep(max(0.0, start + 15.0 - time.time()))
        stop.set()
        th.join()
        during = [(t, lat) for t, lat in searches if t >= start]
        times = [start] + [t for t, _ in during]
        gap = max(b - a for a, b in zip(times, times[1:])) if len(times) > 1 else float("nan")
        lat = [x for _, x in during]
        print("deleted %d of %d (%.0f %%) in %d requests: latency p50 %.1f ms, max %.1f ms" % (
            len(victims), n, 100.0 * len(victims) / n, len(deletes), pct(deletes, 0.5) * 1e3,
            max(deletes) * 1e3))
        print("searches before the deletes: %d, p50 %.2f ms, p99 %.2f ms" % (
            len(before), pct(before, 0.5) * 1e3, pct(before, 0.99) * 1e3))
        print("searches in the 15 s from the first delete: %d, p50 %.2f ms, p99 %.2f ms, max %.1f ms; "
              "longest gap between two answers %.1f ms" % (
                  len(lat), pct(lat, 0.5) * 1e3, pct(lat, 0.99) * 1e3, max(lat) * 1e3, gap * 1e3))
        info = c.get("/collections/rb").json
        print("count after: %d" % info["count"])
        log = open(s.log_path("store"), errors="replace").read()
        for line in log.splitlines():
            if "rebuilt" in line:
                print("store: " + line.split("vectron: ", 1)[-1])
    finally:
        s.stop()


if __name__ == "__main__":
    main()
