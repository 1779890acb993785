/* AVX2 + FMA + F16C kernels. Compiled with -mavx2 -mfma -mf16c; only called after the
 * dispatcher has checked cpuid. Weight loads are specialised per stored dtype so the inner
 * loops carry no dtype branch. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

#define AI static inline __attribute__((always_inline))

/* The packed GEMM of gemm_x86.h with 6 x 16 register tiles (12 accumulators, 2 weight
 * vectors and a broadcast fill the 16 ymm registers). */
typedef __m256 GV;
#define GW 8
#define GEMM_MR 6
#ifndef GEMM_KC /* overridable for tuning: make CFLAGS=-DGEMM_KC=... */
#define GEMM_KC 256
#endif
#ifndef GEMM_NC
#define GEMM_NC 128
#endif
AI __m256 gv_zero(void) { return _mm256_setzero_ps(); }
AI __m256 gv_load(const float *p) { return _mm256_loadu_ps(p); }
AI void gv_store(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
AI __m256 gv_bcast(const float *p) { return _mm256_broadcast_ss(p); }
AI __m256 gv_fma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
AI __m256i lane_mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
AI __m256 gv_load_n(const float *p, int n) { return _mm256_maskload_ps(p, lane_mask(n)); }
AI void gv_store_n(float *p, __m256 v, int n) { _mm256_maskstore_ps(p, lane_mask(n), v); }
#include "kernels/gemm_x86.h"
GEMM_TILE(1) GEMM_TILE(2) GEMM_TILE(3) GEMM_TILE(4) GEMM_TILE(5) GEMM_TILE(6)
static const gemm_tile_fn gemm_tiles[GEMM_MR] = {gemm_tile_1, gemm_tile_2, gemm_tile_3,
                                                 gemm_tile_4, gemm_tile_5, gemm_tile_6};
static const gemm_tile_fn gemm_stream_tiles[GEMM_MR] = {gemm_stream_tile_1, gemm_stream_tile_2, gemm_stream_tile_3,
                                                        gemm_stream_tile_4, gemm_stream_tile_5, gemm_stream_tile_6};
#define ld8 gemm_ld8

AI float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AI void kn_quad_col(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, const float *xk, int n,
                    seam_dtype dt) {
    float a = y[n];
    a = fmaf(xk[0], seam_elem_f32(W, r0 + (size_t)n, dt), a);
    a = fmaf(xk[1], seam_elem_f32(W, r1 + (size_t)n, dt), a);
    a = fmaf(xk[2], seam_elem_f32(W, r2 + (size_t)n, dt), a);
    y[n] = fmaf(xk[3], seam_elem_f32(W, r3 + (size_t)n, dt), a);
}

/* y[n0:n1) += x0 W0 + x1 W1 + x2 W2 + x3 W3 (rows r0..r3 of W), 16 then 8 columns at a
 * time, the first and last few one by one. */
AI void kn_quad_row(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, const float *xk, int n0,
                    int n1, seam_dtype dt) {
    __m256 x0 = _mm256_broadcast_ss(xk), x1 = _mm256_broadcast_ss(xk + 1), x2 = _mm256_broadcast_ss(xk + 2),
           x3 = _mm256_broadcast_ss(xk + 3);
    /* Scalar columns until row r0's loads are whole vectors (32 bytes for f32, 16 for 16-bit
     * weights): weights mapped from a file sit wherever its header ends (8-byte aligned),
     * and loads that straddle cache lines slow the stream (kernels_avx512.c's vec_head). */
    size_t es = dt == SEAM_DTYPE_F32 ? 4 : 2, vb = 8 * es, mis = ((uintptr_t)W + (r0 + (size_t)n0) * es) & (vb - 1);
    int n = n0, head = mis && mis % es == 0 ? (int)((vb - mis) / es) : 0;
    for (int end = n0 + head < n1 ? n0 + head : n1; n < end; n++) kn_quad_col(y, W, r0, r1, r2, r3, xk, n, dt);
    for (; n + 16 <= n1; n += 16) {
        __m256 a = _mm256_loadu_ps(y + n), c = _mm256_loadu_ps(y + n + 8);
        a = _mm256_fmadd_ps(x0, ld8(W, r0 + n, dt), a);
        c = _mm256_fmadd_ps(x0, ld8(W, r0 + n + 8, dt), c);
        a = _mm256_fmadd_ps(x1, ld8(W, r1 + n, dt), a);
        c = _mm256_fmadd_ps(x1, ld8(W, r1 + n + 8, dt), c);
        a = _mm256_fmadd_ps(x2, ld8(W, r2 + n, dt), a);
        c = _mm256_fmadd_ps(x2, ld8(W, r2 + n + 8, dt), c);
        a = _mm256_fmadd_ps(x3, ld8(W, r3 + n, dt), a);
        c = _mm256_fmadd_ps(x3, ld8(W, r3 + n + 8, dt), c);
        _mm256_storeu_ps(y + n, a);
        _mm256_storeu_ps(y + n + 8, c);
    }
    for (; n + 8 <= n1; n += 8) {
        __m256 a = _mm256_loadu_ps(y + n);
        a = _mm256_fmadd_ps(x0, ld8(W, r0 + n, dt), a);
        a = _mm256_fmadd_ps(x1, ld8(W, r1 + n, dt), a);
        a = _mm256_fmadd_ps(x2, ld8(W, r2 + n, dt), a);
        a = _mm256_fmadd_ps(x3, ld8(W, r3 + n, dt), a);
        _mm256_storeu_ps(y + n, a);
    }
    for (; n < n1; n++) kn_quad_col(y, W, r0, r1, r2, r3, xk, n, dt);
}

/* Decode-sized inputs (fewer than 4 rows): kn_stream.h's row-by-row stream. Register tiles
 * of 16 columns (as the packed GEMM's) would walk W down its columns instead: one cache line
 * per row, each on another 4 KiB page once rows are 4 KiB or more apart (GPT-2's c_fc: 12
 * KiB). */
#define KN_MADD(x, w, a) fmaf(x, w, a)
#include "kernels/kn_stream.h"

AI void kn_dtype(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    if (T >= 4) { gemm_run(gemm_tiles, x, T, Wm->data, dt, GEMM_KN, K, N, b, y, n0, n1); return; }
    kn_stream(x, T, Wm, b, y, n0, n1, dt);
}

static void avx2_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

/* Dot-product layout: four W rows at a time share each load of x. */
AI void nk_dtype(const float *x, int T, const seam_mat *Wm, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->cols;
    size_t N = (size_t)Wm->rows;
    const void *W = Wm->data;
    /* Packing transposes W, which pays off once a panel is reused by a few row tiles. */
    if (T >= 8) { gemm_run(gemm_tiles, x, T, W, dt, GEMM_NK, K, N, NULL, y, n0, n1); return; }
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        int n = n0;
        for (; n + 4 <= n1; n += 4) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            size_t r0 = (size_t)n * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
            int k = 0;
            for (; k + 8 <= K; k += 8) {
                __m256 xv = _mm256_loadu_ps(xr + k);
                a0 = _mm256_fmadd_ps(xv, ld8(W, r0 + k, dt), a0);
                a1 = _mm256_fmadd_ps(xv, ld8(W, r1 + k, dt), a1);
                a2 = _mm256_fmadd_ps(xv, ld8(W, r2 + k, dt), a2);
                a3 = _mm256_fmadd_ps(xv, ld8(W, r3 + k, dt), a3);
            }
            float s0 = hsum8(a0), s1 = hsum8(a1), s2 = hsum8(a2), s3 = hsum8(a3);
            for (; k < K; k++) {
                s0 += xr[k] * seam_elem_f32(W, r0 + k, dt);
                s1 += xr[k] * seam_elem_f32(W, r1 + k, dt);
                s2 += xr[k] * seam_elem_f32(W, r2 + k, dt);
                s3 += xr[k] * seam_elem_f32(W, r3 + k, dt);
            }
            yr[n] = s0; yr[n + 1] = s1; yr[n + 2] = s2; yr[n + 3] = s3;
        }
        for (; n < n1; n++) {
            size_t r0 = (size_t)n * K;
            __m256 a0 = _mm256_setzero_ps();
            int k = 0;
            for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + k), ld8(W, r0 + k, dt), a0);
            float s0 = hsum8(a0);
            for (; k < K; k++) s0 += xr[k] * seam_elem_f32(W, r0 + k, dt);
            yr[n] = s0;
        }
    }
}

