#!/usr/bin/env bash
# Split inference figures (issue 5) for `make bench`: one `seam serve` and `seam edge` runs
# on 127.0.0.1 against local `seam generate` on the random GPT-2-small checkpoint, plus the
# shard-size table. Prints one JSON document on stdout (bench/report_split.py collect);
# progress and errors go to stderr. bench/run.sh runs it as the step `split`; it also runs
# alone:  bench/split_bench.sh > split.json && bench/report_split.py render split.json
#
# A failed step leaves a note in the JSON and the rest still runs; the output is always JSON.
#
# Environment (defaults in brackets):
#   BUILD [build]  WORK [bench/work]  SEAM_FIXTURES [../shared/fixtures]  BENCH_PYTHON [/usr/bin/python3]
#   BENCH_SPLIT_THREADS [1]      threads of the server's forward pass, the edge and the local run
#   BENCH_SPLIT_TOKENS [32]      tokens generated per run (the first comes with the prompt)
#   BENCH_SPLIT_K [0 .. n_layer] split points run in tail mode
#   BENCH_SPLIT_BOTH_K ["1 6 11"]  split points also run in head mode
#   BENCH_SPLIT_REPS [3]         repetitions of the local run and of k = 6 in both modes (interleaved)
#   BENCH_SPLIT_VERIFY_QUANT [1] check the q8/q4 cells of the shard table with seam split (~1 min)
#   BENCH_SPLIT_BUDGET [480]     seconds after which the remaining edge runs are skipped (with a note)
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WORK=${WORK:-bench/work}
FIX=${SEAM_FIXTURES:-../shared/fixtures}
PY=${BENCH_PYTHON:-/usr/bin/python3}
command -v "$PY" > /dev/null || PY=python3
SEAM=$PWD/$BUILD/seam
G32=$WORK/gpt2-small-f32 G16=$WORK/gpt2-small-f16
THREADS=${BENCH_SPLIT_THREADS:-1}
NTOK=${BENCH_SPLIT_TOKENS:-32}
BOTH_K=${BENCH_SPLIT_BOTH_K:-1 6 11}
REPS=${BENCH_SPLIT_REPS:-3}
LAT_K=6
BUDGET=${BENCH_SPLIT_BUDGET:-480}
START=$(date +%s)

