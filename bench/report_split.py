#!/usr/bin/python3
"""Split inference figures for `make bench` (issue 5): bench/split_bench.sh runs the
measurements and calls `collect`; bench/report.py imports this module and calls render()
for its "Split inference" section. Standard library only; never raises into the report.

usage: report_split.py collect RUN_DIR     JSON of one split_bench.sh run (stdout)
       report_split.py render SPLIT.json   the markdown section (stdout)"""
import glob
import json
import os
import re
import statistics
import sys

WIRE = {"f32": (68, 4), "f16": (68, 2), "q8": (72, 1)}  # hidden-state message: a + b*C bytes per token (README)

EDGE_RE = {
    "tokens": re.compile(r"seam edge: (\d+) tokens in ([\d.]+) s, (\d+) round trips"),
    "prompt": re.compile(r"prompt step: sent (\d+) bytes, received (\d+) bytes"),
    "step": re.compile(r"per decode step: sent (\d+) bytes, received (\d+) bytes"),
    "decode": re.compile(r"decode: (\d+) steps, ([\d.]+) ms per token \(this side ([\d.]+) ms, server compute ([\d.]+) ms, "
                         r"network and HTTP ([\d.-]+) ms\)"),
}
LOCAL_RE = re.compile(r"generated (\d+) tokens in ([\d.]+) s")


