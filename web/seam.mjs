// seam in the browser (and node): GPT-2 family models run by the same C engine, compiled to
// WebAssembly with SIMD128 kernels. Typed in seam.d.ts.
//
//   import * as seam from './seam.mjs';
//   const model = await seam.load('https://example.org/models/gpt2/', { onProgress });
//   const out = await model.generate('Once upon a time', { maxTokens: 32, onToken: t => ... });
//
// The model folder is fetched file by file (config.json, tokenizer.json or vocab.json +
// merges.txt, model.safetensors or the shards an index names), kept in the Cache API so a
// reload reads it from disk, and handed to the unchanged C loader through Emscripten's
// in-memory filesystem. Threads need SharedArrayBuffer, which browsers give only to
// cross-origin isolated pages (COOP + COEP headers): elsewhere one thread is used.

const IS_NODE = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof window === 'undefined';
const CACHE_NAME = 'seam-models-v1';

// Compiled modules, one per build (single-thread and pthreads), shared by every load().
const compiled = new Map();

function here(file) { return new URL(file, import.meta.url); }

async function nodeImports() {
  const [{ createRequire }, fs, url, path] = await Promise.all([
    import('node:module'), import('node:fs'), import('node:url'), import('node:path')]);
  return { require: createRequire(import.meta.url), fs, url, path };
}

// Emscripten's glue is a classic script that defines createSeamCore. In node it is a
// CommonJS module; in a page a <script> tag runs it (so its pthread workers can find it
// by URL); in a worker without a document, importScripts does.
async function loadFactory(glue) {
  const href = here(glue).href;
  if (IS_NODE) {
    const { require, url } = await nodeImports();
    return { factory: require(url.fileURLToPath(href)), href };
  }
  if (typeof document !== 'undefined') {
    if (!globalThis.__seamGlue) globalThis.__seamGlue = {};
    if (!globalThis.__seamGlue[href]) {
      globalThis.__seamGlue[href] = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = href;
        s.onload = () => resolve(globalThis.createSeamCore);
        s.onerror = () => reject(new Error(`seam: cannot load ${href}`));
        document.head.appendChild(s);
      });
    }
    return { factory: await globalThis.__seamGlue[href], href };
  }
  importScripts(href); // eslint-disable-line no-undef
  return { factory: globalThis.createSeamCore, href };
}

/** True where this runtime can run the pthreads build. */
export function threadsAvailable() {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  if (IS_NODE) return true;
  return globalThis.crossOriginIsolated === true;
}

/** Logical cores the runtime reports (1 when unknown). */
export function hardwareThreads() {
  if (IS_NODE) return Math.max(1, (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1);
  return Math.max(1, (globalThis.navigator && navigator.hardwareConcurrency) || 1);
}

function compileWasm(file) {
  if (!compiled.has(file)) {
    compiled.set(file, (async () => {
      if (IS_NODE) {
        const { fs, url } = await nodeImports();
        return WebAssembly.compile(fs.readFileSync(url.fileURLToPath(here(file))));
      }
      const resp = await fetch(here(file));
      if (!resp.ok) throw new Error(`seam: ${here(file).href}: HTTP ${resp.status}`);
      if (WebAssembly.compileStreaming && /application\/wasm/.test(resp.headers.get('content-type') || '')) {
        return WebAssembly.compileStreaming(resp);
      }
      return WebAssembly.compile(await resp.arrayBuffer());
    })());
  }
  return compiled.get(file);
}

// A fresh module instance for each model: its memory goes away with the model, and a
// pthreads instance starts exactly the workers the model's thread pool takes (threads - 1),
// so pthread_create never has to wait for a worker script while C code holds the thread.
async function newCore(threads) {
  const mt = threads > 1;
  const { factory, href } = await loadFactory(mt ? 'seam-mt.js' : 'seam.js');
  const wasmModule = await compileWasm(mt ? 'seam-mt.wasm' : 'seam.wasm');
  const debug = (s) => { if (globalThis.SEAM_DEBUG) console.error(s); };
  const opts = {
    seamPoolSize: mt ? threads - 1 : 0,
    // The module is compiled once and instantiated here, never fetched by the glue: node's
    // fetch() cannot read file paths.
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(wasmModule, imports).then((inst) => done(inst, wasmModule));
      return {};
    },
    locateFile: (p) => here(p).href,
    mainScriptUrlOrBlob: href,
    print: debug,
    printErr: debug,
  };
  if (IS_NODE) {
    const { url } = await nodeImports();
    opts.locateFile = (p) => url.fileURLToPath(here(p));
    opts.mainScriptUrlOrBlob = url.fileURLToPath(href);
  }
  const M = await factory(opts);
  // seam_context_new starts one thread per core that seam_physical_cores() counts, from
  // /proc/cpuinfo first. The module's filesystem has none, and the fallback (the browser's
  // logical core count) would ask for more workers than were started: a cpuinfo listing
  // exactly `threads` cores makes the context's first pool the one wanted.
  M.FS.mkdirTree('/proc');
  let cpuinfo = '';
  for (let i = 0; i < threads; i++) cpuinfo += `processor\t: ${i}\nphysical id\t: 0\ncore id\t\t: ${i}\n\n`;
  M.FS.writeFile('/proc/cpuinfo', cpuinfo);
  return M;
}

// ------------------------------------------------------------------ fetching

function joinUrl(base, name) {
  return base.endsWith('/') ? base + name : base + '/' + name;
}

