"""End-to-end tests of the local Python model workers (SPEC §5) through the
gateway. The test builds tiny random BERT model directories itself
(tests/stubs/tinybert.py: 2 layers, hidden 32, safetensors written byte by
byte), points VECTRON_MODEL_DIR at them with a registry of its own, and
checks /embed and /batch-embed against an independent numpy computation of
the same network, CLS vs mean pooling, the reasons given for missing or
broken model directories, the worker protocol spoken directly, and that a
killed worker is restarted and the next request succeeds."""

import json
import os
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "stubs"))
import vxharness as vx  # noqa: E402
from vxharness import expect, expect_error  # noqa: E402
import embedproc  # noqa: E402

try:
    import numpy as np  # noqa: E402
    import tinybert  # noqa: E402
except ImportError as e:  # python3-numpy is installed by make deps
    np = tinybert = None
    IMPORT_ERROR = e

WORKER = os.path.join(embedproc.REPO_ROOT, "embed-gateway", "workers", "worker.py")
W = {}  # pooling -> weights
FRESH_TEXTS = ("a big red car", "I like small blue cats?")  # kept out of the cache until the restart test


def on_start(s):
    if tinybert is None:
        raise vx.StartError("numpy is missing: %s" % IMPORT_ERROR)
    if not vx.have_embed():
        raise vx.StartError("vectron-embed is not built")
    models = os.path.join(s.tmp, "models")
    if not W:
        W["mean"] = tinybert.make_model_dir(os.path.join(models, "tiny-mean"), seed=7)
        W["cls"] = tinybert.make_model_dir(os.path.join(models, "tiny-cls"), seed=11, pooling="cls")
        broken = os.path.join(models, "broken")
        tinybert.make_model_dir(broken, seed=3)
        with open(os.path.join(broken, "model.safetensors"), "wb") as f:
            f.write(b"\x10\x00")
    reg = {"default": "use-lite", "models": {
        "use-lite": {"provider": "builtin", "model_name": "universal-sentence-encoder-lite", "dimensions": 512},
        "minilm": {"provider": "python", "model_name": "tiny-mean", "dimensions": 32, "local_dir": "tiny-mean"},
        "bge-small": {"provider": "python", "model_name": "tiny-cls", "dimensions": 32, "local_dir": "tiny-cls"},
        "bge-base": {"provider": "python", "model_name": "absent", "dimensions": 768, "local_dir": "absent"},
        "broken": {"provider": "python", "model_name": "broken", "dimensions": 32, "local_dir": "broken"},
    }}
    reg_path = os.path.join(s.tmp, "models.json")
    with open(reg_path, "w") as f:
        json.dump(reg, f)
    s.embed = embedproc.EmbedProc(vx.EMBED_BIN, s.embed_url, s.log_path("embed"),
                                  {"VECTRON_MODEL_DIR": models, "VECTRON_WORKER_BACKEND": "numpy"},
                                  ["--registry", reg_path])
    embedproc.wait_available(s.http, "minilm")


def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def worker_pid(s, sub):
    for pid in s.embed.children():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if sub.encode() in f.read():
                    return pid
        except OSError:
            pass
    return None


def test_models_report_local_availability_and_reasons(s):
    models = expect(s.http.get("/models"), 200)["models"]
    assert models["minilm"]["available"] is True and models["minilm"]["is_remote"] is False, models["minilm"]
    assert models["bge-small"]["available"] is True, models["bge-small"]
    assert models["bge-base"]["available"] is False, models["bge-base"]
    r = s.http.post("/embed", {"text": "x", "model": "bge-base"})
    expect_error(r, 503, "embedding_unavailable", mentions="does not exist")


def test_batch_embed_matches_independent_reference(s):
    texts = [t for t in tinybert.SENTENCES if t and t not in FRESH_TEXTS]
    body = expect(s.http.post("/batch-embed", {"texts": texts, "model": "minilm"}), 200)
    assert body["dimensions"] == 32 and body["count"] == len(texts), body
    for t, v in zip(texts, body["embeddings"]):
        d = maxdiff(v, tinybert.reference(W["mean"], t))
        assert d < 1e-5, "minilm %r differs from the reference by %g" % (t, d)
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5


def test_cls_pooling_model(s):
    t = "hello, world"
    body = expect(s.http.post("/embed", {"text": t, "model": "bge-small"}), 200)
    assert body["dimensions"] == 32, body
    assert maxdiff(body["embedding"], tinybert.reference(W["cls"], t, pooling="cls")) < 1e-5
    assert maxdiff(body["embedding"], tinybert.reference(W["cls"], t, pooling="mean")) > 1e-3


