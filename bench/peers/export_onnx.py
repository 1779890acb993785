#!/usr/bin/python3
"""Exports the bench models to ONNX from the torch peers' own forward code, so ONNX Runtime
runs exactly the weights and math that torch and seam run. torch 1.13's TorchScript-based
exporter writes the protobuf itself (through libonnx); the `onnx` Python package is not needed.

usage: export_onnx.py gpt2 MODEL_DIR OUT.onnx     KV cache as one tensor in and out:
           input_ids int64 [1, T], past float32 [L, 2, H, P, D]  (P may be 0)
           -> logits float32 [1, V] (last row only), present float32 [L, 2, H, P+T, D]
       export_onnx.py bert MODEL_DIR OUT.onnx
           input_ids int64 [B, T], attention_mask int64 [B, T] -> sentence_embedding [B, C]
           (mean pooling over the mask + L2 normalisation, as sentence-transformers does)

After export the graph is checked against the torch forward it came from (when
onnxruntime is importable from Python, which it is not on Debian 12: then ort_gpt2.mjs
checks the first token against torch's instead)."""
import inspect
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_gpt2  # noqa: E402


# torch >= 2.5 has a dynamo-based exporter (default from 2.9) that needs onnxscript; the
# TorchScript one needs nothing more, so it is asked for wherever the choice exists.
LEGACY = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


class GPT2Onnx(torch.nn.Module):
    """The forward of torch_gpt2.GPT2 with a functional cache (past in, present out)."""

    def __init__(self, m):
        super().__init__()
        self.m = m
        self.C, self.H, self.D, self.L, self.eps = m.C, m.H, m.D, m.L, m.eps
        self.wte = torch.nn.Parameter(m.wte, requires_grad=False)
        self.wpe = torch.nn.Parameter(m.wpe, requires_grad=False)
        self.lnf_w = torch.nn.Parameter(m.lnf_w, requires_grad=False)
        self.lnf_b = torch.nn.Parameter(m.lnf_b, requires_grad=False)
        self.layers = torch.nn.ParameterList(
            [torch.nn.Parameter(t, requires_grad=False) for layer in m.layers for t in layer])

    def forward(self, input_ids, past):
        C, H, D = self.C, self.H, self.D
        T = input_ids.shape[1]
        P = past.shape[3]
        pos = torch.arange(T) + P
        x = self.wte[input_ids[0]] + self.wpe[pos]
        # mask[i, j]: key j is in the future of query row i (at position P + i).
        mask = torch.arange(T + P).unsqueeze(0) > pos.unsqueeze(1)
        presents = []
        for l in range(self.L):
            ln1w, ln1b, aw, ab, pw, pb, ln2w, ln2b, fw, fb, fpw, fpb = self.layers[l * 12:(l + 1) * 12]
            h = F.layer_norm(x, (C,), ln1w, ln1b, self.eps)
            q, k, v = torch.addmm(ab, h, aw).split(C, dim=1)
            q = q.reshape(-1, H, D).transpose(0, 1)
            K = torch.cat([past[l, 0], k.reshape(-1, H, D).transpose(0, 1)], dim=1)
            V = torch.cat([past[l, 1], v.reshape(-1, H, D).transpose(0, 1)], dim=1)
            presents.append(torch.stack([K, V]))
            att = torch.matmul(q, K.transpose(1, 2)) * (1.0 / math.sqrt(D))
            att = torch.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
            y = torch.matmul(att, V).transpose(0, 1).reshape(-1, C)
            x = x + torch.addmm(pb, y, pw)
            h = F.layer_norm(x, (C,), ln2w, ln2b, self.eps)
            x = x + torch.addmm(fpb, F.gelu(torch.addmm(fb, h, fw), approximate="tanh"), fpw)
        last = F.layer_norm(x[-1:], (C,), self.lnf_w, self.lnf_b, self.eps)
        # wte @ last^T rather than last @ wte^T: the exporter would fold the transpose into a
        # second 154 MB copy of the tied embedding.
        return torch.matmul(self.wte, last.t()).t(), torch.stack(presents)


def export_gpt2(folder, out):
    m = torch_gpt2.GPT2(folder)
    mod = GPT2Onnx(m).eval()
    ids = torch.tensor([[(1000 + 997 * i) % m.V for i in range(5)]], dtype=torch.long)
    past = torch.zeros(m.L, 2, m.H, 3, m.D)
    with torch.inference_mode():
        # The export traces with a non-empty past so the cat is not folded away.
        torch.onnx.export(mod, (ids, past), out, input_names=["input_ids", "past"],
                          output_names=["logits", "present"],
                          dynamic_axes={"input_ids": {1: "T"}, "past": {3: "P"}, "present": {3: "PT"}},
                          opset_version=14, do_constant_folding=True, **LEGACY)
        # The functional forward must agree with the cached one it mirrors.
        cache = m.new_cache()
        ref = m.forward(ids[0], 0, cache)
        got, present = mod(ids, torch.zeros(m.L, 2, m.H, 0, m.D))
        err = float((got[0] - ref).norm() / ref.norm())
        if err > 1e-5:
            sys.exit(f"export_onnx: functional forward differs from torch_gpt2 ({err:.2e})")
    print(f"export_onnx: wrote {out} ({os.path.getsize(out) >> 20} MiB)", file=sys.stderr)


def export_bert(folder, out):
    import torch_bert
    m = torch_bert.Bert(folder)

    class BertOnnx(torch.nn.Module):
        # The weights are traced in as constants, which the exporter stores as initializers.
        def forward(self, input_ids, attention_mask):
            return m.embed(input_ids, attention_mask)

    mod = BertOnnx().eval()
    ids = torch.tensor([[101, 2000, 3000, 102], [101, 4000, 102, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    with torch.inference_mode():
        torch.onnx.export(mod, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"},
                                        "sentence_embedding": {0: "B"}},
                          opset_version=14, do_constant_folding=True, **LEGACY)
    print(f"export_onnx: wrote {out} ({os.path.getsize(out) >> 20} MiB)", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("gpt2", "bert"):
        sys.exit(__doc__)
    (export_gpt2 if sys.argv[1] == "gpt2" else export_bert)(sys.argv[2], sys.argv[3])
