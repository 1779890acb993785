/* Thread-parallel wrappers over the kernel table, shared by every forward pass. Work is
 * split along output columns (each thread owns whole cache lines of y), so no two threads
 * ever write the same memory; the one exception, a one-row Conv1D product split along K,
 * gives each thread its own partial sums and adds them in a second pass. */
#ifndef SEAM_OPS_H
#define SEAM_OPS_H

#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "util/pool.h"

/* y[T, N] = x[T, K] @ W[K, N] + b   (Conv1D layout). part: OP_SPLIT_K_FLOATS(threads, N)
 * floats of scratch for the K split of one-row products (k->decode_split_k), or NULL. */
void op_matmul_kn(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y, float *part);
#define OP_SPLIT_K_FLOATS(threads, N) ((size_t)(threads) * (size_t)(N))
/* y[T, N] = x[T, K] @ W[N, K]^T (+ b when non-NULL)   (Linear layout) */
void op_matmul_nk(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y);
/* y[T, N] = x[T, K] @ W^T (+ b) from W's panels (k->pack_nk of a W [N, K]), split over
 * rows and whole panels of columns. With activation a seam_activation rather than
 * OP_NO_ACTIVATION, y = act(x @ W^T + b): each thread applies it to the part of y it has
 * just computed, still in its cache, which saves a pass over y and a wake of the pool. */
#define OP_NO_ACTIVATION (-1)
void op_matmul_packed(seam_pool *pool, const seam_kernels *k, const float *x, int T, const float *packed, int K, int N,
                      const float *b, float *y, int activation);
/* y[T, N] = x[T, K] @ W[N, K]^T (+ b) for a quantised W (Linear layout, K = W->cols).
 * Decode-sized T: x is quantised into xq (capacity T * K values, owned by the caller and
 * sized once), then integer block dot products run split along N across the pool. From
 * OP_QF_MIN_T rows on, where k has a matmul_qf, the packed f32 GEMM runs on W dequantised
 * while packing (the integer path's per-row quantisation and block scaling cost more there),
 * unless qk has integer register tiles at this K (seam_qkernels.tiles_max_k). */
#define OP_QF_MIN_T 64
/* From this many rows on, threads claim chunks of a product's columns as they go rather
 * than taking fixed shares (ops.c, q_worker and claim_columns). */
#define OP_CLAIM_MIN_T 8
/* The same for products from packed panels. Below it a product reads its weights once for
 * little work and runs at the speed memory delivers them, so one contiguous share per
 * thread, one sequential stream each, does best: MiniLM at batch 1 x 12 on the 2-core VM
 * took 0.97-0.99 ms that way against 1.10-1.19 ms with claims. */
#define OP_PACKED_CLAIM_MIN_T 48
void op_matmul_q(seam_pool *pool, const seam_kernels *k, const seam_qkernels *qk, seam_qx *xq, const float *x, int T,
                 const seam_qmat *W, const float *b, float *y);
/* Attention keeps K and V transposed per head: row c = h * D + d of a [C][ld] block holds
 * component c of every position, so the scores of one query are D axpy's over contiguous
 * keys and each output component one dot product, with no horizontal sum per key.
 *
 * Writes rows[T][C] (row stride ldr) into that layout at positions pos0 .. pos0 + T - 1. */
void op_transpose_heads(const seam_kernels *k, const float *rows, size_t ldr, int T, int C, float *dst, size_t ld,
                        int pos0);
/* One tile of query rows of one head (seam_attend_tile in kernels/kernels.h has the
 * contract), by the table's fused kernel where it has one. */
void op_attend(const seam_kernels *k, const seam_attend_tile *a);
/* Element-wise activation over x[0..n). */
void op_activation(seam_pool *pool, const seam_kernels *k, int activation, float *x, size_t n);
/* Row by row over T rows of C: h += add (when add is non-NULL), then y = LayerNorm(h) with
 * w, b, eps (when w is non-NULL; y may be h). On the pool when the rows are large enough to
 * pay for waking it. */
void op_add_norm(seam_pool *pool, const seam_kernels *k, float *h, const float *add, const float *w, const float *b,
                 float eps, float *y, int T, int C);
/* op_transpose_heads of two row blocks at once (a layer's K and V), the components shared
 * among the pool's threads. */
void op_transpose_kv(seam_pool *pool, const seam_kernels *k, const float *krows, const float *vrows, size_t ldr, int T,
                     int C, float *kdst, float *vdst, size_t ld, int pos0);

#endif
