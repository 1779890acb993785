#!/usr/bin/python3
"""The "Browser" section of the bench report (issue 6): seam's WebAssembly build vs
transformers.js in headless Chromium, and seam wasm vs seam native, from the RAW_DIR/web-*.json
files bench/web_bench.sh writes. Standard library only.

report.py calls append(RAW_DIR, OUT_BASENAME) after writing its own files: the section goes
into OUT_BASENAME.md before "## Notes" and under "browser" in OUT_BASENAME.json; nothing
happens when the browser step did not run. Standalone:

usage: report_web.py RAW_DIR OUT_BASENAME     (writes OUT_BASENAME.md and OUT_BASENAME.json)"""
import json
import os
import sys

WASM_VS_TJS = 2.0     # seam wasm ≥ 2× transformers.js, same weights class and threads
WASM_VS_NATIVE = 0.5  # seam wasm, 1 thread ≥ 50% of seam native, 1 thread


# seam wasm with the relaxed-SIMD q8 tiles switched off (web/seam_wasm.c sw_rx): the A/B row
NO_RX = "seam wasm, SIMD128 tiles only"


def _load(raw, name):
    p = os.path.join(raw, name)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _lines(raw, name):
    p = os.path.join(raw, name)
    return [l.rstrip("\n") for l in open(p, errors="replace") if l.strip()] if os.path.exists(p) else []


def _f(v, nd=1):
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.0f}" if v >= 100 else f"{v:.{nd}f}" if v >= 10 else f"{v:.2f}"


def _r(a, b):
    return a / b if a and b else None


def _median(v):
    v = sorted(v)
    n = len(v)
    return None if not n else v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def paired(a, b, key):
    """a ÷ b for one figure (key: prefill_tok_s or decode_tok_s) of two rows. Where both rows'
    runs carry the round they ran in (browser_bench.mjs's rounds), the median of the per-round
    ratios and their spread: {"ratio", "lo", "hi", "rounds"}; otherwise the ratio of the rows'
    best figures with rounds = 0 (raw files of older runs)."""
    if not a or not b:
        return None
    ra = {x["round"]: x.get(key) for x in a.get("runs") or [] if "round" in x and x.get(key)}
    rb = {x["round"]: x.get(key) for x in b.get("runs") or [] if "round" in x and x.get(key)}
    both = sorted(set(ra) & set(rb))
    if both:
        rs = [ra[r] / rb[r] for r in both]
        return {"ratio": _median(rs), "lo": min(rs), "hi": max(rs), "rounds": len(rs)}
    r = _r(a.get(key), b.get(key))
    return None if r is None else {"ratio": r, "lo": r, "hi": r, "rounds": 0}


def median_of_runs(d, key):
    return _median([x[key] for x in (d or {}).get("runs") or [] if x.get(key)])


def collect(raw):
    """Rows keyed by (engine, weights, threads); None when the browser step left nothing."""
    meta = _load(raw, "web-meta.json")
    browser = _load(raw, "web-browser.json")
    # browser_bench.mjs runs seam native in its own rounds (under "native"); older raw folders
    # have native_gen's separate runs in web-native-*.json
    natives = {q: ((browser or {}).get("native") or {}).get(q) or _load(raw, f"web-native-{q}.json") for q in ("q8", "f32")}
    notes = _lines(raw, "web-notes.txt")
    if not meta and not browser and not any(natives.values()) and not notes:
        return None
    rows = {}
    for q, d in natives.items():
        if d:
            rows[("seam native", q, d.get("threads", 1))] = d
    for d in (browser or {}).get("results", []):
        eng = {"seam-wasm": "seam wasm", "seam-wasm-simd128": NO_RX}.get(d.get("engine"), "transformers.js")
        q = {"fp32": "f32"}.get(d.get("requested_dtype"), d.get("requested_dtype"))
        rows[(eng, q, d.get("threads"))] = d
        want = int(d["label"].rsplit("-t", 1)[1]) if "-t" in d.get("label", "") else d.get("threads")
        if d.get("threads") != want:
            notes.append(f"{d['label']}: asked for {want} threads, ran with {d.get('threads')}")
    errors = (browser or {}).get("errors", [])
    return {"meta": meta or {}, "browser": browser or {}, "rows": rows, "notes": notes, "errors": errors}


