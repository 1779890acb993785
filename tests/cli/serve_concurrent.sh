#!/usr/bin/env bash
# 32 split sessions at once (both modes, every split point) each produce exactly the local
# greedy ids; clients that disconnect mid-upload or mid-step leave no session, request or
# memory behind: the metrics say so, and the server exits cleanly (under an ASan build, with
# no leak report).
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=
cleanup() { [ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
"$S" serve -m "$F/gpt2-tiny" --port 0 --exit-after 600 --quiet --cache-dir "$T/scache" --threads 8 --max-sessions 40 \
  > "$T/url" 2> "$T/server.log" &
SPID=$!
for _ in $(seq 400); do [ -s "$T/url" ] && break; sleep 0.05; done
URL=$(head -1 "$T/url"); [ -n "$URL" ] || { cat "$T/server.log"; exit 1; }

mapfile -t cases < <(python3 tools/ref_cases.py "$F/gpt2-tiny-ref/reference.safetensors")
# shards first, one per (split, mode), so the 32 runs below start together
for k in 0 1 2 3 4; do for mode in tail head; do
  timeout 120 "$S" edge -s "$URL" --split "$k" --mode "$mode" --ids 1 -n 1 --print-ids -q -t 1 --cache-dir "$T/e" > /dev/null
done; done
pids=()
for i in $(seq 0 31); do
  c=${cases[$((i % 5))]}; ids=${c%% *}; k=$((i % 5)); mode=$([ $((i / 5 % 2)) -eq 0 ] && echo tail || echo head)
  echo "$ids $k $mode" > "$T/run$i.args"
  timeout 300 "$S" edge -s "$URL" --split "$k" --mode "$mode" --ids "$ids" -n 24 --greedy --print-ids -q -t 1 \
    --cache-dir "$T/e" > "$T/run$i.out" 2> "$T/run$i.err" &
  pids+=($!)
done
fail=0
for i in $(seq 0 31); do
  if ! wait "${pids[$i]}"; then echo "run $i failed: $(cat "$T/run$i.err")"; fail=1; continue; fi
  c=${cases[$((i % 5))]}
  [ "$(cat "$T/run$i.out")" = "${c#* }" ] || { echo "run $i ($(cat "$T/run$i.args")) differs"; fail=1; }
done
[ "$fail" -eq 0 ] || exit 1
echo "32 concurrent split sessions: identical to local greedy"

timeout 300 python3 - "$URL" <<'PY'
import http.client, json, socket, sys, time, urllib.parse
url = urllib.parse.urlparse(sys.argv[1])
def req(method, path, body=None, headers={}):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    c.request(method, path, body=body, headers=headers); r = c.getresponse(); d = r.read(); c.close()
    return r.status, d
def metrics():
    out = {}
    for line in req("GET", "/metrics")[1].decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1); out[k] = float(v)
    return out
J = {"Content-Type": "application/json"}
st, d = req("POST", "/v1/sessions", json.dumps({"split": 2, "mode": "tail", "max_context": 128}), J); tail = json.loads(d)["id"]
st, d = req("POST", "/v1/sessions", json.dumps({"split": 2, "mode": "head", "max_context": 128}), J); head = json.loads(d)["id"]
st, msg = req("POST", "/v1/sessions/%s/step" % tail, json.dumps({"ids": list(range(100, 228)), "pos": 0}), J)
assert st == 200 and len(msg) == 64 + 128 * 256 + 4, (st, len(msg))
before = metrics()
active = before["seam_sessions_active"]
head_req = ("POST /v1/sessions/%s/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.seam.hidden\r\n"
            "Content-Length: %d\r\n\r\n" % (head, len(msg))).encode()
for i in range(20):
    # gone halfway through the upload
    s = socket.create_connection((url.hostname, url.port)); s.sendall(head_req + msg[: len(msg) // 2]); s.close()
    # gone right after the upload, while the server computes the step
    s = socket.create_connection((url.hostname, url.port)); s.sendall(head_req + msg)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0"); s.close()
    # gone while the tail session streams its answer back
    s = socket.create_connection((url.hostname, url.port))
    body = json.dumps({"ids": list(range(100, 228)), "pos": 0}).encode()
    s.sendall(("POST /v1/sessions/%s/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % (tail, len(body))).encode() + body)
    s.recv(10); s.close()
time.sleep(1.5)
# the sessions still work (a step may have been busy when another arrived: 409 is fine then)
for _ in range(50):
    st, d = req("POST", "/v1/sessions/%s/step" % head, msg, {"Content-Type": "application/vnd.seam.hidden"})
    if st != 409: break
    time.sleep(0.1)
assert st == 200 and json.loads(d)["pos"] == 128, (st, d)
after = metrics()
assert after["seam_sessions_active"] == active, (active, after["seam_sessions_active"])
gone = sum(v for k, v in after.items() if k.startswith("seam_http_requests_total") and 'status="499"' in k)
print("disconnects: %d requests ended by their client (status 499 in metrics), sessions active %d -> %d"
      % (gone, active, after["seam_sessions_active"]))
for sid in (tail, head): assert req("DELETE", "/v1/sessions/" + sid)[0] == 200
assert metrics()["seam_sessions_active"] == active - 2
PY

# a clean stop: every session freed, and (ASan builds) no leak or error report
kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?; SPID=
[ "$rc" -eq 0 ] || { echo "server exited with $rc"; tail -30 "$T/server.log"; exit 1; }
if grep -q "Sanitizer" "$T/server.log"; then cat "$T/server.log"; exit 1; fi
echo ok
