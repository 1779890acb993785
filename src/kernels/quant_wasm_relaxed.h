/* The relaxed-SIMD q8 and q4 prefill tiles (quant_wasm_relaxed.c), a module of their own that
 * quant_wasm.c calls through web/rx_lib.js. Sizes both sides agree on, and the switches
 * the web binding exposes. No includes: the relaxed module is built without libc. */
#ifndef SEAM_KERNELS_QUANT_WASM_RELAXED_H
#define SEAM_KERNELS_QUANT_WASM_RELAXED_H

#define RX_BLOCK 32 /* SEAM_QBLOCK */
#define RX_ROWS 128 /* activation rows per pass over the weights */
#define RX_KB 32    /* blocks per chunk */
#define RX_NR 8     /* weight rows (output columns) per tile */
/* Activation rows per pass over a tile: 2 × RX_MR int32 sums, two weight vectors and a
 * splat stay within the 15 vector registers V8 allocates on x86-64. Chromium on a 2-core
 * Zen 5 ran GPT-2's matrices at T = 128 at 74-80 GMAC/s with 4 or 5 rows, 67-72 with 6,
 * 57-62 with 7 or 8 (the step loop unrolled twice, before the grouped activation layout). */
#define RX_MR 5
/* Decode (one activation row): weights per pass along K, as quant_wasm.c's ROW_CHUNK. */
#define RX_ROW_CHUNK 4096
/* Bytes of scratch a call needs (the caller's stack: the module has none): the row block's
 * activations in groups of RX_MR rows (q8 as biased bytes; the last group padded), the
 * tile's regrouped weights (2 vectors per step of 4 values), each block's −128·Σw (2
 * vectors), the tile's f32 scales, one pass's sums and the tile's q4 offsets. */
#define RX_XU_BYTES ((RX_ROWS + RX_MR - 1) / RX_MR * RX_MR * RX_KB * RX_BLOCK)
#define RX_WIDE_VECS (RX_KB * (RX_BLOCK / 4) * 2)
#define RX_SCRATCH (RX_XU_BYTES + 16 * (RX_WIDE_VECS + 2 * RX_KB) + 4 * (2 * RX_KB * RX_NR + RX_MR * RX_NR))

/* What seam_rx_js_ready() reports the relaxed module runs on this engine (web/rx_lib.js). */
#define RX_RUNS_Q4 1
#define RX_RUNS_Q8 2

#if defined(__EMSCRIPTEN__)
/* Non-zero (the default): q8 and q4 prefill take the relaxed tiles where this engine has
 * them. Zero makes every thread use the SIMD128 tiles (sw_rx, for A/B runs and tests). */
extern int seam_wasm_rx_allowed;
/* 1 when the calling thread runs q8 prefill through the relaxed module: the engine
 * validates relaxed SIMD and its byte dot reads the i7 operand as unsigned and sums
 * exactly (V8 with AVX-VNNI); 0 otherwise, and the int16 tiles give the same bits. */
int seam_wasm_rx_active(void);
/* The same for q4 prefill (the same engines: seam_rx_mode says why). */
int seam_wasm_rx_q4_active(void);
#endif

#endif
