#!/usr/bin/env bash
# seam serve's HTTP API: every malformed request gets the right 4xx with a JSON error, the
# API key guards every route, caps answer 413/503, idle sessions expire (410), metrics count.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
"$S" serve -m "$F/gpt2-tiny" --port 0 --exit-after 120 --quiet --cache-dir "$T/scache" --api-key s3cret \
  --max-sessions 3 --session-ttl 2 --max-body 100000 --max-context 64 > "$T/url" 2> "$T/server.log" &
SPID=$!
for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url"); [ -n "$URL" ] || { cat "$T/server.log"; exit 1; }

timeout 60 python3 - "$URL" <<'PY'
import http.client, json, socket, sys, time, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
KEY = {"Authorization": "Bearer s3cret"}
def req(method, path, body=None, headers=None, key=True):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    h = dict(KEY) if key else {}
    h.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode(); h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
def expect(status, code, method, path, body=None, headers=None, key=True):
    st, h, data = req(method, path, body, headers, key)
    assert st == status, (method, path, st, data[:300])
    if code:
        e = json.loads(data)["error"]
        assert e["code"] == code and e["status"] == status and e["message"], (path, e)
    return h, data
checked = 0
def ok(): global checked; checked += 1

# the key guards every route, health and metrics included
for m, p in [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/v1/models"), ("POST", "/v1/sessions"),
             ("GET", "/v1/models/gpt2-tiny/shards?layers=3:4&head=1"), ("DELETE", "/v1/sessions/" + "a" * 32)]:
    h, _ = expect(401, "unauthorized", m, p, key=False); assert h.get("www-authenticate") == "Bearer"; ok()
    expect(401, "unauthorized", m, p, key=False, headers={"Authorization": "Bearer s3cre"}); ok()
    expect(401, "unauthorized", m, p, key=False, headers={"Authorization": "Basic s3cret"}); ok()
expect(200, None, "GET", "/healthz"); ok()

# routing
expect(404, "not_found", "GET", "/v2/whatever"); ok()
expect(405, "method_not_allowed", "PUT", "/v1/sessions"); ok()
expect(405, "method_not_allowed", "POST", "/v1/models"); ok()
expect(404, "model_not_found", "GET", "/v1/models/nope"); ok()

# session creation: bad JSON, wrong types and values, unknown fields
S = "/v1/sessions"
expect(400, "bad_json", "POST", S, b"{\"split\": 2,", {"Content-Type": "application/json"}); ok()
expect(400, "bad_json", "POST", S, b"\xff\xfe", {"Content-Type": "application/json"}); ok()
expect(400, "bad_json", "POST", S, b"", {"Content-Type": "application/json"}); ok()
expect(400, "bad_json", "POST", S, [1, 2]); ok()
expect(400, "invalid_split", "POST", S, {"split": 5, "mode": "tail"}); ok()
expect(400, "invalid_split", "POST", S, {"split": "2", "mode": "tail"}); ok()
expect(400, "invalid_split", "POST", S, {"split": -1, "mode": "tail"}); ok()
expect(400, "invalid_mode", "POST", S, {"split": 2, "mode": "middle"}); ok()
expect(400, "invalid_activation", "POST", S, {"split": 2, "mode": "tail", "activation": "q4"}); ok()
expect(400, "context_too_large", "POST", S, {"split": 2, "mode": "tail", "max_context": 65}); ok()
expect(400, "invalid_max_context", "POST", S, {"split": 2, "mode": "tail", "max_context": 0}); ok()
expect(400, "unknown_field", "POST", S, {"split": 2, "mode": "tail", "bogus": 1}); ok()
expect(400, "invalid_top_p", "POST", S, {"split": 2, "mode": "head", "top_p": 0}); ok()
expect(404, "model_not_found", "POST", S, {"model": "gpt3", "split": 2, "mode": "tail"}); ok()

# body caps: a declared Content-Length over --max-body is refused before it is read
c = socket.create_connection((url.hostname, url.port), timeout=10)
c.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Type: application/json\r\n"
          b"Content-Length: 99999999999\r\n\r\n{")
