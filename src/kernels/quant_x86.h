/* Helpers shared by the x86 quantised kernels (quant_avx2.c, quant_avx512vnni.c). Each
 * including file is compiled with its own -m flags, so these are always-inline and only
 * use AVX2 + FMA + F16C. */
#ifndef SEAM_KERNELS_QUANT_X86_H
#define SEAM_KERNELS_QUANT_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels/quant.h"
#include "quant/quant.h"

#define QAI static inline __attribute__((always_inline))

/* Four bytes of a row (any alignment: quantised tensors sit where the file puts them). */
QAI int32_t q_load4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

QAI float q_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

QAI int q_hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

/* Bit-identical to the scalar quantize_x: the same max, the same f32 multiply by the same
 * 127 / max, and the same round-to-nearest-even (cvtps under the default MXCSR = lrintf).
 * NaN inputs (and the inf · 0 of a block whose max is infinite) quantise to 0 and stay out
 * of the max, as there: maxps would pass a NaN on and cvtps turn it into INT_MIN. */
QAI __m256 q_nan_to_zero(__m256 v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); }

QAI void q_quantize_x_avx2(const float *x, int K, int8_t *q, float *d, float *s) {
    const __m256 signbit = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *xb = x + b * SEAM_QBLOCK;
        __m256 v0 = q_nan_to_zero(_mm256_loadu_ps(xb)), v1 = q_nan_to_zero(_mm256_loadu_ps(xb + 8));
        __m256 v2 = q_nan_to_zero(_mm256_loadu_ps(xb + 16)), v3 = q_nan_to_zero(_mm256_loadu_ps(xb + 24));
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signbit, v0), _mm256_andnot_ps(signbit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signbit, v2), _mm256_andnot_ps(signbit, v3)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        __m256 iv = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(q_nan_to_zero(_mm256_mul_ps(v0, iv)));
        __m256i i1 = _mm256_cvtps_epi32(q_nan_to_zero(_mm256_mul_ps(v1, iv)));
        __m256i i2 = _mm256_cvtps_epi32(q_nan_to_zero(_mm256_mul_ps(v2, iv)));
        __m256i i3 = _mm256_cvtps_epi32(q_nan_to_zero(_mm256_mul_ps(v3, iv)));
        int sum = q_hsum8i(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
        i0 = _mm256_packs_epi32(i0, i1);
        i2 = _mm256_packs_epi32(i2, i3);
        i0 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(i0, i2), perm);
        _mm256_storeu_si256((__m256i *)(q + b * SEAM_QBLOCK), i0);
        d[b] = amax / 127.0f;
        s[b] = d[b] * (float)sum;
    }
}

/* Combined scales dw[n, b] * dx[b] of R weight rows for blocks [b, b + 8). */
QAI void q_scales8(const uint16_t *const *wd, int R, const float *xd, int b, float (*out)[8]) {
    __m256 xv = _mm256_loadu_ps(xd + b);
    for (int r = 0; r < R; r++)
        _mm256_storeu_ps(out[r], _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wd[r] + b))), xv));
}

/* Σ_b m[b] * s[b] over nb blocks (the q4 offset term of one row). */
QAI float q_min_term(const uint16_t *m, const float *s, int nb) {
    __m256 acc = _mm256_setzero_ps();
    int b = 0;
    for (; b + 8 <= nb; b += 8)
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(m + b))), _mm256_loadu_ps(s + b), acc);
    float r = q_hsum8(acc);
    for (; b < nb; b++) r += seam_f16_to_f32(m[b]) * s[b];
    return r;
}

/* The 32 4-bit values of a q4 block as 32 bytes in order (low nibbles, then high). */
QAI __m256i q4_unpack32(const uint8_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p), mask = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), mask), _mm_and_si128(v, mask));
}

/* The AVX2 table's per-row dot products (quant_avx2.c), which the tiled tables run for
 * products of too few rows for a tile. */
void seam_q8_rows_avx2(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1);
void seam_q4_rows_avx2(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1);

#endif
