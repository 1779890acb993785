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
    /* Optional (NULL where the owner has none): x again in the panels of a table's integer
     * register tiles (seam_qx_tile_pack), built once per product so that the threads that
     * split its columns share them; sized by seam_qx_tile_words / _floats, 64-byte aligned.
     * tile_T: the rows they hold now (0: none; the tiles then lay out the rows they need per
     * call). */
    uint32_t *tile_x;
    float *tile_d, *tile_s;
    int tile_T;
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
    /* Where there are tiles: the lanes of their registers (each panel holds tile_lanes - 1
     * rows), and the rows from which matmul_q8/q4 run them; 0 elsewhere. */
    int tile_lanes, tile_min_t;
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

/* Panels of qk's tiles that T rows fill (0 where qk has none); the capacity of seam_qx.tile_x
 * (words) and of tile_d and tile_s (floats each) for T rows of K. */
int seam_qx_tile_panels(const seam_qkernels *qk, int T);
size_t seam_qx_tile_words(const seam_qkernels *qk, int T, int K);
size_t seam_qx_tile_floats(const seam_qkernels *qk, int T, int K);

/* Rows [t0, t0 + m) of x (m < lanes), blocks [b0, b0 + cnb), as tiles of `lanes` lanes read
 * them: per group of 4 inputs, `lanes` lanes of 4 bytes (q + 128; 128, i.e. q = 0, in lanes
 * m and up); the block scales (and, where sp is non-NULL, the q4 offset sums x->s) per block
 * in as many lanes, 0 past m. */
void seam_qx_tile_panel(const seam_qx *x, int lanes, int t0, int m, int b0, int cnb, uint32_t *xp, float *dp, float *sp);

/* Panels [p0, p1) of x's T rows (all of K = x->K) into tile_x, tile_d and tile_s: panel p
 * holds rows from p·(lanes - 1) at tile_x + p·(K/4)·lanes, tile_d + p·(K/32)·lanes, and
 * tile_s likewise. The caller sets tile_T = T once all are written. */
void seam_qx_tile_pack(const seam_qkernels *qk, seam_qx *x, int T, int p0, int p1);

/* One panel of a quantised W[N, K] for the packed f32 GEMMs (gemm_x86.h, gemm_wasm.h),
 * dequantised: pack[k][j] = W[n + j][k0 + k] for j < nvalid, 0 for nvalid <= j < nr,
 * k < kc. k0 and kc are multiples of the block (32), as every K of a quantised matrix is. */
void seam_qmat_pack_panel(const seam_qmat *W, int k0, int kc, int n, int nvalid, int nr, float *pack);

/* Reference without activation quantisation: f32 x [T, K] against the dequantised W,
 * otherwise the contract of matmul_q8/q4 (tests; tools). */
void seam_qmat_matmul_f32(const float *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1);

#endif
