#!/usr/bin/python3
"""Writes the bench's GPT-2 checkpoint as GGUF for the llama.cpp peer, from the same
safetensors seam reads, with the GPT-2 tokenizer as GGUF metadata.

usage: write_gguf.py MODEL_DIR TOKENIZER_JSON OUT.gguf --type f32|f16|q8_0|q4_0
       write_gguf.py --verify OUT.gguf MODEL_DIR LOGITS.f32
           compares llama.cpp's logits for the bench prompt (written by llama_bench.mjs
           --dump-logits) with a torch forward on the weights dequantised from OUT.gguf

Layout (llama.cpp's "gpt2" architecture): Conv1D weights [in, out] are stored transposed,
as ggml wants rows of `in` values; 1-D tensors (norms, biases) stay f32; the tied lm_head
is not written (the loader reuses token_embd). For f16 every matrix is f16; for q8_0/q4_0
the four block matrices and token_embd are quantised, position_embd stays f16.

Quantisation follows ggml's reference code (blocks of 32 along a row):
  Q8_0: d = max|x| / 127 (stored f16), q = round-half-away(x / d) as int8     -> 34 bytes
  Q4_0: m = the x of largest |x| (first on ties), d = m / -8 (stored f16),
        q = min(15, trunc(x / d + 8.5)); byte j holds q[j] (low nibble) and q[j+16] (high)
                                                                            -> 18 bytes
Needs numpy (Debian's python3-numpy, which python3-torch brings)."""
import json
import os
import struct
import sys

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGN = 32
# gguf metadata value types
T_UINT32, T_INT32, T_FLOAT32, T_STRING, T_ARRAY = 4, 5, 6, 8, 9
# ggml tensor types
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0 = 0, 1, 2, 8
# llama_ftype values for general.file_type
FILE_TYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7}
QK = 32


# ------------------------------------------------------------------ reading the checkpoint

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    dt = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        out[name] = mm[8 + n + a:8 + n + b].view(dt[meta["dtype"]]).reshape(meta["shape"])
    return out


# ------------------------------------------------------------------ quantisation

def quantize_q8_0(x):
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK)
    amax = np.abs(x).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    v = x * inv[:, None]
    q = np.trunc(v + np.copysign(np.float32(0.5), v)).astype(np.int8)  # roundf: half away from zero
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "i1", QK)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q
    return blocks.tobytes()


