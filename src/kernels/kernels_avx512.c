/* AVX-512 (F, BW, VL, DQ) kernels. Same shapes as the AVX2 file with 16-float vectors,
 * 6-row register tiles for the Conv1D layout and masked loads for column tails, so no
 * scalar tail loop is needed. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

#define AI static inline __attribute__((always_inline))

AI __m512 ld16(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return _mm512_loadu_ps((const float *)base + i);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)base + i));
    if (dt == SEAM_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AI __m512 ld16m(const void *base, size_t i, seam_dtype dt, __mmask16 m) {
    if (dt == SEAM_DTYPE_F32) return _mm512_maskz_loadu_ps(m, (const float *)base + i);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)base + i);
    if (dt == SEAM_DTYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* Elements before W + i reaches the alignment of a whole vector load (64 bytes for f32, 32
 * for 16-bit weights), at most left. Weights mapped from a safetensors file sit wherever
 * its header ends (8-byte aligned; tools/make_random_gpt2.c's files put them 32 bytes past
 * a line), and loads that straddle cache lines cost a streaming matvec ~25% (GPT-2's c_fc
 * and c_proj, AMD Zen 5: 26 against 34 GB/s); starting the full vectors past such a head
 * avoids that. Each output column still sums its products in k order, so the result does
 * not depend on the head. */
AI int vec_head(const void *W, size_t i, seam_dtype dt, int left) {
    size_t es = dt == SEAM_DTYPE_F32 ? 4 : 2, vb = 16 * es, mis = ((uintptr_t)W + i * es) & (vb - 1);
    int p = mis && mis % es == 0 ? (int)((vb - mis) / es) : 0;
    return p < left ? p : left;
}

#define KN_HEAD_MIN_COLS 256

/* y[0:16) += x0 W0 + x1 W1 + x2 W2 + x3 W3, rows r0..r3 of W from column r_i; kn_quad_tail
 * does the same for the columns that m selects. */
AI void kn_quad(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, __m512 x0, __m512 x1, __m512 x2,
                __m512 x3, seam_dtype dt) {
    __m512 acc = _mm512_loadu_ps(y);
    acc = _mm512_fmadd_ps(x0, ld16(W, r0, dt), acc);
    acc = _mm512_fmadd_ps(x1, ld16(W, r1, dt), acc);
    acc = _mm512_fmadd_ps(x2, ld16(W, r2, dt), acc);
    acc = _mm512_fmadd_ps(x3, ld16(W, r3, dt), acc);
    _mm512_storeu_ps(y, acc);
}

AI void kn_quad_tail(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, __m512 x0, __m512 x1,
                     __m512 x2, __m512 x3, seam_dtype dt, __mmask16 m) {
    __m512 acc = _mm512_maskz_loadu_ps(m, y);
    acc = _mm512_fmadd_ps(x0, ld16m(W, r0, dt, m), acc);
    acc = _mm512_fmadd_ps(x1, ld16m(W, r1, dt, m), acc);
    acc = _mm512_fmadd_ps(x2, ld16m(W, r2, dt, m), acc);
    acc = _mm512_fmadd_ps(x3, ld16m(W, r3, dt, m), acc);
    _mm512_mask_storeu_ps(y, m, acc);
}

/* Decode-sized inputs: kn_stream.h's row-by-row stream (every byte of W read once,
 * sequentially, which is what a bandwidth-bound matvec wants, with y[n0:n1] hot in L1). Four
 * rows of W per pass halve the loads and stores of y. Only the head and the column tail are
 * masked: masked loads and stores on every vector cost AMD Zen 5 a third of its bandwidth
 * (GPT-2's c_fc and c_proj streamed at 18-21 GB/s, against 27-32 with plain ones). */
