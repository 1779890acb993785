/* WebAssembly SIMD128 quantised kernels. SIMD128 has no byte dot product, so both sides of
 * a block are widened to int16 and multiplied with i32x4.dot_i16x8_s, which V8 lowers to one
 * pmaddwd on x86 (|w|, |x| ≤ 127: the pair sums cannot overflow). Where the engine has
 * relaxed SIMD, q4 prefill and decode go to quant_wasm_relaxed.c instead, and so does q8 prefill
 * where its byte dot sums exactly (a module of its own: emscripten 3.1.6 cannot emit it;
 * same bits). Decode (one activation row) walks the weight rows one at a time
 * (rows_stream). Several rows run in tiles of eight weight rows whose widened weights are
 * regrouped by value pairs, so each dot sums one pair for four columns and a block needs
 * no horizontal sum (DEFINE_MATMUL).
 *
 * The tiles compute every block's term with the same f32 operations, in the same block
 * order, as the scalar reference, so they match it bit for bit (only the order of the exact
 * integer sums differs); rows_stream adds the terms in four lanes, so it differs from the
 * scalar reference by f32 reassociation. */
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels/quant.h"
#include "kernels/quant_wasm_relaxed.h"
#include "kernels/simd_wasm.h"
#include "quant/quant.h"

/* Activation rows per block: each tile's weights are widened, and its scales converted, once
 * per block of rows, and the block's activations, widened (QT_BLOCK x QKB x 64 bytes, 256 KiB),
 * stay in L2 while every tile streams them. 128 rows instead of 32 took scales_f32 from 4%
 * of a q8 prefill to 1%. */
#define QT_BLOCK 128
/* Blocks per chunk: their weight scales are converted to f32 (2 KiB for q4), the tile's
 * weights widened to int16 (16 KiB) and the row block's activations too. */
#define QKB 32
/* Weight rows (output columns) per tile: two groups of four lanes. */
#define NR 8
_Static_assert(NR == 8, "store_cols and interleave4 take two groups of four columns");
/* Activation rows per pass over a tile: 3 × 2 int32 and 3 × 2 f32 accumulators, two weight
 * vectors and a splat (15) fit the 16 vector registers V8 has on x86-64. In Chromium 4 rows
 * ran 20% slower (spills), 2 rows ~5%. */
#define MR 3

