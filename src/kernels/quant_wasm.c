/* WebAssembly SIMD128 quantised kernels. SIMD128 has no byte dot product (relaxed SIMD's
 * i32x4.dot_i8x16_i7x16_add is not in emscripten 3.1.6), so both sides of a block are
 * widened to int16 and multiplied with i32x4.dot_i16x8_s, which V8 lowers to one pmaddwd on
 * x86 (|w|, |x| ≤ 127: the pair sums cannot overflow). Decode (one activation row) walks
 * the weight rows one at a time (rows_stream). Several rows run in tiles of four weight rows:
 * each activation block is widened once and shared by the tile, whose int32 sums are reduced
 * into one vector (lane r = row r), converted and scaled once per block; the tile's weights
 * are widened once into a stack buffer that every activation row reuses.
 *
 * The tiles compute every block's term with the same f32 operations, in the same block
 * order, as the scalar reference, so they match it bit for bit (only the reduction of the
 * integer sums differs, and that is exact); rows_stream adds the terms in four lanes, so it
 * differs from the scalar reference by f32 reassociation. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/quant.h"
#include "kernels/simd_wasm.h"
#include "quant/quant.h"

/* Activation rows per pass over a tile of four weight rows: the tile (4 K bytes) stays in
 * L1 while the rows of x (QT_BLOCK K bytes) stream from L2; 32 ran ~4% faster than 16 on
 * GPT-2's 768 x 2304 at T = 128 in node. */
#define QT_BLOCK 32
/* Blocks per chunk: their weight scales are converted to f32 (1 KiB for q4) and, for
 * several activation rows, the tile's weights widened to int16 (8 KiB) at a time. */
#define QKB 32

static void wasm_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *xb = x + b * SEAM_QBLOCK;
        v128_t v[8], m = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < 8; i++) {
            v[i] = wasm_v128_load(xb + 4 * i);
            /* pmax keeps m when |x| is NaN, as fmaxf does in the scalar version */
            m = wasm_f32x4_pmax(m, wasm_f32x4_abs(v[i]));
        }
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        float amax = wasm_f32x4_extract_lane(m, 0);
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        v128_t iv = wasm_f32x4_splat(id), sum = wasm_i32x4_splat(0), i32[8];
        for (int i = 0; i < 8; i++) {
            /* nearest = round half to even, like seam_round_even; trunc_sat turns NaN into 0
             * as the scalar version does, and |x·id| ≤ 127 needs no clamp */
            i32[i] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[i], iv)));
            sum = wasm_i32x4_add(sum, i32[i]);
        }
        for (int h = 0; h < 2; h++) {
            v128_t a = wasm_i16x8_narrow_i32x4(i32[4 * h], i32[4 * h + 1]);
            v128_t c = wasm_i16x8_narrow_i32x4(i32[4 * h + 2], i32[4 * h + 3]);
            wasm_v128_store(q + b * SEAM_QBLOCK + 16 * h, wasm_i8x16_narrow_i16x8(a, c));
        }
        sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 2, 3, 0, 1));
        sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 1, 0, 3, 2));
        d[b] = amax / 127.0f;
        s[b] = d[b] * (float)wasm_i32x4_extract_lane(sum, 0);
    }
}

/* The 32 activations of a block as four int16 vectors (values 0-7, 8-15, 16-23, 24-31). */
WAI void x_widen(const int8_t *xq, v128_t *xe) {
    v128_t a = wasm_v128_load(xq), c = wasm_v128_load(xq + 16);
    xe[0] = wasm_i16x8_extend_low_i8x16(a);
    xe[1] = wasm_i16x8_extend_high_i8x16(a);
    xe[2] = wasm_i16x8_extend_low_i8x16(c);
    xe[3] = wasm_i16x8_extend_high_i8x16(c);
}

/* Σ w·x of one q8 block as four int32 partial sums. */
WAI v128_t q8_dot(const int8_t *w, const v128_t *xe) {
    v128_t a = wasm_v128_load(w), c = wasm_v128_load(w + 16);
    v128_t p = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), xe[0]);
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), xe[1]));
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(c), xe[2]));
    return wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(c), xe[3]));
}

/* The same for a q4 block: byte j holds values j (low nibble) and j + 16 (high). Widening
 * the bytes first lets one 16-bit mask or shift split the nibbles (8-bit shifts cost
 * several instructions on x86). */
WAI v128_t q4_dot(const uint8_t *w, const v128_t *xe) {
    v128_t v = wasm_v128_load(w), mask = wasm_i16x8_splat(0x0F);
    v128_t e0 = wasm_u16x8_extend_low_u8x16(v), e1 = wasm_u16x8_extend_high_u8x16(v);
    v128_t p = wasm_i32x4_dot_i16x8(wasm_v128_and(e0, mask), xe[0]);
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_v128_and(e1, mask), xe[1]));
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(e0, 4), xe[2]));
    return wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(e1, 4), xe[3]));
}

