/* The packed-GEMM driver shared by the x86 (gemm_x86.h) and WebAssembly (gemm_wasm.h)
 * tables: the loops over column blocks, k-blocks and row tiles, which do not depend on the
 * vector width. The including header defines GEMM_NR (columns per panel), GEMM_MR (rows per
 * register tile), GEMM_KC (inputs per packed block, a multiple of 32 so quantised blocks
 * never straddle two), GEMM_NC (columns per packed block, a multiple of GEMM_NR) and the
 * panel packers gemm_pack_kn / gemm_pack_nk before including it; its kernel file then builds
 * the table of register tiles the driver calls. */
#ifndef SEAM_KERNELS_GEMM_DRIVER_H
#define SEAM_KERNELS_GEMM_DRIVER_H

#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/quant.h"

/* What W is: [K, N] (Conv1D), [N, K] (Linear), a quantised seam_qmat [N, K], or a Linear W
 * already in panels (gemm_prepack_nk; n0 must then be a multiple of GEMM_NR). */
enum { GEMM_KN, GEMM_NK, GEMM_Q, GEMM_PACKED };

/* One register tile: RB rows of x (row stride ldx) times a packed panel, over kc inputs.
 * The first k-block starts from the bias (or zero), later ones from y; ncols < GEMM_NR
 * masks the column tail of the last panel. */
typedef void (*gemm_tile_fn)(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy, int first,
                             const float *b, int ncols);

/* Rows of one tile (inputs k0 .. k0 + kc) copied to a contiguous block. Used only when x's
 * row stride of K floats would put more than 4 rows of a tile in the same L1 sets (4 KiB
 * apart: K a multiple of 512 with 12-row tiles, e.g. GPT-2's c_proj with K = 3072); other
 * strides stream straight from x, since the copy would cost ~10% of the tile's time. */
static inline void gemm_copy_rows(const float *x, size_t K, int rows, int k0, int kc, float *dst) {
    for (int r = 0; r < rows; r++) {
        const float *src = x + (size_t)r * K + (size_t)k0;
        float *d = dst + (size_t)r * (size_t)kc;
        for (int k = 0; k < kc; k++) d[k] = src[k];
    }
}

static inline int gemm_rows_alias(int K, int mr) {
    size_t stride = (size_t)K * sizeof(float), low = stride & (~stride + 1);
    int sets = low >= 4096 ? 1 : (int)(4096 / low); /* distinct L1 set offsets of the rows */
    return mr > 4 * sets;
}

/* Rows of W ahead that gemm_pack_kn_block prefetches. */
#define GEMM_PACK_AHEAD 16

/* Panels [nc0, nc1) of W [K, N] (Conv1D layout) for inputs k0 .. k0 + kc, row by row: each
 * row of W gives the block one contiguous run of nc1 - nc0 values, and the rows
 * GEMM_PACK_AHEAD ahead (into the next k-block at the end of this one) are prefetched.
 * Packed panel by panel, the same rows were read GEMM_PANELS times in GEMM_NR-value pieces
 * N values apart, which the hardware prefetcher did not follow: packing was 69% of a
 * 16-token GPT-2-small f32 prefill on the Zen 5 VM. Row by row, that prefill went from
 * 300-309 to 370-379 tokens/s (one thread), 128 tokens from 757-766 to 821-847. */
static inline __attribute__((always_inline)) void gemm_pack_kn_block(const void *W, seam_dtype dt, int K, size_t N,
                                                                     int k0, int kc, int nc0, int nc1, float *bpack) {
    size_t esz = dt == SEAM_DTYPE_F32 ? 4 : 2, run = (size_t)(nc1 - nc0) * esz;
    for (int k = 0; k < kc; k++) {
        if (k0 + k + GEMM_PACK_AHEAD < K) {
            const char *ahead = (const char *)W + ((size_t)(k0 + k + GEMM_PACK_AHEAD) * N + (size_t)nc0) * esz;
            for (size_t off = 0; off < run; off += 64) __builtin_prefetch(ahead + off);
        }
        for (int n = nc0, g = 0; n < nc1; n += GEMM_NR, g++)
            gemm_pack_kn(W, dt, N, k0 + k, 1, n, nc1 - n < GEMM_NR ? nc1 - n : GEMM_NR,
                         bpack + (size_t)g * GEMM_KC * GEMM_NR + (size_t)k * GEMM_NR);
    }
}

