"""tinybert — builds a tiny random BERT sentence-transformers directory for
tests (2 layers, hidden 32, 4 heads, a 40-word vocabulary; config.json,
vocab.txt, model.safetensors written here byte by byte) and computes its
embeddings with an independent, deliberately plain numpy implementation
(one sentence at a time, no padding, explicit per-head loops, math.erf).

Token ids are NOT computed by a tokenizer here: TOKENIZED maps each test
sentence to the WordPiece ids a BERT uncased tokenizer must produce, written
out by hand.
"""

import json
import math
import os
import struct

import numpy as np

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
         "the", "cat", "dog", "sat", "on", "mat", "a", "ran", "in", "park",
         "##s", "##ing", "hello", "world", ".", ",", "!", "?", "run", "big",
         "small", "red", "blue", "car", "cafe", "un", "##know", "##n", "is",
         "good", "bad", "very", "i", "like", "you"]
ID = {t: i for i, t in enumerate(VOCAB)}

HIDDEN, HEADS, LAYERS, INTER, MAX_POS = 32, 4, 2, 64, 64

# sentence -> token ids, by hand ([CLS] ... [SEP] are added by ids_of).
# Greedy longest-match WordPiece: "running" = run ##n ##ing, "dogs" = dog ##s,
# "unknown" = un ##know ##n; "zebra" has no pieces at all -> [UNK];
# "Café" is lower-cased and stripped of its accent.
TOKENIZED = {
    "The cat sat on the mat.": ["the", "cat", "sat", "on", "the", "mat", "."],
    "DOGS running in a park!": ["dog", "##s", "run", "##n", "##ing", "in", "a", "park", "!"],
    "hello, world": ["hello", ",", "world"],
    "Café is very good": ["cafe", "is", "very", "good"],
    "unknown zebra": ["un", "##know", "##n", "[UNK]"],
    "": [],
    "a big red car": ["a", "big", "red", "car"],
    "I like small blue cats?": ["i", "like", "small", "blue", "cat", "##s", "?"],
}
# more plain sentences (concurrency tests): every word is in the vocabulary,
# except "dogs" = dog ##s.
PLAIN = ["the dog ran", "a cat is bad", "you like the car", "i ran in the park", "the blue mat is small",
         "hello you", "very big dogs", "a red cafe"]
SENTENCES = list(TOKENIZED)
for _s in PLAIN:
    TOKENIZED[_s] = [p for w in _s.split() for p in (["dog", "##s"] if w == "dogs" else [w])]


def ids_of(sentence):
    return [ID["[CLS]"]] + [ID[t] for t in TOKENIZED[sentence]] + [ID["[SEP]"]]


def make_weights(seed=7):
    rng = np.random.default_rng(seed)
    w = {}

    def rnd(*shape, scale=0.2):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w["bert.embeddings.word_embeddings.weight"] = rnd(len(VOCAB), HIDDEN, scale=0.5)
    w["bert.embeddings.position_embeddings.weight"] = rnd(MAX_POS, HIDDEN, scale=0.1)
    w["bert.embeddings.token_type_embeddings.weight"] = rnd(2, HIDDEN, scale=0.1)
    w["bert.embeddings.LayerNorm.weight"] = (1 + rnd(HIDDEN, scale=0.1)).astype(np.float32)
    w["bert.embeddings.LayerNorm.bias"] = rnd(HIDDEN, scale=0.1)
    for i in range(LAYERS):
        p = "bert.encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            w[p + "attention.self.%s.weight" % n] = rnd(HIDDEN, HIDDEN)
            w[p + "attention.self.%s.bias" % n] = rnd(HIDDEN, scale=0.05)
        w[p + "attention.output.dense.weight"] = rnd(HIDDEN, HIDDEN)
        w[p + "attention.output.dense.bias"] = rnd(HIDDEN, scale=0.05)
        w[p + "attention.output.LayerNorm.weight"] = (1 + rnd(HIDDEN, scale=0.1)).astype(np.float32)
        w[p + "attention.output.LayerNorm.bias"] = rnd(HIDDEN, scale=0.1)
        w[p + "intermediate.dense.weight"] = rnd(INTER, HIDDEN)
        w[p + "intermediate.dense.bias"] = rnd(INTER, scale=0.05)
        w[p + "output.dense.weight"] = rnd(HIDDEN, INTER)
        w[p + "output.dense.bias"] = rnd(HIDDEN, scale=0.05)
        w[p + "output.LayerNorm.weight"] = (1 + rnd(HIDDEN, scale=0.1)).astype(np.float32)
        w[p + "output.LayerNorm.bias"] = rnd(HIDDEN, scale=0.1)
    w["bert.pooler.dense.weight"] = rnd(HIDDEN, HIDDEN)
    w["bert.pooler.dense.bias"] = rnd(HIDDEN)
    return w


