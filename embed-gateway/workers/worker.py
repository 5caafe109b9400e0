#!/usr/bin/python3
"""worker.py — a local embedding model worker for vectron-embed.

The gateway (embed-gateway/provider_python.c) starts one process per model:

    python3 -u worker.py --model-dir DIR [--backend auto|numpy|sentence-transformers]

(the backend can also be forced with VECTRON_WORKER_BACKEND) and talks to it
on stdin/stdout with length-prefixed frames: a 4-byte little-endian length,
then that many bytes.

    request  (gateway → worker): a UTF-8 JSON object
        {"op": "embed", "id": 7, "texts": ["...", ...]}
        {"op": "ping", "id": 8}
    response (worker → gateway): u32 LE header length, the JSON header, then
        raw little-endian float32 vectors (n × dim, row-major):
        {"id": 7, "ok": true, "n": 2, "dim": 384}  + 2·384·4 bytes
        {"id": 8, "ok": true, "pong": true}
        {"id": 7, "ok": false, "error": "..."}
    After loading, one unsolicited response: {"ready": true, "dim": D,
    "backend": "numpy"|"sentence-transformers", "max_seq_len": L}, or
    {"ready": false, "error": "..."} followed by exit status 1.
EOF on stdin ends the worker (exit 0). Diagnostics go to stderr.

The model directory is a Hugging Face sentence-transformers directory:
config.json, vocab.txt or tokenizer.json, model.safetensors (optionally
sentence_bert_config.json, tokenizer_config.json, modules.json and
1_Pooling/config.json). Weights are never downloaded.

Backends: sentence-transformers when importable (or forced), else this
file's own BERT forward pass in numpy: BERT basic tokenizer + WordPiece,
word + position + token-type embeddings and LayerNorm, N encoder layers
(multi-head self-attention with the padding mask, GELU feed-forward,
post-LayerNorm), then the pooling named in 1_Pooling/config.json (mean over
real tokens by default, or the CLS token) and L2 normalisation (unless
modules.json exists and has no Normalize module). safetensors is parsed by
hand: u64 LE header length, a JSON header {name: {dtype, shape,
data_offsets}}, then the raw tensors (F32, F16 and BF16 are read).
"""

import json
import math
import os
import signal
import struct
import sys
import unicodedata

BATCH = 32


def log(msg):
    sys.stderr.write("worker[%s]: %s\n" % (os.path.basename(MODEL_DIR or "?"), msg))
    sys.stderr.flush()


MODEL_DIR = None


# --------------------------------------------------------------------------
# framing
# --------------------------------------------------------------------------