/* The driver, given the table of tiles for 1..GEMM_MR rows (tiles[RB - 1]). W is [K, N]
 * (GEMM_KN), [N, K] (GEMM_NK) or a quantised seam_qmat [N, K] (GEMM_Q, dt unused); y has
 * row stride N.
 *
 * Columns go GEMM_NC at a time: for each k-block, the GEMM_NC / GEMM_NR panels of W are
 * packed once (into L2), then every row tile of x is loaded once and run against all of
 * them, so x is read ceil(N / GEMM_NC) times in all (it is 6 MiB for GPT-2's c_proj at
 * T = 512 and would not stay cached between panels) and W exactly once. */
#define GEMM_PANELS (GEMM_NC / GEMM_NR)
#define GEMM_MB (GEMM_MR * 8)
#define GEMM_KC_PACKED (GEMM_KC * 4)
_Static_assert(GEMM_KC % 32 == 0, "k-blocks must hold whole quantisation blocks (seam_qmat_pack_panel)");
_Static_assert(GEMM_NC % GEMM_NR == 0, "column blocks must hold whole panels");
static inline __attribute__((always_inline)) void gemm_run(const gemm_tile_fn *tiles, const float *x, int T,
                                                           const void *W, seam_dtype dt, int layout, int K, size_t N,
                                                           const float *b, float *y, int n0, int n1) {
    /* At most 128 KiB: on the stack, as every caller is a pool thread or the caller's own. */
    float bpack[GEMM_PANELS * GEMM_KC * GEMM_NR] __attribute__((aligned(64)));
    float atile[GEMM_MR * GEMM_KC_PACKED] __attribute__((aligned(64)));
    int copy = gemm_rows_alias(K, GEMM_MR);
    /* Rows per block: with panels packed in advance, revisiting them costs nothing, so a
     * block of rows runs every k-block before the next block starts and its outputs stay
     * in L2 between k-blocks (at T = 4096 they would come back from L3 each time). */
    int mb = layout == GEMM_PACKED ? GEMM_MB : T;
    /* With a few row tiles (memory-bound: W is read once for little work), longer k-blocks,
     * each panel's slice of one being contiguous. With one row tile a k-block is the whole
     * of K, so each panel streams from memory in one sequential run (panels follow one
     * another, so the x86 stream tiles' prefetch runs on into the next panel), and the rows
     * are read in place even where they alias in L1 (the copy's buffer holds
     * GEMM_KC_PACKED inputs): at K = 1536 (MiniLM's FFN output) that gave 1.38-1.43 ms a
     * batch of 1 x 12 against 1.43-1.52 in blocks of GEMM_KC_PACKED (Zen 5, one thread;
     * BERT-base's K = 3072 alike). With 2-4 row tiles, blocks of GEMM_KC_PACKED keep the
     * block of panels every tile reads in L2. With more rows the GEMM_KC slice and the
     * tile's x share L1, which matters more (device: 1.5-1.9x at 12 rows, but 0.7x at 384
     * with the long blocks). */
    int kb = layout != GEMM_PACKED || T > 4 * GEMM_MR ? GEMM_KC : T <= GEMM_MR ? K : GEMM_KC_PACKED;
    if (kb > GEMM_KC_PACKED) copy = 0;
    for (int nc0 = n0; nc0 < n1; nc0 += GEMM_NC) {
        int nc1 = n1 - nc0 < GEMM_NC ? n1 : nc0 + GEMM_NC, ng = (nc1 - nc0 + GEMM_NR - 1) / GEMM_NR;
        for (int m0 = 0; m0 < T; m0 += mb) {
            int m1 = T - m0 < mb ? T : m0 + mb;
            for (int k0 = 0; k0 < K; k0 += kb) {
                int kc = K - k0 < kb ? K - k0 : kb;
                if (layout == GEMM_KN) gemm_pack_kn_block(W, dt, K, N, k0, kc, nc0, nc1, bpack);
                for (int n = nc0, g = 0; n < nc1 && (layout == GEMM_Q || layout == GEMM_NK); n += GEMM_NR, g++) {
                    int nv = nc1 - n < GEMM_NR ? nc1 - n : GEMM_NR;
                    float *panel = bpack + (size_t)g * GEMM_KC * GEMM_NR;
                    if (layout == GEMM_Q) seam_qmat_pack_panel((const seam_qmat *)W, k0, kc, n, nv, GEMM_NR, panel);
                    else gemm_pack_nk(W, dt, (size_t)K, k0, kc, n, nv, panel);
                }
                for (int t = m0; t < m1; t += GEMM_MR) {
                    int rb = m1 - t < GEMM_MR ? m1 - t : GEMM_MR;
                    const float *xt = x + (size_t)t * K + k0;
                    size_t ldx = (size_t)K;
                    if (copy) {
                        gemm_copy_rows(x + (size_t)t * K, (size_t)K, rb, k0, kc, atile);
                        xt = atile;
                        ldx = (size_t)kc;
                    }
                    /* The rows the next tile reads (the block's first rows at the next
                     * k-block after its last tile), prefetched a slice per panel: from
                     * L3, their first touch would stall the tile. */
                    int tn = t + GEMM_MR < m1 ? t + GEMM_MR : m0, kn = t + GEMM_MR < m1 ? k0 : k0 + kc;
                    int rn = kn < K ? (m1 - tn < GEMM_MR ? m1 - tn : GEMM_MR) : 0, lines = (kc + 15) / 16, pf = 0;
                    int npf = rn * lines, pl = 0;
                    const float *xn = x + (size_t)tn * K + (size_t)kn; /* the row of prefetch pf, line pl */
                    for (int n = nc0, g = 0; n < nc1; n += GEMM_NR, g++) {
                        int nv = nc1 - n < GEMM_NR ? nc1 - n : GEMM_NR;
                        const float *panel =
                            layout == GEMM_PACKED
                                ? (const float *)W + ((size_t)(n / GEMM_NR) * (size_t)K + (size_t)k0) * GEMM_NR
                                : bpack + (size_t)g * GEMM_KC * GEMM_NR;
                        tiles[rb - 1](xt, ldx, kc, panel, y + (size_t)t * N + n, N, k0 == 0, b ? b + n : NULL, nv);
                        /* row and line stepped, not divided out of pf: an idiv per prefetch
                         * was 10% of a batch of 32 x 128 tokens (perf) */
                        for (int e = npf * (g + 1) / ng; pf < e; pf++) {
                            __builtin_prefetch(xn + pl * 16);
                            if (++pl == lines && pf + 1 < npf) { pl = 0; xn += K; }
                        }
                    }
                }
            }
        }
    }
}

