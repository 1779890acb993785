/* The q8 and q4 prefill tiles with relaxed SIMD's byte dot product, built into a module of
 * its own (build-wasm/rx/st.wasm and mt.wasm, carried inside seam.js) by Debian's clang-19:
 * emscripten 3.1.6 (clang 14, binaryen 108) knows only the pre-standard relaxed opcodes,
 * which browsers no longer accept. The module has no
 * stack, data or libc; it imports the main module's memory, so every pointer here is an
 * address in seam's own heap, and web/rx_lib.js calls it on behalf of quant_wasm.c.
 *
 * i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c) sums four byte products per lane into c.
 * Its result is fixed only while b's lanes are below 128; past that each engine does what
 * its hardware does.
 *
 * q4: the weights' 4-bit values (0 .. 15) go in as b and the activations as a, which the
 * standard fixes for every engine, and one dot does 16 multiply-adds where SIMD128's int16
 * dot (quant_wasm.c) needs the weights and activations widened and two dots for 8.
 *
 * q8: weights span −127 .. 127, so they go in as a and the activations as b. V8 on x86 with
 * AVX-VNNI lowers the dot to one vpdpbusd, which reads b as unsigned bytes and sums
 * exactly; then a q8 activation q in [-127, 127] can go in as the byte q + 128, and
 * Σ w·q = Σ w·(q + 128) − 128·Σ w, so each block's integer sum, and with it every output,
 * equals the int16 kernel's bit for bit. seam_rx_mode() checks that this engine behaves so
 * (values that the non-VNNI lowering, pmaddubsw, would saturate; the signed reading ARM's
 * sdot gives); on any other answer quant_wasm.c keeps its own tiles, q4's too
 * (seam_rx_mode says why). */
#if defined(__wasm_relaxed_simd__) /* seam's other builds compile this file to nothing */
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#include "kernels/quant_wasm_relaxed.h"
#include "kernels/simd_wasm.h"

#define RX_STEPS (RX_BLOCK / 4)

/* The dot against the same sums in int32, lane by lane: all true when every lane is exact. */
WAI int dot_exact(v128_t a, v128_t b, v128_t c) {
    v128_t got = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(a, b, c);
    /* p[q] holds the products of bytes 4q .. 4q + 3, a read as signed and b as unsigned */
    v128_t a16[2] = {wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_high_i8x16(a)};
    v128_t b16[2] = {wasm_u16x8_extend_low_u8x16(b), wasm_u16x8_extend_high_u8x16(b)}, p[4];
    for (int h = 0; h < 2; h++) {
        p[2 * h] = wasm_i32x4_mul(wasm_i32x4_extend_low_i16x8(a16[h]), wasm_u32x4_extend_low_u16x8(b16[h]));
        p[2 * h + 1] = wasm_i32x4_mul(wasm_i32x4_extend_high_i16x8(a16[h]), wasm_u32x4_extend_high_u16x8(b16[h]));
    }
    return wasm_i32x4_all_true(wasm_i32x4_eq(got, wasm_i32x4_add(hsum4x4(p[0], p[1], p[2], p[3]), c)));
}

/* What the tiles may run on this engine (RX_RUNS_* bits). The caller passes s = 0, so the
 * compiler cannot settle the answer at build time; the values are built in code because the
 * module may own no data in memory it shares with seam.
 * q8 needs b read as unsigned bytes and summed exactly. Lane 0: 127·200 four times
 * (pmaddubsw would saturate its pairs); lane 1: −128·255; lane 2: mixed signs; lane 3:
 * small values that every reading agrees on.
 * q4 needs the specified result for b below 128 (a across its range against 4-bit b), and
 * runs only where q8 does too: node 20's V8, whose relaxed SIMD predates the standard,
 * passes that probe yet doubled some of the q4 tiles' sums in its pmaddubsw lowering
 * (depending on how registers were allocated, which no probe here can reproduce); where
 * the q8 probe passes, the engine lowers the dot to one VNNI instruction instead. */
