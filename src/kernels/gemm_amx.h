/* The pre-packed GEMM of encoders on Intel AMX, in three bf16 products per f32 product.
 *
 *   y[T, n0:n1] = x[T, K] @ W[N, K]^T (+ b)
 *
 * Every f32 value v is split into v_hi = bf16(v) and v_lo = bf16(v - v_hi), which together
 * hold ~16 of its 24 significant bits, and x W^T is taken as
 *
 *   x_hi W_hi^T + x_lo W_hi^T + x_hi W_lo^T
 *
 * (x_lo W_lo^T and the rest of the split are below 2^-16 of each product), accumulated in
 * f32 by TDPBF16PS: PyTorch's "high" float32 matmul precision. Relative error ~1e-5, an
 * order below the 1e-4 that the fixtures ask of an f32 engine; the tile unit does 512 bf16
 * multiply-adds per cycle against 32 f32 FMAs of AVX-512, so three passes still win: 2.2-2.6x
 * the AVX-512 GEMM on one core of the device's Xeon at 384 rows. bert.c asks for it unless
 * the caller wants "highest".
 *
 * Tiles (8 registers of 16 rows x 64 bytes): 0-3 hold the f32 sums of one row tile (16
 * rows) against 4 column tiles (16 columns each); 4 and 5 x's hi and lo parts for 32
 * inputs; 6 and 7 W's hi and lo parts for the same 32 inputs of one column tile, in the
 * pairs TDPBF16PS reads (row r holds inputs 2r and 2r + 1 of each of the 16 columns).
 *
 * The including file defines the tile operations, so that the same loops run on the
 * hardware (kernels_amx.c) and on a plain-C emulation of it (tests/unit/test_amx.c, which
 * is how machines without AMX test the packing and the loops):
 *   AMX_CONFIG(cfg)        load an amx_cfg
 *   AMX_ZERO(t)            tile t = 0
 *   AMX_LOAD(t, p, stride) tile t = the rows at p, stride bytes apart
 *   AMX_STORE(t, p, stride)
 *   AMX_DP(c, a, b)        tile c += a . b (TDPBF16PS)
 *   AMX_RELEASE()
 *   AMX_PREFETCH_L2(p)     the cache line at p into L2, or nothing
 *   amx_split(src, n, hi, lo)  the first n (0..32) floats at src as 32 bf16 hi and lo
 *                              parts (zero past n) */
#ifndef SEAM_GEMM_AMX_H
#define SEAM_GEMM_AMX_H

#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

#define AMX_MR 16                /* rows of an x tile and of an output tile */
#define AMX_NR 16                /* columns of an output tile */
#define AMX_KR 32                /* inputs per tile product */
#define AMX_TILE 512             /* bf16 values in an x or W tile */
#define AMX_GROUP 4              /* output tiles per pass (tiles 0-3) */
#define AMX_BLOCK_TILES 8        /* row tiles whose x parts are split once per k-chunk */
/* Tile products per k-chunk (128 for a single row tile). Each chunk past the first reloads
 * the output tiles from y: 16 ran MiniLM's products at 128 and 384 rows 8-17% faster than 8
 * on the device's Xeon, and 24, 32 and 48 no faster than 16. */
#define AMX_KC_STEPS 16

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;

static inline uint16_t amx_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return (uint16_t)((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u)); /* inf, NaN stays NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                                       /* round to nearest even */
}

