// make bench's browser section: seam's WebAssembly build and transformers.js
// (onnxruntime-web) on the same GPT-2-small weights, in one headless Chromium run, served
// cross-origin isolated from 127.0.0.1 (bench/web/serve.mjs). JSON on stdout, progress on
// stderr. Each (engine, weights, threads) runs in a page of its own; a failure is recorded
// and the next one goes on.
//
// usage: node bench/web/browser_bench.mjs --web build/web --work bench/work
//          [--seam q8=gpt2-small-q8,f32=gpt2-small-f32] [--tjs tjs-gpt2-small] [--tjs-dtypes q8,fp32]
//          [--threads 1,2] [--prompt 128] [--tokens 32] [--reps 2] [--timeout 240] [--roof FILE.wasm]
// --seam names folders of --work holding seam models; --tjs a folder of --work holding the
// transformers.js export (bench/web/export_tjs.py). Prompt ids are (1000 + 997 i) mod vocab.
// --roof is bench/web/roofline_wasm.c built standalone: its arithmetic peaks (and those of
// roofline_relaxed.wasm in the same folder, when there) run first, in a page of their own,
// and land under "roofline".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { start } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const list = (s) => (s ? s.split(',').filter(Boolean) : []);
const webDir = path.resolve(opt('web', 'build/web')), workDir = path.resolve(opt('work', 'bench/work'));
const seamModels = list(opt('seam', 'q8=gpt2-small-q8,f32=gpt2-small-f32')).map((s) => s.split('='));
const tjsModel = opt('tjs', 'tjs-gpt2-small');
const tjsDtypes = list(opt('tjs-dtypes', 'q8,fp32'));
const threads = list(opt('threads', '1,2')).map(Number);
const P = Number(opt('prompt', 128)), N = Number(opt('tokens', 32)), reps = Number(opt('reps', 2));
const timeoutMs = Number(opt('timeout', 240)) * 1000;
const roofWasm = opt('roof', '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
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
let ctx;
try {
  // playwright adds --headless itself for headless: true; FLAGS names it too, as asked of every run.
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const jobs = roofWasm ? [{ label: 'roofline', kind: 'roof' }] : [];
  for (const t of threads) {
    for (const [dtype, dir] of seamModels) {
      jobs.push({ label: `seam-wasm-${dtype}-t${t}`, kind: 'seam', dtype, dir, t });
      // the q8 prefill without relaxed SIMD, for the A/B (only q8 prefill differs)
      if (dtype === 'q8') jobs.push({ label: `seam-wasm-simd128-${dtype}-t${t}`, kind: 'seam', dtype, dir, t, relaxed: false });
    }
    for (const dtype of tjsDtypes) jobs.push({ label: `tjs-${dtype}-t${t}`, kind: 'tjs', dtype, t });
  }
  for (const j of jobs) {
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
      say(`${j.label} ...`);
      if (j.kind === 'roof') {
        out.roofline = await page.evaluate(async (url) => (await import('/page.mjs')).roofRun({ wasmUrl: url }),
          `${base}/roof/${path.basename(roofWasm)}`);
        say(`roofline: int16 dot ${out.roofline.int16_dot_gmacs.toFixed(1)} GMAC/s, ` +
          `f32 mul+add ${out.roofline.f32_mul_add_gflops.toFixed(1)} GFLOP/s` +
          (out.roofline.i8_relaxed_dot_gmacs ? `, relaxed byte dot ${out.roofline.i8_relaxed_dot_gmacs.toFixed(1)} GMAC/s` : ''));
        continue;
      }
      const arg = j.kind === 'seam'
        ? { seamUrl: `${base}/seam/seam.mjs`, modelUrl: `${base}/models/${j.dir}/`, threads: j.t, ids, N, reps, relaxed: j.relaxed ?? true }
        : { tjsUrl: `${base}/tjs/transformers.js`, ortDir: `${base}/ort/`, modelRoot: `${base}/models/`, modelId: tjsModel,
          dtype: j.dtype, threads: j.t, ids, N, reps };
      const fn = j.kind === 'seam' ? 'seamRun' : 'tjsRun';
      const run = page.evaluate(async ([fn, a]) => (await import('/page.mjs'))[fn](a), [fn, arg]);
      let timer;
      const r = await Promise.race([run, new Promise((_, no) => { timer = setTimeout(() => no(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs); })]);
      clearTimeout(timer);
      r.label = j.label;
      r.requested_dtype = j.dtype;
      if (consoleLines.length) r.console = consoleLines.slice(0, 5);
      out.results.push(r);
      say(`${j.label}: prefill ${r.prefill_tok_s.toFixed(1)} tok/s, decode ${r.decode_tok_s.toFixed(2)} tok/s, ` +
        `threads ${r.threads}, first token ${r.first_token}, load ${(r.load_ms / 1000).toFixed(1)} s`);
    } catch (e) {
      const msg = String(e && e.message ? e.message : e).split('\n')[0].slice(0, 300);
      out.errors.push({ label: j.label, error: msg, console: consoleLines.slice(0, 5) });
      say(`${j.label} FAILED: ${msg}${consoleLines.length ? ' | ' + consoleLines.slice(0, 2).join(' | ') : ''}`);
    } finally {
      await page.close().catch(() => {});
    }
  }
} finally {
  if (ctx) await ctx.close().catch(() => {});
  srv.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 1));
