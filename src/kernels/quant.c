/* Scalar reference for the quantised kernels, and the dispatcher. */
#include "kernels/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(SEAM_QUANT_NEONDOT)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
static int cpu_has_dotprod(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }
#endif

#include "kernels/kernels.h"
#include "quant/quant.h"

static void scalar_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *xb = x + b * SEAM_QBLOCK;
        float amax = 0.0f;
        for (int i = 0; i < SEAM_QBLOCK; i++) amax = fmaxf(amax, fabsf(xb[i]));
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int i = 0; i < SEAM_QBLOCK; i++) {
            float r = seam_round_even(xb[i] * id);
            int v = r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? (int)r : 0; /* NaN: 0 */
            q[b * SEAM_QBLOCK + i] = (int8_t)v;
            sum += v;
        }
        d[b] = amax / 127.0f;
        s[b] = d[b] * (float)sum;
    }
}

static void scalar_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;
    const int8_t *wq = W->data;
    for (int t = 0; t < T; t++) {
        const int8_t *xq = x->q + (size_t)t * K;
        const float *xd = x->d + (size_t)t * nb;
        for (int n = n0; n < n1; n++) {
            const int8_t *wr = wq + (size_t)n * K;
            const uint16_t *wd = W->scale + (size_t)n * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                int32_t sum = 0;
                for (int i = 0; i < SEAM_QBLOCK; i++) sum += (int32_t)wr[b * SEAM_QBLOCK + i] * xq[b * SEAM_QBLOCK + i];
                acc += seam_f16_to_f32(wd[b]) * xd[b] * (float)sum;
            }
            y[(size_t)t * N + n] = acc + (bias ? bias[n] : 0.0f);
        }
    }
}

static void scalar_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;
    const uint8_t *wq = W->data;
    for (int t = 0; t < T; t++) {
        const int8_t *xq = x->q + (size_t)t * K;
        const float *xd = x->d + (size_t)t * nb, *xs = x->s + (size_t)t * nb;
        for (int n = n0; n < n1; n++) {
            const uint8_t *wr = wq + (size_t)n * (K / 2);
            const uint16_t *wd = W->scale + (size_t)n * nb, *wm = W->min + (size_t)n * nb;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *p = wr + b * (SEAM_QBLOCK / 2);
                const int8_t *xb = xq + b * SEAM_QBLOCK;
                int32_t sum = 0;
                for (int j = 0; j < SEAM_QBLOCK / 2; j++)
                    sum += (int32_t)(p[j] & 0x0F) * xb[j] + (int32_t)(p[j] >> 4) * xb[j + SEAM_QBLOCK / 2];
                acc += seam_f16_to_f32(wd[b]) * xd[b] * (float)sum + seam_f16_to_f32(wm[b]) * xs[b];
            }
            y[(size_t)t * N + n] = acc + (bias ? bias[n] : 0.0f);
        }
    }
}

const seam_qkernels seam_qkernels_scalar = {"scalar", scalar_quantize_x, scalar_matmul_q8, scalar_matmul_q4, 0, 0, 0, 0};

void seam_qmat_matmul_f32(const float *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK;
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        for (int n = n0; n < n1; n++) {
            float acc = 0.0f, w[SEAM_QBLOCK];
            for (int b = 0; b < nb; b++) {
                seam_qmat_block_to_f32(W, n, b, w);
                for (int i = 0; i < SEAM_QBLOCK; i++) acc += xr[b * SEAM_QBLOCK + i] * w[i];
            }
            y[(size_t)t * N + n] = acc + (bias ? bias[n] : 0.0f);
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
static int cpu_has_avx2(void) { return seam_cpu_has_avx2(); }
#endif
#if defined(__x86_64__)
static int cpu_has_avx512vnni(void) { return seam_cpu_has_avx512() && __builtin_cpu_supports("avx512vnni"); }
/* AVX-VNNI is cpuid leaf 7, sub-leaf 1, EAX bit 4 (GCC 12's __builtin_cpu_supports does
 * not know it). */
static int cpu_has_avxvnni(void) {
    unsigned a, b, c, d;
    return seam_cpu_has_avx2() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1u);
}
#endif

const seam_qkernels *seam_qkernels_by_name(const char *name) {
    if (!strcmp(name, "scalar")) return &seam_qkernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(name, "avx2") && cpu_has_avx2()) return &seam_qkernels_avx2;
#endif
#if defined(__x86_64__)
    if (!strcmp(name, "avx512vnni") && cpu_has_avx512vnni()) return &seam_qkernels_avx512vnni;
    if (!strcmp(name, "avxvnni") && cpu_has_avxvnni()) return &seam_qkernels_avxvnni;
#endif
#if defined(__aarch64__)
    if (!strcmp(name, "neon")) return &seam_qkernels_neon;
#endif
#if defined(SEAM_QUANT_NEONDOT)
    if (!strcmp(name, "neondot") && cpu_has_dotprod()) return &seam_qkernels_neondot;
#endif
#if defined(__wasm_simd128__)
    if (!strcmp(name, "wasm")) return &seam_qkernels_wasm;
#endif
    return NULL;
}

