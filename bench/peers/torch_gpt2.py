#!/usr/bin/python3
"""PyTorch eager peer for `make bench`: a GPT-2 forward written with torch ops (no
transformers package here), a preallocated KV cache, and the same figures seam_bench
measures, JSON on stdout. Also the module export_onnx.py builds its graph from.

usage: torch_gpt2.py gpt2 -m DIR [-t N] [--reps R] [--decode-steps N]
       torch_gpt2.py ops  -m DIR [-t N]

Conventions shared with bench/seam_bench.c: prompt ids (1000 + 997*i) mod vocab; prefill =
forward over T ids + argmax of the last row; decode tok/s = 1 / median step time; time to
first token includes what a new request costs (here: allocating the KV cache)."""
import argparse
import json
import math
import mmap
import os
import resource
import statistics
import struct
import sys
import time

import torch
import torch.nn.functional as F

# ------------------------------------------------------------------ safetensors

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I32": torch.int32,
           "I64": torch.int64}


def load_safetensors(path):
    """name -> tensor viewing the file through a private mapping: no copy of the weights is
    made, and torch gets a writable buffer (copy-on-write) so it does not warn."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES[meta["dtype"]]
        a, b = meta["data_offsets"]
        count = (b - a) // torch.tensor([], dtype=dt).element_size()
        t = torch.frombuffer(mm, dtype=dt, count=count, offset=base + a) if count else torch.empty(0, dtype=dt)
        out[name] = t.reshape(meta["shape"])
    return out


# ------------------------------------------------------------------ model


class GPT2:
    """GPT-2 (Conv1D weights as stored, [in, out]) computed in float32."""

    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        w = load_safetensors(os.path.join(folder, "model.safetensors"))
        pre = "transformer." if "transformer.wte.weight" in w else ""
        g = lambda k: w[pre + k].float()  # noqa: E731  (no copy when already f32)
        self.C, self.H, self.L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
        self.D = self.C // self.H
        self.n_pos = cfg["n_positions"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.wte, self.wpe = g("wte.weight"), g("wpe.weight")
        self.V = self.wte.shape[0]
        self.lm_head = w["lm_head.weight"].float() if "lm_head.weight" in w else self.wte
        names = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                 "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                 "mlp.c_proj.weight", "mlp.c_proj.bias"]
        self.layers = [[g(f"h.{i}.{n}") for n in names] for i in range(self.L)]
        self.lnf_w, self.lnf_b = g("ln_f.weight"), g("ln_f.bias")
        self.weight_bytes = sum(t.numel() * t.element_size() for t in w.values())

    def new_cache(self, n_ctx=None):
        n = n_ctx or self.n_pos
        return [(torch.empty(self.H, n, self.D), torch.empty(self.H, n, self.D)) for _ in range(self.L)]

    def attention(self, l, h, pos0, cache):
        """Self-attention of rows h [T, C] at positions pos0.. against layer l's cache."""
        ln1w, ln1b, aw, ab, pw, pb = self.layers[l][:6]
        T, C, H, D = h.shape[0], self.C, self.H, self.D
        qkv = torch.addmm(ab, h, aw)
        q, k, v = qkv.split(C, dim=1)
        kc, vc = cache[l]
        kc[:, pos0:pos0 + T] = k.view(T, H, D).transpose(0, 1)
        vc[:, pos0:pos0 + T] = v.view(T, H, D).transpose(0, 1)
        K, Vv = kc[:, :pos0 + T], vc[:, :pos0 + T]
        att = torch.matmul(q.view(T, H, D).transpose(0, 1), K.transpose(1, 2)) * (1.0 / math.sqrt(D))
        if T > 1:
            mask = torch.ones(T, pos0 + T, dtype=torch.bool).triu(pos0 + 1)
            att = att.masked_fill(mask, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, Vv).transpose(0, 1).reshape(T, C)
        return torch.addmm(pb, y, pw)

    def mlp(self, l, h):
        fw, fb, pw, pb = self.layers[l][8:12]
        return torch.addmm(pb, F.gelu(torch.addmm(fb, h, fw), approximate="tanh"), pw)

    def forward(self, ids, pos0, cache):
        """ids: LongTensor [T]. Returns the logits of the last row [V]."""
        T, C = ids.shape[0], self.C
        x = self.wte[ids] + self.wpe[pos0:pos0 + T]
        for l in range(self.L):
            p = self.layers[l]
            x = x + self.attention(l, F.layer_norm(x, (C,), p[0], p[1], self.eps), pos0, cache)
            x = x + self.mlp(l, F.layer_norm(x, (C,), p[6], p[7], self.eps))
        last = F.layer_norm(x[-1:], (C,), self.lnf_w, self.lnf_b, self.eps)
        return F.linear(last, self.lm_head)[0]


