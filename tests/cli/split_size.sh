#!/usr/bin/env bash
# bench/shard_size.py computes the bytes of a `seam split` shard from the formats alone (the
# benchmark's shard table uses it for shapes not on disk, such as GPT-2 XL). Here it must
# agree, file by file, with the manifests of real shards: of both fixtures (hub key names
# with and without the transformer. prefix, F32 and F16, __metadata__, tokenizer files), for
# plain, q8 and q4 shards with and without embeddings and head; and, describing the parent by
# its shape alone, with shards of checkpoints tools/make_random_gpt2.c writes.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=${SEAM_PYTHON:-python3}

n=0
check_shards() { # check_shards PARENT_DIR [--synthetic]: every spec below, plain and quantised
  local parent=$1 L
  shift
  L=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_layer"])' "$parent/config.json")
  for spec in "0:1 --embed" "0:0 --embed" "1:$L" "$((L - 1)):$L --head" "$((L - 2)):$L" "0:$L --embed --head" "$L:$L --head"; do
    for q in "" "--quant q8" "--quant q4"; do
      # shellcheck disable=SC2086
      "$S" split -m "$parent" --layers $spec $q -o "$T/shard" > /dev/null
      if ! out=$("$PY" bench/shard_size.py check "$parent" "$T/shard" "$@"); then
        echo "FAIL $parent --layers $spec $q $*:"; echo "$out"; exit 1
      fi
      # seam split --size (computed from the plan for plain shards; a quantised one is
      # written to a temporary folder, the same path as here) is the same sum
      if [ -z "$q" ]; then
        # shellcheck disable=SC2086
        size=$("$S" split -m "$parent" --layers $spec --size)
        sum=$("$PY" -c 'import json,sys; print(sum(f["size"] for f in json.load(open(sys.argv[1]))["files"]))' "$T/shard/manifest.json")
        [ "$size" = "$sum" ] || { echo "seam split --size says $size, the manifest $sum ($parent $spec)"; exit 1; }
      fi
      rm -rf "$T/shard"
      n=$((n + 1))
    done
  done
}

check_shards "$F/gpt2-tiny"
check_shards "$F/gpt2-wide-f16"

# A random checkpoint as the benchmark writes it, described by shape only.
LIBDIR=$(dirname "$S")
tool() {
  cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -pthread -Iinclude -Isrc "$@" tools/make_random_gpt2.c \
    "$LIBDIR/libseam.a" -lm -lpthread -o "$T/make_random_gpt2" 2> "$T/cc.log"
}
# the sanitizer build's library needs its runtime linked in
tool || tool -fsanitize=address,undefined || { cat "$T/cc.log"; exit 1; }
for dt in F32 F16; do
  "$T/make_random_gpt2" "$T/rand-$dt" --layers 3 --embd 64 --heads 2 --vocab 300 --positions 32 --dtype "$dt" > /dev/null
  cp "$F/gpt2-tiny/tokenizer_config.json" "$T/rand-$dt/"
  check_shards "$T/rand-$dt" --synthetic
done
echo "shard sizes: $n shards computed exactly"
echo ok
