/* ARM NEON (AArch64 Advanced SIMD) kernels: 4-float vectors, 4-row × 16-column tiles for
 * the Conv1D layout. F16 weights convert with the FCVTL instructions every AArch64 core
 * has; BF16 widens by shifting. Tested under qemu-user in CI. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>

#include "kernels/kernels.h"

#define AI static inline __attribute__((always_inline))

AI float32x4_t ld4(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return vld1q_f32((const float *)base + i);
    uint16x4_t h = vld1_u16((const uint16_t *)base + i);
    if (dt == SEAM_DTYPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

AI void kn_tile16(const float *x, int K, int RB, const void *W, size_t N, seam_dtype dt, const float *b, float *y,
                  int n) {
    float32x4_t a[4][4];
    _Pragma("GCC unroll 4") for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) a[r][j] = b ? vld1q_f32(b + n + 4 * j) : vdupq_n_f32(0);
    for (int k = 0; k < K; k++) {
        size_t off = (size_t)k * N + (size_t)n;
        float32x4_t w0 = ld4(W, off, dt), w1 = ld4(W, off + 4, dt), w2 = ld4(W, off + 8, dt), w3 = ld4(W, off + 12, dt);
        _Pragma("GCC unroll 4") for (int r = 0; r < RB; r++) {
            float xv = x[(size_t)r * K + k];
            a[r][0] = vfmaq_n_f32(a[r][0], w0, xv);
            a[r][1] = vfmaq_n_f32(a[r][1], w1, xv);
            a[r][2] = vfmaq_n_f32(a[r][2], w2, xv);
            a[r][3] = vfmaq_n_f32(a[r][3], w3, xv);
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) vst1q_f32(y + (size_t)r * N + n + 4 * j, a[r][j]);
}

AI void kn_rows(const float *x, int K, int RB, const void *W, size_t N, seam_dtype dt, const float *b, float *y, int n0,
                int n1) {
    int n = n0;
    for (; n + 16 <= n1; n += 16) {
        switch (RB) {
        case 4: kn_tile16(x, K, 4, W, N, dt, b, y, n); break;
        case 3: kn_tile16(x, K, 3, W, N, dt, b, y, n); break;
        case 2: kn_tile16(x, K, 2, W, N, dt, b, y, n); break;
        default: kn_tile16(x, K, 1, W, N, dt, b, y, n); break;
        }
    }
    for (int r = 0; r < RB; r++)
        for (int c = n; c < n1; c++) {
            float acc = b ? b[c] : 0.0f;
            for (int k = 0; k < K; k++) acc += x[(size_t)r * K + k] * seam_elem_f32(W, (size_t)k * N + (size_t)c, dt);
            y[(size_t)r * N + c] = acc;
        }
}

/* Decode-sized inputs (fewer than 4 rows): kn_stream.h's row-by-row stream, as in the x86
 * and WebAssembly tables; the 16-column tiles would walk W down its columns, a cache line per
 * row and a page per line once rows are 4 KiB or more apart. */
AI void kn_quad_row(float *y, const void *W, size_t r0, size_t r1, size_t r2, size_t r3, const float *xk, int n0,
                    int n1, seam_dtype dt) {
    float x0 = xk[0], x1 = xk[1], x2 = xk[2], x3 = xk[3];
    int n = n0;
    for (; n + 8 <= n1; n += 8) {
        float32x4_t a = vld1q_f32(y + n), c = vld1q_f32(y + n + 4);
        a = vfmaq_n_f32(a, ld4(W, r0 + n, dt), x0);
        c = vfmaq_n_f32(c, ld4(W, r0 + n + 4, dt), x0);
        a = vfmaq_n_f32(a, ld4(W, r1 + n, dt), x1);
        c = vfmaq_n_f32(c, ld4(W, r1 + n + 4, dt), x1);
        a = vfmaq_n_f32(a, ld4(W, r2 + n, dt), x2);
        c = vfmaq_n_f32(c, ld4(W, r2 + n + 4, dt), x2);
        a = vfmaq_n_f32(a, ld4(W, r3 + n, dt), x3);
        c = vfmaq_n_f32(c, ld4(W, r3 + n + 4, dt), x3);
        vst1q_f32(y + n, a);
        vst1q_f32(y + n + 4, c);
    }
    for (; n < n1; n++) {
        float a = y[n];
        a = fmaf(x0, seam_elem_f32(W, r0 + (size_t)n, dt), a);
        a = fmaf(x1, seam_elem_f32(W, r1 + (size_t)n, dt), a);
        a = fmaf(x2, seam_elem_f32(W, r2 + (size_t)n, dt), a);
        y[n] = fmaf(x3, seam_elem_f32(W, r3 + (size_t)n, dt), a);
    }
}

#define KN_MADD(x, w, a) fmaf(x, w, a)
#include "kernels/kn_stream.h"

AI void kn_dtype(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    if (T < 4) {
        kn_stream(x, T, Wm, b, y, n0, n1, dt);
        return;
    }
    for (int p0 = n0; p0 < n1; p0 += 256) {
        int p1 = p0 + 256 < n1 ? p0 + 256 : n1;
        int t = 0;
        for (; t + 4 <= T; t += 4) kn_rows(x + (size_t)t * K, K, 4, Wm->data, N, dt, b, y + (size_t)t * N, p0, p1);
        if (T - t) kn_rows(x + (size_t)t * K, K, T - t, Wm->data, N, dt, b, y + (size_t)t * N, p0, p1);
    }
}

static void neon_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

AI float dot_dtype(const float *x, const void *W, size_t r0, int K, seam_dtype dt) {
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0;
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        a0 = vfmaq_f32(a0, vld1q_f32(x + k), ld4(W, r0 + k, dt));
        a1 = vfmaq_f32(a1, vld1q_f32(x + k + 4), ld4(W, r0 + k + 4, dt));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; k < K; k++) s += x[k] * seam_elem_f32(W, r0 + k, dt);
    return s;
}

AI void nk_dtype(const float *x, int T, const seam_mat *Wm, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->cols;
    size_t N = (size_t)Wm->rows;
    for (int t = 0; t < T; t++)
        for (int n = n0; n < n1; n++) y[(size_t)t * N + n] = dot_dtype(x + (size_t)t * K, Wm->data, (size_t)n * K, K, dt);
}

static void neon_matmul_nk(const float *x, int T, const seam_mat *W, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

static float neon_dot(const float *a, const float *b, int n) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void neon_axpy(float a, const float *x, float *y, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void neon_scale(float *y, float a, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
    for (; i < n; i++) y[i] *= a;
}

static void neon_row_to_f32(const seam_mat *W, int r, float *out) {
    size_t base = (size_t)r * (size_t)W->cols;
    int c = 0;
    for (; c + 4 <= W->cols; c += 4) vst1q_f32(out + c, ld4(W->data, base + c, W->dtype));
    for (; c < W->cols; c++) out[c] = seam_elem_f32(W->data, base + c, W->dtype);
}

const seam_kernels seam_kernels_neon = {
    "neon", neon_matmul_kn, neon_matmul_nk, neon_dot, neon_axpy, neon_scale, neon_row_to_f32,
    seam_activation_scalar, seam_softmax, seam_layernorm_scalar, NULL, NULL, 0, NULL, NULL, 0, 1, 0, seam_transpose_generic, 0,
};
#endif