/* [Σ p0, Σ p1, Σ p2, Σ p3]: unpack / add twice (shuffles V8 maps to punpck*). */
WAI v128_t hsum4x4(v128_t p0, v128_t p1, v128_t p2, v128_t p3) {
    v128_t u01 = wasm_i32x4_add(wasm_i32x4_shuffle(p0, p1, 0, 4, 1, 5), wasm_i32x4_shuffle(p0, p1, 2, 6, 3, 7));
    v128_t u23 = wasm_i32x4_add(wasm_i32x4_shuffle(p2, p3, 0, 4, 1, 5), wasm_i32x4_shuffle(p2, p3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i64x2_shuffle(u01, u23, 0, 2), wasm_i64x2_shuffle(u01, u23, 1, 3));
}

/* f16 values src[r * nb + b0 .. + nbk) of four rows into dst[j][r] as f32, so block j's
 * scales load as one vector; rows past R get 0 (their lanes are dropped anyway). */
static void scales_f32(const uint16_t *src, int nb, int R, int b0, int nbk, float *dst) {
    for (int r = 0; r < 4; r++) {
        if (r >= R) {
            for (int j = 0; j < nbk; j++) dst[4 * j + r] = 0.0f;
            continue;
        }
        const uint16_t *row = src + (size_t)r * nb + b0;
        int j = 0;
        for (; j + 4 <= nbk; j += 4) {
            v128_t f = half4_to_f32(wasm_u32x4_load16x4(row + j));
            dst[4 * j + r] = wasm_f32x4_extract_lane(f, 0);
            dst[4 * j + 4 + r] = wasm_f32x4_extract_lane(f, 1);
            dst[4 * j + 8 + r] = wasm_f32x4_extract_lane(f, 2);
            dst[4 * j + 12 + r] = wasm_f32x4_extract_lane(f, 3);
        }
        for (; j < nbk; j++) dst[4 * j + r] = seam_f16_to_f32(row[j]);
    }
}

/* y[t0:t1, n:n+R] from lanes of acc, plus bias. */
WAI void store_tile(const v128_t *acc, int t0, int t1, const float *bias, float *y, size_t N, int n, int R) {
    float bl[4] = {0, 0, 0, 0};
    for (int r = 0; r < R && bias; r++) bl[r] = bias[n + r];
    v128_t bv = wasm_v128_load(bl);
    for (int t = t0; t < t1; t++) {
        v128_t o = wasm_f32x4_add(acc[t - t0], bv);
        float *yr = y + (size_t)t * N + n;
        if (R == 4) { wasm_v128_store(yr, o); continue; }
        float tmp[4];
        wasm_v128_store(tmp, o);
        for (int r = 0; r < R; r++) yr[r] = tmp[r];
    }
}

/* Weights of one block widened to int16 in x_widen's order, for tiles reused by several
 * activation rows: the widening is then done once per tile instead of once per row. */
WAI void q8_widen(const int8_t *w, int16_t *dst) {
    v128_t a = wasm_v128_load(w), c = wasm_v128_load(w + 16);
    wasm_v128_store(dst, wasm_i16x8_extend_low_i8x16(a));
    wasm_v128_store(dst + 8, wasm_i16x8_extend_high_i8x16(a));
    wasm_v128_store(dst + 16, wasm_i16x8_extend_low_i8x16(c));
    wasm_v128_store(dst + 24, wasm_i16x8_extend_high_i8x16(c));
}

WAI void q4_widen(const uint8_t *w, int16_t *dst) {
    v128_t v = wasm_v128_load(w), mask = wasm_i16x8_splat(0x0F);
    v128_t e0 = wasm_u16x8_extend_low_u8x16(v), e1 = wasm_u16x8_extend_high_u8x16(v);
    wasm_v128_store(dst, wasm_v128_and(e0, mask));
    wasm_v128_store(dst + 8, wasm_v128_and(e1, mask));
    wasm_v128_store(dst + 16, wasm_u16x8_shr(e0, 4));
    wasm_v128_store(dst + 24, wasm_u16x8_shr(e1, 4));
}

/* Σ w·x of one block from widened weights. */
WAI v128_t w16_dot(const int16_t *w, const v128_t *xe) {
    v128_t p = wasm_i32x4_dot_i16x8(wasm_v128_load(w), xe[0]);
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_v128_load(w + 8), xe[1]));
    p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_v128_load(w + 16), xe[2]));
    return wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_v128_load(w + 24), xe[3]));
}

