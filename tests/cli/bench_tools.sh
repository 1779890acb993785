#!/usr/bin/env bash
# make bench is not run in CI (it takes an hour and needs the peers), so its parts are kept
# from rotting here: the C programs compile warning-free against this build's library (and
# the browser's relaxed-SIMD probe for wasm32), and
# the report scripts render a small synthetic run, including the machine-limit notes on
# missed targets.
set -euo pipefail
S=${SEAM_BIN:?}
B=$(dirname "$S")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SAN=()
case "$B" in *-san) SAN=(-fsanitize=address,undefined) ;; esac
CF=(-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -O1
    -pthread -Iinclude -Isrc "${SAN[@]}")
LIBS=("$B/libseam.a" -lm -lpthread)
pkg-config --exists libcurl && LIBS+=(-lcurl)
pkg-config --exists libmicrohttpd && LIBS+=(-lmicrohttpd)
for src in bench/seam_bench.c bench/web/native_gen.c tools/make_random_gpt2.c; do
    cc "${CF[@]}" "$src" "${LIBS[@]}" -o "$T/$(basename "$src" .c)"
done
bench/build_roofline.sh "$T" "${CF[@]}"
# the gemm mode needs no model: one repetition of every product, JSON with this CPU's tables
"$T/seam_bench" gemm --reps 1 2>/dev/null | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["mode"] == "gemm" and all(len(v) == 12 for v in d["us"].values()), d'
# the browser's relaxed byte-dot probe, as bench/web_bench.sh builds it (make deps installs clang-19)
clang-19 --target=wasm32 -O3 -ffreestanding -msimd128 -mrelaxed-simd -Wall -Wextra -Werror \
    -c bench/web/roofline_relaxed.c -o "$T/roofline_relaxed.o"

# A run where seam misses its encoder and browser targets: the notes must say what the
# target would take of the measured peaks.
R=$T/raw
mkdir -p "$R"
cat >"$R/meta.json" <<'EOF'
{"host": "ci", "date": "2026-01-01", "threads": [1]}
EOF
cat >"$R/roofline.json" <<'EOF'
{"threads": 1, "array_bytes": 268435456, "bandwidth_gbs": {"triad_1t": 10, "triad": 10, "read_1t": 12, "read": 12},
 "fma_gflops": {"isa": "avx2", "peak_1t": 100, "peak": 100}}
EOF
cat >"$R/seam-bert-t1.json" <<'EOF'
{"engine": "seam", "threads": 1, "weight_bytes": 90852864,
 "sentences_s": {"b1_short": 300, "b1_long": 30, "b32_short": 400, "b32_long": 30},
 "lengths": {"short": 12, "long": 128}, "shape": {"n_layer": 6, "hidden": 384, "intermediate": 1536}}
EOF
cat >"$R/ort-bert-t1.json" <<'EOF'
{"engine": "onnxruntime", "threads": 1, "sentences_s": {"b1_short": 350, "b1_long": 35, "b32_short": 400, "b32_long": 32}}
EOF
cat >"$R/web-meta.json" <<'EOF'
{"prompt_tokens": 128, "new_tokens": 32, "reps": 2, "threads": [1],
 "model_config": {"n_layer": 12, "n_embd": 768, "vocab_size": 50257}}
EOF
cat >"$R/web-browser.json" <<'EOF'
{"roofline": {"int16_dot_gmacs": 40, "f32_mul_add_gflops": 46},
 "results": [{"engine": "seam-wasm", "label": "seam-wasm-q8-t1", "requested_dtype": "q8", "threads": 1,
              "prefill_tok_s": 250, "decode_tok_s": 60, "first_token": 5, "runs": [{"ids": [5]}]},
             {"engine": "transformers.js", "label": "tjs-q8-t1", "requested_dtype": "q8", "threads": 1,
              "prefill_tok_s": 300, "decode_tok_s": 25, "first_token": 5, "runs": [{"ids": [5]}]}],
 "errors": []}
EOF
python3 bench/report.py "$R" "$T/report" >/dev/null
grep -q "encoder b1_short ≥ 2.0× ONNX Runtime | 1 | 0.86× | MISS (needs .* of the FMA peak and .* GB/s of weight reads" "$T/report.md"
grep -q "encoder b32_long ≥ 1.5× ONNX Runtime | 1 | 0.94× | MISS (needs .* of the FMA peak)" "$T/report.md"
grep -q "^| int16 dot + add | 40.0 GMAC/s |" "$T/report.md"
# 2 × 300 tok/s × 86.4 M multiply-adds per token = 52 GMAC/s, 130% of 40
grep -q "seam wasm q8 ≥ 2× transformers.js q8 | 1 | prefill | 0.83× | MISS (needs 130% of the int16 dot + add peak)" "$T/report.md"
# The same seam row on relaxed SIMD's byte dot is read against that peak: 52 GMAC/s of 100.
R2=$T/raw-relaxed
cp -r "$R" "$R2"
sed -i -e 's/"f32_mul_add_gflops": 46}/"f32_mul_add_gflops": 46, "i8_relaxed_dot_gmacs": 100}/' \
    -e 's/"engine": "seam-wasm", /"engine": "seam-wasm", "relaxed_simd": true, /' "$R2/web-browser.json"
