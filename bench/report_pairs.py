#!/usr/bin/env python3
"""Renders bench/encoder_pairs.sh's rounds: RAW holds ENGINE-tT-rR.json for the engines
seam-high, ort and seam-highest. Writes OUT.md and OUT.json.

usage: report_pairs.py RAW_DIR OUT_PREFIX"""
import glob
import json
import os
import platform
import re
import statistics
import sys

KEYS = [("b1_short", "batch 1 × 12 tokens"), ("b1_long", "batch 1 × 128 tokens"),
        ("b32_short", "batch 32 × 12 tokens"), ("b32_long", "batch 32 × 128 tokens")]
# issue 4's targets, seam ÷ ONNX Runtime
TARGET = {"b1_short": 2.0, "b1_long": 2.0, "b32_short": 1.5, "b32_long": 1.5}


def load(raw):
    runs = {}
    for f in sorted(glob.glob(os.path.join(raw, "*.json"))):
        m = re.match(r"(seam-high|seam-highest|ort)-t(\d+)-r(\d+)\.json$", os.path.basename(f))
        if m:
            runs.setdefault(int(m.group(2)), {}).setdefault(int(m.group(3)), {})[m.group(1)] = json.load(open(f))
    return runs


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render(runs):
    md, out = [], {"cpu": cpu(), "threads": {}}
    for t in sorted(runs):
        rounds = runs[t]
        any_seam = next((r["seam-high"] for r in rounds.values() if "seam-high" in r), {})
        md += [f"### {t} thread{'s' if t > 1 else ''}, {len(rounds)} rounds", "",
               f"seam at high ran on kernels `{any_seam.get('isa', '?')}` (precision {any_seam.get('precision', '?')}).", "",
               "| input | seam high | ONNX Runtime | seam highest | high ÷ ORT (per-round ratios) | highest ÷ ORT | target | |",
               "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        res = {}
        for key, name in KEYS:
            vals = {e: [r[e]["sentences_s"][key] for r in rounds.values() if e in r and key in r[e].get("sentences_s", {})]
                    for e in ("seam-high", "ort", "seam-highest")}
            ratios = [r["seam-high"]["sentences_s"][key] / r["ort"]["sentences_s"][key] for r in rounds.values()
                      if "seam-high" in r and "ort" in r and r["ort"]["sentences_s"].get(key)]
            ratios_x = [r["seam-highest"]["sentences_s"][key] / r["ort"]["sentences_s"][key] for r in rounds.values()
                        if "seam-highest" in r and "ort" in r and r["ort"]["sentences_s"].get(key)]
            med = {e: statistics.median(v) if v else None for e, v in vals.items()}
            ratio = statistics.median(ratios) if ratios else None
            ratio_x = statistics.median(ratios_x) if ratios_x else None
            verdict = "PASS" if ratio is not None and ratio >= TARGET[key] else "MISS"
            f = lambda v: "—" if v is None else f"{v:,.1f}"
            md.append(f"| {name} | {f(med['seam-high'])} | {f(med['ort'])} | {f(med['seam-highest'])} | "
                      f"{'—' if ratio is None else f'{ratio:.2f}×'} ({', '.join(f'{x:.2f}' for x in ratios)}) | "
                      f"{'—' if ratio_x is None else f'{ratio_x:.2f}×'} | ≥ {TARGET[key]}× | {verdict} |")
            res[key] = {"seam_high": med["seam-high"], "ort": med["ort"], "seam_highest": med["seam-highest"],
                        "ratio_high": ratio, "ratio_highest": ratio_x, "round_ratios_high": ratios,
                        "target": TARGET[key], "pass": verdict == "PASS"}
        out["threads"][str(t)] = res
        md.append("")
    return md, out


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    runs = load(argv[0])
    if not runs:
        sys.exit(f"report_pairs: no rounds in {argv[0]}")
    md, out = render(runs)
    head = [f"# seam encoder vs ONNX Runtime, paired rounds — {platform.node()}", "",
            f"CPU: {out['cpu']}. Written by bench/encoder_pairs.sh: per thread count, each round runs seam "
            "(matmul precision high), ONNX Runtime, then seam (highest) on the same random all-MiniLM-L6-v2-shaped "
            "weights and ids; figures are sentences/s (median over rounds), ratios the median of the per-round "
            "ratios.", ""]
    for ext, text in ((".md", "\n".join(head + md) + "\n"), (".json", json.dumps(out, indent=2) + "\n")):
        tmp = argv[1] + ext + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, argv[1] + ext)
    print("\n".join(head + md))


if __name__ == "__main__":
    main(sys.argv[1:])
