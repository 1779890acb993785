// The in-page half of the browser bench (bench/web/browser_bench.mjs drives it): one engine,
// one model, one thread count per page, so each page starts its wasm runtime fresh.
//
// Both engines get the same prompt ids, N greedy tokens (end-of-text ignored) and the same
// clocks: prefill = prompt forward (+ picking the first token), decode = (N - 1) ÷ the time from
// the first token to the last (N - 1 single-token forwards and N picks). A short warm-up
// generation first, so the optimising compilers have run; best of `reps` afterwards.

const now = () => performance.now();

function summarise(runs, P, N) {
  const best = (k) => Math.max(...runs.map((r) => r[k]));
  return {
    prefill_tok_s: best('prefill_tok_s'), decode_tok_s: best('decode_tok_s'),
    runs, prompt_tokens: P, new_tokens: N, first_token: runs[0].ids[0],
    ids_equal_across_runs: runs.every((r) => r.ids.join() === runs[0].ids.join()),
  };
}

/** seam's WebAssembly build through build/web/seam.mjs. */
export async function seamRun({ seamUrl, modelUrl, threads, ids, N, reps, relaxed = true }) {
  const seam = await import(seamUrl);
  const t0 = now();
  const model = await seam.load(modelUrl, { threads, cache: false });
  const loadMs = now() - t0;
  // relaxed: false keeps every thread on the SIMD128 q8 tiles (web/seam_wasm.c sw_rx), the
  // A/B against the relaxed-SIMD ones in the same run
  if (!relaxed) model._M._sw_rx(0);
  const relaxedSimd = !!model._M._sw_rx(-1);
  await model.generate(ids.slice(0, 16), { maxTokens: 4, greedy: true, ignoreEos: true });
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const g = await model.generate(ids, { maxTokens: N, greedy: true, ignoreEos: true });
    // generate(): prefillMs is the prompt forward; decodeMs holds N picks and N - 1 forwards.
    runs.push({ ids: g.ids, prefill_ms: g.prefillMs, decode_ms: g.decodeMs,
      prefill_tok_s: ids.length / g.prefillMs * 1000, decode_tok_s: (g.ids.length - 1) / g.decodeMs * 1000 });
  }
  const info = model.info;
  model.close();
  return { engine: relaxed ? 'seam-wasm' : 'seam-wasm-simd128', relaxed_simd: relaxedSimd, threads: info.threads, simd: info.simd, weight_dtype: info.weightDtype,
    weight_bytes: info.weightBytes, load_ms: loadMs, cross_origin_isolated: globalThis.crossOriginIsolated,
    ...summarise(runs, ids.length, N) };
}

/** transformers.js (onnxruntime-web, wasm execution provider), everything from this origin. */
export async function tjsRun({ tjsUrl, ortDir, modelRoot, modelId, dtype, threads, ids, N, reps }) {
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
  const gen = async (list, n) => {
    const c = new Clock();
    const input_ids = new T.Tensor('int64', BigInt64Array.from(list, BigInt), [1, list.length]);
    const attention_mask = new T.Tensor('int64', new BigInt64Array(list.length).fill(1n), [1, list.length]);
    const t = now();
    await model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false, streamer: c });
    return { t, c };
  };
  await gen(ids.slice(0, 16), 4);
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const { t, c } = await gen(ids, N);
    const first = c.times[0], last = c.times[c.times.length - 1];
    runs.push({ ids: c.ids, prefill_ms: first - t, decode_ms: last - first,
      prefill_tok_s: ids.length / (first - t) * 1000, decode_tok_s: (c.ids.length - 1) / (last - first) * 1000 });
  }
  await model.dispose();
  return { engine: 'transformers.js', version: T.env.version, ort_version: onnx.versions?.web ?? null, threads,
    dtype, load_ms: loadMs, cross_origin_isolated: globalThis.crossOriginIsolated, ...summarise(runs, ids.length, N) };
}

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