function isLocalPath(base) {
  return IS_NODE && !/^https?:\/\//i.test(base);
}

class NotFound extends Error {}

// One file of the model folder, as bytes, with progress. Local paths (node) are read from
// disk; URLs come from the Cache API when stored there, else from the network (and are
// then stored).
async function fetchFile(base, name, ctx, optional) {
  const report = (loaded, total, fromCache) => ctx.progress(name, loaded, total, fromCache);
  if (isLocalPath(base)) {
    const { fs, url, path } = await nodeImports();
    const p = base.startsWith('file:') ? url.fileURLToPath(joinUrl(base, name)) : path.join(base, name);
    if (!fs.existsSync(p)) {
      if (optional) throw new NotFound(p);
      throw new Error(`seam: ${p} does not exist`);
    }
    const bytes = new Uint8Array(fs.readFileSync(p));
    report(bytes.length, bytes.length, false);
    return bytes;
  }
  const u = joinUrl(base, name);
  let resp = null, fromCache = false;
  if (ctx.cache) {
    try { resp = await ctx.cache.match(u); } catch { resp = null; }
    fromCache = !!resp;
  }
  if (!resp) {
    resp = await fetch(u, ctx.fetchInit);
    if (resp.status === 404 && optional) throw new NotFound(u);
    if (!resp.ok) throw new Error(`seam: ${u}: HTTP ${resp.status}`);
    if (ctx.cache) {
      // The copy streams into the cache while this branch is read; a full disk only
      // costs the next load a download.
      const copy = resp.clone();
      ctx.pending.push(ctx.cache.put(u, copy).catch(() => {}));
    }
  }
  return readBody(resp, u, (loaded, total) => report(loaded, total, fromCache));
}

// A response body as one Uint8Array, with progress(loaded, total) as it streams.
async function readBody(resp, u, report) {
  const total = Number(resp.headers.get('content-length')) || 0;
  if (!resp.body || !resp.body.getReader) {
    const bytes = new Uint8Array(await resp.arrayBuffer());
    report(bytes.length, bytes.length);
    return bytes;
  }
  const reader = resp.body.getReader();
  // One preallocated buffer when the size is known: a model is too big to hold twice.
  let buf = new Uint8Array(total || 1 << 16), n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, n + value.length));
      bigger.set(buf.subarray(0, n));
      buf = bigger;
    }
    buf.set(value, n);
    n += value.length;
    report(n, Math.max(total, n));
  }
  if (total && n !== total) throw new Error(`seam: ${u}: got ${n} of ${total} bytes`);
  report(n, n);
  return n === buf.length ? buf : buf.slice(0, n);
}

async function openCache(options) {
  if (options.cache === false || IS_NODE || typeof caches === 'undefined') return null;
  try { return await caches.open(CACHE_NAME); } catch { return null; } // e.g. an insecure origin
}

/** Drops every model stored by load() (or those under baseUrl) from the Cache API. */
export async function clearCache(baseUrl) {
  if (typeof caches === 'undefined') return;
  if (!baseUrl) { await caches.delete(CACHE_NAME); return; }
  const cache = await caches.open(CACHE_NAME);
  const prefix = new URL(baseUrl, globalThis.location ? globalThis.location.href : undefined).href;
  for (const req of await cache.keys()) if (req.url.startsWith(prefix)) await cache.delete(req);
}

// ------------------------------------------------------------------ the model

let nextDir = 0;

async function optionalFile(base, name, ctx, files) {
  try {
    files[name] = await fetchFile(base, name, ctx, true);
    return true;
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    return false;
  }
}

function plainName(s) {
  return typeof s === 'string' && s !== '' && s !== '.' && s !== '..' && !s.includes('/') && !s.includes('\\');
}

// tokenizer.json, else vocab.json + merges.txt; none at all still generates from ids.
async function fetchDecoderTokenizer(base, ctx, files) {
  if (await optionalFile(base, 'tokenizer.json', ctx, files)) return;
  if (await optionalFile(base, 'vocab.json', ctx, files)) await fetchFile(base, 'merges.txt', ctx, false).then((b) => { files['merges.txt'] = b; });
}

// A sentence-transformers folder: modules.json names the module folders (Pooling,
// Normalize) whose config.json the C loader reads; a plain BERT folder has none.
async function fetchEncoderFiles(base, ctx, files) {
  for (const f of ['modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json', 'tokenizer_config.json']) {
    await optionalFile(base, f, ctx, files);
  }
  if (!(await optionalFile(base, 'tokenizer.json', ctx, files))) await optionalFile(base, 'vocab.txt', ctx, files);
  if (!files['modules.json']) return;
  let modules = [];
  try { modules = JSON.parse(new TextDecoder().decode(files['modules.json'])); } catch { return; }
  for (const m of Array.isArray(modules) ? modules : []) {
    if (!m || typeof m.path !== 'string' || m.path === '') continue;
    if (!m.path.split('/').every(plainName)) throw new Error(`seam: modules.json names a folder '${m.path}' outside the model`);
    await optionalFile(base, `${m.path}/config.json`, ctx, files);
  }
}

// model.safetensors, else the shards that model.safetensors.index.json names.
async function fetchWeights(base, ctx, files) {
  if (await optionalFile(base, 'model.safetensors', ctx, files)) return;
  const indexBytes = await fetchFile(base, 'model.safetensors.index.json', ctx, false);
  files['model.safetensors.index.json'] = indexBytes;
  const index = JSON.parse(new TextDecoder().decode(indexBytes));
  for (const s of new Set(Object.values(index.weight_map || {}))) {
    if (!plainName(s)) throw new Error(`seam: the index names a shard '${s}' that is not a plain file name`);
    files[s] = await fetchFile(base, s, ctx, false);
  }
}


