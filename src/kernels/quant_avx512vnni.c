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

QAI void q8_tile(const int8_t *xq, const float *xd, int K, const int8_t *w, const uint16_t *wd, int R, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m512i zero = _mm512_setzero_si512();
    __m512 acc[4];
    __m256 acc1[4];
    const int8_t *wr[4];
    const uint16_t *dr[4];
    for (int r = 0; r < R; r++) {
        acc[r] = _mm512_setzero_ps();
        acc1[r] = _mm256_setzero_ps();
        wr[r] = w + (size_t)r * K;
        dr[r] = wd + (size_t)r * nb;
    }
    float sc[4][16];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 16 ? 16 : nb - b;
        scales16(dr, R, xd, b, g, sc);
        int j = 0;
        for (; j + 2 <= g; j += 2, b += 2) {
            __m512i xv = _mm512_loadu_si512((const void *)(xq + b * SEAM_QBLOCK));
            for (int r = 0; r < R; r++) {
                __m512i wv = _mm512_loadu_si512((const void *)(wr[r] + b * SEAM_QBLOCK));
                __m512i sx = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(wv), zero, xv);
                __m512i p = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(wv), sx);
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), pair_scale(&sc[r][j]), acc[r]);
            }
        }
        if (j < g) { /* odd last block */
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            for (int r = 0; r < R; r++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(wr[r] + b * SEAM_QBLOCK));
                __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
                acc1[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(sc[r][j]), acc1[r]);
            }
            b++;
        }
    }
    for (int r = 0; r < R; r++) out[r] = _mm512_reduce_add_ps(acc[r]) + q_hsum8(acc1[r]);
}

QAI void q4_tile(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *w, const uint16_t *wd,
                 const uint16_t *wm, int R, float *out) {
    int nb = K / SEAM_QBLOCK;
    const __m512i zero = _mm512_setzero_si512(), mask = _mm512_set1_epi8(0x0F);
    /* [p0, p0, p1, p1] by 128-bit lanes, then the high nibbles of lanes 1 and 3. */
    const __m512i dup = _mm512_set_epi64(3, 2, 3, 2, 1, 0, 1, 0);
    __m512 acc[4];
    __m256 acc1[4];
    const uint8_t *wr[4];
    const uint16_t *dr[4];
    for (int r = 0; r < R; r++) {
        acc[r] = _mm512_setzero_ps();
        acc1[r] = _mm256_setzero_ps();
        wr[r] = w + (size_t)r * (K / 2);
        dr[r] = wd + (size_t)r * nb;
    }
    float sc[4][16];
    for (int b = 0; b < nb;) {
        int g = nb - b >= 16 ? 16 : nb - b;
        scales16(dr, R, xd, b, g, sc);
        int j = 0;
        for (; j + 2 <= g; j += 2, b += 2) {
            __m512i xv = _mm512_loadu_si512((const void *)(xq + b * SEAM_QBLOCK));
            for (int r = 0; r < R; r++) {
                __m512i pv = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(wr[r] + b * (SEAM_QBLOCK / 2))));
                pv = _mm512_permutexvar_epi64(dup, pv);
                pv = _mm512_and_si512(_mm512_mask_srli_epi16(pv, 0xFF00FF00u, pv, 4), mask);
                __m512i p = _mm512_dpbusd_epi32(zero, pv, xv);
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), pair_scale(&sc[r][j]), acc[r]);
            }
        }
        if (j < g) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * SEAM_QBLOCK));
            for (int r = 0; r < R; r++) {
                __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q4_unpack32(wr[r] + b * (SEAM_QBLOCK / 2)), xv);
                acc1[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(sc[r][j]), acc1[r]);
            }
            b++;
        }
    }
    for (int r = 0; r < R; r++) {
        const uint16_t *m = wm + (size_t)r * nb;
        __m512 am = _mm512_setzero_ps();
        int b = 0;
        for (; b + 16 <= nb; b += 16)
            am = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(m + b))), _mm512_loadu_ps(xs + b), am);
        if (b < nb) {
            __mmask16 k = (__mmask16)((1u << (nb - b)) - 1);
            am = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, m + b)), _mm512_maskz_loadu_ps(k, xs + b), am);
        }
        out[r] = _mm512_reduce_add_ps(acc[r]) + q_hsum8(acc1[r]) + _mm512_reduce_add_ps(am);
    }
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
                q8_tile(x->q + (size_t)t * K, x->d + (size_t)t * nb, K, wq + (size_t)n * K, W->scale + (size_t)n * nb, 4, o);
                float *yr = y + (size_t)t * N + n;
                for (int r = 0; r < 4; r++) yr[r] = o[r] + (bias ? bias[n + r] : 0.0f);
            }
        for (; n < n1; n++)
            for (int t = t0; t < t1; t++) {
                float o[1];
                q8_tile(x->q + (size_t)t * K, x->d + (size_t)t * nb, K, wq + (size_t)n * K, W->scale + (size_t)n * nb, 1, o);
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
                q4_tile(x->q + (size_t)t * K, x->d + (size_t)t * nb, x->s + (size_t)t * nb, K, wq + (size_t)n * (K / 2),
                        W->scale + (size_t)n * nb, W->min + (size_t)n * nb, 4, o);
                float *yr = y + (size_t)t * N + n;
                for (int r = 0; r < 4; r++) yr[r] = o[r] + (bias ? bias[n + r] : 0.0f);
            }
        for (; n < n1; n++)
            for (int t = t0; t < t1; t++) {
                float o[1];
                q4_tile(x->q + (size_t)t * K, x->d + (size_t)t * nb, x->s + (size_t)t * nb, K, wq + (size_t)n * (K / 2),
                        W->scale + (size_t)n * nb, W->min + (size_t)n * nb, 1, o);
                y[(size_t)t * N + n] = o[0] + (bias ? bias[n] : 0.0f);
            }
    }
}

static void vnni_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avx512vnni = {"avx512vnni", vnni_quantize_x, vnni_matmul_q8, vnni_matmul_q4};
#endif