static void wasm_quantize_x(const float *x, int K, int8_t *q, float *d, float *s) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *xb = x + b * SEAM_QBLOCK;
        v128_t v[8], mc[4];
        for (int i = 0; i < 8; i++) {
            v[i] = wasm_v128_load(xb + 4 * i);
            /* pmax keeps its first operand when the second, |x|, is NaN, as fmaxf does in the
             * scalar version; four chains from 0 hold no NaN, so they combine in any order */
            mc[i % 4] = wasm_f32x4_pmax(i < 4 ? wasm_f32x4_splat(0.0f) : mc[i % 4], wasm_f32x4_abs(v[i]));
        }
        v128_t m = wasm_f32x4_pmax(wasm_f32x4_pmax(mc[0], mc[1]), wasm_f32x4_pmax(mc[2], mc[3]));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        float amax = wasm_f32x4_extract_lane(m, 0);
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        v128_t iv = wasm_f32x4_splat(id), sum = wasm_i32x4_splat(0), i32[8];
        for (int i = 0; i < 8; i++) {
            /* round half to even, like seam_round_even (round_biased: |x·id| ≤ 127 needs no
             * clamp); NaN lanes (x·id != itself) become 0, as in the scalar version */
            v128_t xi = wasm_f32x4_mul(v[i], iv);
            i32[i] = wasm_v128_and(biased_to_i32(round_biased(xi)), wasm_f32x4_eq(xi, xi));
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

/* The 32 values of a q8 block (weights or activations) as four int16 vectors (values 0-7,
 * 8-15, 16-23, 24-31). */
WAI void q8_widen(const int8_t *xq, v128_t *xe) {
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

/* The f16 scales src[r * nb + b0 .. + nbk) of NR rows as f32 in dst[j * NR + r], so block
 * j's scales load as vectors; rows past R get 0 (their lanes are dropped anyway). */
static void scales_f32(const uint16_t *src, int nb, int R, int b0, int nbk, float *dst) {
    for (int r = 0; r < NR; r++) {
        if (r >= R) {
            for (int j = 0; j < nbk; j++) dst[NR * j + r] = 0.0f;
            continue;
        }
        const uint16_t *row = src + (size_t)r * nb + b0;
        int j = 0;
        for (; j + 4 <= nbk; j += 4) {
            v128_t f = half4_to_f32(wasm_u32x4_load16x4(row + j));
            dst[NR * j + r] = wasm_f32x4_extract_lane(f, 0);
            dst[NR * (j + 1) + r] = wasm_f32x4_extract_lane(f, 1);
            dst[NR * (j + 2) + r] = wasm_f32x4_extract_lane(f, 2);
            dst[NR * (j + 3) + r] = wasm_f32x4_extract_lane(f, 3);
        }
        for (; j < nbk; j++) dst[NR * j + r] = seam_f16_to_f32(row[j]);
    }
}

/* The same for a q4 block's values, in value order. */
WAI void q4_widen(const uint8_t *w, v128_t *e) {
    v128_t v = wasm_v128_load(w), mask = wasm_i16x8_splat(0x0F);
    v128_t e0 = wasm_u16x8_extend_low_u8x16(v), e1 = wasm_u16x8_extend_high_u8x16(v);
    e[0] = wasm_v128_and(e0, mask);
    e[1] = wasm_v128_and(e1, mask);
    e[2] = wasm_u16x8_shr(e0, 4);
    e[3] = wasm_u16x8_shr(e1, 4);
}

/* Four rows' widened blocks (e[r][h], values 8h .. 8h + 7) regrouped by pairs of values:
 * dst[4h + p] = [pair p of row 0, of row 1, of row 2, of row 3] with a 4 x 4 transpose of
 * 32-bit lanes, stored NR / 4 vectors apart so the kernel finds both groups of a pair side by
 * side. i32x4.dot_i16x8_s of such a vector with a splat activation pair then sums that pair
 * for four output columns at once, with no horizontal sum afterwards. */
WAI void interleave4(const v128_t e[4][4], v128_t *dst) {
    for (int h = 0; h < 4; h++) {
        v128_t v[4];
        transpose4_i32(e[0][h], e[1][h], e[2][h], e[3][h], v);
        for (int q = 0; q < 4; q++) dst[(4 * h + q) * (NR / 4)] = v[q];
    }
}

/* One activation row (decode): weights are the whole cost here, and a tile of four rows
 * reads four streams a row apart whose short runs the hardware prefetchers barely follow
 * from WebAssembly (q8: 3.7 GB/s on GPT-2's 50257 x 768 in node, vs 10 GB/s for f32).
 * Walking one row at a time makes the matrix one sequential stream (9.9 GB/s; even two
 * rows side by side, one row apart, fell back to 4.3 GB/s); four blocks
 * of the row are summed per step, so their four scales convert as one vector, and the
 * activations, widened to int16 once per chunk, load instead of widening per block. */
#define ROW_CHUNK RX_ROW_CHUNK /* the relaxed q4 rows chunk K alike, for the same bits */
WAI void rows_stream(const seam_qx *x, const seam_qmat *W, const float *bias, float *y, int n0, int n1, int q4) {
    int K = W->cols, nb = K / SEAM_QBLOCK;
    size_t rb = (size_t)nb * (q4 ? SEAM_QBLOCK / 2 : SEAM_QBLOCK);
    v128_t xw[ROW_CHUNK / 8]; /* int16: four vectors per block */
    for (int k0 = 0; k0 < K; k0 += ROW_CHUNK) {
        int kc = K - k0 < ROW_CHUNK ? K - k0 : ROW_CHUNK, b0 = k0 / SEAM_QBLOCK, nbc = kc / SEAM_QBLOCK;
        for (int b = 0; b < nbc; b++) q8_widen(x->q + k0 + b * SEAM_QBLOCK, xw + 4 * b);
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

/* rows_stream for q8 weights whose scales the model also holds as f32 (W->scale_f32): the
 * f16 conversion, a dozen SIMD128 instructions per four scales with no F16C to map to, was a
 * large part of the instructions per block, and summing four blocks before scaling them
 * (hsum4x4) kept more vectors live than V8's 16 registers, so it spilled. Here each block's
 * four int32 partial sums are scaled on their own into two accumulators. GPT-2-small's q8
 * decode, paired runs on a 2-core VM: node 85-86 -> 97-104 tok/s, Chromium 1 thread 54-83 ->
 * 101-116, 2 threads 102-135 -> 154-193. Kept out of line: inlined into rows_stream, V8
 * allocated its registers worse and the gain was lost. Each block's term (dw·dx)·Σ is taken
 * lane by lane, on four partial sums of Σ, so the result differs from the scalar reference
 * by f32 rounding of how the sums are grouped only (test_quant bounds it). */
__attribute__((noinline)) static void q8_rows_f32_scales(const seam_qx *x, const seam_qmat *W, const float *bias, float *y,
                                                         int n0, int n1) {
    int K = W->cols, nb = K / SEAM_QBLOCK;
    v128_t xw[ROW_CHUNK / 8]; /* int16: four vectors per block */
    for (int k0 = 0; k0 < K; k0 += ROW_CHUNK) {
        int kc = K - k0 < ROW_CHUNK ? K - k0 : ROW_CHUNK, b0 = k0 / SEAM_QBLOCK, nbc = kc / SEAM_QBLOCK;
        for (int b = 0; b < nbc; b++) q8_widen(x->q + k0 + b * SEAM_QBLOCK, xw + 4 * b);
        const float *xd = x->d + b0;
        for (int n = n0; n < n1; n++) {
            const int8_t *w = (const int8_t *)W->data + (size_t)n * K + k0;
            const float *ws = W->scale_f32 + (size_t)n * nb + b0;
            v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = acc0;
            int b = 0;
            for (; b + 4 <= nbc; b += 4) {
                v128_t d = wasm_f32x4_mul(wasm_v128_load(ws + b), wasm_v128_load(xd + b));
                const int8_t *wb = w + (size_t)b * SEAM_QBLOCK;
                const v128_t *xe = xw + 4 * b;
                acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(q8_dot(wb, xe)),
                                                           wasm_i32x4_shuffle(d, d, 0, 0, 0, 0)));
                acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(q8_dot(wb + SEAM_QBLOCK, xe + 4)),
                                                           wasm_i32x4_shuffle(d, d, 1, 1, 1, 1)));
                acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(q8_dot(wb + 2 * SEAM_QBLOCK, xe + 8)),
                                                           wasm_i32x4_shuffle(d, d, 2, 2, 2, 2)));
                acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(q8_dot(wb + 3 * SEAM_QBLOCK, xe + 12)),
                                                           wasm_i32x4_shuffle(d, d, 3, 3, 3, 3)));
            }
            for (; b < nbc; b++)
                acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(q8_dot(w + (size_t)b * SEAM_QBLOCK, xw + 4 * b)),
                                                           wasm_f32x4_splat(ws[b] * xd[b])));
            float lanes[4];
            wasm_v128_store(lanes, wasm_f32x4_add(acc0, acc1));
            float r = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            y[n] = k0 ? y[n] + r : r + (bias ? bias[n] : 0.0f);
        }
    }
}

