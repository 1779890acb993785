#!/usr/bin/env bash
# Shard downloads: the server builds and serves shards with Range/ETag; the edge resumes a
# download killed half-way, detects a flipped byte (in its cache and from the server), and
# refuses a shard of the wrong range.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=; EPID=; FPID=
cleanup() { for p in $SPID $EPID $FPID; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
start_server() {
  : > "$T/url"
  "$S" serve -m "$F/gpt2-wide-f16" --port 0 --exit-after 300 --quiet --cache-dir "$T/scache" "$@" > "$T/url" 2> "$T/server.log" &
  SPID=$!
  for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
  URL=$(head -1 "$T/url"); [ -n "$URL" ] || { cat "$T/server.log"; exit 1; }
}
metric() { curl -s "$URL/metrics" | awk -v k="$1" 'index($0, k) == 1 { print $2 }'; }
start_server
FP=$(curl -s "$URL/v1/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["fingerprint"])')
want=$("$S" generate -m "$F/gpt2-wide-f16" --ids 5,6,7 -n 8 --greedy --print-ids)
edge() { timeout 120 "$S" edge -s "$URL" --split 1 --mode tail --ids 5,6,7 -n 8 --greedy --print-ids -t 1 --cache-dir "$T/ecache" "$@"; }

# --- the HTTP side: manifest, Range, ETag, 304, 416, HEAD, errors
Q="layers=1:2&head=1"
curl -sf "$URL/v1/models/gpt2-wide-f16/shards?$Q" > "$T/manifest.json"
size=$(python3 -c 'import json,sys; print([f["size"] for f in json.load(open(sys.argv[1]))["files"] if f["name"]=="model.safetensors"][0])' "$T/manifest.json")
sha=$(python3 -c 'import json,sys; print([f["sha256"] for f in json.load(open(sys.argv[1]))["files"] if f["name"]=="model.safetensors"][0])' "$T/manifest.json")
FILE="$URL/v1/models/gpt2-wide-f16/shards/model.safetensors?$Q"
curl -s -D "$T/h" -o "$T/whole" "$FILE"
grep -qi "^etag: \"$sha\"" "$T/h" && grep -qi "^accept-ranges: bytes" "$T/h"
[ "$(sha256sum < "$T/whole" | cut -d' ' -f1)" = "$sha" ] || { echo "served file does not match its manifest"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$sha\"" "$FILE")" = 304 ]
[ "$(curl -s -o "$T/r" -w '%{http_code}' -H 'Range: bytes=100-199' "$FILE")" = 206 ]
[ "$(stat -c %s "$T/r")" = 100 ] && cmp -s "$T/r" <(tail -c +101 "$T/whole" | head -c 100)
curl -s -D "$T/h" -o /dev/null -H 'Range: bytes=-10' "$FILE"; grep -qi "^content-range: bytes $((size-10))-$((size-1))/$size" "$T/h"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Range: bytes=$size-" "$FILE")" = 416 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$FILE")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/gpt2-wide-f16/shards/nope.bin?$Q")" = 404 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/gpt2-wide-f16/shards/..%2Fconfig.json?$Q")" = 404 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/gpt2-wide-f16/shards?layers=1:3")" = 400 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/gpt2-wide-f16/shards?layers=1:1&embed=1")" = 400 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/gpt2-wide-f16/shards")" = 400 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/models/other/shards?$Q")" = 404 ]
echo "http: manifest, Range, ETag/304, 416, HEAD, 404/400 ok"

# --- a download killed half-way resumes where it stopped
part="$T/ecache/$FP/L1-2-head/model.safetensors.part"
# (run directly, not under timeout: the kill must hit the edge itself)
"$S" edge -s "$URL" --split 1 --mode tail --ids 5,6,7 -n 8 --greedy --print-ids -t 1 --cache-dir "$T/ecache" \
  --limit-rate 400000 > /dev/null 2>&1 &
