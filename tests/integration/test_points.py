"""End-to-end tests of points (SPEC §3.1): upsert and get back bit-exact
float32 vectors and metadata of every JSON type, all-or-nothing batches,
vector and id validation, ids with '/' and UTF-8, delete by id / ids /
filter, and cursor paging that sees every point exactly once."""

import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error, quote_id  # noqa: E402


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def same_f32(got, sent):
    """True when got (a JSON number from the server) is bit-for-bit the float32 of sent."""
    return isinstance(got, (int, float)) and struct.pack("<f", float(got)) == struct.pack("<f", sent)


def make(s, name, dim, metric="cosine", itype="flat"):
    r = s.http.put("/collections/" + name, {"dimension": dim, "metric": metric, "index": {"type": itype}})
    expect(r, 201, "create " + name)


def upsert(s, coll, points, status=200):
    r = s.http.post("/collections/%s/points" % coll, {"points": points})
    if status == 200:
        body = expect(r, 200, "upsert")
        assert body == {"upserted": len(points)} or body.get("upserted") == len(points), body
        return body
    return r


def get(s, coll, pid):
    return s.http.get("/collections/%s/points/%s" % (coll, quote_id(pid)))


def count(s, coll):
    return expect(s.http.get("/collections/" + coll), 200)["count"]


def test_vectors_round_trip_bit_exact(s):
    vals = [0.1, 0.2, 0.3, 1.0 / 3.0, -2.5e10, 1e-30, 3.4e38, 0.0, -7.25, 123456.789]
    for metric in ("cosine", "dot", "l2"):
        coll = "pt_exact_" + metric
        make(s, coll, len(vals), metric)
        upsert(s, coll, [{"id": "v", "vector": vals}, {"id": "small", "vector": [0.1, 0.2, 0.3] + [0.0] * 7}])
        body = expect(get(s, coll, "v"), 200, "get")
        assert body["id"] == "v", body
        assert isinstance(body["vector"], list) and len(body["vector"]) == len(vals), body
        for i, (g, w) in enumerate(zip(body["vector"], vals)):
            assert same_f32(g, w), "%s: vector[%d] = %r, want float32(%r) = %r (bit-exact)" % (
                metric, i, g, w, f32(w))
        small = expect(get(s, coll, "small"), 200)["vector"]
        assert all(same_f32(g, w) for g, w in zip(small, [0.1, 0.2, 0.3])), \
            "%s: [0.1, 0.2, 0.3] came back as %r (normalised?)" % (metric, small[:3])


def test_decimal_rounds_once_to_float32(s):
    """A decimal just above (below) a float32 rounding midpoint comes back as
    the float above (below) it, as strtof would round it: not rounded to the
    midpoint double first and then to even."""
    make(s, "pt_round", 4, "l2")
    body = (b'{"points":[{"id":"r","vector":[1.000000059604644775390625000001,'
            b'-1.000000059604644775390624999999,1.000000059604644775390625,1.0000000596046448]}]}')
    expect(s.http.request("POST", "/collections/pt_round/points", body=body), 200)
    got = expect(get(s, "pt_round", "r"), 200)["vector"]
    want = [1 + 2 ** -23, -1.0, 1.0, 1 + 2 ** -23]  # above, below (negative), exactly on (to even), above
    assert len(got) == 4 and all(same_f32(g, w) for g, w in zip(got, want)), "vector %r, want %r" % (got, want)


def test_metadata_every_type_round_trips(s):
    make(s, "pt_meta", 2)
    meta = {"s": "str", "empty": "", "n": 42, "neg": -7, "f": 3.5, "big": 9007199254740991,
            "t": True, "fa": False, "z": None, "arr": [1, "a", True, None, [2.5]],
            "obj": {"x": {"y": [1, 2], "k": "v"}}, "u": "h\u00e9llo \u2713 \U0001F600", "q": "a\"b\\c\n"}
    upsert(s, "pt_meta", [{"id": "m", "vector": [1, 2], "metadata": meta}, {"id": "none", "vector": [1, 1]}])
    body = expect(get(s, "pt_meta", "m"), 200)
    assert body["metadata"] == meta, "metadata changed:\n got %r\nwant %r" % (body["metadata"], meta)
    for k in ("n", "neg", "big"):
        assert isinstance(body["metadata"][k], int), "integer %s came back as %r" % (k, body["metadata"][k])
    assert body["metadata"]["t"] is True and body["metadata"]["fa"] is False, body
    nm = expect(get(s, "pt_meta", "none"), 200)
    assert nm.get("metadata") in (None, {}), nm
    # Upsert replaces the whole point (vector and metadata).
    upsert(s, "pt_meta", [{"id": "m", "vector": [3, 4], "metadata": {"only": 1}}])
    body = expect(get(s, "pt_meta", "m"), 200)
    assert body["metadata"] == {"only": 1} and body["vector"] == [3.0, 4.0], body
    assert count(s, "pt_meta") == 2


