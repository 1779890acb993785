/* AVX2 quantised kernels (compiled with -mavx2 -mfma -mf16c; only called after the
 * dispatcher has checked cpuid). Integer products with vpmaddubsw (unsigned × signed bytes
 * → pairs of int16) and vpmaddwd (→ int32): q8 takes |w| and moves w's sign onto x
 * (vpsignb), so every pair sum stays within ±2·127·127 and never saturates; q4's values are
 * already unsigned (≤ 2·15·127). Four weight rows share each load of an activation block. */
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/quant_x86.h"

/* Activation rows per pass over a panel of weight rows: x[TB, K] int8 stays in L2 while
 * the four weight rows being used stay in L1. */
#define QT_BLOCK 32

/* The per-row work of one block, written out per row (RB_0..RB_3) so the accumulators
 * live in registers: GCC -O2 does not unroll the row loop on its own. */
#define Q8_ROW(r)                                                                                             \
    do {                                                                                                      \
        __m256i wv = _mm256_loadu_si256((const __m256i *)(w##r + b * SEAM_QBLOCK));                           \
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv)), ones); \
        a##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_broadcast_ss(&sc[r][j]), a##r);                  \
    } while (0)

#define Q4_ROW(r)                                                                                             \
    do {                                                                                                      \
        __m256i wv = q4_unpack32(w##r + b * (SEAM_QBLOCK / 2));                                               \
        __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(wv, xv), ones);                                    \
        a##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_broadcast_ss(&sc[r][j]), a##r);                  \
    } while (0)

/* Combined scales of R rows for the group of g blocks starting at b into sc. */
QAI void group_scales(const uint16_t *const *dr, int R, const float *xd, int b, int g, float (*sc)[8]) {
    if (g == 8) q_scales8(dr, R, xd, b, sc);
    else
        for (int r = 0; r < R; r++)
            for (int j = 0; j < g; j++) sc[r][j] = seam_f16_to_f32(dr[r][b + j]) * xd[b + j];
}

/* Four weight rows (w0..w3, K apart) against one activation row. */
QAI void q8_tile4(const int8_t *xq, const float *xd, int K, const int8_t *w, const uint16_t *wd, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *w0 = w, *w1 = w + K, *w2 = w + 2 * (size_t)K, *w3 = w + 3 * (size_t)K;
    const uint16_t *dr[4] = {wd, wd + nb, wd + 2 * nb, wd + 3 * nb};
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    float sc[4][8];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 8 ? 8 : nb - b;
        group_scales(dr, 4, xd, b, g, sc);
        for (int j = 0; j < g; j++, b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            /* the next four rows: 128 bytes per block covers them by the end of these */
            _mm_prefetch((const char *)(w3 + K + (size_t)b * 128), _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + K + (size_t)b * 128 + 64), _MM_HINT_T0);
            Q8_ROW(0); Q8_ROW(1); Q8_ROW(2); Q8_ROW(3);
        }
    }
    out[0] = q_hsum8(a0); out[1] = q_hsum8(a1); out[2] = q_hsum8(a2); out[3] = q_hsum8(a3);
}

QAI void q8_tile1(const int8_t *xq, const float *xd, int K, const int8_t *w, const uint16_t *wd, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m256i ones = _mm256_set1_epi16(1);
    const int8_t *w0 = w;
    const uint16_t *dr[1] = {wd};
    __m256 a0 = _mm256_setzero_ps();
    float sc[1][8];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 8 ? 8 : nb - b;
        group_scales(dr, 1, xd, b, g, sc);
        for (int j = 0; j < g; j++, b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            Q8_ROW(0);
        }
    }
    out[0] = q_hsum8(a0);
}

