#!/usr/bin/env bash
# Builds bench/roofline.c into OUT_DIR/roofline with the given compiler flags: on x86-64 with
# the AVX2 and AVX-512 FMA probes (each file compiled for its own ISA; roofline.c picks one
# from cpuid at run time), elsewhere the portable build alone.
#
#   bench/build_roofline.sh OUT_DIR [CFLAGS ...]      (bench/run.sh, tests/cli/bench_tools.sh)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/build_roofline.sh OUT_DIR [CFLAGS ...]}
shift
if [ "$(uname -m)" = x86_64 ]; then
    cc "$@" -mavx2 -mfma -c bench/roofline_fma_avx2.c -o "$OUT/roofline_fma_avx2.o"
    cc "$@" -mavx512f -mfma -c bench/roofline_fma_avx512.c -o "$OUT/roofline_fma_avx512.o"
    cc "$@" bench/roofline.c "$OUT/roofline_fma_avx2.o" "$OUT/roofline_fma_avx512.o" -o "$OUT/roofline"
else
    cc "$@" bench/roofline.c -o "$OUT/roofline"
fi