/* Columns off .. off + 3 of one output row's tile, those past R as 0. */
WAI v128_t load_cols(const float *y, int off, int R) {
    if (off + 4 <= R) return wasm_v128_load(y + off);
    float tmp[4] = {0, 0, 0, 0};
    for (int r = off; r < R; r++) tmp[r - off] = y[r];
    return wasm_v128_load(tmp);
}

/* One output row's tile [lo | hi] plus bias (when given), its first R columns only. */
WAI void store_cols(float *y, v128_t lo, v128_t hi, const float *bias, int R) {
    if (bias) {
        lo = wasm_f32x4_add(lo, load_cols(bias, 0, R));
        hi = wasm_f32x4_add(hi, load_cols(bias, 4, R));
    }
    if (R == NR) {
        wasm_v128_store(y, lo);
        wasm_v128_store(y + 4, hi);
        return;
    }
    float tmp[NR];
    wasm_v128_store(tmp, lo);
    wasm_v128_store(tmp + 4, hi);
    for (int r = 0; r < R; r++) y[r] = tmp[r];
}

/* m ≤ MR activation rows t .. t + m (widened in xr, rows kc apart) times the tile's NR
 * columns over the chunk's nbk blocks, into y (rows N apart): started from 0 for the first
 * chunk, else from y; bias (already offset to the tile) added after the last chunk. Rows
 * past m repeat the last one and are not stored. */
