#!/usr/bin/env python3
"""ONNX Runtime encoder peer through its Python package, for machines where onnxruntime is
importable from Python but node is absent (the device machine; Debian 12 has no Python
onnxruntime, so make bench uses ort_gpt2.mjs there). Same conventions as ort_gpt2.mjs's bert
mode and seam_bench's encoder mode: [CLS] ids [SEP] of (1000 + 997 (t + b)) mod vocab, no
padding, a warm-up run that sizes the repetitions to ~2 s (3 to 1000), the median. JSON on
stdout, the same keys as ort_gpt2.mjs.

usage: ort_bert.py MODEL.onnx CONFIG.json [-t N]"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encoder_timing  # noqa: E402


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

    def make_run(B, T):
        ids = np.array(encoder_timing.bench_ids(B, T, vocab), dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        return lambda: s.run(None, feed)

    out = encoder_timing.sentences_per_s(make_run, "ort")
    print(json.dumps({"engine": "onnxruntime", "version": ort.__version__, "threads": threads, "sentences_s": out}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
