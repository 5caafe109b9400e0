#!/usr/bin/python3
"""crash_harness — kill -9 the store at random moments and prove that no
acknowledged write is lost (SPEC §4, docs/DURABILITY.md).

    /usr/bin/python3 tests/crash/crash_harness.py --kills 50 --seed 1
    VX_BIN=build/bin ... --fsync everysec --keep

What it does:
- starts `vectron-store` (ipc:// socket in a temp dir, --fsync POLICY, a
  small --snapshot-wal-bytes so snapshots are written every second or so)
  and `vectron-api` on a random port; creates three collections (cosine
  flat, l2 hnsw, dot flat);
- runs writer threads: several over REST (batch upserts, DELETE of one id,
  POST .../points/delete of several) and one speaking the bus protocol
  directly (POINTS_UPSERT / POINTS_DELETE over an SP REQ connection);
- every cycle lets them write for a random 20–300 ms, then kill -9s the
  store; some cycles instead wait until a snapshot is being written
  (`snapshot-*.vxs.tmp` exists) and kill then, and some kill the restarted
  store again during recovery; then it restarts the store, waits until it
  answers, and checks the whole content against the model of acknowledged
  writes; then the writers resume.

The model (invariants the check relies on):
- every point id belongs to exactly one writer, and a writer has at most
  one request in flight, so the operations on one id are totally ordered;
- an acknowledged write (HTTP 200 / bus status 0) sets the id's state
  (present with these exact float32 bytes and this metadata, or absent);
- a request without an answer (connection lost, 5xx) is "unknown": the id
  may hold its previous state or the new one. Requests are delivered at
  most once (vx_rpc disables REQ re-sends) and the store that received it
  is dead and reaped before the check, so an unknown write cannot land
  later; the check resolves it to what it observes, and the writer does not
  touch that id again until then;
- an unknown batch must have been applied entirely or not at all.

A kill cycle passes when: the restarted store answers; every collection
exists with its settings; every id is in an allowed state (bit-exact vector,
equal metadata); no id that was never written is present; the count in the
collection info equals the listing; an exact search for a stored vector
finds it. The last line is "N passed, N failed" (one test per kill cycle,
plus the final SIGTERM/restart check). Stdlib only.
"""

import argparse
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import vxwire  # noqa: E402  (msgpack subset + SP REQ client over IPC)

sys.path.insert(0, HERE)
import crash_model as cm  # noqa: E402
from crash_procs import Services  # noqa: E402

MSG_UPSERT, MSG_DELETE = 20, 22

COLLECTIONS = [
    # name, dimension, metric, index
    ("crash_cos", 8, "cosine", {"type": "flat"}),
    ("crash_l2", 4, "l2", {"type": "hnsw", "m": 8, "ef_construction": 64}),
    ("crash_dot", 16, "dot", {"type": "flat"}),
]
LIVE_CAP = 600  # per writer: above it, deletes are preferred (keeps the check fast)


class Gate:
    """Writers enter before each request and leave after its outcome is
    recorded; the controller pauses new entries and waits for the running
    ones to finish."""

    def __init__(self):
        self.cv = threading.Condition()
        self.paused = True
        self.active = 0
        self.stop = False

    def enter(self):
        with self.cv:
            while self.paused and not self.stop:
                self.cv.wait()
            if self.stop:
                return False
            self.active += 1
            return True

    def leave(self):
        with self.cv:
            self.active -= 1
            self.cv.notify_all()

    def pause(self):
        with self.cv:
            self.paused = True

    def wait_idle(self, timeout):
        deadline = time.time() + timeout
        with self.cv:
            while self.active > 0:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True

    def resume(self):
        with self.cv:
            self.paused = False
            self.cv.notify_all()

    def shutdown(self):
        with self.cv:
            self.stop = True
            self.cv.notify_all()


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

def rand_vector(rng, dim):
    """Random finite float32 values with varied magnitudes and signs; never
    all zero (a zero vector is invalid for cosine). Returns the LE bytes."""
    vals = []
    for _ in range(dim):
        e = rng.choice((-20, -3, 0, 0, 0, 2, 10))
        vals.append(rng.uniform(-1.0, 1.0) * (2.0 ** e))
    vals[0] = vals[0] if vals[0] != 0 else 0.5
    return struct.pack("<%df" % dim, *vals)


def rand_metadata(rng, writer, seq):
    md = {"w": writer, "seq": seq}
    r = rng.random()
    if r < 0.3:
        md["f"] = rng.uniform(-1e6, 1e6)
    elif r < 0.5:
        md["tags"] = [rng.choice(("a", "b", "c")) for _ in range(rng.randint(0, 3))]
    elif r < 0.6:
        md["flag"] = rng.random() < 0.5
        md["nested"] = {"k": rng.randint(-1 << 40, 1 << 40), "s": "é" * rng.randint(0, 5)}
    return md