/* acc[t] += the terms of blocks b0 .. b0 + nbk of rows t0 .. t1, the four int32 block sums
 * given by PSUM (which sees j, o = the block's weight offset, and xe). */
#define TILE_ROWS(PSUM, Q4)                                                                                    \
    for (int t = t0; t < t1; t++) {                                                                            \
        const int8_t *xq = x->q + (size_t)t * K;                                                               \
        const float *xd = x->d + (size_t)t * nb, *xs = x->s + (size_t)t * nb;                                  \
        v128_t a = acc[t - t0];                                                                                \
        for (int j = 0; j < nbk; j++) {                                                                        \
            int b = b0 + j;                                                                                    \
            v128_t xe[4];                                                                                      \
            x_widen(xq + b * SEAM_QBLOCK, xe);                                                                 \
            v128_t p = PSUM;                                                                                   \
            /* (dw·dx)·Σ, as the scalar reference rounds it */                                                \
            v128_t term = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(sc + 4 * j), wasm_f32x4_splat(xd[b])), \
                                         wasm_f32x4_convert_i32x4(p));                                         \
            if (Q4) term = wasm_f32x4_add(term, wasm_f32x4_mul(wasm_v128_load(mn + 4 * j), wasm_f32x4_splat(xs[b]))); \
            a = wasm_f32x4_add(a, term);                                                                       \
        }                                                                                                      \
        acc[t - t0] = a;                                                                                       \
    }

/* One activation row (decode): weights are the whole cost here, and a tile of four rows
 * reads four streams a row apart whose short runs the hardware prefetchers barely follow
 * from WebAssembly (q8: 3.7 GB/s on GPT-2's 50257 x 768 in node, vs 10 GB/s for f32).
 * Walking one row at a time makes the matrix one sequential stream (9.9 GB/s; even two
 * rows side by side, one row apart, fell back to 4.3 GB/s); four blocks
 * of the row are summed per step, so their four scales convert as one vector, and the
 * activations, widened to int16 once per chunk, load instead of widening per block. */
#define ROW_CHUNK 4096
WAI void rows_stream(const seam_qx *x, const seam_qmat *W, const float *bias, float *y, int n0, int n1, int q4) {
    int K = W->cols, nb = K / SEAM_QBLOCK;
    size_t rb = (size_t)nb * (q4 ? SEAM_QBLOCK / 2 : SEAM_QBLOCK);
    v128_t xw[ROW_CHUNK / 8]; /* int16: four vectors per block */
    for (int k0 = 0; k0 < K; k0 += ROW_CHUNK) {
        int kc = K - k0 < ROW_CHUNK ? K - k0 : ROW_CHUNK, b0 = k0 / SEAM_QBLOCK, nbc = kc / SEAM_QBLOCK;
        for (int b = 0; b < nbc; b++) x_widen(x->q + k0 + b * SEAM_QBLOCK, xw + 4 * b);
        const float *xd = x->d + b0, *xs = x->s + b0;
        for (int n = n0; n < n1; n++) {
            const uint8_t *w = (const uint8_t *)W->data + (size_t)n * rb + (size_t)b0 * (rb / nb);
            const uint16_t *ws = W->scale + (size_t)n * nb + b0, *wm = q4 ? W->min + (size_t)n * nb + b0 : NULL;
            v128_t acc = wasm_f32x4_splat(0.0f);
            int b = 0;
            for (; b + 4 <= nbc; b += 4) {
                v128_t p[4];
                for (int j = 0; j < 4; j++) {
                    const v128_t *xe = xw + 4 * (b + j);
                    p[j] = q4 ? q4_dot(w + (size_t)(b + j) * (SEAM_QBLOCK / 2), xe)
                              : q8_dot((const int8_t *)w + (size_t)(b + j) * SEAM_QBLOCK, xe);
                }
                v128_t d = wasm_f32x4_mul(half4_to_f32(wasm_u32x4_load16x4(ws + b)), wasm_v128_load(xd + b));
                v128_t term = wasm_f32x4_mul(d, wasm_f32x4_convert_i32x4(hsum4x4(p[0], p[1], p[2], p[3])));
                if (q4) term = wasm_f32x4_add(term, wasm_f32x4_mul(half4_to_f32(wasm_u32x4_load16x4(wm + b)), wasm_v128_load(xs + b)));
                acc = wasm_f32x4_add(acc, term);
            }
            float lanes[4];
            wasm_v128_store(lanes, acc);
            float r = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            for (; b < nbc; b++) {
                const v128_t *xe = xw + 4 * b;
                v128_t p = q4 ? q4_dot(w + (size_t)b * (SEAM_QBLOCK / 2), xe) : q8_dot((const int8_t *)w + (size_t)b * SEAM_QBLOCK, xe);
                p = hsum4x4(p, p, p, p);
                r += seam_f16_to_f32(ws[b]) * xd[b] * (float)wasm_i32x4_extract_lane(p, 0);
                if (q4) r += seam_f16_to_f32(wm[b]) * xs[b];
            }
            y[n] = k0 ? y[n] + r : r + (bias ? bias[n] : 0.0f);
        }
    }
}