resp = c.recv(4096).decode("latin1"); c.close()
assert resp.startswith("HTTP/1.1 413") and "body_too_large" in resp, resp; ok()
expect(413, "body_too_large", "POST", S, b"[" + b" " * 100001 + b"]", {"Content-Type": "application/json"}); ok()
# ... and a chunked body (no Content-Length) is cut off at the cap too
c = socket.create_connection((url.hostname, url.port), timeout=10)
chunk = b"x" * 60000
c.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nTransfer-Encoding: chunked\r\n\r\n" +
          (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 2 + b"0\r\n\r\n")
resp = c.recv(4096).decode("latin1"); c.close()
assert resp.startswith("HTTP/1.1 413"), resp[:200]; ok()

# a tail session and a head session at the same split
_, d = expect(201, None, "POST", S, {"model": "gpt2-tiny", "split": 2, "mode": "tail", "max_context": 16})
tail = json.loads(d); assert tail["server_layers"] == [0, 2] and len(tail["id"]) == 32
# the session caches only its own layers: 2 layers x (K, V) x 16 positions x 64 x 4 bytes
assert tail["kv_cache_bytes"] == 2 * 2 * 16 * 64 * 4, tail
_, d = expect(201, None, "POST", S, {"split": 2, "mode": "head", "max_context": 16, "temperature": 0})
head = json.loads(d); assert head["server_layers"] == [2, 4] and head["kv_cache_bytes"] == 2 * 2 * 16 * 64 * 4; ok()
TS, HS = S + "/" + tail["id"] + "/step", S + "/" + head["id"] + "/step"
st, h, msg = req("POST", TS, {"ids": [464, 2068, 7586], "pos": 0})
assert st == 200 and h["content-type"] == "application/vnd.seam.hidden" and msg[:4] == b"SMHS" and len(msg) == 64 + 3 * 256 + 4
WIRE = {"Content-Type": "application/vnd.seam.hidden"}
# tail steps: wrong content, ids, positions
expect(415, "unsupported_media_type", "POST", TS, msg, WIRE); ok()
expect(400, "bad_json", "POST", TS, b"ids=1,2", {"Content-Type": "application/json"}); ok()
expect(400, "invalid_ids", "POST", TS, {"ids": []}); ok()
expect(400, "invalid_ids", "POST", TS, {"ids": [1, 50257]}); ok()
expect(400, "invalid_ids", "POST", TS, {"ids": [1.5]}); ok()
expect(400, "invalid_pos", "POST", TS, {"ids": [1], "pos": -1}); ok()
expect(409, "position_ahead", "POST", TS, {"ids": [1], "pos": 4}); ok()
expect(400, "context_exceeded", "POST", TS, {"ids": [1] * 14, "pos": 3}); ok()
# head steps: the tail's message is valid for the head session; damaged copies are not
expect(415, "unsupported_media_type", "POST", HS, {"ids": [1]}); ok()
for cut in (0, 1, 10, 63, 64, 100, len(msg) - 4, len(msg) - 1):
    expect(400, "bad_hidden_state", "POST", HS, msg[:cut], WIRE); ok()
bad = bytearray(msg); bad[200] ^= 1
expect(400, "bad_hidden_state", "POST", HS, bytes(bad), WIRE); ok()
bad = bytearray(msg); bad[0:4] = b"XXXX"
expect(400, "bad_hidden_state", "POST", HS, bytes(bad), WIRE); ok()
expect(400, "bad_hidden_state", "POST", HS, msg + b"\0", WIRE); ok()
def reseal(b):
    import zlib
    b = bytearray(b); b[-4:] = (zlib.crc32(bytes(b[:-4])) & 0xffffffff).to_bytes(4, "little"); return bytes(b)