def prefill_macs(cfg, P):
    """Multiply-adds per prompt token of a GPT-2 prefill of P tokens that keeps the logits of
    the last position only (both engines do): the layers' matmuls, causal attention (QKᵀ and
    AV over (P + 1) / 2 keys on average) and the head once per prompt."""
    try:
        L, d, V = int(cfg["n_layer"]), int(cfg["n_embd"]), int(cfg["vocab_size"])
        inner = int(cfg.get("n_inner") or 4 * d)
    except (KeyError, TypeError, ValueError):
        return None
    return L * (4 * d * d + 2 * d * inner) + L * d * (P + 1) + V * d / P


def limits(roof, m, rows, threads):
    """The browser's peaks table and prefill as a fraction of them; peak_need(q, t, tok_s,
    relaxed) says what fraction of t threads' peak a prefill of tok_s tokens/s would take
    (None if unknown): q8 against the relaxed byte dot when relaxed, else the int16 dot."""
    macs = prefill_macs(m.get("model_config") or {}, m.get("prompt_tokens") or 0) if m.get("prompt_tokens") else None
    def num(k):  # a positive figure or None (a probe timed at 0 ms arrives as null)
        v = (roof or {}).get(k)
        return v if isinstance(v, (int, float)) and v > 0 else None

    if not num("int16_dot_gmacs") or not num("f32_mul_add_gflops"):
        return [], lambda q, t, v, relaxed=False: None
    # GMAC/s one thread can do for each weight type: q8 GEMMs run on the int16 dot (seam's
    # SIMD128 tiles and onnxruntime-web's MatMulInteger alike) or, for seam where the engine
    # allows, on relaxed SIMD's byte dot; f32 on mul + add (2 FLOP per MAC).
    peak = {"q8": num("int16_dot_gmacs"), "f32": num("f32_mul_add_gflops") / 2, "q8rx": num("i8_relaxed_dot_gmacs")}
    peak_name = {"q8": "int16 dot + add", "f32": "f32 mul + add", "q8rx": "relaxed byte dot"}

    def which(q, relaxed):
        return "q8rx" if q == "q8" and relaxed and peak["q8rx"] else q

    def need(q, t, tok_s, relaxed=False):
        p = peak.get(which(q, relaxed))
        return tok_s * macs / 1e9 / (p * t) if macs and tok_s and p and t else None

    md = ["### What the browser's SIMD allows here (`bench/web/roofline_wasm.c`, `bench/web/roofline_relaxed.c`, same Chromium run)", "",
          "Independent chains of the one operation each kind of GEMM is built on, in a page of their own: "
          "`i32x4.dot_i16x8_s` + `i32x4.add` (8 multiply-adds; SIMD128 has no byte dot product, so seam's "
          "SIMD128 q8 tiles and onnxruntime-web's MatMulInteger both widen int8 to int16 for it), relaxed "
          "SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 multiply-adds, accumulate included; what seam's "
          "q8 prefill runs on where the engine sums unsigned bytes exactly, `src/kernels/quant_wasm_relaxed.c`) "
          "and `f32x4.mul` + `f32x4.add` (no FMA in SIMD128). No real GEMM can go faster: it also loads, "
          "widens and stores.", "",
          "| 1 thread | peak |", "| --- | --- |",
          f"| int16 dot + add | {_f(roof['int16_dot_gmacs'])} GMAC/s |",
          f"| relaxed byte dot | {_f(peak['q8rx']) + ' GMAC/s' if peak['q8rx'] else 'not measured (no clang-19 build, or no relaxed SIMD here)'} |",
          f"| f32 mul + add | {_f(roof['f32_mul_add_gflops'])} GFLOP/s ({_f(peak['f32'])} GMAC/s) |", ""]
    if macs:
        md += [f"Prefill against it: {macs / 1e6:.1f} M multiply-adds per prompt token (the model's shape, "
               f"`prefill_macs` in bench/report_web.py); the peak of t threads is taken as t × one thread's.", "",
               "| engine | weights | threads | prefill (tok/s) | GMAC/s | against | share of that peak |",
               "| --- | --- | --- | --- | --- | --- | --- |"]
        for t in threads:
            for eng in ("seam wasm", NO_RX, "transformers.js"):
                for q in ("q8", "f32"):
                    d = rows.get((eng, q, t))
                    if d and d.get("prefill_tok_s"):
                        v, rx = d["prefill_tok_s"], bool(d.get("relaxed_simd"))
                        md.append(f"| {eng} | {q} | {t} | {_f(v)} | {_f(v * macs / 1e9)} | {peak_name[which(q, rx)]} | "
                                  f"{need(q, t, v, rx) or 0:.0%} |")
        md.append("")
    return md, lambda q, t, v, relaxed=False: (need(q, t, v, relaxed), peak_name[which(q, relaxed)])