static inline float amx_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The portable split (packing, and the emulation's amx_split). */
static inline void amx_split_scalar(const float *src, int n, uint16_t *hi, uint16_t *lo) {
    for (int i = 0; i < AMX_KR; i++) {
        float v = i < n ? src[i] : 0.0f;
        hi[i] = amx_bf16(v);
        lo[i] = amx_bf16(v - amx_f32(hi[i]));
    }
}

/* W [N, K] (Linear layout, any dtype) as tiles: for column tile j and input step s (32
 * inputs), W_hi's tile at ((j * S + s) * 2) * AMX_TILE and W_lo's right after it, S =
 * ceil(K / 32); zero past N and K. That is ceil(N/16)*16 x ceil(K/32)*32 floats' worth of
 * bytes (seam_packed_floats with pack_nr 16, pack_kr 32). */
static inline void amx_pack_nk(const seam_mat *W, float *dst) {
    int N = W->rows, K = W->cols, S = (K + AMX_KR - 1) / AMX_KR, NT = (N + AMX_NR - 1) / AMX_NR;
    uint16_t *out = (uint16_t *)dst;
    float v[AMX_KR];
    uint16_t hi[AMX_KR], lo[AMX_KR];
    for (int j = 0; j < NT; j++)
        for (int s = 0; s < S; s++) {
            uint16_t *th = out + ((size_t)j * S + (size_t)s) * 2 * AMX_TILE, *tl = th + AMX_TILE;
            for (int c = 0; c < AMX_NR; c++) {
                int n = j * AMX_NR + c, k0 = s * AMX_KR, kn = K - k0 < AMX_KR ? K - k0 : AMX_KR;
                for (int i = 0; i < kn && n < N; i++) v[i] = seam_elem_f32(W->data, (size_t)n * (size_t)K + (size_t)(k0 + i), W->dtype);
                amx_split_scalar(v, n < N ? kn : 0, hi, lo);
                for (int i = 0; i < AMX_KR; i++) {
                    th[(i / 2) * 32 + c * 2 + (i & 1)] = hi[i];
                    tl[(i / 2) * 32 + c * 2 + (i & 1)] = lo[i];
                }
            }
        }
}

/* Part `part` of `parts` of `runs` runs of n values, the first at p and each `stride`
 * values after the last, into L2. It runs every step beside the tile unit's 12 products, so
 * it divides once a call, not once a line: a division a line took as long as the products,
 * and a product of one row tile ran at half speed (device, 12 x 384 x 1536: 234 -> 115 us). */
static inline void amx_prefetch_l2_part(const uint16_t *p, int runs, size_t n, size_t stride, int part, int parts) {
    size_t per = n / 32, lines = per * (size_t)runs, a = lines * (size_t)part / (size_t)parts;
    size_t b = lines * (size_t)(part + 1) / (size_t)parts, run = a / per, at = a % per;
    for (size_t l = a; l < b; l++) {
        AMX_PREFETCH_L2(p + run * stride + at * 32);
        if (++at == per) {
            at = 0;
            run++;
        }
    }
}

static inline void amx_config_rows(amx_cfg *cfg, int m) {
    memset(cfg, 0, sizeof *cfg);
    cfg->palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg->colsb[t] = 64;
        cfg->rows[t] = (uint8_t)(t >= 6 ? AMX_KR / 2 : m);
    }
}

/* Output tile t (rows m, columns [n, n + nv) of y) loaded (init: from y) or stored, through
 * the 16 x 16 scratch when the tile sticks out past the last column. */
#define AMX_EDGE_IN(t, yp, ldy, m, nv, edge)                                                               \
    do {                                                                                                   \
        if ((nv) == AMX_NR) AMX_LOAD(t, yp, (ldy) * sizeof(float));                                        \
        else {                                                                                             \
            for (int r_ = 0; r_ < (m); r_++)                                                               \
                for (int c_ = 0; c_ < AMX_NR; c_++) (edge)[r_ * AMX_NR + c_] = c_ < (nv) ? (yp)[r_ * (ldy) + c_] : 0.0f; \
            AMX_LOAD(t, edge, AMX_NR * sizeof(float));                                                     \
        }                                                                                                  \
    } while (0)
#define AMX_EDGE_OUT(t, yp, ldy, m, nv, edge)                                                              \
    do {                                                                                                   \
        if ((nv) == AMX_NR) AMX_STORE(t, yp, (ldy) * sizeof(float));                                       \
        else {                                                                                             \
            AMX_STORE(t, edge, AMX_NR * sizeof(float));                                                    \
            for (int r_ = 0; r_ < (m); r_++)                                                               \
                for (int c_ = 0; c_ < (nv); c_++) (yp)[r_ * (ldy) + c_] = (edge)[r_ * AMX_NR + c_];          \
        }                                                                                                  \
    } while (0)

/* Output tile i of the group: its first k-chunk starts from the bias (bt: tile i's 16
 * columns of it in each of 16 rows) or zero, later ones from y. */
#define AMX_INIT(i)                                                                                        \
    if (nt > i) {                                                                                          \
        int nv_ = n1 - (ng + i * AMX_NR) < AMX_NR ? n1 - (ng + i * AMX_NR) : AMX_NR;                      \
        float *yp_ = y + (size_t)(m0 + rt * AMX_MR) * N + (size_t)(ng + i * AMX_NR);                       \
        if (s0 > 0) AMX_EDGE_IN(i, yp_, (size_t)N, m, nv_, edge);                                          \
        else if (b) AMX_LOAD(i, bt + i * AMX_MR * AMX_NR, AMX_NR * sizeof(float));                                                       \
        else AMX_ZERO(i);                                                                                  \
    }
