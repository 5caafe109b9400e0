"""End-to-end tests of search (SPEC §3.1): exact results against a
brute-force reference for cosine, dot and l2 (order and scores), k larger
than the collection, every filter operator, selective filters still
returning k results, with_vector, parameter validation, and HNSW answering."""

import math
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402

DIM = 8
N = 300
TOL = 1e-4
COLORS = ("red", "green", "blue")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def rand_vec(rng, dim=DIM):
    return [f32(rng.uniform(-1, 1)) for _ in range(dim)]


def score(metric, q, v):
    dot = sum(a * b for a, b in zip(q, v))
    if metric == "dot":
        return dot
    if metric == "cosine":
        return dot / (math.sqrt(sum(a * a for a in q)) * math.sqrt(sum(b * b for b in v)))
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(q, v)))


def reference(metric, q, points, k, pred=None):
    """[(score, id)] best first."""
    scored = [(score(metric, q, p["vector"]), p["id"]) for p in points if pred is None or pred(p["metadata"])]
    scored.sort(key=lambda t: t[0], reverse=(metric != "l2"))
    return scored[:k]


def make_points(seed, n=N, dim=DIM):
    rng = random.Random(seed)
    pts = []
    for i in range(n):
        pts.append({"id": "p%04d" % i, "vector": rand_vec(rng, dim),
                    "metadata": {"color": COLORS[i % 3], "n": i, "price": (i % 10) * 1.5, "ok": i % 2 == 0,
                                 "tag": "t%d" % (i % 7)}})
    return pts


_made = set()


def setup_coll(s, name, metric, itype="flat", pts=None):
    """Creates and fills a collection once per services instance."""
    key = (id(s), name)
    if key in _made:
        return pts
    r = s.http.put("/collections/" + name, {"dimension": DIM, "metric": metric, "index": {"type": itype}})
    expect(r, 201, "create " + name)
    _made.add(key)
    for i in range(0, len(pts), 500):
        expect(s.http.post("/collections/%s/points" % name, {"points": pts[i:i + 500]}), 200, "upsert")
    return pts


def search(s, coll, body, status=200):
    r = s.http.post("/collections/%s/search" % coll, body)
    if status != 200:
        return r
    out = expect(r, 200, "search %r" % ({k: v for k, v in body.items() if k != "vector"},))
    assert isinstance(out.get("results"), list), out
    assert isinstance(out.get("took_ms"), (int, float)), "took_ms missing: %r" % list(out)
    for h in out["results"]:
        assert isinstance(h.get("id"), str) and isinstance(h.get("score"), (int, float)), h
    return out["results"]


def check_against(metric, got, want, points_by_id, q, what):
    assert len(got) == len(want), "%s: %d results, want %d" % (what, len(got), len(want))
    ids = [h["id"] for h in got]
    assert len(set(ids)) == len(ids), "%s: duplicate ids %r" % (what, ids)
    for i, (h, (ws, wid)) in enumerate(zip(got, want)):
        assert abs(h["score"] - ws) <= TOL, "%s: rank %d score %r (%s), want %r (%s)" % (
            what, i, h["score"], h["id"], ws, wid)
        true = score(metric, q, points_by_id[h["id"]]["vector"])
        assert abs(h["score"] - true) <= TOL, "%s: %s reported %r but its %s is %r" % (
            what, h["id"], h["score"], metric, true)


def test_exact_results_all_metrics(s):
    pts = make_points(1)
    by_id = {p["id"]: p for p in pts}
    rng = random.Random(99)
    for metric in ("cosine", "dot", "l2"):
        setup_coll(s, "s_" + metric, metric, pts=pts)
        for qi in range(5):
            q = rand_vec(rng)
            for k in (1, 10):
                got = search(s, "s_" + metric, {"vector": q, "k": k})
                check_against(metric, got, reference(metric, q, pts, k), by_id, q, "%s q%d k%d" % (metric, qi, k))
            if metric == "l2":
                sc = [h["score"] for h in got]
                assert sc == sorted(sc) and sc[0] >= 0, "l2 must ascend (non-squared distances): %r" % sc
        # A stored vector is its own best match (cosine 1, l2 0).
        got = search(s, "s_" + metric, {"vector": pts[17]["vector"], "k": 3})
        if metric != "dot":
            assert got[0]["id"] == "p0017", got
            assert abs(got[0]["score"] - (1.0 if metric == "cosine" else 0.0)) <= TOL, got[0]


