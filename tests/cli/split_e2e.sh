#!/usr/bin/env bash
# Split generation across real processes on 127.0.0.1: for every split point k = 0..n_layer
# and both modes, `seam edge` against `seam serve` produces exactly the greedy ids of a local
# `seam generate` (and of the reference). f16/q8 activations are run too and their agreement
# printed. The server binds a free port, is killed by the trap and stops by itself anyway.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
T=$(mktemp -d); SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

start_server() { # start_server MODEL_DIR [serve options...]: sets URL and SPID
  local model=$1; shift
  : > "$T/url"
  "$S" serve -m "$model" --port 0 --exit-after 600 --quiet --cache-dir "$T/scache" "$@" > "$T/url" 2> "$T/server.log" &
  SPID=$!
  for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.05; done
  URL=$(head -1 "$T/url")
  [ -n "$URL" ] || { echo "server did not start"; cat "$T/server.log"; exit 1; }
}
stop_server() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null || true; SPID=; }

runs=0
for m in gpt2-tiny gpt2-wide-f16; do
  start_server "$F/$m"
  n_layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_layer"])' "$F/$m/config.json")
  declare -A agree=()
  case_no=0; quant_cases=0
  while read -r ids greedy; do
    case_no=$((case_no+1))
    local_ids=$("$S" generate -m "$F/$m" --ids "$ids" -n 24 --greedy --print-ids)
    [ "$local_ids" = "$greedy" ] || { echo "local generate differs from the reference for $m"; exit 1; }
    for k in $(seq 0 "$n_layer"); do
      for mode in tail head; do
        got=$(timeout 60 "$S" edge -s "$URL" --split "$k" --mode "$mode" --ids "$ids" -n 24 --greedy --print-ids \
              --cache-dir "$T/ecache" -q -t 1)
        if [ "$got" != "$local_ids" ]; then
          echo "FAIL $m k=$k mode=$mode ids=$ids"; echo " got $got"; echo "want $local_ids"; exit 1
        fi
        runs=$((runs+1))
        # f16/q8 agreement on the first case (every case with SEAM_SPLIT_FULL=1: slower)
        [ "$case_no" -eq 1 ] || [ "${SEAM_SPLIT_FULL:-0}" = 1 ] || continue
        [ "$mode" = tail ] && quant_cases=$((quant_cases+1))
        for act in f16 q8; do
          got=$(timeout 60 "$S" edge -s "$URL" --split "$k" --mode "$mode" --ids "$ids" -n 24 --greedy --print-ids \
                --cache-dir "$T/ecache" -q -t 1 --activation "$act")
          same=$(python3 -c 'import sys; a=sys.argv[1].split(","); b=sys.argv[2].split(","); print(sum(x==y for x,y in zip(a,b)))' "$got" "$local_ids")
          agree[$act]=$(( ${agree[$act]:-0} + same ))
        done
      done
    done
  done < <(python3 tools/ref_cases.py "$F/$m-ref/reference.safetensors")
  total=$(( quant_cases * 2 * 24 ))
  echo "$m: f32 identical for every k and mode; greedy tokens equal to f32: f16 ${agree[f16]}/$total, q8 ${agree[q8]}/$total"
  unset agree
  stop_server
done
[ "$runs" -eq $(( (5 * 5 + 4 * 3) * 2 )) ] || { echo "expected 74 runs, ran $runs"; exit 1; }

# text in, text out through the tokenizer shipped with the shard
start_server "$F/gpt2-tiny"
want=$("$S" generate -m "$F/gpt2-tiny" -p "Once upon a time" -n 12 --greedy)
for mode in tail head; do
  got=$(timeout 60 "$S" edge -s "$URL" --split 2 --mode "$mode" -p "Once upon a time" -n 12 --greedy --cache-dir "$T/ecache" -q -t 1)
  [ "$got" = "$want" ] || { echo "text differs ($mode): '$got' vs '$want'"; exit 1; }
done
# sampling with a seed matches local generate too (the sampler runs where the head runs)
want=$("$S" generate -m "$F/gpt2-tiny" -p "Hello" -n 16 --seed 7 --temperature 1.2 --top-k 50 --top-p 0.9 --print-ids)
for mode in tail head; do
  got=$(timeout 60 "$S" edge -s "$URL" --split 1 --mode "$mode" -p "Hello" -n 16 --seed 7 --temperature 1.2 --top-k 50 \
        --top-p 0.9 --print-ids --cache-dir "$T/ecache" -q -t 1)
  [ "$got" = "$want" ] || { echo "seeded sampling differs ($mode): $got vs $want"; exit 1; }
