/* AVX-512 VNNI quantised kernels (compiled with AVX-512 F/BW/VL/DQ + VNNI flags; only
 * called after the dispatcher has checked cpuid). vpdpbusd multiplies unsigned by signed
 * bytes and adds groups of four into int32 lanes without intermediate saturation. One zmm
 * holds two blocks of 32; an odd last block goes through the 256-bit form. q8 takes |w| and
 * negates x where w < 0 (a mask from vpmovb2m); q4's values are unsigned already. */
#if defined(__x86_64__)
#include <limits.h>
#include <string.h>

#include "kernels/quant_x86.h"

#define QT_BLOCK 32
#define VT_MIN_T 5    /* one tile (15 rows) cost about as much as 4.4 rows of per-row dots */

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

/* ------------------------------------------------------------------ prefill tiles
 *
 * Register tiles (kernels/quant_tiles.h) at 512 bits: 15 rows and the correction lane in one
 * zmm against 12 columns, 12 int + 12 f32 sums. GCC 12 loads each broadcast with its own
 * vpbroadcastd; writing it into vpdpbusd's memory operand by asm was no faster. */
#define QTL_LANES 16
#define QTL_ROWS (QTL_LANES - 1)
#define QTL_NC 12
#define QTL_MAX_NB 128 /* blocks per chunk of K: the panels take 64 KiB of stack */

/* nb f16 values → f32 (block scales and q4 offsets of one column). */
QAI void qtl_f16_row(const uint16_t *h, int nb, float *f) {
    for (int b = 0; b < nb; b += 16) {
        __mmask16 k = nb - b >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (nb - b)) - 1u);
        _mm512_mask_storeu_ps(f + b, k, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, h + b)));
    }
}

/* One q4 row of nb blocks → 32 bytes per block in value order: byte j of a block holds
 * value j in its low nibble and value j + 16 in its high one. Four blocks per zmm. */
QAI void qtl_unpack_q4(const uint8_t *p, int nb, int8_t *out) {
    const __m512i mask = _mm512_set1_epi8(0x0F);
    const __m512i even = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), odd = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int b = 0; b < nb; b += 4) {
        int r = nb - b >= 4 ? 4 : nb - b;
        __mmask64 kin = r == 4 ? ~(__mmask64)0 : (((__mmask64)1 << (16 * r)) - 1);
        __m512i v = _mm512_maskz_loadu_epi8(kin, p + (size_t)b * (SEAM_QBLOCK / 2));
        __m512i lo = _mm512_and_si512(v, mask), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);
        int8_t *o = out + (size_t)b * SEAM_QBLOCK;
        __mmask64 k0 = r >= 2 ? ~(__mmask64)0 : (((__mmask64)1 << 32) - 1), k1 = r == 4 ? ~(__mmask64)0 : (((__mmask64)1 << 32) - 1);
        _mm512_mask_storeu_epi8(o, k0, _mm512_permutex2var_epi64(lo, even, hi));
        if (r > 2) _mm512_mask_storeu_epi8(o + 2 * SEAM_QBLOCK, k1, _mm512_permutex2var_epi64(lo, odd, hi));
    }
}

