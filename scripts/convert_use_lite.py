#!/usr/bin/python3
"""convert_use_lite.py — turn the TensorFlow.js USE-lite package into one
flat file that embed-gateway/use_lite.c mmaps.

    convert_use_lite.py PACKAGE_DIST_DIR OUT_FILE

Reads model.json (weights manifest), the group1-shard* files and vocab.json
with the standard library and numpy only, and writes OUT_FILE atomically
(written to OUT_FILE.tmp, fsynced, renamed).

File layout (all little-endian, every section 64-byte aligned):

  header, 64 bytes:
    char     magic[8]      "VXUSELT\\0"
    uint32   version       1
    uint32   n_sections
    uint64   file_size     total bytes, checked by the loader
    uint64   table_offset  offset of the section table (64)
    char     unicode[16]   Unicode version of the NFKC tables (NUL padded)
    padding to 64
  section table, n_sections entries of 128 bytes:
    char     name[80]      NUL padded, e.g. "l0.qkv.w"
    uint32   dtype         1 = float32, 2 = uint32, 3 = bytes, 4 = float64
    uint32   ndim          0..4
    uint32   shape[4]      unused dims are 0
    uint64   offset        from the start of the file, 64-byte aligned
    uint64   nbytes        = product(shape) * element size
    uint64   reserved      0
  section data.

Sections: the model weights under short names (dense kernels stored
[in, out], row-major, so y = x.W), the vocabulary (scores as float64, the JavaScript number type, with
the JSON nulls the package contains mapped to 0, as the JavaScript runtime
does; UTF-8 pieces in one pool with uint32 offsets), and compact NFKC tables
generated from Python's unicodedata: full compatibility decompositions of
every code point whose NFKD differs from itself (Hangul syllables excluded:
the C side decomposes and composes them algorithmically), the non-zero
canonical combining classes, and the primary-composite pairs.
"""
import json
import os
import struct
import sys
import unicodedata

import numpy as np

MAGIC = b"VXUSELT\0"
VERSION = 1
ALIGN = 64
DT_F32, DT_U32, DT_BYTES, DT_F64 = 1, 2, 3, 4

K = "module_apply_default/Encoder_en/KonaTransformer/"
M = "module/Encoder_en/KonaTransformer/"