const seam_qkernels *seam_qkernels_best(void) {
    const char *force = getenv("SEAM_ISA");
    if (force && *force) {
        const seam_qkernels *k = seam_qkernels_by_name(force);
        if (!k && !strcmp(force, "avx512")) k = seam_qkernels_by_name("avx512vnni");
        if (!k && !strcmp(force, "avx512")) k = seam_qkernels_by_name("avx2");
        if (k) return k;
    }
#if defined(__x86_64__)
    if (cpu_has_avx512vnni()) return &seam_qkernels_avx512vnni;
    if (cpu_has_avxvnni()) return &seam_qkernels_avxvnni;
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (cpu_has_avx2()) return &seam_qkernels_avx2;
#endif
#if defined(SEAM_QUANT_NEONDOT)
    if (cpu_has_dotprod()) return &seam_qkernels_neondot;
#endif
#if defined(__aarch64__)
    return &seam_qkernels_neon; /* Advanced SIMD is mandatory on AArch64 */
#elif defined(__wasm_simd128__)
    return &seam_qkernels_wasm; /* a SIMD build only loads where SIMD128 is supported */
#else
    return &seam_qkernels_scalar;
#endif
}

int seam_qx_tile_panels(const seam_qkernels *qk, int T) {
    int L = qk->tile_lanes;
    return L > 1 ? (T + L - 2) / (L - 1) : 0;
}

size_t seam_qx_tile_words(const seam_qkernels *qk, int T, int K) {
    return (size_t)seam_qx_tile_panels(qk, T) * (size_t)qk->tile_lanes * (size_t)(K / 4);
}

size_t seam_qx_tile_floats(const seam_qkernels *qk, int T, int K) {
    return (size_t)seam_qx_tile_panels(qk, T) * (size_t)qk->tile_lanes * (size_t)(K / SEAM_QBLOCK);
}

void seam_qx_tile_panel(const seam_qx *x, int lanes, int t0, int m, int b0, int cnb, uint32_t *xp, float *dp, float *sp) {
    int K = x->K, nq = cnb * (SEAM_QBLOCK / 4), nb = K / SEAM_QBLOCK;
    for (int l = 0; l < lanes; l++) {
        const int8_t *row = l < m ? x->q + (size_t)(t0 + l) * K + (size_t)b0 * SEAM_QBLOCK : NULL;
        const float *d = l < m ? x->d + (size_t)(t0 + l) * nb + b0 : NULL;
        const float *s = l < m ? x->s + (size_t)(t0 + l) * nb + b0 : NULL;
        for (int q = 0; q < nq; q++) {
            uint32_t v = 0;
            if (row) memcpy(&v, row + 4 * q, sizeof v);
            xp[(size_t)q * lanes + l] = v ^ 0x80808080u;
        }
        for (int b = 0; b < cnb; b++) {
            dp[b * lanes + l] = d ? d[b] : 0.0f;
            if (sp) sp[b * lanes + l] = s ? s[b] : 0.0f;
        }
    }
}

void seam_qx_tile_pack(const seam_qkernels *qk, seam_qx *x, int T, int p0, int p1) {
    int L = qk->tile_lanes, R = L - 1, K = x->K, nb = K / SEAM_QBLOCK;
    for (int p = p0; p < p1; p++) {
        int m = T - p * R < R ? T - p * R : R;
        seam_qx_tile_panel(x, L, p * R, m, 0, nb, x->tile_x + (size_t)p * L * (K / 4), x->tile_d + (size_t)p * L * nb,
                           x->tile_s + (size_t)p * L * nb);
    }
}

void seam_qmat_pack_panel(const seam_qmat *W, int k0, int kc, int n, int nvalid, int nr, float *pack) {
    float block[SEAM_QBLOCK];
    for (int j = 0; j < nr; j++) {
        if (j >= nvalid) {
            for (int k = 0; k < kc; k++) pack[(size_t)k * nr + j] = 0.0f;
            continue;
        }
        for (int k = 0; k < kc; k += SEAM_QBLOCK) {
            seam_qmat_block_to_f32(W, n + j, (k0 + k) / SEAM_QBLOCK, block);
            for (int i = 0; i < SEAM_QBLOCK; i++) pack[(size_t)(k + i) * nr + j] = block[i];
        }
    }
}