def test_batch_is_all_or_nothing(s):
    make(s, "pt_atomic", 3)
    upsert(s, "pt_atomic", [{"id": "keep", "vector": [1, 1, 1]}])
    pts = [{"id": "a0", "vector": [1, 0, 0]}, {"id": "keep", "vector": [0, 0, 9]},
           {"id": "a2", "vector": [1, 0]}, {"id": "a3", "vector": [0, 1, 0]}]
    err = expect_error(upsert(s, "pt_atomic", pts, status=400), 400, what="3rd point has dimension 2")
    assert re.search(r"points\[2\]|index 2|point 2|#2\b", err["message"]), \
        "message does not name point index 2: %r" % err["message"]
    assert count(s, "pt_atomic") == 1, "count changed after a rejected batch"
    for pid in ("a0", "a3"):
        expect_error(get(s, "pt_atomic", pid), 404, what="%s written by a rejected batch" % pid)
    assert expect(get(s, "pt_atomic", "keep"), 200)["vector"] == [1.0, 1.0, 1.0], "existing point overwritten"


def test_dimension_error_names_the_point_that_differs_from_the_collection(s):
    """The first point having the wrong dimension must be blamed, not the
    second one that differs from it (the collection's dimension decides)."""
    make(s, "pt_dimfirst", 3)
    pts = [{"id": "a", "vector": [1, 2]}, {"id": "b", "vector": [1, 2, 3]}, {"id": "c", "vector": [4, 5, 6]}]
    err = expect_error(upsert(s, "pt_dimfirst", pts, status=400), 400, what="points[0] has dimension 2")
    assert "points[0]" in err["message"] and "3" in err["message"], err["message"]
    assert count(s, "pt_dimfirst") == 0


def test_bad_vectors_rejected(s):
    make(s, "pt_badvec", 3)
    cases = [
        ([1e39, 0, 0], "1e39 overflows float32"),
        ([-1e39, 0, 0], "-1e39 overflows float32"),
        (["NaN", 0, 0], "string element"),
        ([1, 2, None], "null element"),
        ([1, 2, [3]], "nested array"),
        ([], "empty vector"),
        ([1, 2, 3, 4], "too long"),
        ("1,2,3", "not an array"),
        ({"0": 1}, "object"),
    ]
    for vec, what in cases:
        r = upsert(s, "pt_badvec", [{"id": "ok", "vector": [1, 2, 3]}, {"id": "bad", "vector": vec}], status=400)
        err = expect_error(r, 400, what=what)
        assert re.search(r"points\[1\]|index 1|point 1|#1\b", err["message"]), \
            "%s: message does not name index 1: %r" % (what, err["message"])
    for raw in (b'{"points":[{"id":"x","vector":[NaN,0,0]}]}', b'{"points":[{"id":"x","vector":[Infinity,0,0]}]}'):
        expect_error(s.http.request("POST", "/collections/pt_badvec/points", body=raw), 400, what=raw.decode())
    expect_error(upsert(s, "pt_badvec", [{"id": "nov"}], status=400), 400, mentions=("vector", "text"),
                 what="no vector")
    expect_error(upsert(s, "pt_badvec", [], status=400), 400, mentions="points", what="empty batch")
    expect_error(s.http.post("/collections/pt_badvec/points", {"pts": []}), 400, mentions="points")
    assert count(s, "pt_badvec") == 0
    big = [{"id": "b%d" % i, "vector": [1, 2, 3]} for i in range(1001)]
    expect_error(upsert(s, "pt_badvec", big, status=400), 400, what="1001 points > VX_MAX_BATCH")
    assert count(s, "pt_badvec") == 0
    upsert(s, "pt_badvec", big[:1000])
    assert count(s, "pt_badvec") == 1000


def test_metadata_limits(s):
    make(s, "pt_metalim", 2)
    big = {"blob": "x" * 70000}  # > VX_MAX_METADATA_BYTES packed
    r = upsert(s, "pt_metalim", [{"id": "ok", "vector": [1, 2]}, {"id": "big", "vector": [1, 2], "metadata": big}],
               status=400)
    err = expect_error(r, 400, mentions="metadata", what="70 kB of metadata")
    assert re.search(r"points\[1\]|index 1|point 1|#1\b", err["message"]), err["message"]
    for meta in ([1, 2], "str", 5):
        expect_error(upsert(s, "pt_metalim", [{"id": "m", "vector": [1, 2], "metadata": meta}], status=400), 400,
                     mentions="metadata", what="metadata %r" % (meta,))
    assert count(s, "pt_metalim") == 0
    fits = {"blob": "y" * 60000}
    upsert(s, "pt_metalim", [{"id": "fits", "vector": [1, 2], "metadata": fits}])
    assert expect(get(s, "pt_metalim", "fits"), 200)["metadata"] == fits
    expect_error(s.http.get("/collections/pt_nocoll/points"), 404, "not_found", what="list missing collection")


