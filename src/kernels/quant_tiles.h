/* The driver of the integer register tiles for prefill-sized quantised products, shared by
 * quant_avx512vnni.c (zmm), quant_avxvnni.c and quant_avx2.c (ymm; AVX2 without VNNI does
 * the products with vpmaddubsw + vpmaddwd, see there). Each includes it once, after defining
 *
 *   QTL_LANES, QTL_ROWS    lanes per register, rows per tile (QTL_LANES - 1: the last lane
 *                          is the correction)
 *   QTL_NC                 columns per tile
 *   QTL_MAX_NB             blocks per chunk of K (the panels' stack space)
 *   qtl_tile(xp, dp, sp, cnb, w, dw, mw, out)   one tile: sums without bias to out[c][lane]
 *   qtl_store(out, m, nc, bias, add, y, N)      rows [0, m) of a tile into y (+ bias, or +
 *                                               what y holds when add)
 *   qtl_unpack_q4(p, cnb, dst)                  cnb q4 blocks → a byte per value
 *   qtl_f16_row(h, n, f)                        n f16 values → f32
 *
 * The tiles put rows in the lanes of one register and a column of W in each accumulator,
 * and vpdpbusd multiplies the rows' four bytes by the column's four, broadcast. vpdpbusd
 * reads the lanes as unsigned, so x goes in as q + 128, and Σ (q + 128)·w = Σ q·w + 128·Σ w;
 * the last lane holds no row: its bytes are 128 (q = 0), so it sums exactly the 128·Σ w that
 * the other lanes take off. Integer sums are exact; each block adds (dx·dw)·Σ to an f32 sum
 * in block order (and q4 its offsets Σ_b mw·(dx·Σ qx) at the end), so results match the
 * scalar kernels to f32 reassociation. q8 broadcasts from W's rows; q4 unpacks the tile's
 * columns first. */
#ifndef SEAM_KERNELS_QUANT_TILES_H
#define SEAM_KERNELS_QUANT_TILES_H

#include <string.h>

#include "kernels/quant.h"

#define QTL_PANEL_WORDS (QTL_MAX_NB * (SEAM_QBLOCK / 4) * QTL_LANES)

/* Panel space a row block may take when the panels are x's shared ones (x->tile_x): it is
 * streamed once per column tile, so it should stay in L2. */
#define QTL_SHARED_BYTES (256 * 1024)

/* matmul_q8 / matmul_q4 (kernels/quant.h) on the tiles. Rows go in blocks of panels, K in
 * equal chunks of at most QTL_MAX_NB blocks (each adding its sums to y), and each column
 * tile's set-up (its scales, and for q4 its unpacked columns and offsets) serves every panel
 * of the row block. The panels are x's shared ones where it holds them for these T rows,
 * else built here, as many per row block as the stack's panel space holds at this K. */
