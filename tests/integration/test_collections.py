"""End-to-end tests of the collection API (SPEC §3.1): create, idempotent
re-create, conflicting re-create, list, info, delete, and rejection of bad
names, dimensions, metrics and index parameters. Black-box over HTTP."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error, quote_id  # noqa: E402

INFO_KEYS = ("name", "dimension", "metric", "index", "model", "count", "memory_bytes")


def check_info(info, name, dim, metric, itype=None, m=None, efc=None, model=None, count=None):
    assert isinstance(info, dict), "info must be an object: %r" % (info,)
    for k in INFO_KEYS:
        assert k in info, "info lacks %r: %r" % (k, info)
    assert info["name"] == name, info
    assert info["dimension"] == dim and isinstance(info["dimension"], int), info
    assert info["metric"] == metric, info
    idx = info["index"]
    assert isinstance(idx, dict) and {"type", "m", "ef_construction"} <= set(idx), "index params: %r" % (idx,)
    assert idx["type"] in ("flat", "hnsw"), idx
    if itype is not None:
        assert idx["type"] == itype, idx
    if m is not None:
        assert idx["m"] == m, idx
    if efc is not None:
        assert idx["ef_construction"] == efc, idx
    assert info["model"] == model, "model %r, want %r" % (info["model"], model)
    assert isinstance(info["count"], int) and info["count"] >= 0, info
    if count is not None:
        assert info["count"] == count, "count %r, want %r" % (info["count"], count)
    assert isinstance(info["memory_bytes"], int) and info["memory_bytes"] >= 0, info


def spec(dim=4, metric="cosine", itype="hnsw", m=16, efc=200):
    return {"dimension": dim, "metric": metric, "index": {"type": itype, "m": m, "ef_construction": efc}}


def test_create_returns_201_and_info(s):
    r = s.http.put("/collections/c_create", spec(8, "dot", "hnsw", 12, 100))
    info = expect(r, 201, "create")
    check_info(info, "c_create", 8, "dot", "hnsw", 12, 100, None, 0)
    info = expect(s.http.get("/collections/c_create"), 200, "info")
    check_info(info, "c_create", 8, "dot", "hnsw", 12, 100, None, 0)


def test_create_flat_and_defaults(s):
    info = expect(s.http.put("/collections/c_flat", {"dimension": 3, "metric": "l2", "index": {"type": "flat"}}),
                  201, "create flat")
    check_info(info, "c_flat", 3, "l2", "flat")
    # Only the required field: the documented defaults fill the rest.
    info = expect(s.http.put("/collections/c_min", {"dimension": 5}), 201, "create with defaults")
    check_info(info, "c_min", 5, info["metric"])
    assert info["metric"] in ("cosine", "dot", "l2"), info


def test_create_same_settings_is_idempotent(s):
    expect(s.http.put("/collections/c_idem", spec(4, "l2")), 201)
    s.http.post("/collections/c_idem/points", {"points": [{"id": "p", "vector": [1, 2, 3, 4]}]})
    r = s.http.put("/collections/c_idem", spec(4, "l2"))
    assert r.status in (200, 201), "re-create with identical settings: %r" % r
    check_info(r.json, "c_idem", 4, "l2", "hnsw", 16, 200, None)
    # ... and it must not have wiped the data.
    info = expect(s.http.get("/collections/c_idem"), 200)
    assert info["count"] == 1, "idempotent create dropped points: %r" % info


def test_create_other_settings_conflicts(s):
    expect(s.http.put("/collections/c_conf", spec(4, "cosine")), 201)
    for other, what in ((spec(5, "cosine"), "dimension"), (spec(4, "dot"), "metric"),
                        (spec(4, "cosine", "flat"), "index type"), (spec(4, "cosine", m=8), "m")):
        expect_error(s.http.put("/collections/c_conf", other), 409, "conflict", what="other " + what)
    check_info(expect(s.http.get("/collections/c_conf"), 200), "c_conf", 4, "cosine", "hnsw", 16, 200)


def test_list_collections(s):
    names = ["c_list_a", "c_list_b", "c_list_c"]
    for i, n in enumerate(names):
        expect(s.http.put("/collections/" + n, spec(2 + i, "cosine")), 201)
    body = expect(s.http.get("/collections"), 200, "list")
    assert isinstance(body, dict) and isinstance(body.get("collections"), list), body
    by_name = {c["name"]: c for c in body["collections"]}
    assert len(by_name) == len(body["collections"]), "duplicate names in list: %r" % body
    for i, n in enumerate(names):
        assert n in by_name, "%s missing from list %r" % (n, sorted(by_name))
        check_info(by_name[n], n, 2 + i, "cosine")


def test_info_counts_and_memory(s):
    expect(s.http.put("/collections/c_mem", spec(16, "cosine", "flat")), 201)
    before = expect(s.http.get("/collections/c_mem"), 200)
    pts = [{"id": "p%d" % i, "vector": [float(i + j) for j in range(16)], "metadata": {"i": i}}
           for i in range(1, 101)]
    expect(s.http.post("/collections/c_mem/points", {"points": pts}), 200, "upsert")
    after = expect(s.http.get("/collections/c_mem"), 200)
    assert after["count"] == 100, after
    # 100 vectors of 16 float32 alone take 6400 bytes.
    assert after["memory_bytes"] >= before["memory_bytes"] + 6400, (before, after)


def test_missing_collection_404(s):
    expect_error(s.http.get("/collections/nope_missing"), 404, "not_found", mentions="nope_missing")
    expect_error(s.http.delete("/collections/nope_missing"), 404, "not_found")


def test_delete_collection(s):
    expect(s.http.put("/collections/c_del", spec(3, "cosine")), 201)
    expect(s.http.post("/collections/c_del/points", {"points": [{"id": "x", "vector": [1, 0, 0]}]}), 200)
    expect(s.http.delete("/collections/c_del"), 200, "delete")
    expect_error(s.http.get("/collections/c_del"), 404, "not_found")
    expect_error(s.http.delete("/collections/c_del"), 404, "not_found")
    names = [c["name"] for c in expect(s.http.get("/collections"), 200)["collections"]]
    assert "c_del" not in names, names
    expect_error(s.http.get("/collections/c_del/points/x"), 404, "not_found")
    # The name is free again, with new settings and no old points.
    info = expect(s.http.put("/collections/c_del", spec(7, "dot")), 201)
    check_info(info, "c_del", 7, "dot", count=0)
    expect_error(s.http.get("/collections/c_del/points/x"), 404, "not_found")


def test_name_charset_and_length(s):
    ok64 = "N" * 64
    check_info(expect(s.http.put("/collections/" + ok64, spec()), 201, "64-char name"), ok64, 4, "cosine")
    check_info(expect(s.http.put("/collections/Az09_-", spec()), 201, "all allowed chars"), "Az09_-", 4, "cosine")
    before = sorted(c["name"] for c in expect(s.http.get("/collections"), 200)["collections"])
    bad = ["a%2Fb", "N" * 65, "%2E%2E", "caf%C3%A9", "a%20b", "a.b", "a%00b", "%F0%9F%99%82"]
    for enc in bad:
        expect_error(s.http.put("/collections/" + enc, spec()), 400, mentions="name", what="name %r" % enc)
    # An empty name is not a collection: some error, never a creation.
    r = s.http.put("/collections/", spec())
    assert r.status in (400, 404, 405), "empty name: %r" % r
    expect_error(r, r.status)
    after = sorted(c["name"] for c in expect(s.http.get("/collections"), 200)["collections"])
    assert before == after, "a bad name created something: %r -> %r" % (before, after)


def test_bad_dimension(s):
    for dim in (0, -1, 10 ** 9, "x", 1.5, None, 4097, [4]):
        body = spec()
        body["dimension"] = dim
        expect_error(s.http.put("/collections/c_baddim", body), 400, mentions="dimension",
                     what="dimension %r" % (dim,))
    body = spec()
    del body["dimension"]
    expect_error(s.http.put("/collections/c_baddim", body), 400, mentions="dimension", what="no dimension")
    expect_error(s.http.get("/collections/c_baddim"), 404, what="nothing created")
    check_info(expect(s.http.put("/collections/c_dim4096", spec(4096)), 201, "VX_MAX_DIM"), "c_dim4096", 4096,
               "cosine")


def test_bad_metric_and_index(s):
    for metric in ("euclid", "", "COSINE ", 3, ["cosine"]):
        body = spec()
        body["metric"] = metric
        expect_error(s.http.put("/collections/c_badm", body), 400, mentions="metric", what="metric %r" % (metric,))
    for idx, field in (({"type": "ivf"}, "type"), ({"type": "hnsw", "m": 1}, "m"),
                       ({"type": "hnsw", "m": 101}, "m"), ({"type": "hnsw", "ef_construction": 3}, "ef_construction"),
                       ({"type": "hnsw", "ef_construction": 2001}, "ef_construction"), ("hnsw", "index")):
        body = spec()
        body["index"] = idx
        expect_error(s.http.put("/collections/c_badm", body), 400, mentions=field, what="index %r" % (idx,))
    expect_error(s.http.get("/collections/c_badm"), 404, what="nothing created")


def test_model_must_match_dimension(s):
    if not vx.have_embed():
        raise vx.Skip("vectron-embed is not built")
    r = s.http.put("/collections/c_model_bad", {"dimension": 384, "metric": "cosine", "model": "use-lite"})
    expect_error(r, 400, mentions=("dimension", "model"), what="use-lite is 512-d")
    r = s.http.put("/collections/c_model_ok", {"dimension": 512, "metric": "cosine", "model": "use-lite"})
    check_info(expect(r, 201), "c_model_ok", 512, "cosine", model="use-lite")
    expect_error(s.http.put("/collections/c_model_x", {"dimension": 8, "model": "no-such-model"}), 400,
                 mentions="model")


def test_racing_create_and_delete_are_linearizable(s):
    """One client keeps creating a collection (settings differ every time,
    so a create only succeeds while it is absent) while another keeps
    deleting it. Every 201 and every delete 200 must fit one order: the
    deletes that succeeded are the creates that succeeded, give or take the
    collection still there at the end. (A create that a racing delete undid
    before it answered once re-created the collection, so one PUT made two.)"""
    name = "race_cd"
    stop = time.time() + 4
    counts = {"created": 0, "deleted": 0, "other": []}

    def creator():
        c = vx.Client(s.port)
        i = 0
        while time.time() < stop:
            i += 1
            # settings never repeat (a PUT with the settings of the existing
            # collection is an idempotent 201 that creates nothing)
            r = c.put("/collections/" + name, {"dimension": 1 + i % 4096, "metric": "l2",
                                                "index": {"type": "hnsw", "m": 2 + (i // 4096) % 98}})
            if r.status == 201:
                counts["created"] += 1
            elif r.status != 409:
                counts["other"].append(("PUT", r.status, r.body[:200]))
        c.close()

    def deleter():
        c = vx.Client(s.port)
        while time.time() < stop:
            r = c.delete("/collections/" + name)
            if r.status == 200:
                counts["deleted"] += 1
            elif r.status != 404:
                counts["other"].append(("DELETE", r.status, r.body[:200]))
        c.close()

    threads = [threading.Thread(target=creator), threading.Thread(target=deleter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not counts["other"], counts["other"][:5]
    exists = s.http.get("/collections/" + name).status == 200
    assert counts["created"] > 10 and counts["deleted"] > 10, counts
    assert counts["created"] - counts["deleted"] == (1 if exists else 0), \
        "%d creates answered 201, %d deletes answered 200, the collection %s at the end" % (
            counts["created"], counts["deleted"], "exists" if exists else "is gone")

if __name__ == "__main__":
    vx.main(globals())