python3 bench/report.py "$R2" "$T/report-relaxed" >/dev/null
grep -q "^| relaxed byte dot | 100 GMAC/s |" "$T/report-relaxed.md"
grep -q "seam wasm q8 ≥ 2× transformers.js q8 | 1 | prefill | 0.83× | MISS (needs 52% of the relaxed byte dot peak)" "$T/report-relaxed.md"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["browser"]["targets"]' "$T/report.json"
# browser_bench.mjs's rounds: targets are medians of per-round ratios (not ratios of the best
# runs: here seam's best 600 over transformers.js's best 330 would pass), and seam native comes
# from the same rounds, under "native".
R3=$T/raw-rounds
mkdir -p "$R3"
cp "$R/web-meta.json" "$R3/"
cat >"$R3/web-browser.json" <<'EOF'
{"roofline": {"int16_dot_gmacs": 40, "f32_mul_add_gflops": 46, "i8_relaxed_dot_gmacs": 100},
 "results": [{"engine": "seam-wasm", "relaxed_simd": true, "label": "seam-wasm-q8-t1", "requested_dtype": "q8", "threads": 1,
              "prefill_tok_s": 600, "decode_tok_s": 100, "first_token": 5,
              "runs": [{"round": 0, "ids": [5], "prefill_tok_s": 600, "decode_tok_s": 100},
                       {"round": 1, "ids": [5], "prefill_tok_s": 450, "decode_tok_s": 90},
                       {"round": 2, "ids": [5], "prefill_tok_s": 360, "decode_tok_s": 80}]},
             {"engine": "transformers.js", "label": "tjs-q8-t1", "requested_dtype": "q8", "threads": 1,
              "prefill_tok_s": 330, "decode_tok_s": 20, "first_token": 5,
              "runs": [{"round": 0, "ids": [5], "prefill_tok_s": 330, "decode_tok_s": 20},
                       {"round": 1, "ids": [5], "prefill_tok_s": 300, "decode_tok_s": 20},
                       {"round": 2, "ids": [5], "prefill_tok_s": 200, "decode_tok_s": 20}]}],
 "native": {"q8": {"engine": "seam-native", "threads": 1, "prefill_tok_s": 500, "decode_tok_s": 150, "first_token": 5, "ids": [5],
                   "runs": [{"round": 0, "prefill_tok_s": 500, "decode_tok_s": 150}, {"round": 1, "prefill_tok_s": 450, "decode_tok_s": 150},
                            {"round": 2, "prefill_tok_s": 400, "decode_tok_s": 150}]}},
 "errors": []}
EOF
python3 bench/report_web.py "$R3" "$T/rounds" >/dev/null
# per-round ratios 1.82, 1.50, 1.80: median 1.80
grep -q "^| seam wasm q8 ≥ 2× transformers.js q8 | 1 | prefill | 1.80× (1.50×–1.82×, 3 rounds) | MISS" "$T/rounds.md"
grep -q "^| seam native | q8 | 1 | 450 (500) |" "$T/rounds.md"
grep -q "^| seam wasm q8, 1 thread ≥ 50% of native q8, 1 thread | 1 | prefill | 100% (90%–120%, 3 rounds) | PASS" "$T/rounds.md"

# encoder_pairs.sh's report: medians of per-round ratios, a PASS and a MISS.
P=$T/pairs
mkdir -p "$P"
for r in 1 2 3; do
    echo '{"isa": "amx", "precision": "high", "sentences_s": {"b1_short": '$((400 + r))', "b1_long": 80, "b32_short": 900, "b32_long": 60}}' >"$P/seam-high-t1-r$r.json"
    echo '{"isa": "avx512", "precision": "highest", "sentences_s": {"b1_short": 300, "b1_long": 40, "b32_short": 450, "b32_long": 40}}' >"$P/seam-highest-t1-r$r.json"
    echo '{"sentences_s": {"b1_short": 300, "b1_long": 40, "b32_short": 450, "b32_long": '$((35 + r))'}}' >"$P/ort-t1-r$r.json"
done
python3 bench/report_pairs.py "$P" "$T/pairs-out" >/dev/null
grep -q "^| batch 1 × 12 tokens | 402.0 | 300.0 | 300.0 | 1.34× (1.34, 1.34, 1.34) | 1.00× | ≥ 2.0× | MISS |" "$T/pairs-out.md"
grep -q "^| batch 32 × 128 tokens | 60.0 | 37.0 | 40.0 | 1.62× .* | PASS |" "$T/pairs-out.md"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["threads"]["1"]["b32_short"]["pass"]' "$T/pairs-out.json"
echo "bench tools: ok"
