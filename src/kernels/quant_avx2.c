/* AVX2 quantised kernels (compiled with -mavx2 -mfma -mf16c; only called after the
 * dispatcher has checked cpuid). Integer products with vpmaddubsw (unsigned × signed bytes
 * → pairs of int16) and vpmaddwd (→ int32): q8 takes |w| and moves w's sign onto x
 * (vpsignb), so every pair sum stays within ±2·127·127 and never saturates; q4's values are
 * already unsigned (≤ 2·15·127). Decode and short prompts take per-row dot products (four
 * weight rows share each load of an activation block); prefill-sized products the register
 * tiles at the end of this file. */
#if defined(__x86_64__) || defined(__i386__)
#include <limits.h>

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

void seam_q8_rows_avx2(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

void seam_q4_rows_avx2(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

/* Prefill-sized products on the register tiles of kernels/quant_tiles.h, at 256 bits
 * without vpdpbusd: 7 rows and an idle lane in one ymm against 4 columns. The panels hold
 * x as q + 128, which xor 0x80 turns back into signed q (the idle lane into 0, so it needs
 * no correction). q4's values (0..15) are the unsigned operand of vpmaddubsw as they are;
 * q8 moves w's sign onto x (vpsignb) and multiplies |w|, as the per-row dots do, so no pair
 * sum passes 2 x 127 x 127 and vpmaddubsw never saturates. */
#define QTL_LANES 8
#define QTL_ROWS (QTL_LANES - 1)
#define QTL_NC 4       /* 4 int + 4 f32 sums, x, the constants and temporaries: 16 registers */
#define QTL_MAX_NB 128 /* blocks per chunk of K: the panels take 32 KiB of stack */
/* Rows from which a tile of 7 beats the per-row dots (Zen 3, 768 x 2304): q4 from 4 (31.7
 * against 24.3 GMAC/s), q8, whose tiles save less, from 6 (32 against 30; at 4 rows 22
 * against 30). */
#define QA_MIN_T 4
#define QA_MIN_T_Q8 6

/* Four bytes of column c, broadcast (vpbroadcastd from memory). */
#define QA_W(c) _mm256_set1_epi32(q_load4(w##c + o))
#define QA_Q8(c)                                                                                               \
    do {                                                                                                       \
        __m256i wb_ = QA_W(c);                                                                                 \
        __m256i p_ = _mm256_maddubs_epi16(_mm256_abs_epi8(wb_), _mm256_sign_epi8(xv, wb_));                    \
        ai##c = _mm256_add_epi32(ai##c, _mm256_madd_epi16(p_, ones));                                          \
    } while (0)
/* q4 pair sums stay within 2 x 15 x 127, so a block's 8 steps add up in int16 (at most
 * 30,480) and widen once per block. */
#define QA_Q4(c) ai##c = _mm256_add_epi16(ai##c, _mm256_maddubs_epi16(QA_W(c), xv))
#define QA_WIDEN(c) ai##c = _mm256_madd_epi16(ai##c, ones)
#define QA_EPI(c)                                                                                              \
    do {                                                                                                       \
        af##c = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ai##c), _mm256_mul_ps(dxv, _mm256_broadcast_ss(&dw[c][b])), af##c); \
        ai##c = _mm256_setzero_si256();                                                                        \
    } while (0)
#define QA_MIN(c) af##c = _mm256_fmadd_ps(sv, _mm256_broadcast_ss(&mw[c][b]), af##c)
#define QA_ALL(M) M(0); M(1); M(2); M(3)

/* One tile: the panel's rows against columns w[0..3] over cnb blocks (plus the q4 offsets
 * where sp is non-NULL); sums without bias to out[c][lane]. */
static void qtl_tile(const uint32_t *xp, const float *dp, const float *sp, int cnb, const int8_t *const *w,
                     float (*dw)[QTL_MAX_NB], float (*mw)[QTL_MAX_NB], float (*out)[QTL_LANES]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);
    __m256i ai0 = _mm256_setzero_si256(), ai1 = ai0, ai2 = ai0, ai3 = ai0;
    __m256 af0 = _mm256_setzero_ps(), af1 = af0, af2 = af0, af3 = af0;
    for (int b = 0; b < cnb; b++) {
        const uint32_t *xb = xp + (size_t)b * (SEAM_QBLOCK / 4) * QTL_LANES;
        if (sp) {
#pragma GCC unroll 4
            for (int s = 0; s < SEAM_QBLOCK / 4; s++) {
                size_t o = (size_t)b * SEAM_QBLOCK + (size_t)s * 4;
                __m256i xv = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(xb + (size_t)s * QTL_LANES)), flip);
                QA_ALL(QA_Q4);
            }
            QA_ALL(QA_WIDEN);
        } else {
#pragma GCC unroll 4
            for (int s = 0; s < SEAM_QBLOCK / 4; s++) {
                size_t o = (size_t)b * SEAM_QBLOCK + (size_t)s * 4;
                __m256i xv = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(xb + (size_t)s * QTL_LANES)), flip);
                QA_ALL(QA_Q8);
            }
        }
        __m256 dxv = _mm256_load_ps(dp + (size_t)b * QTL_LANES);
        QA_ALL(QA_EPI);
    }
    if (sp)
        for (int b = 0; b < cnb; b++) {
            __m256 sv = _mm256_load_ps(sp + (size_t)b * QTL_LANES);
            QA_ALL(QA_MIN);
        }
#define QA_OUT(c) _mm256_store_ps(out[c], af##c)
    QA_ALL(QA_OUT);
}

#include "kernels/quant_tiles_ymm.h"
#include "kernels/quant_tiles.h"

static void avx2_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, QA_MIN_T_Q8, seam_q8_rows_avx2);
}

static void avx2_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, QA_MIN_T, seam_q4_rows_avx2);
}

static void avx2_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avx2 = {"avx2", avx2_quantize_x, avx2_matmul_q8, avx2_matmul_q4, 0,
                                          INT_MAX, QTL_LANES, QA_MIN_T};
#endif