def test_results_carry_metadata(s):
    pts = setup_coll(s, "s_cosine", "cosine", pts=make_points(1))
    by_id = {p["id"]: p for p in pts}
    for h in search(s, "s_cosine", {"vector": pts[3]["vector"], "k": 5}):
        assert h.get("metadata") == by_id[h["id"]]["metadata"], "metadata of %s: %r" % (h["id"], h.get("metadata"))


def test_k_bigger_than_count(s):
    expect(s.http.put("/collections/s_small", {"dimension": 2, "metric": "l2", "index": {"type": "flat"}}), 201)
    expect(s.http.post("/collections/s_small/points",
                       {"points": [{"id": str(i), "vector": [float(i), 0]} for i in range(5)]}), 200)
    got = search(s, "s_small", {"vector": [0, 0], "k": 10})
    assert [h["id"] for h in got] == ["0", "1", "2", "3", "4"], got
    assert [round(h["score"], 4) for h in got] == [0.0, 1.0, 2.0, 3.0, 4.0], "l2 is not squared: %r" % got
    expect(s.http.put("/collections/s_empty", {"dimension": 2, "metric": "l2"}), 201)
    assert search(s, "s_empty", {"vector": [0, 0], "k": 10}) == []


FILTERS = [
    ({"color": "red"}, lambda m: m["color"] == "red"),
    ({"ok": True}, lambda m: m["ok"] is True),
    ({"ok": False}, lambda m: m["ok"] is False),
    ({"n": 42}, lambda m: m["n"] == 42),
    ({"price": 4.5}, lambda m: m["price"] == 4.5),
    ({"color": {"$in": ["red", "blue"]}}, lambda m: m["color"] in ("red", "blue")),
    ({"n": {"$in": [1, 2, 3, 250, 9999]}}, lambda m: m["n"] in (1, 2, 3, 250)),
    ({"color": {"$ne": "green"}}, lambda m: m["color"] != "green"),
    ({"ok": {"$ne": True}}, lambda m: m["ok"] is not True),
    ({"n": {"$gt": 250}}, lambda m: m["n"] > 250),
    ({"n": {"$gte": 250}}, lambda m: m["n"] >= 250),
    ({"n": {"$lt": 20}}, lambda m: m["n"] < 20),
    ({"n": {"$lte": 20}}, lambda m: m["n"] <= 20),
    ({"price": {"$gt": 6.0, "$lte": 12}}, lambda m: 6.0 < m["price"] <= 12),
    ({"$and": [{"color": "red"}, {"n": {"$lt": 100}}]}, lambda m: m["color"] == "red" and m["n"] < 100),
    ({"$or": [{"tag": "t3"}, {"n": {"$gte": 290}}]}, lambda m: m["tag"] == "t3" or m["n"] >= 290),
    ({"$and": [{"$or": [{"color": "red"}, {"color": "blue"}]}, {"ok": True}, {"tag": {"$ne": "t0"}}]},
     lambda m: m["color"] in ("red", "blue") and m["ok"] and m["tag"] != "t0"),
    ({"color": "red", "ok": True}, lambda m: m["color"] == "red" and m["ok"] is True),
    ({"color": "purple"}, lambda m: False),
    ({"nosuchfield": 1}, lambda m: False),
]


def test_filters(s):
    pts = setup_coll(s, "s_dot", "dot", pts=make_points(1))
    by_id = {p["id"]: p for p in pts}
    q = rand_vec(random.Random(5))
    for flt, pred in FILTERS:
        for k in (5, N):
            want = reference("dot", q, pts, k, pred)
            got = search(s, "s_dot", {"vector": q, "k": k, "filter": flt})
            for h in got:
                assert pred(by_id[h["id"]]["metadata"]), "filter %r returned non-matching %s" % (flt, h["id"])
            check_against("dot", got, want, by_id, q, "filter %r k=%d" % (flt, k))


