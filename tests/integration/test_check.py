"""vectron-check and damaged data directories, on directories written by the
real store (docs/DURABILITY.md §6, §9): a clean directory verifies (exit 0);
a torn WAL tail is reported (exit 1), `--repair` truncates it (then exit 0)
and the store starts with every acknowledged write; a flipped byte in a
snapshot section is reported naming the file, the store refuses to start
naming the file, and `--accept-loss` starts it from the previous snapshot
plus the WAL without losing anything; damage in the middle of the WAL is
refused by the store and cut only by `--repair --accept-loss`; so is a
segment missing between two others; damage in a segment the newest
snapshot covers loses nothing and does not stop the store.

Snapshots are made frequent (VECTRON_SNAPSHOT_WAL_BYTES, passed through the
environment to the store) so that every directory holds at least two."""

import glob
import os
import shutil
import struct
import subprocess
import sys
import time

os.environ["VECTRON_SNAPSHOT_WAL_BYTES"] = "4096"
os.environ.pop("VECTRON_ACCEPT_LOSS", None)
os.environ.pop("VECTRON_FSYNC", None)

# the change-event PUB socket: never the default TCP port (other stores may run)
os.environ["VECTRON_STORE_EVENTS_URL"] = "ipc:///tmp/vx-events-%d.sock" % os.getpid()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect  # noqa: E402

CHECK_BIN = os.path.join(vx.BIN_DIR, "vectron-check")
N = 300  # points in c_main


def vec(i):
    return [float(i), 0.5 - i / 1000.0, 1.0 / (i + 1), -2.0]


def fill(s):
    expect(s.http.put("/collections/c_main", {"dimension": 4, "metric": "l2", "index": {"type": "hnsw", "m": 8}}),
           201)
    for base in range(0, N, 50):
        expect(s.http.post("/collections/c_main/points",
                           {"points": [{"id": "k%d" % i, "vector": vec(i), "metadata": {"i": i}}
                                       for i in range(base, base + 50)]}), 200)
    expect(s.http.post("/collections/c_main/points/delete", {"ids": ["k1", "k2"]}), 200)
    # the snapshotter checks the WAL size once a second: let it take one, then
    # write more (the clean stop takes the second)
    time.sleep(1.3)
    expect(s.http.put("/collections/c_other", {"dimension": 2, "metric": "cosine"}), 201)
    for j in range(20):
        expect(s.http.post("/collections/c_other/points",
                           {"points": [{"id": "o%d-%d" % (j, i), "vector": [1.0 + i, j + 0.25]} for i in range(20)]}),
               200)


def verify(s):
    info = expect(s.http.get("/collections/c_main"), 200, "c_main")
    assert info["count"] == N - 2, "c_main count %r, want %d" % (info["count"], N - 2)
    for i in (0, 3, 150, N - 1):
        got = expect(s.http.get("/collections/c_main/points/k%d" % i), 200, "k%d" % i)
        assert struct.pack("<4f", *got["vector"]) == struct.pack("<4f", *vec(i)), got
        assert got["metadata"] == {"i": i}, got
    vx.expect_error(s.http.get("/collections/c_main/points/k1"), 404, what="deleted k1 came back")
    assert expect(s.http.get("/collections/c_other"), 200)["count"] == 400


def check(s, *flags):
    r = subprocess.run([CHECK_BIN, s.data_dir] + list(flags), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def files(s, pattern):
    return sorted(glob.glob(os.path.join(s.data_dir, pattern)))


def store_refuses(s, env_extra=None):
    """Starts the store on the damaged dir; asserts it exits non-zero; returns its log."""
    argv = [vx.STORE_BIN, "--listen", s.store_url, "--data-dir", s.data_dir]
    env = vx.service_env()
    env.update(env_extra or {})
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, env=env)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode != 0, "the store started on a damaged data dir (exit %d):\n%s" % (r.returncode, out[-800:])
    return out


def wait_ready(s):
    deadline = time.time() + 15
    while time.time() < deadline:
        if s.http.get("/collections/c_main").status not in (502, 503, 504):
            return
        time.sleep(0.05)


def start_and_verify(s, accept_loss=False):
    if accept_loss:
        os.environ["VECTRON_ACCEPT_LOSS"] = "true"
    try:
        s.start_store()
    finally:
        os.environ.pop("VECTRON_ACCEPT_LOSS", None)
    wait_ready(s)
    verify(s)


