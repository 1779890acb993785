/* AVX-VNNI quantised kernels: the VEX (256-bit) vpdpbusd of CPUs with AVX2 but without
 * AVX-512 (Intel since Alder Lake and its E-core Xeons). Compiled with AVX2 + FMA + F16C +
 * AVX-VNNI flags; only called after the dispatcher has checked cpuid.
 *
 * Prefill-sized products run register tiles in the layout of quant_avx512vnni.c's, at half
 * the width and within 16 registers: 7 rows in the lanes of one ymm (the 8th lane sums the
 * 128·Σ w that the others take off, since vpdpbusd reads the rows' bytes as unsigned q +
 * 128) against 6 columns of W, broadcast four bytes at a time; 6 int and 6 f32 sums. q4
 * unpacks its columns to a byte per value first. Integer sums are exact; each block adds
 * (dx·dw)·Σ to an f32 sum in block order (and q4 its offset terms at the end), so results
 * match the scalar kernels to f32 reassociation. Fewer rows take the AVX2 table's per-row
 * dot products. */
#if defined(__x86_64__)
#include <limits.h>
#include <string.h>

#include "kernels/quant_x86.h"

#define VY_LANES 8
#define VY_ROWS (VY_LANES - 1) /* the last lane is the correction */
#define VY_NC 6                /* columns per tile: 6 int + 6 f32 sums, x, a broadcast, scales */
#define VY_MIN_T 4             /* from here one tile (7 rows) beats 4 rows of per-row dots */
#define VY_MAX_NB 128          /* blocks per chunk of K: the panels take 32 KiB of stack */
#define VY_PANEL_WORDS (VY_MAX_NB * (SEAM_QBLOCK / 4) * VY_LANES)

QAI int32_t vy_load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Rows [t0, t0 + m) of x, blocks [b0, b0 + cnb): per group of 4 inputs, 8 lanes of 4 bytes
 * (q + 128; 128, i.e. q = 0, in lanes m..7); block scales (and q4 offset sums where sp is
 * non-NULL) per block in 8 lanes, 0 past m. */
static void vy_panel(const seam_qx *x, int t0, int m, int K, int b0, int cnb, uint32_t *xp, float *dp, float *sp) {
    int nq = cnb * (SEAM_QBLOCK / 4), nb = K / SEAM_QBLOCK;
    for (int l = 0; l < VY_LANES; l++) {
        const int8_t *row = l < m ? x->q + (size_t)(t0 + l) * K + (size_t)b0 * SEAM_QBLOCK : NULL;
        const float *d = l < m ? x->d + (size_t)(t0 + l) * nb + b0 : NULL;
        const float *s = l < m ? x->s + (size_t)(t0 + l) * nb + b0 : NULL;
        for (int q = 0; q < nq; q++) xp[(size_t)q * VY_LANES + l] = row ? (uint32_t)vy_load4(row + 4 * q) ^ 0x80808080u : 0x80808080u;
        for (int b = 0; b < cnb; b++) {
            dp[b * VY_LANES + l] = d ? d[b] : 0.0f;
            if (sp) sp[b * VY_LANES + l] = s ? s[b] : 0.0f;
        }
    }
}

#define VY_DP(c) ai##c = _mm256_dpbusd_avx_epi32(ai##c, xv, _mm256_set1_epi32(vy_load4(w##c + o)))
#define VY_EPI(c)                                                                                              \
    do {                                                                                                       \
        __m256i v_ = _mm256_sub_epi32(ai##c, _mm256_permutevar8x32_epi32(ai##c, last));                        \
        af##c = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v_), _mm256_mul_ps(dxv, _mm256_broadcast_ss(&dw[c][b])), af##c); \
        ai##c = _mm256_setzero_si256();                                                                        \
    } while (0)
#define VY_MIN(c) af##c = _mm256_fmadd_ps(sv, _mm256_broadcast_ss(&mw[c][b]), af##c)
#define VY_ALL(M) M(0); M(1); M(2); M(3); M(4); M(5)

/* One tile: the panel's rows against columns w[0..5] over cnb blocks (plus the q4 offsets
 * where sp is non-NULL); sums without bias to out[c][lane]. */
static void vy_tile(const uint32_t *xp, const float *dp, const float *sp, int cnb, const int8_t *const *w,
                    float (*dw)[VY_MAX_NB], float (*mw)[VY_MAX_NB], float (*out)[VY_LANES]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3], *w4 = w[4], *w5 = w[5];
    const __m256i last = _mm256_set1_epi32(VY_LANES - 1);
    __m256i ai0 = _mm256_setzero_si256(), ai1 = ai0, ai2 = ai0, ai3 = ai0, ai4 = ai0, ai5 = ai0;
    __m256 af0 = _mm256_setzero_ps(), af1 = af0, af2 = af0, af3 = af0, af4 = af0, af5 = af0;
    for (int b = 0; b < cnb; b++) {
#pragma GCC unroll 8
        for (int s = 0; s < SEAM_QBLOCK / 4; s++) {
            size_t o = (size_t)b * SEAM_QBLOCK + (size_t)s * 4;
            __m256i xv = _mm256_load_si256((const __m256i *)(xp + ((size_t)b * (SEAM_QBLOCK / 4) + (size_t)s) * VY_LANES));
            VY_ALL(VY_DP);
        }
        __m256 dxv = _mm256_load_ps(dp + (size_t)b * VY_LANES);
        VY_ALL(VY_EPI);
    }
    if (sp)
        for (int b = 0; b < cnb; b++) {
            __m256 sv = _mm256_load_ps(sp + (size_t)b * VY_LANES);
            VY_ALL(VY_MIN);
        }
#define VY_OUT(c) _mm256_store_ps(out[c], af##c)
    VY_ALL(VY_OUT);
}

