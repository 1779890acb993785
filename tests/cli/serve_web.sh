#!/usr/bin/env bash
# seam serve --web DIR: static files with the right Content-Type and the COOP/COEP/CORP
# headers (the page must be cross-origin isolated), "/" is index.html, HEAD works, anything
# that would leave DIR (.., encoded .., absolute, symlinks out) or is not a regular file is
# refused, only GET/HEAD are taken, API routes keep priority and keep their API key while
# the page needs none.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
W=$T/web
mkdir -p "$W/sub" "$W/emptydir" "$T/outside"
echo '<!doctype html><title>seam</title>' > "$W/index.html"
echo 'export const x = 1;' > "$W/seam.mjs"
echo 'var a;' > "$W/seam.js"
printf '\0asm\1\0\0\0' > "$W/seam.wasm"
echo '{}' > "$W/config.json"
echo 'body{}' > "$W/app.css"
printf '\x89PNG\r\n' > "$W/shot.png"
echo 'export declare const version: string;' > "$W/seam.d.ts"
echo 'TOPSECRET-CONTENT' > "$T/outside/secret.txt"
echo 'HIDDEN-CONTENT' > "$W/.env"
echo '<p>sub</p>' > "$W/sub/index.html"
ln -s "$T/outside/secret.txt" "$W/escape.txt"
ln -s "$T/outside" "$W/outdir"
ln -s seam.mjs "$W/alias.mjs"
mkfifo "$W/pipe.js"
"$S" serve --help | grep -q -- '--web DIR'
"$S" serve -m "$F/gpt2-tiny" --port 0 --web "$T/nope" --quiet --cache-dir "$T/c" > /dev/null 2> "$T/err" && exit 1
grep -q 'nope' "$T/err"
"$S" serve -m "$F/gpt2-tiny" --port 0 --exit-after 120 --quiet --cache-dir "$T/scache" --api-key k3y --web "$W" \
  > "$T/url" 2> "$T/server.log" &
SPID=$!
for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url"); [ -n "$URL" ] || { cat "$T/server.log"; exit 1; }

timeout 60 python3 - "$URL" <<'PY'
import http.client, socket, sys, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
def req(method, path, headers=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    c.putrequest(method, path, skip_accept_encoding=True)  # the path is sent exactly as written
    for k, v in (headers or {}).items(): c.putheader(k, v)
    c.endheaders()
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
checked = 0
def ok(): global checked; checked += 1
ISO = {"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp",
       "cross-origin-resource-policy": "same-origin"}
def isolated(h):
    for k, v in ISO.items(): assert h.get(k) == v, (k, h)

types = {"/": "text/html; charset=utf-8", "/index.html": "text/html; charset=utf-8",
         "/seam.mjs": "text/javascript; charset=utf-8", "/seam.js": "text/javascript; charset=utf-8",
         "/seam.wasm": "application/wasm", "/config.json": "application/json", "/app.css": "text/css; charset=utf-8",
         "/shot.png": "image/png", "/seam.d.ts": "application/typescript; charset=utf-8",
         "/sub/": "text/html; charset=utf-8", "/alias.mjs": "text/javascript; charset=utf-8"}
for p, t in types.items():
    st, h, body = req("GET", p)
    assert st == 200 and h["content-type"] == t, (p, st, h)
    isolated(h); assert h.get("x-content-type-options") == "nosniff"; ok()
st, h, body = req("GET", "/")
assert body.startswith(b"<!doctype html>"), body; ok()
st, h, body = req("GET", "/seam.wasm")
assert body == b"\0asm\1\0\0\0" and h["content-length"] == "8"; ok()

# HEAD: the headers of GET, no body
st, h, body = req("HEAD", "/seam.mjs")
assert st == 200 and body == b"" and h["content-length"] == str(len("export const x = 1;\n")), (st, h); isolated(h); ok()

# refused: traversal (plain, encoded, double-encoded), absolute, dot files, symlinks out,
# non-regular files, missing files
for p in ["/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/%2E%2E%2Foutside%2Fsecret.txt", "/sub/../../x",
          "/..%2f..%2fetc%2fpasswd", "/%252e%252e/outside/secret.txt", "//etc/passwd", "/.env", "/sub/./index.html",
          "/nope.html", "/sub/nope/", "/emptydir/", "/index.html%00.png", "/a\\..\\b"]:
    st, h, body = req("GET", p)
    assert st in (403, 404) and b"TOPSECRET" not in body and b"HIDDEN-CONTENT" not in body, (p, st, body); isolated(h); ok()
for p in ["/escape.txt", "/outdir/secret.txt", "/pipe.js"]:
    st, h, body = req("GET", p)
    assert st == 403 and b"TOPSECRET" not in body, (p, st, body); ok()
st, h, body = req("GET", "/sub")
assert st == 301 and h["location"] == "/sub/", (st, h); ok()
st, h, body = req("GET", "/emptydir/")
assert st in (403, 404); ok()

# only GET and HEAD
for m in ["POST", "PUT", "DELETE"]:
    st, h, body = req(m, "/index.html")
    assert st == 405 and "GET" in h.get("allow", ""), (m, st, h); ok()

# API routes first, and still behind the key; the page needs none
st, h, body = req("GET", "/v1/models")
assert st == 401; isolated(h); ok()
st, h, body = req("GET", "/v1/models", {"Authorization": "Bearer k3y"})
assert st == 200 and b"weight_bytes" in body; isolated(h); ok()
st, h, body = req("GET", "/healthz", {"Authorization": "Bearer k3y"})
assert st == 200 and b"ok" in body; ok()
st, h, body = req("GET", "/v1/index.html", {"Authorization": "Bearer k3y"})
assert st == 404 and b"not_found" in body; ok()
st, h, body = req("GET", "/v1/models/gpt2-tiny/shards?layers=3:4&head=1", {"Authorization": "Bearer k3y"})
assert st == 200; isolated(h); ok()
st, h, body = req("GET", "/metrics", {"Authorization": "Bearer k3y"})
assert b'route="static",status="200"' in body, body[:2000]; ok()
print(f"serve --web: {checked} checks passed")
PY