static void avx2_matmul_nk(const float *x, int T, const seam_mat *W, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

static float avx2_dot(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void avx2_axpy(float a, const float *x, float *y, int n) {
    __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void avx2_scale(float *y, float a, int n) {
    __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(av, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] *= a;
}

static void avx2_row_to_f32(const seam_mat *W, int r, float *out) {
    size_t base = (size_t)r * (size_t)W->cols;
    int c = 0;
    for (; c + 8 <= W->cols; c += 8) _mm256_storeu_ps(out + c, ld8(W->data, base + c, W->dtype));
    for (; c < W->cols; c++) out[c] = seam_elem_f32(W->data, base + c, W->dtype);
}

AI __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(VM_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(VM_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(VM_LN2_LO), r);
    __m256 p = _mm256_set1_ps(VM_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VM_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VM_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VM_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VM_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(VM_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n built in the exponent field; the clamp above keeps n within [-126, 127]. */
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AI __m256 gelu_tanh8(__m256 x) {
    __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                             _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x), _mm256_mul_ps(x, x), x));
    __m256 e = exp8(_mm256_add_ps(u, u));
    __m256 th = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), th));
}

AI __m256 gelu_erf8(__m256 x) {
    __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 z = _mm256_mul_ps(ax, _mm256_set1_ps(0.7071067811865476f));
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(AS_P), z, _mm256_set1_ps(1.0f)));
    __m256 q = _mm256_set1_ps(AS_A5);
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(AS_A4));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(AS_A3));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(AS_A2));
    q = _mm256_fmadd_ps(q, t, _mm256_set1_ps(AS_A1));
    __m256 erfc = _mm256_mul_ps(_mm256_mul_ps(q, t), exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(z, z))));
    __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    __m256 one_plus_erf = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), erfc), erfc, neg);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), one_plus_erf);
}

