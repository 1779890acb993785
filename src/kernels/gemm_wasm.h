/* Packed matrix-matrix product for prefill and batched encoders in the WebAssembly SIMD128
 * table: gemm_x86.h's design with 4-float vectors.
 *
 *   y[T, n0:n1] = x[T, K] @ B[K, n0:n1] (+ b)      B = W (Conv1D layout, W is [K, N])
 *                                                  or W^T (Linear layout, W is [N, K])
 *
 * For every block of WG_NC output columns and WG_KC inputs, W's slice is converted to f32
 * and packed k-major (pack[k][0..8)) once, in panels of WG_NR = 8 columns, and each WG_MR-row
 * tile of x runs against every panel of the block in turn (gemm_driver.h's gemm_run; for
 * weights packed in advance and many rows, gemm_run_panel_outer). A register tile holds WG_MR x 8
 * accumulators (2 vectors per row), so each k costs WG_MR broadcasts and 2 vector loads per
 * 2 * WG_MR multiply-adds. Packing transposes the Linear layout, so one micro-kernel serves
 * both layouts and every dtype.
 *
 * Registers: V8 on x86-64 has 15 allocatable xmm registers (one is its scratch); without FMA
 * every multiply-add needs a temporary, so WG_MR = 5 uses 10 accumulators + 2 weights + a
 * broadcast + a product = 14 (in node, GPT-2-small prefill ran ~5% slower with 4 rows and
 * ~20% slower with 6, which spills). ARM engines have 32 and could take more, but one tile
 * size keeps every engine spill-free.
 *
 * The including file provides ld4(base, i, dtype) and madd(acc, a, b).
 * The sum for every output is accumulated in the scalar reference's order (bias, then k
 * ascending), so results match it bit for bit. */
#ifndef SEAM_KERNELS_GEMM_WASM_H
#define SEAM_KERNELS_GEMM_WASM_H

#include <string.h>


#define WG_NR 8
#ifndef WG_MR
#define WG_MR 5
#endif
#ifndef WG_KC
#define WG_KC 128
#endif
/* Columns per packed block: the 4 panels are packed once per k-block and reused by every
 * row tile; x is read ceil(N / WG_NC) times. 128 x 32 floats = 16 KiB of stack, small
 * enough for any thread's stack (newer emscripten defaults to 64 KiB); in node, V8 ran
 * GPT-2-small prefill as fast with this as with 256 x 128 (128 KiB), and 16 columns were
 * ~10% slower. */
#ifndef WG_NC
#define WG_NC 32
#endif

/* Conv1D layout: pack[k][j] = W[k0 + k][n + j] for j < nvalid, zero beyond (so the
 * micro-kernel never branches on the column tail). */
WAI void wg_pack_kn(const void *W, seam_dtype dt, size_t N, int k0, int kc, int n, int nvalid, float *pack) {
    for (int k = 0; k < kc; k++) {
        size_t off = (size_t)(k0 + k) * N + (size_t)n;
        float *p = pack + (size_t)k * WG_NR;
        if (nvalid == WG_NR) {
            wasm_v128_store(p, ld4(W, off, dt));
            wasm_v128_store(p + 4, ld4(W, off + 4, dt));
        } else {
            int j = 0;
            for (; j < nvalid; j++) p[j] = seam_elem_f32(W, off + (size_t)j, dt);
            for (; j < WG_NR; j++) p[j] = 0.0f;
        }
    }
}

/* Linear layout: pack[k][j] = W[n + j][k0 + k], transposed 4 x 4 at a time (unpack of
 * 32-bit then 64-bit lanes); rows past nvalid are zero, k leftovers go element by element. */
