#!/usr/bin/python3
"""Writes a transformers.js model folder for the bench's random GPT-2-small: the same weights
seam runs, exported from the torch peer's forward (bench/peers/torch_gpt2.py) in the layout
transformers.js loads for `model_type: gpt2` (optimum's names, KV cache in and out).

usage: export_tjs.py MODEL_DIR OUT_DIR [--q8]

OUT_DIR/
  config.json, generation_config.json, tokenizer.json, tokenizer_config.json
  onnx/model.onnx             fp32 (transformers.js dtype 'fp32')
  onnx/model_quantized.onnx   with --q8 (dtype 'q8'), see below

Graph (batch B, new tokens T, past P):
  inputs   input_ids int64 [B, T], attention_mask int64 [B, P+T], position_ids int64 [B, T],
           past_key_values.{i}.key / .value float32 [B, H, P, D], num_logits_to_keep int64 []
  outputs  logits float32 [B, num_logits_to_keep, V], present.{i}.key / .value [B, H, P+T, D]
transformers.js passes num_logits_to_keep = 1 when the graph has that input (setNumLogitsToKeep
in its modeling_utils.js), so a prefill computes the head for the last row only, as seam does.

q8: onnxruntime's Python quantizer (quantize_dynamic) is not installable here (no PyPI), so
the graph it would write is written directly: each of the four block matrices and the tied
head is MatMulInteger over int8 weights (symmetric, one scale per output column) and a
DynamicQuantizeLinear of the activations (uint8, per tensor), then Cast and the two scales;
the token embedding is an int8 Gather with the same per-row scales as the head. Norms,
biases, attention and wpe stay f32. onnxruntime fuses this into DynamicQuantizeMatMul / its
integer GEMM, as it does for quantize_dynamic's output.
"""
import inspect
import json
import math
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import torch_gpt2  # noqa: E402

LEGACY = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def quantize_cols(w):
    """w [K, N] f32 -> int8 [K, N], f32 scale [N]: symmetric, one scale per output column."""
    s = w.abs().amax(dim=0).clamp(min=1e-12) / 127.0
    q = torch.round(w / s).clamp(-127, 127).to(torch.int8)
    return q, s.float()


class QMatMul(torch.autograd.Function):
    """y = x @ dequant(wq, s) (+ b), exported as quantize_dynamic's MatMulInteger pattern."""

    @staticmethod
    def forward(ctx, x, wq, s):  # noqa: D401  (reference value, used only while tracing)
        return torch.matmul(x, wq.float() * s)

    @staticmethod
    def symbolic(g, x, wq, s):
        xq, xs, xzp = g.op("DynamicQuantizeLinear", x, outputs=3)
        wzp = g.op("Constant", value_t=torch.tensor(0, dtype=torch.int8))
        acc = g.op("MatMulInteger", xq, wq, xzp, wzp)
        accf = g.op("Cast", acc, to_i=1)  # FLOAT
        return g.op("Mul", accf, g.op("Mul", xs, s))


