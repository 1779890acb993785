// The in-page half of the browser bench (bench/web/browser_bench.mjs drives it): each page
// holds one engine and one model (so each starts its wasm runtime fresh) and stays open for
// the rounds of its thread count; browser_bench.mjs asks every page for one generation per
// round, in turn, so that each ratio compares runs of the same moment on a machine whose
// speed drifts.
//
// Every engine gets the same prompt ids, N greedy tokens (end-of-text ignored) and the same
// clocks: prefill = prompt forward (+ picking the first token), decode = (N - 1) ÷ the time
// from the first token to the last (N - 1 single-token forwards and N picks). open() ends
// with a warm-up generation of the full prompt (4 tokens), so the optimising compilers have
// run before the first round.

const now = () => performance.now();
const held = {}; // what open() loaded: { once(args) -> run, close() }

const run = (ids, prefillMs, decodeMs, out) => ({
  ids: out, prefill_ms: prefillMs, decode_ms: decodeMs,
  prefill_tok_s: ids.length / prefillMs * 1000, decode_tok_s: (out.length - 1) / decodeMs * 1000,
});

/** seam's WebAssembly build through build/web/seam.mjs. */
export async function seamOpen({ seamUrl, modelUrl, threads, ids, q8 }) {
  const seam = await import(seamUrl);
  const t0 = now();
  const model = await seam.load(modelUrl, { threads, cache: false });
  const loadMs = now() - t0;
  const M = model._M;
  const relaxedAvailable = !!M._sw_rx(-1);
  const gen = async (relaxed, n) => {
    // relaxed: false keeps every thread on the SIMD128 q8 tiles (web/seam_wasm.c sw_rx), the
    // A/B against the relaxed-SIMD ones (only q8 prefill differs, and only in speed)
    M._sw_rx(relaxed ? 1 : 0);
    return model.generate(ids, { maxTokens: n, greedy: true, ignoreEos: true });
  };
  await gen(true, 4);
  if (q8 && relaxedAvailable) await gen(false, 4);
  held.once = async ({ N, relaxed = true }) => {
    const g = await gen(relaxed, N);
    // generate(): prefillMs is the prompt forward; decodeMs holds N picks and N - 1 forwards.
    return { relaxed_simd: !!M._sw_rx(-1), ...run(ids, g.prefillMs, g.decodeMs, g.ids) };
  };
  held.close = () => model.close();
  const info = model.info;
  return { threads: info.threads, simd: info.simd, weight_dtype: info.weightDtype, weight_bytes: info.weightBytes,
    relaxed_simd_available: relaxedAvailable, load_ms: loadMs, cross_origin_isolated: globalThis.crossOriginIsolated };
}

/** transformers.js (onnxruntime-web, wasm execution provider), everything from this origin. */
export async function tjsOpen({ tjsUrl, ortDir, modelRoot, modelId, dtype, threads, ids }) {
  const T = await import(tjsUrl);
  const { env } = T;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = modelRoot;
  env.useBrowserCache = false;
  env.useWasmCache = false;
  const onnx = env.backends.onnx;
  // transformers.js's default ORT build (asyncify), from the local onnxruntime-web copy.
  onnx.wasm.wasmPaths = { mjs: `${ortDir}ort-wasm-simd-threaded.asyncify.mjs`, wasm: `${ortDir}ort-wasm-simd-threaded.asyncify.wasm` };
  onnx.wasm.numThreads = threads;
  onnx.wasm.proxy = false;
  const t0 = now();
  const model = await T.AutoModelForCausalLM.from_pretrained(modelId, { dtype, device: 'wasm' });
  const loadMs = now() - t0;

  class Clock extends T.BaseStreamer {
    constructor() { super(); this.times = []; this.ids = []; this.prompt = true; }
    put(v) {
      if (this.prompt) { this.prompt = false; return; } // generate() first puts the prompt
      this.times.push(now());
      this.ids.push(Number(v[0][0]));
    }
    end() {}
  }
  const gen = async (n) => {
    const c = new Clock();
    const input_ids = new T.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const attention_mask = new T.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const t = now();
    await model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer: c });
    return { t, c };
  };
  await gen(4);
  held.once = async ({ N }) => {
    const { t, c } = await gen(N);
    const first = c.times[0], last = c.times[c.times.length - 1];
    return run(ids, first - t, last - first, c.ids);
  };
  held.close = () => model.dispose();
  return { version: T.env.version, ort_version: onnx.versions?.web ?? null, threads, dtype, load_ms: loadMs,
    cross_origin_isolated: globalThis.crossOriginIsolated };
}

/** One generation of whatever this page opened. */
export async function once(args) { return held.once(args); }

export async function close() { if (held.close) await held.close(); }

/** bench/web/roofline_wasm.c's probes (and bench/web/roofline_relaxed.c's, when it sits beside
 * it): the best of 5 timed calls of each, every call sized from a calibration run to take
 * about 200 ms. */
export async function roofRun({ wasmUrl }) {
  const { instance } = await WebAssembly.instantiateStreaming(fetch(wasmUrl), {});
  const x = instance.exports;
  const probe = (fn, perIter) => {
    let iters = 1 << 16;
    for (;;) { const t = now(); fn(iters); if (now() - t > 20 || iters > 1 << 30) break; iters *= 4; }
    const t = now();
    fn(iters);
    iters = Math.max(1, Math.round(iters * 200 / Math.max(now() - t, 1)));
    let best = 0;
    for (let r = 0; r < 5; r++) {
      const t0 = now();
      fn(iters);
      best = Math.max(best, iters * perIter / ((now() - t0) / 1000) / 1e9);
    }
    return best;
  };
  const out = {
    int16_dot_gmacs: probe(x.roof_int16_dot, x.roof_int16_macs_per_iter()),
    f32_mul_add_gflops: probe(x.roof_f32_mul_add, x.roof_f32_flops_per_iter()),
  };
  // bench/web/roofline_relaxed.c, beside it, where it was built and this browser has relaxed SIMD
  try {
    const r = await fetch(new URL('roofline_relaxed.wasm', new URL(wasmUrl, location.href)));
    const bytes = r.ok ? new Uint8Array(await r.arrayBuffer()) : null;
    if (bytes && WebAssembly.validate(bytes)) {
      const rx = (await WebAssembly.instantiate(bytes, {})).instance.exports;
      out.i8_relaxed_dot_gmacs = probe(rx.roof_i8_relaxed_dot, rx.roof_i8_relaxed_macs_per_iter());
    }
  } catch (e) { /* no relaxed peak */ }
  return out;
}
