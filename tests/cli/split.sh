#!/usr/bin/env bash
# seam split writes loadable shards with a manifest, and refuses ranges the model cannot give.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

expect_fail() { # expect_fail "substring of the error" cmd...
  local want=$1; shift
  if out=$("$@" 2>&1); then echo "should have failed: $*"; exit 1; fi
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "error is not one line: $out"; exit 1; }
  case "$out" in *"$want"*) ;; *) echo "error for '$*' lacks '$want': $out"; exit 1;; esac
}

"$S" split --help | grep -c > /dev/null "usage: seam split"
for k in 0 1 2 3 4; do
  out=$("$S" split -m "$F/gpt2-tiny" --layers "$k:4" --head -o "$T/tail$k")
  case "$out" in "wrote $T/tail$k: layers [$k, 4) + head"*) ;; *) echo "unexpected: $out"; exit 1;; esac
  [ -f "$T/tail$k/manifest.json" ] && [ -f "$T/tail$k/tokenizer.json" ] || { echo "missing files in tail$k"; exit 1; }
  "$S" inspect -m "$T/tail$k" --no-tensors | grep -c > /dev/null "holds \[$k, 4), final norm + head"
  # --size predicts exactly the bytes the manifest lists
  want=$("$S" split -m "$F/gpt2-tiny" --layers "$k:4" --head --size)
  got=$(python3 -c 'import json,sys; print(sum(f["size"] for f in json.load(open(sys.argv[1]))["files"]))' "$T/tail$k/manifest.json")
  [ "$want" = "$got" ] || { echo "--size $want != manifest $got"; exit 1; }
  # every listed file has the listed sha256
  (cd "$T/tail$k" && python3 -c '
import hashlib, json
for f in json.load(open("manifest.json"))["files"]:
    b = open(f["name"], "rb").read()
    assert len(b) == f["size"] and hashlib.sha256(b).hexdigest() == f["sha256"], f["name"]')
done
"$S" split -m "$F/gpt2-tiny" --layers 0:2 --embed -o "$T/head2" > /dev/null
"$S" inspect -m "$T/head2" --no-tensors | grep -c > /dev/null "holds \[0, 2), embeddings)"
# the wide fixture has no tokenizer; its shards have none either, and drop the mask buffers
"$S" split -m "$F/gpt2-wide-f16" --layers 1:2 --head -o "$T/wide" > /dev/null
[ ! -e "$T/wide/tokenizer.json" ] || { echo "tokenizer appeared from nowhere"; exit 1; }
if "$S" inspect -m "$T/wide" | grep -cE > /dev/null "^(transformer\.)?h\.[0-9]+\.attn\.bias "; then echo "mask buffers kept"; exit 1; fi

# quantised shards: smaller, loadable, sized exactly by --size
"$S" split -m "$F/gpt2-tiny" --layers 2:4 --head --quant q8 -o "$T/q8" | grep -c > /dev/null ", q8, "
plain=$("$S" split -m "$F/gpt2-tiny" --layers 2:4 --head --size)
q8=$("$S" split -m "$F/gpt2-tiny" --layers 2:4 --head --quant q8 --size)
q4=$("$S" split -m "$F/gpt2-tiny" --layers 2:4 --head --quant q4 --size)
got=$(python3 -c 'import json,sys; print(sum(f["size"] for f in json.load(open(sys.argv[1]))["files"]))' "$T/q8/manifest.json")
[ "$q8" = "$got" ] && [ "$q4" -lt "$q8" ] && [ "$q8" -lt "$plain" ] || { echo "sizes: plain $plain q8 $q8 (manifest $got) q4 $q4"; exit 1; }
"$S" inspect -m "$T/q8" | grep -c > /dev/null "h.2.attn.c_attn.weight.q8 "
grep -q '"quant": "q8"' "$T/q8/config.json"
ls "$T" | grep -c > /dev/null quant && { echo "temporary quantisation folder left behind"; exit 1; }
expect_fail "expects q8 or q4" "$S" split -m "$F/gpt2-tiny" --layers 2:4 --head --quant q2 -o "$T/x"
echo "quantised shards: plain $plain, q8 $q8, q4 $q4 bytes"

expect_fail "is a shard" "$S" generate -m "$T/tail2" --ids 1,2 -n 2
expect_fail "needs a range ending at 4" "$S" split -m "$F/gpt2-tiny" --layers 1:3 --head -o "$T/x"
expect_fail "needs a range starting at 0" "$S" split -m "$F/gpt2-tiny" --layers 1:4 --embed -o "$T/x"
expect_fail "not within 0:4" "$S" split -m "$F/gpt2-tiny" --layers 0:9 -o "$T/x"
expect_fail "reversed" "$S" split -m "$F/gpt2-tiny" --layers 3:1 -o "$T/x"
expect_fail "would be empty" "$S" split -m "$F/gpt2-tiny" --layers 2:2 -o "$T/x"
expect_fail "expects A:B" "$S" split -m "$F/gpt2-tiny" --layers 2-4 -o "$T/x"
expect_fail "itself a shard" "$S" split -m "$T/tail2" --layers 2:4 -o "$T/x"
expect_fail "-o OUT_DIR" "$S" split -m "$F/gpt2-tiny" --layers 2:4
expect_fail "unknown option" "$S" split -m "$F/gpt2-tiny" --layers 2:4 --bogus
# a shard whose config range was edited no longer matches its manifest... and fails to load
# when it claims layers it lacks
sed -i 's/"layer_begin": 2/"layer_begin": 1/' "$T/tail2/config.json"
expect_fail "missing" "$S" inspect -m "$T/tail2"
echo ok
