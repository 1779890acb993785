// The demo page in headless Chromium (Debian's, driven by playwright-core), served by
// `seam serve --web WEB_DIR -m gpt2-tiny` on 127.0.0.1 (so page, model files, shards and
// split sessions share one origin): the page is cross-origin isolated and picks the
// pthreads build, loads gpt2-tiny with a progress bar, generates the reference greedy tokens
// through the form and through the module for every reference case, saves a screenshot,
// reloads and loads again with no model bytes downloaded (the Cache API), runs split
// sessions against the server in both modes at several split points with the reference
// greedy ids (and one through the form), and, with the isolation headers stripped, falls
// back to one thread. q8 and q4 copies of the model give the same bits with the relaxed-SIMD
// tiles on and off (and they pass their self-test where the engine runs them). The model folder is copied to WEB_DIR/models/gpt2-tiny for the run
// (--web refuses symlinks that leave the folder).
//
// usage: node web/test/browser_test.mjs WEB_DIR FIXTURES SCREENSHOT   (exit 0: passed)
// env: SEAM_BIN (default build/seam)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const SEAM_BIN = process.env.SEAM_BIN || path.resolve(here, '../../build/seam');
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

function startServer(cacheDir) {
  return new Promise((resolve, reject) => {
    const p = spawn(SEAM_BIN, ['serve', '-m', path.join(fixtures, 'gpt2-tiny'), '--web', webDir, '--host', '127.0.0.1',
      '--port', '0', '--quiet', '--cache-dir', cacheDir, '--exit-after', '600'], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => reject(new Error(`seam serve exited with ${code}`)));
    p.stdout.setEncoding('utf8');
    p.stdout.once('data', (line) => {
      const m = /^(http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m) resolve({ proc: p, base: m[1] });
      else reject(new Error(`seam serve said: ${line}`));
    });
  });
}

// Model bytes the page fetched from the network, per path, from Chromium's own accounting
// (a file read from the Cache API makes no request).
function countRequests(page) {
  const seen = {}, pending = [];
  page.on('requestfinished', (req) => {
    const u = new URL(req.url());
    if (!u.pathname.startsWith('/models/')) return;
    pending.push(req.sizes().then((sz) => {
      const s = seen[u.pathname] || (seen[u.pathname] = { requests: 0, bytes: 0 });
      s.requests++;
      s.bytes += sz.responseBodySize;
    }));
  });
  return {
    async stats() { await Promise.all(pending); return JSON.parse(JSON.stringify(seen)); },
    async reset() { await Promise.all(pending); for (const k of Object.keys(seen)) delete seen[k]; },
  };
}

