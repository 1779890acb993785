/* Decode's matvec y[T, n0:n1] = x[T, K] @ W[K, N] (+ b) for fewer rows of x than a GEMM tile
 * wants, shared by the x86 and NEON tables: W is read row by row while y[n0:n1] stays in L1,
 * so the matrix is one sequential stream. (WebAssembly keeps its own loop of one W row per
 * pass: built on this header, V8's code for it decoded GPT-2 f32 at 28.7 instead of 46 tok/s
 * in node.) The including file defines
 *
 *   kn_quad_row(y, W, r0, r1, r2, r3, xk, n0, n1, dt)
 *       y[n] += xk[0] W[r0 + n] + xk[1] W[r1 + n] + xk[2] W[r2 + n] + xk[3] W[r3 + n] for n
 *       in [n0, n1), each column's products added in that order
 *   KN_MADD(x, w, a)   a + x w rounded as one of its vector lanes rounds it (fmaf where the
 *                      table has FMA), for the last K % 4 rows
 *
 * so every column of y gets its products in k order, whatever the table. */
#ifndef SEAM_KERNELS_KN_STREAM_H
#define SEAM_KERNELS_KN_STREAM_H

#include <stddef.h>

#include "kernels/kernels.h"

static inline __attribute__((always_inline)) void kn_stream(const float *x, int T, const seam_mat *Wm, const float *b,
                                                            float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    const void *W = Wm->data;
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        for (int n = n0; n < n1; n++) yr[n] = b ? b[n] : 0.0f;
        int k = 0;
        for (; k + 4 <= K; k += 4) {
            size_t r0 = (size_t)k * N;
            kn_quad_row(yr, W, r0, r0 + N, r0 + 2 * N, r0 + 3 * N, xr + k, n0, n1, dt);
        }
        for (; k < K; k++) {
            size_t r0 = (size_t)k * N;
            for (int n = n0; n < n1; n++) yr[n] = KN_MADD(xr[k], seam_elem_f32(W, r0 + (size_t)n, dt), yr[n]);
        }
    }
}

#endif
