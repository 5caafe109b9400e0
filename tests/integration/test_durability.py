"""Durability tests (SPEC §4, docs/DURABILITY.md): an acknowledged write
survives SIGTERM + restart and kill -9 + restart — collections with their
settings, vectors bit-exact (read back over the bus as float32 bytes),
metadata of every type, deletes; the same from a snapshot (frequent
snapshots) and from the WAL alone; a collection dropped and re-created with
other settings comes back as the last one; write replies state the fsync
policy they were acknowledged under; a torn WAL tail is truncated and
logged; a second store on the same data dir is refused. Damaged
directories and vectron-check: test_check.py; random kills under load:
test_crash_short.py."""

import math
import os
import signal
import struct
import subprocess
import sys
import time

# the change-event PUB socket: never the default TCP port (other stores may run)
os.environ["VECTRON_STORE_EVENTS_URL"] = "ipc:///tmp/vx-events-%d.sock" % os.getpid()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
import vxwire  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402

for _k in ("VECTRON_FSYNC", "VECTRON_SNAPSHOT_WAL_BYTES", "VECTRON_ACCEPT_LOSS", "VECTRON_SNAPSHOT_ON_EXIT"):
    os.environ.pop(_k, None)

MSG_POINTS_GET, MSG_UPSERT = 21, 20

META_KINDS = [
    {"i": 7, "neg": -3, "big": 1 << 53},
    {"f": 0.1, "e": -1.5e-300, "g": 1e300},
    {"s": "plain", "u": "ünïcødé ✓", "empty": ""},
    {"t": True, "fl": False},
    {"arr": [1, "two", 3.5, False, [4]], "obj": {"a": {"b": {"c": "deep"}}}},
    {},
]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def fill(s, n=50):
    expect(s.http.put("/collections/d_a", {"dimension": 4, "metric": "cosine",
                                           "index": {"type": "hnsw", "m": 8, "ef_construction": 50}}), 201)
    expect(s.http.put("/collections/d_b", {"dimension": 2, "metric": "l2", "index": {"type": "flat"}}), 201)
    expect(s.http.put("/collections/d_c", {"dimension": 3, "metric": "dot"}), 201)
    pts = [{"id": "p%d" % i, "vector": [0.1 * i, 0.2, -0.3, 1.0 / (i + 1)], "metadata": dict(META_KINDS[i % 6], i=i)}
           for i in range(n)]
    for i in range(0, n, 10):
        r = expect(s.http.post("/collections/d_a/points", {"points": pts[i:i + 10]}), 200)
        assert r.get("durability") == "always", "upsert reply must say durability 'always': %r" % r
    expect(s.http.post("/collections/d_b/points", {"points": [{"id": "only", "vector": [1, 2]}]}), 200)
    expect(s.http.post("/collections/d_c/points", {"points": [{"id": "id/with/slash", "vector": [1e-30, -7, 3e30]},
                                                              {"id": "ünï", "vector": [0, 0, 1]}]}), 200)
    expect(s.http.delete("/collections/d_a/points/p3"), 200)
    expect(s.http.post("/collections/d_a/points/delete", {"ids": ["p4", "p5"]}), 200)
    expect(s.http.post("/collections/d_a/points", {"points": [{"id": "p6", "vector": [9, 9, 9, 9]}]}), 200)
    expect(s.http.put("/collections/d_gone", {"dimension": 2}), 201)
    expect(s.http.post("/collections/d_gone/points", {"points": [{"id": "g", "vector": [1, 1]}]}), 200)
    expect(s.http.delete("/collections/d_gone"), 200)
    # dropped and re-created with other settings: the second one must come back
    expect(s.http.put("/collections/d_re", {"dimension": 2, "metric": "l2"}), 201)
    expect(s.http.post("/collections/d_re/points", {"points": [{"id": "old", "vector": [1, 1]}]}), 200)
    expect(s.http.delete("/collections/d_re"), 200)
    expect(s.http.put("/collections/d_re", {"dimension": 3, "metric": "dot"}), 201)
    expect(s.http.post("/collections/d_re/points", {"points": [{"id": "new", "vector": [1, 2, 3]}]}), 200)
    return pts