/* One kernel for both types: the weight pointers of a tile advance rb bytes per row and
 * BB bytes per block; Q4 adds the offset term mw[n, b]·s[t, b] to each block's term. A
 * lone activation row (a tail of 32-row blocks) reads the weights directly; several share a copy of
 * the tile's chunk widened to int16 (8 KiB). */
#define DEFINE_MATMUL(NAME, WT, DOT, WIDEN, BB, Q4)                                                            \
    static void NAME(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) { \
        int K = W->cols, nb = K / SEAM_QBLOCK;                                                                 \
        size_t N = (size_t)W->rows, rb = (size_t)nb * (BB);                                                    \
        float sc[QKB * 4], mn[QKB * 4];                                                                        \
        int16_t wide[4 * QKB * SEAM_QBLOCK] __attribute__((aligned(16)));                                      \
        v128_t acc[QT_BLOCK];                                                                                  \
        for (int t0 = 0; t0 < T; t0 += QT_BLOCK) {                                                             \
            int t1 = T - t0 < QT_BLOCK ? T : t0 + QT_BLOCK;                                                    \
            for (int n = n0; n < n1; n += 4) {                                                                 \
                int R = n1 - n < 4 ? n1 - n : 4;                                                               \
                /* rows past R repeat the last one; their scales are 0 and lanes dropped */                   \
                const WT *w0 = (const WT *)W->data + (size_t)n * rb;                                           \
                const WT *w1 = w0 + (R > 1 ? rb : 0), *w2 = w0 + (R > 2 ? 2 * rb : 0);                         \
                const WT *w3 = w0 + (R > 3 ? 3 * rb : 0);                                                      \
                for (int t = t0; t < t1; t++) acc[t - t0] = wasm_f32x4_splat(0.0f);                            \
                for (int b0 = 0; b0 < nb; b0 += QKB) {                                                         \
                    int nbk = nb - b0 < QKB ? nb - b0 : QKB;                                                   \
                    scales_f32(W->scale + (size_t)n * nb, nb, R, b0, nbk, sc);                                 \
                    if (Q4) scales_f32(W->min + (size_t)n * nb, nb, R, b0, nbk, mn);                           \
                    if (t1 - t0 == 1) {                                                                        \
                        TILE_ROWS(hsum4x4(DOT(w0 + (size_t)b * (BB), xe), DOT(w1 + (size_t)b * (BB), xe),       \
                                          DOT(w2 + (size_t)b * (BB), xe), DOT(w3 + (size_t)b * (BB), xe)), Q4)  \
                        continue;                                                                              \
                    }                                                                                          \
                    const WT *wr[4] = {w0, w1, w2, w3};                                                        \
                    for (int r = 0; r < 4; r++)                                                                \
                        for (int j = 0; j < nbk; j++)                                                          \
                            WIDEN(wr[r] + (size_t)(b0 + j) * (BB), wide + (size_t)(r * QKB + j) * SEAM_QBLOCK); \
                    TILE_ROWS(hsum4x4(w16_dot(wide + (size_t)j * SEAM_QBLOCK, xe),                             \
                                      w16_dot(wide + (size_t)(QKB + j) * SEAM_QBLOCK, xe),                     \
                                      w16_dot(wide + (size_t)(2 * QKB + j) * SEAM_QBLOCK, xe),                 \
                                      w16_dot(wide + (size_t)(3 * QKB + j) * SEAM_QBLOCK, xe)), Q4)            \
                }                                                                                              \
                store_tile(acc, t0, t1, bias, y, N, n, R);                                                     \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_MATMUL(wasm_matmul_q8_tiles, int8_t, q8_dot, q8_widen, SEAM_QBLOCK, 0)
DEFINE_MATMUL(wasm_matmul_q4_tiles, uint8_t, q4_dot, q4_widen, SEAM_QBLOCK / 2, 1)

static void wasm_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T == 1)
        rows_stream(x, W, bias, y, n0, n1, 0);
    else
        wasm_matmul_q8_tiles(x, T, W, bias, y, n0, n1);
}

static void wasm_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T == 1)
        rows_stream(x, W, bias, y, n0, n1, 1);
    else
        wasm_matmul_q4_tiles(x, T, W, bias, y, n0, n1);
}

const seam_qkernels seam_qkernels_wasm = {"wasm", wasm_quantize_x, wasm_matmul_q8, wasm_matmul_q4};
#endif