/* No software prefetch into L1 ahead of the tile loads: the 160 prefetches a step (10 KiB
 * of tiles) cost more than the misses they saved (device, MiniLM's products at 128 rows:
 * 7-9% slower with them). */
#define AMX_COLUMN(i)                                                                                      \
    if (nt > i) {                                                                                          \
        const uint16_t *w_ = wg[i] + (size_t)s * 2 * AMX_TILE;                                             \
        AMX_LOAD(6, w_, 64);                                                                               \
        AMX_LOAD(7, w_ + AMX_TILE, 64);                                                                    \
        AMX_DP(i, 4, 6);                                                                                   \
        AMX_DP(i, 5, 6);                                                                                   \
        AMX_DP(i, 4, 7);                                                                                   \
    }
#define AMX_FINISH(i)                                                                                      \
    if (nt > i) {                                                                                          \
        int nv_ = n1 - (ng + i * AMX_NR) < AMX_NR ? n1 - (ng + i * AMX_NR) : AMX_NR;                      \
        float *yp_ = y + (size_t)(m0 + rt * AMX_MR) * N + (size_t)(ng + i * AMX_NR);                       \
        AMX_EDGE_OUT(i, yp_, (size_t)N, m, nv_, edge);                                                     \
    }

/* The first `rows` rows of x [., K], steps [s0, s0 + sc) (32 inputs each), split into
 * hi/lo tiles at xs: for row tile rt and step s0 + s, x_hi's tile at ((rt * stride + s) *
 * 2) * AMX_TILE and x_lo's right after it, row r of a tile at r * AMX_KR. Every thread
 * splits the rows it works on itself, into its own L2: split once for all threads, x was
 * read back from the other threads' caches, which cost more than the repeats (graph/ops.c,
 * tile_row_groups). */
static inline void amx_split_rows(const float *x, int K, int rows, int s0, int sc, int stride, uint16_t *xs) {
    for (int t = 0; t < rows; t++) {
        uint16_t *row = xs + (size_t)(t / AMX_MR) * (size_t)stride * 2 * AMX_TILE + (size_t)(t % AMX_MR) * AMX_KR;
        for (int s = 0; s < sc; s++) {
            int k0 = (s0 + s) * AMX_KR, kn = K - k0 < AMX_KR ? K - k0 : AMX_KR;
            amx_split(x + (size_t)t * K + (size_t)k0, kn, row + (size_t)s * 2 * AMX_TILE, row + (size_t)s * 2 * AMX_TILE + AMX_TILE);
        }
    }
}

/* What one call keeps across its blocks: the tile configuration loaded (for cfg_rows rows)
 * and scratch for the bias and the edge tiles. */
typedef struct {
    amx_cfg cfg;
    int cfg_rows;
    float edge[AMX_MR * AMX_NR] __attribute__((aligned(64)));
    float bt[AMX_GROUP * AMX_MR * AMX_NR] __attribute__((aligned(64)));
} amx_state;

static inline void amx_begin(amx_state *st, int T) {
    st->cfg_rows = T < AMX_MR ? T : AMX_MR;
    amx_config_rows(&st->cfg, st->cfg_rows);
    AMX_CONFIG(&st->cfg);
}

/* y[m0 .. m0 + mb, n0:n1] over steps s0 .. s0 + sc of K: the block's x tiles for row tile
 * rt at xt0 + rt * rt_stride (step s0 first, the next steps after it), W's from wp (S steps
 * a column tile). Every group of 4 column tiles runs over the block's row tiles, so a
 * group's W chunk is read from memory once per block and from L2 after that. */
