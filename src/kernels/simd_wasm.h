/* Helpers shared by the WebAssembly SIMD128 files (kernels_wasm.c, quant_wasm.c,
 * quant_wasm_relaxed.c: header-only, no libc). */
#ifndef SEAM_KERNELS_SIMD_WASM_H
#define SEAM_KERNELS_SIMD_WASM_H

#include <wasm_simd128.h>

#define WAI static inline __attribute__((always_inline))

/* x + SW_ROUND_BIAS (1.5 · 2^23) leaves round-half-to-even(x) in the low mantissa bits for
 * |x| < 2^22: minus SW_ROUND_BIAS it is that value as a float, and its bits minus the bias's
 * bits are that value as an int32. V8 lowers f32x4.nearest + i32x4.trunc_sat_f32x4 to many
 * more x86 instructions (saturation and NaN rules) than this add and subtraction. */
#define SW_ROUND_BIAS 12582912.0f
WAI v128_t round_biased(v128_t x) { return wasm_f32x4_add(x, wasm_f32x4_splat(SW_ROUND_BIAS)); }
WAI v128_t biased_to_i32(v128_t big) { return wasm_i32x4_sub(big, wasm_f32x4_splat(SW_ROUND_BIAS)); }

/* f16 → f32 without a conversion instruction: moving exponent and mantissa into place
 * and multiplying by 2^112 rebiases normals and turns subnormal halves (which land as f32
 * subnormals, kept exactly: WebAssembly never flushes them) into the right normals. The
 * product is exact, so this matches seam_f16_to_f32 bit for bit. Exponent 31 would overflow
 * to infinity, losing NaN payloads, so inf/NaN get their f32 exponent set directly. */
WAI v128_t half4_to_f32(v128_t h) {
    v128_t em = wasm_v128_and(h, wasm_i32x4_splat(0x7FFF));
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    v128_t shifted = wasm_i32x4_shl(em, 13);
    v128_t scaled = wasm_f32x4_mul(shifted, wasm_f32x4_splat(0x1p112f));
    v128_t special = wasm_v128_or(shifted, wasm_i32x4_splat(0x70000000));
    v128_t is_special = wasm_i32x4_ge(em, wasm_i32x4_splat(0x7C00));
    return wasm_v128_or(sign, wasm_v128_bitselect(special, scaled, is_special));
}

/* [Σ p0, Σ p1, Σ p2, Σ p3] of int32 lanes: unpack / add twice (shuffles V8 maps to punpck*). */
WAI v128_t hsum4x4(v128_t p0, v128_t p1, v128_t p2, v128_t p3) {
    v128_t u01 = wasm_i32x4_add(wasm_i32x4_shuffle(p0, p1, 0, 4, 1, 5), wasm_i32x4_shuffle(p0, p1, 2, 6, 3, 7));
    v128_t u23 = wasm_i32x4_add(wasm_i32x4_shuffle(p2, p3, 0, 4, 1, 5), wasm_i32x4_shuffle(p2, p3, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i64x2_shuffle(u01, u23, 0, 2), wasm_i64x2_shuffle(u01, u23, 1, 3));
}

/* The 4 x 4 transpose of 32-bit lanes: out[q] = [a[q], b[q], c[q], d[q]]. The tile kernels
 * use it to regroup four weight rows so that one vector holds the same stretch of each. */
WAI void transpose4_i32(v128_t a, v128_t b, v128_t c, v128_t d, v128_t out[4]) {
    v128_t t0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
    v128_t t2 = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
    out[0] = wasm_i64x2_shuffle(t0, t2, 0, 2);
    out[1] = wasm_i64x2_shuffle(t0, t2, 1, 3);
    out[2] = wasm_i64x2_shuffle(t1, t3, 0, 2);
    out[3] = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

#endif
