"""End-to-end tests of the remote embedding providers (SPEC §5) through the
gateway: /embed, /batch-embed and /upsert-text with openai-small,
cohere-english and huggingface-bge while vectron-embed's base URLs point at
a local HTTPS stub speaking the providers' real formats
(tests/stubs/provider_stub.py, certificate made for this run). Covers the
exact vectors, the request formats the stub received, retries on 429/5xx,
timeouts (504), malformed / wrong-dimension / oversize answers (502), a
missing key (503) and that the key never appears in any log."""

import atexit
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "stubs"))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402
import embedproc  # noqa: E402

KEY = "sk-stub-7Qx9-do-not-log"
STUB = None


def embed_env(stub):
    return {
        "OPENAI_API_KEY": KEY, "COHERE_API_KEY": KEY, "HF_API_TOKEN": KEY,
        "VECTRON_OPENAI_BASE_URL": stub.base, "VECTRON_COHERE_BASE_URL": stub.base,
        "VECTRON_HF_BASE_URL": stub.base, "VECTRON_CA_FILE": stub.ca,
        "VECTRON_HTTP_TIMEOUT_MS": "1500", "VECTRON_HTTP_BACKOFF_MS": "20",
        "VECTRON_HTTP_MAX_RESPONSE_KB": "1024",
    }


def on_start(s):
    global STUB
    if not vx.have_embed():
        raise vx.StartError("vectron-embed is not built")
    if STUB is None:
        STUB = embedproc.Stub(s.tmp, KEY)
        atexit.register(STUB.stop)
    s.embed = embedproc.EmbedProc(vx.EMBED_BIN, s.embed_url, s.log_path("embed"), embed_env(STUB))
    embedproc.wait_available(s.http, "openai-small")


def close(a, b, tol=1e-6):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def test_models_lists_remote_models_as_available(s):
    body = expect(s.http.get("/models"), 200)
    for mid, dim in (("openai-small", 1536), ("cohere-english", 1024), ("huggingface-bge", 384)):
        m = body["models"][mid]
        assert m["available"] is True and m["is_remote"] is True and m["dimensions"] == dim, (mid, m)


def test_openai_embed_matches_stub_and_sends_real_format(s):
    STUB.mode()
    text = "hello stub, openai"
    body = expect(s.http.post("/embed", {"text": text, "model": "openai-small"}), 200)
    assert body["model"] == "openai-small" and body["dimensions"] == 1536, body
    assert close(body["embedding"], embedproc.stub_vector(text, 1536)), "vector differs from the stub's"
    st = STUB.control("stats")
    last = st["last"]
    assert last["route"] == "openai" and last["path"] == "/v1/embeddings", last
    assert last["body"] == {"model": "text-embedding-3-small", "input": [text]}, last["body"]
    assert last["auth_ok"] is True and last["content_type"] == "application/json", last
    # the same text again comes from the cache: the stub is not asked
    expect(s.http.post("/embed", {"text": text, "model": "openai-small"}), 200)
    assert STUB.control("stats")["requests"] == 1


def test_batch_embed_cohere_and_huggingface(s):
    texts = ["batch one", "the second text", "drei"]
    for mid, dim, route in (("cohere-english", 1024, "cohere"), ("huggingface-bge", 384, "huggingface")):
        STUB.mode()
        body = expect(s.http.post("/batch-embed", {"texts": texts, "model": mid}), 200, mid)
        assert body["count"] == 3 and body["dimensions"] == dim, body
        for t, v in zip(texts, body["embeddings"]):
            assert close(v, embedproc.stub_vector(t, dim)), "%s: vector of %r differs" % (mid, t)
        last = STUB.control("stats")["last"]
        assert last["route"] == route, last
        if route == "cohere":
            assert last["body"] == {"model": "embed-english-v3.0", "texts": texts,
                                    "input_type": "search_document"}, last["body"]
        else:
            assert last["path"] == "/pipeline/feature-extraction/BAAI/bge-small-en-v1.5", last
            assert last["body"] == {"inputs": texts}, last["body"]


def test_huggingface_token_level_output_is_mean_pooled(s):
    STUB.mode(mode="token_level")
    text = "token level please"
    body = expect(s.http.post("/embed", {"text": text, "model": "huggingface-bge"}), 200)
    assert close(body["embedding"], embedproc.stub_vector(text, 384), 1e-5)