static inline void amx_block(amx_state *st, const uint16_t *xt0, size_t rt_stride, int m0, int mb, int s0, int sc,
                             const uint16_t *wp, int S, int N, const float *b, float *y, int n0, int n1) {
    float *edge = st->edge, *bt = st->bt;
    int tiles = (mb + AMX_MR - 1) / AMX_MR;
    for (int ng = n0; ng < n1; ng += AMX_GROUP * AMX_NR) {
        int nt = (n1 - ng + AMX_NR - 1) / AMX_NR;
        if (nt > AMX_GROUP) nt = AMX_GROUP;
        const uint16_t *wg[AMX_GROUP];
        for (int i = 0; i < nt; i++) wg[i] = wp + ((size_t)(ng / AMX_NR + i) * S + (size_t)s0) * 2 * AMX_TILE;
        /* The next group's W chunk: ntn runs of sc steps, S steps apart. */
        int ngn = ng + AMX_GROUP * AMX_NR, ntn = ngn < n1 ? (n1 - ngn + AMX_NR - 1) / AMX_NR : 0;
        if (ntn > AMX_GROUP) ntn = AMX_GROUP;
        const uint16_t *next_w = ntn ? wp + ((size_t)(ngn / AMX_NR) * S + (size_t)s0) * 2 * AMX_TILE : NULL;
        if (s0 == 0 && b)
            for (int i = 0; i < nt; i++)
                for (int c = 0; c < AMX_NR; c++) {
                    int n = ng + i * AMX_NR + c;
                    for (int r = 0; r < AMX_MR; r++) bt[(i * AMX_MR + r) * AMX_NR + c] = n < n1 ? b[n] : 0.0f;
                }
        for (int rt = 0; rt < tiles; rt++) {
            int m = mb - rt * AMX_MR < AMX_MR ? mb - rt * AMX_MR : AMX_MR;
            if (m != st->cfg_rows) {
                st->cfg_rows = m;
                amx_config_rows(&st->cfg, m);
                AMX_CONFIG(&st->cfg);
            }
            AMX_INIT(0) AMX_INIT(1) AMX_INIT(2) AMX_INIT(3)
            const uint16_t *xt = xt0 + (size_t)rt * rt_stride;
            for (int s = 0; s < sc; s++) {
                /* A slice of the next group's W chunk into L2, spread over the block so it
                 * streams while this group computes. A block of one row tile goes through
                 * W too fast for that (12 products a step): there the hardware's own
                 * prefetch alone is faster (12 x 384 x 1536: 115 -> 89 us). */
                if (next_w && tiles > 1)
                    amx_prefetch_l2_part(next_w, ntn, (size_t)sc * 2 * AMX_TILE, (size_t)S * 2 * AMX_TILE, rt * sc + s,
                                         tiles * sc);
                AMX_LOAD(4, xt + (size_t)s * 2 * AMX_TILE, 64);
                AMX_LOAD(5, xt + (size_t)s * 2 * AMX_TILE + AMX_TILE, 64);
                AMX_COLUMN(0) AMX_COLUMN(1) AMX_COLUMN(2) AMX_COLUMN(3)
            }
            AMX_FINISH(0) AMX_FINISH(1) AMX_FINISH(2) AMX_FINISH(3)
        }
    }
}

/* Steps per k-chunk for a block of `tiles` row tiles. One row tile (a short batch: W is read
 * from memory once for little work) takes the x buffer's room for all 8 in steps, so a
 * chunk is up to 128 steps; for K <= 4096 that is all of K, and a group's W chunk, its 4
 * column tiles' steps being adjacent, is one sequential run that ends where the next
 * group's starts. */
static inline int amx_chunk_steps(int tiles) { return tiles == 1 ? AMX_BLOCK_TILES * AMX_KC_STEPS : AMX_KC_STEPS; }

/* y[T, n0:n1] (row stride N) from x[T, K] and amx_pack_nk's tiles; n0 a multiple of 16.
 *
 * Rows go in blocks of up to 8 row tiles and inputs in chunks of 16 tile products (128 for
 * a block of one row tile): each block's x is split into hi/lo tiles once per chunk (256
 * KiB on the stack: every caller is a pool thread or the caller's own, as in gemm_run),
 * then amx_block runs the chunk. */
static inline void amx_gemm(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                            int n1) {
    if (T <= 0 || n0 >= n1) return;
    uint16_t xs[AMX_BLOCK_TILES * AMX_KC_STEPS * 2 * AMX_TILE] __attribute__((aligned(64)));
    amx_state st;
    int S = (K + AMX_KR - 1) / AMX_KR;
    amx_begin(&st, T);
    for (int m0 = 0; m0 < T; m0 += AMX_BLOCK_TILES * AMX_MR) {
        int mb = T - m0 < AMX_BLOCK_TILES * AMX_MR ? T - m0 : AMX_BLOCK_TILES * AMX_MR;
        int tiles = (mb + AMX_MR - 1) / AMX_MR, kcs = amx_chunk_steps(tiles);
        for (int s0 = 0; s0 < S; s0 += kcs) {
            int sc = S - s0 < kcs ? S - s0 : kcs;
            /* x's hi/lo tiles of the block: tile (rt, s) at ((rt * kcs + s) * 2) * AMX_TILE */
            amx_split_rows(x + (size_t)m0 * K, K, mb, s0, sc, kcs, xs);
            amx_block(&st, xs, (size_t)kcs * 2 * AMX_TILE, m0, mb, s0, sc, (const uint16_t *)packed, S, N, b, y, n0, n1);
        }
    }
    AMX_RELEASE();
}

#endif
