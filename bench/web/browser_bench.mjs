// make bench's browser section: seam's WebAssembly build and transformers.js
// (onnxruntime-web) on the same GPT-2-small weights, in one headless Chromium run, served
// cross-origin isolated from 127.0.0.1 (bench/web/serve.mjs), and seam native beside them.
// JSON on stdout, progress on stderr.
//
// This machine's speed drifts by up to 2× from minute to minute, so engines are not timed
// one after the other: for each thread count, every engine is opened in a page of its own
// (and seam native, with --native, in a process of its own at 1 thread), and then --reps
// rounds each ask every engine for one generation, in an order that rotates from round to
// round. Each run records its round; bench/report_web.py takes the median of per-round
// ratios. The q8 page runs seam twice per round, with and without the relaxed-SIMD tiles.
// Before each run the machine is let settle (settle() below), so that one engine's leftover
// work (V8 keeps compiling a page's WebAssembly on background threads after its first runs)
// does not land in the next one's time.
// A failure is recorded and the other engines go on.
//
// usage: node bench/web/browser_bench.mjs --web build/web --work bench/work
//          [--seam q8=gpt2-small-q8,f32=gpt2-small-f32] [--tjs tjs-gpt2-small] [--tjs-dtypes q8,fp32]
//          [--threads 1,2] [--prompt 128] [--tokens 32] [--reps 5] [--timeout 240] [--roof FILE.wasm]
//          [--native bench/work/bin/native_gen]
// --seam names folders of --work holding seam models; --tjs a folder of --work holding the
// transformers.js export (bench/web/export_tjs.py). Prompt ids are (1000 + 997 i) mod vocab.
// --roof is bench/web/roofline_wasm.c built standalone: its arithmetic peaks (and those of
// roofline_relaxed.wasm in the same folder, when there) run first, in a page of their own,
// and land under "roofline". --native is bench/web/native_gen.c built: it joins the 1-thread
// rounds for each --seam model, and lands under "native".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { start } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

// [busy, total] jiffies of all CPUs (/proc/stat), or null where there is no such file.
function cpuTimes() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0), idle = f[3] + (f[4] || 0);
    return [total - idle, total];
  } catch {
    return null;
  }
}