/* n f16 values → f32. */
QAI void vy_f16_row(const uint16_t *h, int n, float *f) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) f[i] = seam_f16_to_f32(h[i]);
}

/* matmul_q8 / matmul_q4 on the tiles: rows in blocks of as many 7-row panels as the panel
 * space holds at this K; K in equal chunks of at most VY_MAX_NB blocks, each adding its sums
 * to y; each column tile's set-up serves every panel of the row block. */
static void vy_matmul(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK, q4 = W->type == SEAM_QUANT_Q4;
    int chunks = (nb + VY_MAX_NB - 1) / VY_MAX_NB, cb = (nb + chunks - 1) / chunks;
    int panels = VY_MAX_NB / cb;
    size_t pw = (size_t)cb * (SEAM_QBLOCK / 4) * VY_LANES, pb = (size_t)cb * VY_LANES;
    uint32_t xp[VY_PANEL_WORDS] __attribute__((aligned(32)));
    float dp[VY_MAX_NB * VY_LANES] __attribute__((aligned(32)));
    float sp[VY_MAX_NB * VY_LANES] __attribute__((aligned(32)));
    float dw[VY_NC][VY_MAX_NB], mw[VY_NC][VY_MAX_NB];
    int8_t wu[VY_NC][VY_MAX_NB * SEAM_QBLOCK]; /* q4 columns, unpacked */
    float out[VY_NC][VY_LANES] __attribute__((aligned(32)));
    for (int r0 = 0; r0 < T; r0 += panels * VY_ROWS) {
        int rows = T - r0 < panels * VY_ROWS ? T - r0 : panels * VY_ROWS;
        int np = (rows + VY_ROWS - 1) / VY_ROWS;
        for (int b0 = 0; b0 < nb; b0 += cb) {
            int cnb = nb - b0 < cb ? nb - b0 : cb;
            for (int p = 0; p < np; p++) {
                int m = rows - p * VY_ROWS < VY_ROWS ? rows - p * VY_ROWS : VY_ROWS;
                vy_panel(x, r0 + p * VY_ROWS, m, K, b0, cnb, xp + p * pw, dp + p * pb, q4 ? sp + p * pb : NULL);
            }
            for (int n = n0; n < n1; n += VY_NC) {
                int nc = n1 - n < VY_NC ? n1 - n : VY_NC;
                const int8_t *w[VY_NC];
                for (int c = 0; c < VY_NC; c++) {
                    if (c >= nc) { /* a short tile repeats its last column */
                        w[c] = w[nc - 1];
                        memcpy(dw[c], dw[nc - 1], (size_t)cnb * sizeof(float));
                        if (q4) memcpy(mw[c], mw[nc - 1], (size_t)cnb * sizeof(float));
                        continue;
                    }
                    size_t cs = (size_t)(n + c) * nb + b0; /* the column's first scale */
                    if (q4) {
                        const uint8_t *p = (const uint8_t *)W->data + cs * (SEAM_QBLOCK / 2);
                        for (int b = 0; b < cnb; b++)
                            _mm256_storeu_si256((__m256i *)(wu[c] + b * SEAM_QBLOCK), q4_unpack32(p + b * (SEAM_QBLOCK / 2)));
                        w[c] = wu[c];
                        vy_f16_row(W->min + cs, cnb, mw[c]);
                    } else
                        w[c] = (const int8_t *)W->data + cs * SEAM_QBLOCK;
                    vy_f16_row(W->scale + cs, cnb, dw[c]);
                }
                for (int p = 0; p < np; p++) {
                    int t0 = r0 + p * VY_ROWS, m = rows - p * VY_ROWS < VY_ROWS ? rows - p * VY_ROWS : VY_ROWS;
                    vy_tile(xp + p * pw, dp + p * pb, q4 ? sp + p * pb : NULL, cnb, w, dw, mw, out);
                    for (int l = 0; l < m; l++) {
                        float *yr = y + (size_t)(t0 + l) * N + n;
                        for (int c = 0; c < nc; c++) yr[c] = out[c][l] + (b0 > 0 ? yr[c] : bias ? bias[n + c] : 0.0f);
                    }
                }
            }
        }
    }
}

static void avxvnni_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T >= VY_MIN_T) vy_matmul(x, T, W, bias, y, n0, n1);
    else seam_qkernels_avx2.matmul_q8(x, T, W, bias, y, n0, n1);
}

static void avxvnni_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T >= VY_MIN_T) vy_matmul(x, T, W, bias, y, n0, n1);
    else seam_qkernels_avx2.matmul_q4(x, T, W, bias, y, n0, n1);
}

static void avxvnni_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avxvnni = {"avxvnni", avxvnni_quantize_x, avxvnni_matmul_q8, avxvnni_matmul_q4, 0,
                                             INT_MAX};
#endif
