#!/usr/bin/env bash
# make bench's browser section (issue 6, "Figures"): in one headless Chromium run, prefill and
# decode tok/s of the random GPT-2-small for seam's WebAssembly build (q8 and f32, 1 and 2
# threads) and transformers.js (onnxruntime-web, q8 and fp32, numThreads 1 and 2) on an ONNX
# export of the same weights, plus seam native (1 thread, bench/web/native_gen.c) with the same
# prompt ids and token count, and SIMD128's arithmetic peaks in the same browser
# (bench/web/roofline_wasm.c). Engines take turns in BENCH_WEB_REPS rounds (default 5; see
# browser_bench.mjs), and the report reads medians of per-round ratios.
# Results go to RAW_DIR/web-*.json; bench/report_web.py renders them (report.py calls it; run
# standalone, this script renders RAW_DIR/web.md itself).
#
#   bench/web_bench.sh [RAW_DIR]      (default bench/work/raw-web)
#
# Degrades like run.sh: a missing npm, chromium, emcc or torch is a note in RAW_DIR/web-notes.txt
# and whatever can still run, runs; the exit status is 0 unless the arguments are wrong.
#
# Environment (besides run.sh's BUILD, BENCH_PYTHON, BENCH_FRESH, BENCH_NO_INSTALL):
#   BENCH_WEB_THREADS="1 2"   thread counts in the browser
#   BENCH_WEB_PROMPT=128      prompt ids;  BENCH_WEB_TOKENS=32  greedy tokens;  BENCH_WEB_REPS=5 rounds
#   BENCH_WEB_TIMEOUT=900     seconds for the whole Chromium run
#   BENCH_WEB_DIR=build/web   seam's WebAssembly build (make wasm)
#   CHROMIUM=/usr/bin/chromium
set -uo pipefail

cd "$(dirname "$0")/.."
RAW=${1:-bench/work/raw-web}
BUILD=${BUILD:-build}
WORK=bench/work
BIN=$WORK/bin
FIX=${SEAM_FIXTURES:-../shared/fixtures}
PY=${BENCH_PYTHON:-/usr/bin/python3}
WEB_THREADS=${BENCH_WEB_THREADS:-1 2}
P=${BENCH_WEB_PROMPT:-128} N=${BENCH_WEB_TOKENS:-32} R=${BENCH_WEB_REPS:-5}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
TJS_VERSION=4.3.2 PW_VERSION=1.65.1
G32=$WORK/gpt2-small-f32 GQ8=$WORK/gpt2-small-q8 TJS=$WORK/tjs-gpt2-small
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW" "$BIN"
rm -f "$RAW"/web-*

say() { printf '[web %4ds] %s\n' "$(($(date +%s) - START))" "$*"; }
note() { printf '%s\n' "$*" >>"$RAW/web-notes.txt"; say "note: $*"; }
touch "$RAW/web-notes.txt"

# ------------------------------------------------------------------ seam, native and wasm

if [ ! -x "$BUILD/seam" ] || [ ! -f "$BUILD/libseam.a" ]; then
    say "building seam ($BUILD)"
    make --no-print-directory -j2 BUILD="$BUILD" all >"$RAW/web-build.log" 2>&1 || { note "seam did not build (see $RAW/web-build.log): no browser section"; exit 0; }
fi
LIBS=("$BUILD/libseam.a" -lm -lpthread)
pkg-config --exists libcurl 2>/dev/null && LIBS+=(-lcurl)
pkg-config --exists libmicrohttpd 2>/dev/null && LIBS+=(-lmicrohttpd)
if ! cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -O2 -pthread -Iinclude \
    bench/web/native_gen.c "${LIBS[@]}" -o "$BIN/native_gen" 2>"$RAW/web-native-build.log"; then
    note "bench/web/native_gen.c did not build: $(grep -m1 -i error "$RAW/web-native-build.log")"
fi

WEB=${BENCH_WEB_DIR:-build/web} # web/wasm.mk's WEB_OUT, whatever BUILD is
if [ ! -f "$WEB/seam.mjs" ] || [ ! -f "$WEB/seam-mt.wasm" ]; then
    if command -v emcc >/dev/null; then
        say "make wasm"
        make --no-print-directory -j2 wasm >"$RAW/web-wasm-build.log" 2>&1 || note "make wasm failed: $(tail -n 1 "$RAW/web-wasm-build.log")"
    else
        note "emcc is not installed (make deps installs emscripten): no seam WebAssembly columns"
    fi
fi