/**
 * Fetches a model folder and opens it. options: onProgress({file, loaded, total,
 * fileLoaded, fileTotal, fromCache}), threads (default: up to 4 where threads work),
 * cache (default true), nCtx, fetchInit.
 */
export async function load(baseUrl, options = {}) {
  const want = options.threads ?? Math.min(4, hardwareThreads());
  const threads = threadsAvailable() ? Math.max(1, want | 0) : 1;
  const corePromise = newCore(threads); // compiles while the files download

  const cache = await openCache(options);
  const seen = new Map(); // file -> [loaded, total]
  let bytesFromNetwork = 0;
  const ctx = {
    cache, pending: [], fetchInit: options.fetchInit,
    progress(file, loaded, total, fromCache) {
      const prev = seen.get(file) || [0, 0];
      if (!fromCache && !isLocalPath(baseUrl)) bytesFromNetwork += loaded - prev[0];
      seen.set(file, [loaded, total]);
      if (!options.onProgress) return;
      let l = 0, t = 0;
      for (const [a, b] of seen.values()) { l += a; t += b; }
      options.onProgress({ file, loaded: l, total: t, fileLoaded: loaded, fileTotal: total, fromCache });
    },
  };

  const files = {};
  files['config.json'] = await fetchFile(baseUrl, 'config.json', ctx, false);
  let config = {};
  try { config = JSON.parse(new TextDecoder().decode(files['config.json'])); } catch { /* the C loader says why */ }
  // BERT-family folders are encoders (embed); everything else goes to the GPT-2 loader.
  const encoder = config.model_type === 'bert';
  if (encoder) await fetchEncoderFiles(baseUrl, ctx, files);
  else await fetchDecoderTokenizer(baseUrl, ctx, files);
  await fetchWeights(baseUrl, ctx, files);
  await Promise.all(ctx.pending);

  const M = await corePromise;
  const dir = `/models/m${nextDir++}`;
  const dirs = new Set();
  for (const [name, bytes] of Object.entries(files)) {
    const sub = name.includes('/') ? `${dir}/${name.slice(0, name.lastIndexOf('/'))}` : dir;
    if (!dirs.has(sub)) { M.FS.mkdirTree(sub); dirs.add(sub); }
    // canOwn: the filesystem keeps this buffer instead of copying it.
    M.FS.writeFile(`${dir}/${name}`, bytes, { canOwn: true });
  }
  const handle = withCString(M, dir, (p) => (encoder ? M._sw_enc_open(p, threads) : M._sw_open(p, threads, options.nCtx | 0)));
  // The loader copied what it keeps (the weights into module memory): drop the files so
  // the downloaded buffers can be collected.
  for (const name of Object.keys(files)) M.FS.unlink(`${dir}/${name}`);
  for (const d of [...dirs].sort((x, y) => y.length - x.length)) M.FS.rmdir(d);
  if (!handle) {
    const msg = lastError(M);
    shutdown(M);
    throw new Error(`seam: ${msg}`);
  }
  const meta = { threads, bytesFromNetwork, baseUrl: String(baseUrl) };
  return encoder ? new Encoder(M, handle, meta) : new Model(M, handle, meta);
}

// What generate() resolves to; decodedTokens are the tokens produced in decodeMs (a split
// session's first token comes with the prefill, a local model's after it).
function generationResult(text, out, promptTokens, prefillMs, decodeMs, decodedTokens) {
  return {
    text, ids: out, promptTokens, prefillMs, decodeMs,
    prefillTokensPerSecond: promptTokens / Math.max(prefillMs, 1e-6) * 1000,
    tokensPerSecond: decodedTokens / Math.max(decodeMs, 1e-6) * 1000,
  };
}

// Frees a model's or split session's C session (o._h in module o._M) once, then ends the
// module's worker threads.
function releaseSession(o) {
  if (!o._h) return;
  o._M._sw_close(o._h);
  o._h = 0;
  shutdown(o._M);
}

// Ends a module instance's worker threads (pthreads build); its memory then goes with M.
function shutdown(M) {
  if (M.PThread && M.PThread.terminateAllThreads) M.PThread.terminateAllThreads();
}

function lastError(M) { return M.UTF8ToString(M._sw_last_error()); }

function withCString(M, s, fn) {
  const n = M.lengthBytesUTF8(s) + 1;
  const p = M._malloc(n);
  try {
    M.stringToUTF8(s, p, n);
    return fn(p, n - 1);
  } finally {
    M._free(p);
  }
}

// Views must be made after any call that may have grown memory.
function heapI32(M) { return new Int32Array(M.HEAPU8.buffer); }
function heapF32(M) { return new Float32Array(M.HEAPU8.buffer); }

function now() { return (globalThis.performance || Date).now(); }

// Hands control back to the event loop so the page can paint streamed tokens. A
// MessageChannel turn avoids setTimeout's 4 ms clamp.
function yieldToLoop() {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });
  }
  return new Promise((r) => setTimeout(r, 0));
}