WAI void tile_rows(const seam_qx *x, int t, int m, const int16_t *xr, int kc, const v128_t *wide, const float *sc,
                   const float *mn, int q4, int b0, int nbk, int nb, float *y, size_t N, int first, const float *bias,
                   int R) {
    const int16_t *xp[MR];
    const float *dx[MR], *sx[MR];
    v128_t acc[MR][NR / 4];
    for (int i = 0; i < MR; i++) {
        int r = i < m ? i : m - 1;
        xp[i] = xr + (size_t)r * kc;
        dx[i] = x->d + (size_t)(t + r) * nb + b0;
        sx[i] = x->s + (size_t)(t + r) * nb + b0;
        for (int g = 0; g < NR / 4; g++) acc[i][g] = first ? wasm_f32x4_splat(0.0f) : load_cols(y + (size_t)r * N, 4 * g, R);
    }
    for (int j = 0; j < nbk; j++) {
        const v128_t *wv = wide + (size_t)j * (SEAM_QBLOCK / 2) * (NR / 4);
        v128_t p[MR][NR / 4];
        for (int i = 0; i < MR; i++)
            for (int g = 0; g < NR / 4; g++) p[i][g] = wasm_i32x4_splat(0);
        /* one pair of values per step; unrolling it made V8 spill (-15% at 2 steps) */
        const int16_t *xq = xp[0] + j * SEAM_QBLOCK;
        for (const v128_t *wq = wv, *wend = wv + (SEAM_QBLOCK / 2) * (NR / 4); wq < wend; wq += NR / 4, xq += 2) {
            v128_t w[NR / 4];
            for (int g = 0; g < NR / 4; g++) w[g] = wq[g];
            for (int i = 0; i < MR; i++) {
                v128_t xv = wasm_v128_load32_splat(xq + (xp[i] - xp[0]));
                for (int g = 0; g < NR / 4; g++) p[i][g] = wasm_i32x4_add(p[i][g], wasm_i32x4_dot_i16x8(w[g], xv));
            }
        }
        for (int i = 0; i < MR; i++) {
            v128_t d = wasm_f32x4_splat(dx[i][j]);
            for (int g = 0; g < NR / 4; g++) {
                /* (dw·dx)·Σ, as the scalar reference rounds it */
                v128_t term = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(sc + NR * j + 4 * g), d),
                                             wasm_f32x4_convert_i32x4(p[i][g]));
                if (q4) term = wasm_f32x4_add(term, wasm_f32x4_mul(wasm_v128_load(mn + NR * j + 4 * g), wasm_f32x4_splat(sx[i][j])));
                acc[i][g] = wasm_f32x4_add(acc[i][g], term);
            }
        }
    }
    for (int i = 0; i < m; i++) store_cols(y + (size_t)i * N, acc[i][0], acc[i][1], bias, R);
}