def quantize_q4_0(x):
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(x).argmax(axis=1)  # first of the largest magnitudes, as ggml's strict '<'
    m = x[np.arange(x.shape[0]), idx]
    d = (m / np.float32(-8)).astype(np.float32)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    v = x * inv[:, None] + np.float32(8.5)
    q = np.minimum(15, np.trunc(v).astype(np.int32)).astype(np.uint8)
    blocks = np.empty(x.shape[0], dtype=[("d", "<f2"), ("qs", "u1", QK // 2)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q[:, :QK // 2] | (q[:, QK // 2:] << 4)
    return blocks.tobytes()


def dequantize(raw, ggml_type, n):
    if ggml_type == GGML_F32:
        return np.frombuffer(raw, dtype=np.float32, count=n).copy()
    if ggml_type == GGML_F16:
        return np.frombuffer(raw, dtype=np.float16, count=n).astype(np.float32)
    if ggml_type == GGML_Q8_0:
        b = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "i1", QK)], count=n // QK)
        return (b["d"].astype(np.float32)[:, None] * b["qs"].astype(np.float32)).reshape(-1)
    if ggml_type == GGML_Q4_0:
        b = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "u1", QK // 2)], count=n // QK)
        q = np.concatenate([b["qs"] & 0x0F, b["qs"] >> 4], axis=1).astype(np.float32) - 8
        return (b["d"].astype(np.float32)[:, None] * q).reshape(-1)
    raise ValueError(f"ggml type {ggml_type}")


def encode(x, ggml_type):
    """Bytes of x (numpy, row-major, last axis = ggml ne0) in ggml_type."""
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(x, dtype=np.float32).tobytes()
    if ggml_type == GGML_F16:
        return np.ascontiguousarray(x, dtype=np.float16).tobytes()
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(x)
    return quantize_q4_0(x)


# ------------------------------------------------------------------ GGUF writing

def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_str(key) + struct.pack("<I", vtype)
    if vtype == T_STRING:
        return out + gguf_str(value)
    if vtype == T_UINT32:
        return out + struct.pack("<I", value)
    if vtype == T_FLOAT32:
        return out + struct.pack("<f", value)
    raise ValueError(vtype)


def kv_array(key, etype, values):
    out = gguf_str(key) + struct.pack("<IIQ", T_ARRAY, etype, len(values))
    if etype == T_STRING:
        return out + b"".join(gguf_str(v) for v in values)
    if etype == T_INT32:
        return out + struct.pack(f"<{len(values)}i", *values)
    raise ValueError(etype)


def tokenizer_kvs(path):
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    tokens = [""] * (max(vocab.values()) + 1)
    for t, i in vocab.items():
        tokens[i] = t
    types = [1] * len(tokens)  # normal
    for a in tok.get("added_tokens", []):
        if a["id"] >= len(tokens):
            tokens.extend([""] * (a["id"] + 1 - len(tokens)))
            types.extend([1] * (a["id"] + 1 - len(types)))
        tokens[a["id"]] = a["content"]
        types[a["id"]] = 3 if a.get("special") else 4  # control / user-defined
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    eos = next((a["id"] for a in tok.get("added_tokens", []) if a["content"] == "<|endoftext|>"), len(tokens) - 1)
    return [kv("tokenizer.ggml.model", T_STRING, "gpt2"), kv("tokenizer.ggml.pre", T_STRING, "gpt-2"),
            kv_array("tokenizer.ggml.tokens", T_STRING, tokens),
            kv_array("tokenizer.ggml.token_type", T_INT32, types),
            kv_array("tokenizer.ggml.merges", T_STRING, merges),
            kv("tokenizer.ggml.bos_token_id", T_UINT32, eos), kv("tokenizer.ggml.eos_token_id", T_UINT32, eos)]


def write(model_dir, tokenizer_json, out, qtype):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    pre = "transformer." if "transformer.wte.weight" in w else ""
    C, L = cfg["n_embd"], cfg["n_layer"]
    matrix = {"f32": GGML_F32, "f16": GGML_F16, "q8_0": GGML_Q8_0, "q4_0": GGML_Q4_0}[qtype]
    f32 = lambda k: w[pre + k].astype(np.float32)  # noqa: E731

    # (gguf name, numpy array with ne0 last, ggml type)
    tensors = [("token_embd.weight", f32("wte.weight"), matrix),
               ("position_embd.weight", f32("wpe.weight"), GGML_F32 if qtype == "f32" else GGML_F16)]
    for i in range(L):
        h = f"h.{i}."
        tensors += [
            (f"blk.{i}.attn_norm.weight", f32(h + "ln_1.weight"), GGML_F32),
            (f"blk.{i}.attn_norm.bias", f32(h + "ln_1.bias"), GGML_F32),
            (f"blk.{i}.attn_qkv.weight", f32(h + "attn.c_attn.weight").T, matrix),
            (f"blk.{i}.attn_qkv.bias", f32(h + "attn.c_attn.bias"), GGML_F32),
            (f"blk.{i}.attn_output.weight", f32(h + "attn.c_proj.weight").T, matrix),
            (f"blk.{i}.attn_output.bias", f32(h + "attn.c_proj.bias"), GGML_F32),
            (f"blk.{i}.ffn_norm.weight", f32(h + "ln_2.weight"), GGML_F32),
            (f"blk.{i}.ffn_norm.bias", f32(h + "ln_2.bias"), GGML_F32),
            (f"blk.{i}.ffn_up.weight", f32(h + "mlp.c_fc.weight").T, matrix),
            (f"blk.{i}.ffn_up.bias", f32(h + "mlp.c_fc.bias"), GGML_F32),
            (f"blk.{i}.ffn_down.weight", f32(h + "mlp.c_proj.weight").T, matrix),
            (f"blk.{i}.ffn_down.bias", f32(h + "mlp.c_proj.bias"), GGML_F32)]
    tensors += [("output_norm.weight", f32("ln_f.weight"), GGML_F32),
                ("output_norm.bias", f32("ln_f.bias"), GGML_F32)]
    if "lm_head.weight" in w:
        tensors.append(("output.weight", w["lm_head.weight"].astype(np.float32), matrix))

    kvs = [kv("general.architecture", T_STRING, "gpt2"),
           kv("general.name", T_STRING, f"seam-bench random gpt2 {qtype}"),
           kv("general.file_type", T_UINT32, FILE_TYPE[qtype]),
           kv("general.quantization_version", T_UINT32, 2),
           kv("gpt2.context_length", T_UINT32, cfg["n_positions"]),
           kv("gpt2.embedding_length", T_UINT32, C),
           kv("gpt2.feed_forward_length", T_UINT32, cfg.get("n_inner") or 4 * C),
           kv("gpt2.block_count", T_UINT32, L),
           kv("gpt2.attention.head_count", T_UINT32, cfg["n_head"]),
           kv("gpt2.attention.layer_norm_epsilon", T_FLOAT32, cfg.get("layer_norm_epsilon", 1e-5))]
    kvs += tokenizer_kvs(tokenizer_json)

    blobs, infos, off = [], [], 0
    for name, arr, t in tensors:
        if t in (GGML_Q8_0, GGML_Q4_0) and arr.shape[-1] % QK:
            t = GGML_F16  # ggml quantises whole blocks of a row only
        data = encode(arr, t)
        dims = list(reversed(arr.shape))
        infos.append(gguf_str(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
                     + struct.pack("<IQ", t, off))
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        off += len(data) + pad

    head = GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * ((-len(head)) % ALIGN)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(tmp, out)
    print(f"write_gguf: wrote {out} ({os.path.getsize(out) >> 20} MiB, {qtype})", file=sys.stderr)


# ------------------------------------------------------------------ verification

def read_gguf(path):
    """name -> (ggml type, ne dims, raw bytes); enough of GGUF to read back what write() wrote."""
    with open(path, "rb") as f:
        data = memoryview(f.read())  # slices of a memoryview do not copy
    pos = 4
    version, n_t, n_kv = struct.unpack_from("<IQQ", data, pos)
    pos += 20

    def rstr(p):
        n = struct.unpack_from("<Q", data, p)[0]
        return bytes(data[p + 8:p + 8 + n]).decode("utf-8", "replace"), p + 8 + n

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(t, p):
        if t == T_STRING:
            return rstr(p)[1]
        if t == T_ARRAY:
            et, n = struct.unpack_from("<IQ", data, p)
            p += 12
            if et == T_STRING:
                for _ in range(n):
                    p = rstr(p)[1]
                return p
            return p + sizes[et] * n
        return p + sizes[t]

    for _ in range(n_kv):
        _, pos = rstr(pos)
        t = struct.unpack_from("<I", data, pos)[0]
        pos = skip_value(t, pos + 4)
    infos = []
    for _ in range(n_t):
        name, pos = rstr(pos)
        nd = struct.unpack_from("<I", data, pos)[0]
        dims = struct.unpack_from(f"<{nd}Q", data, pos + 4)
        t, off = struct.unpack_from("<IQ", data, pos + 4 + 8 * nd)
        pos += 4 + 8 * nd + 12
        infos.append((name, dims, t, off))
    base = pos + (-pos) % ALIGN
    out = {}
    for name, dims, t, off in infos:
        n = int(np.prod(dims))
        out[name] = dequantize(data[base + off:], t, n).reshape(list(reversed(dims)))
    return out


def verify(gguf, model_dir, logits_file):
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_gpt2
    m = torch_gpt2.GPT2(model_dir)
    ids = torch_gpt2.prompt_ids(16, m.V)
    with torch.inference_mode():
        ref32 = m.forward(ids, 0, m.new_cache())
        g = read_gguf(gguf)
        T = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
        m.wte = m.lm_head = T(g["token_embd.weight"])
        m.wpe = T(g["position_embd.weight"])
        for i, p in enumerate(m.layers):
            p[2] = T(g[f"blk.{i}.attn_qkv.weight"].T)
            p[4] = T(g[f"blk.{i}.attn_output.weight"].T)
            p[8] = T(g[f"blk.{i}.ffn_up.weight"].T)
            p[10] = T(g[f"blk.{i}.ffn_down.weight"].T)
        ref = m.forward(ids, 0, m.new_cache())
    got = torch.from_numpy(np.fromfile(logits_file, dtype=np.float32))
    rel = lambda a, b: float((a - b).norm() / b.norm())  # noqa: E731
    res = {"gguf": os.path.basename(gguf), "llama_vs_dequant_rel_l2": rel(got, ref),
           "dequant_vs_f32_rel_l2": rel(ref, ref32), "llama_vs_f32_rel_l2": rel(got, ref32),
           "top1_llama": int(got.argmax()), "top1_dequant": int(ref.argmax()), "top1_f32": int(ref32.argmax())}
    # A wrong layout (swapped nibbles, untransposed matrix) gives errors of order 1; llama.cpp's
    # own activation rounding stays far below the quantisation error itself.
    res["ok"] = res["llama_vs_dequant_rel_l2"] < 0.05
    print(json.dumps(res))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--verify":
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4]))
    if len(sys.argv) == 6 and sys.argv[4] == "--type" and sys.argv[5] in FILE_TYPE:
        write(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5])
        sys.exit(0)
    sys.exit(__doc__)