def test_killed_worker_is_restarted_and_next_request_succeeds(s):
    expect(s.http.post("/embed", {"text": "The cat sat on the mat.", "model": "minilm"}), 200)
    pid = worker_pid(s, "tiny-mean")
    assert pid, "no worker process for tiny-mean among %r" % s.embed.children()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    t = FRESH_TEXTS[0]  # not cached: the worker must compute it
    body = expect(s.http.post("/embed", {"text": t, "model": "minilm"}), 200, "after killing the worker")
    assert maxdiff(body["embedding"], tinybert.reference(W["mean"], t)) < 1e-5
    new = worker_pid(s, "tiny-mean")
    assert new and new != pid, (pid, new)
    with open(s.log_path("embed"), "rb") as f:
        log = f.read().decode("utf-8", "replace")
    assert "killed by signal 9" in log, "the worker's death should be logged"


def test_concurrent_requests_each_get_their_own_vector(s):
    """Concurrent single-text requests are coalesced into shared worker
    calls (--coalesce-wait-us); each caller must still get its own row."""
    import threading
    results, errors = {}, []

    def one(text):
        c = vx.Client(s.port)
        try:
            r = c.post("/embed", {"text": text, "model": "minilm"})
            if r.status != 200:
                errors.append((text, r))
            else:
                results[text] = r.json["embedding"]
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(t,)) for t in tinybert.PLAIN]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for t in tinybert.PLAIN:
        d = maxdiff(results[t], tinybert.reference(W["mean"], t))
        assert d < 1e-5, "%r differs from its reference by %g" % (t, d)


def test_broken_model_dir_is_unavailable_with_reason(s):
    r = s.http.post("/embed", {"text": "anything", "model": "broken"})
    expect_error(r, 503, "embedding_unavailable", mentions="safetensors")


@vx.no_services
def test_worker_protocol_directly(_):
    if tinybert is None:
        raise AssertionError("numpy is missing: %s" % IMPORT_ERROR)
    import tempfile
    d = tempfile.mkdtemp(prefix="vxworker.")
    w = tinybert.make_model_dir(os.path.join(d, "m"), seed=5)
    p = subprocess.Popen(["/usr/bin/python3", WORKER, "--model-dir", os.path.join(d, "m"), "--backend", "numpy"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(obj):
        b = json.dumps(obj).encode()
        p.stdin.write(struct.pack("<I", len(b)) + b)
        p.stdin.flush()

    def recv():
        n, = struct.unpack("<I", p.stdout.read(4))
        fr = p.stdout.read(n)
        hl, = struct.unpack("<I", fr[:4])
        return json.loads(fr[4:4 + hl]), fr[4 + hl:]

    try:
        hdr, _ = recv()
        assert hdr == {"ready": True, "dim": 32, "backend": "numpy", "max_seq_len": 64}, hdr
        send({"op": "ping", "id": 1})
        assert recv()[0] == {"id": 1, "ok": True, "pong": True}
        send({"op": "embed", "id": 2, "texts": tinybert.SENTENCES})
        hdr, data = recv()
        assert hdr == {"id": 2, "ok": True, "n": len(tinybert.SENTENCES), "dim": 32}, hdr
        vecs = np.frombuffer(data, dtype="<f4").reshape(hdr["n"], 32)
        for t, v in zip(tinybert.SENTENCES, vecs):
            assert maxdiff(v, tinybert.reference(w, t)) < 1e-5, t
        send({"op": "embed", "id": 3, "texts": "not a list"})
        hdr, data = recv()
        assert hdr["id"] == 3 and hdr["ok"] is False and "texts" in hdr["error"] and data == b"", hdr
        send({"op": "fly", "id": 4})
        assert recv()[0]["ok"] is False
        p.stdin.close()
        assert p.wait(10) == 0, "EOF on stdin must end the worker cleanly"
        # a directory without weights: ready=false and exit status 1
        os.remove(os.path.join(d, "m", "model.safetensors"))
        q = subprocess.run(["/usr/bin/python3", WORKER, "--model-dir", os.path.join(d, "m"), "--backend", "numpy"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        n, hl = struct.unpack("<II", q.stdout[:8])
        hdr = json.loads(q.stdout[8:8 + hl])
        assert q.returncode == 1 and hdr["ready"] is False and "model.safetensors" in hdr["error"], (q, hdr)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        import shutil
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    vx.main(globals(), on_start=on_start, embed=False)