static void avx2_activation(int activation, float *x, int n) {
    if (activation != ACT_GELU_TANH && activation != ACT_GELU_ERF) { seam_activation_scalar(activation, x, n); return; }
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(x + i, activation == ACT_GELU_TANH ? gelu_tanh8(v) : gelu_erf8(v));
    }
    if (i < n) {
        float tail[8] = {0};
        memcpy(tail, x + i, (size_t)(n - i) * sizeof(float));
        __m256 v = _mm256_loadu_ps(tail);
        _mm256_storeu_ps(tail, activation == ACT_GELU_TANH ? gelu_tanh8(v) : gelu_erf8(v));
        memcpy(x + i, tail, (size_t)(n - i) * sizeof(float));
    }
}

/* exp8 clamps its input at -87; lanes below that are set to exactly 0 so masked
 * (-INFINITY) keys drop out as they do in the scalar version. A tail goes through a
 * -INFINITY-padded copy; rows of whole vectors (attention at 16, 128 keys) skip it, which
 * was an exp8 and a scalar loop per row: 1.21 -> 1.00 ns an element at 128 keys, 3.15 ->
 * 2.18 at 16 (Zen 3 VM), the same bits. */
static void avx2_softmax(float *x, int n) {
    int body = n / 8 * 8, has_tail = body < n;
    float tail[8];
    __m256 mx = _mm256_set1_ps(-INFINITY);
    if (has_tail) {
        for (int j = 0; j < 8; j++) tail[j] = body + j < n ? x[body + j] : -INFINITY;
        mx = _mm256_loadu_ps(tail);
    }
    for (int i = 0; i < body; i += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(x + i));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    __m256 top = _mm256_set1_ps(_mm_cvtss_f32(h)), floor = _mm256_set1_ps(-87.0f), sum = _mm256_setzero_ps();
    for (int i = 0; i < body + 8 * has_tail; i += 8) {
        float *p = i < body ? x + i : tail;
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(p), top);
        __m256 e = _mm256_and_ps(exp8(d), _mm256_cmp_ps(d, floor, _CMP_GE_OQ));
        sum = _mm256_add_ps(sum, e);
        _mm256_storeu_ps(p, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum8(sum));
    for (int i = 0; i < body; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (int j = 0; body + j < n; j++) x[body + j] = tail[j] * _mm_cvtss_f32(_mm256_castps256_ps128(inv));
}

/* Same two passes in double as the scalar reference, and the same float expression for y
 * (no FMA contraction), so results agree to the last bit or one ulp. */
static void avx2_layernorm(const float *x, const float *w, const float *b, float eps, float *y, int n) {
    int body = n / 8 * 8;
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    for (int i = 0; i < body; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    double lanes[4], sum = 0.0, var = 0.0;
    _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
    for (int j = 0; j < 4; j++) sum += lanes[j];
    for (int i = body; i < n; i++) sum += x[i];
    double mean = sum / n;
    __m256d mu = _mm256_set1_pd(mean), v0 = _mm256_setzero_pd(), v1 = v0;
    for (int i = 0; i < body; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mu);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mu);
        v0 = _mm256_fmadd_pd(d0, d0, v0);
        v1 = _mm256_fmadd_pd(d1, d1, v1);
    }
    _mm256_storeu_pd(lanes, _mm256_add_pd(v0, v1));
    for (int j = 0; j < 4; j++) var += lanes[j];
    for (int i = body; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= n;
    float invf = (float)(1.0 / sqrt(var + eps)), muf = (float)mean;
    __m256 inv = _mm256_set1_ps(invf), muv = _mm256_set1_ps(muf);
    for (int i = 0; i < body; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), muv), inv), _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(y + i, _mm256_add_ps(v, _mm256_loadu_ps(b + i)));
    }
    for (int i = body; i < n; i++) y[i] = (x[i] - muf) * invf * w[i] + b[i];
}

