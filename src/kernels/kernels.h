/* Compute kernels behind one dispatch table (ggml's per-ISA traits idea): a portable scalar
 * reference and SIMD versions, chosen once at run time from cpuid. Every SIMD entry must
 * match the scalar one (tests/unit/test_kernels.c checks odd sizes and tails).
 *
 * Shapes: x is [T, K] row-major f32. Matrices keep their stored dtype (seam_mat). */
#ifndef SEAM_KERNELS_H
#define SEAM_KERNELS_H

#include <math.h>

#include "model/model.h"

/* Element i of a weight array in its stored dtype (f32, f16 or bf16), as f32: the scalar
 * tails and packers of every table read single elements through this. */
static inline float seam_elem_f32(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return ((const float *)base)[i];
    if (dt == SEAM_DTYPE_F16) return seam_f16_to_f32(((const uint16_t *)base)[i]);
    return seam_bf16_to_f32(((const uint16_t *)base)[i]);
}

/* A tile of attention: R <= SEAM_ATTEND_ROWS query rows of one head against keys whose K
 * and V are stored transposed (component d of key i at kt[d * ld + i]; graph/ops.h says
 * why). Row r sees keys [0, n + r) when causal (the rows are consecutive positions), else
 * [0, n); mask (NULL or one entry per key) leaves out keys whose entry is 0, at least one
 * must stay per row. out row r = softmax(scale * q_r . K^T) V. scores is scratch for
 * R * (n + R) floats. Sharing each load of K and V among the rows is what makes a tile
 * faster than R single rows: prefill and encoders are bound by reading K and V. */
#define SEAM_ATTEND_ROWS 4
typedef struct {
    const float *q;
    size_t ldq;
    const float *kt, *vt;
    size_t ld;
    int R, n, causal, D;
    float scale;
    const int32_t *mask;
    float *scores;
    float *out;
    size_t ldo;
    /* When non-NULL, V in rows instead of vt: component d of key i at v[i * ldv + d]. The
     * output is then a sum of V rows weighted by broadcast scores, with no horizontal sum
     * per component (encoders, whose V comes out of its projection in rows). */
    const float *v;
    size_t ldv;
} seam_attend_tile;

typedef struct {
    const char *name;
    /* y[T, n0:n1] = x[T, K] @ W[K, N][:, n0:n1] + b[n0:n1]  (Conv1D layout, W.rows = K).
     * y rows have stride N = W.cols; b may be NULL. */
    void (*matmul_kn)(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1);
    /* y[T, n0:n1] = x[T, K] @ W[N, K]^T[:, n0:n1]  (Linear layout, W.cols = K), stride N = W.rows. */
    void (*matmul_nk)(const float *x, int T, const seam_mat *W, float *y, int n0, int n1);
    float (*dot)(const float *a, const float *b, int n);
    /* y += a * x */
    void (*axpy)(float a, const float *x, float *y, int n);
    /* y = x * a */
    void (*scale)(float *y, float a, int n);
    /* Converts row r of W into out[0..W.cols). */
    void (*row_to_f32)(const seam_mat *W, int r, float *out);
    /* In-place activation (a seam_activation) over x[0..n). */
    void (*activation)(int activation, float *x, int n);
    /* In-place softmax of x[0..n), n >= 1 with at least one finite entry; -INFINITY entries
     * (masked keys) come out exactly 0. */
    void (*softmax)(float *x, int n);
    /* y[0..n) = (x - mean) / sqrt(var + eps) * w + b, mean and variance summed in double. */
    void (*layernorm)(const float *x, const float *w, const float *b, float eps, float *y, int n);
    /* One attention tile (seam_attend_tile); NULL where the table has no fused version:
     * op_attend then composes axpy, softmax and dot of the same table, row by row. */
    void (*attend)(const seam_attend_tile *a);
    /* y[T, n0:n1] = x[T, K] @ W[N, K]^T (+ b) for a quantised W, by the packed f32 GEMM with
     * W dequantised while it is packed: for prefill-sized T, where it beats the integer
     * path (which quantises x and pays per-block scaling for every row). NULL where the
     * table has no packed GEMM, and for AVX2, whose integer products (vpmaddubsw) already run
     * at twice its f32 FMA rate: on the Zen 5 VM with SEAM_ISA=avx2, GPT-2-small q8 prefill
     * of 128 ids ran 229-236 tokens/s with it and 400-406 without. */
    void (*matmul_qf)(const float *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1);
    /* Weights packed once for the GEMM (encoders, whose every call has many rows): pack_nr
     * columns per panel, 0 where the table has none (pack_nk and matmul_packed NULL).
     * pack_nk writes W [N, K] (Linear layout, any dtype) as f32 panels into dst (64-byte
     * aligned), which holds seam_packed_floats(k, N, K) floats; matmul_packed computes y[T, n0:n1] = x[T, K] @ W^T
     * (+ b) from them, n0 a multiple of pack_nr, y rows of stride N. */
    int pack_nr;
    void (*pack_nk)(const seam_mat *W, float *dst);
    void (*matmul_packed)(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                          int n1);
    /* Nonzero: a one-row Conv1D matmul on several threads splits W's rows (K) rather than
     * its columns, so each thread streams one contiguous stretch of memory, and the
     * partial sums are added afterwards (op_matmul_kn). For targets whose hardware
     * prefetch, seen through WebAssembly, loses most of its bandwidth on the per-row runs
     * a column split leaves. */
    int decode_split_k;
    /* pack_nk rounds K up to a multiple of this (0 or 1: not at all). */
    int pack_kr;
    /* Nonzero: matmul_packed works in tiles of this many rows by pack_nr columns, 4 column
     * tiles per pass (AMX), and threads share it by graph/ops.c's tile grid, or by claims
     * of whole rows where each thread has many. */
    int packed_mr;
    /* dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (attention's K and V into
     * their per-head transposed layout). Every table has one: seam_transpose_generic where
     * the compiler vectorises the portable blocks itself. */
    void (*transpose)(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd);
    /* Rows of matmul_packed's register tile (0 where the table has no packed GEMM): callers
     * that cut a product into row blocks make them multiples of it. */
    int pack_mr;
} seam_kernels;

