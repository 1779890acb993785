/* AArch64 Advanced SIMD quantised kernels. Two tables: "neon" (every AArch64 CPU: smull +
 * smlal into int16, which cannot overflow since |q| ≤ 127, then pairwise adds into int32)
 * and "neondot" (ARMv8.2 dot product, sdot: four products into each int32 lane), chosen by
 * the dispatcher from the kernel's HWCAP. q4 values (0..15) are used as signed bytes. */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "kernels/quant.h"
#include "quant/quant.h"

#define QAI static inline __attribute__((always_inline))

static void neon_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *xb = x + b * SEAM_QBLOCK;
        float32x4_t v[8];
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int i = 0; i < 8; i++) {
            v[i] = vld1q_f32(xb + 4 * i);
            /* maxNum leaves a NaN out of the max, as fmaxf does in the scalar version; the
             * conversion below turns a NaN (or an infinite block's inf · 0) into 0, as there */
            m = vmaxnmq_f32(m, vabsq_f32(v[i]));
        }
        float amax = vmaxvq_f32(m);
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        int32x4_t sum = vdupq_n_s32(0);
        int16x8_t h[4];
        for (int i = 0; i < 4; i++) {
            /* vcvtnq: round to nearest, ties to even, as the scalar reference */
            int32x4_t a = vcvtnq_s32_f32(vmulq_n_f32(v[2 * i], id)), c = vcvtnq_s32_f32(vmulq_n_f32(v[2 * i + 1], id));
            sum = vaddq_s32(sum, vaddq_s32(a, c));
            h[i] = vcombine_s16(vqmovn_s32(a), vqmovn_s32(c));
        }
        vst1q_s8(q + b * SEAM_QBLOCK, vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1])));
        vst1q_s8(q + b * SEAM_QBLOCK + 16, vcombine_s8(vqmovn_s16(h[2]), vqmovn_s16(h[3])));
        d[b] = amax / 127.0f;
        s[b] = d[b] * (float)vaddvq_s32(sum);
    }
}

