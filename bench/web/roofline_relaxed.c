/* The relaxed-SIMD byte dot's peak for the browser section of `make bench`, beside
 * bench/web/roofline_wasm.c's SIMD128 peaks: independent chains
 * acc = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc), 16 multiply-adds each, the operation
 * seam's q8 prefill runs on where the engine sums unsigned bytes exactly
 * (src/kernels/quant_wasm_relaxed.c). A module of its own because emscripten 3.1.6 cannot
 * emit the standard relaxed opcodes: bench/web_bench.sh builds it with clang-19 (no libc),
 * and bench/web/page.mjs times it where the browser validates it. */
#include <wasm_simd128.h>

#define CHAINS 12

/* An opaque seed, so the compiler cannot evaluate the chains at build time. */
static volatile int seed = 1;

/* Returns a value derived from every chain, so none of them can be dropped. */
__attribute__((export_name("roof_i8_relaxed_dot"))) int roof_i8_relaxed_dot(int iters) {
    v128_t acc[CHAINS], w = wasm_i8x16_splat((signed char)(seed + 2)), x = wasm_i8x16_splat((signed char)(seed + 5));
    for (int c = 0; c < CHAINS; c++) acc[c] = wasm_i32x4_splat(seed + c);
    for (int i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w, x, acc[c]);
    v128_t s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = wasm_v128_xor(s, acc[c]);
    return wasm_i32x4_extract_lane(s, 0) ^ wasm_i32x4_extract_lane(s, 3);
}

__attribute__((export_name("roof_i8_relaxed_macs_per_iter"))) int roof_i8_relaxed_macs_per_iter(void) { return CHAINS * 16; }