// Waits for a 500 ms window in which under 15% of the machine's CPU time was busy (another
// page's background compilation, a collector), for at most maxMs; returns the ms waited.
async function settle(maxMs) {
  const t0 = Date.now();
  let prev = cpuTimes();
  while (prev && Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 500));
    const cur = cpuTimes();
    const busy = (cur[0] - prev[0]) / Math.max(1, cur[1] - prev[1]);
    prev = cur;
    if (busy < 0.15) break;
  }
  return Date.now() - t0;
}
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const list = (s) => (s ? s.split(',').filter(Boolean) : []);
const webDir = path.resolve(opt('web', 'build/web')), workDir = path.resolve(opt('work', 'bench/work'));
const seamModels = list(opt('seam', 'q8=gpt2-small-q8,f32=gpt2-small-f32')).map((s) => s.split('='));
const tjsModel = opt('tjs', 'tjs-gpt2-small');
const tjsDtypes = list(opt('tjs-dtypes', 'q8,fp32'));
const threads = list(opt('threads', '1,2')).map(Number);
const P = Number(opt('prompt', 128)), N = Number(opt('tokens', 32)), reps = Number(opt('reps', 5));
const nativeBin = opt('native', '');
const timeoutMs = Number(opt('timeout', 240)) * 1000;
const roofWasm = opt('roof', '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The first line: the flags every headless run of this project uses. The second: pages wait
// their turn in the background, and must not be slowed when it comes.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'];
const say = (s) => process.stderr.write(`  [browser] ${s}\n`);

const vocab = (dir) => JSON.parse(fs.readFileSync(path.join(workDir, dir, 'config.json'), 'utf8')).vocab_size;
const firstModel = seamModels[0]?.[1] ?? tjsModel;
const V = vocab(firstModel);
const ids = Array.from({ length: P }, (_, i) => (1000 + 997 * i) % V);

const nm = path.join(here, 'node_modules');
const srv = await start([
  ['/', here], ['/seam/', webDir], ['/models/', workDir],
  ...(roofWasm ? [['/roof/', path.dirname(path.resolve(roofWasm))]] : []),
  ['/ort/', path.join(nm, 'onnxruntime-web', 'dist')], ['/tjs/', path.join(nm, '@huggingface', 'transformers', 'dist')],
]);
const base = `http://127.0.0.1:${srv.address().port}`;
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-web-bench-'));
const out = { prompt_tokens: P, new_tokens: N, reps, prompt_ids: `(1000 + 997*i) mod ${V}, i < ${P}`, results: [], errors: [] };
const withTimeout = (p, what) => {
  let timer;
  return Promise.race([p, new Promise((_, no) => { timer = setTimeout(() => no(new Error(`${what}: timed out after ${timeoutMs / 1000} s`)), timeoutMs); })])
    .finally(() => clearTimeout(timer));
};
const firstLine = (e) => String(e && e.message ? e.message : e).split('\n')[0].slice(0, 300);

// seam native in a process of its own (native_gen --serve): one JSON line per "run".
async function openNative(dtype, dir) {
  const proc = spawn(nativeBin, ['-m', path.join(workDir, dir), '-t', '1', '--prompt', String(P), '--tokens', String(N), '--serve'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.on('error', (e) => { stderr += `\n${e.message}`; });
  const lines = readline.createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await withTimeout(lines.next(), `native ${dtype}`);
    if (r.done) throw new Error(`native_gen ${dtype} ended: ${stderr.trim().split('\n').pop() || 'no output'}`);
    const j = JSON.parse(r.value);
    if (j.error) throw new Error(`native_gen ${dtype}: ${j.error}`);
    return j;
  };
  const hello = await next();
  return {
    info: { engine: 'seam-native', threads: hello.threads },
    once: async () => { proc.stdin.write('run\n'); return next(); },
    close: async () => { proc.stdin.end('quit\n'); },
  };
}

// One engine in a page of its own; once() runs one generation there.
async function openPage(kind, arg) {
  const page = await ctx.newPage();
  const consoleLines = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e}`));
  try {
    await page.goto(`${base}/bench.html`);
    if (!out.user_agent) {
      out.user_agent = await page.evaluate(() => navigator.userAgent);
      out.hardware_concurrency = await page.evaluate(() => navigator.hardwareConcurrency);
    }
    const fn = kind === 'seam' ? 'seamOpen' : 'tjsOpen';
    const info = await withTimeout(page.evaluate(async ([f, a]) => (await import('/page.mjs'))[f](a), [fn, arg]), `opening ${kind}`);
    return {
      info, consoleLines,
      once: async (a) => {
        await page.bringToFront();
        return withTimeout(page.evaluate(async (x) => (await import('/page.mjs')).once(x), a), 'a run');
      },
      close: async () => { await page.evaluate(async () => (await import('/page.mjs')).close()).catch(() => {}); await page.close().catch(() => {}); },
    };
  } catch (e) {
    e.consoleLines = consoleLines;
    await page.close().catch(() => {});
    throw e;
  }
}

let ctx;
try {
  // playwright adds --headless itself for headless: true; FLAGS names it too, as asked of every run.
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  if (roofWasm) {
    const page = await ctx.newPage();
    try {
      await page.goto(`${base}/bench.html`);
      say('roofline ...');
      out.roofline = await page.evaluate(async (url) => (await import('/page.mjs')).roofRun({ wasmUrl: url }),
        `${base}/roof/${path.basename(roofWasm)}`);
      say(`roofline: int16 dot ${out.roofline.int16_dot_gmacs.toFixed(1)} GMAC/s, ` +
        `f32 mul+add ${out.roofline.f32_mul_add_gflops.toFixed(1)} GFLOP/s` +
        (out.roofline.i8_relaxed_dot_gmacs ? `, relaxed byte dot ${out.roofline.i8_relaxed_dot_gmacs.toFixed(1)} GMAC/s` : ''));
    } catch (e) {
      out.errors.push({ label: 'roofline', error: firstLine(e) });
      say(`roofline FAILED: ${firstLine(e)}`);
    } finally {
      await page.close().catch(() => {});
    }
  }
  for (const t of threads) {
    // The engines of this thread count; a "unit" is one (engine, setting) timed per round.
    const engines = [];
    const open = async (label, fn) => {
      say(`${label}: loading ...`);
      try {
        const e = await fn();
        engines.push({ label, ...e });
        return e;
      } catch (err) {
        out.errors.push({ label, error: firstLine(err), console: (err.consoleLines || []).slice(0, 5) });
        say(`${label} FAILED: ${firstLine(err)}`);
        return null;
      }
    };
    const units = [];
    for (const [dtype, dir] of seamModels) {
      const e = await open(`seam-wasm-${dtype}-t${t}`, () => openPage('seam',
        { seamUrl: `${base}/seam/seam.mjs`, modelUrl: `${base}/models/${dir}/`, threads: t, ids, q8: dtype === 'q8' }));
      if (!e) continue;
      units.push({ label: `seam-wasm-${dtype}-t${t}`, engine: e, dtype, args: { N, relaxed: true }, result: { engine: 'seam-wasm', ...e.info } });
      // the same page without the relaxed-SIMD tiles, for the A/B (only q8 prefill differs)
      if (dtype === 'q8' && e.info.relaxed_simd_available)
        units.push({ label: `seam-wasm-simd128-${dtype}-t${t}`, engine: e, dtype, args: { N, relaxed: false }, result: { engine: 'seam-wasm-simd128', ...e.info } });
    }
    for (const dtype of tjsDtypes) {
      const e = await open(`tjs-${dtype}-t${t}`, () => openPage('tjs',
        { tjsUrl: `${base}/tjs/transformers.js`, ortDir: `${base}/ort/`, modelRoot: `${base}/models/`, modelId: tjsModel, dtype, threads: t, ids }));
      if (e) units.push({ label: `tjs-${dtype}-t${t}`, engine: e, dtype, args: { N }, result: { engine: 'transformers.js', ...e.info } });
    }
    if (nativeBin && t === 1) {
      for (const [dtype, dir] of seamModels) {
        const e = await open(`native-${dtype}-t1`, () => openNative(dtype, dir));
        if (e) units.push({ label: `native-${dtype}-t1`, engine: e, dtype, args: {}, native: true, result: { ...e.info } });
      }
    }
    for (const u of units) u.result.runs = [];
    for (let r = 0; r < reps; r++) {
      const live = units.filter((u) => !u.failed);
      for (let i = 0; i < live.length; i++) {
        const u = live[(i + r) % live.length];
        try {
          // longer before the first run: every page has just been opened and warmed up
          const waited = await settle(r === 0 && i === 0 ? 30000 : 10000);
          const x = await u.engine.once(u.args);
          x.round = r;
          x.settle_ms = waited;
          u.result.runs.push(x);
          if (x.relaxed_simd !== undefined) u.result.relaxed_simd = x.relaxed_simd;
          say(`round ${r + 1}/${reps} ${u.label}: prefill ${x.prefill_tok_s.toFixed(1)} tok/s, decode ${x.decode_tok_s.toFixed(2)} tok/s` +
            (waited > 1000 ? ` (after ${(waited / 1000).toFixed(1)} s for the machine to settle)` : ''));
        } catch (err) {
          u.failed = true;
          out.errors.push({ label: u.label, error: firstLine(err), console: (u.engine.consoleLines || []).slice(0, 5) });
          say(`${u.label} FAILED in round ${r + 1}: ${firstLine(err)}`);
        }
      }
    }
    for (const e of engines) await e.close().catch(() => {});
    for (const u of units) {
      const runs = u.result.runs;
      if (!runs.length) continue;
      const best = (k) => Math.max(...runs.map((x) => x[k]));
      Object.assign(u.result, {
        label: u.label, requested_dtype: u.dtype, prompt_tokens: P, new_tokens: N,
        prefill_tok_s: best('prefill_tok_s'), decode_tok_s: best('decode_tok_s'), first_token: runs[0].ids[0],
        ids: runs[0].ids, ids_equal_across_runs: runs.every((x) => x.ids.join() === runs[0].ids.join()),
      });
      if (u.engine.consoleLines?.length) u.result.console = u.engine.consoleLines.slice(0, 5);
      if (u.native) (out.native ??= {})[u.dtype] = u.result;
      else out.results.push(u.result);
    }
  }
} finally {
  if (ctx) await ctx.close().catch(() => {});
  srv.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 1));