def test_filter_nesting_limit_as_documented(s):
    """docs/API.md: through REST, 10 levels of $and/$or (with a condition at
    the bottom) fit the 24-level body limit; 11 are refused with 400."""
    setup_coll(s, "s_dot", "dot", pts=make_points(1))
    q = rand_vec(random.Random(5))

    def nested(levels):
        f = {"n": 7}
        for _ in range(levels):
            f = {"$and": [f]}
        return f
    got = search(s, "s_dot", {"vector": q, "k": 3, "filter": nested(10)})
    assert [h["id"] for h in got] == ["p0007"], got
    expect_error(search(s, "s_dot", {"vector": q, "k": 3, "filter": nested(11)}, status=400), 400,
                 "invalid_argument", mentions="24 levels")


def test_filter_compares_big_integers_exactly(s):
    """An integer beyond 2^53 is compared with a decimal filter value
    exactly, not after rounding it to a double (docs/API.md)."""
    name = "s_bigint"
    expect(s.http.put("/collections/" + name, {"dimension": 2, "metric": "l2", "index": {"type": "flat"}}), 201)
    expect(s.http.post("/collections/%s/points" % name, {"points": [
        {"id": "above", "vector": [1, 2], "metadata": {"y": 9007199254740993}},
        {"id": "at", "vector": [1, 2], "metadata": {"y": 9007199254740992}}]}), 200)
    for flt, want in (({"y": 9007199254740992.0}, ["at"]),
                      ({"y": {"$gt": 9007199254740992.0}}, ["above"]),
                      ({"y": {"$lte": 9007199254740992.0}}, ["at"]),
                      ({"y": 9007199254740993}, ["above"])):
        got = search(s, name, {"vector": [1, 2], "k": 5, "filter": flt})
        assert sorted(h["id"] for h in got) == want, (flt, got)
    expect(s.http.delete("/collections/" + name), 200)


def test_selective_filter_returns_k(s):
    rng = random.Random(7)
    n = 2000
    pts = [{"id": "h%05d" % i, "vector": rand_vec(rng, 16), "metadata": {"rare": i % 150 == 0, "i": i}}
           for i in range(n)]
    matching = sum(1 for p in pts if p["metadata"]["rare"])  # 14
    by_id = {p["id"]: p for p in pts}
    for itype in ("flat", "hnsw"):
        name = "s_sel_" + itype
        expect(s.http.put("/collections/" + name, {"dimension": 16, "metric": "cosine",
                                                   "index": {"type": itype, "m": 8, "ef_construction": 64}}), 201)
        for i in range(0, n, 500):
            expect(s.http.post("/collections/%s/points" % name, {"points": pts[i:i + 500]}), 200)
        for qi in range(5):
            q = rand_vec(rng, 16)
            got = search(s, name, {"vector": q, "k": 10, "filter": {"rare": True}})
            assert len(got) == 10, "%s: %d results with %d matching points, want 10" % (itype, len(got), matching)
            assert all(by_id[h["id"]]["metadata"]["rare"] for h in got), got
            got = search(s, name, {"vector": q, "k": 20, "filter": {"rare": True}, "ef": 16})
            assert len(got) == matching, "%s: k=20, %d match: got %d" % (itype, matching, len(got))
            got = search(s, name, {"vector": q, "k": 10, "filter": {"rare": True}, "exact": True})
            check_against("cosine", got, reference("cosine", q, pts, 10, lambda m: m["rare"]), by_id, q,
                          "%s exact filtered" % itype)


def test_with_vector(s):
    pts = setup_coll(s, "s_l2", "l2", pts=make_points(1))
    by_id = {p["id"]: p for p in pts}
    got = search(s, "s_l2", {"vector": pts[0]["vector"], "k": 4, "with_vector": True})
    for h in got:
        v = h.get("vector")
        assert isinstance(v, list) and len(v) == DIM, "with_vector: %r" % (h,)
        want = by_id[h["id"]]["vector"]
        assert all(struct.pack("<f", a) == struct.pack("<f", b) for a, b in zip(v, want)), (h["id"], v, want)
    got = search(s, "s_l2", {"vector": pts[0]["vector"], "k": 4})
    assert all(h.get("vector") is None for h in got), "vector returned without with_vector: %r" % got[0]


