#!/usr/bin/env bash
# `make bench`: measures seam and its peers (PyTorch eager, ONNX Runtime, llama.cpp) on the
# same weights and thread counts, plus this machine's bandwidth and FMA limits, and writes
# bench/results/<host>-<date>.md and .json (bench/report.py).
#
# Degrades instead of failing: a peer that cannot be installed or crashes gets a note in its
# column and everything else still runs. Targets that are missed are reported, never fatal.
#
# Environment:
#   BUILD=build                 seam build folder (make passes its own when given on its command line)
#   BENCH_THREADS="1 N"         thread counts (default: 1 and the physical cores)
#   BENCH_REPS=3                prefill / TTFT repetitions (median; T=512 uses at most 2)
#   BENCH_DECODE_STEPS=16       single-token steps per decode figure (median)
#   BENCH_STEP_TIMEOUT=600      seconds before one measurement is abandoned
#   BENCH_FRESH=1               regenerate every model and conversion
#   BENCH_NO_INSTALL=1          use only what is installed (no apt-get, no npm)
#   BENCH_PYTHON=/usr/bin/python3   the interpreter that has torch (and numpy)
#   BENCH_SEAM_REV=abc1234      the revision the report names (for a copy without .git)
#   BENCH_NO_WEB=1              skip the browser section (bench/web_bench.sh; its own knobs there)
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WORK=bench/work
BIN=$WORK/bin
RAW=$WORK/raw
FIX=${SEAM_FIXTURES:-../shared/fixtures}
# Debian's python3-torch is for /usr/bin/python3, not the python3 first on PATH here.
PY=${BENCH_PYTHON:-/usr/bin/python3}
REPS=${BENCH_REPS:-3}
STEPS=${BENCH_DECODE_STEPS:-16}
STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-600}
START=$(date +%s)
mkdir -p "$BIN" "$RAW" bench/results
rm -f "$RAW"/*

say() { printf '[bench %4ds] %s\n' "$(($(date +%s) - START))" "$*"; }
note() { printf '%s\n' "$*" >>"$RAW/notes.txt"; say "note: $*"; }
peer() { printf '%s\t%s\n' "$1" "$2" >>"$RAW/peers.txt"; }

# Marks LABEL as not run for every thread count, with the reason the report shows.
skip() {
    local label=$1 why=$2 t
    for t in $THREADS; do printf '%s\n' "$why" >"$RAW/$label-t$t.skip"; done
}

# run_step LABEL CMD...: stdout (JSON) to $RAW/LABEL.json, stderr shown indented and kept in
# LABEL.log; on failure or bad JSON, LABEL.fail says why and the run goes on.
run_step() {
    local label=$1 rc=0
    shift
    say "$label"
    timeout "$STEP_TIMEOUT" "$@" >"$RAW/$label.out" 2> >(tee "$RAW/$label.log" | sed 's/^/      /' >&2) || rc=$?
    sleep 0.2 # lets tee drain before the log is read
    if [ "$rc" -eq 0 ] && "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$RAW/$label.out" 2>/dev/null; then
        mv "$RAW/$label.out" "$RAW/$label.json"
    else
        local why
        why=$(grep -v '^\s*$' "$RAW/$label.log" | grep -iv 'warn' | tail -n 1 || true)
        [ "$rc" -eq 124 ] && why="timed out after ${STEP_TIMEOUT}s"
        printf 'exit status %s: %s\n' "$rc" "${why:-no output}" >"$RAW/$label.fail"
        rm -f "$RAW/$label.out"
        say "$label FAILED (exit $rc): ${why:-no output}"
    fi
}

# fresh STAMP INPUT...: true when STAMP records the same hashes of INPUTs (so the product
# of those inputs can be reused); the caller writes the stamp after rebuilding.
fresh() {
    local stamp=$1
    shift
    [ -z "${BENCH_FRESH:-}" ] && [ -f "$stamp" ] && [ "$(sha256sum "$@" | sha256sum)" = "$(cat "$stamp")" ]
}
stamp() {
    local stamp=$1
    shift
    sha256sum "$@" | sha256sum >"$stamp"
}

# ------------------------------------------------------------------ machine

cores=$(lscpu -p=CORE,SOCKET 2>/dev/null | grep -v '^#' | sort -u | wc -l || true)
[ "${cores:-0}" -ge 1 ] || cores=$(nproc)
if [ -n "${BENCH_THREADS:-}" ]; then THREADS=$BENCH_THREADS
elif [ "$cores" -gt 1 ]; then THREADS="1 $cores"
else THREADS=1; fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STAT_START=$(head -n 1 /proc/stat) # CPU time split, for the steal share of a virtual machine
say "seam bench: $cores physical cores, threads: $THREADS, load average $LOAD_START"

# ------------------------------------------------------------------ seam and the bench tools

# A machine without libcurl/libmicrohttpd headers (the device) builds with NET=0: every
# command the bench uses (quantize, generate) is local.
NET=1
pkg-config --exists libcurl libmicrohttpd 2>/dev/null || NET=0
if [ ! -f "$BUILD/libseam.a" ] || [ ! -x "$BUILD/seam" ]; then
    say "building seam ($BUILD, NET=$NET)"
    make --no-print-directory BUILD="$BUILD" NET="$NET" all >/dev/null
fi
CFLAGS_B=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Wshadow -Wvla -Wformat=2 -O2 -g -pthread)
LIBS=("$BUILD/libseam.a" -lm -lpthread)
# libseam.a carries the hub client; link libcurl when present in case the loader pulls it in.
if [ "$NET" = 1 ]; then LIBS=("$BUILD/libseam.a" -lcurl -lmicrohttpd -lm -lpthread); fi
say "building bench tools"
cc "${CFLAGS_B[@]}" -Iinclude -Isrc tools/make_random_gpt2.c "${LIBS[@]}" -o "$BIN/make_random_gpt2"
if ! cc "${CFLAGS_B[@]}" -Iinclude -Isrc bench/seam_bench.c "${LIBS[@]}" -o "$BIN/seam_bench" 2>"$RAW/build-seam_bench.log"; then
    # The encoder API may be mid-change in the tree: the decoder figures still count.
    cc "${CFLAGS_B[@]}" -DSEAM_BENCH_NO_ENCODER -Iinclude -Isrc bench/seam_bench.c "${LIBS[@]}" -o "$BIN/seam_bench"
    note "seam_bench built without the encoder mode: $(grep -m1 -i error "$RAW/build-seam_bench.log" || true)"
fi
bench/build_roofline.sh "$BIN" "${CFLAGS_B[@]}"
GIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || GIT="$GIT + uncommitted changes"
# A copy of the tree without its history (the device machine) names its revision itself.
[ -n "${BENCH_SEAM_REV:-}" ] && GIT=$BENCH_SEAM_REV

# ------------------------------------------------------------------ peers

HAVE_TORCH=0 HAVE_NODE=0
if "$PY" -c 'import torch' 2>/dev/null; then
    HAVE_TORCH=1
elif [ -z "${BENCH_NO_INSTALL:-}" ]; then
    say "installing python3-torch (Debian)"
    if { apt-get install -y -qq python3-torch || { apt-get update -qq && apt-get install -y -qq python3-torch; }; } \
        >"$RAW/apt-torch.log" 2>&1 && "$PY" -c 'import torch' 2>/dev/null; then
        HAVE_TORCH=1
    fi
fi
TORCH_ENV=() # assignments for `env` in front of every torch command
TORCH_BLAS_INFO=$("$PY" -c 'import re, torch; m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show()); print(m.group(1) if m else "?")' 2>/dev/null || echo "?")
if [ "$HAVE_TORCH" = 1 ] && [ "$TORCH_BLAS_INFO" != generic ]; then
    # A torch that brings its own BLAS (MKL in pip wheels) needs nothing more.
    peer "PyTorch eager" "$("$PY" -c 'import torch; print(torch.__version__)') ($PY), BLAS: $TORCH_BLAS_INFO (bundled); torch.set_num_threads = threads, one inter-op thread"
elif [ "$HAVE_TORCH" = 1 ]; then
    # Debian's torch links the system libblas.so.3, by default the netlib reference BLAS
    # (about 25x slower for these matmuls). Comparing against that would flatter seam, so the
    # torch peer gets Debian's OpenBLAS, unpacked privately here rather than installed, which
    # would switch the BLAS of every program on the machine.
    MA=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
    OB=$WORK/openblas/usr/lib/$MA/openblas-pthread
    if [ ! -e "$OB/libblas.so.3" ] && [ -z "${BENCH_NO_INSTALL:-}" ]; then
        say "fetching Debian's libopenblas0-pthread for the PyTorch peer"
        rm -rf "$WORK/debs" && mkdir -p "$WORK/debs"
        if (cd "$WORK/debs" && apt-get download libopenblas0-pthread) >"$RAW/apt-openblas.log" 2>&1; then
            dpkg-deb -x "$WORK"/debs/libopenblas0-pthread_*.deb "$WORK/openblas" || true
        fi
    fi
    if [ -e "$OB/libblas.so.3" ]; then
        TORCH_ENV=("LD_LIBRARY_PATH=$PWD/$OB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
        TORCH_BLAS="OpenBLAS $(dpkg-deb -f "$WORK"/debs/libopenblas0-pthread_*.deb Version 2>/dev/null || echo '?') (Debian libopenblas0-pthread, private copy)"
    else
        TORCH_BLAS="the system libblas.so.3 ($(readlink -f /usr/lib/"$MA"/libblas.so.3 2>/dev/null || echo unknown))"
        note "PyTorch runs on the system BLAS (OpenBLAS could not be fetched): its matmuls may be far slower than a tuned build"
    fi
    peer "PyTorch eager" "$("$PY" -c 'import torch; print(torch.__version__)') (Debian python3-torch), BLAS: $TORCH_BLAS; torch.set_num_threads = threads, one inter-op thread"
else
    peer "PyTorch eager" "not available (python3-torch could not be imported or installed; see bench/work/raw/apt-torch.log)"
fi

NPM_PLATFORM=""
case "$(uname -m)" in
x86_64) NPM_PLATFORM="@node-llama-cpp/linux-x64@3.22.1" ;;
aarch64) NPM_PLATFORM="@node-llama-cpp/linux-arm64@3.22.1" ;;
esac
if command -v node >/dev/null; then
    HAVE_NODE=1
    have_pkgs() {
        node -e 'const p=require("./bench/node_modules/node-llama-cpp/package.json"), o=require("./bench/node_modules/onnxruntime-node/package.json");
                 process.exit(p.version==="3.22.1" && o.version==="1.30.0" ? 0 : 1)' 2>/dev/null
    }
    if ! have_pkgs && [ -z "${BENCH_NO_INSTALL:-}" ] && command -v npm >/dev/null; then
        say "installing onnxruntime-node and node-llama-cpp into bench/node_modules"
        # --ignore-scripts: onnxruntime-node's script fetches GPU binaries from a host this
        # network may not reach (the CPU ones ship in the package); --omit=optional keeps
        # node-llama-cpp's CUDA/Vulkan builds (~600 MB) out, the CPU one is named explicitly.
        # shellcheck disable=SC2086
        npm install --prefix bench --no-save --no-package-lock --omit=optional --ignore-scripts --no-audit --no-fund \
            onnxruntime-node@1.30.0 node-llama-cpp@3.22.1 $NPM_PLATFORM >"$RAW/npm.log" 2>&1 ||
            note "npm install failed: $(tail -n 1 "$RAW/npm.log")"
    fi
fi
HAVE_ORT=0 HAVE_LLAMA=0
if [ "$HAVE_NODE" = 1 ] && node -e 'require("./bench/node_modules/onnxruntime-node")' 2>/dev/null; then
    HAVE_ORT=1
    peer "ONNX Runtime" "onnxruntime-node 1.30.0 (CPU execution provider, node $(node --version)); intraOpNumThreads = threads, one inter-op thread, graph optimisation 'all'"
else
    peer "ONNX Runtime" "not available (onnxruntime-node could not be installed or loaded)"
fi
if [ "$HAVE_NODE" = 1 ] && [ -f bench/node_modules/node-llama-cpp/package.json ]; then
    HAVE_LLAMA=1
    LLAMA_REL=$(node -p 'try{require("./bench/node_modules/node-llama-cpp/llama/binariesGithubRelease.json").release}catch(e){"?"}' 2>/dev/null || echo "?")
    peer "llama.cpp" "node-llama-cpp 3.22.1, prebuilt CPU binaries (llama.cpp $LLAMA_REL, CPU variant chosen at load), GGUF from bench/peers/write_gguf.py; F16 KV cache and flash attention 'auto' (its defaults); context threads = threads"
else
    peer "llama.cpp" "not available (node-llama-cpp could not be installed)"
fi

# ------------------------------------------------------------------ models

G32=$WORK/gpt2-small-f32 G16=$WORK/gpt2-small-f16 BERT=$WORK/minilm-random
if ! fresh "$WORK/gpt2.stamp" tools/make_random_gpt2.c "$FIX/gpt2-tiny/tokenizer.json"; then
    say "writing the random GPT-2-small checkpoints (f32, f16)"
    "$BIN/make_random_gpt2" "$G32" --dtype F32 --seed 1234 >/dev/null
    "$BIN/make_random_gpt2" "$G16" --dtype F16 --seed 1234 >/dev/null
    rm -f "$WORK"/*.onnx "$WORK"/*.gguf "$WORK"/*.stamp
    stamp "$WORK/gpt2.stamp" tools/make_random_gpt2.c "$FIX/gpt2-tiny/tokenizer.json"
fi
# The real GPT-2 tokenizer, for the tokenizer figure (the weights do not depend on it).
install -m 644 "$FIX/gpt2-tiny/tokenizer.json" "$G32/tokenizer.json"
install -m 644 "$FIX/gpt2-tiny/tokenizer.json" "$G16/tokenizer.json"

SEAM_Q=""
if "$BUILD/seam" quantize --help >/dev/null 2>&1; then
    for q in q8 q4; do
        say "seam quantize --type $q"
        if "$BUILD/seam" quantize -m "$G32" -o "$WORK/gpt2-small-$q" --type "$q" >"$RAW/quantize-$q.log" 2>&1; then
            SEAM_Q="$SEAM_Q $q"
        else
            note "seam quantize --type $q failed: $(tail -n 1 "$RAW/quantize-$q.log")"
        fi
    done
else
    note "'$BUILD/seam quantize --help' did not run ($("$BUILD/seam" quantize --help 2>&1 | head -n 1)): no seam q8/q4 columns"
fi

CORPUS=$WORK/corpus.txt
LICENSES=(GPL-3 Apache-2.0 GFDL-1.3 LGPL-2.1 MPL-2.0 Artistic)
if (cd /usr/share/common-licenses && cat "${LICENSES[@]}") >"$CORPUS.one" 2>/dev/null; then
    CORPUS_DESC="Debian's /usr/share/common-licenses (${LICENSES[*]}) concatenated, 8 times over"
else
    "$PY" -c 'import json,sys; [print(json.loads(l)["text"]) for l in open(sys.argv[1])]' \
        "$FIX/tokenizer-golden/gpt2-shared.jsonl" >"$CORPUS.one"
    CORPUS_DESC="the texts of tokenizer-golden/gpt2-shared.jsonl, 8 times over"
fi
for _ in 1 2 3 4 5 6 7 8; do cat "$CORPUS.one"; done >"$CORPUS"
rm -f "$CORPUS.one"

if [ "$HAVE_TORCH" = 1 ] && [ "$HAVE_ORT" = 1 ] && ! fresh "$WORK/onnx.stamp" "$WORK/gpt2.stamp" bench/peers/export_onnx.py bench/peers/torch_gpt2.py; then
    say "exporting GPT-2 to ONNX (torch.onnx, KV cache in and out)"
    if env "${TORCH_ENV[@]}" "$PY" bench/peers/export_onnx.py gpt2 "$G32" "$WORK/gpt2-small-f32.onnx" >"$RAW/export-gpt2.log" 2>&1; then
        stamp "$WORK/onnx.stamp" "$WORK/gpt2.stamp" bench/peers/export_onnx.py bench/peers/torch_gpt2.py
    else
        note "ONNX export of GPT-2 failed: $(tail -n 1 "$RAW/export-gpt2.log")"
    fi
fi

GGUF_TYPES=""
if [ "$HAVE_LLAMA" = 1 ] && "$PY" -c 'import numpy' 2>/dev/null; then
    for q in f32 f16 q8_0 q4_0; do
        f=$WORK/gpt2-small-$q.gguf
        if ! fresh "$WORK/gguf-$q.stamp" "$WORK/gpt2.stamp" bench/peers/write_gguf.py; then
            say "writing GGUF $q"
            if ! "$PY" bench/peers/write_gguf.py "$G32" "$FIX/gpt2-tiny/tokenizer.json" "$f" --type "$q" >"$RAW/gguf-$q.log" 2>&1; then
                note "GGUF $q could not be written: $(tail -n 1 "$RAW/gguf-$q.log")"
                continue
            fi
            stamp "$WORK/gguf-$q.stamp" "$WORK/gpt2.stamp" bench/peers/write_gguf.py
            rm -f "$WORK/gguf-verify-$q.json"
        fi
        GGUF_TYPES="$GGUF_TYPES $q"
        # Proof that llama.cpp reads the conversion as intended: its logits against a torch
        # forward on the weights dequantised back from the file (once per written file).
        if [ ! -s "$WORK/gguf-verify-$q.json" ] && [ "$HAVE_TORCH" = 1 ]; then
            say "checking GGUF $q against llama.cpp"
            if node bench/peers/llama_bench.mjs "$f" --dump-logits "$WORK/llama-$q.logits" >/dev/null 2>"$RAW/gguf-verify-$q.log" &&
                env "${TORCH_ENV[@]}" "$PY" bench/peers/write_gguf.py --verify "$f" "$G32" "$WORK/llama-$q.logits" \
                    >"$WORK/gguf-verify-$q.json" 2>>"$RAW/gguf-verify-$q.log"; then
                say "GGUF $q: $(cat "$WORK/gguf-verify-$q.json")"
            else
                note "GGUF $q: llama.cpp check did not pass ($(tail -n 1 "$RAW/gguf-verify-$q.log" 2>/dev/null))"
            fi
        fi
        [ -s "$WORK/gguf-verify-$q.json" ] && cp "$WORK/gguf-verify-$q.json" "$RAW/"
    done
elif [ "$HAVE_LLAMA" = 1 ]; then
    note "numpy is missing: no GGUF could be written for llama.cpp"
fi

BERT_OK=0
if ! fresh "$WORK/bert.stamp" bench/make_random_bert.py "$FIX/tok/bert-base-uncased/tokenizer.json"; then
    say "writing the random all-MiniLM-L6-v2-shaped encoder"
    rm -f "$WORK/minilm-random.onnx" "$WORK/bert-onnx.stamp"
    if "$PY" bench/make_random_bert.py "$BERT" "$FIX/tok/bert-base-uncased" >"$RAW/bert-gen.log" 2>&1; then
        stamp "$WORK/bert.stamp" bench/make_random_bert.py "$FIX/tok/bert-base-uncased/tokenizer.json"
    else
        note "the random BERT model could not be written: $(tail -n 1 "$RAW/bert-gen.log")"
    fi
fi
[ -f "$WORK/bert.stamp" ] && BERT_OK=1
if [ "$BERT_OK" = 1 ] && [ "$HAVE_TORCH" = 1 ] && [ "$HAVE_ORT" = 1 ] &&
    ! fresh "$WORK/bert-onnx.stamp" "$WORK/bert.stamp" bench/peers/export_onnx.py bench/peers/torch_bert.py; then
    say "exporting the encoder to ONNX"
    if env "${TORCH_ENV[@]}" "$PY" bench/peers/export_onnx.py bert "$BERT" "$WORK/minilm-random.onnx" >"$RAW/export-bert.log" 2>&1; then
        stamp "$WORK/bert-onnx.stamp" "$WORK/bert.stamp" bench/peers/export_onnx.py bench/peers/torch_bert.py
    else
        note "ONNX export of the encoder failed: $(tail -n 1 "$RAW/export-bert.log")"
    fi
fi

# ------------------------------------------------------------------ measurements

run_step roofline "$BIN/roofline" --threads "${THREADS##* }"

[ "$HAVE_TORCH" = 1 ] || { skip torch-f32 "PyTorch not available"; skip torch-ops "PyTorch not available"; skip torch-bert "PyTorch not available"; }
[ -f "$WORK/gpt2-small-f32.onnx" ] || skip ort-f32 "no ONNX model (ONNX Runtime or PyTorch missing, or the export failed)"
[ -f "$WORK/minilm-random.onnx" ] || skip ort-bert "no ONNX model (ONNX Runtime or PyTorch missing, or the export failed)"
for q in f32 f16 q8_0 q4_0; do
    case " $GGUF_TYPES " in *" $q "*) ;; *) skip "llama-$q" "llama.cpp or its GGUF not available" ;; esac
done
for q in q8 q4; do
    case " $SEAM_Q " in *" $q "*) ;; *) skip "seam-$q" "no seam $q model ('seam quantize' unavailable or failed, see the notes)" ;; esac
done
"$BIN/seam_bench" encoder -m /nonexistent 2>&1 | grep -q 'built without' && skip seam-bert "seam_bench built without seam_encoder.h"
[ "$BERT_OK" = 1 ] || { skip seam-bert "no encoder model"; skip torch-bert "no encoder model"; }

for t in $THREADS; do
    say "=== $t thread(s) ==="
    TOK=()
    [ "$t" = 1 ] && TOK=(--tok-file "$CORPUS") # the tokenizer figure is one core's
    G=(-t "$t" --reps "$REPS" --decode-steps "$STEPS")
    run_step "seam-f32-t$t" "$BIN/seam_bench" gpt2 -m "$G32" "${G[@]}" "${TOK[@]}"
    run_step "seam-f16-t$t" "$BIN/seam_bench" gpt2 -m "$G16" "${G[@]}"
    for q in $SEAM_Q; do run_step "seam-$q-t$t" "$BIN/seam_bench" gpt2 -m "$WORK/gpt2-small-$q" "${G[@]}"; done
    if [ "$HAVE_TORCH" = 1 ]; then
        run_step "torch-f32-t$t" env "${TORCH_ENV[@]}" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
            "$PY" bench/peers/torch_gpt2.py gpt2 -m "$G32" "${G[@]}"
    fi
    if [ -f "$WORK/gpt2-small-f32.onnx" ]; then
        run_step "ort-f32-t$t" node bench/peers/ort_gpt2.mjs gpt2 "$WORK/gpt2-small-f32.onnx" "$G32/config.json" "${G[@]}"
    fi
    for q in $GGUF_TYPES; do
        LT=()
        [ "$q" = f32 ] && LT=("${TOK[@]}")
        run_step "llama-$q-t$t" node bench/peers/llama_bench.mjs "$WORK/gpt2-small-$q.gguf" "${G[@]}" "${LT[@]}"
    done
    run_step "seam-ops-t$t" "$BIN/seam_bench" ops -m "$G32" -t "$t"
    if [ "$HAVE_TORCH" = 1 ]; then
        run_step "torch-ops-t$t" env "${TORCH_ENV[@]}" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
            "$PY" bench/peers/torch_gpt2.py ops -m "$G32" -t "$t"
    fi
    if [ "$BERT_OK" = 1 ]; then
        [ -f "$RAW/seam-bert-t$t.skip" ] || run_step "seam-bert-t$t" "$BIN/seam_bench" encoder -m "$BERT" -t "$t"
        if [ -f "$WORK/minilm-random.onnx" ]; then
            run_step "ort-bert-t$t" node bench/peers/ort_gpt2.mjs bert "$WORK/minilm-random.onnx" "$BERT/config.json" -t "$t"
        fi
        if [ "$HAVE_TORCH" = 1 ]; then
            run_step "torch-bert-t$t" env "${TORCH_ENV[@]}" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
                "$PY" bench/peers/torch_bert.py "$BERT" -t "$t"
        fi
    fi
done

# --- browser section (issue 6): bench/web_bench.sh, rendered by bench/report_web.py ---
if [ -z "${BENCH_NO_WEB:-}" ]; then
    say "browser section (bench/web_bench.sh)"
    BUILD="$BUILD" BENCH_PYTHON="$PY" bash bench/web_bench.sh "$RAW" || note "bench/web_bench.sh failed (exit $?)"
fi
# --- end browser section ---

# ---- split inference (issue 5): bench/split_bench.sh writes $RAW/split.json, bench/report_split.py renders it
run_step split env BUILD="$BUILD" WORK="$WORK" SEAM_FIXTURES="$FIX" BENCH_PYTHON="$PY" bash bench/split_bench.sh
# ---- end split inference

# ------------------------------------------------------------------ report

ELAPSED=$(($(date +%s) - START))
HOST=$(hostname -s 2>/dev/null || hostname)
DAY=$(date +%Y-%m-%d)
ISA_NAME=$("$PY" -c 'import glob, json, sys; print(json.load(open(sorted(glob.glob(sys.argv[1]))[0])).get("isa", "?"))' \
    "$RAW/seam-f32-t*.json" 2>/dev/null || echo "?")
HOST="$HOST" DAY="$DAY" CORES="$cores" THREADS="$THREADS" GIT="$GIT" ELAPSED="$ELAPSED" LOAD_START="$LOAD_START" \
    LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)" STAT_START="$STAT_START" STAT_END="$(head -n 1 /proc/stat)" REPS="$REPS" STEPS="$STEPS" CORPUS="$CORPUS" CORPUS_DESC="$CORPUS_DESC" \
    SEAM_ISA_NAME="$ISA_NAME" RAW="$RAW" "$PY" - <<'EOF'
import json, os, platform
e = os.environ
def lines(name):
    p = os.path.join(e["RAW"], name)
    return [l.rstrip("\n") for l in open(p)] if os.path.exists(p) else []
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
# /proc/stat cpu line: user nice system idle iowait irq softirq steal ...; steal is time the
# hypervisor gave this VM's vCPUs to someone else, busy is everything but idle and iowait.
a = [int(x) for x in e["STAT_START"].split()[1:9]]
b = [int(x) for x in e["STAT_END"].split()[1:9]]
d = [y - x for x, y in zip(a, b)]
total = sum(d) or 1
meta_cpu = {"steal_pct": round(100 * d[7] / total, 2), "busy_pct": round(100 * (total - d[3] - d[4]) / total, 1)}
meta = {"host": e["HOST"], "cpu_time": meta_cpu, "date": e["DAY"], "cpu": cpu, "physical_cores": int(e["CORES"]),
        "threads": [int(t) for t in e["THREADS"].split()], "memory": f"{int(mem) / 1048576:.1f} GiB",
        "kernel": platform.release(), "git_commit": e["GIT"], "seam_isa": e["SEAM_ISA_NAME"],
        "loadavg_start": e["LOAD_START"], "loadavg_end": e["LOAD_END"],
        "elapsed": f"{int(e['ELAPSED']) // 60} min {int(e['ELAPSED']) % 60} s",
        "reps_note": f"prefill and time to first token: median of {e['REPS']} runs (T=512: {min(2, int(e['REPS']))}); "
                     f"decode: median of {e['STEPS']} steps; encoder: runs sized to ~2 s, 3 to 1000; per-layer ops: "
                     "median of 7 batches of ~50 ms",
        "corpus": {"file": e["CORPUS"], "bytes": os.path.getsize(e["CORPUS"]), "desc": e["CORPUS_DESC"]},
        "peers": dict(l.split("\t", 1) for l in lines("peers.txt")), "notes": lines("notes.txt"),
        "gpt2": {"n_layer": 12, "n_embd": 768, "vocab": 50257, "n_positions": 1024}}
json.dump(meta, open(os.path.join(e["RAW"], "meta.json"), "w"), indent=1)
EOF
OUTBASE=bench/results/$HOST-$DAY
"$PY" bench/report.py "$RAW" "$OUTBASE" >/dev/null
say "done in $((ELAPSED / 60)) min $((ELAPSED % 60)) s: $OUTBASE.md and $OUTBASE.json"
grep -A200 '^## Targets' "$OUTBASE.md" | sed -n '1,/^## Notes/p' | grep -v '^## Notes' || true
