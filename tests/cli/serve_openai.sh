#!/usr/bin/env bash
# The whole-model endpoints in OpenAI's shapes: /v1/completions (plain and stream: true as
# server-sent events) gives local generate's tokens; /v1/embeddings (an encoder server) gives
# seam embed's vectors; clients that leave mid-stream stop the generation cleanly.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); P1=; P2=; P3=
cleanup() { for p in $P1 $P2 $P3; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
serve() { # serve NAME MODEL_DIR: URL in $T/NAME.url, pid in $PID
  "$S" serve -m "$2" --port 0 --exit-after 300 --quiet --cache-dir "$T/c" > "$T/$1.url" 2> "$T/$1.log" &
  PID=$!
}
serve tiny "$F/gpt2-tiny"; P1=$PID; serve wide "$F/gpt2-wide-f16"; P2=$PID; serve bert "$F/minibert-st"; P3=$PID
for n in tiny wide bert; do
  for _ in $(seq 200); do [ -s "$T/$n.url" ] && break; sleep 0.05; done
  [ -s "$T/$n.url" ] || { cat "$T/$n.log"; exit 1; }
done
want_ids=$("$S" generate -m "$F/gpt2-tiny" -p "Once upon a time" -n 12 --greedy --print-ids)
want_text=$("$S" generate -m "$F/gpt2-tiny" -p "Once upon a time" -n 12 --greedy)
want_wide=$("$S" generate -m "$F/gpt2-wide-f16" --ids 5,6,7 -n 10 --greedy --print-ids)
"$S" embed -m "$F/minibert-st" "hello world" "split inference" > "$T/embed.txt"

timeout 120 python3 - "$(cat "$T/tiny.url")" "$(cat "$T/wide.url")" "$(cat "$T/bert.url")" "$want_ids" "$want_text" \
  "$want_wide" "$T/embed.txt" <<'PY'
import http.client, json, socket, sys, time, urllib.parse
tiny, wide, bert, want_ids, want_text, want_wide, embed_file = sys.argv[1:8]
def post(base, path, body, raw=False):
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("POST", path, body=body if raw else json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse(); d = r.read(); c.close()
    return r.status, r.getheader("Content-Type"), d
def sse(base, body):
    st, ct, d = post(base, "/v1/completions", body)
    assert st == 200 and ct == "text/event-stream", (st, ct, d[:200])
    events = [e[len("data: "):] for e in d.decode().split("\n\n") if e]
    assert events[-1] == "[DONE]", events[-1]
    return [json.loads(e) for e in events[:-1]]
ids = [int(x) for x in want_ids.split(",")]
# plain completion: greedy ids and text as local generate
st, _, d = post(tiny, "/v1/completions", {"model": "gpt2-tiny", "prompt": "Once upon a time", "max_tokens": 12, "temperature": 0})
r = json.loads(d); ch = r["choices"][0]
assert st == 200 and r["object"] == "text_completion" and r["id"].startswith("cmpl-"), r
assert ch["token_ids"] == ids and ch["finish_reason"] == "length", ch
assert "Once upon a time" + ch["text"] == want_text, (ch["text"], want_text)
assert r["usage"] == {"prompt_tokens": 4, "completion_tokens": 12, "total_tokens": 16}, r["usage"]
# stream: one event per token, same text, then finish_reason and [DONE]
ev = sse(tiny, {"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0, "stream": True})
assert [e["choices"][0]["token_ids"][0] for e in ev[:-1]] == ids, ev
assert ev[-1]["choices"][0]["finish_reason"] == "length"
assert "".join(e["choices"][0]["text"] for e in ev) == ch["text"]
# token-id prompts on a model without a tokenizer; a text prompt there is refused
st, _, d = post(wide, "/v1/completions", {"prompt": [5, 6, 7], "max_tokens": 10, "temperature": 0})
assert st == 200 and json.loads(d)["choices"][0]["token_ids"] == [int(x) for x in want_wide.split(",")], d
assert json.loads(post(wide, "/v1/completions", {"prompt": "hi"})[2])["error"]["code"] == "no_tokenizer"
# seeded sampling is reproducible
a = post(tiny, "/v1/completions", {"prompt": "Hello", "max_tokens": 8, "temperature": 1.0, "top_k": 50, "seed": 3})[2]
b = post(tiny, "/v1/completions", {"prompt": "Hello", "max_tokens": 8, "temperature": 1.0, "top_k": 50, "seed": 3})[2]
assert json.loads(a)["choices"][0]["token_ids"] == json.loads(b)["choices"][0]["token_ids"]
# errors
for body, status, code in [(b"{", 400, "bad_json"), ({"prompt": "x", "n": 2}, 400, "unsupported_n"),
                           ({"prompt": "x", "stop": ["\n"]}, 400, "unsupported_stop"),
                           ({"prompt": "x", "max_tokens": 1000}, 400, "context_length_exceeded"),
                           ({"prompt": [1, 99999999]}, 400, "invalid_prompt"), ({"prompt": []}, 400, "invalid_prompt"),
                           ({"prompt": "x", "temperature": -1}, 400, "invalid_temperature"),
                           ({"model": "other", "prompt": "x"}, 404, "model_not_found")]:
    st, _, d = post(tiny, "/v1/completions", body, raw=isinstance(body, bytes))
    assert st == status and json.loads(d)["error"]["code"] == code, (body, st, d)
assert post(tiny, "/v1/embeddings", {"input": "x"})[0] == 400
# a client that leaves mid-stream: the server stops that generation and carries on
u = urllib.parse.urlparse(tiny)
for _ in range(5):
    s = socket.create_connection((u.hostname, u.port))
    body = json.dumps({"prompt": [1, 2, 3], "max_tokens": 120, "stream": True}).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body)
    s.recv(200); s.close()
time.sleep(0.5)
st, _, d = post(tiny, "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 12, "temperature": 0})
assert st == 200 and json.loads(d)["choices"][0]["token_ids"] == ids
# embeddings: seam embed's vectors, OpenAI's shape; a decoder route on an encoder is refused
want = [json.loads(l) for l in open(embed_file)]
st, _, d = post(bert, "/v1/embeddings", {"model": "minibert-st", "input": ["hello world", "split inference"]})
r = json.loads(d)
assert st == 200 and r["object"] == "list" and [x["index"] for x in r["data"]] == [0, 1], r
for got, exp in zip(r["data"], want):
    assert max(abs(x - y) for x, y in zip(got["embedding"], exp)) < 1e-6
assert r["usage"]["prompt_tokens"] > 0
st, _, d = post(bert, "/v1/embeddings", {"input": "hello world"})
assert st == 200 and len(json.loads(d)["data"]) == 1
for body, code in [({"input": []}, "invalid_input"), ({"input": [1, 2]}, "invalid_input"),
                   ({"input": "x", "encoding_format": "base64"}, "invalid_encoding_format")]:
    st, _, d = post(bert, "/v1/embeddings", body); assert st == 400 and json.loads(d)["error"]["code"] == code, d
assert json.loads(post(bert, "/v1/completions", {"prompt": "x"})[2])["error"]["code"] == "not_a_decoder"
assert json.loads(post(bert, "/v1/sessions", {"split": 1, "mode": "tail"})[2])["error"]["code"] == "not_a_decoder"
print("openai: completions (plain, stream, ids, seeded, errors, disconnects) and embeddings ok")
PY
for p in $P1 $P2 $P3; do kill -TERM "$p"; rc=0; wait "$p" || rc=$?; [ "$rc" -eq 0 ] || { echo "server exited $rc"; exit 1; }; done
P1=; P2=; P3=
if grep -q Sanitizer "$T"/*.log; then cat "$T"/*.log; exit 1; fi
echo ok
