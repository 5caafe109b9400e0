"""End-to-end tests of the Vectron-compatible routes (SPEC §3.2): the exact
JSON shapes of /vector, /vectors, /search/vector, /health and /benchmark on
the `default` collection, and the text routes — with the embed service
(real USE-lite embeddings) and without it (503, nothing stored)."""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vxharness as vx  # noqa: E402
import vxwire  # noqa: E402
from vxharness import expect, expect_error, quote_id  # noqa: E402

REMOTE_MODELS = ("openai-small", "cohere-english", "huggingface-bge")


def cos(a, b):
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def check_msg(body, success):
    assert body.get("success") is success, "success must be %r: %r" % (success, body)
    assert isinstance(body.get("message"), str) and body["message"], "message missing: %r" % (body,)


@vx.fresh
def test_root_and_vector_crud(s):
    r = s.http.get("/")
    assert r.status == 200 and r.headers.get("content-type", "").startswith("text/"), r
    assert r.text.strip(), "empty greeting"
    # Nothing yet: no default collection, empty id list.
    assert expect(s.http.get("/vectors"), 200) == [], "GET /vectors on a fresh install"
    body = expect(s.http.post("/vector", {"id": "a", "vector": [1, 0, 0]}), 200, "first write")
    check_msg(body, True)
    assert body["count"] == 1, body
    info = expect(s.http.get("/collections/default"), 200, "default created by the first write")
    assert info["dimension"] == 3 and info["metric"] == "cosine", info
    body = expect(s.http.post("/vector", {"id": "b/c", "vector": [0.6, 0.8, 0]}), 200)
    assert body["count"] == 2, body
    body = expect(s.http.post("/vector", {"id": "a", "vector": [0.1, 0.2, 0.3]}), 200, "overwrite")
    assert body["count"] == 2, body

    body = expect(s.http.get("/vector/a"), 200)
    assert set(body) >= {"id", "vector", "success", "message"}, body
    assert body["id"] == "a" and [round(x, 6) for x in body["vector"]] == [0.1, 0.2, 0.3], body
    check_msg(body, True)
    assert expect(s.http.get("/vector/" + quote_id("b/c")), 200)["id"] == "b/c"
    r = s.http.get("/vector/missing")
    assert r.status == 404, r
    body = r.json
    assert body.get("id") == "missing" and "vector" in body and body["vector"] is None, body
    check_msg(body, False)

    ids = expect(s.http.get("/vectors"), 200)
    assert isinstance(ids, list) and sorted(ids) == ["a", "b/c"], ids

    body = expect(s.http.delete("/vector/a"), 200)
    check_msg(body, True)
    assert body["count"] == 1, body
    r = s.http.delete("/vector/a")
    assert r.status == 404, r
    check_msg(r.json, False)
    assert expect(s.http.get("/vectors"), 200) == ["b/c"]
    # Bad input is 400, and the dimension of default is now fixed.
    for bad in ({"id": "x", "vector": [1, 2]}, {"id": "", "vector": [1, 2, 3]}, {"vector": [1, 2, 3]},
                {"id": "x"}, {"id": "x", "vector": [1e39, 0, 0]}):
        r = s.http.post("/vector", bad)
        assert r.status == 400, "POST /vector %r: %r" % (bad, r)
    assert expect(s.http.get("/vectors"), 200) == ["b/c"], "a rejected /vector wrote something"


@vx.fresh
def test_search_vector_bare_array(s):
    vecs = {"x": [1, 0, 0], "y": [0.9, 0.1, 0], "z": [0, 1, 0], "w": [-1, 0, 0]}
    for pid, v in vecs.items():
        expect(s.http.post("/vector", {"id": pid, "vector": v}), 200)
    q = [1, 0.05, 0]
    want = sorted(vecs, key=lambda i: -cos(q, vecs[i]))
    got = expect(s.http.post("/search/vector?top_k=2", {"vector": q, "top_k": 4}), 200)
    assert isinstance(got, list), "must be a bare array: %r" % (got,)
    assert [h["id"] for h in got] == want[:2], "query top_k wins; best first: %r" % got
    for h in got:
        assert set(h) >= {"id", "score"}, h
        assert abs(h["score"] - cos(q, vecs[h["id"]])) < 1e-4, h
    got = expect(s.http.post("/search/vector", {"vector": q, "top_k": 3}), 200)
    assert [h["id"] for h in got] == want[:3], got
    # the query's top_k wins outright: a body top_k it overrides is not judged
    for body_k in (5000, "bad", None):
        got = expect(s.http.post("/search/vector?top_k=2", {"vector": q, "top_k": body_k}), 200)
        assert [h["id"] for h in got] == want[:2], got
    expect_error(s.http.post("/search/vector", {"vector": q, "top_k": "bad"}), 400, mentions="top_k")
    got = expect(s.http.post("/search/vector?top_k=10", {"vector": q}), 200)
    assert [h["id"] for h in got] == want, got
    for bad in ("?top_k=0", "?top_k=abc", "?top_k=1001"):
        r = s.http.post("/search/vector" + bad, {"vector": q})
        assert r.status == 400, "%s: %r" % (bad, r)
    assert s.http.post("/search/vector?top_k=2", {"vector": [1, 0]}).status == 400, "wrong dimension"