def wait_ready(s):
    deadline = time.time() + 15
    while time.time() < deadline:
        if s.http.get("/collections/d_a").status not in (502, 503, 504):
            return
        time.sleep(0.05)


def raw_vector(s, coll, pid):
    """The stored vector as float32 little-endian bytes, straight from the store."""
    c = vxwire.ReqClient(s.store_url)
    try:
        rep = c.call(MSG_POINTS_GET, {"collection": coll, "id": pid, "with_vector": True})
    finally:
        c.close()
    assert rep[3] == 0, "points_get %s/%s: %r" % (coll, pid, rep)
    return rep[4]["vector"]


def packed(v):
    return struct.pack("<%df" % len(v), *v)


def verify(s, pts):
    info = expect(s.http.get("/collections/d_a"), 200, "d_a after restart")
    assert info["dimension"] == 4 and info["metric"] == "cosine" and info["index"]["type"] == "hnsw", info
    assert info["index"]["m"] == 8 and info["index"]["ef_construction"] == 50, info
    assert info["count"] == len(pts) - 3, "count %r, want %d" % (info["count"], len(pts) - 3)
    for p in pts:
        r = s.http.get("/collections/d_a/points/" + p["id"])
        if p["id"] in ("p3", "p4", "p5"):
            expect_error(r, 404, what="deleted %s came back" % p["id"])
        elif p["id"] == "p6":
            got = expect(r, 200)
            assert got["vector"] == [9.0, 9.0, 9.0, 9.0] and got.get("metadata") in (None, {}), got
        else:
            got = expect(r, 200, p["id"])
            assert got["metadata"] == p["metadata"], (got["metadata"], p["metadata"])
            assert raw_vector(s, "d_a", p["id"]) == packed(p["vector"]), "%s: vector not bit-exact" % p["id"]
    assert raw_vector(s, "d_b", "only") == packed([1, 2])
    info = expect(s.http.get("/collections/d_c"), 200)
    assert (info["dimension"], info["metric"], info["count"]) == (3, "dot", 2), info
    assert raw_vector(s, "d_c", "id/with/slash") == packed([1e-30, -7, 3e30])
    assert raw_vector(s, "d_c", "ünï") == packed([0, 0, 1])
    expect_error(s.http.get("/collections/d_gone"), 404, what="a deleted collection came back")
    info = expect(s.http.get("/collections/d_re"), 200)
    assert (info["dimension"], info["metric"], info["count"]) == (3, "dot", 1), \
        "re-created collection came back as %r" % info
    expect_error(s.http.get("/collections/d_re/points/old"), 404, what="a point of the dropped d_re came back")
    res = expect(s.http.post("/collections/d_a/search", {"vector": [0.1 * 7, 0.2, -0.3, 1.0 / 8], "k": 1}), 200)
    assert res["results"][0]["id"] == "p7", "search after restart: %r" % res
    res = expect(s.http.post("/collections/d_a/search", {"vector": [0.1 * 7, 0.2, -0.3, 1.0 / 8], "k": 60,
                                                         "exact": True}), 200)
    ids = {h["id"] for h in res["results"]}
    assert not ids & {"p3", "p4", "p5"} and len(ids) == len(pts) - 3, "exact search after restart: %r" % sorted(ids)


@vx.fresh
def test_restart_after_sigterm_keeps_data(s):
    pts = fill(s)
    s.restart_store(signal.SIGTERM)
    wait_ready(s)
    verify(s, pts)
    s.restart_store(signal.SIGTERM)  # and again, from the state the first restart produced
    wait_ready(s)
    verify(s, pts)


@vx.fresh
def test_kill9_keeps_acknowledged_writes(s):
    pts = fill(s)
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    verify(s, pts)
    # Twice in a row, with writes in between.
    expect(s.http.post("/collections/d_b/points", {"points": [{"id": "late", "vector": [3, 4]}]}), 200)
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    verify(s, pts)
    assert raw_vector(s, "d_b", "late") == packed([3, 4])


