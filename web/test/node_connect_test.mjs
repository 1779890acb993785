// seam.connect() under node against `seam serve -m gpt2-tiny` on 127.0.0.1: split sessions
// in tail and head mode at two split points give the reference greedy ids, stats count one
// round trip per token, f16 activations complete, close() deletes the session (a step after
// it is refused by the server), and a split point past the model is refused.
//
// usage: node web/test/node_connect_test.mjs WEB_DIR FIXTURES   (env SEAM_BIN: the seam binary)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [webDir, fixtures] = process.argv.slice(2);
const seam = await import(pathToFileURL(path.resolve(webDir, 'seam.mjs')).href);
let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.log(`  FAIL ${what}`); }
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
  return cases;
}

const cases = referenceCases(path.join(fixtures, 'gpt2-tiny-ref', 'reference.safetensors'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-connect-'));
const proc = spawn(process.env.SEAM_BIN || 'build/seam', ['serve', '-m', path.join(fixtures, 'gpt2-tiny'), '--port', '0',
  '--quiet', '--cache-dir', path.join(tmp, 'c'), '--exit-after', '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  proc.on('error', reject);
  proc.stdout.setEncoding('utf8');
  proc.stdout.once('data', (line) => resolve(line.trim()));
});
try {
  for (const [mode, split] of [['tail', 1], ['tail', 3], ['head', 1], ['head', 3]]) {
    const s = await seam.connect(base, { split, mode, threads: 1 });
    for (const [i, c] of cases.slice(0, 2).entries()) {
      const r = await s.generate(c.ids, { greedy: true, maxTokens: c.greedy.length });
      check(r.ids.join(',') === c.greedy.join(','), `${mode} k=${split} case ${i}: greedy identical`);
    }
    const want = cases[0].greedy.length + cases[1].greedy.length;
    check(s.stats.roundTrips === want, `${mode} k=${split}: ${s.stats.roundTrips} round trips, ${want} tokens`);
    check(s.info.kind === 'split' && s.info.mode === mode && s.info.split === split, `${mode} k=${split}: info`);
    const id = s.info.sessionId;
    await s.close();
    const after = await fetch(`${base}/v1/sessions/${id}`);
    check(after.status === 404 || after.status === 410, `${mode} k=${split}: close() deleted the session (${after.status})`);
  }
  const h = await seam.connect(base, { split: 2, mode: 'head', activation: 'f16' });
  const r = await h.generate(cases[0].ids, { greedy: true, maxTokens: 4 });
  check(r.ids.length === 4 && h.stats.bytesSent > 0, `f16 head session: ${r.ids.length} tokens`);
  await h.close();
  let refused = '';
  try { await seam.connect(base, { split: 9, mode: 'tail' }); } catch (e) { refused = e.message; }
  check(/split must be an integer/.test(refused), `split 9 of 4 layers refused (${refused})`);
} catch (e) {
  check(false, `threw: ${e.stack || e}`);
} finally {
  proc.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`wasm node connect: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