def _read(p):
    try:
        with open(p, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse_edge(stats):
    m = {k: r.search(stats) for k, r in EDGE_RE.items()}
    if not all(m.values()):
        return None
    return {"tokens": int(m["tokens"].group(1)), "wall_s": float(m["tokens"].group(2)),
            "round_trips": int(m["tokens"].group(3)),
            "prompt_sent": int(m["prompt"].group(1)), "prompt_received": int(m["prompt"].group(2)),
            "step_sent": int(m["step"].group(1)), "step_received": int(m["step"].group(2)),
            "decode_steps": int(m["decode"].group(1)), "ms_per_token": float(m["decode"].group(2)),
            "edge_ms": float(m["decode"].group(3)), "server_ms": float(m["decode"].group(4)),
            "net_ms": float(m["decode"].group(5))}


def collect(run_dir):
    """Reads what split_bench.sh left in run_dir: local-*.err, edge runs as
    runs/K-MODE-ACT-REP.{err,out,cmd}, shards.json, notes.txt, params.json."""
    out = {"params": {}, "notes": [], "local": {}, "runs": [], "shards": None}
    try:
        out["params"] = json.load(open(os.path.join(run_dir, "params.json")))
    except (OSError, ValueError) as e:
        out["notes"].append(f"params.json unreadable: {e}")
    out["notes"] += [l for l in _read(os.path.join(run_dir, "notes.txt")).splitlines() if l.strip()]
    local_ids = next((x for x in (_read(p).strip() for p in sorted(glob.glob(os.path.join(run_dir, "local-*.out")))) if x), "")
    by_rep = {}
    for p in sorted(glob.glob(os.path.join(run_dir, "local-*.err"))):
        m = LOCAL_RE.search(_read(p))
        if m and int(m.group(1)) > 1:  # n tokens = n - 1 decode forwards
            by_rep[int(os.path.basename(p)[6:-4])] = 1e3 * float(m.group(2)) / (int(m.group(1)) - 1)
    ms = [by_rep[r] for r in sorted(by_rep)]
    out["local"] = {"ms_per_token_runs": ms, "ms_per_token_by_rep": {str(r): v for r, v in by_rep.items()},
                    "ms_per_token": statistics.median(ms) if ms else None, "ids": local_ids}
    for p in sorted(glob.glob(os.path.join(run_dir, "runs", "*.err"))):
        k, mode, act, rep = os.path.basename(p)[:-4].split("-")
        st = parse_edge(_read(p))
        ids = _read(p[:-4] + ".out").strip()
        r = {"k": int(k), "mode": mode, "act": act, "rep": int(rep)}
        if st is None:
            err = [l for l in _read(p).splitlines() if l.strip()]
            r["error"] = err[-1][:300] if err else "no --stats output"
        else:
            r.update(st)
            r["same_ids_as_local"] = bool(local_ids) and ids == local_ids
        out["runs"].append(r)
    try:
        out["shards"] = json.load(open(os.path.join(run_dir, "shards.json")))
    except (OSError, ValueError) as e:
        out["notes"].append(f"shard table not computed: {e}")
    out["summary"] = summarise(out)
    return out


def _median_run(runs, k, mode, act):
    rs = [r for r in runs if r["k"] == k and r["mode"] == mode and r["act"] == act and "error" not in r]
    if not rs:
        return None
    rs.sort(key=lambda r: r["ms_per_token"])
    mid = rs[(len(rs) - 1) // 2]  # the lower median is a real run, so its parts add up
    return dict(mid, reps=len(rs))


def summarise(d):
    """The figures the section shows, also kept in the JSON."""
    runs, local = d["runs"], d["local"].get("ms_per_token")
    C = d["params"].get("n_embd", 768)
    s = {"latency": [], "bytes": [], "sweep": []}
    k_lat = d["params"].get("latency_k", 6)
    by_rep = d["local"].get("ms_per_token_by_rep", {})
    for mode in ("tail", "head"):
        r = _median_run(runs, k_lat, mode, "f32")
        if r:
            # Added latency from pairs run back to back (split rep i minus local rep i), whose
            # median is steadier on a busy machine than the difference of two medians.
            pairs = [x["ms_per_token"] - by_rep[str(x["rep"])] for x in runs if x["k"] == k_lat and x["mode"] == mode
                     and x["act"] == "f32" and "error" not in x and str(x["rep"]) in by_rep]
            s["latency"].append({"k": k_lat, "mode": mode, "reps": r["reps"], "pairs": len(pairs), "local_ms": local,
                                 "split_ms": r["ms_per_token"],
                                 "added_ms": statistics.median(pairs) if pairs else (r["ms_per_token"] - local if local else None),
                                 "added_ms_pairs": pairs, "edge_ms": r["edge_ms"], "server_ms": r["server_ms"],
                                 "net_ms": r["net_ms"]})
    for act in ("f32", "f16", "q8"):
        for mode in ("tail", "head"):
            r = _median_run(runs, k_lat, mode, act)
            if not r:
                continue
            a, b = WIRE[act]
            hidden = r["step_received"] if mode == "tail" else r["step_sent"]
            s["bytes"].append({"act": act, "mode": mode, "sent": r["step_sent"], "received": r["step_received"],
                               "hidden_measured": hidden, "hidden_formula": a + b * C, "matches": hidden == a + b * C,
                               "tok_s": 1e3 / r["ms_per_token"], "same_ids_as_local": r.get("same_ids_as_local")})
    for k in sorted({r["k"] for r in runs}):
        row = {"k": k}
        for mode in ("tail", "head"):
            r = _median_run(runs, k, mode, "f32")
            row[mode] = None if not r else {"tok_s": 1e3 / r["ms_per_token"], "ms": r["ms_per_token"], "net_ms": r["net_ms"],
                                            "same_ids_as_local": r.get("same_ids_as_local")}
        s["sweep"].append(row)
    s["local_tok_s"] = 1e3 / local if local else None
    return s


# ------------------------------------------------------------------ markdown

def _f(v, nd=1):
    return "—" if v is None else f"{v:.{nd}f}"


def _mb(b):
    return f"{b / 1e6:,.1f}" if b is not None else "—"


def section(d):
    """The markdown lines of the split section for one collected run (d may be an error record)."""
    md = ["## Split inference (issue 5): `seam serve` + `seam edge` on 127.0.0.1", ""]
    if not d or "summary" not in d:
        why = (d or {}).get("error") or (d or {}).get("skipped") or "bench/split_bench.sh did not run"
        return md + [f"Not measured: {why}", ""]
    p, s = d["params"], d["summary"]
    t = p.get("threads", "?")
    md += [f"The random GPT-2-small checkpoint (f32). One server (`seam serve --compute-threads {t}`) and one edge "
           f"(`seam edge -t {t}`) on loopback, local baseline `seam generate -t {t}`; greedy, the bench's "
           f"{p.get('prompt_len', '?')}-id prompt then {p.get('tokens', '?')} tokens (so {p.get('tokens', 1) - 1} "
           "single-token decode steps, each one HTTP round trip). Per-token figures are over the decode steps only "
           "(`seam edge --stats` 'decode:' line; `seam generate --stats` decode time ÷ steps). Bytes are HTTP bodies "
           "(headers not counted).", ""]
    loc = s.get("local_tok_s")
    if p.get("loadavg_start"):
        md += [f"Load average at start / end of this section: {p['loadavg_start']} / {p.get('loadavg_end', '?')} "
               "(other processes on the machine slow both sides and the baseline alike).", ""]
    md += [f"Local decode: {_f(d['local'].get('ms_per_token'), 2)} ms per token ({_f(loc)} tok/s; median of "
           f"{len(d['local'].get('ms_per_token_runs', []))} runs).", ""]
    if s["latency"]:
        md += [f"### Added latency per token (split at k = {s['latency'][0]['k']}, f32 activations)", "",
               "Local and split runs alternate; *added* is the median over those pairs of (split − local) ms per token, "
               "the other columns are medians. The split time divides into the edge's compute, the server's compute "
               "(its `X-Seam-Server-Ms`) and the rest: loopback, HTTP, wire encoding and decoding. The two sides "
               "compute the same blocks and head as one local run, so that last column is what splitting itself "
               "costs per token; the paired difference adds whatever else the machine was doing (on a busy host it "
               "can come out negative).", "",
               "| mode | local (ms) | split (ms) | added (ms) | pairs (ms) | edge compute | server compute | network + HTTP |",
               "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in s["latency"]:
            pairs = ", ".join(f"{x:+.1f}" for x in r.get("added_ms_pairs", [])) or "—"
            md.append(f"| {r['mode']} | {_f(r['local_ms'], 2)} | {_f(r['split_ms'], 2)} | {_f(r['added_ms'], 2)} | "
                      f"{pairs} | {_f(r['edge_ms'], 2)} | {_f(r['server_ms'], 2)} | {_f(r['net_ms'], 2)} |")
        md.append("")
    if s["bytes"]:
        C = p.get("n_embd", 768)
        md += ["### Bytes per decode step, by activation dtype", "",
               f"Formula (README, hidden-state message): 68 + 4C (f32), 68 + 2C (f16), 72 + C (q8) with C = {C}. In tail "
               "mode the hidden state is the answer (the request is the JSON token id); in head mode it is the request "
               "(the answer is the JSON token).", "",
               "| activations | mode | sent | received | hidden state | formula | matches | tok/s | same ids as local |",
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in s["bytes"]:
            same = {True: "yes", False: "no", None: "—"}[r["same_ids_as_local"]]
            md.append(f"| {r['act']} | {r['mode']} | {r['sent']} | {r['received']} | {r['hidden_measured']} | "
                      f"{r['hidden_formula']} | {'yes' if r['matches'] else '**NO**'} | {_f(r['tok_s'])} | {same} |")
        md += ["", "f16 and q8 may change greedy ids on random weights (near-flat logits); f32 must not.", ""]
    if s["sweep"]:
        md += ["### Tokens/s by split point (f32 activations)", "",
               f"Local: {_f(loc)} tok/s. k = 0 in tail mode: the server only embeds; k = {p.get('n_layer', 12)} in head "
               "mode: the server only runs the head.", "",
               "| k | tail (tok/s) | tail ÷ local | tail network + HTTP (ms/token) | head (tok/s) | head ÷ local "
               "| head network + HTTP (ms/token) | f32 ids = local |", "|" + " --- |" * 8]
        for r in s["sweep"]:
            cells, same = [str(r["k"])], []
            for mode in ("tail", "head"):
                x = r[mode]
                cells += [_f(x["tok_s"]) if x else "—", f"{x['tok_s'] / loc:.2f}×" if x and loc else "—",
                          _f(x["net_ms"], 2) if x else "—"]
                if x:
                    same.append(x["same_ids_as_local"])
            cells.append("yes" if same and all(same) else ("**no**" if same else "—"))
            md.append("| " + " | ".join(cells) + " |")
        md.append("")
    sh = d.get("shards")
    if sh and sh.get("rows"):
        tok = ", ".join(f"{k} ({v:,} B)" for k, v in sh.get("tokenizer_files", {}).items()) or "none"
        md += ["### Shard an edge downloads for the last layers (MB = 10⁶ bytes)", "",
               "Computed from the formats by `bench/shard_size.py` (the files of `seam split --layers A:N [--head] "
               "[--quant]`: config.json, model.safetensors and, with the head, the tokenizer files: " + tok + "). "
               "1024 positions, vocab 50257; the head is the final norm + lm_head tied to wte (the whole embedding "
               "matrix). f16: the parent stored in F16; q8/q4: `--quant` of the f32 parent (the head/wte stays q8).", "",
               "| model | layers | head | f32 | f16 | q8 | q4 |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in sh["rows"]:
            b = r["bytes"]
            md.append(f"| {r['shape']} ({r['n_layer']} × {r['n_embd']}) | last {r['layers'][1] - r['layers'][0]} "
                      f"([{r['layers'][0]}, {r['layers'][1]})) | {'yes' if r['head'] else 'no'} | {_mb(b['f32'])} | "
                      f"{_mb(b['f16'])} | {_mb(b['q8'])} | {_mb(b['q4'])} |")
        ch = sh.get("checks", [])
        if ch:
            ok = [c for c in ch if c["ok"] and c["same_parent"]]
            bad = [c for c in ch if not (c["ok"] and c["same_parent"])]
            md += ["", f"Checked against `seam split --size` on this run's GPT-2-small checkpoints: {len(ok)} of "
                       f"{len(ch)} cells equal to the byte."]
            for c in bad:
                md.append(f"- MISMATCH layers {c['layers']} head={c['head']} {c['type']}: computed {c['computed']}, "
                          f"seam split {c['seam_split_size']}{'' if c['same_parent'] else ' (checkpoint differs from the assumed one)'}"
                          f"{' — ' + c['error'] if c.get('error') else ''}")
        else:
            md += ["", "Not checked against `seam split --size` in this run."]
        md.append("")
    for n in d.get("notes", []):
        md.append(f"- {n}")
    if d.get("notes"):
        md.append("")
    errs = [r for r in d.get("runs", []) if "error" in r]
    for r in errs:
        md.append(f"- edge run k={r['k']} {r['mode']} {r['act']} failed: {r['error']}")
    if errs:
        md.append("")
    return md


def render(report):
    """Hook for bench/report.py: appends the section to report.md."""
    try:
        d = report.r.get("split")
        if d is not None and "summary" not in d:
            # report.py's load() keeps a .fail file's text under a key it then blanks: read it here.
            why = _read(os.path.join(report.raw, "split.fail")).strip() or _read(os.path.join(report.raw, "split.skip")).strip()
            d = {"error": why or d.get("error") or "failed"}
        report.md += section(d)
    except Exception as e:  # noqa: BLE001 - a broken section must not cost the rest of the report
        report.md += ["## Split inference (issue 5)", "", f"Not rendered: {type(e).__name__}: {e}", ""]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "collect":
        json.dump(collect(sys.argv[2]), sys.stdout, indent=1)
        print()
    elif len(sys.argv) == 3 and sys.argv[1] == "render":
        print("\n".join(section(json.load(open(sys.argv[2])))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