QAI void q4_tile4(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *w, const uint16_t *wd,
                  const uint16_t *wm, float *out) {
    int nb = K / SEAM_QBLOCK;
    size_t rb = (size_t)K / 2;
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *w0 = w, *w1 = w + rb, *w2 = w + 2 * rb, *w3 = w + 3 * rb;
    const uint16_t *dr[4] = {wd, wd + nb, wd + 2 * nb, wd + 3 * nb};
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    float sc[4][8];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 8 ? 8 : nb - b;
        group_scales(dr, 4, xd, b, g, sc);
        for (int j = 0; j < g; j++, b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            _mm_prefetch((const char *)(w3 + rb + (size_t)b * 64), _MM_HINT_T0);
            Q4_ROW(0); Q4_ROW(1); Q4_ROW(2); Q4_ROW(3);
        }
    }
    out[0] = q_hsum8(a0) + q_min_term(wm, xs, nb);
    out[1] = q_hsum8(a1) + q_min_term(wm + nb, xs, nb);
    out[2] = q_hsum8(a2) + q_min_term(wm + 2 * nb, xs, nb);
    out[3] = q_hsum8(a3) + q_min_term(wm + 3 * nb, xs, nb);
}

QAI void q4_tile1(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *w, const uint16_t *wd,
                  const uint16_t *wm, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m256i ones = _mm256_set1_epi16(1);
    const uint8_t *w0 = w;
    const uint16_t *dr[1] = {wd};
    __m256 a0 = _mm256_setzero_ps();
    float sc[1][8];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 8 ? 8 : nb - b;
        group_scales(dr, 1, xd, b, g, sc);
        for (int j = 0; j < g; j++, b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            Q4_ROW(0);
        }
    }
    out[0] = q_hsum8(a0) + q_min_term(wm, xs, nb);
}

static void avx2_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;
    const int8_t *wq = W->data;
    for (int t0 = 0; t0 < T; t0 += QT_BLOCK) {
        int t1 = T - t0 < QT_BLOCK ? T : t0 + QT_BLOCK;
        int n = n0;
        for (; n + 4 <= n1; n += 4)
            for (int t = t0; t < t1; t++) {
                float o[4];
                q8_tile4(x->q + (size_t)t * K, x->d + (size_t)t * nb, K, wq + (size_t)n * K, W->scale + (size_t)n * nb, o);
                float *yr = y + (size_t)t * N + n;
                for (int r = 0; r < 4; r++) yr[r] = o[r] + (bias ? bias[n + r] : 0.0f);
            }
        for (; n < n1; n++)
            for (int t = t0; t < t1; t++) {
                float o[1];
                q8_tile1(x->q + (size_t)t * K, x->d + (size_t)t * nb, K, wq + (size_t)n * K, W->scale + (size_t)n * nb, o);
                y[(size_t)t * N + n] = o[0] + (bias ? bias[n] : 0.0f);
            }
    }
}

static void avx2_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;
    const uint8_t *wq = W->data;
    for (int t0 = 0; t0 < T; t0 += QT_BLOCK) {
        int t1 = T - t0 < QT_BLOCK ? T : t0 + QT_BLOCK;
        int n = n0;
        for (; n + 4 <= n1; n += 4)
            for (int t = t0; t < t1; t++) {
                float o[4];
                q4_tile4(x->q + (size_t)t * K, x->d + (size_t)t * nb, x->s + (size_t)t * nb, K, wq + (size_t)n * (K / 2),
                         W->scale + (size_t)n * nb, W->min + (size_t)n * nb, o);
                float *yr = y + (size_t)t * N + n;
                for (int r = 0; r < 4; r++) yr[r] = o[r] + (bias ? bias[n + r] : 0.0f);
            }
        for (; n < n1; n++)
            for (int t = t0; t < t1; t++) {
                float o[1];
                q4_tile1(x->q + (size_t)t * K, x->d + (size_t)t * nb, x->s + (size_t)t * nb, K, wq + (size_t)n * (K / 2),
                         W->scale + (size_t)n * nb, W->min + (size_t)n * nb, o);
                y[(size_t)t * N + n] = o[0] + (bias ? bias[n] : 0.0f);
            }
    }
}

static void avx2_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avx2 = {"avx2", avx2_quantize_x, avx2_matmul_q8, avx2_matmul_q4, 0, 0, 0, 0};
#endif
