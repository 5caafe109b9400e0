#!/usr/bin/python3
"""make_fixture — writes a format-compatibility fixture with the real
vectron-store (see tests/compat/README.md). Run once per on-disk format
version; never re-run it over a committed version.

    VX_BIN=build/bin /usr/bin/python3 tests/compat/make_fixture.py tests/compat/v1

It drives the store over the bus (so the fixture does not depend on the
gateway) through two lives:
  1. collections of every metric and index type (one bound to a model, one
     made by a legacy create_if_missing upsert), points with metadata of
     every value type, deletes, a dropped collection and a dropped-and-
     re-created one; then SIGTERM, which writes a snapshot;
  2. a restart, then overwrites, deletes, a new collection and a dropped one;
     then kill -9, so these live only in the WAL.
The result is DIR/data (snapshot + WAL segments; no LOCK) and
DIR/expected.json, computed by this script from what it sent (not read
back from the store), then checked against the store before writing.
"""

import json
import os
import random
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests", "crash"))
from crash_procs import Services  # noqa: E402

MSG_COLL_CREATE, MSG_COLL_INFO, MSG_COLL_DELETE = 10, 12, 13
MSG_UPSERT, MSG_DELETE, MSG_LIST = 20, 22, 23

META_VALUES = [
    {"int": 42, "neg": -7, "big": 9007199254740993, "min": -9223372036854775808},
    {"float": 0.1, "tiny": 5e-324, "huge": 1.7976931348623157e308, "negz": -0.0},
    {"str": "plain", "unicode": "ünïcødé ✓ 日本 😀", "empty": ""},
    {"t": True, "f": False, "nil": None},
    {"arr": [1, "two", 3.5, False, None, [4, [5]]], "obj": {"a": {"b": {"c": "deep"}}, "n": 1}},
    {},
]


class Fixture:
    def __init__(self, svc, seed=20261124):
        self.svc = svc
        self.rng = random.Random(seed)
        self.colls = {}  # name -> {"config": {...}, "points": {id: (vec_bytes, meta)}}

    def call(self, t, body):
        rep = self.svc.call(t, body)
        if rep[3] != 0:
            raise RuntimeError("type %d %r: %r" % (t, body.get("name") or body.get("collection"), rep))
        return rep[4]

    def create(self, name, dim, metric, index=None, model=None):
        cfg = {"name": name, "dimension": dim, "metric": metric, "index": index or {"type": "flat"}}
        if model:
            cfg["model"] = model
        self.call(MSG_COLL_CREATE, cfg)
        full_index = dict(cfg["index"])
        if full_index["type"] == "hnsw":
            full_index.setdefault("m", 16)
            full_index.setdefault("ef_construction", 200)
        self.colls[name] = {"config": {"dimension": dim, "metric": metric, "index": full_index, "model": model},
                            "points": {}}

    def vec(self, dim):
        vals = [self.rng.choice((self.rng.uniform(-1, 1), self.rng.uniform(-1e6, 1e6), self.rng.uniform(-1e-6, 1e-6)))
                for _ in range(dim)]
        vals[0] = vals[0] or 1.0
        return struct.pack("<%df" % dim, *vals)

    def upsert(self, name, ids, meta_from=0, create_if_missing=False):
        dim = self.colls[name]["config"]["dimension"] if name in self.colls else 4
        pts = []
        for k, i in enumerate(ids):
            v = self.vec(dim)
            m = META_VALUES[(meta_from + k) % len(META_VALUES)]
            p = {"id": i, "vector": v}
            if m:
                p["metadata"] = m
            pts.append((i, v, m))
        body = {"collection": name, "points": [{"id": i, "vector": v, **({"metadata": m} if m else {})}
                                               for i, v, m in pts]}
        if create_if_missing:
            body["create_if_missing"] = True
            if name not in self.colls:
                self.colls[name] = {"config": {"dimension": dim, "metric": "cosine", "index": {"type": "flat"},
                                               "model": None}, "points": {}}
        self.call(MSG_UPSERT, body)
        for i, v, m in pts:
            self.colls[name]["points"][i] = (v, m)

    def delete(self, name, ids):
        self.call(MSG_DELETE, {"collection": name, "ids": ids})
        for i in ids:
            self.colls[name]["points"].pop(i, None)

    def drop(self, name):
        self.call(MSG_COLL_DELETE, {"name": name})
        del self.colls[name]

    def expected(self):
        out = {}
        for name, c in sorted(self.colls.items()):
            cfg = dict(c["config"])
            if cfg["model"] is None:
                del cfg["model"]
            out[name] = dict(cfg, count=len(c["points"]), points={
                i: {"vector_f32le_hex": v.hex(), "metadata": m} for i, (v, m) in sorted(c["points"].items())})
        return {"format": "vectron data directory, WAL v1 + snapshot v1", "collections": out}


