// llama.cpp peer for `make bench`, through node-llama-cpp's prebuilt CPU binaries (loaded
// offline: build "never"). Times the GGUF that write_gguf.py wrote from the same weights,
// with the conventions of bench/seam_bench.c: prompt ids (1000 + 997*i) mod vocab, prefill =
// evaluate T ids + pick the next token from the last row's logits, decode tok/s = 1 / median
// single-token step, time to first token includes clearing the sequence (a new request).
//
// usage: node llama_bench.mjs MODEL.gguf [-t N] [--reps R] [--decode-steps N] [--tok-file FILE]
//                             [--dump-logits OUT.f32] [--vocab V (50257)]
// --dump-logits writes the raw logits after the 16-token prompt (write_gguf.py --verify).
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "..", "node_modules", "x.js"));
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));

function parseArgs(argv) {
  const a = { model: argv[0], threads: 1, reps: 3, decodeSteps: 16, tokFile: null, dumpLogits: null, vocab: 50257 };
  for (let i = 1; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === "-t") a.threads = Number(v);
    else if (argv[i] === "--reps") a.reps = Number(v);
    else if (argv[i] === "--decode-steps") a.decodeSteps = Number(v);
    else if (argv[i] === "--tok-file") a.tokFile = v;
    else if (argv[i] === "--dump-logits") a.dumpLogits = v;
    else if (argv[i] === "--vocab") a.vocab = Number(v);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

const a = parseArgs(process.argv.slice(2));
// maxThreads 0: the context's thread count is used exactly, not capped by a global budget.
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 0 });
const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0, useMmap: true });
const context = await model.createContext({
  contextSize: 1024,
  batchSize: 512, // a 512-token prompt in one batch, as the other engines do it
  threads: { ideal: a.threads, min: a.threads },
  sequences: 1,
});
const seq = context.getSequence();
const ids = Array.from({ length: 1024 }, (_, i) => (1000 + 997 * i) % a.vocab);

// Evaluates ids[0..T) into a cleared sequence; returns the greedy next token.
async function prefill(T) {
  await seq.clearHistory();
  const input = ids.slice(0, T);
  input[T - 1] = [input[T - 1], { generateNext: { token: true } }];
  const out = await seq.controlledEvaluate(input);
  return out[T - 1].next.token;
}

async function stepToken(tok) {
  const out = await seq.controlledEvaluate([[tok, { generateNext: { token: true } }]]);
  return out[0].next.token;
}

if (a.dumpLogits) {
  await seq.clearHistory();
  const input = ids.slice(0, 16);
  input[15] = [input[15], { generateNext: { logits: true } }];
  const out = await seq.controlledEvaluate(input);
  const lg = out[15].next.logits; // Map token -> logit
  const arr = new Float32Array(a.vocab);
  for (const [tok, v] of lg) arr[tok] = v;
  fs.writeFileSync(a.dumpLogits, Buffer.from(arr.buffer));
  console.log(JSON.stringify({ dumped: a.dumpLogits, n: lg.size }));
  process.exit(0);
}

await prefill(16); // warm-up
const prefillTokS = {};
let first = null;
for (const T of [16, 128, 512]) {
  const reps = T >= 512 ? Math.min(a.reps, 2) : a.reps;
  const ts = [];
  for (let r = 0; r < reps; r++) {
    await seq.clearHistory(); // outside the timing: a prefill starts from an empty sequence
    const t0 = now();
    const input = ids.slice(0, T);
    input[T - 1] = [input[T - 1], { generateNext: { token: true } }];
    const out = await seq.controlledEvaluate(input);
    ts.push(now() - t0);
    if (T === 16) first = out[T - 1].next.token;
  }
  prefillTokS[T] = T / median(ts);
  console.error(`  llama.cpp prefill T=${T}: ${prefillTokS[T].toFixed(1)} tok/s`);
}
const decode = {};
for (const L of [128, 512]) {
  let tok = await prefill(L);
  const steps = [];
  for (let i = 0; i < a.decodeSteps; i++) {
    const t0 = now();
    tok = await stepToken(tok);
    steps.push(now() - t0);
  }
  decode[L] = 1 / median(steps);
  console.error(`  llama.cpp decode ctx=${L}: ${decode[L].toFixed(1)} tok/s`);
}
const tt = [];
for (let r = 0; r < a.reps; r++) {
  const t0 = now();
  await prefill(128);
  tt.push(now() - t0);
}
const rss = peakRssMb();

let tok = null;
if (a.tokFile) {
  const text = fs.readFileSync(a.tokFile, "utf8");
  const bytes = Buffer.byteLength(text, "utf8");
  let best = Infinity, n = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = now();
    n = model.tokenize(text, false).length;
    best = Math.min(best, now() - t0);
  }
  tok = { tokenizer_mb_s: bytes / best / 1e6, tokenizer_tokens: n, tokenizer_bytes: bytes };
}

const res = {
  engine: "llama.cpp", binding: "node-llama-cpp", build: llama.buildType, threads: a.threads,
  flash_attention: context.flashAttention, kv_cache_type: ({ 0: "F32", 1: "F16", 8: "Q8_0" })[context.kvCacheKeyType] ?? String(context.kvCacheKeyType),
  weight_bytes: fs.statSync(a.model).size, kv_bytes_per_elem: context.kvCacheKeyType === 0 ? 4 : 2,
  prefill_tok_s: prefillTokS, decode_tok_s: decode, ttft_ms: median(tt) * 1e3,
  ttft_note: "clearHistory + prefill 128 + greedy pick", peak_rss_mb: rss, first_token_16: first,
  reps: a.reps, decode_steps: a.decodeSteps, ...(tok ?? {}),
};
console.log(JSON.stringify(res, null, 2));
await context.dispose();
await model.dispose();