__attribute__((export_name("seam_rx_mode"))) int seam_rx_mode(int s) {
    v128_t a4 = wasm_i8x16_make(-128 + s, 127, -1, 5, 127 + s, -128, 100, -100, -7 + s, 3, -128, 127, 1 + s, -2, 3, -4);
    v128_t b4 = wasm_u8x16_make(15 + s, 15, 15, 1, 15 + s, 15, 0, 7, 9 + s, 15, 2, 14, 5 + s, 6, 7, 8);
    v128_t a = wasm_i8x16_make(127 + s, 127, 127, 127, -128 + s, -128, -128, -128, -7 + s, 100, -128, 3, 1 + s, 2, 3, 4);
    v128_t b = wasm_u8x16_make(200 + s, 200, 200, 200, 255 + s, 255, 255, 255, 129 + s, 250, 3, 128, 5 + s, 6, 7, 8);
    v128_t c = wasm_i32x4_splat(1000 + s);
    return dot_exact(a, b, c) ? RX_RUNS_Q8 | (dot_exact(a4, b4, c) ? RX_RUNS_Q4 : 0) : 0;
}

/* One group of RX_MR activation rows times the tile's RX_NR columns over nbk blocks. xg holds
 * the group's bytes four at a time, row after row (rx_tiles' layout), so every step's splats
 * sit side by side behind one pointer. acc holds each row's f32 outputs (RX_NR per row); every
 * block's term is (dw·dx)·Σ, plus the q4 offset's min·s, added in block order, as the scalar
 * reference rounds it; only the first m rows are kept. q4 (a constant where this is inlined)
 * says which operand the weights are (the file's comment): for q8 the rows are biased bytes
 * and corr holds each block's −128·Σw; q4 rows are the activations as they are, and mn and xs
 * the offset terms. */
WAI void tile_pass(const int q4, int m, const uint8_t *xg, const v128_t *wide, const v128_t *corr, const float *sc,
                   const float *mn, const float *xd, const float *xs, int nb, int nbk, float *acc) {
    for (int j = 0; j < nbk; j++) {
        v128_t p[RX_MR][2];
        for (int i = 0; i < RX_MR; i++) {
            p[i][0] = q4 ? wasm_i32x4_splat(0) : corr[2 * j];
            p[i][1] = q4 ? wasm_i32x4_splat(0) : corr[2 * j + 1];
        }
        const v128_t *wv = wide + (size_t)j * RX_STEPS * 2;
        /* One step per turn, every load a constant offset from xp or wv: V8 unrolls this
         * loop itself and keeps the 2·RX_MR sums in registers. Unrolled twice here, clang
         * paired the two steps' dots of each sum, which kept four weight vectors live and
         * spilled a sum to the stack, its chain then waiting on store-to-load forwarding;
         * with per-row pointers every splat also took its own address arithmetic. */
        const uint8_t *xp = xg + (size_t)j * RX_STEPS * RX_MR * 4, *xend = xp + RX_STEPS * RX_MR * 4;
        for (; xp < xend; xp += RX_MR * 4, wv += 2) {
            v128_t w0 = wv[0], w1 = wv[1];
            for (int i = 0; i < RX_MR; i++) {
                v128_t xv = wasm_v128_load32_splat(xp + 4 * i);
                if (q4) {
                    p[i][0] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(xv, w0, p[i][0]);
                    p[i][1] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(xv, w1, p[i][1]);
                } else {
                    p[i][0] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w0, xv, p[i][0]);
                    p[i][1] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w1, xv, p[i][1]);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            v128_t d = wasm_f32x4_splat(xd[(size_t)i * nb + j]);
            for (int g = 0; g < 2; g++) {
                v128_t term = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(sc + RX_NR * j + 4 * g), d),
                                             wasm_f32x4_convert_i32x4(p[i][g]));
                if (q4)
                    term = wasm_f32x4_add(term, wasm_f32x4_mul(wasm_v128_load(mn + RX_NR * j + 4 * g),
                                                               wasm_f32x4_splat(xs[(size_t)i * nb + j])));
                float *a = acc + RX_NR * i + 4 * g;
                wasm_v128_store(a, wasm_f32x4_add(wasm_v128_load(a), term));
            }
        }
    }
}

