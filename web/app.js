// The demo page: load a model folder with a progress bar (or open a split session with the
// server: only this side's shard is downloaded), stream a generation, show speed and how
// many bytes came over the network. ?model=URL&threads=N, or ?run=split&split=K&mode=tail|head
// &activation=f32&server=URL, preset the form; window.seamDemo exposes the loaded model (or
// split session) and the module for tests.
import * as seam from './seam.mjs';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { model: null, loading: false, generating: false };
state.seam = seam;
window.seamDemo = state;

function mb(n) { return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`; }

function setError(e) {
  $('error').textContent = e ? String(e.message || e) : '';
  if (e) console.error(e);
}

// Threads only where the page is cross-origin isolated (SharedArrayBuffer).
const maxThreads = seam.threadsAvailable() ? Math.min(8, seam.hardwareThreads()) : 1;
for (let n = 1; n <= Math.max(maxThreads, 1); n *= 2) $('threads').add(new Option(String(n), String(n)));
if (maxThreads > 1 && maxThreads & (maxThreads - 1)) $('threads').add(new Option(String(maxThreads), String(maxThreads)));
$('threads').value = params.get('threads') || String(Math.min(maxThreads, 4) >= 2 ? 2 : 1);
if (!$('threads').value) $('threads').value = '1';
$('threadNote').textContent = seam.threadsAvailable() ? ', threads' : '; one thread: this page is not cross-origin isolated';
if (params.get('model')) $('modelUrl').value = params.get('model');
for (const k of ['run', 'split', 'mode', 'activation']) if (params.get(k)) $(k).value = params.get(k);
if (params.get('server')) $('serverUrl').value = params.get('server');
function showRun() {
  $('localRow').hidden = $('run').value !== 'local';
  $('splitRow').hidden = $('run').value !== 'split';
}
$('run').addEventListener('change', showRun);
showRun();

function progress(p) {
  $('progress').max = p.total || 1;
  $('progress').value = p.loaded;
  $('progressText').textContent =
    `${p.fromCache ? 'Reading from the cache' : 'Downloading'} ${p.file}: ${mb(p.loaded)} of ${mb(p.total)}`;
}

// A split session: only the shard for this side's layers comes down.
async function connect() {
  const server = $('serverUrl').value.trim() || location.origin;
  return seam.connect(new URL(server, location.href).href, {
    split: Number($('split').value), mode: $('mode').value, activation: $('activation').value,
    threads: Number($('threads').value), onProgress: progress,
  });
}

async function load() {
  if (state.loading || state.generating) return;
  state.loading = true;
  setError(null);
  $('load').disabled = true;
  $('generate').disabled = true;
  if (state.model) { await state.model.close(); state.model = null; }
  document.body.dataset.loaded = '';
  $('netStats').textContent = '';
  const t0 = performance.now();
  try {
    const split = $('run').value === 'split';
    const model = split ? await connect()
      : await seam.load(new URL($('modelUrl').value, location.href).href, { threads: Number($('threads').value), onProgress: progress });
    state.model = model;
    const i = model.info;
    $('progress').value = $('progress').max;
    $('progressText').textContent =
      `Loaded in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${mb(i.bytesFromNetwork)} downloaded` +
      (i.bytesFromNetwork === 0 ? ' (everything came from the cache)' : '');
    const layers = split ? (i.mode === 'tail' ? `layers ${i.split}-${i.nLayer} + head here, 0-${i.split} on the server`
      : `embeddings + layers 0-${i.split} here, ${i.split}-${i.nLayer} + head on the server`) : `${i.nLayer} layers`;
    $('modelInfo').textContent =
      `${layers}, ${i.nEmbd} channels, ${i.nHead} heads, vocabulary ${i.vocabSize}, context ${i.nCtx}, ` +
      `${i.weightQuant && i.weightQuant !== 'none' ? i.weightQuant : i.weightDtype} weights ${mb(i.weightBytes)}, ` +
      `${i.threads} thread${i.threads > 1 ? 's' : ''}`;
    // Split: this side's shard against the whole model's weights on the server.
    $('bytes').textContent = split ? `${mb(i.bytesFromNetwork)} / ${mb(i.fullModelBytes)}`
      : `${mb(i.bytesFromNetwork)} / ${mb(i.weightBytes)}`;
    $('generate').disabled = false;
    document.body.dataset.loaded = '1';
  } catch (e) {
    setError(e);
    $('progressText').textContent = 'Load failed.';
  } finally {
    state.loading = false;
    $('load').disabled = false;
  }
}

async function generate() {
  if (!state.model || state.generating) return;
  state.generating = true;
  setError(null);
  $('generate').disabled = true;
  document.body.dataset.done = '';
  const out = $('output');
  out.textContent = '';
  const p = document.createElement('span');
  p.className = 'prompt';
  p.textContent = $('prompt').value;
  out.append(p);
  const gen = document.createElement('span');
  out.append(gen);
  let n = 0;
  try {
    const seed = $('seed').value === '' ? undefined : Number($('seed').value);
    const r = await state.model.generate($('prompt').value, {
      maxTokens: Number($('maxTokens').value),
      temperature: Number($('temperature').value),
      topK: Number($('topK').value),
      topP: Number($('topP').value),
      greedy: $('greedy').checked,
      seed,
      onToken(t) {
        gen.textContent += t.text;
        $('count').textContent = String(++n);
      },
    });
    gen.textContent = r.text;
    $('prefill').textContent = `${r.prefillTokensPerSecond.toFixed(0)} tok/s`;
    $('decode').textContent = `${r.tokensPerSecond.toFixed(1)} tok/s`;
    $('count').textContent = `${r.ids.length} (+${r.promptTokens} prompt)`;
    $('ids').textContent = `ids: ${r.ids.join(',')}`;
    $('ids').dataset.ids = r.ids.join(',');
    const st = state.model.stats;
    if (st) {
      $('netStats').textContent = `split: ${st.roundTrips} round trips, ${mb(st.bytesSent)} sent, ` +
        `${mb(st.bytesReceived)} received, ${(st.seconds * 1000).toFixed(0)} ms in requests ` +
        `(${(st.serverSeconds * 1000).toFixed(0)} ms computing on the server)`;
    }
    document.body.dataset.done = '1';
  } catch (e) {
    setError(e);
  } finally {
    state.generating = false;
    $('generate').disabled = false;
  }
}

$('load').addEventListener('click', load);
$('generate').addEventListener('click', generate);
$('greedy').addEventListener('change', () => { $('temperature').disabled = $('greedy').checked; });
if (params.get('autoload')) load();