def test_bad_parameters(s):
    setup_coll(s, "s_cosine", "cosine", pts=make_points(1))
    q = [0.5] * DIM
    for k in (0, -1, 1001, "5", 2.5, True, [5]):
        expect_error(search(s, "s_cosine", {"vector": q, "k": k}, status=400), 400, mentions="k", what="k=%r" % (k,))
    for v, what in (([0.5] * (DIM - 1), "short"), ([0.5] * (DIM + 1), "long"), ([], "empty"),
                    ([1e39] + [0.0] * (DIM - 1), "overflow"), ("abc", "string")):
        expect_error(search(s, "s_cosine", {"vector": v, "k": 3}, status=400), 400,
                     mentions=("vector", "dimension"), what="query %s" % what)
    expect_error(search(s, "s_cosine", {"k": 3}, status=400), 400, mentions=("vector", "text"), what="no query")
    for flt in ({"n": {"$bogus": 1}}, {"$or": {"n": 1}}, {"n": {"$in": 5}}, {"n": {"$gt": [1]}}, [1]):
        expect_error(search(s, "s_cosine", {"vector": q, "k": 3, "filter": flt}, status=400), 400,
                     what="filter %r" % (flt,))
    for ef in (0, -5, 10001, "x"):
        expect_error(search(s, "s_cosine", {"vector": q, "k": 3, "ef": ef}, status=400), 400, mentions="ef",
                     what="ef=%r" % (ef,))
    expect_error(search(s, "s_missing_coll", {"vector": q, "k": 3}, status=404), 404, "not_found")


def test_exact_flag_accepted(s):
    pts = setup_coll(s, "s_cosine", "cosine", pts=make_points(1))
    by_id = {p["id"]: p for p in pts}
    q = rand_vec(random.Random(3))
    got = search(s, "s_cosine", {"vector": q, "k": 7, "exact": True, "ef": 100})
    check_against("cosine", got, reference("cosine", q, pts, 7), by_id, q, "exact")


def test_hnsw_collection_answers(s):
    pts = make_points(2)
    by_id = {p["id"]: p for p in pts}
    expect(s.http.put("/collections/s_hnsw", {"dimension": DIM, "metric": "l2",
                                              "index": {"type": "hnsw", "m": 16, "ef_construction": 100}}), 201)
    expect(s.http.post("/collections/s_hnsw/points", {"points": pts}), 200)
    rng = random.Random(11)
    for _ in range(5):
        q = rand_vec(rng)
        got = search(s, "s_hnsw", {"vector": q, "k": 10, "ef": 64})
        assert len(got) == 10, got
        ids = [h["id"] for h in got]
        assert len(set(ids)) == 10, ids
        sc = [h["score"] for h in got]
        assert sc == sorted(sc), "hnsw l2 results not ascending: %r" % sc
        for h in got:
            assert abs(h["score"] - score("l2", q, by_id[h["id"]]["vector"])) <= TOL, h
        exact = search(s, "s_hnsw", {"vector": q, "k": 10, "exact": True})
        check_against("l2", exact, reference("l2", q, pts, 10), by_id, q, "hnsw exact=true")
    # Deleted points never come back from the index.
    expect(s.http.post("/collections/s_hnsw/points/delete", {"ids": ["p0000", "p0001"]}), 200)
    got = search(s, "s_hnsw", {"vector": pts[0]["vector"], "k": 50})
    assert not {"p0000", "p0001"} & {h["id"] for h in got}, "deleted point returned by hnsw search"


def test_used_index_tells_which_path_answered(s):
    """used_index: true when the graph answered, false for the exact scan
    (exact: true, a flat collection, fewer than 2 000 points)."""
    pts = make_points(3, n=2100)
    expect(s.http.put("/collections/s_used", {"dimension": DIM, "metric": "cosine",
                                              "index": {"type": "hnsw"}}), 201)
    for i in range(0, len(pts), 500):
        expect(s.http.post("/collections/s_used/points", {"points": pts[i:i + 500]}), 200, "upsert")
    q = rand_vec(random.Random(5))
    out = expect(s.http.post("/collections/s_used/search", {"vector": q, "k": 5}), 200)
    assert out.get("used_index") is True, out
    out = expect(s.http.post("/collections/s_used/search", {"vector": q, "k": 5, "exact": True}), 200)
    assert out.get("used_index") is False, out
    setup_coll(s, "s_cosine", "cosine", pts=make_points(1))
    out = expect(s.http.post("/collections/s_cosine/search", {"vector": q, "k": 5}), 200)
    assert out.get("used_index") is False, out


if __name__ == "__main__":
    vx.main(globals())