/* f16 → f32 (simd_wasm.h's conversion, one lane). */
WAI float half_to_f32(uint16_t h) { return wasm_f32x4_extract_lane(half4_to_f32(wasm_i32x4_splat(h)), 0); }

/* The tile's weights and scales for blocks b0 .. b0 + nbk. The weights are regrouped so
 * that vector s of block j's group g holds values 4s .. 4s + 3 of its four columns (a 4 x 4
 * transpose of 32-bit lanes): wide[(j * RX_STEPS + s) * 2 + g]; q8 also leaves each block's
 * −128·Σw in corr[2j + g]. The scales (q8: ws, f32; q4: wh and the offsets wm, f16) go to
 * sc[RX_NR * j + c] (and mn) as f32. Columns past R repeat the last one, their scales 0. */
WAI void tile_weights(const int q4, const uint8_t *wq, const float *ws, const uint16_t *wh, const uint16_t *wm, int K,
                      int n, int R, int b0, int nbk, v128_t *wide, v128_t *corr, float *sc, float *mn) {
    int nb = K / RX_BLOCK;
    for (int j = 0; j < nbk; j++) {
        for (int c = 0; c < RX_NR; c++) {
            size_t at = (size_t)(n + c) * nb + b0 + j;
            sc[RX_NR * j + c] = c >= R ? 0.0f : q4 ? half_to_f32(wh[at]) : ws[at];
            if (q4) mn[RX_NR * j + c] = c >= R ? 0.0f : half_to_f32(wm[at]);
        }
        for (int g = 0; g < 2; g++) {
            v128_t e[4][2], sum = wasm_i32x4_splat(0), ones = wasm_i8x16_splat(1);
            for (int r = 0; r < 4; r++) {
                int col = 4 * g + r < R ? 4 * g + r : R - 1;
                if (q4) {
                    /* byte k holds value k (low nibble) and value k + 16 (high) */
                    v128_t v = wasm_v128_load(wq + (size_t)(n + col) * (K / 2) + (size_t)(b0 + j) * (RX_BLOCK / 2));
                    e[r][0] = wasm_v128_and(v, wasm_i8x16_splat(0x0F));
                    e[r][1] = wasm_u8x16_shr(v, 4);
                } else {
                    const uint8_t *src = wq + (size_t)(n + col) * K + (size_t)(b0 + j) * RX_BLOCK;
                    e[r][0] = wasm_v128_load(src);
                    e[r][1] = wasm_v128_load(src + 16);
                }
            }
            for (int h = 0; h < 2; h++) {
                v128_t v[4];
                transpose4_i32(e[0][h], e[1][h], e[2][h], e[3][h], v);
                for (int q = 0; q < 4; q++) {
                    wide[((size_t)j * RX_STEPS + 4 * h + q) * 2 + g] = v[q];
                    /* b = 1 is below 128: every engine sums this exactly */
                    if (!q4) sum = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(v[q], ones, sum);
                }
            }
            if (!q4) corr[2 * j + g] = wasm_i32x4_mul(sum, wasm_i32x4_splat(-128));
        }
    }
}

/* y[t, n] = Σ_b (dw[n, b]·dx[t, b]·Σ_k w[n, k]·q[t, k] (+ min[n, b]·xs[t, b] for q4)) (+ bias[n])
 * for t < T, n in [n0, n1): quant_wasm.c's tiles, arguments spelled out (xq/xd/xs: the
 * quantised activations [T, K] and their [T, K/32] scales and offset sums; wq the weights,
 * q8 int8 [N, K] with f32 scales ws, or q4 [N, K/2] with f16 scales wh and offsets wm). */