#define VT_DP(c) ai##c = _mm512_dpbusd_epi32(ai##c, xv, _mm512_set1_epi32(q_load4(w##c + o)))
#define VT_EPI(c)                                                                                             \
    do {                                                                                                      \
        __m512i v_ = _mm512_sub_epi32(ai##c, _mm512_permutexvar_epi32(last, ai##c));                          \
        af##c = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v_), _mm512_mul_ps(dxv, _mm512_set1_ps(dw[c][b])), af##c); \
        ai##c = _mm512_setzero_si512();                                                                       \
    } while (0)
#define VT_MIN(c) af##c = _mm512_fmadd_ps(sv, _mm512_set1_ps(mw[c][b]), af##c)
#define VT_ALL(M) M(0); M(1); M(2); M(3); M(4); M(5); M(6); M(7); M(8); M(9); M(10); M(11)

/* One tile: the panel's rows against columns w0..w11 over all nb blocks, plus the q4
 * offsets when sp is non-NULL; sums (without bias) to out[c][lane]. */
static void qtl_tile(const uint32_t *xp, const float *dp, const float *sp, int nb, const int8_t *const *w,
                    float (*dw)[QTL_MAX_NB], float (*mw)[QTL_MAX_NB], float (*out)[QTL_LANES]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3], *w4 = w[4], *w5 = w[5];
    const int8_t *w6 = w[6], *w7 = w[7], *w8 = w[8], *w9 = w[9], *w10 = w[10], *w11 = w[11];
    const __m512i last = _mm512_set1_epi32(QTL_LANES - 1);
    __m512i ai0 = _mm512_setzero_si512(), ai1 = ai0, ai2 = ai0, ai3 = ai0, ai4 = ai0, ai5 = ai0;
    __m512i ai6 = ai0, ai7 = ai0, ai8 = ai0, ai9 = ai0, ai10 = ai0, ai11 = ai0;
    __m512 af0 = _mm512_setzero_ps(), af1 = af0, af2 = af0, af3 = af0, af4 = af0, af5 = af0;
    __m512 af6 = af0, af7 = af0, af8 = af0, af9 = af0, af10 = af0, af11 = af0;
    for (int b = 0; b < nb; b++) {
        /* unrolled: rolled, GCC copies the 12 sums between registers on every step */
#pragma GCC unroll 8
        for (int s = 0; s < SEAM_QBLOCK / 4; s++) {
            size_t o = (size_t)b * SEAM_QBLOCK + (size_t)s * 4;
            __m512i xv = _mm512_load_si512((const void *)(xp + ((size_t)b * (SEAM_QBLOCK / 4) + (size_t)s) * QTL_LANES));
            VT_ALL(VT_DP);
        }
        __m512 dxv = _mm512_load_ps(dp + (size_t)b * QTL_LANES);
        VT_ALL(VT_EPI);
    }
    if (sp)
        for (int b = 0; b < nb; b++) {
            __m512 sv = _mm512_load_ps(sp + (size_t)b * QTL_LANES);
            VT_ALL(VT_MIN);
        }
#define VT_OUT(c) _mm512_storeu_ps(out[c], af##c)
    VT_ALL(VT_OUT);
}

/* The tile's sums plus bias (or, with add, plus what y holds) into rows [0, m) of y (row
 * stride N) at columns [0, nc), written along y's rows: a 16 × 16 transpose in registers
 * (columns 12..15 zero) turns the 12 column vectors into row vectors. */
QAI void qtl_store(float (*out)[QTL_LANES], int m, int nc, const float *bias, int add, float *y, size_t N) {
    __m512 r[16], t[16];
    for (int c = 0; c < 16; c++) r[c] = c < QTL_NC ? _mm512_load_ps(out[c]) : _mm512_setzero_ps();
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* r[4i + e], 128-bit lane L: columns 4i..4i+3 of row 4L + e */
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
        __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
    }
    for (int e = 0; e < 4; e++) {
        __m512 u0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88), u1 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xDD);
        __m512 u2 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88), u3 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xDD);
        t[e] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        t[8 + e] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
        t[4 + e] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        t[12 + e] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    __mmask16 k = (__mmask16)((1u << nc) - 1u);
    __m512 bv = bias ? _mm512_maskz_loadu_ps(k, bias) : _mm512_setzero_ps();
    for (int l = 0; l < m; l++) {
        __m512 v = _mm512_add_ps(t[l], add ? _mm512_maskz_loadu_ps(k, y + (size_t)l * N) : bv);
        _mm512_mask_storeu_ps(y + (size_t)l * N, k, v);
    }
}

#include "kernels/quant_tiles.h"

/* Per-row dot products (decode, and rows too few for a tile). */
static void rows_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

static void rows_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
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

static void vnni_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, VT_MIN_T, rows_q8);
}

static void vnni_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, VT_MIN_T, rows_q4);
}

static void vnni_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avx512vnni = {"avx512vnni", vnni_quantize_x, vnni_matmul_q8, vnni_matmul_q4, 0, INT_MAX,
                                                QTL_LANES, VT_MIN_T};
#endif