def rounds_text(m, rows):
    if not any("round" in x for d in rows.values() for x in d.get("runs") or []):
        return f"A short warm-up generation first, then best of {m.get('reps', '?')} runs."
    return ("This machine's speed drifts by up to 2× from minute to minute, so the engines take turns: for each "
            "thread count every engine is loaded once (and warmed up with one generation), then "
            f"{m.get('reps', '?')} rounds each run every engine once, in an order that rotates from round to "
            "round; seam native (`bench/web/native_gen.c --serve`, a process of its own) joins the 1-thread "
            "rounds, and the q8 page runs seam with and without its relaxed-SIMD tiles in each round."
            + (" Before each run the bench waits for the machine to settle (half a second under 15% busy, at most "
               "10 s, 30 s before the first): V8 goes on compiling a page's WebAssembly in the background after its "
               "first runs." if any("settle_ms" in x for d in rows.values() for x in d.get("runs") or []) else "")
            + " Figures are the median of the rounds (best in brackets); every ratio below is the median of "
            "per-round ratios (its range in brackets), so both sides of a ratio ran in the same minute.")


def _fig(d, key):
    med = median_of_runs(d, key)
    if med is None or not any("round" in x for x in d.get("runs") or []):
        return _f(d.get(key))
    return f"{_f(med)} ({_f(d.get(key))})"


def _ratio_text(p, pct=False):
    if p is None:
        return "—"
    fmt = (lambda v: f"{100 * v:.0f}%") if pct else (lambda v: f"{v:.2f}×")
    return fmt(p["ratio"]) + (f" ({fmt(p['lo'])}–{fmt(p['hi'])}, {p['rounds']} rounds)" if p["rounds"] > 1 else "")


