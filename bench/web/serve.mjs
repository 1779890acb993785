// A static server for the browser bench (node, no dependencies), until `seam serve --web`
// exists: 127.0.0.1 only, every response cross-origin isolated (COOP same-origin + COEP
// require-corp, so SharedArrayBuffer and both engines' pthread builds work), the .wasm MIME
// type for streaming compilation, GET and HEAD, no caching.
//
//   node bench/web/serve.mjs [--port 0] /PREFIX/=DIR ...     prints `port N` once listening
//
// Each mapping serves DIR's files under /PREFIX/ (the longest matching prefix wins); a path
// that climbs out of its DIR is refused. Also importable: `start(mounts, port)`.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};

function resolve(mounts, urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath.split('?')[0].split('#')[0]); } catch { return null; }
  const m = mounts.filter(([prefix]) => p.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
  if (!m) return null;
  const root = path.resolve(m[1]);
  const full = path.resolve(root, p.slice(m[0].length));
  return full === root || full.startsWith(root + path.sep) ? full : null;
}

export function start(mounts, port = 0) {
  const srv = http.createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
    const full = resolve(mounts, req.url);
    let st = null;
    try { st = full && fs.statSync(full); } catch { st = null; }
    if (!st || !st.isFile()) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found\n'); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(full)] || 'application/octet-stream', 'Content-Length': st.size });
    if (req.method === 'HEAD') { res.end(); return; }
    fs.createReadStream(full).pipe(res);
  });
  return new Promise((ok, fail) => {
    srv.on('error', fail);
    srv.listen(port, '127.0.0.1', () => ok(srv));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let port = 0;
  const mounts = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else {
      const eq = args[i].indexOf('=');
      if (eq < 1 || !args[i].startsWith('/')) { console.error(`serve.mjs: bad mapping ${args[i]} (want /PREFIX/=DIR)`); process.exit(2); }
      mounts.push([args[i].slice(0, eq), args[i].slice(eq + 1)]);
    }
  }
  const srv = await start(mounts, port);
  console.log(`port ${srv.address().port}`);
}