def snapshot_sections(path):
    """[(payload offset, payload length)] of a snapshot file (format v1, §3)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"VXSNAP\0\0", "%s: not a snapshot" % path
    hdr_size, = struct.unpack_from("<I", data, 12)
    count, = struct.unpack_from("<I", data, 24)
    out, off = [], hdr_size
    for _ in range(count):
        length, = struct.unpack_from("<Q", data, off + 8)
        out.append((off + 64, length))
        off += 64 + (length + 63) // 64 * 64
    return out


def wal_records(path):
    """[(record offset, payload length)] of a WAL segment (format v1, §2)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"VXWAL\0", "%s: not a WAL segment" % path
    out, off = [], 32
    while off + 17 <= len(data):
        plen, = struct.unpack_from("<I", data, off)
        if off + 17 + plen > len(data):
            break
        out.append((off, plen))
        off += 17 + plen
    return out


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def need_check():
    assert os.access(CHECK_BIN, os.X_OK), "vectron-check is not built (%s)" % CHECK_BIN


@vx.no_services
def test_usage_errors(_):
    need_check()
    r = subprocess.run([CHECK_BIN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    assert r.returncode == 2, "no arguments: exit %d, want 2" % r.returncode
    r = subprocess.run([CHECK_BIN, "/nonexistent/dir", "--bogus"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    assert r.returncode == 2, "unknown flag: exit %d, want 2" % r.returncode
    r = subprocess.run([CHECK_BIN, "/nonexistent/vx-dir"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=10)
    assert r.returncode == 2 and b"no such directory" in r.stdout, \
        "a missing directory: exit %d, want 2\n%s" % (r.returncode, r.stdout)


@vx.fresh
def test_clean_directory_verifies(s):
    need_check()
    fill(s)
    s.stop_store()
    assert len(files(s, "snapshot-*.vxs")) >= 2, "want >= 2 snapshots: %r" % os.listdir(s.data_dir)
    assert files(s, "wal-*.log"), "no WAL segment: %r" % os.listdir(s.data_dir)
    rc, out = check(s)
    assert rc == 0, "vectron-check on a clean dir: exit %d\n%s" % (rc, out)
    assert "result: OK" in out, out
    for f in files(s, "snapshot-*.vxs") + files(s, "wal-*.log"):
        assert os.path.basename(f) in out, "%s not listed:\n%s" % (os.path.basename(f), out)
    start_and_verify(s)


@vx.fresh
def test_directory_after_kill9_verifies(s):
    need_check()
    fill(s)
    s.store.kill9()
    s.store = None
    rc, out = check(s)
    assert rc == 0, "a dir left by kill -9 with no write in flight: exit %d\n%s" % (rc, out)
    start_and_verify(s)


@vx.fresh
def test_torn_tail_repair(s):
    need_check()
    fill(s)
    s.stop_store()
    newest = files(s, "wal-*.log")[-1]
    size = os.path.getsize(newest)
    with open(newest, "ab") as f:  # half a record: a header promising 100 bytes, 20 of them
        f.write(struct.pack("<IBQI", 100, 20, 999999, 0) + b"x" * 20)
    rc, out = check(s)
    assert rc == 1, "torn tail: exit %d, want 1\n%s" % (rc, out)
    assert os.path.basename(newest) in out and "torn" in out.lower(), out
    rc, out = check(s, "--repair")
    assert rc == 0, "--repair of a torn tail: exit %d, want 0\n%s" % (rc, out)
    assert os.path.getsize(newest) == size, "repair left %d bytes, want %d" % (os.path.getsize(newest), size)
    rc, out = check(s)
    assert rc == 0, "after --repair: exit %d\n%s" % (rc, out)
    start_and_verify(s)


@vx.fresh
def test_torn_tail_is_repaired_by_the_store(s):
    fill(s)
    s.stop_store()
    newest = files(s, "wal-*.log")[-1]
    with open(newest, "ab") as f:
        f.write(struct.pack("<IBQI", 100, 20, 999999, 0) + b"x" * 20)
    start_and_verify(s)
    log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace")
    assert os.path.basename(newest) in log and ("torn" in log.lower() or "truncat" in log.lower()), \
        "the repair of the torn tail is not logged with the file name:\n%s" % log[-1500:]


@vx.fresh
def test_corrupt_snapshot_refused_and_accept_loss(s):
    need_check()
    fill(s)
    s.stop_store()
    snaps = files(s, "snapshot-*.vxs")
    assert len(snaps) >= 2, "want >= 2 snapshots: %r" % os.listdir(s.data_dir)
    newest = snaps[-1]
    secs = snapshot_sections(newest)
    off, length = max(secs, key=lambda x: x[1])  # the largest section (vectors or graph)
    flip(newest, off + length // 2)
    rc, out = check(s)
    assert rc == 1, "flipped byte in %s: exit %d, want 1\n%s" % (newest, rc, out)
    assert os.path.basename(newest) in out, "the report does not name %s:\n%s" % (newest, out)
    rc2, _ = check(s, "--repair")
    assert rc2 == 1, "--repair must not 'fix' a snapshot (exit %d)" % rc2
    log = store_refuses(s)
    assert os.path.basename(newest) in log, "the refusal does not name %s:\n%s" % (newest, log[-1500:])
    # --accept-loss: falls back to the previous snapshot; the WAL goes back to
    # it (docs/DURABILITY.md §7), so nothing is actually lost.
    start_and_verify(s, accept_loss=True)
    log = open(s.log_path("store"), "rb").read().decode("utf-8", "replace")
    assert "ERROR" in log and os.path.basename(newest) in log, log[-1500:]


@vx.fresh
def test_wal_middle_damage(s):
    need_check()
    fill(s)
    # The damaged records must be ones no snapshot covers (damage a snapshot
    # covers loses nothing: test_wal_damage_the_snapshot_covers). A clean
    # stop snapshots everything and the next start opens a new segment; with
    # snapshots off, that segment then holds exactly the 3 writes below.
    s.stop_store()
    s.extra_store_args = ["--snapshot-wal-bytes", "0", "--snapshot-interval-s", "0"]
    s.start_store()
    for j in range(3):
        expect(s.http.post("/collections/c_main/points",
                           {"points": [{"id": "w%d" % j, "vector": [0.5, j, 1, 2]}]}), 200)
    s.store.kill9()
    seg = files(s, "wal-*.log")[-1]
    recs = wal_records(seg)
    assert len(recs) == 3, "%s: %d records" % (seg, len(recs))
    roff, plen = recs[len(recs) // 3]
    flip(seg, roff + 17 + plen // 2)
    rc, out = check(s)
    assert rc == 1 and os.path.basename(seg) in out and "offset %d" % roff in out, \
        "damage at %s offset %d: exit %d\n%s" % (seg, roff, rc, out)
    log = store_refuses(s)
    assert os.path.basename(seg) in log, "the refusal does not name %s:\n%s" % (seg, log[-1500:])
    rc, out = check(s, "--repair")
    assert rc == 1, "--repair alone must not cut the log in the middle (exit %d)\n%s" % (rc, out)
    rc, out = check(s, "--repair", "--accept-loss")
    assert rc == 0, "--repair --accept-loss: exit %d\n%s" % (rc, out)
    rc, out = check(s)
    assert rc == 0, "after the cut: exit %d\n%s" % (rc, out)
    s.start_store()  # starts, with what was before the damage
    wait_ready(s)
    expect(s.http.get("/collections/c_main"), 200)
    # new writes get LSNs after everything kept (also after the newest
    # snapshot), so they survive the next restart
    expect(s.http.post("/collections/c_main/points", {"points": [{"id": "after-cut", "vector": [7, 7, 7, 7]}]}), 200)
    s.restart_store(vx.signal.SIGKILL)
    wait_ready(s)
    got = expect(s.http.get("/collections/c_main/points/after-cut"), 200, "write after the cut, after kill -9")
    assert got["vector"] == [7.0, 7.0, 7.0, 7.0], got



def name_lsn(path):
    """The LSN in a wal-<hex>.log or snapshot-<hex>.vxs file name."""
    return int(os.path.basename(path).split("-")[1].split(".")[0], 16)


@vx.fresh
def test_wal_damage_the_snapshot_covers(s):
    """Damage in a WAL segment the newest snapshot covers entirely (kept
    only for a fallback to the previous snapshot) loses nothing: vectron-check
    reports it (exit 1, "nothing is lost"), the store starts with every
    write and moves the segment aside."""
    need_check()
    fill(s)
    s.stop_store()  # the clean stop takes the newest snapshot and starts a new segment
    newest = name_lsn(files(s, "snapshot-*.vxs")[-1])
    segs = files(s, "wal-*.log")
    covered = [p for i, p in enumerate(segs[:-1]) if name_lsn(segs[i + 1]) <= newest + 1 and wal_records(p)]
    assert covered, "no WAL segment the snapshot at LSN %d covers: %s" % (newest, segs)
    seg = covered[-1]
    roff, plen = wal_records(seg)[len(wal_records(seg)) // 2]
    flip(seg, roff + 17 + plen // 2)
    rc, out = check(s)
    assert rc == 1 and os.path.basename(seg) in out and "nothing is lost" in out, \
        "damage at %s offset %d: exit %d\n%s" % (seg, roff, rc, out)
    # vectron-check --repair on a copy moves it aside, saying so
    copy = os.path.join(s.tmp, "data-copy")
    shutil.copytree(s.data_dir, copy)
    r = subprocess.run([CHECK_BIN, copy, "--repair"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert "moved a damaged segment the snapshot covers aside" in out, out
    r = subprocess.run([CHECK_BIN, copy], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert r.returncode == 0, "the copy after --repair: exit %d\n%s" % (r.returncode, r.stdout)
    # the store itself starts on the original, with every write, and moves it aside
    start_and_verify(s)
    assert os.path.exists(seg + ".lost") and not os.path.exists(seg), files(s, "wal-*")
    s.stop_store()
    rc, out = check(s)
    assert rc == 0, "after the store moved the damaged segment aside: exit %d\n%s" % (rc, out)
    assert os.path.basename(seg) + ".lost" in out, "vectron-check does not list the file set aside:\n" + out

@vx.fresh(extra_store_args=("--wal-segment-bytes", "4096", "--snapshot-wal-bytes", "1073741824"))
def test_wal_missing_middle_segment(s):
    """A WAL segment deleted from the middle of the log, after the newest
    snapshot: every file left is intact, only the LSNs show the hole.
    vectron-check and the store name the missing records; the store refuses
    to start; `--repair --accept-loss` keeps what comes before the hole."""
    need_check()
    expect(s.http.put("/collections/seg", {"dimension": 4, "metric": "l2"}), 201)
    for i in range(60):  # ~330 bytes per record: 12 per 4 KiB segment
        expect(s.http.post("/collections/seg/points",
                           {"points": [{"id": "p%d" % i, "vector": [i, 1, 2, 3], "metadata": {"pad": "x" * 300}}]}),
               200)
    s.store.kill9()  # no snapshot on the way out
    assert not files(s, "snapshot-*.vxs"), "a snapshot covers the log: %s" % files(s, "snapshot-*.vxs")
    segs = files(s, "wal-*.log")
    assert len(segs) >= 4, segs
    hole = len(segs) // 2
    kept = sum(len(wal_records(p)) for p in segs[:hole]) - 1  # the first record creates the collection
    os.unlink(segs[hole])
    rc, out = check(s)
    assert rc == 1 and "missing" in out and os.path.basename(segs[hole + 1]) in out, \
        "deleted %s: exit %d\n%s" % (os.path.basename(segs[hole]), rc, out)
    log = store_refuses(s)
    assert "missing" in log and os.path.basename(segs[hole + 1]) in log, \
        "the refusal does not name the hole:\n%s" % log[-1500:]
    rc, out = check(s, "--repair")
    assert rc == 1, "--repair alone must not drop the records after the hole (exit %d)\n%s" % (rc, out)
    rc, out = check(s, "--repair", "--accept-loss")
    assert rc == 0, "--repair --accept-loss: exit %d\n%s" % (rc, out)
    assert files(s, "wal-*.log") == segs[:hole], files(s, "wal-*.log")
    s.start_store()
    wait_ready(s)
    assert expect(s.http.get("/collections/seg"), 200)["count"] == kept
    expect(s.http.get("/collections/seg/points/p%d" % (kept - 1)), 200)
    vx.expect_error(s.http.get("/collections/seg/points/p%d" % kept), 404, what="a point after the hole")

if __name__ == "__main__":
    vx.main(globals())