class Model {
  constructor(M, handle, meta) {
    this._M = M;
    this._h = handle;
    this._busy = false;
    const i = (k) => M._sw_info(handle, k);
    this.info = {
      kind: 'decoder', nLayer: i(0), nEmbd: i(1), nHead: i(2), nPositions: i(3), vocabSize: i(4),
      eosTokenId: i(5), bosTokenId: i(6), threads: i(7), nCtx: i(8), hasTokenizer: !!i(9),
      weightDtype: ['f32', 'f16', 'bf16'][i(10)] || 'unknown', weightQuant: ['none', 'q8', 'q4'][i(11)] || 'unknown',
      weightBytes: M._sw_weight_bytes(handle), simd: !!M._sw_simd(), relaxedSimd: !!M._sw_rx(-1),
      bytesFromNetwork: meta.bytesFromNetwork, baseUrl: meta.baseUrl,
    };
  }

  _check() {
    if (!this._h) throw new Error('seam: the model is closed');
    if (this._busy) throw new Error('seam: this model is already generating');
  }

  /** Token ids of text (GPT-2 byte-level BPE; special tokens such as <|endoftext|> are recognised). */
  tokenize(text) {
    this._check();
    const M = this._M;
    return withCString(M, String(text), (p, len) => {
      let cap = len + 16;
      for (;;) {
        const out = M._malloc(cap * 4);
        try {
          const n = M._sw_tokenize(this._h, p, len, out, cap);
          if (n < 0) throw new Error(`seam: ${lastError(M)}`);
          if (n <= cap) return Array.from(heapI32(M).subarray(out >> 2, (out >> 2) + n));
          cap = n;
        } finally {
          M._free(out);
        }
      }
    });
  }

  /** Text of ids (invalid UTF-8 is replaced with U+FFFD). */
  detokenize(ids) {
    this._check();
    const M = this._M;
    const n = ids.length;
    const pIds = M._malloc(Math.max(1, n) * 4);
    try {
      heapI32(M).set(ids, pIds >> 2);
      const need = M._sw_detokenize(this._h, pIds, n, 0, 0);
      const out = M._malloc(need + 1);
      try {
        M._sw_detokenize(this._h, pIds, n, out, need + 1);
        // Bytes, not a C string: a token may decode to NUL.
        return new TextDecoder('utf-8').decode(M.HEAPU8.slice(out, out + need));
      } finally {
        M._free(out);
      }
    } finally {
      M._free(pIds);
    }
  }

  /** The raw bytes of one token (a token may hold part of a UTF-8 character). */
  tokenBytes(id) {
    const M = this._M;
    const pLen = M._malloc(4);
    try {
      const p = M._sw_token_bytes(this._h, id, pLen);
      if (!p) return new Uint8Array(0);
      return M.HEAPU8.slice(p, p + heapI32(M)[pLen >> 2]);
    } finally {
      M._free(pLen);
    }
  }

  /**
   * Generates a continuation of prompt (text, or an array of token ids). Options as
   * `seam generate`: maxTokens 64, temperature 0.8 (0: greedy), topK 40, topP 0.95, seed
   * (default random), ignoreEos false; onToken({id, text, index}) streams. Resolves to
   * {text, ids, promptTokens, prefillMs, decodeMs, prefillTokensPerSecond, tokensPerSecond}.
   */
  async generate(prompt, options = {}) {
    this._check();
    const M = this._M;
    const o = {
      maxTokens: 64, temperature: 0.8, topK: 40, topP: 0.95, ignoreEos: false, ...options,
    };
    if (o.greedy) o.temperature = 0;
    const seed = o.seed ?? Math.floor(Math.random() * 2 ** 52) + 1;
    let ids = typeof prompt === 'string' ? this.tokenize(prompt) : Array.from(prompt);
    if (ids.length === 0) {
      if (this.info.bosTokenId < 0) throw new Error('seam: the prompt is empty and the model has no bos_token_id');
      ids = [this.info.bosTokenId];
    }
    this._busy = true;
    const pIds = M._malloc(ids.length * 4);
    const out = [];
    const decoder = new TextDecoder('utf-8');
    let text = '';
    try {
      heapI32(M).set(ids, pIds >> 2);
      const t0 = now();
      const rc = M._sw_gen_begin(this._h, pIds, ids.length, o.maxTokens | 0, +o.temperature, o.topK | 0,
        +o.topP, seed, o.ignoreEos ? 1 : 0);
      if (rc !== 0) throw new Error(`seam: ${lastError(M)}`);
      const t1 = now();
      let lastYield = t1;
      for (;;) {
        const id = M._sw_gen_next(this._h);
        if (id === -2) throw new Error(`seam: ${lastError(M)}`);
        if (id < 0) break;
        out.push(id);
        const piece = this.info.hasTokenizer ? decoder.decode(this.tokenBytes(id), { stream: true }) : '';
        text += piece;
        if (o.onToken) o.onToken({ id, text: piece, index: out.length - 1 });
        if (now() - lastYield > 25) { await yieldToLoop(); lastYield = now(); }
      }
      const t2 = now();
      text += decoder.decode();
      return generationResult(text, out, ids.length, t1 - t0, t2 - t1, out.length);
    } finally {
      M._free(pIds);
      this._busy = false;
    }
  }

  /** Logits of the last position after a fresh forward pass over ids (Float32Array [vocab]). */
  logits(ids) {
    this._check();
    const M = this._M;
    const p = M._malloc(ids.length * 4);
    try {
      heapI32(M).set(ids, p >> 2);
      if (M._sw_forward(this._h, p, ids.length) !== 0) throw new Error(`seam: ${lastError(M)}`);
      const l = M._sw_logits(this._h) >> 2;
      return heapF32(M).slice(l, l + this.info.vocabSize);
    } finally {
      M._free(p);
    }
  }

