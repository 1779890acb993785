/* Integer kernels for block-quantised weights, behind their own dispatch table (like
 * kernels.h): a portable scalar reference plus SIMD versions chosen at run time from cpuid.
 *
 * A quantised matmul runs in two steps. The activations x[T, K] are quantised once per
 * matmul, per row and per block of 32, to int8 with an f32 scale (seam_qx, a scratch owned
 * by the context). Then each output is a sum over blocks of integer dot products, scaled:
 *
 *   q8:  y[t,n] = Σ_b dw[n,b]·dx[t,b]·Σ_i qw·qx
 *   q4:  y[t,n] = Σ_b dw[n,b]·dx[t,b]·Σ_i qw·qx + mw[n,b]·(dx[t,b]·Σ_i qx)
 *
 * The integer sums are exact on every ISA (x86: vpmaddubsw/vpmaddwd, or vpdpbusd with
 * AVX-512 VNNI; WebAssembly: i32x4.dot_i16x8_s on widened bytes); only the order of the f32 accumulation differs, so SIMD results equal the
 * scalar ones to f32 rounding. quantize_x gives bit-identical output on every ISA. */
#ifndef SEAM_KERNELS_QUANT_H
#define SEAM_KERNELS_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* Quantised activations: rows of K values (K % 32 == 0). */
typedef struct {
    int8_t *q; /* [T, K] */
    float *d;  /* [T, K/32] block scales: x ≈ d * q */
    float *s;  /* [T, K/32] d * Σ q of the block (the q4 offset term) */
    int K;     /* row length of what is held now */
} seam_qx;

typedef struct {
    const char *name;
    /* x[0..K) → q[0..K), d[K/32], s[K/32]: d = max|x| / 127 per block, q = round(x / d)
     * (to nearest, ties to even). */
    void (*quantize_x)(const float *x, int K, int8_t *q, float *d, float *s);
    /* y[t, n] = W[n, :] · x[t, :] (+ b[n] when b is non-NULL) for t in [0, T), n in [n0, n1).
     * W is quantised [N, K] (q8 resp. q4) with K = x->K; y rows have stride N = W->rows. */
    void (*matmul_q8)(const seam_qx *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1);
    void (*matmul_q4)(const seam_qx *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1);
    /* Non-zero: matmul_q8 runs faster when W->scale_f32 is there (models loaded while this
     * is the best table get it); without it the results are the same. */
    int f32_scales;
    /* Non-zero: for K up to this (INT_MAX: any), matmul_q8 and matmul_q4 run register
     * tiles on prefill-sized T that beat the f32 tables' GEMM on dequantised W (matmul_qf),
     * so op_matmul_q keeps quantised products of every T here. */
    int tiles_max_k;
} seam_qkernels;

extern const seam_qkernels seam_qkernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const seam_qkernels seam_qkernels_avx2;
#endif
#if defined(__x86_64__)
extern const seam_qkernels seam_qkernels_avx512vnni;
extern const seam_qkernels seam_qkernels_avxvnni; /* AVX2 + the VEX vpdpbusd (no AVX-512) */
#endif
#if defined(__aarch64__)
extern const seam_qkernels seam_qkernels_neon;
/* sdot kernels, built where the compiler can target ARMv8.2 dotprod per function */
#if defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
#define SEAM_QUANT_NEONDOT 1
extern const seam_qkernels seam_qkernels_neondot;
#endif
#endif
#if defined(__wasm_simd128__)
extern const seam_qkernels seam_qkernels_wasm;
#endif

/* The best table for this CPU. SEAM_ISA (scalar|avx2|avxvnni|avx512|avx512vnni|neon|neondot|
 * wasm) forces one where the CPU has it: avx512 picks avx512vnni when the CPU has VNNI, else
 * avx2. */
const seam_qkernels *seam_qkernels_best(void);
/* A table by name ("scalar", "avx2", "avxvnni", "avx512vnni", "neon", "neondot", "wasm"), or NULL when
 * unknown or not supported by this CPU. */
const seam_qkernels *seam_qkernels_by_name(const char *name);

/* One panel of a quantised W[N, K] for the packed f32 GEMMs (gemm_x86.h, gemm_wasm.h),
 * dequantised: pack[k][j] = W[n + j][k0 + k] for j < nvalid, 0 for nvalid <= j < nr,
 * k < kc. k0 and kc are multiples of the block (32), as every K of a quantised matrix is. */
void seam_qmat_pack_panel(const seam_qmat *W, int k0, int kc, int n, int nvalid, int nr, float *pack);

/* Reference without activation quantisation: f32 x [T, K] against the dequantised W,
 * otherwise the contract of matmul_q8/q4 (tests; tools). */
void seam_qmat_matmul_f32(const float *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1);

#endif