AI void kn_quad_row(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, const float *xk, int n0,
                    int n1, seam_dtype dt) {
    __m512 x0 = _mm512_set1_ps(xk[0]), x1 = _mm512_set1_ps(xk[1]), x2 = _mm512_set1_ps(xk[2]), x3 = _mm512_set1_ps(xk[3]);
    /* No head on a short share of the columns: with one (48 columns of GPT-2's c_proj per
     * thread at 16 threads) the device's Xeon decoded 25-45% slower, likely because each
     * pass reads back the head's masked store with a masked load, which store forwarding
     * does not serve. */
    int n = n0, head = n1 - n0 >= KN_HEAD_MIN_COLS ? vec_head(W, r0 + (size_t)n0, dt, n1 - n0) : 0;
    if (head) {
        kn_quad_tail(y + n, W, r0 + n, r1 + n, r2 + n, r3 + n, x0, x1, x2, x3, dt, (__mmask16)((1u << head) - 1));
        n += head;
    }
    for (; n + 32 <= n1; n += 32) {
        kn_quad(y + n, W, r0 + n, r1 + n, r2 + n, r3 + n, x0, x1, x2, x3, dt);
        kn_quad(y + n + 16, W, r0 + n + 16, r1 + n + 16, r2 + n + 16, r3 + n + 16, x0, x1, x2, x3, dt);
    }
    for (; n + 16 <= n1; n += 16) kn_quad(y + n, W, r0 + n, r1 + n, r2 + n, r3 + n, x0, x1, x2, x3, dt);
    if (n < n1) kn_quad_tail(y + n, W, r0 + n, r1 + n, r2 + n, r3 + n, x0, x1, x2, x3, dt, (__mmask16)((1u << (n1 - n)) - 1));
}

#define KN_MADD(x, w, a) fmaf(x, w, a)
#include "kernels/kn_stream.h"

/* Prefill and batches: the packed GEMM of gemm_x86.h with 12 x 32 register tiles (24 of
 * the 32 zmm registers hold accumulators). */
typedef __m512 GV;
#define GW 16
#define GEMM_MR 12
#ifndef GEMM_KC /* overridable for tuning: make CFLAGS=-DGEMM_KC=... */
#define GEMM_KC 128
#endif
#ifndef GEMM_NC
#define GEMM_NC 256
#endif
AI __m512 gv_zero(void) { return _mm512_setzero_ps(); }
AI __m512 gv_load(const float *p) { return _mm512_loadu_ps(p); }
AI void gv_store(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
AI __m512 gv_bcast(const float *p) { return _mm512_set1_ps(*p); }
AI __m512 gv_fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
AI __m512 gv_load_n(const float *p, int n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
AI void gv_store_n(float *p, __m512 v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v); }
#include "kernels/gemm_x86.h"
GEMM_TILE(1) GEMM_TILE(2) GEMM_TILE(3) GEMM_TILE(4) GEMM_TILE(5) GEMM_TILE(6)
GEMM_TILE(7) GEMM_TILE(8) GEMM_TILE(9) GEMM_TILE(10) GEMM_TILE(11) GEMM_TILE(12)
static const gemm_tile_fn gemm_tiles[GEMM_MR] = {gemm_tile_1, gemm_tile_2, gemm_tile_3, gemm_tile_4,
                                                 gemm_tile_5, gemm_tile_6, gemm_tile_7, gemm_tile_8,
                                                 gemm_tile_9, gemm_tile_10, gemm_tile_11, gemm_tile_12};
static const gemm_tile_fn gemm_stream_tiles[GEMM_MR] = {
    gemm_stream_tile_1, gemm_stream_tile_2, gemm_stream_tile_3, gemm_stream_tile_4,  gemm_stream_tile_5,  gemm_stream_tile_6,
    gemm_stream_tile_7, gemm_stream_tile_8, gemm_stream_tile_9, gemm_stream_tile_10, gemm_stream_tile_11, gemm_stream_tile_12};

AI void kn_dtype(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    if (T < 4) kn_stream(x, T, Wm, b, y, n0, n1, dt);
    else gemm_run(gemm_tiles, x, T, Wm->data, dt, GEMM_KN, Wm->rows, (size_t)Wm->cols, b, y, n0, n1);
}

static void avx512_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

/* Dot-product layout. Rows of x are taken four at a time against four rows of W, so each
 * load feeds four FMAs (16 accumulators); the K tail is masked. */
AI void nk_tile(const float *x, int TB, const void *W, int K, size_t N, seam_dtype dt, float *y, int n, int NB) {
    __m512 acc[4][4];
    _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++)
        _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_ps();
    /* Lanes hold k mod 16 whatever W's address (no aligned head as kn_stream's): a dot's
     * rounding then does not depend on where the weights are mapped, so a shard computes
     * bit for bit what the whole model does. */
    int kt = K % 16, k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 w[4], xv[4];
        _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) w[j] = ld16(W, (size_t)(n + j) * K + k, dt);
        _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++) xv[i] = _mm512_loadu_ps(x + (size_t)i * K + k);
        _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++)
            _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(xv[i], w[j], acc[i][j]);
    }
    if (kt) {
        __mmask16 km = (__mmask16)((1u << kt) - 1);
        __m512 w[4], xv[4];
        _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) w[j] = ld16m(W, (size_t)(n + j) * K + k, dt, km);
        _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++) xv[i] = _mm512_maskz_loadu_ps(km, x + (size_t)i * K + k);
        _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++)
            _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(xv[i], w[j], acc[i][j]);
    }
    _Pragma("GCC unroll 4") for (int i = 0; i < TB; i++)
        _Pragma("GCC unroll 4") for (int j = 0; j < NB; j++) y[(size_t)i * N + n + j] = _mm512_reduce_add_ps(acc[i][j]);
}

