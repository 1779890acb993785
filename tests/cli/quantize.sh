#!/usr/bin/env bash
# seam quantize writes q8 / q4 folders that seam generates from, close to the f32 model, and
# fails cleanly on bad input.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for t in q8 q4; do
  "$S" quantize -m "$F/gpt2-tiny" -o "$T/tiny-$t" --type "$t" 2> "$T/err"
  for f in config.json model.safetensors tokenizer.json; do
    [ -s "$T/tiny-$t/$f" ] || { echo "$t: $f missing"; exit 1; }
  done
  if ls "$T/tiny-$t"/*.tmp > /dev/null 2>&1; then echo "$t: temporary file left behind"; exit 1; fi
  [ ! -s "$T/err" ] || { echo "$t: unexpected stderr for a small model:"; cat "$T/err"; exit 1; }
  # ids in, ids out; text in, text out (the tokenizer was copied)
  out=$("$S" generate -m "$T/tiny-$t" --ids 464,2068,7586 -n 24 --greedy --print-ids)
  [ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 24 ] || { echo "$t: expected 24 ids, got $out"; exit 1; }
  "$S" generate -m "$T/tiny-$t" -p "Once upon a time" -n 8 --seed 1 | grep -q "^Once upon a time"
done
# q8 is a quarter of f32 and has int8 tensors; q4 is smaller still
f32=$(stat -c %s "$F/gpt2-tiny/model.safetensors") q8=$(stat -c %s "$T/tiny-q8/model.safetensors")
q4=$(stat -c %s "$T/tiny-q4/model.safetensors")
[ "$q8" -lt $((f32 * 30 / 100)) ] && [ "$q4" -lt "$q8" ] || { echo "sizes f32 $f32 q8 $q8 q4 $q4"; exit 1; }
# (inspect's output is captured first: grep -q closing the pipe early would fail it)
i8=$("$S" inspect -m "$T/tiny-q8") i4=$("$S" inspect -m "$T/tiny-q4")
grep -q "h.0.mlp.c_fc.weight.q8 .*I8 .*\[256, 64\]" <<< "$i8"
grep -q "h.0.mlp.c_fc.weight.q4_min .*F16" <<< "$i4"
grep -q "^weights: *q8 (blocks of 32 with F16 scales; the rest F32)" <<< "$i8"
grep -q "^weights: *q4 (blocks of 32 with F16 scales and minima; the rest F32)" <<< "$i4"

# the F16 fixture with the hub's key names (attn.bias buffers are dropped), no tokenizer
"$S" quantize -m "$F/gpt2-wide-f16" -o "$T/wide-q8" --type q8 --head separate -q
"$S" quantize -m "$F/gpt2-wide-f16" -o "$T/wide-q4" --type q4 -q
iw=$("$S" inspect -m "$T/wide-q8")
if grep -q "^h\.[0-9]*\.attn\.bias " <<< "$iw"; then echo "mask buffers were copied"; exit 1; fi
grep -q "^lm_head.weight.q8 " <<< "$iw"

# Greedy continuations against the f32 references: the first token must agree on every
# case for q8 and on most for q4 (measured on x86: q8 9/9, q4 8/9; whole continuations q8 7 or 8 of 9).
n=0 first8=0 first4=0 same8=0
for m in gpt2-tiny gpt2-wide-f16; do
  short=${m%%-*}; [ "$m" = gpt2-tiny ] && short=tiny || short=wide
  while read -r ids greedy; do
    a=$("$S" generate -m "$T/$short-q8" --ids "$ids" -n 24 --greedy --print-ids)
    b=$("$S" generate -m "$T/$short-q4" --ids "$ids" -n 24 --greedy --print-ids)
    [ "${a%%,*}" = "${greedy%%,*}" ] && first8=$((first8 + 1))
    [ "${b%%,*}" = "${greedy%%,*}" ] && first4=$((first4 + 1))
    [ "$a" = "$greedy" ] && same8=$((same8 + 1))
    n=$((n + 1))
  done < <(python3 tools/ref_cases.py "$F/$m-ref/reference.safetensors")
done
echo "greedy vs f32 reference: first token q8 $first8/$n, q4 $first4/$n; whole continuation q8 $same8/$n"
[ "$n" -eq 9 ] && [ "$first8" -eq 9 ] && [ "$first4" -ge 7 ] && [ "$same8" -ge 4 ] || { echo "too far from f32"; exit 1; }

# the accuracy report
r=$("$S" quantize -m "$F/gpt2-tiny" -o "$T/tiny-q8" --report-only --report-ids "$F/gpt2-tiny-ref/reference.safetensors")
echo "$r"
grep -q "report (5 cases): 152 positions, top-1 agreement" <<< "$r"
r=$("$S" quantize -m "$F/gpt2-wide-f16" -o "$T/wide-q4" --report-only --report-positions 64)
grep -q "64 positions" <<< "$r"

expect_fail() { # expect_fail "substring of the error" cmd...
  local want=$1; shift
  if out=$("$@" 2>&1); then echo "should have failed: $*"; exit 1; fi
  [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "error is not one line: $out"; exit 1; }
  case "$out" in *"$want"*) ;; *) echo "error for '$*' lacks '$want': $out"; exit 1;; esac
}
expect_fail "q8 or q4" "$S" quantize -m "$F/gpt2-tiny" -o "$T/x" --type q5
expect_fail "-o OUT_DIR" "$S" quantize -m "$F/gpt2-tiny" --type q8
expect_fail "--type" "$S" quantize -m "$F/gpt2-tiny" -o "$T/x"
expect_fail "is the input folder" "$S" quantize -m "$T/tiny-q8" -o "$T/tiny-q8" --type q8
expect_fail "quantised already" "$S" quantize -m "$T/tiny-q8" -o "$T/y" --type q4
expect_fail "unknown option" "$S" quantize -m "$F/gpt2-tiny" -o "$T/x" --type q8 --bogus
expect_fail "tied, separate or keep" "$S" quantize -m "$F/gpt2-tiny" -o "$T/x" --type q8 --head both
expect_fail "no case0.input_ids" "$S" quantize -m "$F/gpt2-tiny" -o "$T/tiny-q8" --report-only --report-ids "$F/gpt2-tiny/model.safetensors"
[ ! -e "$T/y/model.safetensors" ] || { echo "a failed quantize left a model behind"; exit 1; }
h=$("$S" quantize --help)
grep -q "usage: seam quantize" <<< "$h"
echo ok