  embed() { throw new Error('seam: this model is a decoder (GPT-2 family): use generate()'); }

  /** Frees the model's memory inside the module. */
  close() { releaseSession(this); }
}

const POOLING = ['', 'mean', 'cls', 'max', 'lasttoken'];

// A BERT-family sentence encoder (sentence-transformers folder or plain BertModel).
class Encoder {
  constructor(M, handle, meta) {
    this._M = M;
    this._h = handle;
    const i = (k) => M._sw_enc_info(handle, k);
    this.info = {
      kind: 'encoder', hidden: i(0), nEmbd: i(0), nLayer: i(1), nHead: i(2), vocabSize: i(3), maxSeqLength: i(4),
      threads: i(5), pooling: POOLING[i(6)] || 'unknown', normalize: !!i(7),
      weightDtype: ['f32', 'f16', 'bf16'][i(8)] || 'unknown', weightBytes: M._sw_enc_weight_bytes(handle),
      simd: !!M._sw_simd(), relaxedSimd: !!M._sw_rx(-1), bytesFromNetwork: meta.bytesFromNetwork, baseUrl: meta.baseUrl,
    };
  }

  _check() { if (!this._h) throw new Error('seam: the model is closed'); }

  /**
   * Sentence embeddings, one Float32Array [hidden] per text, as sentence-transformers
   * computes them (the model's pooling and normalisation; options.normalize overrides).
   */
  embed(texts, options = {}) {
    this._check();
    const M = this._M;
    const list = typeof texts === 'string' ? [texts] : Array.from(texts, String);
    const enc = new TextEncoder();
    const parts = list.map((t) => enc.encode(t));
    const total = parts.reduce((a, p) => a + p.length, 0);
    const C = this.info.hidden, n = list.length;
    const flags = options.normalize === true ? 2 : options.normalize === false ? 1 : 0;
    const pBuf = M._malloc(Math.max(1, total)), pOff = M._malloc((n + 1) * 4), pOut = M._malloc(Math.max(1, n * C) * 4);
    try {
      let o = 0;
      const offs = [0];
      for (const p of parts) { M.HEAPU8.set(p, pBuf + o); o += p.length; offs.push(o); }
      heapI32(M).set(offs, pOff >> 2);
      if (M._sw_enc_embed(this._h, pBuf, pOff, n, pOut, flags) !== 0) throw new Error(`seam: ${lastError(M)}`);
      const all = heapF32(M).slice(pOut >> 2, (pOut >> 2) + n * C);
      return Array.from({ length: n }, (_, k) => all.subarray(k * C, (k + 1) * C));
    } finally {
      M._free(pBuf); M._free(pOff); M._free(pOut);
    }
  }

  /** The ids the encoder feeds for text: [CLS] ... [SEP], truncated to maxSeqLength. */
  tokenize(text) {
    this._check();
    const M = this._M;
    return withCString(M, String(text), (p, len) => {
      let cap = len + 16;
      for (;;) {
        const out = M._malloc(cap * 4);
        try {
          const n = M._sw_enc_tokenize(this._h, p, len, out, cap);
          if (n < 0) throw new Error(`seam: ${lastError(M)}`);
          if (n <= cap) return Array.from(heapI32(M).subarray(out >> 2, (out >> 2) + n));
          cap = n;
        } finally {
          M._free(out);
        }
      }
    });
  }

  async generate() { throw new Error('seam: this model is an encoder: use embed()'); }

  close() {
    if (!this._h) return;
    this._M._sw_enc_close(this._h);
    this._h = 0;
    shutdown(this._M);
  }
}

// ------------------------------------------------------------------ split sessions
//
// seam.connect(): the browser as the edge of a `seam serve` split session, the protocol of
// cli/cmd_edge.c and src/net/client.c. The page downloads only its shard (sha256-checked,
// kept in the Cache API), runs its blocks in WebAssembly, and trades one hidden-state
// message (README: the SMHS wire format, built and checked by src/net/wire.c in the
// module) per token with the server.
//   mode 'tail': the server embeds and runs [0, k); the page runs [k, N) + head, samples.
//   mode 'head': the page embeds and runs [0, k); the server runs the rest and samples, so
//                raw tokens never leave the page.

const WIRE_TYPE = 'application/vnd.seam.hidden';
const ACTIVATIONS = ['f32', 'f16', 'q8'];
const HEX64 = /^[0-9a-f]{64}$/;

function isInt(v, lo, hi) { return Number.isInteger(v) && v >= lo && v <= hi; }

function hex(buf) { return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join(''); }

// SHA-256 of bytes as hex, or null where WebCrypto is missing (an insecure origin): the C
// side re-checks every file against the manifest anyway (seam_shard_verify).
async function sha256Hex(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return null;
  return hex(await subtle.digest('SHA-256', bytes));
}

// The server's JSON error message, for an Error that says what was being done.
async function httpError(what, resp) {
  let msg = '';
  try { msg = (await resp.json()).error.message; } catch { /* not our JSON */ }
  const e = new Error(`seam: ${what}: the server answered HTTP ${resp.status}${msg ? `: ${msg}` : ''}`);
  e.status = resp.status;
  return e;
}

class SplitApi {
  constructor(base, options) {
    this.base = base;
    this.init = options.fetchInit || {};
    this.headers = { ...(this.init.headers || {}) };
    if (options.apiKey) this.headers.Authorization = `Bearer ${options.apiKey}`;
  }