@vx.fresh
def test_search_vector_without_default(s):
    r = s.http.post("/search/vector?top_k=2", {"vector": [1, 0, 0]})
    assert r.status in (200, 404), "search before any write: %r" % r
    if r.status == 200:
        assert r.json == [], r
    else:
        expect_error(r, 404, "not_found")
    r = s.http.get("/vector/nothing")
    assert r.status == 404 and r.json.get("success") is False, "GET /vector before any write: %r" % r


def test_health_shape(s):
    body = expect(s.http.get("/health"), 200)
    assert body.get("status") in ("ok", "degraded"), body
    assert isinstance(body.get("version"), str) and body["version"], body
    svc = body.get("services")
    assert isinstance(svc, dict) and "store" in svc and "embed" in svc, body
    if s.embed is not None:
        assert body["status"] == "ok", "all services up but status %r" % body


@vx.fresh(embed=False)
def test_health_degraded_without_embed(s):
    r = s.http.get("/health")
    assert r.status in (200, 503), r
    body = r.json
    assert body.get("status") == "degraded", "embed is not running but status %r" % body
    svc = body["services"]
    assert svc["embed"] != svc["store"], "embed down and store up must differ in services: %r" % body


def bench_sections(body, n, searches):
    for sec in ("params", "insert", "search", "persistence"):
        assert sec in body, "benchmark lacks %r: %r" % (sec, list(body))
    for sec in ("insert", "search", "persistence"):
        b = body[sec]
        if sec == "persistence" and not body["params"].get("test_persistence"):
            assert b is None or b.get("operations") == 0, "persistence ran though not asked: %r" % (b,)
            continue
        assert isinstance(b, dict), "%s section: %r" % (sec, b)
        assert set(b) >= {"name", "total_time_ms", "avg_time_ms", "operations"}, (sec, b)
        assert isinstance(b["name"], str) and b["total_time_ms"] >= 0 and b["avg_time_ms"] >= 0, b
    assert body["insert"]["operations"] == n, body["insert"]
    assert body["search"]["operations"] == searches, body["search"]
    assert body["insert"]["total_time_ms"] > 0, body["insert"]


def collections_state(s):
    cols = expect(s.http.get("/collections"), 200)["collections"]
    return sorted((c["name"], c["count"], c["dimension"]) for c in cols)


def test_benchmark_does_not_touch_user_data(s):
    expect(s.http.post("/vector", {"id": "u1", "vector": [0.3, 0.4, 0.5]}), 200)
    expect(s.http.put("/collections/bench_user", {"dimension": 16, "metric": "l2"}), 201)
    before = collections_state(s)
    default_ids = expect(s.http.get("/vectors"), 200)
    body = expect(s.http.post("/benchmark", {"vector_count": 300, "dimension": 16, "search_count": 25,
                                              "test_persistence": False}), 200, "benchmark")
    bench_sections(body, 300, 25)
    assert body["params"].get("vector_count") == 300 and body["params"].get("dimension") == 16, body["params"]
    body = expect(s.http.post("/benchmark", {"vector_count": 100, "dimension": 8, "search_count": 5,
                                              "test_persistence": True}), 200, "benchmark with persistence")
    bench_sections(body, 100, 5)
    assert body["persistence"]["operations"] > 0, body["persistence"]
    assert collections_state(s) == before, "benchmark changed user collections"
    assert expect(s.http.get("/vectors"), 200) == default_ids
    assert expect(s.http.get("/vector/u1"), 200)["vector"][0] > 0.29