def read_back(svc, name):
    pts, cursor = {}, None
    while True:
        body = {"collection": name, "limit": 1000, "with_vector": True}
        if cursor:
            body["cursor"] = cursor
        rep = svc.call(MSG_LIST, body)
        assert rep[3] == 0, rep
        for p in rep[4]["points"]:
            pts[p["id"]] = {"vector_f32le_hex": p["vector"].hex(), "metadata": p.get("metadata") or {}}
        cursor = rep[4].get("next_cursor")
        if not cursor:
            return pts


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_fixture.py OUT_DIR (e.g. tests/compat/v1)")
    out = os.path.abspath(sys.argv[1])
    if os.path.exists(os.path.join(out, "data")):
        sys.exit("%s/data exists: a committed fixture is never regenerated (add a new version)" % out)
    tmp = tempfile.mkdtemp(prefix="vxcompat.")
    svc = Services(tmp, "always", None, extra_store_args=["--snapshot-wal-bytes", "0", "--snapshot-interval-s", "0"])
    fx = Fixture(svc)
    try:
        svc.start_store()
        # ---- life 1: ends with a clean stop (snapshot) ----
        fx.create("cos_flat", 8, "cosine")
        fx.create("cos_hnsw", 6, "cosine", {"type": "hnsw", "m": 8, "ef_construction": 32})
        fx.create("dot_flat", 5, "dot")
        fx.create("l2_hnsw", 3, "l2", {"type": "hnsw", "m": 4, "ef_construction": 16})
        fx.create("with_model", 512, "cosine", model="use-lite")
        fx.create("gone", 2, "l2")
        fx.create("recreated", 2, "l2")
        for name in ("cos_flat", "cos_hnsw", "dot_flat", "l2_hnsw"):
            for b in range(4):
                fx.upsert(name, ["%s-%d" % (name[:3], b * 25 + i) for i in range(25)], meta_from=b)
        fx.upsert("with_model", ["doc-1", "doc-2"])
        fx.upsert("gone", ["x"])
        fx.upsert("recreated", ["old"])
        fx.upsert("default", ["legacy-1", "legacy/2"], create_if_missing=True)
        fx.delete("cos_flat", ["cos-3", "cos-4", "cos-50"])
        fx.delete("l2_hnsw", ["l2_-0", "l2_-99"])
        fx.upsert("cos_hnsw", ["cos-7"], meta_from=4)  # overwrite
        fx.drop("gone")
        fx.drop("recreated")
        fx.create("recreated", 4, "dot", {"type": "hnsw", "m": 6, "ef_construction": 20})
        fx.upsert("recreated", ["new"])
        rc = svc.stop_store()
        assert rc == 0, "clean stop: %r" % rc
        # ---- life 2: ends with kill -9 (these writes live only in the WAL) ----
        svc.start_store()
        fx.upsert("dot_flat", ["dot-0", "dot-1", "dot-new"], meta_from=2)
        fx.delete("dot_flat", ["dot-5", "dot-6"])
        fx.delete("cos_hnsw", ["cos-8"])
        fx.create("wal_only", 7, "l2", {"type": "hnsw", "m": 5, "ef_construction": 10})
        fx.upsert("wal_only", ["w-%d" % i for i in range(10)], meta_from=1)
        fx.create("wal_gone", 2, "dot")
        fx.upsert("wal_gone", ["z"])
        fx.drop("wal_gone")
        fx.upsert("l2_hnsw", ["l2_-0"])  # resurrected after its delete in life 1
        exp = fx.expected()
        # cross-check with the store before killing it
        for name, c in exp["collections"].items():
            got = read_back(svc, name)
            assert got == c["points"], "%s: the store disagrees with the script" % name
        svc.kill_store()
        files = sorted(f for f in os.listdir(svc.data_dir) if f != "LOCK")
        assert any(f.endswith(".vxs") for f in files) and any(f.endswith(".log") for f in files), files
        os.makedirs(os.path.join(out, "data"))
        for f in files:
            shutil.copy2(os.path.join(svc.data_dir, f), os.path.join(out, "data", f))
        with open(os.path.join(out, "expected.json"), "w") as f:
            json.dump(exp, f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        print("wrote %s: %s" % (out, ", ".join(files)))
    finally:
        svc.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
