#!/usr/bin/env bash
# seam generate reproduces the reference greedy continuations exactly, and fails cleanly.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
n=0
for m in gpt2-tiny gpt2-wide-f16; do
  while read -r ids greedy; do
    got=$("$S" generate -m "$F/$m" --ids "$ids" -n 24 --greedy --print-ids)
    if [ "$got" != "$greedy" ]; then echo "FAIL $m ids=$ids"; echo " got $got"; echo "want $greedy"; exit 1; fi
    n=$((n+1))
  done < <(python3 tools/ref_cases.py "$F/$m-ref/reference.safetensors")
done
[ "$n" -eq 9 ] || { echo "expected 9 cases, ran $n"; exit 1; }
echo "greedy: $n cases identical"

expect_fail() { # expect_fail "substring of the error" cmd...
  local want=$1; shift
  if out=$("$@" 2>&1); then echo "should have failed: $*"; exit 1; fi
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "error is not one line: $out"; exit 1; }
  case "$out" in *"$want"*) ;; *) echo "error for '$*' lacks '$want': $out"; exit 1;; esac
}
expect_fail "context" "$S" generate -m "$F/gpt2-tiny" --ids 1,2,3 -n 200 --greedy
expect_fail "outside the vocabulary" "$S" generate -m "$F/gpt2-wide-f16" --ids 1,5000 -n 2 --print-ids
expect_fail "token ids" "$S" generate -m "$F/gpt2-tiny" --ids 1,x,3 -n 2
expect_fail "unknown option" "$S" generate -m "$F/gpt2-tiny" --bogus
expect_fail "-m MODEL" "$S" generate -p hi
expect_fail "--top-p" "$S" generate -m "$F/gpt2-tiny" -p hi --top-p 2
expect_fail "unknown command" "$S" frobnicate
"$S" generate --help | grep -q "usage: seam generate"
"$S" --help | grep -q "commands:"

# sampling is reproducible for a seed, and --sliding runs past the context
a=$("$S" generate -m "$F/gpt2-tiny" -p "Hello" -n 16 --seed 7 --temperature 1.2 --top-k 50 --top-p 0.9 --print-ids)
b=$("$S" generate -m "$F/gpt2-tiny" -p "Hello" -n 16 --seed 7 --temperature 1.2 --top-k 50 --top-p 0.9 --print-ids)
[ "$a" = "$b" ] || { echo "same seed, different output"; exit 1; }
out=$("$S" generate -m "$F/gpt2-tiny" --ids 1,2,3 -n 300 --greedy --sliding --ignore-eos --print-ids)
[ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 300 ] || { echo "--sliding did not produce 300 tokens"; exit 1; }
# text streams: the prompt is echoed and text follows
"$S" generate -m "$F/gpt2-tiny" -p "Once upon a time" -n 8 --seed 1 | grep -q "^Once upon a time"
# BF16 weights load and run (a copy of gpt2-tiny converted by truncating each f32 to bf16)
bf=$(mktemp -d); trap 'rm -rf "$bf"' EXIT
python3 - "$F/gpt2-tiny" "$bf" <<'PY'
import json, shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src + "/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    hdr = json.loads(f.read(n)); base = 8 + n; data = f.read()
out, off, newh = [], 0, {}
for name, t in hdr.items():
    if name == "__metadata__": continue
    b, e = t["data_offsets"]; raw = data[b:e]
    words = struct.unpack("<%dI" % (len(raw) // 4), raw)
    conv = struct.pack("<%dH" % len(words), *[w >> 16 for w in words])
    newh[name] = {"dtype": "BF16", "shape": t["shape"], "data_offsets": [off, off + len(conv)]}
    out.append(conv); off += len(conv)
h = json.dumps(newh).encode(); h += b" " * ((8 - len(h) % 8) % 8)
with open(dst + "/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(out))
for name in ("config.json", "tokenizer.json"): shutil.copy(src + "/" + name, dst + "/" + name)
PY
"$S" inspect -m "$bf" --no-tensors | grep -q "weights:      BF16"
out=$("$S" generate -m "$bf" --ids 15496,11 -n 8 --greedy --print-ids -t 1)
[ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 8 ] || { echo "bf16 model did not generate: $out"; exit 1; }
echo ok
