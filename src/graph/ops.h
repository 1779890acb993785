/* Thread-parallel wrappers over the kernel table, shared by every forward pass. Work is
 * split along output columns (each thread owns whole cache lines of y), so no two threads
 * ever write the same memory. */
#ifndef SEAM_OPS_H
#define SEAM_OPS_H

#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "util/pool.h"

/* y[T, N] = x[T, K] @ W[K, N] + b   (Conv1D layout) */
void op_matmul_kn(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y);
/* y[T, N] = x[T, K] @ W[N, K]^T (+ b when non-NULL)   (Linear layout) */
void op_matmul_nk(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y);
/* y[T, N] = x[T, K] @ W[N, K]^T (+ b) for a quantised W (Linear layout, K = W->cols):
 * x is quantised into xq (capacity T * K values, owned by the caller and sized once), then
 * integer block dot products run split along N across the pool. */
void op_matmul_q(seam_pool *pool, const seam_qkernels *qk, seam_qx *xq, const float *x, int T, const seam_qmat *W,
                 const float *b, float *y);
/* Element-wise activation over x[0..n). */
void op_activation(seam_pool *pool, int activation, float *x, size_t n);

#endif