#ifndef GEMM_PO_KC /* overridable for tuning */
#define GEMM_PO_KC 384
#endif

/* Pre-packed panels (GEMM_PACKED's), many rows: an alternative to gemm_run that a table
 * opts into where it was measured. For each block of GEMM_MB rows and GEMM_PO_KC inputs, each
 * panel's slice is run against every row tile of the block before the next panel, so the
 * slice (24 KiB on AVX2) stays in L1 while the tiles' rows of x (GEMM_MR floats a step)
 * stream from L2. Tile by tile, as gemm_run goes, the panel (GEMM_NR floats a step, one
 * cache line on AVX2) streamed from L2 past a tile held in L1 instead. The first tile of a
 * slice (stream_tiles) prefetches GEMM_STREAM_AHEAD bytes ahead in the panel: the rest of
 * the slice and, where the slice is the whole panel (K <= GEMM_PO_KC), the next panel's
 * head; the others (tiles) find the slice in L1. On the Zen 3 VM's AVX2 table, MiniLM's four
 * products ran 1.14-1.16 times as fast at 64-384 rows on one thread and 1.14-1.22 times in
 * the column claims of 2 and 8 threads (a probe, not in the repository, interleaving the
 * two orders; bench/results/vm-2026-12-07-zen3-panel-outer.md). Packing x k-major per tile
 * on top (BLIS's A panels) did no better on one thread and cost 10-39% inside column
 * claims, which pack x again for every claim. x's rows are read in place, so the caller
 * keeps gemm_run, which copies them, where they alias in L1 (gemm_rows_alias: K a multiple
 * of 1024; the guard comes from gemm_run's tiles, K = 512 was not measured here). */