def test_id_rules(s):
    make(s, "pt_ids", 2)
    for pid, what in (("", "empty"), ("x" * 257, "257 bytes"), ("\u00e9" * 128 + "a", "257 bytes of UTF-8"),
                      ("a\u0000b", "NUL"), (7, "number"), (None, "null")):
        expect_error(upsert(s, "pt_ids", [{"id": pid, "vector": [1, 2]}], status=400), 400,
                     mentions="id", what="id %s" % what)
    assert count(s, "pt_ids") == 0
    ids = ["x" * 256, "\u00e9" * 128, "a/b", "../../etc/passwd", "sp ace", "q?x=1&y#frag", "%2F", "\u65e5\u672c-\U0001F642",
           "tab\there"]
    upsert(s, "pt_ids", [{"id": pid, "vector": [float(i), 1.0], "metadata": {"i": i}} for i, pid in enumerate(ids)])
    assert count(s, "pt_ids") == len(ids)
    for i, pid in enumerate(ids):
        body = expect(get(s, "pt_ids", pid), 200, "get id %r" % pid)
        assert body["id"] == pid and body["metadata"] == {"i": i}, body
    expect(s.http.delete("/collections/pt_ids/points/" + quote_id("a/b")), 200, "delete id with /")
    expect_error(get(s, "pt_ids", "a/b"), 404)
    expect_error(get(s, "pt_ids", "a"), 404, what="'a' must not match the prefix of 'a/b'")


def test_delete_by_id(s):
    make(s, "pt_delid", 2)
    upsert(s, "pt_delid", [{"id": "a", "vector": [1, 0]}, {"id": "b", "vector": [0, 1]}])
    expect(s.http.delete("/collections/pt_delid/points/a"), 200, "delete")
    expect_error(get(s, "pt_delid", "a"), 404, "not_found")
    err = expect_error(s.http.delete("/collections/pt_delid/points/a"), 404, "not_found", what="delete twice")
    # the same words as a GET miss
    assert err["message"] == expect_error(get(s, "pt_delid", "a"), 404)["message"], err
    assert count(s, "pt_delid") == 1
    expect_error(s.http.delete("/collections/pt_nocoll/points/a"), 404, "not_found", what="missing collection")
    expect_error(get(s, "pt_nocoll", "a"), 404, "not_found")
    expect_error(upsert(s, "pt_nocoll", [{"id": "a", "vector": [1]}], status=404), 404, "not_found")


def test_delete_by_ids_and_filter(s):
    make(s, "pt_delmany", 2)
    pts = [{"id": "p%d" % i, "vector": [1, float(i)], "metadata": {"grp": "a" if i < 6 else "b", "i": i}}
           for i in range(10)]
    upsert(s, "pt_delmany", pts)
    body = expect(s.http.post("/collections/pt_delmany/points/delete", {"ids": ["p0", "p1", "nope"]}), 200)
    assert body.get("deleted") == 2, "deleted %r, want 2 (one id did not exist)" % (body,)
    assert count(s, "pt_delmany") == 8
    body = expect(s.http.post("/collections/pt_delmany/points/delete", {"filter": {"grp": "a"}}), 200)
    assert body.get("deleted") == 4, body
    body = expect(s.http.post("/collections/pt_delmany/points/delete", {"filter": {"i": {"$gte": 8}}}), 200)
    assert body.get("deleted") == 2, body
    left = sorted(p["id"] for p in list_all(s, "pt_delmany", 100))
    assert left == ["p6", "p7"], left
    body = expect(s.http.post("/collections/pt_delmany/points/delete", {"filter": {"grp": "zzz"}}), 200)
    assert body.get("deleted") == 0, body
    for bad in ({}, {"ids": "p6"}, {"ids": [1]}, {"filter": {"i": {"$bogus": 1}}}, {"ids": ["p6"], "filter": {}}):
        expect_error(s.http.post("/collections/pt_delmany/points/delete", bad), 400, what="delete body %r" % (bad,))
    assert count(s, "pt_delmany") == 2
    # an empty id list deletes nothing (and still 404s on a missing collection)
    body = expect(s.http.post("/collections/pt_delmany/points/delete", {"ids": []}), 200, "ids []")
    assert body.get("deleted") == 0, body
    assert count(s, "pt_delmany") == 2
    expect_error(s.http.post("/collections/pt_nosuch/points/delete", {"ids": []}), 404, "not_found",
                 what="ids [] on a missing collection")


