/* AVX-512 VNNI quantised kernels (compiled with AVX-512 F/BW/VL/DQ + VNNI flags; only
 * called after the dispatcher has checked cpuid). vpdpbusd multiplies unsigned by signed
 * bytes and adds groups of four into int32 lanes without intermediate saturation. One zmm
 * holds two blocks of 32; an odd last block goes through the 256-bit form. q8 takes |w| and
 * negates x where w < 0 (a mask from vpmovb2m); q4's values are unsigned already. */
#if defined(__x86_64__)
#include "kernels/quant_x86.h"

#define QT_BLOCK 32

/* Scales of blocks (b, b + 1) as [s_b × 8, s_b+1 × 8]. */
QAI __m512 pair_scale(const float *sc) {
    return _mm512_mask_broadcastss_ps(_mm512_set1_ps(sc[0]), 0xFF00, _mm_load_ss(sc + 1));
}

/* Combined scales of R rows for up to 16 blocks [b, b + g), g even or the last group. */
QAI void scales16(const uint16_t *const *dr, int R, const float *xd, int b, int g, float (*sc)[16]) {
    if (g == 16) {
        __m512 xv = _mm512_loadu_ps(xd + b);
        for (int r = 0; r < R; r++)
            _mm512_storeu_ps(sc[r], _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(dr[r] + b))), xv));
    } else {
        __mmask16 m = (__mmask16)((1u << g) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, xd + b);
        for (int r = 0; r < R; r++)
            _mm512_storeu_ps(sc[r], _mm512_mul_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, dr[r] + b)), xv));
    }
}

/* Per-row work of a pair of blocks (and of an odd last block), written out per row so the
 * accumulators stay in registers (GCC -O2 does not unroll the row loop). */
#define Q8_PAIR(r)                                                                                            \
    do {                                                                                                      \
        __m512i wv = _mm512_loadu_si512((const void *)(w##r + b * SEAM_QBLOCK));                              \
        __m512i sx = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(wv), zero, xv);                             \
        __m512i p = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(wv), sx);                                       \
        a##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), pair_scale(&sc[r][j]), a##r);                           \
    } while (0)
#define Q8_ONE(r)                                                                                             \
    do {                                                                                                      \
        __m256i wv = _mm256_loadu_si256((const __m256i *)(w##r + b * SEAM_QBLOCK));                           \
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv)); \
        e##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(sc[r][j]), e##r);                        \
    } while (0)
/* q4: [p0, p0, p1, p1] by 128-bit lanes, then the high nibbles of lanes 1 and 3. */
#define Q4_PAIR(r)                                                                                            \
    do {                                                                                                      \
        __m512i pv = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w##r + b * (SEAM_QBLOCK / 2)))); \
        pv = _mm512_permutexvar_epi64(dup, pv);                                                               \
        pv = _mm512_and_si512(_mm512_mask_srli_epi16(pv, 0xFF00FF00u, pv, 4), mask);                          \
        __m512i p = _mm512_dpbusd_epi32(zero, pv, xv);                                                        \
        a##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), pair_scale(&sc[r][j]), a##r);                           \
    } while (0)
#define Q4_ONE(r)                                                                                             \
    do {                                                                                                      \
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q4_unpack32(w##r + b * (SEAM_QBLOCK / 2)), xv); \
        e##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(sc[r][j]), e##r);                       \
    } while (0)

/* Σ_b m[b] * s[b] (the q4 offset term of one row). */
QAI float min_term16(const uint16_t *m, const float *s, int nb) {
    __m512 am = _mm512_setzero_ps();
    int b = 0;
    for (; b + 16 <= nb; b += 16)
        am = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(m + b))), _mm512_loadu_ps(s + b), am);
    if (b < nb) {
        __mmask16 k = (__mmask16)((1u << (nb - b)) - 1);
        am = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, m + b)), _mm512_maskz_loadu_ps(k, s + b), am);
    }
    return _mm512_reduce_add_ps(am);
}

/* The block loop shared by the tiles: PAIR_ROWS runs for each pair of blocks, ONE_ROWS for
 * an odd last block of a group; both are statement lists over the tile's rows. */
#define BLOCK_LOOP(R, PREFETCH, PAIR_ROWS, ONE_ROWS)                                                          \
    for (int b = 0; b < nb;) {                                                                                \
        int g = nb - b >= 16 ? 16 : nb - b;                                                                   \
        scales16(dr, R, xd, b, g, sc);                                                                        \
        int j = 0;                                                                                            \
        for (; j + 2 <= g; j += 2, b += 2) {                                                                  \
            __m512i xv = _mm512_loadu_si512((const void *)(xq + b * SEAM_QBLOCK));                            \
            PREFETCH;                                                                                         \
            PAIR_ROWS;                                                                                        \
        }                                                                                                     \
        if (j < g) {                                                                                          \
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));                         \
            ONE_ROWS;                                                                                         \
            b++;                                                                                              \
        }                                                                                                     \
    }