/* Lanes [0, n) of a ymm of floats set (n clamped to [0, 8]), for maskload / maskstore. */
AI __m256i tail8(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

/* Output components d0 .. d0 + 8 NV of R rows from V in rows (NV <= 2), as in
 * kernels_avx512.c; a component tail past D (whole == 0) goes through masked loads and
 * stores. Whole blocks do not: on the Zen 3 VM, the masked forms (here and in
 * attend_scores16) made MiniLM's attention 1.23-1.29 times as slow at 128 tokens and 1.17
 * at 12, for the same bits (bench/results/vm-2026-12-07-zen3-attention.md). */
AI void attend_out_rows(const seam_attend_tile *a, const int R, const int NV, const int whole, int d0, int nmax,
                        size_t lds) {
    int dw = a->D - d0;
    __m256i mk[2];
    __m256 acc[SEAM_ATTEND_ROWS][2];
    _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) mk[j] = tail8(dw - 8 * j);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] = _mm256_setzero_ps();
    for (int i = 0; i < nmax; i++) {
        const float *vr = a->v + (size_t)i * a->ldv + d0;
        __m256 v[2];
        _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++)
            v[j] = whole ? _mm256_loadu_ps(vr + 8 * j) : _mm256_maskload_ps(vr + 8 * j, mk[j]);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            __m256 p = _mm256_broadcast_ss(a->scores + (size_t)r * lds + (size_t)i);
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] = _mm256_fmadd_ps(p, v[j], acc[r][j]);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) {
            float *o = a->out + (size_t)r * a->ldo + (size_t)(d0 + 8 * j);
            if (whole) _mm256_storeu_ps(o, acc[r][j]);
            else _mm256_maskstore_ps(o, mk[j], acc[r][j]);
        }
}

/* Scores of R rows against keys i .. i + 16 (whole: all 16 there; else masked loads and
 * stores for the last keys), scaled, into the scores rows. */
AI void attend_scores16(const seam_attend_tile *a, const int R, const int whole, int i, int nmax, size_t lds) {
    __m256i m0 = tail8(nmax - i), m1 = tail8(nmax - i - 8);
    __m256 s0[SEAM_ATTEND_ROWS], s1[SEAM_ATTEND_ROWS], sc = _mm256_set1_ps(a->scale);
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) s0[r] = s1[r] = _mm256_setzero_ps();
    for (int d = 0; d < a->D; d++) {
        const float *row = a->kt + (size_t)d * a->ld + i;
        __m256 k0 = whole ? _mm256_loadu_ps(row) : _mm256_maskload_ps(row, m0);
        __m256 k1 = whole ? _mm256_loadu_ps(row + 8) : _mm256_maskload_ps(row + 8, m1);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            __m256 qd = _mm256_broadcast_ss(a->q + (size_t)r * a->ldq + (size_t)d);
            s0[r] = _mm256_fmadd_ps(qd, k0, s0[r]);
            s1[r] = _mm256_fmadd_ps(qd, k1, s1[r]);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
        float *p = a->scores + (size_t)r * lds + i;
        if (whole) {
            _mm256_storeu_ps(p, _mm256_mul_ps(s0[r], sc));
            _mm256_storeu_ps(p + 8, _mm256_mul_ps(s1[r], sc));
        } else {
            _mm256_maskstore_ps(p, m0, _mm256_mul_ps(s0[r], sc));
            _mm256_maskstore_ps(p + 8, m1, _mm256_mul_ps(s1[r], sc));
        }
    }
}