def test_text_point_without_model_names_its_index(s):
    make(s, "pt_nomodel", 3)
    r = s.http.post("/collections/pt_nomodel/points",
                    {"points": [{"id": "x", "vector": [1, 2, 3]}, {"id": "y", "text": "hello"}]})
    expect_error(r, 400, "invalid_argument", mentions=["points[1].text"], what="text point, no model")
    assert count(s, "pt_nomodel") == 0


def list_page(s, coll, limit, cursor=None):
    q = "limit=%d" % limit
    if cursor is not None:
        q += "&cursor=" + quote_id(cursor)
    body = expect(s.http.get("/collections/%s/points?%s" % (coll, q)), 200, "list")
    assert isinstance(body.get("points"), list) and "next_cursor" in body, body
    assert len(body["points"]) <= limit, "page of %d > limit %d" % (len(body["points"]), limit)
    for p in body["points"]:
        assert "id" in p and "metadata" in p, p
    nc = body["next_cursor"]
    assert nc is None or (isinstance(nc, str) and nc), "next_cursor %r" % (nc,)
    return body["points"], nc


def list_all(s, coll, limit):
    out, cursor = [], None
    for _ in range(10000):
        pts, cursor = list_page(s, coll, limit, cursor)
        out.extend(pts)
        if cursor is None:
            return out
    raise AssertionError("listing never ended")


def test_list_pages_everything_once(s):
    make(s, "pt_list", 2)
    pts = [{"id": "id%03d" % i, "vector": [1, float(i)], "metadata": {"i": i}} for i in range(53)]
    upsert(s, "pt_list", pts)
    for limit in (1, 7, 53, 100):
        got = list_all(s, "pt_list", limit)
        ids = [p["id"] for p in got]
        assert len(ids) == len(set(ids)) == 53, "limit %d: %d ids, %d distinct" % (limit, len(ids), len(set(ids)))
        assert all(p["metadata"] == {"i": int(p["id"][2:])} for p in got), "metadata wrong in listing"
    assert [p["id"] for p in list_all(s, "pt_list", 7)] == [p["id"] for p in list_all(s, "pt_list", 10)], \
        "order is not stable"
    body = expect(s.http.get("/collections/pt_list/points"), 200, "default limit")
    assert len(body["points"]) == 53 and body["next_cursor"] is None, "default limit is 100"
    for q in ("limit=0", "limit=1001", "limit=x", "limit=-1", "cursor=garbage%00", "cursor=" + "z" * 600,
              "cursor=%00"):
        expect_error(s.http.get("/collections/pt_list/points?" + q), 400, what=q)
    # a cursor belongs to its collection: another one refuses it
    cur = list_page(s, "pt_list", 5)[1]
    make(s, "pt_list_other", 2)
    upsert(s, "pt_list_other", [{"id": "o%d" % i, "vector": [1, float(i)]} for i in range(10)])
    expect_error(s.http.get("/collections/pt_list_other/points?limit=5&cursor=" + quote_id(cur)), 400,
                 mentions="cursor")


def test_list_with_writes_between_pages(s):
    make(s, "pt_list2", 2)
    upsert(s, "pt_list2", [{"id": "k%02d" % i, "vector": [1, float(i)]} for i in range(40)])
    order = [p["id"] for p in list_all(s, "pt_list2", 100)]
    seen = []
    pts, cursor = list_page(s, "pt_list2", 10)
    seen += [p["id"] for p in pts]
    unseen = [i for i in order if i not in seen]
    deleted = {seen[0], seen[5], unseen[0], unseen[10]}
    body = expect(s.http.post("/collections/pt_list2/points/delete", {"ids": sorted(deleted)}), 200)
    assert body.get("deleted") == 4, body
    upsert(s, "pt_list2", [{"id": "new%d" % i, "vector": [2, float(i)]} for i in range(5)])
    upsert(s, "pt_list2", [{"id": unseen[3], "vector": [5, 5]}])  # an update must not move it twice
    while cursor is not None:
        pts, cursor = list_page(s, "pt_list2", 10, cursor)
        seen += [p["id"] for p in pts]
    assert len(seen) == len(set(seen)), "a point was listed twice: %r" % [i for i in seen if seen.count(i) > 1]
    for pid in order:
        if pid not in deleted:
            assert pid in seen, "%s existed during the whole listing but was skipped" % pid
    for pid in (unseen[0], unseen[10]):
        assert pid not in seen, "%s was deleted before its page but was listed" % pid


if __name__ == "__main__":
    vx.main(globals())