class GPT2Tjs(torch.nn.Module):
    def __init__(self, m, q8):
        super().__init__()
        self.C, self.H, self.D, self.L, self.eps, self.q8 = m.C, m.H, m.D, m.L, m.eps, q8
        P = lambda t: torch.nn.Parameter(t.contiguous(), requires_grad=False)  # noqa: E731
        self.wpe = P(m.wpe)
        self.lnf_w, self.lnf_b = P(m.lnf_w), P(m.lnf_b)
        if q8:
            # Per vocab row: wte[v] ~ s[v] * wq[v]; the head uses the same rows, transposed.
            qT, s = quantize_cols(m.wte.t().contiguous())
            self.register_buffer("wte_q", qT.t().contiguous())
            self.register_buffer("head_q", qT.contiguous())
            self.register_buffer("wte_s", s)
        else:
            self.wte = P(m.wte)
        flat = []
        for layer in m.layers:
            ln1w, ln1b, aw, ab, pw, pb, ln2w, ln2b, fw, fb, fpw, fpb = layer
            flat += [ln1w, ln1b, ab, pb, ln2w, ln2b, fb, fpb]
        self.vecs = torch.nn.ParameterList([P(t) for t in flat])
        self.mats = torch.nn.ParameterList() if not q8 else None
        for i, layer in enumerate(m.layers):
            for j, w in enumerate((layer[2], layer[4], layer[8], layer[10])):
                if q8:
                    q, s = quantize_cols(w)
                    self.register_buffer(f"w{i}_{j}_q", q)
                    self.register_buffer(f"w{i}_{j}_s", s)
                else:
                    self.mats.append(P(w))

    def linear(self, x, i, j, b):
        if self.q8:
            return QMatMul.apply(x, getattr(self, f"w{i}_{j}_q"), getattr(self, f"w{i}_{j}_s")) + b
        return torch.matmul(x, self.mats[i * 4 + j]) + b

    def forward(self, input_ids, attention_mask, position_ids, num_logits_to_keep, *past):
        C, H, D = self.C, self.H, self.D
        B, T = input_ids.shape[0], input_ids.shape[1]
        if self.q8:
            x = self.wte_q[input_ids].float() * self.wte_s[input_ids].unsqueeze(-1)
        else:
            x = self.wte[input_ids]
        x = x + self.wpe[position_ids]
        S = attention_mask.shape[1]  # P + T
        Pn = S - T
        # masked[b, i, j]: key j is after query i (at position Pn + i), or padding.
        qpos = torch.arange(T).unsqueeze(1) + Pn
        causal = torch.arange(S).unsqueeze(0) > qpos
        masked = causal.unsqueeze(0) | (attention_mask == 0).unsqueeze(1)
        masked = masked.unsqueeze(1)  # [B, 1, T, S]
        neg = torch.finfo(torch.float32).min
        presents = []
        for l in range(self.L):
            ln1w, ln1b, ab, pb, ln2w, ln2b, fb, fpb = self.vecs[l * 8:(l + 1) * 8]
            h = F.layer_norm(x, (C,), ln1w, ln1b, self.eps)
            q, k, v = self.linear(h, l, 0, ab).split(C, dim=2)
            q = q.reshape(B, T, H, D).transpose(1, 2)
            K = torch.cat([past[2 * l], k.reshape(B, T, H, D).transpose(1, 2)], dim=2)
            V = torch.cat([past[2 * l + 1], v.reshape(B, T, H, D).transpose(1, 2)], dim=2)
            presents += [K, V]
            att = torch.matmul(q, K.transpose(2, 3)) * (1.0 / math.sqrt(D))
            att = torch.softmax(att.masked_fill(masked, neg), dim=-1)
            y = torch.matmul(att, V).transpose(1, 2).reshape(B, T, C)
            x = x + self.linear(y, l, 1, pb)
            h = F.layer_norm(x, (C,), ln2w, ln2b, self.eps)
            x = x + self.linear(F.gelu(self.linear(h, l, 2, fb), approximate="tanh"), l, 3, fpb)
        keep = torch.arange(num_logits_to_keep) + (T - num_logits_to_keep)
        last = F.layer_norm(x.index_select(1, keep), (C,), self.lnf_w, self.lnf_b, self.eps)
        if self.q8:
            logits = QMatMul.apply(last, self.head_q, self.wte_s)
        else:
            # wte @ rows^T rather than rows @ wte^T: the exporter would fold the transpose into a
            # second 154 MB copy of the tied embedding (as export_onnx.py notes).
            logits = torch.matmul(self.wte, last.reshape(-1, C).t()).t().reshape(B, -1, self.wte.shape[0])
        return (logits, *presents)


def export(folder, out_dir, q8):
    m = torch_gpt2.GPT2(folder)
    mod = GPT2Tjs(m, q8).eval()
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    path = os.path.join(out_dir, "onnx", "model_quantized.onnx" if q8 else "model.onnx")
    T, Pn = 5, 3
    ids = torch.tensor([[(1000 + 997 * i) % m.V for i in range(T)]], dtype=torch.long)
    mask = torch.ones(1, Pn + T, dtype=torch.long)
    pos = torch.arange(Pn, Pn + T).unsqueeze(0)
    keep = torch.tensor(1, dtype=torch.long)
    past = [torch.zeros(1, m.H, Pn, m.D) for _ in range(2 * m.L)]
    kv_in = [f"past_key_values.{l}.{kv}" for l in range(m.L) for kv in ("key", "value")]
    kv_out = [f"present.{l}.{kv}" for l in range(m.L) for kv in ("key", "value")]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "num_logits_to_keep"}}
    for n in kv_in:
        dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in kv_out:
        dyn[n] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    with torch.inference_mode():
        torch.onnx.export(mod, (ids, mask, pos, keep, *past), path,
                          input_names=["input_ids", "attention_mask", "position_ids", "num_logits_to_keep"] + kv_in,
                          output_names=["logits"] + kv_out, dynamic_axes=dyn, opset_version=14,
                          do_constant_folding=True, **LEGACY)
        if not q8:
            # The exported forward must agree with the cached one it mirrors (f32 only: the q8
            # reference above is not what onnxruntime computes).
            cache = m.new_cache()
            ref = m.forward(ids[0], 0, cache)
            got = mod(ids, torch.ones(1, T, dtype=torch.long), torch.arange(T).unsqueeze(0), keep,
                      *[torch.zeros(1, m.H, 0, m.D) for _ in range(2 * m.L)])[0]
            err = float((got[0, -1] - ref).norm() / ref.norm())
            if err > 1e-5:
                sys.exit(f"export_tjs: forward differs from torch_gpt2 ({err:.2e})")
    print(f"export_tjs: wrote {path} ({os.path.getsize(path) >> 20} MiB)", file=sys.stderr)


def side_files(folder, out_dir, tokenizer):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    cfg["use_cache"] = True
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    gen = {"bos_token_id": cfg.get("bos_token_id", 50256), "eos_token_id": cfg.get("eos_token_id", 50256)}
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=1)
    if tokenizer and os.path.exists(tokenizer):
        shutil.copyfile(tokenizer, os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "model_max_length": cfg.get("n_positions", 1024),
                   "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
                   "add_prefix_space": False}, f, indent=1)


if __name__ == "__main__":
    a = [x for x in sys.argv[1:] if not x.startswith("--")]
    if len(a) != 2:
        sys.exit(__doc__)
    side_files(a[0], a[1], os.path.join(a[0], "tokenizer.json"))
    export(a[0], a[1], "--q8" in sys.argv)
