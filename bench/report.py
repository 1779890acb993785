#!/usr/bin/python3
"""Turns one `make bench` run (the JSON files bench/run.sh collected) into
bench/results/<host>-<date>.md and .json: seam and each peer side by side with ratios, the
roofline fractions and the issues' targets marked PASS or MISS. Standard library only, so
a report is written whatever failed to install. It never fails the run over a target.

usage: report.py RAW_DIR OUT_BASENAME        (writes OUT_BASENAME.md and OUT_BASENAME.json)"""
import glob
import json
import os
import sys

# The per-layer table of the Kaoken seed (shared/seeds), for context only: another machine.
KAOKEN = {"layer_norm": (0.052, 0.0052), "gelu": (0.174, 0.084), "linear_768x50257": (22.4, 2.378),
          "attention_ctx128": (14.484, 9.386), "mlp": (32.51, None)}
OP_ROWS = [("layer_norm", "layer norm", "[1,768]"), ("gelu", "GELU (tanh)", "[1,768]"),
           ("linear_768x50257", "Linear 768×50257", "[1,768]"),
           ("attention_ctx128", "attention, context 128", "[1,768] (c_attn + softmax(QKᵀ)V + c_proj)"),
           ("mlp", "MLP (not in the issue's targets)", "[1,768] (c_fc + GELU + c_proj)")]
TARGET_OPS = ["layer_norm", "gelu", "linear_768x50257", "attention_ctx128"]
BYTES_PER_ELEM = {"f32": 4.0, "f16": 2.0, "q8": 34 / 32, "q8_0": 34 / 32, "q4": 18 / 32, "q4_0": 18 / 32}


def load(raw):
    res = {}
    for p in sorted(glob.glob(os.path.join(raw, "*.json"))):
        name = os.path.basename(p)[:-5]
        try:
            with open(p) as f:
                res[name] = json.load(f)
        except (OSError, ValueError) as e:
            res[name] = {"error": f"unreadable output: {e}"}
    for ext, key in ((".fail", "error"), (".skip", "skipped")):
        for p in sorted(glob.glob(os.path.join(raw, "*" + ext))):
            with open(p, errors="replace") as f:
                res[os.path.basename(p)[:-len(ext)]] = {key: f.read().strip() or "failed", "error": ""}
    return res


def fmt(v, nd=1):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.{nd}f}"
    if abs(v) >= 0.1:
        return f"{v:.2f}"
    return f"{v:.4f}"


def ratio(a, b):
    return a / b if a and b else None


def fr(v):
    return "—" if v is None else f"{v:.2f}×"


def pct(v):
    return "—" if v is None else f"{100 * v:.0f}%"