/* Floats of pack_nk's output for an [N, K] weight (0 for a table without packing). */
static inline size_t seam_packed_floats(const seam_kernels *k, int N, int K) {
    size_t kr = k->pack_kr > 1 ? (size_t)k->pack_kr : 1;
    return k->pack_nr ? (size_t)((N + k->pack_nr - 1) / k->pack_nr) * (size_t)k->pack_nr * (((size_t)K + kr - 1) / kr * kr) : 0;
}

extern const seam_kernels seam_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const seam_kernels seam_kernels_avx2;
#endif
#if defined(__x86_64__)
extern const seam_kernels seam_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const seam_kernels seam_kernels_neon;
#endif
#if defined(__wasm_simd128__)
extern const seam_kernels seam_kernels_wasm;
#endif

#if defined(__x86_64__) || defined(__i386__)
/* cpuid checks shared by every x86 dispatch table: AVX2+FMA+F16C, and AVX-512 F/BW/VL/DQ. */
int seam_cpu_has_avx2(void);
int seam_cpu_has_avx512(void);
#endif
/* Nonzero where AMX-BF16 tiles can run: the CPU has AMX-TILE, AMX-BF16 and AVX512-BF16, the
 * OS saves the tile state, and (Linux) the process was granted it (arch_prctl, asked once). */
int seam_cpu_has_amx(void);
/* The AVX-512 table whose pre-packed GEMM (encoders) runs on AMX tiles as three bf16
 * products per f32 product (kernels/gemm_amx.h: ~16 significant bits, PyTorch's "high"
 * float32 matmul precision), or NULL where seam_cpu_has_amx() is 0 or the build lacks it.
 * seam_kernels_best() never returns it: callers that accept that precision ask for it. */
const seam_kernels *seam_kernels_amx(void);

/* The best table for this CPU; SEAM_ISA=scalar|avx2|avx512|neon in the environment forces one
 * (SEAM_ISA=amx the AMX table, where it runs; avxvnni, a quantised table, gets avx2). */
const seam_kernels *seam_kernels_best(void);
/* A table by name, or NULL when unknown or not supported by this CPU. */
const seam_kernels *seam_kernels_by_name(const char *name);

/* The middle step of every attend kernel: each row's scores (row stride lds, nmax keys
 * written) become probabilities over the keys the row sees (mask 0 and causal future keys
 * drop out), and the keys past its own are zeroed so all rows can share the output pass. */
static inline void seam_attend_probs(const seam_attend_tile *a, int nmax, size_t lds, void (*softmax)(float *x, int n)) {
    for (int r = 0; r < a->R; r++) {
        float *p = a->scores + (size_t)r * lds;
        int n = a->n + (a->causal ? r : 0);
        if (a->mask)
            for (int i = 0; i < n; i++)
                if (!a->mask[i]) p[i] = -INFINITY;
        softmax(p, n);
        for (int i = n; i < nmax; i++) p[i] = 0.0f;
    }
}

/* The portable references of the layernorm and attend entries. */
void seam_layernorm_scalar(const float *x, const float *w, const float *b, float eps, float *y, int n);
void seam_attend_generic(const seam_kernels *k, const seam_attend_tile *a);
/* The portable transpose entry: 4 x 4 blocks that GCC vectorises for SSE2 and NEON. */
void seam_transpose_generic(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd);
/* The portable libm reference. */
void seam_activation_scalar(int activation, float *x, int n);
/* In-place softmax of x[0..n). */
void seam_softmax(float *x, int n);

#endif