/* Several activation rows (prefill) in tiles of NR = 8 weight rows and a chunk of QKB blocks:
 * the tile's weights are widened once, regrouped by value pairs (interleave4) into a stack
 * buffer every activation row reuses, and the chunk of activations is widened once into
 * another that every tile reuses. Each step of tile_rows's inner loop splats one int16 pair
 * of each of MR activation rows and multiplies it with the pair's two weight vectors: the
 * dots give the pair's products for MR rows x 8 columns, accumulated in int32 across the
 * block and scaled once per block. About 11 instructions per 32 multiply-adds, where the
 * row-ordered tiles this replaces needed a horizontal sum per block and column (16): GPT-2's
 * matrices at T = 128 went from 18 to 25 GMAC/s in node, 21 to 25 in Chromium. Outputs
 * accumulate in y from chunk to chunk; the terms are added in block order as in the scalar
 * kernel. */
#define DEFINE_MATMUL(NAME, WT, WIDEN, BB, Q4)                                                                 \
    static void NAME(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) { \
        int K = W->cols, nb = K / SEAM_QBLOCK;                                                                 \
        size_t N = (size_t)W->rows, rb = (size_t)nb * (BB);                                                    \
        if (T <= 0) return;                                                                                    \
        float sc[QKB * NR], mn[QKB * NR];                                                                      \
        v128_t wide[QKB * SEAM_QBLOCK / 2 * (NR / 4)];                                                        \
        int16_t xw[QT_BLOCK * QKB * SEAM_QBLOCK] __attribute__((aligned(16)));                                 \
        /* row blocks of even size, so that no block but a lone row is left with one row */                    \
        int nblk = (T + QT_BLOCK - 1) / QT_BLOCK, rows = (T + nblk - 1) / nblk;                                \
        for (int t0 = 0; t0 < T; t0 += rows) {                                                                 \
            int t1 = T - t0 < rows ? T : t0 + rows;                                                            \
            for (int b0 = 0; b0 < nb; b0 += QKB) {                                                             \
                int nbk = nb - b0 < QKB ? nb - b0 : QKB, kc = nbk * SEAM_QBLOCK, last = b0 + nbk == nb;        \
                for (int t = t0; t < t1; t++) {                                                                \
                    const int8_t *xq = x->q + (size_t)t * K + (size_t)b0 * SEAM_QBLOCK;                        \
                    for (int j = 0; j < nbk; j++) {                                                            \
                        v128_t e[4];                                                                           \
                        q8_widen(xq + j * SEAM_QBLOCK, e);                                                     \
                        for (int h = 0; h < 4; h++)                                                            \
                            wasm_v128_store(xw + (size_t)(t - t0) * kc + j * SEAM_QBLOCK + 8 * h, e[h]);        \
                    }                                                                                          \
                }                                                                                              \
                for (int n = n0; n < n1; n += NR) {                                                            \
                    int R = n1 - n < NR ? n1 - n : NR;                                                         \
                    scales_f32(W->scale + (size_t)n * nb, nb, R, b0, nbk, sc);                                 \
                    if (Q4) scales_f32(W->min + (size_t)n * nb, nb, R, b0, nbk, mn);                           \
                    for (int j = 0; j < nbk; j++)                                                              \
                        for (int g = 0; g < NR / 4; g++) {                                                     \
                            v128_t e[4][4];                                                                    \
                            /* rows past R repeat the last one; their scales are 0, lanes dropped */           \
                            for (int r = 0; r < 4; r++) {                                                      \
                                int row = 4 * g + r < R ? 4 * g + r : R - 1;                                   \
                                WIDEN((const WT *)W->data + (size_t)(n + row) * rb + (size_t)(b0 + j) * (BB), e[r]); \
                            }                                                                                  \
                            interleave4((const v128_t(*)[4])e, wide + (size_t)j * (SEAM_QBLOCK / 2) * (NR / 4) + g); \
                        }                                                                                      \
                    for (int t = t0; t < t1; t += MR)                                                          \
                        tile_rows(x, t, t1 - t < MR ? t1 - t : MR, xw + (size_t)(t - t0) * kc, kc, wide, sc, mn, Q4, \
                                  b0, nbk, nb, y + (size_t)t * N + n, N, b0 == 0, last && bias ? bias + n : NULL, R);      \
                }                                                                                              \
            }                                                                                                  \
        }                                                                                                      \
    }