WAI void wg_pack_nk(const void *W, seam_dtype dt, size_t K, int k0, int kc, int n, int nvalid, float *pack) {
    for (int j0 = 0; j0 < WG_NR; j0 += 4) {
        int rows = nvalid - j0 < 0 ? 0 : nvalid - j0 > 4 ? 4 : nvalid - j0;
        int k = 0;
        if (rows == 4) {
            size_t r0 = (size_t)(n + j0) * K + (size_t)k0;
            for (; k + 4 <= kc; k += 4) {
                v128_t a = ld4(W, r0 + k, dt), b = ld4(W, r0 + K + k, dt);
                v128_t c = ld4(W, r0 + 2 * K + k, dt), d = ld4(W, r0 + 3 * K + k, dt);
                v128_t t0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
                v128_t t2 = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
                float *p = pack + (size_t)k * WG_NR + j0;
                wasm_v128_store(p, wasm_i64x2_shuffle(t0, t2, 0, 2));
                wasm_v128_store(p + WG_NR, wasm_i64x2_shuffle(t0, t2, 1, 3));
                wasm_v128_store(p + 2 * WG_NR, wasm_i64x2_shuffle(t1, t3, 0, 2));
                wasm_v128_store(p + 3 * WG_NR, wasm_i64x2_shuffle(t1, t3, 1, 3));
            }
        }
        for (; k < kc; k++) {
            float *p = pack + (size_t)k * WG_NR + j0;
            for (int j = 0; j < 4; j++) p[j] = j < rows ? seam_elem_f32(W, (size_t)(n + j0 + j) * K + (size_t)(k0 + k), dt) : 0.0f;
        }
    }
}

/* One register tile: RB rows of x (row stride ldx) times the packed panel, over kc inputs.
 * The first k-block starts from the bias (or zero), later ones from y; ncols < WG_NR goes
 * through a small buffer for the column tail of the last panel. */
#define WG_TILE(RB)                                                                                            \
    static void wg_tile_##RB(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy,      \
                             int first, const float *b, int ncols) {                                           \
        v128_t a0[RB], a1[RB];                                                                                 \
        for (int r = 0; r < RB; r++) {                                                                         \
            const float *src = first ? b : y + (size_t)r * ldy;                                                \
            float tmp[WG_NR] = {0};                                                                            \
            if (first && !b) src = tmp;                                                                        \
            else if (ncols < WG_NR) { memcpy(tmp, src, (size_t)ncols * sizeof(float)); src = tmp; }           \
            a0[r] = wasm_v128_load(src);                                                                       \
            a1[r] = wasm_v128_load(src + 4);                                                                   \
        }                                                                                                      \
        for (int k = 0; k < kc; k++) {                                                                         \
            v128_t w0 = wasm_v128_load(pack + (size_t)k * WG_NR), w1 = wasm_v128_load(pack + (size_t)k * WG_NR + 4); \
            for (int r = 0; r < RB; r++) {                                                                     \
                v128_t xv = wasm_v128_load32_splat(x + (size_t)r * ldx + (size_t)k);                           \
                a0[r] = madd(a0[r], xv, w0);                                                                   \
                a1[r] = madd(a1[r], xv, w1);                                                                   \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < RB; r++) {                                                                         \
            float *dst = y + (size_t)r * ldy;                                                                  \
            if (ncols == WG_NR) { wasm_v128_store(dst, a0[r]); wasm_v128_store(dst + 4, a1[r]); continue; }     \
            float tmp[WG_NR];                                                                                  \
            wasm_v128_store(tmp, a0[r]);                                                                       \
            wasm_v128_store(tmp + 4, a1[r]);                                                                   \
            memcpy(dst, tmp, (size_t)ncols * sizeof(float));                                                   \
        }                                                                                                      \
    }


/* The shared driver (gemm_driver.h) under the names it expects. */
#define GEMM_NR WG_NR
#define GEMM_MR WG_MR
#define GEMM_KC WG_KC
#define GEMM_NC WG_NC
#define gemm_pack_kn wg_pack_kn
#define gemm_pack_nk wg_pack_nk
#include "kernels/gemm_driver.h"

#endif