  async fetch(what, method, path, body, contentType) {
    const headers = { ...this.headers };
    if (contentType) headers['Content-Type'] = contentType;
    let resp;
    try {
      resp = await fetch(this.base + path, { ...this.init, method, headers, body, redirect: 'error' });
    } catch (e) {
      throw new Error(`seam: ${what}: cannot reach ${this.base} (${e.message || e})`);
    }
    if (!resp.ok) throw await httpError(what, resp);
    return resp;
  }

  async json(what, method, path, body) {
    const resp = await this.fetch(what, method, path, body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? undefined : 'application/json');
    try { return { resp, data: await resp.json() }; } catch { throw new Error(`seam: ${what}: the answer is not JSON`); }
  }
}

// Checks a shard manifest against what this side asked for; returns its file list.
function checkManifest(man, want, fingerprint) {
  const ok = man && man.seam_shard_manifest === 1 && man.parent_fingerprint === fingerprint &&
    man.layer_begin === want.begin && man.layer_end === want.end && man.has_embed === want.embed &&
    man.has_head === want.head && (man.quant === null || man.quant === undefined) &&
    Array.isArray(man.files) && man.files.length >= 1 && man.files.length <= 64;
  if (!ok) throw new Error('seam: the shard manifest does not describe the shard asked for');
  for (const f of man.files) {
    if (!f || !plainName(f.name) || f.name === 'manifest.json' || !isInt(f.size, 0, 2 ** 42) || !HEX64.test(f.sha256)) {
      throw new Error('seam: the shard manifest lists a file without a plain name, a size and a sha256');
    }
  }
  return man.files;
}

// One shard file: from the Cache API when stored under its sha256 (and still matching it),
// else downloaded, checked, then stored. The cache key carries the sha256, so a server
// whose model changed never hands the page an old file.
async function fetchShardFile(api, url, f, cache, report) {
  const key = `${url}&sha256=${f.sha256}`;
  if (cache) {
    let hit = null;
    try { hit = await cache.match(key); } catch { hit = null; }
    if (hit) {
      const bytes = await readBody(hit, key, (l, t) => report(l, t, true));
      const h = await sha256Hex(bytes);
      if (bytes.length === f.size && (h === null || h === f.sha256)) return { bytes, fromCache: true };
      await cache.delete(key).catch(() => {});
    }
  }
  const resp = await api.fetch(`downloading ${f.name}`, 'GET', url.slice(api.base.length));
  const bytes = await readBody(resp, url, (l, t) => report(l, t, false));
  if (bytes.length !== f.size) throw new Error(`seam: shard file ${f.name}: ${bytes.length} bytes, the manifest says ${f.size}`);
  const h = await sha256Hex(bytes);
  if (h !== null && h !== f.sha256) throw new Error(`seam: shard file ${f.name} fails its sha256 check`);
  if (cache) {
    await cache.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => {});
  }
  return { bytes, fromCache: false };
}

/**
 * Opens a split session with a `seam serve` server. options: model (default: the server's
 * only one), split (k, required), mode 'tail' | 'head' (default 'tail'), activation 'f32' |
 * 'f16' | 'q8' (default 'f32'), threads, nCtx (default: the server's max_context), cache
 * (default true), apiKey, fetchInit, onProgress (as load()).
 */
export async function connect(serverUrl, options = {}) {
  const state = {};
  try {
    return await connectSession(serverUrl, options, state);
  } catch (e) {
    // A failed download or check must not leave the module's worker threads running.
    if (state.core && !state.opened) state.core.then(shutdown, () => {});
    throw e;
  }
}