def read_exact(f, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(f):
    head = read_exact(f, 4)
    if head is None:
        return None
    (n,) = struct.unpack("<I", head)
    if n > (64 << 20):
        raise ValueError("request frame of %d bytes is too large" % n)
    body = read_exact(f, n)
    if body is None:
        return None
    return body


def write_reply(f, header, payload=b""):
    h = json.dumps(header).encode("utf-8")
    f.write(struct.pack("<I", 4 + len(h) + len(payload)))
    f.write(struct.pack("<I", len(h)))
    f.write(h)
    if payload:
        f.write(payload)
    f.flush()


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------

def load_safetensors(path):
    import numpy as np
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 8:
        raise ValueError("%s is too short to be safetensors" % path)
    (hlen,) = struct.unpack("<Q", data[:8])
    if hlen > len(data) - 8:
        raise ValueError("%s: header length %d exceeds the file" % (path, hlen))
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape = info["dtype"], info["shape"]
        b, e = info["data_offsets"]
        if not (0 <= b <= e <= len(data) - base):
            raise ValueError("%s: tensor %s is out of bounds" % (path, name))
        raw = data[base + b:base + e]
        count = 1
        for s in shape:
            count *= s
        if dtype == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dtype == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            continue  # integer buffers (position_ids) are not needed
        if arr.size != count:
            raise ValueError("%s: tensor %s has %d values, shape %s" % (path, name, arr.size, shape))
        out[name] = arr.reshape(shape).astype(np.float32)
    return out


# --------------------------------------------------------------------------
# tokenizer (BERT basic + WordPiece)
# --------------------------------------------------------------------------

def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab, lower=True, unk="[UNK]", cls="[CLS]", sep="[SEP]", max_chars=100):
        self.vocab = vocab
        self.lower = lower
        self.unk_id = vocab.get(unk, 0)
        self.cls_id = vocab[cls]
        self.sep_id = vocab[sep]
        self.max_chars = max_chars

    def basic(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r"):
                continue
            if is_cjk(cp):
                out.append(" %s " % ch)
            elif ch.isspace():
                out.append(" ")
            else:
                out.append(ch)
        words = []
        for w in "".join(out).split():
            if self.lower:
                w = w.lower()
                w = "".join(c for c in unicodedata.normalize("NFD", w) if unicodedata.category(c) != "Mn")
            cur = ""
            for ch in w:
                if is_punct(ch):
                    if cur:
                        words.append(cur)
                        cur = ""
                    words.append(ch)
                else:
                    cur += ch
            if cur:
                words.append(cur)
        return words

    def wordpiece(self, word):
        if len(word) > self.max_chars:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def encode(self, text, max_len):
        ids = []
        for w in self.basic(text):
            ids.extend(self.wordpiece(w))
            if len(ids) >= max_len - 2:
                break
        return [self.cls_id] + ids[:max_len - 2] + [self.sep_id]


def load_tokenizer(d):
    lower = True
    tc = os.path.join(d, "tokenizer_config.json")
    if os.path.exists(tc):
        with open(tc) as f:
            lower = bool(json.load(f).get("do_lower_case", True))
    vp = os.path.join(d, "vocab.txt")
    if os.path.exists(vp):
        vocab = {}
        with open(vp, encoding="utf-8") as f:
            for i, line in enumerate(f):
                tok = line.rstrip("\n")
                if tok not in vocab:
                    vocab[tok] = i
        return WordPiece(vocab, lower)
    tj = os.path.join(d, "tokenizer.json")
    if os.path.exists(tj):
        with open(tj, encoding="utf-8") as f:
            t = json.load(f)
        model = t.get("model") or {}
        if model.get("type") != "WordPiece":
            raise ValueError("tokenizer.json model type %r is not WordPiece" % model.get("type"))
        norm = t.get("normalizer") or {}
        if norm.get("type") == "BertNormalizer":
            lower = bool(norm.get("lowercase", lower))
        return WordPiece(model["vocab"], lower, unk=model.get("unk_token", "[UNK]"),
                         max_chars=model.get("max_input_chars_per_word", 100))
    raise ValueError("%s has neither vocab.txt nor tokenizer.json" % d)


# --------------------------------------------------------------------------
# BERT in numpy
# --------------------------------------------------------------------------

class NumpyBert:
    def __init__(self, d):
        import numpy as np
        self.np = np
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        if cfg.get("model_type", "bert") not in ("bert",):
            raise ValueError("model_type %r is not supported by the numpy backend" % cfg.get("model_type"))
        self.hidden = int(cfg["hidden_size"])
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.act = cfg.get("hidden_act", "gelu")
        if self.act not in ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu"):
            raise ValueError("hidden_act %r is not supported" % self.act)
        self.max_len = int(cfg.get("max_position_embeddings", 512))
        sb = os.path.join(d, "sentence_bert_config.json")
        if os.path.exists(sb):
            with open(sb) as f:
                self.max_len = min(self.max_len, int(json.load(f).get("max_seq_length", self.max_len)))
        self.pooling = "mean"
        pc = os.path.join(d, "1_Pooling", "config.json")
        if os.path.exists(pc):
            with open(pc) as f:
                p = json.load(f)
            if p.get("pooling_mode_cls_token"):
                self.pooling = "cls"
        self.normalize = True
        mj = os.path.join(d, "modules.json")
        if os.path.exists(mj):
            with open(mj) as f:
                mods = json.load(f)
            self.normalize = any("Normalize" in str(m.get("type", "")) for m in mods)
        self.tok = load_tokenizer(d)
        path = os.path.join(d, "model.safetensors")
        if not os.path.exists(path):
            raise ValueError("%s has no model.safetensors" % d)
        raw = load_safetensors(path)
        w = {}
        for k, v in raw.items():
            for anchor in ("embeddings.", "encoder."):
                i = k.find(anchor)
                if i >= 0 and (i == 0 or k[i - 1] == "."):
                    w[k[i:].replace(".gamma", ".weight").replace(".beta", ".bias")] = v
                    break
        self.w = w

        def need(name, shape):
            if name not in w:
                raise ValueError("model.safetensors lacks %s" % name)
            if shape is not None and tuple(w[name].shape) != tuple(shape):
                raise ValueError("%s has shape %s, expected %s" % (name, w[name].shape, shape))
            return w[name]

        H = self.hidden
        if H % self.heads:
            raise ValueError("hidden_size %d is not a multiple of num_attention_heads %d" % (H, self.heads))
        self.word = need("embeddings.word_embeddings.weight", None)
        self.pos = need("embeddings.position_embeddings.weight", None)
        self.type = need("embeddings.token_type_embeddings.weight", None)
        self.max_len = min(self.max_len, self.pos.shape[0])
        self.eln = (need("embeddings.LayerNorm.weight", (H,)), need("embeddings.LayerNorm.bias", (H,)))
        self.L = []
        for i in range(self.layers):
            p = "encoder.layer.%d." % i
            I = need(p + "intermediate.dense.weight", None).shape[0]
            self.L.append({
                "q": (need(p + "attention.self.query.weight", (H, H)), need(p + "attention.self.query.bias", (H,))),
                "k": (need(p + "attention.self.key.weight", (H, H)), need(p + "attention.self.key.bias", (H,))),
                "v": (need(p + "attention.self.value.weight", (H, H)), need(p + "attention.self.value.bias", (H,))),
                "o": (need(p + "attention.output.dense.weight", (H, H)), need(p + "attention.output.dense.bias", (H,))),
                "ln1": (need(p + "attention.output.LayerNorm.weight", (H,)),
                        need(p + "attention.output.LayerNorm.bias", (H,))),
                "i": (need(p + "intermediate.dense.weight", (I, H)), need(p + "intermediate.dense.bias", (I,))),
                "out": (need(p + "output.dense.weight", (H, I)), need(p + "output.dense.bias", (H,))),
                "ln2": (need(p + "output.LayerNorm.weight", (H,)), need(p + "output.LayerNorm.bias", (H,))),
            })
        self.dim = H

    def layernorm(self, x, g_b):
        np = self.np
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * g_b[0] + g_b[1]

    def activation(self, x):
        np = self.np
        if self.act == "relu":
            return np.maximum(x, 0)
        if self.act == "gelu":
            return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def embed_batch(self, texts):
        np = self.np
        ids = [self.tok.encode(t, self.max_len) for t in texts]
        B, T, H = len(ids), max(len(i) for i in ids), self.hidden
        tok = np.zeros((B, T), dtype=np.int64)
        mask = np.zeros((B, T), dtype=np.float32)
        for b, seq in enumerate(ids):
            tok[b, :len(seq)] = seq
            mask[b, :len(seq)] = 1
        x = self.word[tok] + self.pos[:T][None, :, :] + self.type[0][None, None, :]
        x = self.layernorm(x.astype(np.float64), self.eln)
        nh, hd = self.heads, H // self.heads
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for L in self.L:
            def lin(v, wb):
                return v @ wb[0].T.astype(np.float64) + wb[1]
            q = lin(x, L["q"]).reshape(B, T, nh, hd).transpose(0, 2, 1, 3)
            k = lin(x, L["k"]).reshape(B, T, nh, hd).transpose(0, 2, 1, 3)
            v = lin(x, L["v"]).reshape(B, T, nh, hd).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
            s = s - s.max(-1, keepdims=True)
            p = np.exp(s)
            p = p / p.sum(-1, keepdims=True)
            ctx = (p @ v).transpose(0, 2, 1, 3).reshape(B, T, H)
            x = self.layernorm(lin(ctx, L["o"]) + x, L["ln1"])
            x = self.layernorm(lin(self.activation(lin(x, L["i"])), L["out"]) + x, L["ln2"])
        if self.pooling == "cls":
            pooled = x[:, 0, :]
        else:
            pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1), 1.0)[:, None]
        if self.normalize:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)

    def embed(self, texts):
        np = self.np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for s in range(0, len(order), BATCH):
            idx = order[s:s + BATCH]
            out[idx] = self.embed_batch([texts[i] for i in idx])
        return out