bad = bytearray(msg); bad[8] ^= 0xff
expect(422, "hidden_state_mismatch", "POST", HS, reseal(bad), WIRE); ok()            # other model
bad = bytearray(msg); bad[40] = 3
expect(422, "hidden_state_mismatch", "POST", HS, reseal(bad), WIRE); ok()            # other split point
bad = bytearray(msg); bad[44] = 1
expect(409, "position_ahead", "POST", HS, reseal(bad), WIRE); ok()                   # pos 1 > 0
bad = bytearray(msg); bad[4] = 9
expect(400, "bad_hidden_state", "POST", HS, reseal(bad), WIRE); ok()                 # version
st, h, d = req("POST", HS, msg, WIRE)
assert st == 200 and json.loads(d)["pos"] == 3 and "x-seam-server-ms" in h, d; ok()
# a resent step (answer lost) rewinds instead of failing
st, h, d2 = req("POST", HS, msg, WIRE); assert st == 200 and d2 == d; ok()
# unknown, malformed and deleted session ids
for sid in ("0" * 32, "xyz", "A" * 32, "../" + tail["id"], "0" * 33):
    st, _, _ = req("POST", S + "/" + urllib.parse.quote(sid, safe="") + "/step", {"ids": [1]})
    assert st == 404, (sid, st); ok()
_, d = expect(200, None, "GET", S + "/" + tail["id"]); assert json.loads(d)["pos"] == 3
expect(200, None, "DELETE", S + "/" + tail["id"]); ok()
expect(404, "session_not_found", "POST", TS, {"ids": [1]}); ok()
expect(404, "session_not_found", "DELETE", S + "/" + tail["id"]); ok()

# the session cap answers 503 with Retry-After
ids = [json.loads(expect(201, None, "POST", S, {"split": 1, "mode": "tail", "max_context": 8})[1])["id"] for _ in range(2)]
h, _ = expect(503, "too_many_sessions", "POST", S, {"split": 1, "mode": "tail"}); assert h["retry-after"] == "1"; ok()
for i in ids: expect(200, None, "DELETE", S + "/" + i)

# idle sessions expire after --session-ttl (2 s) and then answer 410
time.sleep(3.5)
expect(410, "session_expired", "POST", HS, msg, WIRE); ok()
m = req("GET", "/metrics")[2].decode()
def metric(name):
    for line in m.splitlines():
        if line.startswith(name + " "): return float(line.split()[1])
    raise AssertionError(name)
assert metric("seam_sessions_active") == 0 and metric("seam_sessions_expired_total") >= 1, m
assert metric("seam_sessions_created_total") == 4 and metric("seam_sessions_deleted_total") == 3
assert 'seam_http_requests_total{route="/v1/sessions/{id}/step",status="400"}' in m
assert 'seam_http_request_duration_seconds_bucket{route="/v1/sessions/{id}/step",le="+Inf"}' in m
assert metric("seam_http_request_bytes_total") > 0 and metric("seam_http_response_bytes_total") > 0
print("serve api: %d checks" % (checked + 1))
PY

# the edge sends the key (flag or SEAM_API_KEY) and reports a refusal in one line
want=$("$S" generate -m "$F/gpt2-tiny" --ids 1,2,3 -n 4 --greedy --print-ids)
[ "$(timeout 60 "$S" edge -s "$URL" --api-key s3cret --split 2 --mode head --ids 1,2,3 -n 4 --greedy --print-ids -q -t 1 --cache-dir "$T/e")" = "$want" ]
[ "$(SEAM_API_KEY=s3cret timeout 60 "$S" edge -s "$URL" --split 2 --mode tail --ids 1,2,3 -n 4 --greedy --print-ids -q -t 1 --cache-dir "$T/e")" = "$want" ]
if out=$(timeout 60 "$S" edge -s "$URL" --split 2 --mode tail --ids 1,2,3 -n 4 --print-ids -q --cache-dir "$T/e" 2>&1); then echo "no key accepted"; exit 1; fi
case "$out" in *"HTTP 401"*"API key"*) ;; *) echo "unexpected: $out"; exit 1;; esac
echo ok