done
# --stats reports bytes per token and round trips
timeout 60 "$S" edge -s "$URL" --split 2 --mode head --ids 1,2,3 -n 5 --greedy --print-ids --cache-dir "$T/ecache" -q \
  --stats 2> "$T/stats" > /dev/null
grep -q "5 round trips" "$T/stats" && grep -q "per decode step: sent 324 bytes" "$T/stats" || { cat "$T/stats"; exit 1; }
# quantised shards (--quant): run, and report how often greedy agrees with f32 weights
want=$("$S" generate -m "$F/gpt2-tiny" --ids 464,2068,7586,21831,18045 -n 24 --greedy --print-ids)
for q in q8 q4; do for mode in tail head; do
  got=$(timeout 60 "$S" edge -s "$URL" --split 2 --mode "$mode" --ids 464,2068,7586,21831,18045 -n 24 --greedy --print-ids \
        --quant "$q" -q -t 1 --cache-dir "$T/ecache")
  same=$(python3 -c 'import sys; a=sys.argv[1].split(","); b=sys.argv[2].split(","); print(sum(x==y for x,y in zip(a,b)))' "$got" "$want")
  [ "$(echo "$got" | tr ',' '\n' | wc -l)" -eq 24 ] || { echo "--quant $q $mode: $got"; exit 1; }
  echo "--quant $q, mode $mode, split 2: $same/24 greedy tokens equal to the f32 model"
done; done
# a local --shard folder works, and one for another split point is refused
"$S" split -m "$F/gpt2-tiny" --layers 3:4 --head -o "$T/tail3" > /dev/null
got=$(timeout 60 "$S" edge -s "$URL" --split 3 --mode tail --ids 1,2,3 -n 4 --greedy --print-ids --shard "$T/tail3")
[ "$got" = "$("$S" generate -m "$F/gpt2-tiny" --ids 1,2,3 -n 4 --greedy --print-ids)" ] || { echo "--shard run differs"; exit 1; }
if out=$(timeout 60 "$S" edge -s "$URL" --split 2 --mode tail --ids 1,2,3 -n 4 --greedy --print-ids --shard "$T/tail3" 2>&1); then
  echo "a shard for layers 3:4 was accepted for split 2"; exit 1; fi
case "$out" in *"holds layers [3, 4) + head but [2, 4) + head is needed"*) ;; *) echo "unexpected: $out"; exit 1;; esac
# a shard of another model is refused
"$S" split -m "$F/gpt2-wide-f16" --layers 1:2 --head -o "$T/wide1" > /dev/null
if out=$(timeout 60 "$S" edge -s "$URL" --split 1 --mode tail --ids 1,2 -n 2 --print-ids --shard "$T/wide1" 2>&1); then
  echo "a shard of another model was accepted"; exit 1; fi
case "$out" in *"not of"*) ;; *) echo "unexpected: $out"; exit 1;; esac
# errors are one line
if out=$(timeout 60 "$S" edge -s "$URL" --split 9 --mode tail --ids 1 -n 2 2>&1); then echo "split 9 accepted"; exit 1; fi
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && case "$out" in *"past the model's 4 layers"*) ;; *) echo "$out"; exit 1;; esac
if out=$(timeout 60 "$S" edge -s "$URL" --split 2 --mode tail --ids 1 -n 500 --print-ids --cache-dir "$T/ecache" 2>&1); then
  echo "context overflow accepted"; exit 1; fi
case "$out" in *"exceeds the context"*) ;; *) echo "$out"; exit 1;; esac
"$S" edge --help | grep -c > /dev/null "usage: seam edge"
"$S" serve --help | grep -c > /dev/null "usage: seam serve"
stop_server
if out=$(timeout 20 "$S" edge -s "$URL" --split 2 --mode tail --ids 1 -n 2 2>&1); then echo "dead server accepted"; exit 1; fi
case "$out" in *"cannot reach the server"*) ;; *) echo "$out"; exit 1;; esac
echo ok