def write_safetensors(path, tensors, extra_int64=None):
    header, blobs, off = {}, [], 0
    items = [(k, "F32", v.shape, v.astype("<f4").tobytes()) for k, v in tensors.items()]
    for k, v in (extra_int64 or {}).items():
        items.append((k, "I64", v.shape, v.astype("<i8").tobytes()))
    for name, dtype, shape, raw in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_model_dir(d, seed=7, pooling="mean"):
    os.makedirs(d, exist_ok=True)
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
           "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "intermediate_size": INTER,
           "max_position_embeddings": MAX_POS, "vocab_size": len(VOCAB), "type_vocab_size": 2,
           "hidden_act": "gelu", "layer_norm_eps": 1e-12}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    if pooling == "cls":
        os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
        with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
            json.dump({"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": True,
                       "pooling_mode_mean_tokens": False}, f)
    w = make_weights(seed)
    write_safetensors(os.path.join(d, "model.safetensors"), w,
                      {"bert.embeddings.position_ids": np.arange(MAX_POS, dtype=np.int64).reshape(1, MAX_POS)})
    return w


# --------------------------------------------------------------------------
# the independent reference
# --------------------------------------------------------------------------

def _ln(v, g, b, eps=1e-12):
    out = np.empty_like(v)
    for t in range(v.shape[0]):
        row = v[t]
        mean = sum(row) / len(row)
        var = sum((x - mean) ** 2 for x in row) / len(row)
        out[t] = (row - mean) / math.sqrt(var + eps) * g + b
    return out


def _gelu(v):
    return np.vectorize(lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))))(v)


def reference(w, sentence, pooling="mean"):
    ids = ids_of(sentence)
    g = lambda k: w["bert." + k].astype(np.float64)  # noqa: E731
    T = len(ids)
    x = np.stack([g("embeddings.word_embeddings.weight")[i] for i in ids])
    x = x + g("embeddings.position_embeddings.weight")[:T] + g("embeddings.token_type_embeddings.weight")[0]
    x = _ln(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
    hd = HIDDEN // HEADS
    for i in range(LAYERS):
        p = "encoder.layer.%d." % i
        lin = lambda v, n: v @ g(p + n + ".weight").T + g(p + n + ".bias")  # noqa: E731
        q, k, vv = lin(x, "attention.self.query"), lin(x, "attention.self.key"), lin(x, "attention.self.value")
        ctx = np.zeros((T, HIDDEN))
        for h in range(HEADS):
            sl = slice(h * hd, (h + 1) * hd)
            for t in range(T):
                scores = [float(np.dot(q[t, sl], k[u, sl])) / math.sqrt(hd) for u in range(T)]
                m = max(scores)
                e = [math.exp(s - m) for s in scores]
                z = sum(e)
                ctx[t, sl] = sum((e[u] / z) * vv[u, sl] for u in range(T))
        x = _ln(lin(ctx, "attention.output.dense") + x, g(p + "attention.output.LayerNorm.weight"),
                g(p + "attention.output.LayerNorm.bias"))
        ff = lin(_gelu(lin(x, "intermediate.dense")), "output.dense")
        x = _ln(ff + x, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"))
    pooled = x[0] if pooling == "cls" else x.mean(axis=0)
    return pooled / math.sqrt(sum(c * c for c in pooled))