def render(raw):
    """(markdown lines, JSON-able dict), or (None, None) when there is nothing to show."""
    c = collect(raw)
    if c is None:
        return None, None
    m, rows, b = c["meta"], c["rows"], c["browser"]
    threads = m.get("threads") or sorted({k[2] for k in rows if k[0] != "seam native"}) or [1]
    md = ["## Browser (issue 6): seam WebAssembly vs transformers.js, headless Chromium", ""]
    md += [f"One headless Chromium run (`bench/web_bench.sh` → `bench/web/browser_bench.mjs`), page served "
           "cross-origin isolated (COOP/COEP) from 127.0.0.1 by `bench/web/serve.mjs`; every engine in a page "
           "of its own. The random GPT-2-small of `make bench` (`tools/make_random_gpt2.c`, seed 1234, f32 and `seam "
           "quantize --type q8`); prompt "
           f"{m.get('prompt_tokens', '?')} ids `(1000 + 997 i) mod 50257`, then {m.get('new_tokens', '?')} greedy "
           "tokens (end-of-text ignored). Prefill = prompt forward + first pick; decode = (N − 1) ÷ time from "
           "the first token to the last. " + rounds_text(m, rows), ""]
    md += ["- **seam wasm**: `build/web/seam.mjs` (seam.wasm for 1 thread, seam-mt.wasm for 2; SIMD128), "
           "q8 = `seam quantize --type q8` (Q8_0 blocks of 32), f32 = the checkpoint itself; no Cache API. Where "
           "the browser's relaxed-SIMD byte dot sums unsigned bytes exactly (V8 on x86 with AVX-VNNI), q8 "
           "prefill runs on it (`src/kernels/quant_wasm_relaxed.c`); the row *" + NO_RX + "* is the same "
           "build with that switched off, in the same run (same bits, only the speed differs).",
           f"- **transformers.js** {m.get('transformers_js') or '?'} (`@huggingface/transformers` from npm, "
           f"`dist/transformers.js`), onnxruntime-web {m.get('onnxruntime_web') or '?'} wasm execution provider "
           "(transformers.js's default asyncify build, served locally), `env.allowRemoteModels = false`, "
           "`numThreads` = threads, no browser cache. Model: `bench/web/export_tjs.py`, the torch peer's forward "
           "exported in optimum's layout (`input_ids`, `attention_mask`, `position_ids`, "
           "`past_key_values.N.key/value` → `logits`, `present.N.key/value`) plus `num_logits_to_keep`, which "
           "transformers.js sets to 1. fp32 = `onnx/model.onnx`; q8 = `onnx/model_quantized.onnx` "
           "(dtype 'q8'), written in the pattern onnxruntime's `quantize_dynamic` emits (int8 weights with one "
           "scale per output column, `DynamicQuantizeLinear` + `MatMulInteger` per matrix, int8 embedding "
           "Gather), because onnxruntime's Python quantizer cannot be installed here (no PyPI).",
           "- **seam native**: `bench/web/native_gen.c`, the same generate loop through the public C API, "
           "1 thread, same machine, same clocks.",
           f"- Chromium: {m.get('chromium') or b.get('user_agent') or '?'}; navigator.hardwareConcurrency "
           f"{b.get('hardware_concurrency', '?')}; node {m.get('node') or '?'}; playwright-core "
           f"{m.get('playwright_core') or '?'}; {m.get('emcc') or 'emcc ?'}.", ""]

    md += ["| engine | weights | threads | prefill (tok/s) | decode (tok/s) | first token | same ids as native | load (s) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = [("seam native", q, 1) for q in ("q8", "f32")]
    for t in threads:
        order += [("seam wasm", "q8", t), (NO_RX, "q8", t), ("transformers.js", "q8", t), ("seam wasm", "f32", t),
                  ("transformers.js", "f32", t)]
    table = []
    for key in order:
        d = rows.get(key)
        if not d:
            continue
        nat = rows.get(("seam native", key[1], 1))
        same = "—"
        if nat and key[0] != "seam native" and d.get("runs"):
            same = "yes" if d["runs"][0].get("ids") == nat.get("ids") else "no"
        load = f"{d['load_ms'] / 1000:.1f}" if d.get("load_ms") is not None else "—"
        md.append(f"| {key[0]} | {key[1]} | {key[2]} | {_fig(d, 'prefill_tok_s')} | {_fig(d, 'decode_tok_s')} | "
                  f"{d.get('first_token', '—')} | {same} | {load} |")
        table.append({"engine": key[0], "weights": key[1], "threads": key[2], "prefill_tok_s": d.get("prefill_tok_s"),
                      "decode_tok_s": d.get("decode_tok_s"), "prefill_tok_s_median": median_of_runs(d, "prefill_tok_s"),
                      "decode_tok_s_median": median_of_runs(d, "decode_tok_s"), "first_token": d.get("first_token"), "same_ids_as_native": same,
                      "load_ms": d.get("load_ms")})
    md.append("")
    ab = []
    for t in threads:
        p = paired(rows.get(("seam wasm", "q8", t)), rows.get((NO_RX, "q8", t)), "prefill_tok_s")
        if p:
            ab.append(f"{t} thread{'s' if t > 1 else ''}: {_ratio_text(p)}")
    if ab:
        md += ["q8 prefill with the relaxed-SIMD tiles ÷ with the SIMD128 tiles only (same page): " + "; ".join(ab) + ".", ""]

    limits_md, peak_need = limits(b.get("roofline"), m, rows, threads)
    md += limits_md
    targets = []

    def target(name, t, fig, a, b, need, q=None, relaxed=False):
        p = paired(a, b, f"{fig}_tok_s")
        r = p["ratio"] if p else None
        res = "NOT MEASURED" if r is None else "PASS" if r >= need else "MISS"
        note = None
        # what the target asks of the peak, from the peer's median (best, for older raw files)
        peer = (median_of_runs(b, f"{fig}_tok_s") if p and p["rounds"] else None) or (b or {}).get(f"{fig}_tok_s")
        if res == "MISS" and fig == "prefill" and q and peer:
            share, peak_name = peak_need(q, t, need * peer, relaxed) or (None, None)
            if share is not None:
                note = f"needs {share:.0%} of the {peak_name} peak"
        targets.append({"target": name, "threads": t, "figure": fig, "ratio": r, "result": res, "note": note,
                        "paired": p})

    for t in threads:
        for q, tq in (("q8", "q8"), ("f32", "fp32")):
            s, j = rows.get(("seam wasm", q, t)), rows.get(("transformers.js", q, t))
            for fig in ("decode", "prefill"):
                target(f"seam wasm {q} ≥ {WASM_VS_TJS:g}× transformers.js {tq}", t, fig, s, j, WASM_VS_TJS, q,
                       bool((s or {}).get("relaxed_simd")))
    for q in ("q8", "f32"):
        s, n = rows.get(("seam wasm", q, 1)), rows.get(("seam native", q, 1))
        for fig in ("decode", "prefill"):
            target(f"seam wasm {q}, 1 thread ≥ {WASM_VS_NATIVE:.0%} of native {q}, 1 thread", 1, fig, s, n,
                   WASM_VS_NATIVE, q, bool((s or {}).get("relaxed_simd")))
    md += ["| target | threads | figure | measured | result |", "| --- | --- | --- | --- | --- |"]
    for x in targets:
        meas = _ratio_text(x["paired"], "%" in x["target"])
        res = x["result"] + (f" ({x['note']})" if x.get("note") else "")
        md.append(f"| {x['target']} | {x['threads']} | {x['figure']} | {meas} | {res} |")
    n = {k: sum(x["result"] == k for x in targets) for k in ("PASS", "MISS", "NOT MEASURED")}
    md += ["", f"{n['PASS']} PASS, {n['MISS']} MISS, {n['NOT MEASURED']} not measured (reported either way; a MISS "
           "does not fail the run).", ""]

    # The correctness cross-check: f32 engines must pick native's first token.
    nat = rows.get(("seam native", "f32", 1))
    checks = []
    if nat:
        for key, d in sorted(rows.items(), key=lambda kv: str(kv[0])):
            if key[1] == "f32" and key[0] != "seam native":
                checks.append({"engine": key[0], "threads": key[2], "first_token": d.get("first_token"),
                               "native": nat.get("first_token"), "ok": d.get("first_token") == nat.get("first_token")})
    if checks:
        ok = all(x["ok"] for x in checks)
        md.append(f"- First-token cross-check (f32): native picks {nat.get('first_token')}; "
                  + ", ".join(f"{x['engine']} t{x['threads']}: {x['first_token']}" for x in checks)
                  + (" — all agree." if ok else " — **DISAGREE**."))
    else:
        md.append("- First-token cross-check (f32): not possible (native f32 or the f32 browser rows missing).")
    q8 = [(k, d.get("first_token")) for k, d in rows.items() if k[1] == "q8"]
    if q8:
        md.append("- q8 first tokens (different quantisations, so agreement is not required): "
                  + ", ".join(f"{k[0]} t{k[2]}: {v}" for k, v in sorted(q8, key=lambda x: str(x[0]))) + ".")
    cores = b.get("hardware_concurrency") or m.get("nproc")
    if cores and max(threads) >= cores:
        md.append(f"- {max(threads)} threads on a machine Chromium sees {cores} logical cores on: the page's threads "
                  "compete with the browser, the server and anything else running, so 2-thread figures are noisy.")
    sq, tq = rows.get(("seam wasm", "q8", 1)), rows.get(("transformers.js", "q8", 1))
    if sq and tq and sq.get("prefill_tok_s", 0) < tq.get("prefill_tok_s", 0):
        md.append("- seam wasm q8 prefills slower than transformers.js q8 here: both widen int8 to int16 for "
                  "i32x4.dot_i16x8_s (SIMD128 has no byte dot product), but Q8_0's per-block scales cost seam's "
                  "tiles (`src/kernels/quant_wasm.c`) a conversion and a scale per 32 inputs, where onnxruntime's "
                  "MatMulInteger on per-column scales sums all of K in int32 and scales once per output. See the "
                  "SIMD128 peak above for how far either is from the limit.")
    if m.get("loadavg_start"):
        try:
            # the start only: by the end the 1-minute average counts the benchmark's own threads
            busy = float(str(m["loadavg_start"]).split()[0])
        except ValueError:
            busy = 0.0
        line = (f"Load average at the start / end of this section: {m['loadavg_start']} / {m.get('loadavg_end', '?')} "
                f"(on {cores or '?'} logical cores)")
        rounds = any("round" in x for d in rows.values() for x in d.get("runs") or [])
        if cores and busy > 0.5 * cores and rounds:
            md.append(f"- **Busy machine:** {line}; the 1-minute figure also counts whatever ran in the minute before. "
                      "Each ratio pairs runs of the same round, so a slow minute slows both sides of it; the range "
                      "beside each median shows how far single rounds strayed.")
        elif cores and busy > 0.5 * cores:
            md.append(f"- **Busy machine:** {line}. Other processes took CPU time from every engine at different moments, "
                      "so single figures and the ratios built on them can be off by 2× either way; rerun on an idle "
                      "machine before reading PASS or MISS into them.")
        else:
            md.append(f"- {line}.")
    for x in c["errors"]:
        md.append(f"- `{x.get('label')}` failed: {x.get('error')}")
    for x in c["notes"]:
        md.append(f"- {x}")
    md.append("")
    data = {"meta": m, "user_agent": b.get("user_agent"), "hardware_concurrency": cores, "rows": table,
            "targets": targets, "first_token_check": checks, "errors": c["errors"], "notes": c["notes"],
            "raw": {"browser": b.get("results", []), "native": {q: rows.get(("seam native", q, 1)) for q in ("q8", "f32")}}}
    return md, data


def append(raw, base):
    """Adds the section to report.py's BASE.md (before "## Notes") and BASE.json."""
    md, data = render(raw)
    if md is None:
        return
    with open(base + ".md") as f:
        text = f.read().split("\n")
    at = text.index("## Notes") if "## Notes" in text else len(text)
    with open(base + ".md", "w") as f:
        f.write("\n".join(text[:at] + md + text[at:]))
    try:
        with open(base + ".json") as f:
            j = json.load(f)
    except (OSError, ValueError):
        j = {}
    j["browser"] = data
    with open(base + ".json", "w") as f:
        json.dump(j, f, indent=1)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    md, data = render(sys.argv[1])
    if md is None:
        sys.exit("report_web: no web-*.json files in " + sys.argv[1])
    with open(sys.argv[2] + ".md", "w") as f:
        f.write("\n".join(["# seam browser benchmark", ""] + md))
    with open(sys.argv[2] + ".json", "w") as f:
        json.dump({"browser": data}, f, indent=1)
    print(sys.argv[2] + ".md")


if __name__ == "__main__":
    main()