def erf(x):
    """Elementwise erf for numpy arrays (numpy has none; scipy is used when
    installed). Fallback: Abramowitz-Stegun 7.1.26, absolute error below
    1.5e-7 — under float32 resolution for GELU inputs of normal size."""
    import numpy as np
    if _scipy_erf is not None:
        return _scipy_erf(x)
    a1, a2, a3, a4, a5, p = 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429, 0.3275911
    s = np.sign(x)
    ax = np.abs(x)
    t = 1.0 / (1.0 + p * ax)
    y = 1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * np.exp(-ax * ax)
    return s * y


try:
    from scipy.special import erf as _scipy_erf
except ImportError:
    _scipy_erf = None


class STBackend:
    def __init__(self, d):
        from sentence_transformers import SentenceTransformer
        self.m = SentenceTransformer(d, device="cpu")
        self.dim = int(self.m.get_sentence_embedding_dimension())
        self.max_len = int(getattr(self.m, "max_seq_length", 512) or 512)

    def embed(self, texts):
        import numpy as np
        return np.asarray(self.m.encode(texts, batch_size=BATCH, convert_to_numpy=True), dtype=np.float32)


def load(d, backend):
    if backend in ("auto", "sentence-transformers"):
        try:
            return STBackend(d), "sentence-transformers"
        except ImportError:
            if backend != "auto":
                raise
    return NumpyBert(d), "numpy"


