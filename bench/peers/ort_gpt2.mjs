// ONNX Runtime peer for `make bench` (onnxruntime-node, CPU execution provider): times the
// graph that export_onnx.py wrote from the torch peer, with the same conventions as
// bench/seam_bench.c (prompt ids, medians, logits of the last row only). JSON on stdout.
//
// usage: node ort_gpt2.mjs gpt2 MODEL.onnx CONFIG.json [-t N] [--reps R] [--decode-steps N]
//        node ort_gpt2.mjs bert MODEL.onnx CONFIG.json [-t N]
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// onnxruntime-node lives in bench/node_modules, next to this folder's parent.
const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), "..", "node_modules", "x.js"));
const ort = require("onnxruntime-node");

function parseArgs(argv) {
  const a = { mode: argv[0], model: argv[1], config: argv[2], threads: 1, reps: 3, decodeSteps: 16 };
  for (let i = 3; i < argv.length; i += 2) {
    const v = Number(argv[i + 1]);
    if (argv[i] === "-t") a.threads = v;
    else if (argv[i] === "--reps") a.reps = v;
    else if (argv[i] === "--decode-steps") a.decodeSteps = v;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const argmax = (x) => {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
};
const peakRssMb = () => process.resourceUsage().maxRSS / 1024; // KiB on Linux

async function session(file, threads) {
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    executionProviders: ["cpu"],
  });
}

async function benchGpt2(a) {
  const cfg = JSON.parse(fs.readFileSync(a.config, "utf8"));
  const L = cfg.n_layer, H = cfg.n_head, D = cfg.n_embd / cfg.n_head, V = cfg.vocab_size;
  const s = await session(a.model, a.threads);
  const ids = Array.from({ length: 1024 }, (_, i) => (1000 + 997 * i) % V);
  const emptyPast = new ort.Tensor("float32", new Float32Array(0), [L, 2, H, 0, D]);
  // One forward over ids[from, from+n) on top of `past`; returns [next token, present].
  const step = async (from, n, past) => {
    const t = new ort.Tensor("int64", BigInt64Array.from(ids.slice(from, from + n), BigInt), [1, n]);
    const r = await s.run({ input_ids: t, past });
    return [argmax(r.logits.data), r.present];
  };
  await step(0, 16, emptyPast); // warm-up

  const prefill = {};
  let first = null;
  for (const T of [16, 128, 512]) {
    const reps = T >= 512 ? Math.min(a.reps, 2) : a.reps;
    const ts = [];
    for (let r = 0; r < reps; r++) {
      const t0 = now();
      const [next] = await step(0, T, emptyPast);
      ts.push(now() - t0);
      if (T === 16) first = next;
    }
    prefill[T] = T / median(ts);
    console.error(`  ort prefill T=${T}: ${prefill[T].toFixed(1)} tok/s`);
  }
  const decode = {};
  for (const Lc of [128, 512]) {
    let [next, past] = await step(0, Lc, emptyPast);
    const steps = [];
    for (let i = 0; i < a.decodeSteps; i++) {
      const t0 = now();
      const t = new ort.Tensor("int64", BigInt64Array.from([BigInt(next)]), [1, 1]);
      const r = await s.run({ input_ids: t, past });
      next = argmax(r.logits.data);
      past = r.present;
      steps.push(now() - t0);
    }
    decode[Lc] = 1 / median(steps);
    console.error(`  ort decode ctx=${Lc}: ${decode[Lc].toFixed(1)} tok/s`);
  }
  const tt = [];
  for (let r = 0; r < a.reps; r++) {
    const t0 = now();
    await step(0, 128, emptyPast);
    tt.push(now() - t0);
  }
  return {
    engine: "onnxruntime", version: ort.env.versions?.common ?? "unknown", threads: a.threads, dtype: "F32",
    weight_bytes: fs.statSync(a.model).size, kv_bytes_per_elem: 4,
    prefill_tok_s: prefill, decode_tok_s: decode, ttft_ms: median(tt) * 1e3,
    ttft_note: "empty past + prefill 128 + argmax", peak_rss_mb: peakRssMb(), first_token_16: first,
    reps: a.reps, decode_steps: a.decodeSteps,
  };
}

// Same ids as seam_bench's encoder mode: [CLS] ... [SEP], no padding.
function bertIds(B, T, vocab) {
  const ids = new BigInt64Array(B * T), mask = new BigInt64Array(B * T).fill(1n);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      let id = (1000 + 997 * (t + b)) % vocab;
      if (id < 1000) id += 1000;
      ids[b * T + t] = BigInt(t === 0 ? 101 : t === T - 1 ? 102 : id);
    }
  return [new ort.Tensor("int64", ids, [B, T]), new ort.Tensor("int64", mask, [B, T])];
}

async function benchBert(a) {
  const cfg = JSON.parse(fs.readFileSync(a.config, "utf8"));
  const s = await session(a.model, a.threads);
  const out = {};
  for (const B of [1, 32])
    for (const T of [12, 128]) {
      const [ids, mask] = bertIds(B, T, cfg.vocab_size);
      const ts = [];
      let reps = 0;
      for (let r = -1; r < reps; r++) {
        const t0 = now();
        await s.run({ input_ids: ids, attention_mask: mask });
        const dt = now() - t0;
        // The warm-up sizes the run to ~2 s, 3..1000 repetitions (as seam_bench).
        if (r < 0) reps = Math.min(1000, Math.max(3, Math.floor(2 / Math.max(dt, 1e-6))));
        else ts.push(dt);
      }
      const key = `b${B}_${T === 12 ? "short" : "long"}`;
      out[key] = B / median(ts);
      console.error(`  ort encoder B=${B} T=${T}: ${out[key].toFixed(1)} sentences/s`);
    }
  return { engine: "onnxruntime", threads: a.threads, sentences_s: out, peak_rss_mb: peakRssMb() };
}

const a = parseArgs(process.argv.slice(2));
const res = a.mode === "bert" ? await benchBert(a) : await benchGpt2(a);
console.log(JSON.stringify(res, null, 2));