async function connectSession(serverUrl, options, state) {
  const where = serverUrl ?? (globalThis.location ? globalThis.location.origin : undefined);
  if (!where) throw new Error('seam: connect() needs the server URL');
  const base = new URL(String(where), globalThis.location ? globalThis.location.href : undefined).href.replace(/\/+$/, '');
  if (!/^https?:\/\//i.test(base)) throw new Error(`seam: server URL '${base}' must be http:// or https://`);
  const mode = options.mode ?? 'tail';
  if (mode !== 'tail' && mode !== 'head') throw new Error(`seam: mode must be 'tail' or 'head', not '${mode}'`);
  const activation = options.activation ?? 'f32';
  const act = ACTIVATIONS.indexOf(activation);
  if (act < 0) throw new Error(`seam: activation must be 'f32', 'f16' or 'q8', not '${activation}'`);
  const want = options.threads ?? Math.min(4, hardwareThreads());
  const threads = threadsAvailable() ? Math.max(1, want | 0) : 1;
  const api = new SplitApi(base, options);
  const corePromise = newCore(threads);
  corePromise.catch(() => {}); // awaited below; a failed download must not leave it unhandled
  state.core = corePromise;

  // The model: its fingerprint names the shard and is checked by both sides.
  const { data: list } = await api.json("listing the server's models", 'GET', '/v1/models');
  const models = list && Array.isArray(list.data) ? list.data : null;
  if (!models) throw new Error("seam: listing the server's models: the answer is not a model list");
  if (!options.model && models.length !== 1) throw new Error(`seam: the server has ${models.length} models: pick one with 'model'`);
  const m = options.model ? models.find((x) => x && x.id === options.model) : models[0];
  if (!m) throw new Error(`seam: the server has no model '${options.model}'`);
  if (typeof m.id !== 'string' || !HEX64.test(m.fingerprint) || !isInt(m.n_layer, 1, 100000) ||
    !isInt(m.max_context, 1, 2 ** 30)) throw new Error("seam: the server's model description is not valid");
  const N = m.n_layer, k = options.split;
  if (!isInt(k, 0, N)) throw new Error(`seam: split must be an integer in [0, ${N}], not ${k}`);
  const range = mode === 'tail' ? { begin: k, end: N, embed: false, head: true } : { begin: 0, end: k, embed: true, head: false };
  const query = `layers=${range.begin}:${range.end}${range.embed ? '&embed=1' : ''}${range.head ? '&head=1' : ''}`;
  const shardPath = `/v1/models/${encodeURIComponent(m.id)}/shards`;

  // The shard: manifest (always fresh: it names the files' hashes), then each file.
  const { data: man } = await api.json('reading the shard manifest', 'GET', `${shardPath}?${query}`);
  const list2 = checkManifest(man, range, m.fingerprint);
  const cache = await openCache(options);
  const total = list2.reduce((a, f) => a + f.size, 0);
  const done = new Map();
  let fromNetwork = 0;
  const files = { 'manifest.json': new TextEncoder().encode(JSON.stringify(man)) };
  for (const f of list2) {
    const url = `${base}${shardPath}/${encodeURIComponent(f.name)}?${query}`;
    const r = await fetchShardFile(api, url, f, cache, (loaded, t, fromCache) => {
      done.set(f.name, loaded);
      if (!options.onProgress) return;
      let l = 0;
      for (const v of done.values()) l += v;
      options.onProgress({ file: f.name, loaded: l, total, fileLoaded: loaded, fileTotal: t || f.size, fromCache });
    });
    if (!r.fromCache) fromNetwork += r.bytes.length;
    files[f.name] = r.bytes;
  }

  const M = await corePromise;
  const dir = `/models/split${nextDir++}`;
  M.FS.mkdirTree(dir);
  for (const [name, bytes] of Object.entries(files)) M.FS.writeFile(`${dir}/${name}`, bytes, { canOwn: true });
  const nCtx = Math.min(options.nCtx || m.max_context, m.max_context);
  const handle = withCString(M, dir, (pDir) => withCString(M, m.fingerprint, (pFp) =>
    M._sw_split_open(pDir, threads, nCtx | 0, mode === 'tail' ? 1 : 2, k, pFp, act)));
  for (const name of Object.keys(files)) M.FS.unlink(`${dir}/${name}`);
  M.FS.rmdir(dir);
  state.opened = true; // from here the session (or the line below) ends the module
  if (!handle) {
    const msg = lastError(M);
    shutdown(M);
    throw new Error(`seam: ${msg}`);
  }
  const meta = {
    threads, bytesFromNetwork: fromNetwork, baseUrl: base, mode, split: k, activation, act, model: m.id,
    fingerprint: m.fingerprint, fullModelBytes: Number(m.weight_bytes) || 0, shardBytes: total,
  };
  const session = new SplitSession(M, handle, meta, api);
  try {
    await session._open(mode === 'head' ? { temperature: 0, topK: 0, topP: 1, seed: 0 } : null);
  } catch (e) {
    session._free();
    throw e;
  }
  return session;
}

class SplitSession extends Model {
  constructor(M, handle, meta, api) {
    super(M, handle, meta);
    this._api = api;
    this._meta = meta;
    this._sid = null;
    this._sampling = null;
    Object.assign(this.info, {
      kind: 'split', mode: meta.mode, split: meta.split, activation: meta.activation, model: meta.model,
      fingerprint: meta.fingerprint, serverUrl: meta.baseUrl, shardBytes: meta.shardBytes,
      fullModelBytes: meta.fullModelBytes, sessionId: null,
    });
    this.stats = { bytesSent: 0, bytesReceived: 0, roundTrips: 0, seconds: 0, serverSeconds: 0 };
  }

  // POST /v1/sessions with the body cmd_edge sends, and the same checks on the answer.
  async _open(sampling) {
    await this._delete();
    const i = this.info, mt = this._meta;
    const body = { model: mt.model, split: mt.split, mode: mt.mode, activation: mt.activation, max_context: i.nCtx };
    if (sampling) Object.assign(body, { temperature: sampling.temperature, top_k: sampling.topK, top_p: sampling.topP, seed: sampling.seed });
    const { resp, data: s } = await this._api.json('opening a split session', 'POST', '/v1/sessions', body);
    const ok = resp.status === 201 && s && typeof s.id === 'string' && /^[0-9a-f]{1,39}$/.test(s.id) &&
      s.fingerprint === mt.fingerprint && s.activation === mt.activation && s.mode === mt.mode &&
      s.n_layer === i.nLayer && s.split === mt.split && s.n_embd === i.nEmbd && s.vocab_size === i.vocabSize &&
      s.max_context === i.nCtx && isInt(s.eos_token_id, -1, 1e8);
    if (!ok) {
      if (s && typeof s.id === 'string' && /^[0-9a-f]{1,39}$/.test(s.id)) { this._sid = s.id; await this._delete(); }
      throw new Error("seam: opening a split session: the server's answer is not the session asked for");
    }
    this._sid = s.id;
    this._sampling = sampling;
    this.info.sessionId = s.id;
  }

  async _delete() {
    if (!this._sid) return;
    const id = this._sid;
    this._sid = null;
    this.info.sessionId = null;
    try { await this._api.fetch('closing the split session', 'DELETE', `/v1/sessions/${id}`); } catch { /* gone already */ }
  }

  async _post(body, contentType) {
    const t0 = now();
    const resp = await this._api.fetch('split step', 'POST', `/v1/sessions/${this._sid}/step`, body, contentType);
    const bytes = new Uint8Array(await resp.arrayBuffer());
    const st = this.stats;
    st.roundTrips++;
    st.bytesSent += body.length;
    st.bytesReceived += bytes.length;
    st.seconds += (now() - t0) / 1000;
    const ms = Number(resp.headers.get('x-seam-server-ms'));
    if (Number.isFinite(ms) && ms >= 0) st.serverSeconds += ms / 1000;
    return bytes;
  }

  // One step: ids (T of them) at pos -> the next token, whichever side samples.
  async _step(ids, pos) {
    const M = this._M, T = ids.length;
    if (this.info.mode === 'tail') {
      const reply = await this._post(new TextEncoder().encode(JSON.stringify({ ids, pos })), 'application/json');
      const p = M._malloc(Math.max(1, reply.length));
      try {
        M.HEAPU8.set(reply, p);
        const tok = M._sw_split_tail(this._h, p, reply.length, pos, T);
        if (tok < 0) throw new Error(`seam: split step: ${lastError(M)}`);
        return tok;
      } finally {
        M._free(p);
      }
    }
    const pIds = M._malloc(T * 4);
    let msg;
    try {
      heapI32(M).set(ids, pIds >> 2);
      const p = M._sw_split_head(this._h, pIds, T, pos);
      if (!p) throw new Error(`seam: split step: ${lastError(M)}`);
      msg = M.HEAPU8.slice(p, p + M._sw_split_msg_len(this._h));
    } finally {
      M._free(pIds);
    }
    const reply = await this._post(msg, WIRE_TYPE);
    let r = null;
    try { r = JSON.parse(new TextDecoder().decode(reply)); } catch { r = null; }
    if (!r || !isInt(r.token, 0, this.info.vocabSize - 1) || r.pos !== pos + T) {
      throw new Error(`seam: split step: the server's answer is not a token for position ${pos + T}`);
    }
    return r.token;
  }

  /**
   * As Model.generate(), across the split. Tail mode samples here; head mode has the
   * server sample (a session with these sampling options is opened when they change, and
   * for every sampled, non-greedy generation so that a seed means the same tokens).
   */
  async generate(prompt, options = {}) {
    this._check();
    const M = this._M, i = this.info;
    const o = { maxTokens: 64, temperature: 0.8, topK: 40, topP: 0.95, ignoreEos: false, ...options };
    if (o.greedy) o.temperature = 0;
    const seed = o.seed ?? Math.floor(Math.random() * 2 ** 52) + 1;
    let ids = typeof prompt === 'string' ? this.tokenize(prompt) : Array.from(prompt);
    if (ids.length === 0) {
      if (i.bosTokenId < 0) throw new Error('seam: the prompt is empty and the model has no bos_token_id');
      ids = [i.bosTokenId];
    }
    if (!ids.every((x) => isInt(x, 0, i.vocabSize - 1))) throw new Error(`seam: a token id is outside the vocabulary of ${i.vocabSize}`);
    if (ids.length > i.nCtx) throw new Error(`seam: the prompt (${ids.length} tokens) does not fit the context of ${i.nCtx} tokens`);
    this._busy = true;
    const out = [];
    const decoder = new TextDecoder('utf-8');
    let text = '';
    try {
      const greedy = !(o.temperature > 0);
      const sampling = { temperature: greedy ? 0 : +o.temperature, topK: o.topK | 0, topP: +o.topP, seed };
      if (i.mode === 'tail') {
        if (M._sw_split_sampler(this._h, sampling.temperature, sampling.topK, sampling.topP, seed) !== 0) {
          throw new Error(`seam: ${lastError(M)}`);
        }
        if (!this._sid) await this._open(null);
      } else if (!this._sid || !greedy || !this._sampling || this._sampling.temperature !== 0) {
        await this._open(greedy ? { temperature: 0, topK: 0, topP: 1, seed: 0 } : sampling);
      }
      const t0 = now();
      let t1 = t0, pos = 0, feed = ids, retried = false;
      while (out.length < o.maxTokens && pos + feed.length <= i.nCtx) {
        let next;
        try {
          next = await this._step(feed, pos);
        } catch (e) {
          // An idle session the server expired (410) or lost (404, a restart): one new
          // session replays the prompt; later steps cannot be replayed.
          if (pos !== 0 || retried || (e.status !== 410 && e.status !== 404)) throw e;
          retried = true;
          await this._open(this._sampling);
          continue;
        }
        if (pos === 0) t1 = now();
        pos += feed.length;
        if (!o.ignoreEos && next === i.eosTokenId) break;
        out.push(next);
        const piece = i.hasTokenizer ? decoder.decode(this.tokenBytes(next), { stream: true }) : '';
        text += piece;
        if (o.onToken) o.onToken({ id: next, text: piece, index: out.length - 1 });
        feed = [next];
      }
      const t2 = now();
      text += decoder.decode();
      return generationResult(text, out, ids.length, t1 - t0, t2 - t1, Math.max(0, out.length - 1));
    } finally {
      this._busy = false;
    }
  }

  logits() { throw new Error('seam: a split session has only part of the model: use generate()'); }

  _free() { releaseSession(this); }

  /** Ends the session on the server (DELETE) and frees the shard's memory here. */
  async close() {
    if (!this._h) return;
    this._free();
    await this._delete();
  }
}

export const version = '0.1.0';