/* The tile with its row count fixed at compile time (see kernels_avx512.c): scores for 16
 * keys x R rows (2R ymm), then 2 output components x R rows (2R ymm) per pass, which with
 * the loads fits the 16 ymm registers. The last keys go through masked loads, not one by
 * one: a sentence of 12 tokens has no full block of 16, and its scores element by element
 * made attention 10% of a batch of 32 x 12 for 0.5% of the multiply-adds (Zen 3). */
AI void attend_rows(const seam_attend_tile *a, const int R) {
    int D = a->D, nmax = a->n + (a->causal ? R - 1 : 0);
    size_t lds = (size_t)(a->n + a->R), ld = a->ld;
    for (int i = 0; i < nmax; i += 16) {
        if (nmax - i >= 16) attend_scores16(a, R, 1, i, nmax, lds);
        else attend_scores16(a, R, 0, i, nmax, lds);
    }
    seam_attend_probs(a, nmax, lds, avx2_softmax);
    if (a->v) {
        for (int d0 = 0; d0 < D; d0 += 16) {
            int dw = D - d0;
            if (dw >= 16) attend_out_rows(a, R, 2, 1, d0, nmax, lds);
            else if (dw > 8) attend_out_rows(a, R, 2, 0, d0, nmax, lds);
            else if (dw == 8) attend_out_rows(a, R, 1, 1, d0, nmax, lds);
            else attend_out_rows(a, R, 1, 0, d0, nmax, lds);
        }
        return;
    }
    int d = 0, vb = nmax / 8 * 8;
    for (; d + 2 <= D; d += 2) {
        const float *v0 = a->vt + (size_t)d * ld, *v1 = v0 + ld;
        __m256 acc0[SEAM_ATTEND_ROWS], acc1[SEAM_ATTEND_ROWS];
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) acc0[r] = acc1[r] = _mm256_setzero_ps();
        for (int i = 0; i < vb; i += 8) {
            __m256 w0 = _mm256_loadu_ps(v0 + i), w1 = _mm256_loadu_ps(v1 + i);
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                __m256 p = _mm256_loadu_ps(a->scores + (size_t)r * lds + i);
                acc0[r] = _mm256_fmadd_ps(p, w0, acc0[r]);
                acc1[r] = _mm256_fmadd_ps(p, w1, acc1[r]);
            }
        }
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            const float *p = a->scores + (size_t)r * lds;
            float s0 = hsum8(acc0[r]), s1 = hsum8(acc1[r]);
            for (int i = vb; i < nmax; i++) { s0 += p[i] * v0[i]; s1 += p[i] * v1[i]; }
            a->out[(size_t)r * a->ldo + (size_t)d] = s0;
            a->out[(size_t)r * a->ldo + (size_t)d + 1] = s1;
        }
    }
    for (; d < D; d++)
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
            a->out[(size_t)r * a->ldo + (size_t)d] = avx2_dot(a->scores + (size_t)r * lds, a->vt + (size_t)d * ld, nmax);
}

static void avx2_attend(const seam_attend_tile *a) {
    switch (a->R) {
    case 4: attend_rows(a, 4); break;
    case 3: attend_rows(a, 3); break;
    case 2: attend_rows(a, 2); break;
    default: attend_rows(a, 1); break;
    }
}

static void avx2_matmul_packed(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                             int n1) {
    gemm_run_prepacked(gemm_stream_tiles, gemm_tiles, x, T, packed, K, (size_t)N, b, y, n0, n1);
}

const seam_kernels seam_kernels_avx2 = {
    "avx2", avx2_matmul_kn, avx2_matmul_nk, avx2_dot, avx2_axpy, avx2_scale, avx2_row_to_f32,
    avx2_activation, avx2_softmax, avx2_layernorm, avx2_attend, NULL, GEMM_NR, gemm_prepack_nk, avx2_matmul_packed, 0, 1, 0,
    seam_transpose_generic, GEMM_MR,
};
#endif