#define NK_GEMM_MIN_TK ((size_t)1 << 16)
/* 4 W rows at a time against every row of x, 4 x rows per tile: each slice of W is read
 * from memory once and stays in L1 while all of x (a few KiB at these T) passes it. */
AI void nk_rows_of_w(const float *x, int T, const void *W, int K, size_t N, seam_dtype dt, float *y, int n, int NB) {
    for (int t = 0; t < T; t += 4) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        switch (T - t < 4 ? T - t : 4) {
        case 4: nk_tile(xr, 4, W, K, N, dt, yr, n, NB); break;
        case 3: nk_tile(xr, 3, W, K, N, dt, yr, n, NB); break;
        case 2: nk_tile(xr, 2, W, K, N, dt, yr, n, NB); break;
        default: nk_tile(xr, 1, W, K, N, dt, yr, n, NB); break;
        }
    }
}

AI void nk_dtype(const float *x, int T, const seam_mat *Wm, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->cols;
    size_t N = (size_t)Wm->rows;
    /* The dot tiles stream W once, row by row, and re-read x from cache for every 4 rows of
     * W: the better choice while x is small (measured: 1.5x the packed GEMM at T = 12, even
     * at T = 128 with K = 384), since packing transposes W 32 rows at a time, 32 streams
     * from memory at once. Once x outgrows L2 (256 KiB here) the GEMM wins. */
    if ((size_t)T * (size_t)K >= NK_GEMM_MIN_TK) {
        gemm_run(gemm_tiles, x, T, Wm->data, dt, GEMM_NK, K, N, NULL, y, n0, n1);
        return;
    }
    int n = n0;
    for (; n + 4 <= n1; n += 4) nk_rows_of_w(x, T, Wm->data, K, N, dt, y, n, 4);
    for (; n < n1; n++) nk_rows_of_w(x, T, Wm->data, K, N, dt, y, n, 1);
}

static void avx512_matmul_nk(const float *x, int T, const seam_mat *W, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

static float avx512_dot(const float *a, const float *b, int n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static void avx512_axpy(float a, const float *x, float *y, int n) {
    __m512 av = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

static void avx512_scale(float *y, float a, int n) {
    __m512 av = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(av, _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(av, _mm512_maskz_loadu_ps(m, y + i)));
    }
}

static void avx512_row_to_f32(const seam_mat *W, int r, float *out) {
    size_t base = (size_t)r * (size_t)W->cols;
    int c = 0;
    for (; c + 16 <= W->cols; c += 16) _mm512_storeu_ps(out + c, ld16(W->data, base + c, W->dtype));
    if (c < W->cols) {
        __mmask16 m = (__mmask16)((1u << (W->cols - c)) - 1);
        _mm512_mask_storeu_ps(out + c, m, ld16m(W->data, base + c, W->dtype, m));
    }
}

AI __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-103.0f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(VM_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(VM_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(VM_LN2_LO), r);
    __m512 p = _mm512_set1_ps(VM_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(VM_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(VM_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(VM_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(VM_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(VM_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

AI __m512 gelu_tanh16(__m512 x) {
    __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                             _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x), _mm512_mul_ps(x, x), x));
    __m512 e = exp16(_mm512_add_ps(u, u));
    __m512 th = _mm512_sub_ps(_mm512_set1_ps(1.0f), _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), th));
}

AI __m512 gelu_erf16(__m512 x) {
    __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.7071067811865476f));
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(AS_P), z, _mm512_set1_ps(1.0f)));
    __m512 q = _mm512_set1_ps(AS_A5);
    q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(AS_A4));
    q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(AS_A3));
    q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(AS_A2));
    q = _mm512_fmadd_ps(q, t, _mm512_set1_ps(AS_A1));
    __m512 erfc = _mm512_mul_ps(_mm512_mul_ps(q, t), exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), z)));
    __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 one_plus_erf = _mm512_mask_blend_ps(neg, _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc), erfc);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), one_plus_erf);
}

