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
  const total = Number(resp.headers.get('content-length')) || 0;
  if (!resp.body || !resp.body.getReader) {
    const bytes = new Uint8Array(await resp.arrayBuffer());
    report(bytes.length, bytes.length, fromCache);
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
    report(n, Math.max(total, n), fromCache);
  }
  if (total && n !== total) throw new Error(`seam: ${u}: got ${n} of ${total} bytes`);
  report(n, n, fromCache);
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
      weightDtype: ['f32', 'f16', 'bf16'][i(10)] || 'unknown',
      weightBytes: M._sw_weight_bytes(handle), simd: !!M._sw_simd(),
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
      const prefillMs = t1 - t0, decodeMs = t2 - t1;
      return {
        text, ids: out, promptTokens: ids.length, prefillMs, decodeMs,
        prefillTokensPerSecond: ids.length / Math.max(prefillMs, 1e-6) * 1000,
        tokensPerSecond: out.length / Math.max(decodeMs, 1e-6) * 1000,
      };
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
  close() {
    if (!this._h) return;
    this._M._sw_close(this._h);
    this._h = 0;
    shutdown(this._M);
  }
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
      simd: !!M._sw_simd(), bytesFromNetwork: meta.bytesFromNetwork, baseUrl: meta.baseUrl,
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

export const version = '0.1.0';