def test_benchmark_removes_scratch_left_by_a_crash(s):
    """A run killed with the store or gateway leaves its logged scratch
    collection behind; the next run removes it. Users cannot create such
    names (PUT refuses the reserved prefix), so the sweep never meets theirs."""
    expect_error(s.http.put("/collections/_vx_bench_0123456789abcdef", {"dimension": 2}), 400,
                 mentions="reserved")
    expect(s.http.put("/collections/_vx_benchmine", {"dimension": 2}), 201)  # only the exact pattern is ours
    # the name carries its creation time (unix seconds, 8 hex): a young one
    # may be another gateway's run in flight on the same store and stays
    young = "_vx_bench_%08x0000beef" % int(time.time())
    c = vxwire.ReqClient(s.store_url)
    try:  # what a run cut short leaves: made straight on the store
        for name in ("_vx_bench_00000000deadbeef", young):
            rep = c.call(10, {"name": name, "dimension": 4, "metric": "cosine",
                              "index": {"type": "flat", "m": 16, "ef_construction": 200}})
            assert rep[3] == 0, rep
    finally:
        c.close()
    names = lambda: [x["name"] for x in expect(s.http.get("/collections"), 200)["collections"]]  # noqa: E731
    assert "_vx_bench_00000000deadbeef" in names()
    expect(s.http.post("/benchmark", {"vector_count": 50, "dimension": 4, "search_count": 5}), 200)
    left = names()
    assert "_vx_bench_00000000deadbeef" not in left and "_vx_benchmine" in left, left
    assert [n for n in left if n.startswith("_vx_bench_")] == [young], left
    expect(s.http.delete("/collections/_vx_benchmine"), 200)
    expect(s.http.delete("/collections/" + young), 200)


def test_benchmark_limits(s):
    before = collections_state(s)
    for bad in ({"vector_count": 10 ** 9}, {"vector_count": 100, "dimension": 10 ** 6}, {"vector_count": -1},
                {"dimension": 0}, {"search_count": 10 ** 9}, {"vector_count": "many"}):
        expect_error(s.http.post("/benchmark", bad), 400, what="benchmark %r" % (bad,))
    assert collections_state(s) == before


# ---- text routes --------------------------------------------------------

DOCS = {
    "cat": "The cat sat on the mat and purred happily.",
    "stocks": "Stock markets fell sharply today amid fears of inflation.",
    "recipe": "Mix two cups of flour with eggs and sugar, then bake the cake for thirty minutes.",
    "football": "The football team won the championship final in extra time.",
    "weather": "Heavy rain and strong winds are expected across the coast tomorrow.",
}


def need_embed(s):
    if s.embed is None:
        raise vx.Skip("vectron-embed is not built; text routes with a model not exercised")


def test_models(s):
    need_embed(s)
    body = expect(s.http.get("/models"), 200)
    assert body.get("default") == "use-lite", body
    models = body.get("models")
    assert isinstance(models, dict) and "use-lite" in models, body
    ul = models["use-lite"]
    assert set(ul) >= {"provider", "model_name", "dimensions", "is_remote", "available"}, ul
    assert ul["dimensions"] == 512 and ul["available"] is True and ul["is_remote"] is False, ul
    for mid in REMOTE_MODELS:
        assert mid in models, "%s missing from /models" % mid
        assert models[mid]["is_remote"] is True and models[mid]["available"] is False, (mid, models[mid])


def test_embed_and_batch(s):
    need_embed(s)
    body = expect(s.http.post("/embed", {"text": "hello world"}), 200)
    assert set(body) >= {"text", "embedding", "dimensions", "model", "success", "message"}, body
    assert body["text"] == "hello world" and body["success"] is True and body["model"] == "use-lite", body
    e = body["embedding"]
    assert len(e) == 512 == body["dimensions"], len(e)
    assert abs(math.sqrt(sum(x * x for x in e)) - 1.0) < 1e-3, "not unit length"
    again = expect(s.http.post("/embed", {"text": "hello world", "model": "use-lite"}), 200)["embedding"]
    assert max(abs(a - b) for a, b in zip(e, again)) < 1e-6, "embedding is not deterministic"
    texts = ["hello world", "a completely different sentence", "caf\u00e9 \u65e5\u672c \U0001F600"]
    body = expect(s.http.post("/batch-embed", {"texts": texts}), 200)
    assert set(body) >= {"embeddings", "dimensions", "count", "model", "processing_time_ms"}, body
    assert body["count"] == 3 and len(body["embeddings"]) == 3 and body["dimensions"] == 512, body
    assert max(abs(a - b) for a, b in zip(body["embeddings"][0], e)) < 1e-5, "batch differs from single"
    assert cos(body["embeddings"][0], body["embeddings"][1]) < 0.99
    r = s.http.post("/embed", {"text": "x", "model": "openai-small"})
    assert r.status in (503, 502), "remote model without a key: %r" % r
    r = s.http.post("/embed", {"text": "x", "model": "no-such-model"})
    assert r.status in (400, 404), "unknown model: %r" % r
    expect_error(r, r.status, mentions="model")
    expect_error(s.http.post("/embed", {}), 400, mentions="text")
    expect_error(s.http.post("/batch-embed", {"texts": ["a"] * 257}), 400, mentions="texts")


