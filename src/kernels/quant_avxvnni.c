/* AVX-VNNI quantised kernels: the VEX (256-bit) vpdpbusd of CPUs with AVX2 but without
 * AVX-512 (Intel since Alder Lake and its E-core Xeons). Compiled with AVX2 + FMA + F16C +
 * AVX-VNNI flags; only called after the dispatcher has checked cpuid.
 *
 * Prefill-sized products run the register tiles of kernels/quant_tiles.h at 256 bits,
 * within 16 registers: 7 rows and the correction lane in one ymm against 6 columns, 6 int
 * and 6 f32 sums. Fewer rows take the AVX2 table's per-row dot products. */
#if defined(__x86_64__)
#include <limits.h>

#include "kernels/quant_x86.h"

#define QTL_LANES 8
#define QTL_ROWS (QTL_LANES - 1)
#define QTL_NC 6         /* 6 int + 6 f32 sums, x, a broadcast, the scales: 16 registers */
#define QTL_MAX_NB 128   /* blocks per chunk of K: the panels take 32 KiB of stack */
#define VY_MIN_T 4       /* from here one tile (7 rows) beats 4 rows of per-row dots */

#define VY_DP(c) ai##c = _mm256_dpbusd_avx_epi32(ai##c, xv, _mm256_set1_epi32(q_load4(w##c + o)))
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
static void qtl_tile(const uint32_t *xp, const float *dp, const float *sp, int cnb, const int8_t *const *w,
                    float (*dw)[QTL_MAX_NB], float (*mw)[QTL_MAX_NB], float (*out)[QTL_LANES]) {
    const int8_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3], *w4 = w[4], *w5 = w[5];
    const __m256i last = _mm256_set1_epi32(QTL_LANES - 1);
    __m256i ai0 = _mm256_setzero_si256(), ai1 = ai0, ai2 = ai0, ai3 = ai0, ai4 = ai0, ai5 = ai0;
    __m256 af0 = _mm256_setzero_ps(), af1 = af0, af2 = af0, af3 = af0, af4 = af0, af5 = af0;
    for (int b = 0; b < cnb; b++) {
#pragma GCC unroll 8
        for (int s = 0; s < SEAM_QBLOCK / 4; s++) {
            size_t o = (size_t)b * SEAM_QBLOCK + (size_t)s * 4;
            __m256i xv = _mm256_load_si256((const __m256i *)(xp + ((size_t)b * (SEAM_QBLOCK / 4) + (size_t)s) * QTL_LANES));
            VY_ALL(VY_DP);
        }
        __m256 dxv = _mm256_load_ps(dp + (size_t)b * QTL_LANES);
        VY_ALL(VY_EPI);
    }
    if (sp)
        for (int b = 0; b < cnb; b++) {
            __m256 sv = _mm256_load_ps(sp + (size_t)b * QTL_LANES);
            VY_ALL(VY_MIN);
        }
#define VY_OUT(c) _mm256_store_ps(out[c], af##c)
    VY_ALL(VY_OUT);
}

#include "kernels/quant_tiles_ymm.h"
#include "kernels/quant_tiles.h"

static void avxvnni_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, VY_MIN_T, seam_q8_rows_avx2);
}

static void avxvnni_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    qtl_matmul_any(x, T, W, bias, y, n0, n1, VY_MIN_T, seam_q4_rows_avx2);
}

static void avxvnni_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) { q_quantize_x_avx2(x, K, q, d, s); }

const seam_qkernels seam_qkernels_avxvnni = {"avxvnni", avxvnni_quantize_x, avxvnni_matmul_q8, avxvnni_matmul_q4, 0,
                                             INT_MAX, QTL_LANES, VY_MIN_T};
#endif
