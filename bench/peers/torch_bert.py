#!/usr/bin/python3
"""PyTorch eager peer for the encoder benchmark: a BERT encoder + mean pooling + L2
normalisation written with torch ops (what sentence-transformers computes for
all-MiniLM-L6-v2), timed on the same ids as seam_bench's encoder mode. Also the graph
export_onnx.py exports.

usage: torch_bert.py MODEL_DIR [-t N]        JSON on stdout"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encoder_timing  # noqa: E402
from torch_gpt2 import load_safetensors, peak_rss_mb  # noqa: E402


class Bert:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        w = load_safetensors(os.path.join(folder, "model.safetensors"))
        pre = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self.w = {k[len(pre):]: v.float() for k, v in w.items() if k.startswith(pre)}
        self.C, self.H, self.L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
        self.D = self.C // self.H
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.vocab = cfg["vocab_size"]
        self.weight_bytes = sum(t.numel() * t.element_size() for t in w.values())

    def tensors(self):
        return list(self.w.values())

    def ln(self, x, name):
        return F.layer_norm(x, (self.C,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def lin(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def embed(self, ids, mask):
        """ids, mask: int64 [B, T] -> L2-normalised mean-pooled embeddings [B, C]."""
        B, T = ids.shape
        C, H, D, w = self.C, self.H, self.D, self.w
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self.ln(x, "embeddings.LayerNorm")
        # Padded keys get the most negative float added, as transformers' eager attention does.
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in range(self.L):
            p = f"encoder.layer.{l}."
            heads = lambda t: t.view(B, T, H, D).transpose(1, 2)  # noqa: E731
            q = heads(self.lin(x, p + "attention.self.query"))
            k = heads(self.lin(x, p + "attention.self.key"))
            v = heads(self.lin(x, p + "attention.self.value"))
            att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(D)) + bias, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, C)
            x = self.ln(x + self.lin(y, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            h = F.gelu(self.lin(x, p + "intermediate.dense"))
            x = self.ln(x + self.lin(h, p + "output.dense"), p + "output.LayerNorm")
        m = mask[:, :, None].float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, p=2, dim=1)


def bench_ids(B, T, vocab):
    """The ids seam_bench's encoder mode uses, as tensors."""
    ids = torch.tensor(encoder_timing.bench_ids(B, T, vocab), dtype=torch.long)
    return ids, torch.ones_like(ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("-t", "--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    m = Bert(a.model)

    def make_run(B, T):
        ids, mask = bench_ids(B, T, m.vocab)
        return lambda: m.embed(ids, mask)

    with torch.inference_mode():
        out = encoder_timing.sentences_per_s(make_run, "torch")
    print(json.dumps({"engine": "torch", "version": torch.__version__, "threads": a.threads,
                      "weight_bytes": m.weight_bytes, "sentences_s": out, "peak_rss_mb": peak_rss_mb()}, indent=2))


if __name__ == "__main__":
    main()