@vx.fresh
def test_upsert_text_and_search_text(s):
    need_embed(s)
    for pid, text in DOCS.items():
        body = expect(s.http.post("/upsert-text", {"id": pid, "text": text}), 200, "upsert-text")
        check_msg(body, True)
    assert body["count"] == len(DOCS), body
    assert expect(s.http.get("/collections/default"), 200)["dimension"] == 512
    for query, want in (("A kitten is sleeping on the rug.", "cat"),
                        ("How do I bake a chocolate cake?", "recipe"),
                        ("The soccer club celebrated their victory.", "football")):
        body = expect(s.http.post("/search/text?top_k=3", {"text": query, "top_k": 5}), 200)
        assert set(body) >= {"results", "query", "success", "message"} and body["success"] is True, body
        assert body["query"] == query, body
        res = body["results"]
        assert len(res) == 3, "query top_k wins: %r" % res
        assert res[0]["id"] == want, "%r ranked %r first, want %r" % (query, [h["id"] for h in res], want)
        assert res[0]["score"] > res[1]["score"], res
    # /vector of another dimension into the 512-d default names its vector;
    # /upsert-text into a default of another dimension names the text
    expect_error(s.http.post("/vector", {"id": "v3", "vector": [1, 2, 3]}), 400, mentions="vector: dimension 3")
    expect(s.http.delete("/collections/default"), 200)
    expect(s.http.post("/vector", {"id": "v3", "vector": [1, 2, 3]}), 200)
    err = expect_error(s.http.post("/upsert-text", {"id": "t", "text": "hello"}), 400, mentions="text")
    assert "points[0]" not in err["message"] and not err["message"].startswith("vector"), err
    # and so does /search/text
    err = expect_error(s.http.post("/search/text", {"text": "hello"}), 400, mentions="text (its embedding)")
    assert not err["message"].startswith("vector"), err


@vx.fresh
def test_text_collection_with_model(s):
    need_embed(s)
    expect(s.http.put("/collections/txt", {"dimension": 512, "metric": "cosine", "model": "use-lite"}), 201)
    pts = [{"id": k, "text": v, "metadata": {"k": k}} for k, v in DOCS.items()]
    expect(s.http.post("/collections/txt/points", {"points": pts}), 200)
    res = expect(s.http.post("/collections/txt/search", {"text": "rain and storms tomorrow", "k": 2}), 200)["results"]
    assert res[0]["id"] == "weather", res
    # All-or-nothing with text too: one text over VX_MAX_TEXT_LEN fails the batch.
    r = s.http.post("/collections/txt/points", {"points": [{"id": "t_ok", "text": "fine"},
                                                           {"id": "t_big", "text": "w " * 40000}]})
    expect_error(r, 400, what="text of 80 kB")
    expect_error(s.http.get("/collections/txt/points/t_ok"), 404, what="t_ok written by a rejected batch")
    assert expect(s.http.get("/collections/txt"), 200)["count"] == len(DOCS)
    # A collection without a model cannot take text.
    expect(s.http.put("/collections/notxt", {"dimension": 512, "metric": "cosine"}), 201)
    expect_error(s.http.post("/collections/notxt/points", {"points": [{"id": "a", "text": "hi"}]}), 400,
                 mentions=("model", "text"))


@vx.fresh(embed=False)
def test_text_routes_without_embed_service(s):
    assert s.embed is None
    for path, body in (("/embed", {"text": "hi"}), ("/batch-embed", {"texts": ["hi"]}),
                       ("/upsert-text", {"id": "t1", "text": "hi"}), ("/search/text?top_k=2", {"text": "hi"}),
                       ("/models", None)):
        r = s.http.get(path) if body is None else s.http.post(path, body)
        expect_error(r, 503, what=path)
    assert expect(s.http.get("/vectors"), 200) == [], "upsert-text without embedding stored something"
    expect_error(s.http.get("/collections/default"), 404, what="default must not be created by a failed text write")
    # Vector routes keep working without the embed service.
    expect(s.http.post("/vector", {"id": "v", "vector": [1, 2]}), 200)
    assert expect(s.http.get("/vectors"), 200) == ["v"]


if __name__ == "__main__":
    vx.main(globals())