WAI void rx_tiles(const int q4, const int8_t *xq, const float *xd, const float *xs, int T, int K, const uint8_t *wq,
                  const float *ws, const uint16_t *wh, const uint16_t *wm, int N, const float *bias, float *y, int n0,
                  int n1, uint8_t *scratch) {
    int nb = K / RX_BLOCK;
    uint8_t *xu = scratch; /* RX_SCRATCH bytes, 16-aligned */
    v128_t *wide = (v128_t *)(scratch + RX_XU_BYTES), *corr = wide + RX_WIDE_VECS;
    float *sc = (float *)(corr + 2 * RX_KB), *acc = sc + RX_KB * RX_NR, *mn = acc + RX_MR * RX_NR;
    int nblk = (T + RX_ROWS - 1) / RX_ROWS, rows = (T + nblk - 1) / nblk;
    for (int t0 = 0; t0 < T; t0 += rows) {
        int t1 = T - t0 < rows ? T : t0 + rows;
        for (int b0 = 0; b0 < nb; b0 += RX_KB) {
            int nbk = nb - b0 < RX_KB ? nb - b0 : RX_KB, kc = nbk * RX_BLOCK, first = b0 == 0,
                last = b0 + nbk == nb;
            /* The chunk's rows in groups of RX_MR, each group's bytes four at a time, row after
             * row: bytes k .. k + 3 of row t0 + g·RX_MR + i at xu + (g·kc + k)·RX_MR + 4i. q8
             * flips the sign bit (q + 128); a short last group repeats its last row, whose
             * sums tile_pass then drops. */
            const v128_t flip = wasm_i8x16_splat(q4 ? 0 : (int8_t)0x80);
            for (int g = 0; g * RX_MR < t1 - t0; g++)
                for (int i = 0; i < RX_MR; i++) {
                    int t = t0 + g * RX_MR + i < t1 ? t0 + g * RX_MR + i : t1 - 1;
                    const int8_t *src = xq + (size_t)t * K + (size_t)b0 * RX_BLOCK;
                    uint8_t *dst = xu + (size_t)g * kc * RX_MR + (size_t)i * 4;
                    for (int k = 0; k < kc; k += 16) {
                        v128_t v = wasm_v128_xor(wasm_v128_load(src + k), flip);
                        uint8_t *d = dst + (size_t)k * RX_MR;
                        wasm_v128_store32_lane(d, v, 0);
                        wasm_v128_store32_lane(d + 4 * RX_MR, v, 1);
                        wasm_v128_store32_lane(d + 8 * RX_MR, v, 2);
                        wasm_v128_store32_lane(d + 12 * RX_MR, v, 3);
                    }
                }
            for (int n = n0; n < n1; n += RX_NR) {
                int R = n1 - n < RX_NR ? n1 - n : RX_NR;
                tile_weights(q4, wq, ws, wh, wm, K, n, R, b0, nbk, wide, corr, sc, mn);
                for (int t = t0; t < t1; t += RX_MR) {
                    int m = t1 - t < RX_MR ? t1 - t : RX_MR;
                    for (int i = 0; i < m; i++)
                        for (int c = 0; c < RX_NR; c++)
                            acc[RX_NR * i + c] = first || c >= R ? 0.0f : y[(size_t)(t + i) * N + n + c];
                    tile_pass(q4, m, xu + (size_t)(t - t0) * kc, wide, corr, sc, mn, xd + (size_t)t * nb + b0,
                              xs + (size_t)t * nb + b0, nb, nbk, acc);
                    for (int i = 0; i < m; i++) {
                        float *row = y + (size_t)(t + i) * N + n;
                        for (int c = 0; c < R; c++)
                            row[c] = last && bias ? acc[RX_NR * i + c] + bias[n + c] : acc[RX_NR * i + c];
                    }
                }
            }
        }
    }
}

/* Σ w·x of one q4 block (16 bytes w, values k and k + 16 in byte k's nibbles; 32 activations
 * x) as four int32 partial sums. */
WAI v128_t q4_block_dot(const uint8_t *w, const int8_t *x) {
    v128_t v = wasm_v128_load(w);
    v128_t p = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(x), wasm_v128_and(v, wasm_i8x16_splat(0x0F)),
                                                      wasm_i32x4_splat(0));
    return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(x + 16), wasm_u8x16_shr(v, 4), p);
}

