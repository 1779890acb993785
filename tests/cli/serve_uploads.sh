#!/usr/bin/env bash
# Resumable model uploads: chunks at offsets, resume after an interruption, sha256-checked
# commit that installs the folder atomically; interrupted, corrupted or non-model uploads
# never become a model.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
start() {
  : > "$T/url"
  "$S" serve -m "$F/gpt2-tiny" --port 0 --exit-after 120 --quiet --cache-dir "$T/c" --max-body 1100000 "$@" > "$T/url" 2> "$T/log" &
  SPID=$!
  for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
  URL=$(head -1 "$T/url"); [ -n "$URL" ] || { cat "$T/log"; exit 1; }
}
start
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$URL/v1/uploads/m/config.json?offset=0")" = 403 ]
kill "$SPID"; wait "$SPID" 2>/dev/null || true
start --allow-uploads --upload-dir "$T/up" --models-dir "$T/models"

timeout 120 python3 - "$URL" "$F/gpt2-wide-f16" "$T" <<'PY'
import hashlib, http.client, json, os, sys, urllib.parse
url, src, tmp = sys.argv[1:4]
u = urllib.parse.urlparse(url)
def call(method, path, body=None):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body=body, headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse(); d = r.read(); c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), d
files = {n: open(os.path.join(src, n), "rb").read() for n in ("config.json", "model.safetensors")}
sums = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
CH = 1 << 20
def send(name, fname, data, start, stop):
    for off in range(start, stop, CH):
        st, _, d = call("PUT", "/v1/uploads/%s/%s?offset=%d" % (name, fname, off), data[off:min(off + CH, stop)])
        assert st == 200 and json.loads(d)["length"] == min(off + CH, stop), (st, d)
def lengths(name):
    st, _, d = call("GET", "/v1/uploads/" + name); assert st == 200, d
    return {f["name"]: f["length"] for f in json.loads(d)["files"]}
# an upload interrupted half-way is not a model; GET tells where to resume
big = files["model.safetensors"]
send("m1", "config.json", files["config.json"], 0, len(files["config.json"]))
send("m1", "model.safetensors", big, 0, 3 * CH)
have = lengths("m1")["model.safetensors"]; assert have == 3 * CH, have
st, _, d = call("POST", "/v1/uploads/m1/commit", json.dumps({"sha256": sums}))
assert st == 422 and json.loads(d)["error"]["code"] == "sha256_mismatch", d
assert not os.path.exists(os.path.join(tmp, "models", "m1"))
# a chunk at the wrong offset is refused with the length to resume from
st, h, d = call("PUT", "/v1/uploads/m1/model.safetensors?offset=%d" % (have + 5), big[have + 5: have + 10])
assert st == 409 and h["x-upload-length"] == str(have) and json.loads(d)["error"]["code"] == "wrong_offset", d
send("m1", "model.safetensors", big, have, len(big))
# a commit missing a file's sha256, or with a wrong one, installs nothing
st, _, d = call("POST", "/v1/uploads/m1/commit", json.dumps({"sha256": {"config.json": sums["config.json"]}}))
assert st == 400 and json.loads(d)["error"]["code"] == "missing_sha256", d
bad = dict(sums); bad["config.json"] = "0" * 64
assert call("POST", "/v1/uploads/m1/commit", json.dumps({"sha256": bad}))[0] == 422
assert call("POST", "/v1/uploads/m1/commit", b"{")[0] == 400
st, _, d = call("POST", "/v1/uploads/m1/commit", json.dumps({"sha256": sums}))
assert st == 201 and json.loads(d)["installed"], d
assert call("GET", "/v1/uploads/m1")[0] == 404            # moved, not copied
# a corrupted chunk is caught at commit
send("m2", "config.json", files["config.json"], 0, len(files["config.json"]))
damaged = bytearray(big); damaged[len(big) // 2] ^= 1
send("m2", "model.safetensors", bytes(damaged), 0, len(big))
st, _, d = call("POST", "/v1/uploads/m2/commit", json.dumps({"sha256": sums}))
assert st == 422 and "model.safetensors" in json.loads(d)["error"]["message"], d
assert call("DELETE", "/v1/uploads/m2")[0] == 200 and call("GET", "/v1/uploads/m2")[0] == 404
# files that hash right but are not a model are refused; a second install of a name too
junk = b'{"model_type": "gpt2"}'
send("m3", "config.json", junk, 0, len(junk))
st, _, d = call("POST", "/v1/uploads/m3/commit", json.dumps({"sha256": {"config.json": hashlib.sha256(junk).hexdigest()}}))
assert st == 422 and json.loads(d)["error"]["code"] == "not_a_model", d
send("m1", "config.json", files["config.json"], 0, len(files["config.json"]))
assert call("POST", "/v1/uploads/m1/commit", json.dumps({"sha256": {"config.json": sums["config.json"]}}))[0] == 409
# names are checked; chunks over --max-body are refused
for path in ("/v1/uploads/..%2Fx/config.json?offset=0", "/v1/uploads/m4/.hidden.json?offset=0", "/v1/uploads/m4/noext?offset=0",
             "/v1/uploads/m4/config.json", "/v1/uploads/m4/config.json?offset=x"):
    assert call("PUT", path, b"x")[0] in (400, 404), path
import socket
sk = socket.create_connection((u.hostname, u.port), timeout=10)
sk.sendall(b"PUT /v1/uploads/m4/model.safetensors?offset=0 HTTP/1.1\r\nHost: x\r\nContent-Length: 1100001\r\n\r\nxx")
assert sk.recv(100).startswith(b"HTTP/1.1 413"); sk.close()
print("uploads: resume, offsets, sha256 commit, atomic install, corruption and junk refused")
PY
# the installed model is the uploaded one
[ "$("$S" generate -m "$T/models/m1" --ids 5,6,7 -n 8 --greedy --print-ids)" = \
  "$("$S" generate -m "$F/gpt2-wide-f16" --ids 5,6,7 -n 8 --greedy --print-ids)" ]
[ ! -e "$T/models/m2" ] && [ ! -e "$T/models/m3" ]
echo ok
