#!/usr/bin/env bash
# Paired encoder rounds: seam at matmul precision high, ONNX Runtime, seam at highest, one
# after another, for each thread count, ROUNDS times, so that machines whose speed drifts from
# process to process (cloud VMs, the device machine) still give comparable ratios: the
# report (bench/report_pairs.py) takes each engine's median over the rounds and the
# median of the per-round ratios.
#
# usage: bench/encoder_pairs.sh SEAM_BENCH MODEL_DIR MODEL.onnx OUT_PREFIX [ROUNDS] [THREADS...]
#   SEAM_BENCH   a seam_bench binary (bench/run.sh builds bench/work/bin/seam_bench)
#   MODEL_DIR    the random MiniLM-shaped folder (bench/make_random_bert.py)
#   MODEL.onnx   its export (bench/peers/export_onnx.py bert)
#   OUT_PREFIX   writes OUT_PREFIX.md and OUT_PREFIX.json
# ONNX Runtime runs through Python's onnxruntime where it imports, else onnxruntime-node.
# PAIRS_KEEP=DIR keeps each run's JSON there (render later: bench/report_pairs.py DIR OUT).
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
BENCH=$1 MODEL=$2 ONNX=$3 OUT=$4
ROUNDS=${5:-3}
shift $(($# < 5 ? $# : 5))
THREADS=${*:-"1 $(nproc)"}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -n "${PAIRS_KEEP:-}" ]; then RAW=$PAIRS_KEEP; mkdir -p "$RAW"
else RAW=$(mktemp -d); trap 'rm -rf "$RAW"' EXIT; fi
if python3 -c 'import onnxruntime' 2>/dev/null; then ORT=(python3 "$HERE/peers/ort_bert.py" "$ONNX" "$MODEL/config.json")
else ORT=(node "$HERE/peers/ort_gpt2.mjs" bert "$ONNX" "$MODEL/config.json"); fi
# Rounds outside thread counts: a run cut short still holds whole rounds of every count.
for r in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        echo "[pairs] threads $t, round $r" >&2
        "$BENCH" encoder -m "$MODEL" -t "$t" --precision high --ids-only 1 >"$RAW/seam-high-t$t-r$r.json"
        "${ORT[@]}" -t "$t" >"$RAW/ort-t$t-r$r.json"
        "$BENCH" encoder -m "$MODEL" -t "$t" --precision highest --ids-only 1 >"$RAW/seam-highest-t$t-r$r.json"
    done
done
python3 "$HERE/report_pairs.py" "$RAW" "$OUT"