static void avx512_activation(int activation, float *x, int n) {
    if (activation != ACT_GELU_TANH && activation != ACT_GELU_ERF) { seam_activation_scalar(activation, x, n); return; }
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        v = activation == ACT_GELU_TANH ? gelu_tanh16(v) : gelu_erf16(v);
        _mm512_mask_storeu_ps(x + i, m, v);
    }
}

/* exp16 clamps its input at -103, where expf is already a denormal; lanes below that are
 * set to exactly 0 so masked (-INFINITY) keys drop out as they do in the scalar version. */
static void avx512_softmax(float *x, int n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, x + i));
    }
    __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), floor = _mm512_set1_ps(-103.0f), sum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), top);
        __m512 e = _mm512_maskz_mov_ps(m & _mm512_cmp_ps_mask(d, floor, _CMP_GE_OQ), exp16(d));
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(x + i, m, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}

/* Same two passes in double as the scalar reference, and the same float expression for y
 * (no FMA contraction), so results agree to the last bit or one ulp. */
static void avx512_layernorm(const float *x, const float *w, const float *b, float eps, float *y, int n) {
    __m512d s0 = _mm512_setzero_pd(), s1 = s0;
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    }
    double mean = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / n;
    __m512d mu = _mm512_set1_pd(mean), v0 = _mm512_setzero_pd(), v1 = v0;
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m512d d0 = _mm512_maskz_sub_pd((__mmask8)m, _mm512_cvtps_pd(_mm512_castps512_ps256(v)), mu);
        __m512d d1 = _mm512_maskz_sub_pd((__mmask8)(m >> 8),
                                         _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))), mu);
        v0 = _mm512_fmadd_pd(d0, d0, v0);
        v1 = _mm512_fmadd_pd(d1, d1, v1);
    }
    double var = _mm512_reduce_add_pd(_mm512_add_pd(v0, v1)) / n;
    __m512 inv = _mm512_set1_ps((float)(1.0 / sqrt(var + eps))), muf = _mm512_set1_ps((float)mean);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), muf), inv),
                                 _mm512_maskz_loadu_ps(m, w + i));
        _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, b + i)));
    }
}

AI __mmask16 tail16(int left) { return left >= 16 ? 0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }

/* The tile with its row count fixed at compile time, so every accumulator stays in a
 * register: scores for 32 keys x R rows (2R zmm, 2 loads of K per d shared by R rows),
 * softmax per row, then 4 output components x R rows (4R zmm, 4 loads of V per 16 keys). */
/* Output components d0 .. d0 + 16 NV of R rows from V in rows: per key, NV loads of V
 * shared by R broadcast weights (R x NV accumulators, NV <= 4). */
AI void attend_out_rows(const seam_attend_tile *a, const int R, const int NV, int d0, int nmax, size_t lds) {
    int dw = a->D - d0;
    __mmask16 mk[4];
    __m512 acc[SEAM_ATTEND_ROWS][4];
    _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) mk[j] = tail16(dw - 16 * j);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[r][j] = _mm512_setzero_ps();
    for (int i = 0; i < nmax; i++) {
        const float *vr = a->v + (size_t)i * a->ldv + d0;
        __m512 v[4];
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) v[j] = _mm512_maskz_loadu_ps(mk[j], vr + 16 * j);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            __m512 p = _mm512_set1_ps(a->scores[(size_t)r * lds + (size_t)i]);
            _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(p, v[j], acc[r][j]);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++)
            _mm512_mask_storeu_ps(a->out + (size_t)r * a->ldo + (size_t)(d0 + 16 * j), mk[j], acc[r][j]);
}

