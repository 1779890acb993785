// The demo page in headless Chromium (Debian's, driven by playwright-core): served with
// COOP/COEP by web/test/serve.py on 127.0.0.1, it loads gpt2-tiny with a progress bar,
// generates the reference greedy tokens through the form and through the module for every
// reference case, saves a screenshot, then reloads and loads again with no model bytes
// downloaded (the Cache API). A page without the isolation headers falls back to one thread.
//
// usage: node web/test/browser_test.mjs WEB_DIR FIXTURES SCREENSHOT   (exit 0: passed)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [webDir, fixtures, shot] = process.argv.slice(2);
if (!webDir || !fixtures || !shot) {
  console.error('usage: browser_test.mjs WEB_DIR FIXTURES SCREENSHOT');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) { passed++; console.log(`  ok   ${what}`); } else { failed++; console.log(`  FAIL ${what}`); }
}

function referenceCases(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const ints = (name) => {
    const [b, e] = header[name].data_offsets;
    return Array.from(new Int32Array(new Uint8Array(buf.subarray(8 + n + b, 8 + n + e)).buffer));
  };
  const cases = [];
  for (let i = 0; header[`case${i}.input_ids`]; i++) cases.push({ ids: ints(`case${i}.input_ids`), greedy: ints(`case${i}.greedy`) });
  return { cases, prompts: JSON.parse(header.__metadata__.prompts) };
}

function startServer() {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', [path.join(here, 'serve.py'), '--web', webDir, '--models', fixtures],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    p.on('error', reject);
    p.stdout.setEncoding('utf8');
    p.stdout.once('data', (line) => {
      const m = /port (\d+)/.exec(line);
      if (m) resolve({ proc: p, base: `http://127.0.0.1:${m[1]}` });
      else reject(new Error(`serve.py said: ${line}`));
    });
  });
}

const { cases, prompts } = referenceCases(path.join(fixtures, 'gpt2-tiny-ref', 'reference.safetensors'));
const server = await startServer();
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-chromium-'));
let ctx;
const deadline = setTimeout(() => { console.log('  FAIL timed out'); process.exit(1); }, 240_000);
try {
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const stats = async () => (await fetch(`${server.base}/__stats`)).json();
  const reset = () => fetch(`${server.base}/__reset`, { method: 'POST' });
  const modelBytes = (s) => Object.entries(s).filter(([k]) => k.startsWith('/models/')).reduce((a, [, v]) => a + v.bytes, 0);

  // First load: downloads, shows progress.
  await reset();
  await page.goto(`${server.base}/index.html?model=/models/gpt2-tiny/&threads=2`);
  check(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated (COOP + COEP)');
  await page.click('#load');
  await page.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  const info = await page.evaluate(() => window.seamDemo.model.info);
  check(info.threads === 2 && info.simd, `loaded with ${info.threads} threads, SIMD128 ${info.simd}`);
  const progress = await page.evaluate(() => [document.getElementById('progress').value, document.getElementById('progress').max]);
  check(progress[1] > info.weightBytes && progress[0] === progress[1], `progress bar full (${progress[0]} of ${progress[1]} bytes)`);
  const first = await stats();
  const st = first['/models/gpt2-tiny/model.safetensors'] || { requests: 0, bytes: 0 };
  check(st.requests === 1 && st.bytes > info.weightBytes, `first load downloaded model.safetensors once (${st.bytes} bytes)`);
  check(info.bytesFromNetwork === modelBytes(first), `bytesFromNetwork ${info.bytesFromNetwork} = bytes served ${modelBytes(first)}`);

  // The form: greedy continuation of the first reference prompt.
  await page.fill('#prompt', prompts[0]);
  await page.check('#greedy');
  await page.fill('#maxTokens', String(cases[0].greedy.length));
  await page.click('#generate');
  await page.waitForSelector('body[data-done="1"]', { timeout: 60_000 });
  const shown = await page.getAttribute('#ids', 'data-ids');
  check(shown === cases[0].greedy.join(','), `page greedy for "${prompts[0]}" matches the reference`);
  await page.screenshot({ path: shot, fullPage: true });
  check(fs.existsSync(shot), `screenshot saved to ${shot}`);

  // Every reference case through the module in the page.
  const got = await page.evaluate(async (cs) => {
    const out = [];
    for (const c of cs) out.push((await window.seamDemo.model.generate(c.ids, { greedy: true, maxTokens: c.greedy.length })).ids.join(','));
    return out;
  }, cases);
  const same = got.filter((g, i) => g === cases[i].greedy.join(',')).length;
  check(same === cases.length, `${same} of ${cases.length} reference greedy continuations identical in Chromium`);

  // Reload: the files come from the Cache API.
  await reset();
  await page.reload();
  await page.click('#load');
  await page.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  const second = await stats();
  const info2 = await page.evaluate(() => window.seamDemo.model.info);
  check(modelBytes(second) === 0 && info2.bytesFromNetwork === 0,
    `second load: ${modelBytes(second)} model bytes served, ${info2.bytesFromNetwork} counted by the page`);
  const text2 = await page.textContent('#progressText');
  check(/from the cache/.test(text2), `the page says so: "${text2}"`);

  // No isolation headers: one thread, still correct.
  const noiso = await ctx.newPage();
  await noiso.goto(`${server.base}/index.html?model=/models/gpt2-tiny/&noiso=1`);
  check(!(await noiso.evaluate(() => crossOriginIsolated)), 'without COOP/COEP the page is not isolated');
  await noiso.click('#load');
  await noiso.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  const g1 = await noiso.evaluate(async (c) => {
    const m = window.seamDemo.model;
    return [m.info.threads, (await m.generate(c.ids, { greedy: true, maxTokens: c.greedy.length })).ids.join(',')];
  }, cases[1]);
  check(g1[0] === 1 && g1[1] === cases[1].greedy.join(','), `fallback: ${g1[0]} thread, greedy identical`);
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ': ' + consoleErrors.slice(0, 3).join(' | ') : ''}`);
} catch (e) {
  check(false, `browser test threw: ${e.stack || e}`);
} finally {
  clearTimeout(deadline);
  if (ctx) await ctx.close().catch(() => {});
  server.proc.kill();
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(`wasm browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