static inline __attribute__((always_inline)) void gemm_run_panel_outer(const gemm_tile_fn *stream_tiles,
                                                                       const gemm_tile_fn *tiles, const float *x, int T,
                                                                       const float *W, int K, size_t N, const float *b,
                                                                       float *y, int n0, int n1) {
    for (int m0 = 0; m0 < T; m0 += GEMM_MB) {
        int m1 = T - m0 < GEMM_MB ? T : m0 + GEMM_MB;
        for (int k0 = 0; k0 < K; k0 += GEMM_PO_KC) {
            int kc = K - k0 < GEMM_PO_KC ? K - k0 : GEMM_PO_KC;
            for (int n = n0; n < n1; n += GEMM_NR) {
                int nv = n1 - n < GEMM_NR ? n1 - n : GEMM_NR;
                const float *panel = W + ((size_t)(n / GEMM_NR) * (size_t)K + (size_t)k0) * GEMM_NR;
                for (int t = m0; t < m1; t += GEMM_MR) {
                    int rb = m1 - t < GEMM_MR ? m1 - t : GEMM_MR;
                    gemm_tile_fn tile = t == m0 ? stream_tiles[rb - 1] : tiles[rb - 1];
                    tile(x + (size_t)t * K + k0, (size_t)K, kc, panel, y + (size_t)t * N + n, N, k0 == 0,
                         b ? b + n : NULL, nv);
                }
            }
        }
    }
}

/* A product of pre-packed panels for a table that has opted into gemm_run_panel_outer: by
 * panels from more than 4 register tiles of rows on, where x's rows do not alias in L1;
 * else gemm_run, streaming the panels (stream_tiles). */
static inline __attribute__((always_inline)) void gemm_run_prepacked(const gemm_tile_fn *stream_tiles,
                                                                     const gemm_tile_fn *tiles, const float *x, int T,
                                                                     const float *W, int K, size_t N, const float *b,
                                                                     float *y, int n0, int n1) {
    if (T > 4 * GEMM_MR && !gemm_rows_alias(K, GEMM_MR))
        gemm_run_panel_outer(stream_tiles, tiles, x, T, W, K, N, b, y, n0, n1);
    else gemm_run(stream_tiles, x, T, W, SEAM_DTYPE_F32, GEMM_PACKED, K, N, b, y, n0, n1);
}

/* W [N, K] (Linear layout, any dtype) as the panels GEMM_PACKED reads: panel p holds columns
 * p * GEMM_NR .. + GEMM_NR (zero past N), K rows of GEMM_NR floats. Done once per weight, it
 * takes packing out of every call, which at a few rows per thread costs as much as the
 * multiply itself (a thread with 32 rows packs K x its columns for 32 x that many FMAs). */
static inline void gemm_prepack_nk(const seam_mat *W, float *dst) {
    int K = W->cols, N = W->rows;
    for (int n = 0, p = 0; n < N; n += GEMM_NR, p++)
        gemm_pack_nk(W->data, W->dtype, (size_t)K, 0, K, n, N - n < GEMM_NR ? N - n : GEMM_NR,
                     dst + (size_t)p * (size_t)K * GEMM_NR);
}

#endif