EPID=$!
for _ in $(seq 300); do
  [ -f "$part" ] && [ "$(stat -c %s "$part")" -gt 1000000 ] && break; sleep 0.05
done
kill -9 "$EPID"; wait "$EPID" 2>/dev/null || true; EPID=
have=$(stat -c %s "$part")
[ "$have" -gt 0 ] && [ "$have" -lt "$size" ] || { echo "part has $have of $size bytes: not half-way"; exit 1; }
[ ! -e "$T/ecache/$FP/L1-2-head/manifest.json" ] || { echo "manifest written before the download finished"; exit 1; }
before=$(metric 'seam_http_response_bytes_total')
got=$(edge 2> "$T/edge.log")
[ "$got" = "$want" ] || { echo "resumed run differs: $got vs $want"; exit 1; }
grep -q "resuming model.safetensors at byte" "$T/edge.log" || { cat "$T/edge.log"; exit 1; }
[ "$(metric 'seam_http_requests_total{route="/v1/models/{id}/shards/{file}",status="206"}')" -ge 3 ] # 2 by curl above
after=$(metric 'seam_http_response_bytes_total')
[ $((after - before)) -lt "$size" ] || { echo "resume re-sent the whole file ($((after - before)) bytes)"; exit 1; }
echo "resume: killed at $have of $size bytes, finished with $((after - before)) more bytes"

# --- a cached run downloads nothing; a flipped byte in the cache is detected and repaired
files() { metric 'seam_http_requests_total{route="/v1/models/{id}/shards/{file}",status="200"}'; }
before=$(files)
[ "$(edge 2>/dev/null)" = "$want" ]
[ "$(files)" = "$before" ] || { echo "cached shard downloaded again"; exit 1; }
cached="$T/ecache/$FP/L1-2-head/model.safetensors"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$cached"
got=$(edge 2> "$T/edge.log")
[ "$got" = "$want" ] && grep -q "fails its sha256 check: downloading it again" "$T/edge.log" || { cat "$T/edge.log"; exit 1; }

# --- a flipped byte on the server's side is caught by the edge's checksum
rm -rf "$T/ecache"
served="$T/scache/$FP/L1-2-head/model.safetensors"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[12345]^=0x80; open(p,"wb").write(b)' "$served"
if out=$(edge 2>&1); then echo "corrupt download accepted"; exit 1; fi
case "$out" in *"sha256 checksum mismatch for shard file model.safetensors"*) ;; *) echo "unexpected: $out"; exit 1;; esac
[ ! -e "$part" ] && [ ! -e "$cached" ] || { echo "corrupt download kept"; exit 1; }
echo "checksums: cache damage repaired, corrupt download refused"

# --- a server that offers the wrong range is refused
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=
cat > "$T/fake.py" <<PY
import http.server, json, signal, sys
signal.alarm(60)  # stops by itself whatever happens to the test
fp = "$FP"
man = open("$T/manifest.json").read().replace('"layer_begin": 1', '"layer_begin": 0')
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/v1/models":
            body = json.dumps({"data": [{"id": "gpt2-wide-f16", "fingerprint": fp, "n_layer": 2, "n_embd": 512,
                               "vocab_size": 1024, "n_positions": 128, "max_context": 128}]})
        elif self.path.startswith("/v1/models/gpt2-wide-f16/shards?"):
            body = man
        else:
            self.send_response(404); self.end_headers(); return
        b = body.encode(); self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("http://127.0.0.1:%d" % s.server_port, flush=True)
s.serve_forever()
PY
python3 "$T/fake.py" > "$T/url" 2>/dev/null & FPID=$!
for _ in $(seq 100); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url")
if out=$(edge 2>&1); then echo "wrong-range shard accepted"; exit 1; fi
case "$out" in *"another model or range"*) ;; *) echo "unexpected: $out"; exit 1;; esac
kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null || true; FPID=
echo ok
