#!/usr/bin/env python3
"""ONNX Runtime encoder peer through its Python package, for machines where onnxruntime is
importable from Python but node is absent (the device machine; Debian 12 has no Python
onnxruntime, so make bench uses ort_gpt2.mjs there). Same conventions as ort_gpt2.mjs's bert
mode and seam_bench's encoder mode: [CLS] ids [SEP] of (1000 + 997 (t + b)) mod vocab, no
padding, a warm-up run that sizes the repetitions to ~2 s (3 to 64), the median. JSON on
stdout, the same keys as ort_gpt2.mjs.

usage: ort_bert.py MODEL.onnx CONFIG.json [-t N]"""
import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def bert_ids(B, T, vocab):
    ids = np.empty((B, T), dtype=np.int64)
    for b in range(B):
        for t in range(T):
            i = (1000 + 997 * (t + b)) % vocab
            if i < 1000:
                i += 1000
            ids[b, t] = 101 if t == 0 else 102 if t == T - 1 else i
    return ids, np.ones((B, T), dtype=np.int64)


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "-t"):
        sys.exit(__doc__)
    model, config = argv[0], argv[1]
    threads = int(argv[3]) if len(argv) == 4 else 1
    vocab = json.load(open(config))["vocab_size"]
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    out = {}
    for B in (1, 32):
        for T in (12, 128):
            ids, mask = bert_ids(B, T, vocab)
            ts, reps, r = [], 0, -1
            while r < reps:
                t0 = time.perf_counter()
                s.run(None, {"input_ids": ids, "attention_mask": mask})
                dt = time.perf_counter() - t0
                if r < 0:
                    reps = min(64, max(3, int(2 / max(dt, 1e-6))))
                else:
                    ts.append(dt)
                r += 1
            key = f"b{B}_{'short' if T == 12 else 'long'}"
            out[key] = B / statistics.median(ts)
            print(f"  ort encoder B={B} T={T}: {out[key]:.1f} sentences/s", file=sys.stderr)
    print(json.dumps({"engine": "onnxruntime", "version": ort.__version__, "threads": threads, "sentences_s": out}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