/* Σ w·x over 32 signed bytes (w0 | w1, x0 | x1) as four int32 lanes. */
QAI int32x4_t dot32_mull(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
    p0 = vmlal_s8(p0, vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t p1 = vmull_s8(vget_low_s8(w1), vget_low_s8(x1));
    p1 = vmlal_s8(p1, vget_high_s8(w1), vget_high_s8(x1));
    return vpadalq_s16(vpaddlq_s16(p0), p1);
}

/* The 32 values of a q4 block as two vectors of bytes (values 0..15 and 16..31). */
QAI void q4_unpack(const uint8_t *p, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t v = vld1q_u8(p);
    *lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
    *hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
}

QAI float q4_min_term(const uint16_t *m, const float *s, int nb) {
    float r = 0.0f;
    for (int b = 0; b < nb; b++) r += seam_f16_to_f32(m[b]) * s[b];
    return r;
}

/* One kernel body per ISA flavour: DOT(w0, w1, x0, x1) gives the int32x4 partial sums. */
#define DEFINE_KERNELS(PREFIX, ATTR, DOT)                                                                    \
    ATTR static void PREFIX##_q8_rows(const int8_t *xq, const float *xd, int K, const int8_t *w,              \
                                      const uint16_t *wd, int R, float *out) {                                \
        int nb = K / SEAM_QBLOCK;                                                                             \
        float32x4_t a[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};                  \
        for (int b = 0; b < nb; b++) {                                                                        \
            int8x16_t x0 = vld1q_s8(xq + b * SEAM_QBLOCK), x1 = vld1q_s8(xq + b * SEAM_QBLOCK + 16);          \
            for (int r = 0; r < R; r++) {                                                                     \
                const int8_t *wr = w + (size_t)r * K + b * SEAM_QBLOCK;                                       \
                int32x4_t p = DOT(vld1q_s8(wr), vld1q_s8(wr + 16), x0, x1);                                   \
                float sc = seam_f16_to_f32(wd[(size_t)r * nb + b]) * xd[b];                                   \
                a[r] = vmlaq_n_f32(a[r], vcvtq_f32_s32(p), sc);                                               \
            }                                                                                                 \
        }                                                                                                     \
        for (int r = 0; r < R; r++) out[r] = vaddvq_f32(a[r]);                                                \
    }                                                                                                         \
    ATTR static void PREFIX##_q4_rows(const int8_t *xq, const float *xd, const float *xs, int K,               \
                                      const uint8_t *w, const uint16_t *wd, const uint16_t *wm, int R,        \
                                      float *out) {                                                           \
        int nb = K / SEAM_QBLOCK;                                                                             \
        float32x4_t a[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};                  \
        for (int b = 0; b < nb; b++) {                                                                        \
            int8x16_t x0 = vld1q_s8(xq + b * SEAM_QBLOCK), x1 = vld1q_s8(xq + b * SEAM_QBLOCK + 16);          \
            for (int r = 0; r < R; r++) {                                                                     \
                int8x16_t lo, hi;                                                                             \
                q4_unpack(w + (size_t)r * (K / 2) + b * (SEAM_QBLOCK / 2), &lo, &hi);                         \
                int32x4_t p = DOT(lo, hi, x0, x1);                                                            \
                float sc = seam_f16_to_f32(wd[(size_t)r * nb + b]) * xd[b];                                   \
                a[r] = vmlaq_n_f32(a[r], vcvtq_f32_s32(p), sc);                                               \
            }                                                                                                 \
        }                                                                                                     \
        for (int r = 0; r < R; r++) out[r] = vaddvq_f32(a[r]) + q4_min_term(wm + (size_t)r * nb, xs, nb);     \
    }                                                                                                         \
    ATTR static void PREFIX##_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias,       \
                                        float *y, int n0, int n1) {                                           \
        int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;                                                   \
        const int8_t *wq = W->data;                                                                           \
        for (int n = n0; n < n1; n += 4) {                                                                    \
            int R = n1 - n < 4 ? n1 - n : 4;                                                                  \
            for (int t = 0; t < T; t++) {                                                                     \
                float o[4];                                                                                   \
                PREFIX##_q8_rows(x->q + (size_t)t * K, x->d + (size_t)t * nb, K, wq + (size_t)n * K,          \
                                 W->scale + (size_t)n * nb, R, o);                                            \
                for (int r = 0; r < R; r++) y[(size_t)t * N + n + r] = o[r] + (bias ? bias[n + r] : 0.0f);    \
            }                                                                                                 \
        }                                                                                                     \
    }                                                                                                         \
    ATTR static void PREFIX##_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias,       \
                                        float *y, int n0, int n1) {                                           \
        int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;                                                   \
        const uint8_t *wq = W->data;                                                                          \
        for (int n = n0; n < n1; n += 4) {                                                                    \
            int R = n1 - n < 4 ? n1 - n : 4;                                                                  \
            for (int t = 0; t < T; t++) {                                                                     \
                float o[4];                                                                                   \
                PREFIX##_q4_rows(x->q + (size_t)t * K, x->d + (size_t)t * nb, x->s + (size_t)t * nb, K,       \
                                 wq + (size_t)n * (K / 2), W->scale + (size_t)n * nb, W->min + (size_t)n * nb, \
                                 R, o);                                                                       \
                for (int r = 0; r < R; r++) y[(size_t)t * N + n + r] = o[r] + (bias ? bias[n + r] : 0.0f);    \
            }                                                                                                 \
        }                                                                                                     \
    }

DEFINE_KERNELS(neon, , dot32_mull)
const seam_qkernels seam_qkernels_neon = {"neon", neon_quantize_x, neon_matmul_q8, neon_matmul_q4, 0, 0, 0, 0};

#if defined(SEAM_QUANT_NEONDOT)
/* sdot needs ARMv8.2's dot product extension: these functions are compiled for it and only
 * called when the kernel reports it (HWCAP_ASIMDDP). */
#define DOTPROD_ATTR __attribute__((target("arch=armv8.2-a+dotprod")))
DOTPROD_ATTR static inline int32x4_t dot32_sdot(int8x16_t w0, int8x16_t w1, int8x16_t x0, int8x16_t x1) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
}
DEFINE_KERNELS(neondot, DOTPROD_ATTR, dot32_sdot)
const seam_qkernels seam_qkernels_neondot = {"neondot", neon_quantize_x, neondot_matmul_q8, neondot_matmul_q4, 0, 0, 0, 0};
#endif
#endif
