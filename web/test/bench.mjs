// Prefill and decode speed of the WebAssembly build, as `seam generate --stats` measures
// native: a prompt of P ids (prefill), then N greedy tokens (decode). Runs under node, or in
// headless Chromium when given --browser (the page served by web/test/serve.py).
//
// usage: node web/test/bench.mjs WEB_DIR MODEL_DIR [--threads 1,2] [--prompt 128] [--tokens 64]
//        [--reps 3] [--browser]
// Prints one line per thread count: `wasm-node t1 prefill X tok/s decode Y tok/s` (best of reps,
// after a warm-up run, so V8's optimising tier is measured rather than its baseline compiler).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const [webDir, modelDir] = args;
if (!webDir || !modelDir) { console.error('usage: bench.mjs WEB_DIR MODEL_DIR [--threads 1,2] [--browser]'); process.exit(2); }
const threadsList = opt('threads', '1,2').split(',').map(Number);
const P = Number(opt('prompt', 128)), N = Number(opt('tokens', 64)), reps = Number(opt('reps', 3));
const ids = Array.from({ length: P }, (_, i) => 100 + i);

// Runs inside the page or in node: load, warm up, best-of-reps.
async function measure(seamModule, base, threads, ids, N, reps, cache) {
  const model = await seamModule.load(base, { threads, cache });
  await model.generate(ids.slice(0, 16), { maxTokens: 8, greedy: true, ignoreEos: true });
  let prefill = 0, decode = 0;
  for (let r = 0; r < reps; r++) {
    const g = await model.generate(ids, { maxTokens: N, greedy: true, ignoreEos: true });
    prefill = Math.max(prefill, g.prefillTokensPerSecond);
    decode = Math.max(decode, g.tokensPerSecond);
  }
  const t = model.info.threads;
  model.close();
  return { threads: t, prefill, decode };
}

if (!args.includes('--browser')) {
  const seam = await import(pathToFileURL(path.resolve(webDir, 'seam.mjs')).href);
  for (const t of threadsList) {
    const r = await measure(seam, path.resolve(modelDir), t, ids, N, reps, false);
    console.log(`wasm-node t${r.threads} prefill ${r.prefill.toFixed(1)} tok/s decode ${r.decode.toFixed(2)} tok/s`);
  }
  process.exit(0);
}

const { chromium } = await import('playwright-core');
const here = path.dirname(fileURLToPath(import.meta.url));
const srv = spawn('python3', [path.join(here, 'serve.py'), '--web', webDir, '--models', path.dirname(path.resolve(modelDir))],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  srv.stdout.setEncoding('utf8');
  srv.stdout.once('data', (l) => { const m = /port (\d+)/.exec(l); m ? resolve(m[1]) : reject(new Error(l)); });
});
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-bench-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.goto(`http://127.0.0.1:${port}/index.html`);
  for (const t of threadsList) {
    const r = await page.evaluate(async ([src, base, t, ids, N, reps]) => {
      const seam = await import('./seam.mjs');
      const measureFn = new Function(`return (${src})`)();
      return measureFn(seam, base, t, ids, N, reps, false);
    }, [measure.toString(), `/models/${path.basename(path.resolve(modelDir))}/`, t, ids, N, reps]);
    console.log(`wasm-chromium t${r.threads} prefill ${r.prefill.toFixed(1)} tok/s decode ${r.decode.toFixed(2)} tok/s`);
  }
} finally {
  await ctx.close();
  srv.kill();
  fs.rmSync(userDir, { recursive: true, force: true });
}