/* One activation row (decode) times q4 weight rows [n0, n1): y[n] = Σ_b (dw·dx·Σ + min·xs)
 * (+ bias[n]). A block's two 16-byte halves of activations meet its low and high nibbles
 * in two dots, where quant_wasm.c's rows_stream widens both sides to int16 and needs four;
 * the rest is rows_stream's q4 path, the same f32 operations in the same order (chunks of
 * RX_ROW_CHUNK, four blocks per step scaled together, the tail block by block), so the
 * outputs are its bits. A row at a time, for the reason rows_stream gives. */
__attribute__((export_name("seam_rx_q4_rows"))) void seam_rx_q4_rows(const int8_t *xq, const float *xd, const float *xs,
                                                                    int K, const uint8_t *wq, const uint16_t *wh,
                                                                    const uint16_t *wm, const float *bias, float *y,
                                                                    int n0, int n1) {
    int nb = K / RX_BLOCK;
    size_t rb = (size_t)nb * (RX_BLOCK / 2);
    for (int k0 = 0; k0 < K; k0 += RX_ROW_CHUNK) {
        int kc = K - k0 < RX_ROW_CHUNK ? K - k0 : RX_ROW_CHUNK, b0 = k0 / RX_BLOCK, nbc = kc / RX_BLOCK;
        const int8_t *x = xq + k0;
        const float *dx = xd + b0, *sx = xs + b0;
        for (int n = n0; n < n1; n++) {
            const uint8_t *w = wq + (size_t)n * rb + (size_t)b0 * (RX_BLOCK / 2);
            const uint16_t *ws = wh + (size_t)n * nb + b0, *ms = wm + (size_t)n * nb + b0;
            v128_t acc = wasm_f32x4_splat(0.0f);
            int b = 0;
            for (; b + 4 <= nbc; b += 4) {
                v128_t p[4];
                for (int j = 0; j < 4; j++)
                    p[j] = q4_block_dot(w + (size_t)(b + j) * (RX_BLOCK / 2), x + (size_t)(b + j) * RX_BLOCK);
                v128_t d = wasm_f32x4_mul(half4_to_f32(wasm_u32x4_load16x4(ws + b)), wasm_v128_load(dx + b));
                v128_t term = wasm_f32x4_mul(d, wasm_f32x4_convert_i32x4(hsum4x4(p[0], p[1], p[2], p[3])));
                term = wasm_f32x4_add(term, wasm_f32x4_mul(half4_to_f32(wasm_u32x4_load16x4(ms + b)), wasm_v128_load(sx + b)));
                acc = wasm_f32x4_add(acc, term);
            }
            float r = (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
                      (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
            for (; b < nbc; b++) {
                v128_t p = q4_block_dot(w + (size_t)b * (RX_BLOCK / 2), x + (size_t)b * RX_BLOCK);
                p = hsum4x4(p, p, p, p);
                r += half_to_f32(ws[b]) * dx[b] * (float)wasm_i32x4_extract_lane(p, 0);
                r += half_to_f32(ms[b]) * sx[b];
            }
            y[n] = k0 ? y[n] + r : r + (bias ? bias[n] : 0.0f);
        }
    }
}

__attribute__((export_name("seam_rx_q8_tiles"))) void seam_rx_q8_tiles(const int8_t *xq, const float *xd, int T, int K,
                                                                      const int8_t *wq, const float *ws, int N,
                                                                      const float *bias, float *y, int n0, int n1,
                                                                      uint8_t *scratch) {
    rx_tiles(0, xq, xd, xd, T, K, (const uint8_t *)wq, ws, NULL, NULL, N, bias, y, n0, n1, scratch);
}

__attribute__((export_name("seam_rx_q4_tiles"))) void seam_rx_q4_tiles(const int8_t *xq, const float *xd, const float *xs,
                                                                      int T, int K, const uint8_t *wq, const uint16_t *wh,
                                                                      const uint16_t *wm, int N, const float *bias, float *y,
                                                                      int n0, int n1, uint8_t *scratch) {
    rx_tiles(1, xq, xd, xs, T, K, wq, NULL, wh, wm, N, bias, y, n0, n1, scratch);
}
#endif