mkdir -p "$WORK"
# Shard caches of one run (several GB at peak) live here and go when the run ends.
T=$(mktemp -d "$WORK/split-run.XXXXXX")
SPID=
cleanup() {
    [ -n "$SPID" ] && kill "$SPID" 2> /dev/null && wait "$SPID" 2> /dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/runs"

say() { printf '[split %4ds] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
note() { printf '%s\n' "$*" >> "$T/notes.txt"; say "note: $*"; }
finish() { # the JSON, whatever happened before
    if ! "$PY" bench/report_split.py collect "$T"; then
        printf '{"error": "bench/report_split.py collect failed"}\n'
    fi
    exit 0
}

# ------------------------------------------------------------------ the checkpoint

if [ ! -x "$SEAM" ]; then note "no $SEAM: build seam first"; finish; fi
for pair in "$G32 F32" "$G16 F16"; do
    set -- $pair
    if [ ! -f "$1/model.safetensors" ]; then
        # Standalone runs: write the bench's checkpoint (same tool, seed and shape as run.sh).
        if [ ! -x "$WORK/bin/make_random_gpt2" ]; then
            mkdir -p "$WORK/bin"
            cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -pthread -Iinclude -Isrc tools/make_random_gpt2.c \
                "$BUILD/libseam.a" -lm -lpthread -o "$WORK/bin/make_random_gpt2" >&2 || true
        fi
        say "writing $1"
        "$WORK/bin/make_random_gpt2" "$1" --dtype "$2" --seed 1234 > /dev/null 2>&1 || note "could not write $1"
    fi
    [ -f "$1/tokenizer.json" ] || install -m 644 "$FIX/gpt2-tiny/tokenizer.json" "$1/tokenizer.json" 2> /dev/null || true
done
if [ ! -f "$G32/model.safetensors" ]; then note "no checkpoint at $G32"; finish; fi
C=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_embd"])' "$G32/config.json")
L=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_layer"])' "$G32/config.json")
V=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$G32/config.json")
# The prompt every engine in the bench uses: ids (1000 + 997 i) mod vocab, 16 of them.
IDS=$("$PY" -c 'import sys; v=int(sys.argv[1]); print(",".join(str((1000 + 997 * i) % v) for i in range(16)))' "$V")
params() { # params.json, rewritten at the end with the load average then
    printf '{"threads": %s, "tokens": %s, "prompt_len": 16, "n_embd": %s, "n_layer": %s, "latency_k": %s, "reps": %s, "both_modes_k": [%s], "loadavg_start": "%s", "loadavg_end": "%s"}\n' \
        "$THREADS" "$NTOK" "$C" "$L" "$LAT_K" "$REPS" "$(echo "$BOTH_K" | tr ' ' ',')" "$LOAD0" "$(cut -d' ' -f1-3 /proc/loadavg)" > "$T/params.json"
}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
params

# ------------------------------------------------------------------ (d) shard sizes

say "shard-size table (bench/shard_size.py, checked with seam split --size)"
TOKS=()
for f in tokenizer.json vocab.json merges.txt tokenizer_config.json special_tokens_map.json generation_config.json; do
    [ -f "$G32/$f" ] && TOKS+=(--tokenizer "$G32/$f")
done
VQ=()
[ "${BENCH_SPLIT_VERIFY_QUANT:-1}" = 1 ] && VQ=(--verify-quant)
VER=(--verify "$SEAM" "$G32")
[ -f "$G16/model.safetensors" ] && VER+=("$G16")
if ! TMPDIR=$T timeout 600 "$PY" bench/shard_size.py table "${TOKS[@]}" "${VER[@]}" "${VQ[@]}" > "$T/shards.json" 2> "$T/shards.log"; then
    note "shard table failed: $(tail -n 1 "$T/shards.log")"
    rm -f "$T/shards.json"
fi

# ------------------------------------------------------------------ local baseline

local_run() { # local_run REP: seam generate, same prompt, tokens and threads as the edge runs
    say "local seam generate #$1"
    timeout 120 "$SEAM" generate -m "$G32" --ids "$IDS" -n "$NTOK" --greedy --ignore-eos --print-ids --stats -t "$THREADS" \
        > "$T/local-$1.out" 2> "$T/local-$1.err" || note "local seam generate failed: $(tail -n 1 "$T/local-$1.err")"
}

# ------------------------------------------------------------------ server and edge runs

say "starting seam serve"
"$SEAM" serve -m "$G32" --port 0 --exit-after 1800 --quiet --cache-dir "$T/scache" --compute-threads "$THREADS" \
    --max-sessions 4 > "$T/url" 2> "$T/server.log" &
SPID=$!
for _ in $(seq 600); do [ -s "$T/url" ] && break; kill -0 "$SPID" 2> /dev/null || break; sleep 0.1; done
URL=$(head -n 1 "$T/url" 2> /dev/null)
if [ -z "$URL" ]; then note "seam serve did not start: $(tail -n 1 "$T/server.log")"; finish; fi

edge() { # edge K MODE ACT REP
    local tag="$1-$2-$3-$4"
    # Past the budget the remaining runs are dropped, so run.sh's step timeout never costs the
    # whole section (what ran is still reported).
    if [ $(($(date +%s) - START)) -gt "$BUDGET" ]; then
        [ -f "$T/over-budget" ] || note "time budget of ${BUDGET}s spent: runs from k=$1 $2 $3 on were not made"
        touch "$T/over-budget"
        return
    fi
    say "edge k=$1 $2 $3${4:+ #$4}"
    timeout 120 "$SEAM" edge -s "$URL" --split "$1" --mode "$2" --activation "$3" --ids "$IDS" -n "$NTOK" --greedy \
        --ignore-eos --print-ids --stats -t "$THREADS" -q --cache-dir "$T/ecache" > "$T/runs/$tag.out" 2> "$T/runs/$tag.err" ||
        say "edge k=$1 $2 $3 failed: $(tail -n 1 "$T/runs/$tag.err")"
}

LOCAL_DONE=0
for k in ${BENCH_SPLIT_K:-$(seq 0 "$L")}; do
    if [ "$k" = "$LAT_K" ]; then
        # Local and split runs interleaved: on a shared machine the load drifts over minutes, and
        # the added latency is taken from these pairs (split run r minus local run r).
        for r in $(seq 0 $((REPS - 1))); do local_run "$r"; edge "$k" tail f32 "$r"; edge "$k" head f32 "$r"; done
        LOCAL_DONE=1
        for act in f16 q8; do edge "$k" tail "$act" 0; edge "$k" head "$act" 0; done
    else
        edge "$k" tail f32 0
        case " $BOTH_K " in *" $k "*) edge "$k" head f32 0 ;; esac
    fi
    # This k's shards are done with (no later run asks for the same range; the server rebuilds
    # a missing one anyway): keeps the disk use to one range instead of ~8 GB for all of them.
    rm -rf "$T/ecache" "$T"/scache/*/L*
done
kill "$SPID" 2> /dev/null && wait "$SPID" 2> /dev/null
SPID=
if [ "$LOCAL_DONE" = 0 ]; then for r in $(seq 0 $((REPS - 1))); do local_run "$r"; done; fi
params
say "done in $(($(date +%s) - START)) s"
finish