DEFINE_MATMUL(wasm_matmul_q8_tiles, int8_t, q8_widen, SEAM_QBLOCK, 0)
DEFINE_MATMUL(wasm_matmul_q4_tiles, uint8_t, q4_widen, SEAM_QBLOCK / 2, 1)

/* web/rx_lib.js: instantiates the relaxed module for the calling thread and says what it
 * runs there (RX_RUNS_* bits, 0 when nothing); and runs its tiles. */
extern int seam_rx_js_ready(void);
extern void seam_rx_js_q8_tiles(const int8_t *xq, const float *xd, int T, int K, const int8_t *wq, const float *ws,
                                int N, const float *bias, float *y, int n0, int n1, uint8_t *scratch);
extern void seam_rx_js_q4_tiles(const int8_t *xq, const float *xd, const float *xs, int T, int K, const uint8_t *wq,
                                const uint16_t *wh, const uint16_t *wm, int N, const float *bias, float *y, int n0,
                                int n1, uint8_t *scratch);
extern void seam_rx_js_q4_rows(const int8_t *xq, const float *xd, const float *xs, int K, const uint8_t *wq,
                               const uint16_t *wh, const uint16_t *wm, const float *bias, float *y, int n0, int n1);

int seam_wasm_rx_allowed = 1;
/* Per thread: each has its own instance of the module (0 not asked yet, else 1 + what
 * seam_rx_js_ready said). */
static _Thread_local int rx_state;

static int rx_runs(int what) {
    if (!rx_state) rx_state = 1 + seam_rx_js_ready();
    return seam_wasm_rx_allowed && ((rx_state - 1) & what);
}

int seam_wasm_rx_active(void) { return rx_runs(RX_RUNS_Q8); }

int seam_wasm_rx_q4_active(void) { return rx_runs(RX_RUNS_Q4); }

static void wasm_matmul_q8(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T > 1 && W->scale_f32 && seam_wasm_rx_active()) {
        uint8_t scratch[RX_SCRATCH] __attribute__((aligned(16)));
        seam_rx_js_q8_tiles(x->q, x->d, T, W->cols, (const int8_t *)W->data, W->scale_f32, W->rows, bias, y, n0, n1,
                            scratch);
    } else if (T == 1 && W->scale_f32)
        q8_rows_f32_scales(x, W, bias, y, n0, n1);
    else if (T == 1)
        rows_stream(x, W, bias, y, n0, n1, 0);
    else
        wasm_matmul_q8_tiles(x, T, W, bias, y, n0, n1);
}

static void wasm_matmul_q4(const seam_qx *x, int T, const seam_qmat *W, const float *bias, float *y, int n0, int n1) {
    if (T > 1 && seam_wasm_rx_q4_active()) {
        uint8_t scratch[RX_SCRATCH] __attribute__((aligned(16)));
        seam_rx_js_q4_tiles(x->q, x->d, x->s, T, W->cols, (const uint8_t *)W->data, W->scale, W->min, W->rows, bias, y,
                            n0, n1, scratch);
    } else if (T == 1 && seam_wasm_rx_q4_active())
        seam_rx_js_q4_rows(x->q, x->d, x->s, W->cols, (const uint8_t *)W->data, W->scale, W->min, bias, y, n0, n1);
    else if (T == 1)
        rows_stream(x, W, bias, y, n0, n1, 1);
    else
        wasm_matmul_q4_tiles(x, T, W, bias, y, n0, n1);
}

const seam_qkernels seam_qkernels_wasm = {"wasm", wasm_quantize_x, wasm_matmul_q8, wasm_matmul_q4, 1, 0, 0, 0};
#endif
