"""On-disk format compatibility: every data directory committed under
tests/compat/<version>/data (a snapshot plus WAL segments written by that
version of vectron-store, tests/compat/README.md) must load in this version
with exactly the content in its expected.json — collections and settings,
vectors bit-exact, metadata of every value type, deletes, drops — and pass
vectron-check. The fixture is copied first: the committed files are never
touched."""

import glob
import json
import os
import shutil
import subprocess
import sys

# the change-event PUB socket: never the default TCP port (other stores may run)
os.environ["VECTRON_STORE_EVENTS_URL"] = "ipc:///tmp/vx-events-%d.sock" % os.getpid()
for _k in ("VECTRON_ACCEPT_LOSS", "VECTRON_FSYNC"):
    os.environ.pop(_k, None)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
import vxwire  # noqa: E402
from vxharness import expect  # noqa: E402

COMPAT = os.path.join(vx.REPO_ROOT, "tests", "compat")
VERSIONS = sorted(os.path.basename(os.path.dirname(d)) for d in glob.glob(os.path.join(COMPAT, "*", "data")))
MSG_COLL_LIST, MSG_COLL_INFO, MSG_LIST, MSG_SEARCH = 11, 12, 23, 30


def bus(s, t, body):
    c = vxwire.ReqClient(s.store_url)
    try:
        return c.call(t, body)
    finally:
        c.close()


def listing(s, name):
    pts, cursor = {}, None
    while True:
        body = {"collection": name, "limit": 1000, "with_vector": True}
        if cursor:
            body["cursor"] = cursor
        rep = bus(s, MSG_LIST, body)
        assert rep[3] == 0, "%s: list %r" % (name, rep)
        for p in rep[4]["points"]:
            pts[p["id"]] = {"vector_f32le_hex": p["vector"].hex(), "metadata": p.get("metadata") or {}}
        cursor = rep[4].get("next_cursor")
        if not cursor:
            return pts


def digest(d):
    import hashlib
    return {n: hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest() for n in sorted(os.listdir(d))}


def check_version(version):
    src = os.path.join(COMPAT, version, "data")
    before = digest(src)
    with open(os.path.join(COMPAT, version, "expected.json"), encoding="utf-8") as f:
        want = json.load(f)["collections"]
    s = vx.Services(embed=False)
    try:
        for name in os.listdir(src):
            shutil.copy2(os.path.join(src, name), os.path.join(s.data_dir, name))
        r = subprocess.run([os.path.join(vx.BIN_DIR, "vectron-check"), s.data_dir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        assert r.returncode == 0, "%s: vectron-check: exit %d\n%s" % (version, r.returncode, r.stdout.decode()[-1500:])
        s.start()
        rep = bus(s, MSG_COLL_LIST, {})
        assert rep[3] == 0, rep
        got_names = sorted(c["name"] for c in rep[4]["collections"])
        assert got_names == sorted(want), "%s: collections %r, want %r" % (version, got_names, sorted(want))
        for name, w in want.items():
            info = bus(s, MSG_COLL_INFO, {"name": name})[4]
            for key in ("dimension", "metric", "count"):
                assert info.get(key) == w[key], "%s/%s: %s %r, want %r" % (version, name, key, info.get(key), w[key])
            assert info.get("model") == w.get("model"), "%s/%s: model %r" % (version, name, info.get("model"))
            idx = info.get("index") or {}
            assert idx.get("type", "flat") == w["index"]["type"], (name, idx)
            if w["index"]["type"] == "hnsw":
                assert (idx.get("m"), idx.get("ef_construction")) == (w["index"]["m"], w["index"]["ef_construction"]), \
                    (name, idx)
            got = listing(s, name)
            assert sorted(got) == sorted(w["points"]), "%s/%s: ids differ: extra %r, missing %r" % (
                version, name, sorted(set(got) - set(w["points"]))[:5], sorted(set(w["points"]) - set(got))[:5])
            for pid, p in w["points"].items():
                assert got[pid]["vector_f32le_hex"] == p["vector_f32le_hex"], "%s/%s/%s: vector differs" % (
                    version, name, pid)
                assert got[pid]["metadata"] == p["metadata"], "%s/%s/%s: metadata %r, want %r" % (
                    version, name, pid, got[pid]["metadata"], p["metadata"])
            # the loaded index answers: each stored vector finds itself first (exact and index search)
            if w["metric"] in ("cosine", "l2") and w["points"]:
                pid = sorted(w["points"])[0]
                vec = bytes.fromhex(w["points"][pid]["vector_f32le_hex"])
                for exact in (True, False):
                    rep = bus(s, MSG_SEARCH, {"collection": name, "vector": vec, "k": 1, "exact": exact})
                    assert rep[3] == 0 and rep[4]["hits"][0]["id"] == pid, \
                        "%s/%s: search (exact=%s) for %s: %r" % (version, name, exact, pid, rep)
        # and through the gateway
        expect(s.http.get("/collections/cos_flat"), 200)
        # it keeps working as a live store: a write, a restart, still there
        expect(s.http.post("/collections/cos_flat/points", {"points": [{"id": "new-after-upgrade",
                                                                       "vector": [1, 2, 3, 4, 5, 6, 7, 8]}]}), 200)
        s.restart_store(vx.signal.SIGKILL)
        got = listing(s, "cos_flat")
        assert "new-after-upgrade" in got and len(got) == want["cos_flat"]["count"] + 1
        pr = s.stop()
        assert not pr, pr
    finally:
        s.stop(quiet=True)
        s.cleanup()
    assert digest(src) == before, "the committed fixture %s was modified" % src


@vx.no_services
def test_fixtures_exist(_):
    assert VERSIONS, "no fixture under %s/<version>/data" % COMPAT
    assert "v1" in VERSIONS, "the v1 fixture is missing: %r" % VERSIONS


def _make(version):
    @vx.no_services
    def t(_):
        check_version(version)
    t.__name__ = "test_loads_%s" % version
    return t


for _v in VERSIONS:
    globals()["test_loads_%s" % _v] = _make(_v)

if __name__ == "__main__":
    vx.main(globals())
