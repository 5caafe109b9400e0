"""End-to-end tests of the embedding-model benchmark, POST /benchmark/models
(gateway → MODELS_BENCH → vectron-embed, embed-gateway/embed_bench.h): the
built-in use-lite model is measured (512 dimensions, timings, a contrast
between the two topic groups above 0.2), remote models are reported
unavailable with the reason (the harness strips provider keys), the body
selects models and rounds, and bad bodies are 400 naming the field."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "stubs"))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402
import embedproc  # noqa: E402

REMOTE = {"openai-small": "OPENAI_API_KEY", "cohere-english": "COHERE_API_KEY",
          "huggingface-bge": "HF_API_TOKEN"}
MEASURED = ("single_ms", "batch_ms", "texts_per_s", "contrast", "within", "cross")


def bench(s, body=None, **kw):
    return s.http.post("/benchmark/models", body, timeout=300, **kw)


def need_embed():
    if not vx.have_embed():
        raise vx.Skip("vectron-embed is not built")


def test_every_model_is_reported_use_lite_measured(s):
    need_embed()
    body = expect(bench(s), 200, "POST /benchmark/models without a body")
    assert body["default"] == "use-lite", body
    models = body["models"]
    listed = expect(s.http.get("/models"), 200)["models"]
    assert set(models) == set(listed), (sorted(models), sorted(listed))
    ul = models["use-lite"]
    assert ul["available"] is True and "reason" not in ul, ul
    assert ul["dimensions"] == 512, ul
    for k in MEASURED:
        assert isinstance(ul[k], (int, float)), (k, ul)
    assert ul["single_ms"] > 0 and ul["batch_ms"] > 0 and ul["texts_per_s"] > 0, ul
    assert ul["contrast"] > 0.2, ul
    assert abs(ul["contrast"] - (ul["within"] - ul["cross"])) < 1e-9, ul
    assert -1 <= ul["cross"] < ul["within"] <= 1, ul
    # 16 texts in one batch request: the rate follows from the batch time
    assert abs(ul["texts_per_s"] - 16000.0 / ul["batch_ms"]) <= 0.01 * ul["texts_per_s"], ul
    for mid, var in REMOTE.items():
        m = models[mid]
        assert m["available"] is False, m
        assert var in m["reason"], m
        for k in MEASURED:
            assert k not in m, (k, m)
        assert m["dimensions"] == listed[mid]["dimensions"], (m, listed[mid])


def test_named_models_and_repeats(s):
    need_embed()
    body = expect(bench(s, {"models": ["use-lite", "openai-small"], "repeats": 1}), 200)
    assert list(body["models"]) == ["use-lite", "openai-small"], body
    assert body["repeats"] == 1, body
    assert body["models"]["use-lite"]["contrast"] > 0.2, body
    assert body["models"]["openai-small"]["available"] is False, body
    # the model is deterministic: the same contrast on every run
    again = expect(bench(s, {"models": ["use-lite"]}), 200)
    assert again["repeats"] == 3, again
    assert abs(again["models"]["use-lite"]["contrast"] - body["models"]["use-lite"]["contrast"]) < 1e-9
    # other routes are untouched by a benchmark run
    expect(s.http.post("/embed", {"text": "still fine"}), 200)


def test_bad_bodies_are_400(s):
    need_embed()
    cases = [
        ({"repeats": 0}, "repeats"),
        ({"repeats": 21}, "repeats"),
        ({"repeats": "3"}, "repeats"),
        ({"models": "use-lite"}, "models"),
        ({"models": []}, "models"),
        ({"models": [5]}, "models[0]"),
        ({"models": ["use-lite", ""]}, "models[1]"),
        ({"models": ["x" * 65]}, "models[0]"),
        ({"model": ["use-lite"]}, "model"),
        ([1, 2], "object"),
    ]
    for body, field in cases:
        expect_error(bench(s, body), 400, mentions=field, what=repr(body)[:60])
    expect_error(bench(s, body="{not json"), 400, code="invalid_argument", what="malformed JSON")
    expect_error(bench(s, {"models": ["no-such-model"]}), 404, mentions="no-such-model")
    # the route takes POST only
    r = s.http.get("/benchmark/models")
    assert r.status == 405, r


@vx.fresh(embed=False)
def test_remote_models_are_really_called(s):
    """With keys and the HTTPS provider stub, remote models are measured:
    every round is 1 batch + 16 single requests to the provider (the cache
    is bypassed), and a provider that fails gives a failed run, not numbers."""
    need_embed()
    key = "sk-stub-bench-do-not-log"
    stub = embedproc.Stub(s.tmp, key)
    try:
        s.embed = embedproc.EmbedProc(vx.EMBED_BIN, s.embed_url, s.log_path("embed"), {
            "OPENAI_API_KEY": key, "COHERE_API_KEY": key,
            "VECTRON_OPENAI_BASE_URL": stub.base, "VECTRON_COHERE_BASE_URL": stub.base,
            "VECTRON_CA_FILE": stub.ca, "VECTRON_HTTP_TIMEOUT_MS": "3000",
            "VECTRON_HTTP_BACKOFF_MS": "20"})
        embedproc.wait_available(s.http, "openai-small")
        stub.mode()
        body = expect(bench(s, {"models": ["openai-small", "cohere-english"], "repeats": 2}), 200)
        for mid, dim in (("openai-small", 1536), ("cohere-english", 1024)):
            m = body["models"][mid]
            assert m["available"] is True and "reason" not in m, m
            assert m["dimensions"] == dim, m
            assert m["batch_ms"] > 0 and m["single_ms"] > 0, m
            assert -1 <= m["cross"] <= 1 and -1 <= m["within"] <= 1, m
            assert abs(m["contrast"] - (m["within"] - m["cross"])) < 1e-9, m
        stats = stub.control("stats")
        assert stats["requests"] == 2 * 2 * (1 + 16), stats
        # the provider fails every request: reported, the other model still measured
        stub.mode(mode="status", status=400)
        body = expect(bench(s, {"models": ["openai-small", "use-lite"], "repeats": 1}), 200)
        m = body["models"]["openai-small"]
        assert m["available"] is True and m["reason"].startswith("benchmark failed"), m
        assert "contrast" not in m, m
        assert key not in m["reason"], m
        assert body["models"]["use-lite"]["contrast"] > 0.2, body
    finally:
        stub.stop()


if __name__ == "__main__":
    vx.main(globals())
