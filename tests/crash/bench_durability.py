#!/usr/bin/python3
"""bench_durability — the durability benchmarks of docs/BENCHMARKS.md
(run through scripts/bench-restart.sh).

  ingest   REST ingest, d=384, under --fsync always / everysec / none, with
           batches of 100 and of 1 and 1 or more concurrent clients
           (separate processes, keep-alive connections). Reports vectors/s
           and, from the store's health stats, WAL records per fsync: what
           group commit buys.
  restart  loads N x 384 vectors over the bus (a flat cosine collection),
           then measures the time from exec of vectron-store to the first
           successful search, for: everything in a snapshot (after a clean
           stop); a snapshot plus a WAL tail (more vectors, then kill -9);
           the WAL alone (no snapshot ever, kill -9).

Vectors come from --data (raw float32, e.g. /tmp/bench/data/g384_1m/base.f32)
when given and large enough, else from a seeded generator. Stdlib only.
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)
import vxwire  # noqa: E402
from crash_procs import Services  # noqa: E402

D = 384
MSG_HEALTH, MSG_COLL_CREATE, MSG_UPSERT, MSG_SEARCH = 1, 10, 20, 30


def fmt(x):
    return "{:,.0f}".format(x)


# --------------------------------------------------------------------------
# ingest over REST
# --------------------------------------------------------------------------

def client_main(port, coll, batch, deadline, start_at, seed, out_q):
    import http.client
    rng = random.Random(seed)
    pool = []
    for _ in range(200):
        vals = [struct.unpack("<f", struct.pack("<f", rng.gauss(0, 1)))[0] for _ in range(D)]
        pool.append("[" + ",".join(repr(v) for v in vals) + "]")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    errors = 0
    seq = 0
    while time.time() < start_at:
        time.sleep(0.001)
    lat = []
    while time.time() < deadline:
        pts = []
        for _ in range(batch):
            pts.append('{"id":"c%d-%d","vector":%s}' % (seed, seq, pool[seq % len(pool)]))
            seq += 1
        body = '{"points":[' + ",".join(pts) + "]}"
        t0 = time.time()
        conn.request("POST", "/collections/%s/points" % coll, body=body,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        lat.append(time.time() - t0)
        if r.status == 200:
            n += batch
        else:
            errors += 1
    out_q.put((n, errors, lat))


def bus_client_main(url, coll, batch, deadline, start_at, seed, out_q):
    rng = random.Random(seed)
    pool = [struct.pack("<%df" % D, *[rng.gauss(0, 1) for _ in range(D)]) for _ in range(50)]
    cli = vxwire.ReqClient(url, timeout=60)
    n = errors = seq = 0
    lat = []
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < deadline:
        pts = []
        for _ in range(batch):
            pts.append({"id": "b%d-%d" % (seed, seq), "vector": pool[seq % len(pool)]})
            seq += 1
        t0 = time.time()
        rep = cli.call(MSG_UPSERT, {"collection": coll, "points": pts}, deadline_ms=60000)
        lat.append(time.time() - t0)
        if rep[3] == 0:
            n += batch
        else:
            errors += 1
    cli.close()
    out_q.put((n, errors, lat))


def health_stats(svc):
    rep = svc.call(MSG_HEALTH, {})
    return rep[4].get("stats") or {}


def run_ingest(args):
    rows = []
    configs = []
    for policy in args.policies.split(","):
        for spec in args.configs.split(","):
            batch, clients = (int(x) for x in spec.split("x"))
            configs.append((policy, batch, clients))
    for policy, batch, clients in configs:
        tmp = tempfile.mkdtemp(prefix="vxbench.")
        svc = Services(tmp, policy, None,
                       extra_store_args=["--workers", str(args.workers)] if args.workers else [])
        try:
            svc.start_store()
            svc.start_api()
            svc.create_collections([("ing", D, "cosine", {"type": "flat"})])
            before = health_stats(svc)
            q = mp.Queue()
            start_at = time.time() + 1.5  # clients build their vector pools first
            deadline = start_at + args.seconds
            if args.transport == "bus":
                procs = [mp.Process(target=bus_client_main,
                                    args=(svc.store_url, "ing", batch, deadline, start_at, 1000 + i, q))
                         for i in range(clients)]
            else:
                procs = [mp.Process(target=client_main,
                                    args=(svc.port, "ing", batch, deadline, start_at, 1000 + i, q))
                         for i in range(clients)]
            for p in procs:
                p.start()
            res = [q.get() for _ in procs]
            for p in procs:
                p.join()
            after = health_stats(svc)
            n = sum(r[0] for r in res)
            errs = sum(r[1] for r in res)
            lat = sorted(x for r in res for x in r[2])
            recs = after.get("wal_records", 0) - before.get("wal_records", 0)
            syncs = after.get("wal_fsyncs", 0) - before.get("wal_fsyncs", 0)
            row = {"policy": policy, "batch": batch, "clients": clients, "vectors_per_s": n / args.seconds,
                   "requests_per_s": (n / batch) / args.seconds, "errors": errs,
                   "p50_ms": lat[len(lat) // 2] * 1000 if lat else 0,
                   "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else 0,
                   "wal_records": recs, "fsyncs": syncs}
            rows.append(row)
            print("%-8s batch %3d x %2d clients: %10s vectors/s  %8s req/s  p50 %6.2f ms  p99 %6.2f ms  "
                  "WAL records %7d  fsyncs %7d%s"
                  % (policy, batch, clients, fmt(row["vectors_per_s"]), fmt(row["requests_per_s"]),
                     row["p50_ms"], row["p99_ms"], recs, syncs, ("  ERRORS %d" % errs) if errs else ""))
            sys.stdout.flush()
        finally:
            svc.stop_all()
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("transport: %s; store workers: %s" % (args.transport, args.workers or "default"))
    print("| fsync | batch | clients | vectors/s | requests/s | p50 ms | p99 ms | WAL records / fsync |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        per = ("%.1f" % (r["wal_records"] / r["fsyncs"])) if r["fsyncs"] else "no fsync"
        print("| %s | %d | %d | %s | %s | %.2f | %.2f | %s |" % (r["policy"], r["batch"], r["clients"],
                                                               fmt(r["vectors_per_s"]), fmt(r["requests_per_s"]),
                                                               r["p50_ms"], r["p99_ms"], per))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


# --------------------------------------------------------------------------
# restart time
# --------------------------------------------------------------------------

class VecSource:
    def __init__(self, path, n):
        self.f = None
        if path and os.path.exists(path) and os.path.getsize(path) >= D * 4:
            self.f = open(path, "rb")
            self.nrows = os.path.getsize(path) // (D * 4)
            self.name = "%s (%d rows%s)" % (path, min(n, self.nrows),
                                           ", reused cyclically" if n > self.nrows else "")
        else:
            self.rng = random.Random(42)
            self.name = "synthetic (seeded Gaussian)"

    def rows(self, start, count):
        if self.f:
            out = []
            while count > 0:
                row = start % self.nrows
                take = min(count, self.nrows - row)
                self.f.seek(row * D * 4)
                data = self.f.read(take * D * 4)
                out += [data[i * D * 4:(i + 1) * D * 4] for i in range(take)]
                start += take
                count -= take
            return out
        out = []
        for _ in range(count):
            out.append(struct.pack("<%df" % D, *[self.rng.gauss(0, 1) for _ in range(D)]))
        return out


def load(svc, src, start, n, batch=1000):
    cli = vxwire.ReqClient(svc.store_url, timeout=120)
    t0 = time.time()
    for off in range(start, start + n, batch):
        cnt = min(batch, start + n - off)
        rows = src.rows(off, cnt)
        body = {"collection": "big", "points": [{"id": "v%d" % (off + i), "vector": rows[i]} for i in range(cnt)]}
        rep = cli.call(MSG_UPSERT, body, deadline_ms=120000)
        if rep[3] != 0:
            raise RuntimeError("upsert at %d: %r" % (off, rep))
    cli.close()
    return time.time() - t0


def time_to_serving(svc, query, timeout=600):
    """exec of the store -> first successful search answered."""
    sock = svc.store_url[len("ipc://"):]
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = time.time()
    svc.store = svc._spawn([svc.store_bin] + svc.store_args, svc.store_log)
    while time.time() - t0 < timeout:
        if svc.store.poll() is not None:
            raise RuntimeError("store exited during start-up\n" + svc.log_tail(10))
        if os.path.exists(sock):
            try:
                c = vxwire.ReqClient(svc.store_url, timeout=30)
                rep = c.call(MSG_SEARCH, {"collection": "big", "vector": query, "k": 10}, deadline_ms=30000)
                c.close()
                if rep[3] == 0 and rep[4].get("hits"):
                    return time.time() - t0
            except (OSError, vxwire.SPError, ValueError):
                pass
        time.sleep(0.002)
    raise RuntimeError("not serving after %d s" % timeout)


def recovery_line(svc):
    with open(svc.store_log, "rb") as f:
        lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if "recovered" in l]
    return lines[-1].split("vectron-store: ", 1)[-1] if lines else ""


def catch_up(svc, src, args):
    """After serving: searches for tail vectors, one after another, until the
    store logs that every replayed point is linked into the HNSW graph (hnsw)
    or that the 8-bit codes of the exact scan are encoded again (flat).
    Prints how long that took and the search latencies meanwhile."""
    needle = b"every replayed point is linked" if args.index == "hnsw" else b"8-bit codes of"
    what = "every replayed point linked" if args.index == "hnsw" else "8-bit codes encoded"
    t0 = time.time()
    lat = []
    i = 0
    linked = None
    c = vxwire.ReqClient(svc.store_url, timeout=30)
    try:
        while time.time() - t0 < 600:
            q = src.rows(args.n + (i * 7919) % args.tail, 1)[0]
            ts = time.time()
            rep = c.call(MSG_SEARCH, {"collection": "big", "vector": q, "k": 10}, deadline_ms=30000)
            lat.append(time.time() - ts)
            assert rep[3] == 0 and rep[4].get("hits"), rep
            i += 1
            if i % 20 == 0:
                with open(svc.store_log, "rb") as f:
                    if needle in f.read():
                        linked = time.time() - t0
                        break
    finally:
        c.close()
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3
    print("      catch-up: %s; %d searches for tail vectors meanwhile, p50 %.1f ms, p99 %.1f ms"
          % ("%s %.1f s after serving" % (what, linked) if linked is not None
             else "not done within 600 s (or this store does it during start-up)",
             len(lat), pct(0.5), pct(0.99)))


def run_restart(args):
    src = VecSource(args.data, args.n + args.tail)
    query = src.rows(0, 1)[0]
    print("restart benchmark: %d x %d vectors + %d WAL tail, index %s, data: %s"
          % (args.n, D, args.tail, args.index, src.name))
    results = []

    def scenario(name, extra_args, prepare):
        tmp = tempfile.mkdtemp(prefix="vxbench.", dir=args.tmp)
        svc = Services(tmp, "none", None, extra_store_args=extra_args)
        try:
            svc.start_store()
            rep = svc.call(MSG_COLL_CREATE, {"name": "big", "dimension": D, "metric": "cosine",
                                             "index": {"type": args.index}})
            assert rep[3] == 0, rep
            secs = load(svc, src, 0, args.n)
            print("  [%s] loaded %d vectors over the bus in %.1f s (%s vectors/s, fsync none)"
                  % (name, args.n, secs, fmt(args.n / secs)))
            prepare(svc)
            sizes = {f: os.path.getsize(os.path.join(svc.data_dir, f)) for f in os.listdir(svc.data_dir)}
            snap = sum(v for k, v in sizes.items() if k.endswith(".vxs"))
            wal = sum(v for k, v in sizes.items() if k.endswith(".log"))
            times = []
            for rep_no in range(args.repeat):
                times.append(time_to_serving(svc, query))
                info = recovery_line(svc)
                if args.catch_up and rep_no == args.repeat - 1 and name != "snapshot":
                    catch_up(svc, src, args)
                svc.kill_store()  # kill -9 again: the next start sees the same files
            times.sort()
            results.append((name, snap, wal, times, info))
            print("  [%s] snapshot %.2f GB, WAL %.2f GB: serving after %s s (median of %d)\n      %s"
                  % (name, snap / 1e9, wal / 1e9, ", ".join("%.2f" % t for t in times), len(times), info))
            sys.stdout.flush()
        finally:
            svc.stop_all()
            shutil.rmtree(tmp, ignore_errors=True)

    def clean_stop(svc):
        rc = svc.stop_store(timeout=600)
        assert rc == 0, "clean stop: status %r" % rc

    def tail_then_kill(svc):
        clean_stop(svc)
        svc.start_store(timeout=600)
        secs = load(svc, src, args.n, args.tail)
        print("  [snapshot + WAL tail] %d more vectors in %.1f s" % (args.tail, secs))
        svc.kill_store()

    scen = args.scenarios.split(",")
    if "snapshot" in scen:
        scenario("snapshot", ["--snapshot-wal-bytes", "0", "--snapshot-interval-s", "0"], clean_stop)
    if "tail" in scen and args.tail:
        scenario("snapshot + WAL tail", ["--snapshot-wal-bytes", "0", "--snapshot-interval-s", "0"], tail_then_kill)
    if "wal" in scen:
        scenario("WAL only", ["--snapshot-wal-bytes", "0", "--snapshot-on-exit", "false",
                              "--snapshot-interval-s", "0"], lambda svc: svc.kill_store())
    print()
    print("| start-up from | snapshot | WAL | exec → first search answered (median) | runs |")
    print("|---|---:|---:|---:|---|")
    for name, snap, wal, times, info in results:
        print("| %s | %.2f GB | %.2f GB | %.2f s | %s |" % (name, snap / 1e9, wal / 1e9, times[len(times) // 2],
                                                           ", ".join("%.2f" % t for t in times)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("--policies", default="always,everysec,none")
    a.add_argument("--configs", default="100x1,100x4,1x1,1x16", help="BATCHxCLIENTS,...")
    a.add_argument("--seconds", type=float, default=5.0)
    a.add_argument("--json")
    a.add_argument("--workers", type=int, default=0, help="vectron-store --workers (0: its default)")
    a.add_argument("--transport", choices=("rest", "bus"), default="rest",
                   help="rest: JSON through vectron-api; bus: msgpack straight to the store")
    b = sub.add_parser("restart")
    b.add_argument("--n", type=int, default=1000000)
    b.add_argument("--tail", type=int, default=100000)
    b.add_argument("--data", default="/tmp/bench/data/g384_1m/base.f32")
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--scenarios", default="snapshot,tail,wal")
    b.add_argument("--index", choices=("flat", "hnsw"), default="flat",
                   help="the collection's index (hnsw: the graph is saved and loaded too)")
    b.add_argument("--tmp", default=None, help="where the data dirs go (default: $TMPDIR)")
    b.add_argument("--catch-up", action="store_true",
                   help="after the last restart with a WAL tail: search tail vectors until the "
                        "HNSW backlog is linked (hnsw) or the exact scan's 8-bit codes are encoded "
                        "again (flat), and print that time and the latencies")
    args = ap.parse_args()
    if args.cmd == "ingest":
        run_ingest(args)
    else:
        run_restart(args)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