class Report:
    def __init__(self, raw):
        self.raw = raw
        self.r = load(raw)
        self.meta = self.r.pop("meta", {})
        self.roof = self.r.pop("roofline", {})
        self.dims = self.meta.get("gpt2", {"n_layer": 12, "n_embd": 768, "vocab": 50257, "n_positions": 1024})
        self.threads = self.meta.get("threads", [1])
        self.md = []
        self.targets = []
        self.derived = {}

    def get(self, label, t):
        d = self.r.get(f"{label}-t{t}")
        return d if d and "error" not in d else None

    def why(self, label, t):
        d = self.r.get(f"{label}-t{t}")
        if d is None:
            return "not run"
        if "skipped" in d:
            return d["skipped"]
        return (d.get("error", "").splitlines() or ["failed"])[-1][:160] if "error" in d else None

    # ------------------------------------------------------------------ roofline helpers

    def bw(self, t):
        b = self.roof.get("bandwidth_gbs", {})
        return (b.get("triad_1t") if t == 1 else b.get("triad")) or None

    def peak(self, t):
        f = self.roof.get("fma_gflops", {})
        return (f.get("peak_1t") if t == 1 else f.get("peak")) or None

    def bytes_per_token(self, dtype, ctx, kv_bytes):
        """Bytes a decode step must stream: every block matrix and the tied head once, the small
        f32 vectors, and the KV cache of every layer up to ctx. Embedding rows are negligible."""
        L, C, V = self.dims["n_layer"], self.dims["n_embd"], self.dims["vocab"]
        mats = L * 12 * C * C + V * C
        vecs = L * 13 * C + 2 * C
        return mats * BYTES_PER_ELEM[dtype] + vecs * 4 + 2 * L * ctx * C * kv_bytes

    def prefill_flops(self, T):
        L, C, V = self.dims["n_layer"], self.dims["n_embd"], self.dims["vocab"]
        return 2 * T * L * 12 * C * C + L * 2 * C * T * (T + 1) + 2 * C * V

    def collapsed(self, label, t, key, sub=None):
        """True when LABEL's figure with t > 1 threads is under half its 1-thread figure: that is
        not how any of these engines scales on an idle machine, but what a spinning thread pool
        does when other processes take its cores. Ratios built on such a figure mean nothing."""
        if t == 1:
            return False
        val = lambda d: ((d or {}).get(key, {}) or {}).get(sub) if sub else (d or {}).get(key)  # noqa: E731
        one, many = val(self.get(label, 1)), val(self.get(label, t))
        return bool(one and many and many < 0.5 * one)

    # ------------------------------------------------------------------ sections

    def header(self):
        m = self.meta
        self.md += [f"# seam benchmark — {m.get('host', '?')}, {m.get('date', '?')}", ""]
        self.md += ["Written by `make bench` (bench/run.sh). Every engine runs the same random-weight GPT-2-small "
                    "checkpoint (12 layers, 768 wide, 12 heads, vocab 50257, 1024 positions; "
                    "`tools/make_random_gpt2.c`, seed 1234) converted to its own format, with the same "
                    "prompt ids and the same thread count.", ""]
        rows = [("CPU", m.get("cpu")), ("physical cores", m.get("physical_cores")),
                ("threads measured", ", ".join(str(t) for t in self.threads)), ("memory", m.get("memory")),
                ("kernel", m.get("kernel")), ("seam", f"{m.get('git_commit', '?')} (ISA {m.get('seam_isa', '?')})"),
                ("load average at start / end", f"{m.get('loadavg_start', '?')} / {m.get('loadavg_end', '?')}"),
                ("CPU time stolen by the hypervisor during the run",
                 f"{m['cpu_time']['steal_pct']}%" if m.get("cpu_time") else None),
                ("run time", m.get("elapsed")), ("repetitions", m.get("reps_note"))]
        self.md += ["| | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in rows if v is not None] + [""]
        peers = m.get("peers", {})
        if peers:
            self.md += ["Peers:", ""]
            for k, v in peers.items():
                self.md.append(f"- **{k}**: {v}")
            self.md.append("")

    def roofline(self):
        b, f = self.roof.get("bandwidth_gbs"), self.roof.get("fma_gflops")
        self.md += ["## Machine limits (bench/roofline.c, same run)", ""]
        if not b or not f:
            self.md += [f"Not measured: {self.roof.get('error', 'roofline did not run')}", ""]
            return
        n = self.roof.get("threads")
        self.md += [f"| | 1 thread | {n} thread{'s' if n != 1 else ''} |", "| --- | --- | --- |",
                    f"| memory bandwidth, triad (GB/s) | {fmt(b['triad_1t'])} | {fmt(b['triad'])} |",
                    f"| memory bandwidth, read-only sum (GB/s) | {fmt(b['read_1t'])} | {fmt(b['read'])} |",
                    f"| FP32 FMA peak, {f['isa']} (GFLOP/s) | {fmt(f['peak_1t'])} | {fmt(f['peak'])} |", "",
                    f"Triad arrays: 3 × {self.roof.get('array_bytes', 0) >> 20} MiB; bytes counted the STREAM way "
                    "(2 reads + 1 write per element). Decode fractions below divide by the triad figure.", ""]
        if n and n > 1 and f["peak_1t"] and f["peak"] < 0.75 * n * f["peak_1t"]:
            self.md += [f"All {n} threads reach only {f['peak'] / f['peak_1t']:.2f}× one thread's FMA rate: the "
                        "virtual CPUs share physical cores, the all-core clock is lower, or the host was busy; "
                        "the multi-thread figures below cannot scale linearly either.", ""]

    def decoder_table(self, t, title, cols):
        """cols: [(label, heading)], the first is seam's."""
        self.md += [f"### {title} — {t} thread{'s' if t > 1 else ''}", ""]
        data = [(lab, head, self.get(lab, t)) for lab, head in cols]
        if not any(d for _, _, d in data):
            self.md += ["Nothing measured: " + "; ".join(f"{h}: {self.why(l, t)}" for l, h, _ in data), ""]
            return
        seam = data[0][2]
        heads = ["figure", data[0][1]]
        for lab, head, _ in data[1:]:
            heads += [head, f"seam ÷ {head.rsplit(' ', 1)[0]}"]
        self.md += ["| " + " | ".join(heads) + " |", "|" + " --- |" * len(heads)]

        def row(name, key, sub=None, invert=False, nd=1):
            val = lambda d: (d.get(key, {}) or {}).get(sub) if sub else d.get(key)  # noqa: E731
            s = val(seam) if seam else None
            cells = [name, fmt(s, nd) if seam else "—"]
            for lab, head, d in data[1:]:
                p = val(d) if d else None
                cells += [fmt(p, nd), fr(ratio(p, s) if invert else ratio(s, p))]
            self.md.append("| " + " | ".join(cells) + " |")

        row("prefill T=16 (tok/s)", "prefill_tok_s", "16")
        row("prefill T=128 (tok/s)", "prefill_tok_s", "128")
        row("prefill T=512 (tok/s)", "prefill_tok_s", "512")
        row("decode at context 128 (tok/s)", "decode_tok_s", "128")
        row("decode at context 512 (tok/s)", "decode_tok_s", "512")
        row("time to first token, 128-token prompt (ms)", "ttft_ms", invert=True)
        row("peak RSS (MB) — ratio is peer ÷ seam", "peak_rss_mb", invert=True, nd=0)
        if seam and seam.get("context_new_ms") is not None:
            self.md.append(f"| of which seam_context_new (ms) | {fmt(seam['context_new_ms'])} |"
                           + " | |" * (len(data) - 1))
        firsts = [str(d.get("first_token_16")) if d else "—" for _, _, d in data]
        self.md.append("| first token after the 16-id prompt | " + " | ".join(
            [firsts[0]] + [x for f in firsts[1:] for x in (f, "")]) + " |")
        self.md.append("")
        missing = [f"{h}: {self.why(l, t)}" for l, h, d in data if not d]
        if missing:
            self.md += ["Missing columns — " + "; ".join(missing), ""]
        bad = [h for l, h, d in data if d and any(self.collapsed(l, t, k, c) for k, c in
                                                  [("decode_tok_s", "128"), ("decode_tok_s", "512"),
                                                   ("prefill_tok_s", "512")])]
        if bad:
            self.md += [f"**Not comparable:** {', '.join(bad)} — with {t} threads, under half the speed of the same "
                        "engine with 1 thread (CPU contention on a busy machine stalls spinning thread pools); "
                        "ratios in those columns say nothing about the engines.", ""]

    def decoders(self):
        self.md += ["## GPT-2 small decoder", "",
                    "Ratios are seam's speed-up (above 1: seam is faster); for peak RSS the ratio is peer ÷ seam "
                    "(above 1: seam uses less). Prefill = forward over T prompt ids + picking the next token "
                    "(logits of the last row only, every engine). Decode = 1 ÷ median single-token step "
                    "(forward + greedy pick) after a prefill to that context. Time to first token includes "
                    "what a new request costs each engine (seam: a new context; PyTorch: new KV tensors; "
                    "ONNX Runtime: an empty past; llama.cpp: clearing the sequence).", ""]
        for t in self.threads:
            self.decoder_table(t, "f32 weights", [("seam-f32", "seam f32"), ("torch-f32", "PyTorch f32"),
                                                   ("ort-f32", "ONNX Runtime f32"), ("llama-f32", "llama.cpp f32")])
            self.decoder_table(t, "f16 weights", [("seam-f16", "seam f16"), ("llama-f16", "llama.cpp f16")])
            self.decoder_table(t, "8-bit weights", [("seam-q8", "seam q8"), ("llama-q8_0", "llama.cpp Q8_0")])
            self.decoder_table(t, "4-bit weights", [("seam-q4", "seam q4"), ("llama-q4_0", "llama.cpp Q4_0")])

    def tokenizer(self):
        s, l = self.get("seam-f32", 1), self.get("llama-f32", 1)
        self.md += ["## Tokenizer (one core)", ""]
        c = self.meta.get("corpus", {})
        self.md += [f"Corpus: {c.get('desc', '?')} ({c.get('bytes', 0) / 1e6:.2f} MB).", "",
                    "| | seam | llama.cpp (node-llama-cpp `model.tokenize`) | seam ÷ llama.cpp |", "| --- | --- | --- | --- |"]
        sv, lv = (s or {}).get("tokenizer_mb_s"), (l or {}).get("tokenizer_mb_s")
        self.md += [f"| MB/s | {fmt(sv)} | {fmt(lv)} | {fr(ratio(sv, lv))} |",
                    f"| tokens | {(s or {}).get('tokenizer_tokens', '—')} | {(l or {}).get('tokenizer_tokens', '—')} | |", ""]

    def ops(self):
        self.md += ["## Per-layer table (the Kaoken seed's ops)", "",
                    "Milliseconds per call, median of 7 batches. seam: its kernels through the internal "
                    "headers (`src/kernels/kernels.h`, `src/graph/ops.h`; attention mirrors "
                    "`attention_worker` in `src/graph/gpt2.c` with the same kernel table). PyTorch: the same "
                    "ops in eager mode. The Kaoken columns are the seed's published numbers, from another "
                    "machine, for context only.", ""]
        for t in self.threads:
            s, p = self.get("seam-ops", t), self.get("torch-ops", t)
            self.md += [f"### {t} thread{'s' if t > 1 else ''}", ""]
            if not s and not p:
                self.md += [f"Not measured: seam: {self.why('seam-ops', t)}; PyTorch: {self.why('torch-ops', t)}", ""]
                continue
            self.md += ["| op | input | PyTorch (ms) | seam (ms) | seam speed-up | Kaoken seed: PyTorch / Kaoken (ms) |",
                        "| --- | --- | --- | --- | --- | --- |"]
            for key, name, shape in OP_ROWS:
                sv = (s or {}).get("ops_ms", {}).get(key)
                pv = (p or {}).get("ops_ms", {}).get(key)
                k = KAOKEN.get(key)
                ks = f"{k[0]} / {k[1] if k[1] is not None else '—'}" if k else ""
                self.md.append(f"| {name} | {shape} | {fmt(pv)} | {fmt(sv)} | {fr(ratio(pv, sv))} | {ks} |")
            self.md.append("")

    def fractions(self):
        self.md += ["## Roofline fractions", "",
                    "Decode: tok/s × bytes streamed per token (every block matrix and the tied head once, "
                    "the f32 vectors, the KV cache up to the context; in the engine's weight and KV dtypes; "
                    "for seam, the bytes it maps less the position table) "
                    "÷ measured triad bandwidth. Prefill: FLOPs of a T=512 prefill (matmuls, causal "
                    "attention, the head for the last row) × runs/s ÷ measured FMA peak, same thread count. "
                    "Q8_0/Q4_0 (and seam q8/q4) multiply with integer dot products (VNNI, AMX where present), "
                    "so their share of the FP32 FMA peak is for scale only and can pass 100%.", ""]
        rows = []
        for t in self.threads:
            for lab, dt, name in [("seam-f32", "f32", "seam f32"), ("seam-f16", "f16", "seam f16"),
                                  ("seam-q8", "q8", "seam q8"), ("seam-q4", "q4", "seam q4"),
                                  ("torch-f32", "f32", "PyTorch f32"), ("ort-f32", "f32", "ONNX Runtime f32"),
                                  ("llama-f32", "f32", "llama.cpp f32"), ("llama-f16", "f16", "llama.cpp f16"),
                                  ("llama-q8_0", "q8_0", "llama.cpp Q8_0"), ("llama-q4_0", "q4_0", "llama.cpp Q4_0")]:
                d = self.get(lab, t)
                if not d:
                    continue
                kvb = d.get("kv_bytes_per_elem", 4)
                cells, der = [name, str(t)], {}
                for ctx in ("128", "512"):
                    tps = d.get("decode_tok_s", {}).get(ctx)
                    bpt = self.bytes_per_token(dt, int(ctx), kvb)
                    if lab.startswith("seam-") and d.get("weight_bytes"):
                        # seam's own formats (q4 keeps a min per block and a q8 head) are counted
                        # from what it maps: everything but the position table, of which one row is read.
                        L, C, P = self.dims["n_layer"], self.dims["n_embd"], self.dims["n_positions"]
                        bpt = d["weight_bytes"] - P * C * (2 if dt == "f16" else 4) + 2 * L * int(ctx) * C * kvb
                    f = ratio(tps * bpt / 1e9, self.bw(t)) if tps else None
                    der[f"decode_{ctx}_bw_fraction"] = f
                    der[f"decode_{ctx}_bytes_per_token"] = bpt
                    cells += [f"{bpt / 1e6:.0f}", fmt(tps * bpt / 1e9) if tps else "—", pct(f)]
                pre = d.get("prefill_tok_s", {}).get("512")
                gf = self.prefill_flops(512) * pre / 512 / 1e9 if pre else None
                der["prefill_512_gflops"] = gf
                der["prefill_512_peak_fraction"] = ratio(gf, self.peak(t))
                cells += [fmt(gf), pct(der["prefill_512_peak_fraction"])]
                self.derived[f"{lab}-t{t}"] = der
                rows.append("| " + " | ".join(cells) + " |")
        self.md += ["| engine | threads | MB/token @128 | GB/s @128 | of triad @128 | MB/token @512 | GB/s @512 "
                    "| of triad @512 | prefill T=512 GFLOP/s | of FMA peak |", "|" + " --- |" * 10] + rows + [""]

    def bert(self):
        self.md += ["## Sentence encoder (issue 4): all-MiniLM-L6-v2 shape, random weights", "",
                    "Sentences per second, 1 ÷ median batch time × batch. Same ids for every engine "
                    "([CLS] … [SEP], no padding; short = 12 tokens, long = 128), forward + mean pooling + "
                    "L2 normalisation. The last column is seam from text (WordPiece and bucketing included) "
                    "on sentences of the same token counts.", ""]
        for t in self.threads:
            s, o, p = self.get("seam-bert", t), self.get("ort-bert", t), self.get("torch-bert", t)
            self.md += [f"### {t} thread{'s' if t > 1 else ''}", ""]
            if not (s or o or p):
                self.md += [f"Not measured: seam: {self.why('seam-bert', t)}; ONNX Runtime: {self.why('ort-bert', t)}; "
                            f"PyTorch: {self.why('torch-bert', t)}", ""]
                continue
            if s and s.get("precision"):
                self.md += [f"seam: kernels `{s.get('isa')}`, matmul precision {s['precision']}"
                            + (" (AMX: three bf16 products per f32 product, README's Sentence embeddings)"
                               if s["precision"] == "high" else " (IEEE f32)") + ".", ""]
            self.md += ["| input | seam | ONNX Runtime | seam ÷ ORT | PyTorch | seam ÷ PyTorch | seam from text |",
                        "| --- | --- | --- | --- | --- | --- | --- |"]
            for key, name in [("b1_short", "batch 1, ~12 tokens"), ("b1_long", "batch 1, ~128 tokens"),
                              ("b32_short", "batch 32, ~12 tokens"), ("b32_long", "batch 32, ~128 tokens")]:
                sv = (s or {}).get("sentences_s", {}).get(key)
                ov = (o or {}).get("sentences_s", {}).get(key)
                pv = (p or {}).get("sentences_s", {}).get(key)
                tv = (s or {}).get("text_sentences_s", {}).get(key)
                self.md.append(f"| {name} | {fmt(sv)} | {fmt(ov)} | {fr(ratio(sv, ov))} | {fmt(pv)} | "
                               f"{fr(ratio(sv, pv))} | {fmt(tv)} |")
            self.md.append("")
            bad = [h for lab, h in [("seam-bert", "seam"), ("ort-bert", "ONNX Runtime"), ("torch-bert", "PyTorch")]
                   if any(self.collapsed(lab, t, "sentences_s", k) for k in ("b1_short", "b1_long", "b32_short", "b32_long"))]
            if bad:
                self.md += [f"**Not comparable:** {', '.join(bad)} — with {t} threads, under half the speed of the "
                            "same engine with 1 thread on some input (CPU contention).", ""]
            for lab, h in [("seam-bert", "seam"), ("ort-bert", "ONNX Runtime"), ("torch-bert", "PyTorch")]:
                if not self.get(lab, t):
                    self.md += [f"{h}: {self.why(lab, t)}", ""]

    @staticmethod
    def encoder_cost(shape, T):
        """(FLOP per sentence of T tokens, bytes of f32 Linear weights one forward reads):
        the six Linear layers of each block, plus attention (QKᵀ and AV, 2·T²·C multiply-adds)."""
        try:
            L, C, I = int(shape["n_layer"]), int(shape["hidden"]), int(shape["intermediate"])
        except (KeyError, TypeError, ValueError):
            return None, None
        params = L * (4 * C * C + 2 * C * I)
        return 2 * T * params + 4 * L * T * T * C, 4 * params

    def encoder_limit(self, seam, key, t, sps):
        """What sps sentences/s of input `key` would take of this machine at t threads."""
        B, T = (1 if key.startswith("b1") else 32), (12 if key.endswith("short") else 128)
        T = ((seam or {}).get("lengths") or {}).get(key.split("_")[1], T)
        flop, wbytes = self.encoder_cost((seam or {}).get("shape"), T)
        f, bw = self.roof.get("fma_gflops") or {}, self.roof.get("bandwidth_gbs") or {}
        peak = f.get("peak_1t") if t == 1 else f.get("peak") if t == self.roof.get("threads") else None
        if not flop or not peak:
            return None
        out = f"needs {sps * flop / 1e9 / peak:.0%} of the FMA peak"
        read = bw.get("read_1t") if t == 1 else bw.get("read")
        llc = self.roof.get("llc_bytes")
        if B == 1 and read:
            # Every forward streams all the weights; at batch 1 that can be the bound instead.
            where = (f"they fit in the {llc / 2**20:.0f} MiB last-level cache" if llc and wbytes < llc else
                     f"read-only roofline {read:.0f} GB/s from DRAM")
            out += f" and {sps * wbytes / 1e9:.0f} GB/s of weight reads ({wbytes / 1e6:.0f} MB per forward; {where})"
        return out

    # ------------------------------------------------------------------ targets

    def target(self, name, t, value, ok, why=None, suspect=(), limit=None):
        """suspect: (label, key, sub) figures the row depends on; a collapsed one voids the row.
        limit: what the target would take of the machine, said when it is missed."""
        res = "PASS" if ok else ("MISS" if why is None else "NOT MEASURED")
        bad = [lab for lab, key, sub in suspect if self.collapsed(lab, t, key, sub)]
        if bad and why is None:
            res, why = "UNRELIABLE", f"{', '.join(bad)} under half its 1-thread speed: CPU contention"
        if res == "MISS" and limit:
            why = limit
        self.targets.append({"target": name, "threads": t, "measured": value, "result": res, "note": why})

    def check_targets(self):
        for t in self.threads:
            s32, l32 = self.get("seam-f32", t), self.get("llama-f32", t)
            for ctx in ("128", "512"):
                sv = (s32 or {}).get("decode_tok_s", {}).get(ctx)
                lv = (l32 or {}).get("decode_tok_s", {}).get(ctx)
                r = ratio(sv, lv)
                self.target(f"decode f32 @{ctx} ≥ 1.3× llama.cpp f32", t, fr(r), r is not None and r >= 1.3,
                            None if r is not None else f"seam: {self.why('seam-f32', t) or 'ok'}; llama.cpp: "
                                                       f"{self.why('llama-f32', t) or 'ok'}",
                            [("seam-f32", "decode_tok_s", ctx), ("llama-f32", "decode_tok_s", ctx)])
                f = self.derived.get(f"seam-f32-t{t}", {}).get(f"decode_{ctx}_bw_fraction")
                self.target(f"decode f32 @{ctx} ≥ 85% of bandwidth roofline", t, pct(f), f is not None and f >= 0.85,
                            None if f is not None else "seam f32 or roofline missing")
            for sl, ll, q in [("seam-q8", "llama-q8_0", "q8"), ("seam-q4", "llama-q4_0", "q4")]:
                for ctx in ("128", "512"):
                    sv = (self.get(sl, t) or {}).get("decode_tok_s", {}).get(ctx)
                    lv = (self.get(ll, t) or {}).get("decode_tok_s", {}).get(ctx)
                    r = ratio(sv, lv)
                    self.target(f"decode {q} @{ctx} ≥ 1.3× llama.cpp {ll.split('-')[1].upper()}", t, fr(r),
                                r is not None and r >= 1.3,
                                None if r is not None else f"seam: {self.why(sl, t) or 'ok'}; llama.cpp: "
                                                           f"{self.why(ll, t) or 'ok'}",
                                [(sl, "decode_tok_s", ctx), (ll, "decode_tok_s", ctx)])
            f = self.derived.get(f"seam-f32-t{t}", {}).get("prefill_512_peak_fraction")
            self.target("prefill f32 T=512 ≥ 70% of FMA peak", t, pct(f), f is not None and f >= 0.70,
                        None if f is not None else "seam f32 or roofline missing")
            sv = (s32 or {}).get("prefill_tok_s", {}).get("512")
            pv = (self.get("torch-f32", t) or {}).get("prefill_tok_s", {}).get("512")
            r = ratio(sv, pv)
            self.target("prefill f32 T=512 ≥ 1.5× PyTorch", t, fr(r), r is not None and r >= 1.5,
                        None if r is not None else f"PyTorch: {self.why('torch-f32', t) or 'ok'}",
                        [("seam-f32", "prefill_tok_s", "512"), ("torch-f32", "prefill_tok_s", "512")])
            so, po = self.get("seam-ops", t), self.get("torch-ops", t)
            for key in TARGET_OPS:
                r = ratio((po or {}).get("ops_ms", {}).get(key), (so or {}).get("ops_ms", {}).get(key))
                self.target(f"per-layer {key} ≥ 10× PyTorch", t, fr(r), r is not None and r >= 10,
                            None if r is not None else "seam or PyTorch ops missing")
            sb, ob = self.get("seam-bert", t), self.get("ort-bert", t)
            for key, need in [("b1_short", 2.0), ("b1_long", 2.0), ("b32_short", 1.5), ("b32_long", 1.5)]:
                r = ratio((sb or {}).get("sentences_s", {}).get(key), (ob or {}).get("sentences_s", {}).get(key))
                ov = (ob or {}).get("sentences_s", {}).get(key)
                self.target(f"encoder {key} ≥ {need}× ONNX Runtime", t, fr(r), r is not None and r >= need,
                            None if r is not None else f"seam: {self.why('seam-bert', t) or 'ok'}; "
                                                       f"ONNX Runtime: {self.why('ort-bert', t) or 'ok'}",
                            [("seam-bert", "sentences_s", key), ("ort-bert", "sentences_s", key)],
                            self.encoder_limit(sb, key, t, need * ov) if ov else None)
        self.md += ["## Targets (issues 3 and 4)", "",
                    "Reported either way; a MISS does not fail the run.", "",
                    "| target | threads | measured | result |", "| --- | --- | --- | --- |"]
        for x in self.targets:
            res = x["result"] + (f" ({x['note']})" if x["note"] else "")
            self.md.append(f"| {x['target']} | {x['threads']} | {x['measured']} | {res} |")
        n_pass = sum(x["result"] == "PASS" for x in self.targets)
        n_miss = sum(x["result"] == "MISS" for x in self.targets)
        n_nm = sum(x["result"] == "NOT MEASURED" for x in self.targets)
        n_un = sum(x["result"] == "UNRELIABLE" for x in self.targets)
        self.md += ["", f"{n_pass} PASS, {n_miss} MISS, {n_un} unreliable, {n_nm} not measured.", ""]

    def notes(self):
        self.md += ["## Notes", ""]
        try:
            load = float(str(self.meta.get("loadavg_start", "0")).split()[0])
        except ValueError:
            load = 0.0
        cores = self.meta.get("physical_cores") or 1
        if load > 0.5 * cores:
            self.md.append(f"- The machine was busy when the run started (load average {self.meta.get('loadavg_start')} "
                           f"on {cores} cores): other processes competed for the CPU, so every figure here is "
                           "noisier and lower than on an idle machine, for seam and the peers alike.")
        for n in self.meta.get("notes", []):
            self.md.append(f"- {n}")
        ver = [self.r.get(k) for k in sorted(self.r) if k.startswith("gguf-verify-")]
        if ver:
            self.md.append("- GGUF check (write_gguf.py --verify): llama.cpp's logits after the 16-id prompt vs a "
                           "PyTorch forward on the weights read back and dequantised from each GGUF (relative L2): "
                           + "; ".join(f"{v.get('gguf')}: {v.get('llama_vs_dequant_rel_l2', float('nan')):.4f} "
                                       f"({'ok' if v.get('ok') else 'FAILED'}; quantisation itself "
                                       f"{v.get('dequant_vs_f32_rel_l2', float('nan')):.4f} from f32)"
                                       for v in ver if v and 'error' not in v))
        fails = {k: v["error"] for k, v in self.r.items() if "error" in v and "skipped" not in v}
        for k, v in sorted(fails.items()):
            self.md.append(f"- `{k}` failed: {v.splitlines()[-1][:300] if v else 'failed'}")
        self.md.append("")

    def write(self, base):
        self.header()
        self.roofline()
        self.decoders()
        self.fractions()
        self.tokenizer()
        self.ops()
        self.bert()
        try:  # ---- split inference (issue 5): bench/report_split.py renders its section, never fails the report
            import report_split
            report_split.render(self)
        except ImportError as e:
            self.md += ["## Split inference (issue 5)", "", f"Not rendered: {e}", ""]
        # ---- end split inference
        self.check_targets()
        self.notes()
        with open(base + ".md", "w") as f:
            f.write("\n".join(self.md))
        with open(base + ".json", "w") as f:
            json.dump({"meta": self.meta, "roofline": self.roof, "results": self.r, "derived": self.derived,
                       "targets": self.targets}, f, indent=1)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Report(sys.argv[1]).write(sys.argv[2])
    # --- browser section (issue 6): bench/report_web.py renders bench/web_bench.sh's files ---
    try:
        import report_web
        report_web.append(sys.argv[1], sys.argv[2])
    except Exception as e:  # noqa: BLE001  (the browser section never breaks the report)
        print(f"report.py: browser section left out: {e}", file=sys.stderr)
    # --- end browser section ---
    print(sys.argv[2] + ".md")


if __name__ == "__main__":
    main()