class Writer(threading.Thread):
    """One client issuing one request at a time on the ids it owns."""

    def __init__(self, name, model, gate, services, seed, stats):
        super().__init__(name=name, daemon=True)
        self.wname, self.model, self.gate, self.svc = name, model, gate, services
        self.rng = random.Random(seed)
        self.stats = stats
        self.seq = 0
        self.errors = []  # definitive wrong answers seen while writing

    # -- choosing operations ---------------------------------------------
    def pick(self):
        coll, dim = self.rng.choice([(c[0], c[1]) for c in COLLECTIONS])
        live = self.model.owned_ids(self.wname, coll, present=True)
        gone = self.model.owned_ids(self.wname, coll, present=False)
        r = self.rng.random()
        want_delete = (r < 0.35) if len(live) < LIVE_CAP else (r < 0.8)
        if want_delete and live:
            ids = self.rng.sample(live, min(len(live), self.rng.randint(1, 5)))
            if gone and self.rng.random() < 0.2:
                ids.append(self.rng.choice(gone))  # deleting an absent id is a no-op
            return coll, "delete", ids, None
        n = self.rng.randint(1, 10)
        ids = []
        for _ in range(n):
            pool = live if self.rng.random() < 0.5 else gone
            if pool and self.rng.random() < 0.5:
                i = self.rng.choice(pool)
            else:
                i = "%s-%d" % (self.wname, self.seq)
                self.seq += 1
            if i not in ids:
                ids.append(i)
        points = {}
        for i in ids:
            self.seq += 1
            points[i] = cm.Present(rand_vector(self.rng, dim), rand_metadata(self.rng, self.wname, self.seq))
        return coll, "upsert", ids, points

    def run(self):
        while self.gate.enter():
            try:
                coll, kind, ids, points = self.pick()
                if not ids:
                    continue
                token = self.model.begin(coll, ids)
                try:
                    outcome = self.send(coll, kind, ids, points)
                except Exception as e:  # noqa: BLE001 — any transport failure: unknown
                    outcome = ("unknown", repr(e))
                self.model.finish(token, kind, ids, points, outcome, self)
            finally:
                self.gate.leave()