static void qtl_matmul(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows, nb = K / SEAM_QBLOCK, q4 = W->type == SEAM_QUANT_Q4;
    int chunks = (nb + QTL_MAX_NB - 1) / QTL_MAX_NB, cb = (nb + chunks - 1) / chunks; /* blocks per chunk */
    /* x's panels hold its tile_T rows; the first T of them where T ends on a panel */
    int shared = x->tile_x && (x->tile_T == T || (x->tile_T > T && T % QTL_ROWS == 0));
    size_t chunk_bytes = (size_t)cb * SEAM_QBLOCK * QTL_LANES;
    int panels = shared ? (int)(QTL_SHARED_BYTES / chunk_bytes) : QTL_MAX_NB / cb;
    if (panels < 1) panels = 1;
    /* one panel's words and scales: here (a chunk's), or in x's panels (all of K) */
    size_t pw = shared ? (size_t)nb * (SEAM_QBLOCK / 4) * QTL_LANES : (size_t)cb * (SEAM_QBLOCK / 4) * QTL_LANES;
    size_t pb = shared ? (size_t)nb * QTL_LANES : (size_t)cb * QTL_LANES;
    uint32_t xs[QTL_PANEL_WORDS] __attribute__((aligned(64)));
    float ds[QTL_MAX_NB * QTL_LANES] __attribute__((aligned(64)));
    float ss[QTL_MAX_NB * QTL_LANES] __attribute__((aligned(64)));
    float dw[QTL_NC][QTL_MAX_NB], mw[QTL_NC][QTL_MAX_NB];
    int8_t wu[QTL_NC][QTL_MAX_NB * SEAM_QBLOCK] __attribute__((aligned(64))); /* q4 columns, unpacked */
    float out[QTL_NC][QTL_LANES] __attribute__((aligned(64)));
    for (int r0 = 0; r0 < T; r0 += panels * QTL_ROWS) {
        int rows = T - r0 < panels * QTL_ROWS ? T - r0 : panels * QTL_ROWS;
        int np = (rows + QTL_ROWS - 1) / QTL_ROWS;
        for (int b0 = 0; b0 < nb; b0 += cb) {
            int cnb = nb - b0 < cb ? nb - b0 : cb;
            const uint32_t *xp = shared ? x->tile_x + (size_t)(r0 / QTL_ROWS) * pw + (size_t)b0 * (SEAM_QBLOCK / 4) * QTL_LANES : xs;
            const float *dp = shared ? x->tile_d + (size_t)(r0 / QTL_ROWS) * pb + (size_t)b0 * QTL_LANES : ds;
            const float *sp = shared ? x->tile_s + (size_t)(r0 / QTL_ROWS) * pb + (size_t)b0 * QTL_LANES : ss;
            if (!shared)
                for (int p = 0; p < np; p++) {
                    int m = rows - p * QTL_ROWS < QTL_ROWS ? rows - p * QTL_ROWS : QTL_ROWS;
                    seam_qx_tile_panel(x, QTL_LANES, r0 + p * QTL_ROWS, m, b0, cnb, xs + p * pw, ds + p * pb,
                                       q4 ? ss + p * pb : NULL);
                }
            for (int n = n0; n < n1; n += QTL_NC) {
                int nc = n1 - n < QTL_NC ? n1 - n : QTL_NC;
                const int8_t *w[QTL_NC];
                for (int c = 0; c < QTL_NC; c++) {
                    if (c >= nc) { /* a short tile repeats its last column */
                        w[c] = w[nc - 1];
                        memcpy(dw[c], dw[nc - 1], (size_t)cnb * sizeof(float));
                        if (q4) memcpy(mw[c], mw[nc - 1], (size_t)cnb * sizeof(float));
                        continue;
                    }
                    size_t cs = (size_t)(n + c) * nb + b0; /* the column's first scale */
                    if (q4) {
                        qtl_unpack_q4((const uint8_t *)W->data + cs * (SEAM_QBLOCK / 2), cnb, wu[c]);
                        w[c] = wu[c];
                        qtl_f16_row(W->min + cs, cnb, mw[c]);
                    } else
                        w[c] = (const int8_t *)W->data + cs * SEAM_QBLOCK;
                    if (W->scale_f32) memcpy(dw[c], W->scale_f32 + cs, (size_t)cnb * sizeof(float));
                    else qtl_f16_row(W->scale + cs, cnb, dw[c]);
                }
                for (int p = 0; p < np; p++) {
                    int t0 = r0 + p * QTL_ROWS, m = rows - p * QTL_ROWS < QTL_ROWS ? rows - p * QTL_ROWS : QTL_ROWS;
                    qtl_tile(xp + p * pw, dp + p * pb, q4 ? sp + p * pb : NULL, cnb, w, dw, mw, out);
                    qtl_store(out, m, nc, bias ? bias + n : NULL, b0 > 0, y + (size_t)t0 * N + n, (size_t)N);
                }
            }
        }
    }
}

/* Rows past the last whole panel that go to the per-row dots instead: on the VM's AVX-512,
 * 128 x 768 x 2304 q8 took 0.20 ms at 16 rows in two panels, 0.14 as one panel and a row of
 * dots; 19 rows went 0.20 -> 0.24 that way (a panel after the first costs ~2.5 rows of dots:
 * W's columns are in cache by then). */
#define QTL_TAIL_ROWS 2

/* matmul_q8 / matmul_q4 for any T: the tiles from min_t rows on, and `rows` (the table's
 * per-row dot products) for fewer, and for a last panel of QTL_TAIL_ROWS rows or fewer. */
static void qtl_matmul_any(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1,
                           int min_t, void (*rows)(const seam_qx *, int, const seam_qmat *, const float *, float *, int, int)) {
    int tail = T % QTL_ROWS, tiled = T < min_t ? 0 : T > QTL_ROWS && tail <= QTL_TAIL_ROWS ? T - tail : T;
    if (tiled) qtl_matmul(x, tiled, W, bias, y, n0, n1);
    if (tiled < T) {
        seam_qx v = *x;
        size_t nb = (size_t)(x->K / SEAM_QBLOCK);
        v.q += (size_t)tiled * (size_t)x->K;
        v.d += (size_t)tiled * nb;
        v.s += (size_t)tiled * nb;
        v.tile_T = 0;
        rows(&v, T - tiled, W, bias, y + (size_t)tiled * (size_t)W->rows, n0, n1);
    }
}

#endif