def weight_names():
    """Short name -> manifest name (and expected shape, checked below)."""
    names = {
        "embeddings": ("module/Embeddings_en", (8002, 256)),
        "timing_inv": (K + "Encode/TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", (128,)),
        "l0.dense.w": (K + "Encode/Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", (256, 512)),
        "l0.dense.b": (K + "Encode/Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat", (512,)),
        "pool.w": ("module/Encoder_en/hidden_layers/tanh_layer_0/weights", (512, 512)),
        "pool.b": ("module/Encoder_en/hidden_layers/tanh_layer_0/bias", (512,)),
    }
    for layer, d in ((0, 256), (1, 512)):
        L = "Layer_%d/TransformerLayer/" % layer
        p = "l%d." % layer
        names.update({
            p + "ln1.scale": (K + "Encode/" + L + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", (d,)),
            p + "ln1.bias": (K + "Encode/" + L + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", (d,)),
            p + "qkv.w": (M + "Encode/" + L + "MultiheadAttention/qkv_transform_single/kernel/part_0", (d, 3 * d)),
            p + "qkv.b": (K + "Encode/" + L + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", (3 * d,)),
            p + "q_scale": (K + "Encode/TransformerStack/" + L + "MultiheadAttention/mul/y", (1,)),
            p + "out.w": (M + "Encode/" + L + "MultiheadAttention/output_transform_single/kernel/part_0", (d, 512)),
            p + "out.b": (K + "Encode/" + L + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", (512,)),
            p + "ln2.scale": (K + "Encode/" + L + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", (512,)),
            p + "ln2.bias": (K + "Encode/" + L + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", (512,)),
            p + "ffn1.w": (K + "Encode/TransformerStack/" + L + "FFN/conv1/Tensordot/Reshape_1", (512, 1536)),
            p + "ffn1.b": (K + "Encode/" + L + "FFN/conv1/bias/ConcatPartitions/concat", (1536,)),
            p + "ffn2.w": (K + "Encode/TransformerStack/" + L + "FFN/conv2/Tensordot/Reshape_1", (1536, 512)),
            p + "ffn2.b": (K + "Encode/" + L + "FFN/conv2/bias/ConcatPartitions/concat", (512,)),
        })
    return names


def load_weights(dist):
    with open(os.path.join(dist, "model.json"), encoding="utf-8") as f:
        model = json.load(f)
    weights = {}
    for group in model["weightsManifest"]:
        blob = b"".join(open(os.path.join(dist, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            if w.get("quantization"):
                raise SystemExit("convert: quantized weight %s is not supported" % w["name"])
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            dtype = {"float32": "<f4", "int32": "<i4"}[w["dtype"]]
            if off + 4 * count > len(blob):
                raise SystemExit("convert: shards too short for %s" % w["name"])
            weights[w["name"]] = np.frombuffer(blob, dtype, count, off).reshape(w["shape"])
            off += 4 * count
        if off != len(blob):
            raise SystemExit("convert: %d trailing bytes in weight shards" % (len(blob) - off))
    return weights


def nfkc_tables():
    decomp, pool, ccc, comp = [], [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        c = unicodedata.combining(ch)
        if c:
            ccc.append((cp, c))
        if 0xAC00 <= cp <= 0xD7A3:
            continue  # Hangul: algorithmic on the C side
        d = unicodedata.normalize("NFKD", ch)
        if d != ch:
            decomp.append((cp, len(pool), len(d)))
            pool.extend(ord(x) for x in d)
        # primary composites: canonical decomposition into exactly two code
        # points that NFC recomposes to this one (excludes composition exclusions)
        cd = unicodedata.decomposition(ch)
        if cd and not cd.startswith("<"):
            parts = [int(x, 16) for x in cd.split()]
            if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == ch:
                comp.append((parts[0], parts[1], cp))
    comp.sort()
    return (np.array(decomp, "<u4").reshape(-1, 3), np.array(pool, "<u4"),
            np.array(ccc, "<u4").reshape(-1, 2), np.array(comp, "<u4").reshape(-1, 3))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: convert_use_lite.py PACKAGE_DIST_DIR OUT_FILE")
    dist, out = sys.argv[1], sys.argv[2]
    weights = load_weights(dist)
    sections = []  # (name, dtype, shape, bytes)
    for short, (full, shape) in weight_names().items():
        if full not in weights:
            raise SystemExit("convert: weight %s missing from model.json" % full)
        a = np.ascontiguousarray(weights[full], "<f4").reshape(shape)
        sections.append((short, DT_F32, a.shape, a.tobytes()))

    with open(os.path.join(dist, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    scores = np.array([float(s) if s is not None else 0.0 for _, s in vocab], "<f8")
    pieces = [p.encode("utf-8") for p, _ in vocab]
    offsets = np.zeros(len(pieces) + 1, "<u4")
    offsets[1:] = np.cumsum([len(p) for p in pieces])
    sections.append(("vocab.scores", DT_F64, scores.shape, scores.tobytes()))
    sections.append(("vocab.offsets", DT_U32, offsets.shape, offsets.tobytes()))
    vpool = b"".join(pieces)
    sections.append(("vocab.pool", DT_BYTES, (len(vpool),), vpool))

    for name, arr in zip(("nfkc.decomp", "nfkc.pool", "nfkc.ccc", "nfkc.comp"), nfkc_tables()):
        sections.append((name, DT_U32, arr.shape, arr.tobytes()))

    def align(x):
        return (x + ALIGN - 1) // ALIGN * ALIGN

    table_off = 64
    data_off = align(table_off + 128 * len(sections))
    table, body, pos = b"", b"", data_off
    for name, dtype, shape, data in sections:
        if len(shape) > 4 or len(name) >= 80:
            raise SystemExit("convert: bad section %s" % name)
        dims = list(shape) + [0] * (4 - len(shape))
        table += struct.pack("<80sII4IQQQ", name.encode(), dtype, len(shape), *dims, pos, len(data), 0)
        pad = align(pos + len(data)) - (pos + len(data))
        body += data + b"\0" * pad
        pos += len(data) + pad
    header = struct.pack("<8sIIQQ16s", MAGIC, VERSION, len(sections), pos, table_off,
                         unicodedata.unidata_version.encode())
    header += b"\0" * (64 - len(header))
    blob = header + table + b"\0" * (data_off - table_off - len(table)) + body
    assert len(blob) == pos
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, out)
    print("convert: wrote %s (%d bytes, %d sections, Unicode %s)"
          % (out, len(blob), len(sections), unicodedata.unidata_version))


if __name__ == "__main__":
    main()