const { cases, prompts } = referenceCases(path.join(fixtures, 'gpt2-tiny-ref', 'reference.safetensors'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-browser-test-'));
const modelCopy = path.join(webDir, 'models', 'gpt2-tiny');
fs.mkdirSync(modelCopy, { recursive: true });
for (const f of fs.readdirSync(path.join(fixtures, 'gpt2-tiny'))) {
  fs.copyFileSync(path.join(fixtures, 'gpt2-tiny', f), path.join(modelCopy, f));
  fs.chmodSync(path.join(modelCopy, f), 0o644);
}
// q8 and q4 copies for the relaxed-SIMD check (src/kernels/quant_wasm_relaxed.c).
for (const type of ['q8', 'q4']) {
  const q = spawnSync(SEAM_BIN, ['quantize', '-m', path.join(fixtures, 'gpt2-tiny'), '-o', path.join(webDir, 'models', `gpt2-tiny-${type}`), '--type', type],
    { encoding: 'utf8' });
  if (q.status !== 0) { console.log(`  FAIL seam quantize --type ${type}: ${q.stderr}`); process.exit(1); }
}
const server = await startServer(path.join(tmp, 'serve-cache'));
const userDir = path.join(tmp, 'chromium');
let ctx;
const deadline = setTimeout(() => { console.log('  FAIL timed out'); process.exit(1); }, 240_000);
try {
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const counter = countRequests(page);
  const stats = () => counter.stats();
  const reset = () => counter.reset();
  const modelBytes = (s) => Object.entries(s).filter(([k]) => k.startsWith('/models/')).reduce((a, [, v]) => a + v.bytes, 0);

  // First load: downloads, shows progress.
  await reset();
  await page.goto(`${server.base}/index.html?model=/models/gpt2-tiny/&threads=2`);
  check(await page.evaluate(() => crossOriginIsolated), 'the page from seam serve --web is cross-origin isolated (COOP + COEP)');
  await page.click('#load');
  await page.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  const info = await page.evaluate(() => window.seamDemo.model.info);
  check(info.threads === 2 && info.simd, `loaded with ${info.threads} threads, SIMD128 ${info.simd}`);
  const glue = await page.evaluate(() => [...document.scripts].map((s) => s.src.split('/').pop()).filter((n) => /^seam/.test(n)));
  check(glue.includes('seam-mt.js') && !glue.includes('seam.js'), `the pthreads build was picked (${glue.join(', ')})`);
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

  // Split sessions with the server, from the module: both modes, several split points,
  // greedy ids as the whole model's.
  const splits = await page.evaluate(async (c) => {
    const seam = window.seamDemo.seam, out = [];
    for (const mode of ['tail', 'head']) {
      for (const split of [0, 1, 3, 4]) {
        const s = await seam.connect(location.origin, { split, mode, threads: 2 });
        const r = await s.generate(c.ids, { greedy: true, maxTokens: c.greedy.length });
        out.push({ mode, split, ids: r.ids.join(','), stats: s.stats, info: { ...s.info } });
        await s.close();
      }
    }
    return out;
  }, cases[1]);
  for (const r of splits) {
    check(r.ids === cases[1].greedy.join(','), `split ${r.mode} k=${r.split}: greedy identical to the reference`);
    check(r.stats.roundTrips === cases[1].greedy.length && r.stats.bytesSent > 0 && r.stats.bytesReceived > 0,
      `split ${r.mode} k=${r.split}: ${r.stats.roundTrips} round trips, ${r.stats.bytesSent} B sent, ${r.stats.bytesReceived} B received`);
  }
  const s0 = splits[1];
  check(s0.info.threads === 2 && s0.info.shardBytes > 0 && s0.info.fullModelBytes === info.weightBytes,
    `split session: ${s0.info.threads} threads, shard ${s0.info.shardBytes} B, model ${s0.info.fullModelBytes} B`);
  const again = await page.evaluate(async () => {
    const s = await window.seamDemo.seam.connect(location.origin, { split: 1, mode: 'tail' });
    const b = s.info.bytesFromNetwork;
    await s.close();
    return b;
  });
  check(again === 0, `a second session on the same shard downloads nothing (${again} bytes: the Cache API)`);
  const closed = await page.evaluate(async () => (await fetch('/metrics')).text());
  check(/^seam_sessions_active 0$/m.test(closed), 'close() deleted every session on the server');

  // A split session through the form.
  const form = await ctx.newPage();
  await form.goto(`${server.base}/index.html?run=split&split=2&mode=head&threads=2`);
  await form.click('#load');
  await form.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  await form.fill('#prompt', prompts[0]);
  await form.check('#greedy');
  await form.fill('#maxTokens', String(cases[0].greedy.length));
  await form.click('#generate');
  await form.waitForSelector('body[data-done="1"]', { timeout: 60_000 });
  check(await form.getAttribute('#ids', 'data-ids') === cases[0].greedy.join(','), 'the form\'s split session (head, k=2) matches the reference');
  check(/round trips/.test(await form.textContent('#netStats')), `the page shows the split's traffic: "${await form.textContent('#netStats')}"`);
  await form.close();

  // q8 and q4 prefill with the relaxed-SIMD tiles and without: the same bits (their integer
  // sums are exact either way), in the main thread and the two workers.
  let rx;
  for (const type of ['q8', 'q4']) {
    rx = await page.evaluate(async ([c, type]) => {
      const m = await window.seamDemo.seam.load(`/models/gpt2-tiny-${type}/`, { threads: 2 });
      const M = m._M, bits = (f) => Array.from(new Uint32Array(f.buffer)).join(',');
      const out = { active: m.info.relaxedSimd, selftest: M._sw_rx_selftest(), quant: m.info.weightQuant };
      const on = bits(m.logits(c.ids)), idsOn = (await m.generate(c.ids, { greedy: true, maxTokens: 8 })).ids.join(',');
      M._sw_rx(0);
      out.off = M._sw_rx(-1);
      const off = bits(m.logits(c.ids)), idsOff = (await m.generate(c.ids, { greedy: true, maxTokens: 8 })).ids.join(',');
      M._sw_rx(1);
      out.sameLogits = on === off;
      out.sameIds = idsOn === idsOff;
      m.close();
      return out;
    }, [cases[1], type]);
    check(rx.active ? rx.selftest === 0 : rx.selftest === -1,
      `${type}: relaxed-SIMD tiles ${rx.active ? 'run here' : 'do not run here'}; self-test against the SIMD128 tiles (q8 and q4): ${rx.selftest} outputs differ`);
    check(rx.off === 0 && rx.sameLogits && rx.sameIds, `${type} gpt2-tiny: prefill logits bit-identical and greedy ids identical with the relaxed tiles on and off`);
    check(rx.quant === type, `${type} gpt2-tiny: model.info.weightQuant is ${rx.quant}`);
  }

  // No isolation headers (stripped on the way in): one thread, still correct.
  const noiso = await ctx.newPage();
  await noiso.route('**/*', async (route) => {
    const resp = await route.fetch();
    const headers = { ...resp.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response: resp, headers });
  });
  await noiso.goto(`${server.base}/index.html?model=/models/gpt2-tiny/`);
  check(!(await noiso.evaluate(() => crossOriginIsolated)), 'without COOP/COEP the page is not isolated');
  await noiso.click('#load');
  await noiso.waitForSelector('body[data-loaded="1"]', { timeout: 120_000 });
  const g1 = await noiso.evaluate(async (c) => {
    const m = window.seamDemo.model;
    return [m.info.threads, (await m.generate(c.ids, { greedy: true, maxTokens: c.greedy.length })).ids.join(',')];
  }, cases[1]);
  check(g1[0] === 1 && g1[1] === cases[1].greedy.join(','), `fallback: ${g1[0]} thread, greedy identical`);
  const rx1 = await noiso.evaluate(async () => {
    const m = await window.seamDemo.seam.load('/models/gpt2-tiny-q8/', {});
    const r = [m.info.threads, m.info.relaxedSimd, m._M._sw_rx_selftest()];
    m.close();
    return r;
  });
  check(rx1[0] === 1 && rx1[1] === rx.active && (rx1[1] ? rx1[2] === 0 : rx1[2] === -1),
    `one-thread build: relaxed-SIMD q8 tiles ${rx1[1] ? 'run' : 'do not run'}, self-test ${rx1[2]}`);
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ': ' + consoleErrors.slice(0, 3).join(' | ') : ''}`);
} catch (e) {
  check(false, `browser test threw: ${e.stack || e}`);
} finally {
  clearTimeout(deadline);
  if (ctx) await ctx.close().catch(() => {});
  server.proc.removeAllListeners('exit');
  server.proc.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(path.join(webDir, 'models'), { recursive: true, force: true });
}
console.log(`wasm browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
