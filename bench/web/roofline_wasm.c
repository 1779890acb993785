/* The browser's own arithmetic limits for the browser section of `make bench`, measured in
 * the same Chromium run as the engines so that prefill figures can be read against them:
 *
 *  - int16 dot peak: independent chains acc = acc + i32x4.dot_i16x8_s(acc, w). This is the
 *    operation that SIMD128 int8 GEMMs are built on, since SIMD128 has no byte dot product:
 *    seam's q8 tiles and onnxruntime-web's MatMulInteger both widen the bytes to int16 and
 *    use it. Each dot is 8 multiply-adds, and it needs one add to accumulate, so this is
 *    the best any such GEMM can do.
 *  - f32 peak: independent chains acc = acc * m + c. SIMD128 has no FMA, so a multiply-add
 *    costs two instructions; counted as 2 FLOP per lane, like the native FMA peak.
 *
 * Twelve chains hide the latency of both pairs and still fit the 16 vector registers that
 * V8 allocates on x86-64. Built by bench/web_bench.sh with emcc -O3 -msimd128;
 * bench/web/page.mjs calls the two exports with an iteration count and times them. */
#include <emscripten.h>
#include <wasm_simd128.h>

#ifndef CHAINS
#define CHAINS 12
#endif

/* An opaque seed, so the compiler cannot evaluate the chains at build time. */
static volatile int seed = 1;

/* Returns a value derived from every chain, so none of them can be dropped. */
EMSCRIPTEN_KEEPALIVE int roof_int16_dot(int iters) {
    v128_t acc[CHAINS], w = wasm_i16x8_splat((short)(seed + 2));
    for (int c = 0; c < CHAINS; c++) acc[c] = wasm_i32x4_splat(seed + c);
    for (int i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = wasm_i32x4_add(acc[c], wasm_i32x4_dot_i16x8(acc[c], w));
    v128_t s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = wasm_v128_xor(s, acc[c]);
    return wasm_i32x4_extract_lane(s, 0) ^ wasm_i32x4_extract_lane(s, 3);
}

EMSCRIPTEN_KEEPALIVE float roof_f32_mul_add(int iters) {
    v128_t acc[CHAINS], m = wasm_f32x4_splat(0.9999f * (float)seed), a = wasm_f32x4_splat(1e-4f * (float)seed);
    for (int c = 0; c < CHAINS; c++) acc[c] = wasm_f32x4_splat((float)(seed + c));
    for (int i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = wasm_f32x4_add(wasm_f32x4_mul(acc[c], m), a);
    v128_t s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = wasm_f32x4_add(s, acc[c]);
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 3);
}

/* Multiply-adds per iteration of each probe, for the page's arithmetic. */
EMSCRIPTEN_KEEPALIVE int roof_int16_macs_per_iter(void) { return CHAINS * 8; }
EMSCRIPTEN_KEEPALIVE int roof_f32_flops_per_iter(void) { return CHAINS * 4 * 2; }