class RestWriter(Writer):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.http = None

    def send(self, coll, kind, ids, points):
        if self.http is None:
            self.http = self.svc.http_client()
        try:
            if kind == "upsert":
                body = {"points": [{"id": i, "vector": list(struct.unpack("<%df" % (len(points[i].vec) // 4),
                                                                          points[i].vec)),
                                    "metadata": points[i].meta} for i in ids]}
                r = self.http.post("/collections/%s/points" % coll, body)
                if r.status == 200:
                    j = r.json
                    return ("ack", {"n": j.get("upserted"), "durability": j.get("durability")})
            elif len(ids) == 1 and self.rng.random() < 0.5:
                r = self.http.delete("/collections/%s/points/%s" % (coll, cm.quote(ids[0])))
                if r.status == 200:
                    return ("ack", {"n": 1})
                if r.status == 404:
                    return ("ack", {"n": 0, "absent": True})
            else:
                r = self.http.post("/collections/%s/points/delete" % coll, {"ids": ids})
                if r.status == 200:
                    return ("ack", {"n": r.json.get("deleted")})
        except OSError as e:
            self.http.close()
            return ("unknown", repr(e))
        if r.status >= 500:
            return ("unknown", "HTTP %d %s" % (r.status, r.text[:200]))
        return ("rejected", "HTTP %d %s" % (r.status, r.text[:200]))


class NngWriter(Writer):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.cli = None
        self.rid = 1

    def send(self, coll, kind, ids, points):
        if self.cli is None:
            self.cli = vxwire.ReqClient(self.svc.store_url, timeout=10.0)
        self.rid += 1
        if kind == "upsert":
            body = {"collection": coll,
                    "points": [{"id": i, "vector": points[i].vec, "metadata": points[i].meta} for i in ids]}
            mtype = MSG_UPSERT
        else:
            body = {"collection": coll, "ids": ids}
            mtype = MSG_DELETE
        try:
            rep = self.cli.call(mtype, body, request_id=self.rid, deadline_ms=10000)
        except (OSError, vxwire.SPError, ValueError) as e:
            self.cli.close()
            self.cli = None
            return ("unknown", repr(e))
        status, rbody = rep[3], rep[4]
        if status == 0:
            return ("ack", {"n": rbody.get("n"), "durability": rbody.get("durability")})
        if status in (-10, -11, -12, -13, -16, -19):
            return ("unknown", "status %d %r" % (status, rbody))
        return ("rejected", "status %d %r" % (status, rbody))

    def drop_connection(self):
        if self.cli is not None:
            self.cli.close()
            self.cli = None


# --------------------------------------------------------------------------
# Controller
# --------------------------------------------------------------------------

def snapshot_names(data_dir):
    try:
        return {n for n in os.listdir(data_dir) if n.startswith("snapshot-") and n.endswith(".vxs")}
    except OSError:
        return set()


def snapshot_tmp_present(data_dir):
    try:
        return any(n.startswith("snapshot-") and n.endswith(".tmp") for n in os.listdir(data_dir))
    except OSError:
        return False


def kill_cycle(args, rng, svc, gate, stats):
    """Lets the writers run, then kill -9s the store. Returns what the kill hit."""
    gate.resume()
    how = "random"
    r = rng.random()
    if r < args.snapshot_kill_share / 2:
        # wait for a snapshot being written (or give up after 3 s)
        deadline = time.time() + 3.0
        time.sleep(0.02)
        while time.time() < deadline and not snapshot_tmp_present(svc.data_dir):
            time.sleep(0.0005)
        how = "snapshot" if snapshot_tmp_present(svc.data_dir) else "random"
    elif r < args.snapshot_kill_share:
        # let a snapshot complete (its WAL truncation and pruning too), then
        # kill 0-100 ms later; this also keeps the WAL to replay short
        before = snapshot_names(svc.data_dir)
        deadline = time.time() + 4.0
        while time.time() < deadline and not (snapshot_names(svc.data_dir) - before):
            time.sleep(0.005)
        if snapshot_names(svc.data_dir) - before:
            how = "after-snapshot"
            stats["kills_after_snapshot"] += 1
        time.sleep(rng.uniform(0.0, 0.1))
    else:
        time.sleep(rng.uniform(0.020, 0.300))
    gate.pause()
    during_snapshot = snapshot_tmp_present(svc.data_dir)
    svc.kill_store()
    if during_snapshot:
        stats["kills_during_snapshot"] += 1
    stats["kills"] += 1
    return how


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--fsync", default="always", choices=("always", "everysec", "none"))
    ap.add_argument("--snapshot-wal-bytes", type=int, default=128 * 1024)
    ap.add_argument("--rest-writers", type=int, default=3)
    ap.add_argument("--nng-writers", type=int, default=1)
    ap.add_argument("--snapshot-kill-share", type=float, default=0.3,
                    help="share of cycles that wait for a snapshot: half kill while it is being "
                         "written, half just after it completed")
    ap.add_argument("--recovery-kill-share", type=float, default=0.1,
                    help="share of cycles that also kill the restarted store during recovery")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (also kept on failure)")
    ap.add_argument("--max-failures", type=int, default=5, help="stop after this many failed cycles")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="vxcrash.")
    print("crash harness: seed %d, %d kills, fsync %s, temp dir %s" % (args.seed, args.kills, args.fsync, tmp))
    sys.stdout.flush()
    stats = {k: 0 for k in ("kills", "kills_during_snapshot", "kills_after_snapshot", "kills_during_recovery",
                            "acked_requests", "acked_upserts", "acked_deletes", "unknown_requests", "unknown_applied",
                            "unknown_not_applied", "verified_points", "snapshots_seen", "rejected",
                            "gateway_stuck")}
    restart_ms = []
    passed = failed = 0
    svc = Services(tmp, args.fsync, args.snapshot_wal_bytes)
    model = cm.Model(stats, expect_durability=args.fsync if svc.has_persistence else None)
    gate = Gate()
    writers = []
    try:
        svc.start_store()
        svc.start_api()
        svc.create_collections(COLLECTIONS)
        if not svc.has_persistence:
            print("NOTE: %s has no --fsync option: persistence is missing, expect failures" % svc.store_bin)
        for w in range(args.rest_writers):
            writers.append(RestWriter("r%d" % w, model, gate, svc, args.seed * 1000 + w, stats))
        for w in range(args.nng_writers):
            writers.append(NngWriter("n%d" % w, model, gate, svc, args.seed * 1000 + 500 + w, stats))
        for t in writers:
            t.start()

        for cycle in range(1, args.kills + 1):
            how = kill_cycle(args, rng, svc, gate, stats)
            if not gate.wait_idle(30):
                raise RuntimeError("writers did not finish their requests within 30 s of the kill")
            for t in writers:
                if isinstance(t, NngWriter):
                    t.drop_connection()
            problems = []
            t0 = time.time()
            try:
                if rng.random() < args.recovery_kill_share:
                    svc.start_store(wait=False)
                    time.sleep(rng.uniform(0.0, 0.05))
                    svc.kill_store()
                    stats["kills"] += 1
                    stats["kills_during_recovery"] += 1
                    how += "+recovery"
                svc.start_store()
                restart_ms.append((time.time() - t0) * 1000)
                problems, observed = cm.verify(svc, model, COLLECTIONS, rng, stats)
                if problems:
                    model.rebase(observed)
                    svc.create_missing_collections(COLLECTIONS)
            except Exception as e:  # noqa: BLE001
                problems.append("restart/check failed: %r" % e)
            try:
                svc.wait_api_sees_store(COLLECTIONS[0][0])
            except RuntimeError as e:
                # an availability bug, not lost data: report it, then restart
                # the gateway so that the remaining cycles still test durability
                problems.append("%s (the gateway is restarted to go on)" % e)
                stats["gateway_stuck"] += 1
                if os.environ.get("VX_CRASH_DEBUG"):
                    print("VX_CRASH_DEBUG: gateway stuck; pausing 600 s (api pid %s)" % svc.api.pid)
                    sys.stdout.flush()
                    time.sleep(600)
                for t in writers:
                    if isinstance(t, RestWriter) and t.http is not None:
                        t.http.close()
                        t.http = None
                svc.restart_api()
            for t in writers:
                problems.extend(t.errors)
                t.errors = []
            if snapshot_count(svc.data_dir) and not problems:
                stats["snapshots_seen"] = snapshot_count(svc.data_dir)
            if problems:
                failed += 1
                print("FAIL cycle %d (kill: %s): %d problems" % (cycle, how, len(problems)))
                for p in problems[:15]:
                    print("    " + p)
                if len(problems) > 15:
                    print("    ... and %d more" % (len(problems) - 15))
                print(svc.log_tail(25))
                args.keep = True
                if failed >= args.max_failures or not svc.store_alive():
                    print("!! stopping after %d failed cycles" % failed)
                    break
            else:
                passed += 1
                if cycle % 10 == 0 or cycle == args.kills:
                    print("ok cycle %d (kill: %s) — %d point states checked, restart %.0f ms"
                          % (cycle, how, model.last_checked, restart_ms[-1]))
            sys.stdout.flush()

        # Final: a clean SIGTERM must exit 0, and the content must survive it.
        if failed == 0:
            problems = []
            rc = svc.stop_store()
            if rc != 0:
                problems.append("store exited with status %s after SIGTERM (want 0)" % rc)
            try:
                svc.start_store()
                problems += cm.verify(svc, model, COLLECTIONS, rng, stats)[0]
            except Exception as e:  # noqa: BLE001
                problems.append("restart after SIGTERM failed: %r" % e)
            if problems:
                failed += 1
                print("FAIL clean stop + restart: " + "; ".join(problems[:10]))
                print(svc.log_tail(25))
                args.keep = True
            else:
                passed += 1
                print("ok clean stop + restart (%d points checked)" % model.last_checked)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print("FAIL harness: %r" % e)
        print(svc.log_tail(25))
        args.keep = True
    finally:
        gate.shutdown()
        for t in writers:
            t.join(15)
        svc.stop_all()
    san = svc.sanitizer_reports()
    if san:
        failed += 1
        print("FAIL sanitizer reports in the service logs:\n    " + "\n    ".join(san[:20]))
        args.keep = True

    restart_ms.sort()
    print("--- summary (seed %d, fsync %s) ---" % (args.seed, args.fsync))
    print("kills: %d (during a snapshot write: %d, just after a snapshot: %d, during recovery: %d)"
          % (stats["kills"], stats["kills_during_snapshot"], stats["kills_after_snapshot"],
             stats["kills_during_recovery"]))
    print("acknowledged requests: %d (points upserted: %d, ids deleted: %d); rejected: %d"
          % (stats["acked_requests"], stats["acked_upserts"], stats["acked_deletes"], stats["rejected"]))
    print("unknown requests (in flight at a kill): %d — applied: %d, not applied: %d"
          % (stats["unknown_requests"], stats["unknown_applied"], stats["unknown_not_applied"]))
    print("point states verified: %d; snapshot files at the end: %d" % (stats["verified_points"],
                                                                      snapshot_count(svc.data_dir)))
    if stats["gateway_stuck"]:
        print("!! the gateway never reconnected to the restarted store %d time(s) (restarted it)"
              % stats["gateway_stuck"])
    if restart_ms:
        print("restart to serving: median %.0f ms, p95 %.0f ms, max %.0f ms"
              % (restart_ms[len(restart_ms) // 2], restart_ms[int(len(restart_ms) * 0.95)], restart_ms[-1]))
    if args.keep:
        print("temp dir kept: %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    return 1 if failed else 0


def snapshot_count(data_dir):
    try:
        return sum(1 for n in os.listdir(data_dir) if n.startswith("snapshot-") and n.endswith(".vxs"))
    except OSError:
        return 0


def _terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)  # so that `finally` stops the services
    if os.environ.get("VX_CRASH_DEBUG"):
        import faulthandler
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.exit(main())