def test_429_with_retry_after_then_success(s):
    STUB.mode(mode="status", status=429, retry_after=1, times=1)
    text = "rate limited once"
    body = expect(s.http.post("/embed", {"text": text, "model": "openai-small"}), 200)
    assert close(body["embedding"], embedproc.stub_vector(text, 1536))
    assert STUB.control("stats")["requests"] == 2


def test_500_then_success(s):
    STUB.mode(mode="status", status=500, times=2)
    text = "flaky upstream"
    body = expect(s.http.post("/embed", {"text": text, "model": "cohere-english"}), 200)
    assert close(body["embedding"], embedproc.stub_vector(text, 1024))
    assert STUB.control("stats")["requests"] == 3


def provider_errors(s):
    r = s.http.get("/metrics")
    assert r.status == 200, r
    for line in r.text.splitlines():
        if line.startswith("vectron_embed_provider_errors_total "):
            return float(line.split()[1])
    raise AssertionError("vectron_embed_provider_errors_total is not reported (docs/SECURITY.md)")


def test_persistent_503_is_bad_gateway_after_bounded_retries(s):
    STUB.mode(mode="status", status=503)
    before = provider_errors(s)
    r = s.http.post("/embed", {"text": "always down", "model": "cohere-english"})
    expect_error(r, 502, "bad_gateway", mentions="cohere")
    assert STUB.control("stats")["requests"] == 3
    # one failed call (after its retries), in the metrics
    assert provider_errors(s) == before + 1, (before, provider_errors(s))


def test_bad_answers_are_502_naming_the_provider(s):
    for mode, mention in (("malformed", "json"), ("wrong_dim", "dimensions"), ("wrong_count", "expected 1"),
                          ("nonfinite", "finite"), ("oversize", "larger than")):
        STUB.mode(mode=mode, size=2 << 20)
        r = s.http.post("/embed", {"text": "bad answer " + mode, "model": "openai-small"})
        err = expect_error(r, 502, "bad_gateway", mentions=mention, what=mode)
        assert "openai" in err["message"], err


def test_slow_provider_is_504(s):
    STUB.mode(mode="slow", delay=4)
    r = s.http.post("/embed", {"text": "very slow", "model": "huggingface-bge"})
    expect_error(r, 504, "backend_timeout", mentions="huggingface")


def test_failed_text_upsert_stores_nothing(s):
    STUB.mode(mode="malformed")
    r = s.http.post("/upsert-text", {"id": "t1", "text": "never stored", "model": "openai-small"})
    expect_error(r, 502, "bad_gateway")
    assert s.http.get("/vector/t1").status == 404
    STUB.mode()
    expect(s.http.post("/upsert-text", {"id": "t1", "text": "now stored", "model": "openai-small"}), 200)
    v = expect(s.http.get("/vector/t1"), 200)["vector"]
    want = embedproc.stub_vector("now stored", 1536)
    n = math.sqrt(sum(x * x for x in want))
    # stored either as given or normalised (cosine collections may normalise)
    assert close(v, want, 1e-5) or close(v, [x / n for x in want], 1e-5)


def test_key_never_appears_in_logs(s):
    STUB.mode(mode="status", status=401)
    r = s.http.post("/embed", {"text": "who am i", "model": "openai-small"})
    expect_error(r, 502, "bad_gateway", mentions="api key")
    assert KEY not in r.text
    for name in ("embed", "api"):
        with open(s.log_path(name), "rb") as f:
            data = f.read().decode("utf-8", "replace")
        assert KEY not in data and "do-not-log" not in data, "the key appears in the %s log" % name
    with open(s.log_path("embed"), "rb") as f:
        assert b"openai" in f.read(), "the embed log should mention the failing provider"


@vx.no_services
def test_missing_key_is_503_and_listed_unavailable(_):
    if not vx.have_embed():
        raise vx.Skip("vectron-embed is not built")
    s = vx.Services(embed=False)
    s.start()
    try:
        s.embed = embedproc.EmbedProc(vx.EMBED_BIN, s.embed_url, s.log_path("embed"), {})
        m = embedproc.wait_available(s.http, "openai-small")
        assert m["available"] is False, m
        r = s.http.post("/embed", {"text": "x", "model": "openai-small"})
        expect_error(r, 503, "embedding_unavailable", mentions="OPENAI_API_KEY")
        problems = s.stop()
        assert not problems, problems
    finally:
        s.stop(quiet=True)
        s.cleanup()


if __name__ == "__main__":
    vx.main(globals(), on_start=on_start, embed=False)