AI void attend_rows(const seam_attend_tile *a, const int R) {
    int D = a->D, nmax = a->n + (a->causal ? R - 1 : 0);
    size_t lds = (size_t)(a->n + a->R), ld = a->ld;
    __m512 sc = _mm512_set1_ps(a->scale);
    for (int i = 0; i < nmax; i += 32) {
        __mmask16 m0 = tail16(nmax - i), m1 = tail16(nmax - i - 16);
        __m512 s0[SEAM_ATTEND_ROWS], s1[SEAM_ATTEND_ROWS];
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) s0[r] = s1[r] = _mm512_setzero_ps();
        for (int d = 0; d < D; d++) {
            const float *row = a->kt + (size_t)d * ld + i;
            __m512 k0 = _mm512_maskz_loadu_ps(m0, row), k1 = _mm512_maskz_loadu_ps(m1, row + 16);
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                __m512 qd = _mm512_set1_ps(a->q[(size_t)r * a->ldq + (size_t)d]);
                s0[r] = _mm512_fmadd_ps(qd, k0, s0[r]);
                s1[r] = _mm512_fmadd_ps(qd, k1, s1[r]);
            }
        }
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            _mm512_mask_storeu_ps(a->scores + (size_t)r * lds + i, m0, _mm512_mul_ps(s0[r], sc));
            _mm512_mask_storeu_ps(a->scores + (size_t)r * lds + i + 16, m1, _mm512_mul_ps(s1[r], sc));
        }
    }
    seam_attend_probs(a, nmax, lds, avx512_softmax);
    if (a->v) {
        for (int d0 = 0; d0 < D; d0 += 64) {
            switch (((D - d0 >= 64 ? 64 : D - d0) + 15) / 16) {
            case 4: attend_out_rows(a, R, 4, d0, nmax, lds); break;
            case 3: attend_out_rows(a, R, 3, d0, nmax, lds); break;
            case 2: attend_out_rows(a, R, 2, d0, nmax, lds); break;
            default: attend_out_rows(a, R, 1, d0, nmax, lds); break;
            }
        }
        return;
    }
    int d = 0;
    for (; d + 4 <= D; d += 4) {
        const float *v0 = a->vt + (size_t)d * ld;
        __m512 acc[SEAM_ATTEND_ROWS][4];
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
        for (int i = 0; i < nmax; i += 16) {
            __mmask16 m = tail16(nmax - i);
            __m512 v[4];
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) v[j] = _mm512_maskz_loadu_ps(m, v0 + (size_t)j * ld + i);
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                __m512 p = _mm512_maskz_loadu_ps(m, a->scores + (size_t)r * lds + i);
                _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) acc[r][j] = _mm512_fmadd_ps(p, v[j], acc[r][j]);
            }
        }
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
            _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) a->out[(size_t)r * a->ldo + (size_t)(d + j)] = _mm512_reduce_add_ps(acc[r][j]);
    }
    for (; d < D; d++)
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
            a->out[(size_t)r * a->ldo + (size_t)d] = avx512_dot(a->scores + (size_t)r * lds, a->vt + (size_t)d * ld, nmax);
}

static void avx512_attend(const seam_attend_tile *a) {
    switch (a->R) {
    case 4: attend_rows(a, 4); break;
    case 3: attend_rows(a, 3); break;
    case 2: attend_rows(a, 2); break;
    default: attend_rows(a, 1); break;
    }
}

static void avx512_matmul_qf(const float *x, int T, const seam_qmat *W, const float *b, float *y, int n0, int n1) {
    gemm_run(gemm_tiles, x, T, W, SEAM_DTYPE_F32, GEMM_Q, W->cols, (size_t)W->rows, b, y, n0, n1);
}

static void avx512_matmul_packed(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                             int n1) {
    gemm_run(gemm_stream_tiles, x, T, packed, SEAM_DTYPE_F32, GEMM_PACKED, K, (size_t)N, b, y, n0, n1);
}

const seam_kernels seam_kernels_avx512 = {
    "avx512", avx512_matmul_kn, avx512_matmul_nk, avx512_dot, avx512_axpy, avx512_scale, avx512_row_to_f32,
    avx512_activation, avx512_softmax, avx512_layernorm, avx512_attend, avx512_matmul_qf, GEMM_NR, gemm_prepack_nk, avx512_matmul_packed, 0, 1, 0,
    seam_transpose_generic, GEMM_MR,
};
#endif