QAI void q8_tile4(const int8_t *xq, const float *xd, int K, const int8_t *w, const uint16_t *wd, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m512i zero = _mm512_setzero_si512();
    const int8_t *w0 = w, *w1 = w + K, *w2 = w + 2 * (size_t)K, *w3 = w + 3 * (size_t)K;
    const uint16_t *dr[4] = {wd, wd + nb, wd + 2 * nb, wd + 3 * nb};
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0;
    float sc[4][16];
    /* the next four rows: 256 bytes per pair of blocks covers them by the end of these */
    BLOCK_LOOP(4,
               _mm_prefetch((const char *)(w3 + K + (size_t)b * 128), _MM_HINT_T0);
               _mm_prefetch((const char *)(w3 + K + (size_t)b * 128 + 64), _MM_HINT_T0);
               _mm_prefetch((const char *)(w3 + K + (size_t)b * 128 + 128), _MM_HINT_T0);
               _mm_prefetch((const char *)(w3 + K + (size_t)b * 128 + 192), _MM_HINT_T0),
               Q8_PAIR(0); Q8_PAIR(1); Q8_PAIR(2); Q8_PAIR(3), Q8_ONE(0); Q8_ONE(1); Q8_ONE(2); Q8_ONE(3))
    out[0] = _mm512_reduce_add_ps(a0) + q_hsum8(e0);
    out[1] = _mm512_reduce_add_ps(a1) + q_hsum8(e1);
    out[2] = _mm512_reduce_add_ps(a2) + q_hsum8(e2);
    out[3] = _mm512_reduce_add_ps(a3) + q_hsum8(e3);
}

QAI void q8_tile1(const int8_t *xq, const float *xd, int K, const int8_t *w, const uint16_t *wd, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m512i zero = _mm512_setzero_si512();
    const int8_t *w0 = w;
    const uint16_t *dr[1] = {wd};
    __m512 a0 = _mm512_setzero_ps();
    __m256 e0 = _mm256_setzero_ps();
    float sc[1][16];
    BLOCK_LOOP(1, (void)0, Q8_PAIR(0), Q8_ONE(0))
    out[0] = _mm512_reduce_add_ps(a0) + q_hsum8(e0);
}

QAI void q4_tile4(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *w, const uint16_t *wd,
                  const uint16_t *wm, float *out) {
    int nb = K / SEAM_QBLOCK;
    size_t rb = (size_t)K / 2;
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi8(0x0F);
    const __m512i dup = _mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0);
    const uint8_t *w0 = w, *w1 = w + rb, *w2 = w + 2 * rb, *w3 = w + 3 * rb;
    const uint16_t *dr[4] = {wd, wd + nb, wd + 2 * nb, wd + 3 * nb};
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, e3 = e0;
    float sc[4][16];
    BLOCK_LOOP(4,
               _mm_prefetch((const char *)(w3 + rb + (size_t)b * 64), _MM_HINT_T0);
               _mm_prefetch((const char *)(w3 + rb + (size_t)b * 64 + 64), _MM_HINT_T0),
               Q4_PAIR(0); Q4_PAIR(1); Q4_PAIR(2); Q4_PAIR(3), Q4_ONE(0); Q4_ONE(1); Q4_ONE(2); Q4_ONE(3))
    out[0] = _mm512_reduce_add_ps(a0) + q_hsum8(e0) + min_term16(wm, xs, nb);
    out[1] = _mm512_reduce_add_ps(a1) + q_hsum8(e1) + min_term16(wm + nb, xs, nb);
    out[2] = _mm512_reduce_add_ps(a2) + q_hsum8(e2) + min_term16(wm + 2 * nb, xs, nb);
    out[3] = _mm512_reduce_add_ps(a3) + q_hsum8(e3) + min_term16(wm + 3 * nb, xs, nb);
}

QAI void q4_tile1(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *w, const uint16_t *wd,
                  const uint16_t *wm, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi8(0x0F);
    const __m512i dup = _mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0);
    const uint8_t *w0 = w;
    const uint16_t *dr[1] = {wd};
    __m512 a0 = _mm512_setzero_ps();
    __m256 e0 = _mm256_setzero_ps();
    float sc[1][16];
    BLOCK_LOOP(1, (void)0, Q4_PAIR(0), Q4_ONE(0))
    out[0] = _mm512_reduce_add_ps(a0) + q_hsum8(e0) + min_term16(wm, xs, nb);
}

static void vnni_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

static void vnni_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

static void vnni_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avx512vnni = {"avx512vnni", vnni_quantize_x, vnni_matmul_q8, vnni_matmul_q4, 0};
#endif