# The browser's arithmetic peaks (bench/web/roofline_wasm.c), a standalone module the page
# instantiates itself.
ROOF=$WORK/bin-wasm/roofline_wasm.wasm
if command -v emcc >/dev/null; then
    mkdir -p "$(dirname "$ROOF")"
    NODE_PATH=${NODE_PATH:-/usr/share/nodejs} emcc -O3 -msimd128 --no-entry -sSTANDALONE_WASM bench/web/roofline_wasm.c \
        -o "$ROOF" >"$RAW/web-roofline-build.log" 2>&1 || { note "bench/web/roofline_wasm.c did not build: $(tail -n 1 "$RAW/web-roofline-build.log")"; rm -f "$ROOF"; }
fi
# The relaxed byte dot's peak, beside it (page.mjs looks for it in the same folder).
ROOF_RX=$(dirname "$ROOF")/roofline_relaxed.wasm
rm -f "$ROOF_RX"
if command -v clang-19 >/dev/null && command -v wasm-ld-19 >/dev/null; then
    { clang-19 --target=wasm32 -O3 -ffreestanding -msimd128 -mrelaxed-simd -c bench/web/roofline_relaxed.c -o "$ROOF_RX.o" &&
        wasm-ld-19 --no-entry -o "$ROOF_RX" "$ROOF_RX.o"; } >"$RAW/web-roofline-relaxed-build.log" 2>&1 ||
        { note "bench/web/roofline_relaxed.c did not build: $(tail -n 1 "$RAW/web-roofline-relaxed-build.log")"; rm -f "$ROOF_RX"; }
    rm -f "$ROOF_RX.o"
else
    note "clang-19 / wasm-ld-19 missing (make deps installs them): no relaxed byte-dot peak"
fi

# ------------------------------------------------------------------ models

if [ ! -f "$G32/model.safetensors" ]; then
    say "writing the random GPT-2-small checkpoint (f32, seed 1234)"
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -pthread -Iinclude -Isrc tools/make_random_gpt2.c "${LIBS[@]}" \
        -o "$BIN/make_random_gpt2" && "$BIN/make_random_gpt2" "$G32" --dtype F32 --seed 1234 >/dev/null
    [ -f "$FIX/gpt2-tiny/tokenizer.json" ] && install -m 644 "$FIX/gpt2-tiny/tokenizer.json" "$G32/tokenizer.json"
fi
if [ -f "$G32/model.safetensors" ] && { [ ! -f "$GQ8/model.safetensors" ] || [ "$G32/model.safetensors" -nt "$GQ8/model.safetensors" ]; }; then
    say "seam quantize --type q8"
    "$BUILD/seam" quantize -m "$G32" -o "$GQ8" --type q8 >"$RAW/web-quantize.log" 2>&1 || note "seam quantize --type q8 failed: $(tail -n 1 "$RAW/web-quantize.log")"
fi