def main(argv):
    global MODEL_DIR
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--backend", default=os.environ.get("VECTRON_WORKER_BACKEND", "auto"),
                    choices=("auto", "numpy", "sentence-transformers"))
    a = ap.parse_args(argv)
    MODEL_DIR = a.model_dir
    # The gateway decides when the worker ends (EOF on stdin, or a signal it
    # sends); a Ctrl-C on the terminal reaches the whole process group and
    # must not kill the worker before the gateway has shut down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fin, fout = sys.stdin.buffer, sys.stdout.buffer
    try:
        model, backend = load(a.model_dir, a.backend)
    except Exception as e:  # noqa: BLE001 — reported to the gateway
        log("cannot load: %s" % e)
        write_reply(fout, {"ready": False, "error": "%s: %s" % (type(e).__name__, e)})
        return 1
    log("loaded (%s backend, %d dimensions)" % (backend, model.dim))
    write_reply(fout, {"ready": True, "dim": model.dim, "backend": backend,
                       "max_seq_len": getattr(model, "max_len", None)})
    while True:
        frame = read_frame(fin)
        if frame is None:
            return 0
        rid = None
        try:
            req = json.loads(frame.decode("utf-8"))
            rid = req.get("id")
            op = req.get("op")
            if op == "ping":
                write_reply(fout, {"id": rid, "ok": True, "pong": True})
                continue
            if op != "embed":
                raise ValueError("unknown op %r" % op)
            texts = req.get("texts")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts) or not texts:
                raise ValueError("texts must be a non-empty list of strings")
            vecs = model.embed(texts)
            import numpy as np
            if not np.all(np.isfinite(vecs)):
                raise ValueError("the model produced non-finite values")
            write_reply(fout, {"id": rid, "ok": True, "n": int(vecs.shape[0]), "dim": int(vecs.shape[1])},
                        vecs.astype("<f4").tobytes())
        except (BrokenPipeError, ConnectionResetError):
            return 0
        except Exception as e:  # noqa: BLE001 — reported per request
            write_reply(fout, {"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