# ------------------------------------------------------------------ timing


def prompt_ids(n, vocab):
    return torch.tensor([(1000 + 997 * i) % vocab for i in range(n)], dtype=torch.long)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def blas_name():
    """Which libblas.so.3 this process loaded (the Debian default is the slow reference one)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "libblas" in line or "openblas" in line:
                    return line.split()[-1]
    except OSError:
        pass
    return "unknown"


def bench_gpt2(a):
    m = GPT2(a.model)
    ids = prompt_ids(1024, m.V)
    out = {"engine": "torch", "version": torch.__version__, "threads": a.threads, "dtype": "F32",
           "weight_bytes": m.weight_bytes, "kv_bytes_per_elem": 4, "blas": blas_name()}
    with torch.inference_mode():
        cache = m.new_cache()
        m.forward(ids[:16], 0, cache)  # warm-up: faults the mapped weights in
        pre, first = {}, None
        for T in (16, 128, 512):
            reps = min(a.reps, 2) if T >= 512 else a.reps
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                nxt = int(torch.argmax(m.forward(ids[:T], 0, cache)))
                ts.append(time.perf_counter() - t0)
            if T == 16:
                first = nxt
            pre[str(T)] = T / statistics.median(ts)
            print(f"  torch prefill T={T}: {pre[str(T)]:.1f} tok/s", file=sys.stderr)
        dec = {}
        for L in (128, 512):
            cache = m.new_cache()
            nxt = int(torch.argmax(m.forward(ids[:L], 0, cache)))
            steps = []
            for s in range(a.decode_steps):
                t0 = time.perf_counter()
                nxt = int(torch.argmax(m.forward(torch.tensor([nxt]), L + s, cache)))
                steps.append(time.perf_counter() - t0)
            dec[str(L)] = 1.0 / statistics.median(steps)
            print(f"  torch decode ctx={L}: {dec[str(L)]:.1f} tok/s", file=sys.stderr)
        tt = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            cache = m.new_cache()
            int(torch.argmax(m.forward(ids[:128], 0, cache)))
            tt.append(time.perf_counter() - t0)
    out.update(prefill_tok_s=pre, decode_tok_s=dec, ttft_ms=statistics.median(tt) * 1e3,
               ttft_note="new KV cache tensors + prefill 128 + argmax", peak_rss_mb=peak_rss_mb(),
               first_token_16=first, reps=a.reps, decode_steps=a.decode_steps)
    return out


def time_op(fn):
    """Milliseconds per call: batches sized to ~50 ms, median of 7 (as seam_bench does)."""
    for _ in range(3):
        fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > 0.05 or n > (1 << 20):
            break
        n *= 8 if dt < 0.005 else 2
    v = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        v.append((time.perf_counter() - t0) / n)
    return statistics.median(v) * 1e3


def bench_ops(a):
    m = GPT2(a.model)
    C, ctx = m.C, 128
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, C, generator=g) * 2 - 1
    p = m.layers[0]
    cache = m.new_cache(ctx)
    for kc, vc in cache[:1]:
        kc.copy_(torch.rand(kc.shape, generator=g) * 2 - 1)
        vc.copy_(torch.rand(vc.shape, generator=g) * 2 - 1)
    rows = {
        "layer_norm": lambda: F.layer_norm(x, (C,), p[0], p[1], m.eps),
        "gelu": lambda: F.gelu(x, approximate="tanh"),
        "linear_768x50257": lambda: F.linear(x, m.lm_head),
        # One new token at position 127: attends to 128 keys, its own included.
        "attention_ctx128": lambda: m.attention(0, x, ctx - 1, cache),
        "mlp": lambda: m.mlp(0, x),
    }
    ops = {}
    with torch.inference_mode():
        for name, fn in rows.items():
            ops[name] = time_op(fn)
            print(f"  torch op {name}: {ops[name]:.4f} ms", file=sys.stderr)
    return {"engine": "torch", "version": torch.__version__, "threads": a.threads, "blas": blas_name(), "ops_ms": ops}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["gpt2", "ops"])
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-t", "--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--decode-steps", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    print(json.dumps(bench_gpt2(a) if a.mode == "gpt2" else bench_ops(a), indent=2))


if __name__ == "__main__":
    main()