# The transformers.js folder: fp32 and q8 ONNX of the same weights (export_tjs.py, torch).
STAMP=$TJS/export.stamp
want_stamp=$(sha256sum "$G32/config.json" bench/web/export_tjs.py bench/peers/torch_gpt2.py 2>/dev/null | sha256sum; stat -c %Y "$G32/model.safetensors" 2>/dev/null)
if [ -n "${BENCH_FRESH:-}" ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want_stamp" ]; then
    if "$PY" -c 'import torch' 2>/dev/null; then
        say "exporting the transformers.js model (ONNX fp32 and q8, KV cache in and out)"
        rm -rf "$TJS"
        if "$PY" bench/web/export_tjs.py "$G32" "$TJS" >"$RAW/web-export.log" 2>&1 &&
            "$PY" bench/web/export_tjs.py "$G32" "$TJS" --q8 >>"$RAW/web-export.log" 2>&1; then
            printf '%s\n' "$want_stamp" >"$STAMP"
        else
            note "ONNX export for transformers.js failed: $(grep -v -i warn "$RAW/web-export.log" | tail -n 1)"
        fi
    else
        note "PyTorch ($PY) is not importable: no ONNX export, no transformers.js columns"
    fi
fi

# ------------------------------------------------------------------ the browser run

have_pkgs() {
    node -e 'const t=require("./bench/web/node_modules/@huggingface/transformers/package.json"), p=require("./bench/web/node_modules/playwright-core/package.json");
             process.exit(t.version===process.argv[1] && p.version===process.argv[2] ? 0 : 1)' "$TJS_VERSION" "$PW_VERSION" 2>/dev/null
}
if ! command -v node >/dev/null; then
    note "node is not installed: no browser section"
elif [ ! -x "$CHROMIUM" ]; then
    note "$CHROMIUM is missing (make deps installs Debian's chromium): no browser section"
elif [ ! -f "$WEB/seam.mjs" ] && [ ! -f "$TJS/onnx/model.onnx" ]; then
    note "neither seam's WebAssembly build nor the ONNX export is there: no browser section"
else
    if ! have_pkgs; then
        if [ -z "${BENCH_NO_INSTALL:-}" ] && command -v npm >/dev/null; then
            say "installing @huggingface/transformers $TJS_VERSION and playwright-core into bench/web/node_modules"
            # --ignore-scripts / --omit=optional: onnxruntime-node's GPU download and sharp's
            # native image library are not needed (the browser loads onnxruntime-web's .wasm).
            (cd bench/web && npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error) >"$RAW/web-npm.log" 2>&1 ||
                note "npm ci in bench/web failed: $(tail -n 1 "$RAW/web-npm.log")"
        else
            note "bench/web/node_modules lacks @huggingface/transformers $TJS_VERSION / playwright-core $PW_VERSION (npm unavailable or BENCH_NO_INSTALL)"
        fi
    fi
    if [ -f bench/web/node_modules/playwright-core/package.json ]; then
        SEAM_ARG="" TJS_ARG=""
        [ -f "$WEB/seam.mjs" ] && [ -f "$GQ8/model.safetensors" ] && SEAM_ARG="q8=$(basename "$GQ8")"
        [ -f "$WEB/seam.mjs" ] && [ -f "$G32/model.safetensors" ] && SEAM_ARG="${SEAM_ARG:+$SEAM_ARG,}f32=$(basename "$G32")"
        [ -f bench/web/node_modules/@huggingface/transformers/package.json ] || note "transformers.js is not installed: no transformers.js columns"
        if [ -f bench/web/node_modules/@huggingface/transformers/package.json ]; then
            [ -f "$TJS/onnx/model_quantized.onnx" ] && TJS_ARG="q8"
            [ -f "$TJS/onnx/model.onnx" ] && TJS_ARG="${TJS_ARG:+$TJS_ARG,}fp32"
        fi
        ROOF_ARG="" NATIVE_ARG=""
        [ -x "$BIN/native_gen" ] && NATIVE_ARG="--native $BIN/native_gen"
        [ -f "$ROOF" ] && ROOF_ARG="--roof $ROOF"
        say "headless Chromium: seam [${SEAM_ARG:-none}] transformers.js [${TJS_ARG:-none}], threads $WEB_THREADS"
        timeout "${BENCH_WEB_TIMEOUT:-900}" node bench/web/browser_bench.mjs --web "$WEB" --work "$WORK" \
            --seam "$SEAM_ARG" --tjs "$(basename "$TJS")" --tjs-dtypes "$TJS_ARG" --threads "$(echo $WEB_THREADS | tr ' ' ,)" \
            --prompt "$P" --tokens "$N" --reps "$R" ${ROOF_ARG:-} ${NATIVE_ARG:-} >"$RAW/web-browser.out" 2> >(tee "$RAW/web-browser.log" >&2)
        rc=$?
        sleep 0.2
        if [ $rc -eq 0 ] && "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$RAW/web-browser.out" 2>/dev/null; then
            mv "$RAW/web-browser.out" "$RAW/web-browser.json"
        else
            note "the Chromium run failed (exit $rc): $(grep -v '^\s*$' "$RAW/web-browser.log" | tail -n 1)"
        fi
    else
        note "playwright-core is not installed in bench/web: no browser section"
    fi
fi

# Versions and settings for the report.
"$PY" - "$RAW/web-meta.json" "$P" "$N" "$R" "$WEB_THREADS" "$CHROMIUM" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$G32/config.json" <<'EOF'
import json, os, subprocess, sys
out, P, N, R, threads, chromium, load0, load1, config = sys.argv[1:10]
def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
    except Exception:
        return None
try:  # the shape, for the report's multiply-adds per token
    cfg = {k: v for k, v in json.load(open(config)).items() if k in ("n_layer", "n_embd", "n_inner", "vocab_size")}
except (OSError, ValueError):
    cfg = None
def pkg(p):
    try:
        return json.load(open(os.path.join("bench/web/node_modules", p, "package.json")))["version"]
    except Exception:
        return None
json.dump({"prompt_tokens": int(P), "new_tokens": int(N), "reps": int(R), "threads": [int(t) for t in threads.split()],
           "chromium": ver([chromium, "--version"]), "node": ver(["node", "--version"]), "emcc": ver(["emcc", "--version"]),
           "transformers_js": pkg("@huggingface/transformers"), "onnxruntime_web": pkg("onnxruntime-web"),
           "playwright_core": pkg("playwright-core"), "loadavg_start": load0, "loadavg_end": load1,
           "nproc": os.cpu_count(), "model_config": cfg}, open(out, "w"), indent=1)
EOF

if [ "${1:-}" = "" ] || [ -n "${BENCH_WEB_RENDER:-}" ]; then
    "$PY" bench/report_web.py "$RAW" "$RAW/web" && say "wrote $RAW/web.md and $RAW/web.json"
fi
say "browser section done in $(($(date +%s) - START)) s"
exit 0