def restart_with_env(s, sig, **env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        s.restart_store(sig)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    wait_ready(s)


@vx.fresh
def test_snapshots_and_wal_together(s):
    """Frequent snapshots (every 4 KiB of WAL): the state is spread over
    several snapshots and WAL segments, and kill -9 lands after some."""
    restart_with_env(s, signal.SIGTERM, VECTRON_SNAPSHOT_WAL_BYTES="4096")
    pts = fill(s)
    for j in range(30):  # more records so that several snapshots are taken
        expect(s.http.post("/collections/d_b/points",
                           {"points": [{"id": "x%d" % j, "vector": [j, -j]}]}), 200)
        if j % 3 == 0:
            expect(s.http.delete("/collections/d_b/points/x%d" % j), 200)
    time.sleep(1.5)  # the snapshotter looks at the WAL size once a second
    snaps = [f for f in os.listdir(s.data_dir) if f.startswith("snapshot-") and f.endswith(".vxs")]
    assert snaps, "no snapshot with --snapshot-wal-bytes 4096: %r" % sorted(os.listdir(s.data_dir))
    restart_with_env(s, signal.SIGKILL, VECTRON_SNAPSHOT_WAL_BYTES="4096")
    verify(s, pts)
    info = expect(s.http.get("/collections/d_b"), 200)
    assert info["count"] == 1 + 20, "d_b count %r, want 21" % info["count"]
    for j in range(30):
        r = s.http.get("/collections/d_b/points/x%d" % j)
        if j % 3 == 0:
            expect_error(r, 404, what="deleted x%d came back" % j)
        else:
            assert raw_vector(s, "d_b", "x%d" % j) == packed([j, -j])


@vx.fresh
def test_wal_only_restart(s):
    """No snapshot at all (none on exit, no threshold): everything from the WAL."""
    restart_with_env(s, signal.SIGTERM, VECTRON_SNAPSHOT_ON_EXIT="false", VECTRON_SNAPSHOT_WAL_BYTES="0")
    pts = fill(s)
    restart_with_env(s, signal.SIGTERM, VECTRON_SNAPSHOT_ON_EXIT="false", VECTRON_SNAPSHOT_WAL_BYTES="0")
    snap_lsns = [int(f[len("snapshot-"):-len(".vxs")], 16) for f in os.listdir(s.data_dir)
                 if f.startswith("snapshot-") and f.endswith(".vxs")]
    assert max(snap_lsns, default=0) == 0, "a snapshot covers writes (%r): not a WAL-only restart" % snap_lsns
    verify(s, pts)


@vx.fresh
def test_write_replies_state_the_fsync_policy(s):
    expect(s.http.put("/collections/pol", {"dimension": 2}), 201)
    for policy in ("everysec", "none", "always"):
        restart_with_env(s, signal.SIGTERM, VECTRON_FSYNC=policy)
        r = expect(s.http.post("/collections/pol/points", {"points": [{"id": policy, "vector": [1, 2]}]}), 200)
        assert r.get("durability") == policy, "REST reply under --fsync %s: %r" % (policy, r)
        c = vxwire.ReqClient(s.store_url)
        try:
            rep = c.call(MSG_UPSERT, {"collection": "pol", "points": [{"id": "bus-" + policy,
                                                                        "vector": packed([3, 4])}]})
        finally:
            c.close()
        assert rep[3] == 0 and rep[4].get("durability") == policy, "bus reply under %s: %r" % (policy, rep)
        assert rep[4].get("lsn", 0) > 0, "a logged write must carry its LSN: %r" % rep
    # kill -9 loses nothing under any policy (the page cache survives the process)
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    for policy in ("everysec", "none", "always"):
        assert raw_vector(s, "pol", policy) == packed([1, 2])
        assert raw_vector(s, "pol", "bus-" + policy) == packed([3, 4])


@vx.fresh
def test_torn_wal_tail_is_truncated(s):
    pts = fill(s)
    s.stop_store()
    wals = sorted(f for f in os.listdir(s.data_dir) if f.startswith("wal-") and f.endswith(".log"))
    assert wals, "no WAL file in the data dir: %r" % sorted(os.listdir(s.data_dir))
    with open(os.path.join(s.data_dir, wals[-1]), "ab") as f:
        f.write(b"\x17\x00\x00\x00torn-record-without-checksum")
    s.start_store()
    wait_ready(s)
    verify(s, pts)
    log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace").lower()
    assert "trunc" in log or "torn" in log, "a torn WAL tail was not logged"
    # ... and writes after recovery are durable too.
    expect(s.http.post("/collections/d_b/points", {"points": [{"id": "after", "vector": [5, 6]}]}), 200)
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    assert raw_vector(s, "d_b", "after") == packed([5, 6])


@vx.fresh
def test_second_store_on_same_dir_refused(s):
    fill(s, 10)
    other = vx.Proc("store2", [vx.STORE_BIN, "--listen", "ipc://%s/store2.sock" % s.tmp, "--data-dir", s.data_dir,
                             "--events-url", "ipc://%s/events2.sock" % s.tmp], s.log_path("store2"))
    try:
        rc = other.p.wait(5)
    except subprocess.TimeoutExpired:
        other.kill9()
        raise AssertionError("a second store opened a data dir that is in use")
    other.log.close()
    assert rc != 0, "second store exited 0"
    log = open(s.log_path("store2"), "rb").read().decode("utf-8", "replace")
    assert "in use" in log.lower() and s.data_dir in log, \
        "the refusal does not say why:\n%s" % log[-800:]
    # p0..p9, minus p3, p4, p5 (p6 is an update): the running store is unharmed.
    assert expect(s.http.get("/collections/d_a"), 200)["count"] == 7
    expect(s.http.post("/collections/d_a/points", {"points": [{"id": "still", "vector": [1, 2, 3, 4]}]}), 200)


@vx.fresh
def test_failed_wal_write_makes_the_store_unhealthy(s):
    """DURABILITY.md §4: after a failed write the log refuses every later
    write (io_error) and the store reports itself unhealthy until restarted.
    The failure: a file size limit (RLIMIT_FSIZE) that the WAL segment
    outgrows. SIGXFSZ reaches the store with its default action (which kills
    a process): the store must ignore it itself."""
    fill(s, 5)
    s.stop_store()
    sock = s.store_url[len("ipc://"):]
    argv = [vx.STORE_BIN, "--listen", s.store_url, "--data-dir", s.data_dir,
            "--events-url", s.events_url]
    s.store = vx.Proc("store", ["sh", "-c", 'trap - XFSZ; ulimit -f 400; exec "$@"', "sh"] + argv,
                      s.log_path("store"))
    s._wait_ipc(s.store, s.store_url)
    assert os.path.exists(sock)
    wait_ready(s)  # the socket file exists before the gateway has re-dialled it
    failed = None
    for i in range(400):  # 1 KiB per point: the 400 KiB limit is reached well before the end
        r = s.http.post("/collections/d_a/points",
                        {"points": [{"id": "big%d" % i, "vector": [1, 2, 3, 4], "metadata": {"pad": "x" * 1000}}]})
        if r.status != 200:
            failed = r
            break
    assert failed is not None, "no write failed under a 400 KiB file size limit"
    assert failed.status >= 500 and failed.json["error"]["code"] == "io_error", (failed.status, failed.body)
    vx.expect_error(s.http.post("/collections/d_a/points", {"points": [{"id": "after", "vector": [1, 2, 3, 4]}]}),
                    500, code="io_error", what="a write after the failure")
    h = expect(s.http.get("/health"), 200)
    assert h["status"] == "degraded" and h["services"]["store"] != "ok", h
    # a restart without the limit re-reads the disk and serves again
    s.store.kill9()
    s.start_store()
    wait_ready(s)
    expect(s.http.post("/collections/d_a/points", {"points": [{"id": "after", "vector": [1, 2, 3, 4]}]}), 200)
    assert expect(s.http.get("/health"), 200)["status"] == "ok"


def _vec(i, dim=16):
    # distinct, deterministic, well spread
    return [math.sin(i * 0.37 + d * 1.3) * (1 + (i * 7 + d) % 5) for d in range(dim)]


@vx.fresh
def test_hnsw_wal_tail_served_before_it_is_linked(s):
    """kill -9 with a large HNSW tail in the WAL: the restarted store answers
    at once and finds every replayed point by its own vector (graph search
    merged with exact scores of the points not linked yet), then links them
    in the background."""
    expect(s.http.put("/collections/tail", {"dimension": 16, "metric": "l2",
                                            "index": {"type": "hnsw", "m": 12, "ef_construction": 64}}), 201)
    def put(lo, hi):
        for b in range(lo, hi, 500):
            pts = [{"id": "t%d" % i, "vector": _vec(i)} for i in range(b, min(hi, b + 500))]
            expect(s.http.post("/collections/tail/points", {"points": pts}), 200)
    put(0, 3000)
    s.restart_store(signal.SIGTERM)  # snapshot on exit: the graph of 3000 is saved
    wait_ready(s)
    put(3000, 6500)  # the tail: only in the WAL
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    for i in list(range(3000, 6500, 97)) + [0, 1500]:
        res = expect(s.http.post("/collections/tail/search", {"vector": _vec(i), "k": 5}), 200)
        assert res["results"] and res["results"][0]["id"] == "t%d" % i, \
            "t%d not found first right after the restart: %r" % (i, res["results"][:3])
        assert res["used_index"] is True, res
    log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace")
    assert "replayed points wait to be linked" in log, "the tail was linked during the replay:\n" + log[-2000:]
    deadline = time.time() + 60
    while "every replayed point is linked" not in log and time.time() < deadline:
        time.sleep(0.2)
        log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace")
    assert "every replayed point is linked" in log, "background linking did not finish:\n" + log[-2000:]
    for i in range(3001, 6500, 131):
        res = expect(s.http.post("/collections/tail/search", {"vector": _vec(i), "k": 5}), 200)
        assert res["results"][0]["id"] == "t%d" % i, "t%d lost after linking: %r" % (i, res["results"][:3])
    info = expect(s.http.get("/collections/tail"), 200)
    assert info["count"] == 6500, info


@vx.fresh
def test_flat_exact_search_same_across_restart_and_code_catch_up(s):
    """A flat collection large enough for the bounded exact scan (8-bit
    first pass): the same hits and score bits before a restart, right after
    it (the codes are not restored: the plain scan answers) and once the
    background has encoded them again (logged)."""
    expect(s.http.put("/collections/big", {"dimension": 16, "metric": "cosine", "index": {"type": "flat"}}), 201)
    for b in range(0, 6000, 500):
        pts = [{"id": "b%d" % i, "vector": _vec(i), "metadata": {"g": i % 3}} for i in range(b, b + 500)]
        expect(s.http.post("/collections/big/points", {"points": pts}), 200)
    queries = [({"vector": _vec(i + 7919), "k": 25}) for i in range(0, 6000, 600)]
    queries += [{"vector": _vec(3), "k": 10, "filter": {"g": 1}}, {"vector": _vec(5), "k": 500}]

    def answers():
        out = []
        for q in queries:
            res = expect(s.http.post("/collections/big/search", dict(q, exact=True)), 200)
            out.append([(h["id"], struct.pack("<f", h["score"])) for h in res["results"]])
        return out

    def wait_log(needle):
        log, deadline = "", time.time() + 60
        while needle not in log and time.time() < deadline:
            time.sleep(0.2)
            log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace")
        assert needle in log, "codes not caught up (%r):\n%s" % (needle, log[-2000:])

    before = answers()
    assert all(before) and len(before[-1]) == 500
    s.restart_store(signal.SIGTERM)  # snapshot on exit
    wait_ready(s)
    right_after = answers()
    wait_log("8-bit codes of 6000 restored rows")
    assert answers() == before, "exact search changed once the codes were back"
    assert right_after == before, "exact search changed across the restart"
    # a WAL tail (new points and overwrites) replayed after kill -9: the
    # replay leaves those rows' codes to the same catch-up
    pts = [{"id": "b%d" % i, "vector": _vec(i + 100000)} for i in list(range(6000, 6400)) + list(range(0, 6000, 50))]
    expect(s.http.post("/collections/big/points", {"points": pts}), 200)
    before = answers()
    s.restart_store(signal.SIGKILL)
    wait_ready(s)
    right_after = answers()
    wait_log("8-bit codes of 6400 restored rows")
    assert answers() == before, "exact search changed once the codes were back (WAL replay)"
    assert right_after == before, "exact search changed across the kill -9"


if __name__ == "__main__":
    vx.main(globals())
