/* AVX-512 (F, BW, VL, DQ) kernels. Same shapes as the AVX2 file with 16-float vectors,
 * 6-row register tiles for the Conv1D layout and masked loads for column tails, so no
 * scalar tail loop is needed. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/kernels.h"

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

/* RB rows of x times a panel of up to 32 columns starting at n; m0/m1 mask the columns
 * that exist (all ones except in the last panel). */
AI void kn_tile(const float *x, int K, int RB, const void *W, size_t N, seam_dtype dt, const float *b, float *y, int n,
                __mmask16 m0, __mmask16 m1) {
    __m512 a0[6], a1[6];
    __m512 b0 = b ? _mm512_maskz_loadu_ps(m0, b + n) : _mm512_setzero_ps();
    __m512 b1 = b ? _mm512_maskz_loadu_ps(m1, b + n + 16) : _mm512_setzero_ps();
    for (int r = 0; r < RB; r++) { a0[r] = b0; a1[r] = b1; }
    int full = m0 == 0xFFFF && m1 == 0xFFFF;
    for (int k = 0; k < K; k++) {
        size_t off = (size_t)k * N + (size_t)n;
        __m512 w0, w1;
        if (full) { w0 = ld16(W, off, dt); w1 = ld16(W, off + 16, dt); }
        else { w0 = ld16m(W, off, dt, m0); w1 = ld16m(W, off + 16, dt, m1); }
        for (int r = 0; r < RB; r++) {
            __m512 xv = _mm512_set1_ps(x[(size_t)r * K + k]);
            a0[r] = _mm512_fmadd_ps(xv, w0, a0[r]);
            a1[r] = _mm512_fmadd_ps(xv, w1, a1[r]);
        }
    }
    for (int r = 0; r < RB; r++) {
        _mm512_mask_storeu_ps(y + (size_t)r * N + n, m0, a0[r]);
        _mm512_mask_storeu_ps(y + (size_t)r * N + n + 16, m1, a1[r]);
    }
}

AI void kn_rows(const float *x, int K, int RB, const void *W, size_t N, seam_dtype dt, const float *b, float *y, int n0,
                int n1) {
    for (int n = n0; n < n1; n += 32) {
        int left = n1 - n;
        __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        __mmask16 m1 = left >= 32 ? 0xFFFF : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
        switch (RB) {
        case 6: kn_tile(x, K, 6, W, N, dt, b, y, n, m0, m1); break;
        case 5: kn_tile(x, K, 5, W, N, dt, b, y, n, m0, m1); break;
        case 4: kn_tile(x, K, 4, W, N, dt, b, y, n, m0, m1); break;
        case 3: kn_tile(x, K, 3, W, N, dt, b, y, n, m0, m1); break;
        case 2: kn_tile(x, K, 2, W, N, dt, b, y, n, m0, m1); break;
        default: kn_tile(x, K, 1, W, N, dt, b, y, n, m0, m1); break;
        }
    }
}

AI void kn_dtype(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    /* 256-column panels keep the slice of W that every row block re-reads inside L2. */
    for (int p0 = n0; p0 < n1; p0 += 256) {
        int p1 = p0 + 256 < n1 ? p0 + 256 : n1;
        int t = 0;
        for (; t + 6 <= T; t += 6) kn_rows(x + (size_t)t * K, K, 6, Wm->data, N, dt, b, y + (size_t)t * N, p0, p1);
        if (T - t) kn_rows(x + (size_t)t * K, K, T - t, Wm->data, N, dt, b, y + (size_t)t * N, p0, p1);
    }
}

static void avx512_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

/* Dot-product layout: four W rows share each load of x; the K tail is masked. */
AI void nk_dtype(const float *x, int T, const seam_mat *Wm, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->cols;
    size_t N = (size_t)Wm->rows;
    const void *W = Wm->data;
    int kt = K % 16;
    __mmask16 km = (__mmask16)((1u << kt) - 1);
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        int n = n0;
        for (; n + 4 <= n1; n += 4) {
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            size_t r0 = (size_t)n * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
            int k = 0;
            for (; k + 16 <= K; k += 16) {
                __m512 xv = _mm512_loadu_ps(xr + k);
                a0 = _mm512_fmadd_ps(xv, ld16(W, r0 + k, dt), a0);
                a1 = _mm512_fmadd_ps(xv, ld16(W, r1 + k, dt), a1);
                a2 = _mm512_fmadd_ps(xv, ld16(W, r2 + k, dt), a2);
                a3 = _mm512_fmadd_ps(xv, ld16(W, r3 + k, dt), a3);
            }
            if (kt) {
                __m512 xv = _mm512_maskz_loadu_ps(km, xr + k);
                a0 = _mm512_fmadd_ps(xv, ld16m(W, r0 + k, dt, km), a0);
                a1 = _mm512_fmadd_ps(xv, ld16m(W, r1 + k, dt, km), a1);
                a2 = _mm512_fmadd_ps(xv, ld16m(W, r2 + k, dt, km), a2);
                a3 = _mm512_fmadd_ps(xv, ld16m(W, r3 + k, dt, km), a3);
            }
            yr[n] = _mm512_reduce_add_ps(a0);
            yr[n + 1] = _mm512_reduce_add_ps(a1);
            yr[n + 2] = _mm512_reduce_add_ps(a2);
            yr[n + 3] = _mm512_reduce_add_ps(a3);
        }
        for (; n < n1; n++) {
            size_t r0 = (size_t)n * K;
            __m512 a0 = _mm512_setzero_ps();
            int k = 0;
            for (; k + 16 <= K; k += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + k), ld16(W, r0 + k, dt), a0);
            if (kt) a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(km, xr + k), ld16m(W, r0 + k, dt, km), a0);
            yr[n] = _mm512_reduce_add_ps(a0);
        }
    }
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

const seam_kernels seam_kernels_avx512 = {
    "avx512", avx512_matmul_kn, avx512_matmul_nk, avx512_dot, avx512_axpy, avx512_scale, avx512_row_to_f32,
};
#endif
