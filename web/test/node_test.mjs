// The WebAssembly module under node against the golden fixtures, as the native tests check
// them: gpt2-tiny and gpt2-wide-f16 last-position logits within 1e-4 relative L2, greedy
// continuations identical, and the 400 tokenizer golden lines identical (ids and decoded
// text), and the minibert-st sentence embeddings within 1e-4. Both builds run: one thread,
// and the pthreads build with 2 threads.
//
// usage: node web/test/node_test.mjs WEB_DIR FIXTURES      (exit 0: every check passed)
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [webDir, fixtures] = process.argv.slice(2);
if (!webDir || !fixtures) {
  console.error('usage: node_test.mjs WEB_DIR FIXTURES');
  process.exit(2);
}
const seam = await import(pathToFileURL(path.resolve(webDir, 'seam.mjs')).href);

let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.log(`  FAIL ${what}`); }
}

// A reference.safetensors as {name: typed array}, read with the stdlib only.
function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, e] = t.data_offsets;
    const bytes = buf.subarray(8 + n + b, 8 + n + e);
    const copy = new Uint8Array(bytes).buffer;
    out[name] = { dtype: t.dtype, shape: t.shape, data: t.dtype === 'I32' ? new Int32Array(copy) : new Float32Array(copy) };
  }
  return out;
}

function relL2(a, ref) {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) { const d = a[i] - ref[i]; num += d * d; den += ref[i] * ref[i]; }
  return Math.sqrt(num / (den || 1));
}

async function checkModel(name, threads) {
  const model = await seam.load(path.join(fixtures, name), { threads });
  const ref = readSafetensors(path.join(fixtures, `${name}-ref`, 'reference.safetensors'));
  check(model.info.simd, `${name}: the SIMD128 build is loaded`);
  check(model.info.threads === threads, `${name}: ${model.info.threads} threads, asked for ${threads}`);
  let cases = 0;
  for (let i = 0; ref[`case${i}.input_ids`]; i++, cases++) {
    const ids = Array.from(ref[`case${i}.input_ids`].data);
    const greedy = Array.from(ref[`case${i}.greedy`].data);
    const lref = ref[`case${i}.logits`];
    const V = lref.shape[1];
    const last = lref.data.subarray((lref.shape[0] - 1) * V);
    const e = relL2(model.logits(ids), last);
    check(e <= 1e-4, `${name} t${threads} case ${i}: logits rel L2 ${e.toExponential(3)}`);
    const streamed = [];
    const out = await model.generate(ids, { maxTokens: greedy.length, temperature: 0, onToken: (t) => streamed.push(t.id) });
    const same = out.ids.length === greedy.length && out.ids.every((v, k) => v === greedy[k]);
    check(same, `${name} t${threads} case ${i}: greedy ${out.ids} != ${greedy}`);
    check(streamed.join() === out.ids.join(), `${name} t${threads} case ${i}: onToken saw every token`);
  }
  check(cases > 0, `${name}: no reference cases`);
  model.close();
  return cases;
}

async function checkTokenizer() {
  const model = await seam.load(path.join(fixtures, 'gpt2-tiny'), { threads: 1 });
  const lines = fs.readFileSync(path.join(fixtures, 'tokenizer-golden', 'gpt2-shared.jsonl'), 'utf8').split('\n').filter(Boolean);
  let bad = 0;
  for (const [k, line] of lines.entries()) {
    const g = JSON.parse(line);
    const ids = model.tokenize(g.text);
    const ok = ids.length === g.ids.length && ids.every((v, j) => v === g.ids[j]);
    const dec = model.detokenize(g.ids);
    if (!ok || dec !== g.decoded) {
      if (bad++ < 3) console.log(`  golden line ${k + 1}: ${JSON.stringify(g.text)} -> ${ids} (want ${g.ids}); decoded ${JSON.stringify(dec)}`);
    }
  }
  check(bad === 0 && lines.length === 400, `tokenizer golden: ${bad} of ${lines.length} lines differ`);
  // Text in, text out, and a sampled run is reproducible for a seed.
  const a = await model.generate('Once upon a time', { maxTokens: 12, seed: 7, temperature: 1.2, topK: 50, topP: 0.9 });
  const b = await model.generate('Once upon a time', { maxTokens: 12, seed: 7, temperature: 1.2, topK: 50, topP: 0.9 });
  check(a.ids.join() === b.ids.join() && a.text === b.text, 'same seed, same tokens');
  check(a.text === model.detokenize(a.ids), 'streamed text equals detokenized ids');
  let threw = false;
  try { await model.generate([1, 2, 3, 60000], { maxTokens: 2 }); } catch (e) { threw = /vocabulary/.test(e.message); }
  check(threw, 'an id outside the vocabulary is an error');
  model.close();
  return lines.length;
}

async function checkEncoder(threads) {
  const dir = path.join(fixtures, 'minibert-st');
  const model = await seam.load(dir, { threads });
  const ref = readSafetensors(path.join(dir, 'reference.safetensors'));
  const hdr = fs.readFileSync(path.join(dir, 'reference.safetensors'));
  const meta = JSON.parse(hdr.subarray(8, 8 + Number(hdr.readBigUInt64LE(0))).toString('utf8')).__metadata__;
  const sentences = JSON.parse(meta.sentences);
  check(model.info.kind === 'encoder' && model.info.threads === threads, `minibert-st t${threads}: an encoder on ${model.info.threads} threads`);
  const emb = model.embed(sentences);
  const want = ref['sentence_embedding'];
  const C = want.shape[1];
  let worst = 0;
  for (let i = 0; i < sentences.length; i++) worst = Math.max(worst, relL2(emb[i], want.data.subarray(i * C, (i + 1) * C)));
  check(emb.length === sentences.length && worst <= 1e-4, `minibert-st t${threads}: embeddings rel L2 ${worst.toExponential(3)}`);
  const ids = ref['input_ids'], T = ids.shape[1];
  const mask = ref['attention_mask'].data;
  const first = Array.from(ids.data.subarray(0, T)).filter((_, j) => mask[j]);
  check(model.tokenize(sentences[0]).join() === first.join(), `minibert-st: tokenize(${JSON.stringify(sentences[0])}) = ${first}`);
  model.close();
}

const n = await checkModel('gpt2-tiny', 1);
await checkEncoder(1);
if (seam.threadsAvailable()) await checkEncoder(2);
await checkModel('gpt2-wide-f16', 1);
if (seam.threadsAvailable()) {
  await checkModel('gpt2-tiny', 2);
  await checkModel('gpt2-wide-f16', 2);
} else {
  check(false, 'node should offer threads (SharedArrayBuffer)');
}
await checkTokenizer();
let loadErr = '';
try { await seam.load(path.join(fixtures, 'no-such-model')); } catch (e) { loadErr = e.message; }
check(/does not exist/.test(loadErr), `a missing folder is a clear error (${loadErr})`);
console.log(`wasm node: gpt2-tiny ${n} reference cases; ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
