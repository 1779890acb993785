// emcc --js-library: the imports through which src/kernels/quant_wasm.c runs the relaxed-SIMD
// q8 and q4 tiles (src/kernels/quant_wasm_relaxed.c, built by clang-19 into a module of its
// own whose bytes web/rx_pre.js carries). Each thread instantiates that module once, on its
// own, with seam's memory as the module's memory.
mergeInto(LibraryManager.library, {
  // What the module runs for this thread: seam_rx_mode's RX_RUNS_* bits
  // (quant_wasm_relaxed.h: 1 q4, 2 q8), from probes of the engine's byte dot; 0 without
  // relaxed SIMD or with a memory the module cannot import.
  seam_rx_js_ready: function () {
    if (!seamRx.instance) {
      if (!seamRx.module && typeof ENVIRONMENT_IS_PTHREAD != 'undefined' && ENVIRONMENT_IS_PTHREAD) {
        // Workers may compile synchronously; the main thread compiled before run (rx_pre.js).
        const bytes = seamRxBytes();
        if (bytes && WebAssembly.validate(bytes)) {
          try { seamRx.module = new WebAssembly.Module(bytes); } catch (e) { /* keep the SIMD128 tiles */ }
        }
      }
      if (!seamRx.module) return 0;
      try {
        const inst = new WebAssembly.Instance(seamRx.module, { env: { memory: wasmMemory } });
        seamRx.runs = inst.exports.seam_rx_mode(0) & 3;
        if (seamRx.runs) seamRx.instance = inst;
      } catch (e) { /* a memory this module cannot import: keep the SIMD128 tiles */ }
    }
    return seamRx.instance ? seamRx.runs : 0;
  },
  seam_rx_js_q8_tiles: function (xq, xd, T, K, wq, ws, N, bias, y, n0, n1, scratch) {
    seamRx.instance.exports.seam_rx_q8_tiles(xq, xd, T, K, wq, ws, N, bias, y, n0, n1, scratch);
  },
  seam_rx_js_q4_tiles: function (xq, xd, xs, T, K, wq, wh, wm, N, bias, y, n0, n1, scratch) {
    seamRx.instance.exports.seam_rx_q4_tiles(xq, xd, xs, T, K, wq, wh, wm, N, bias, y, n0, n1, scratch);
  },
  seam_rx_js_q4_rows: function (xq, xd, xs, K, wq, wh, wm, bias, y, n0, n1) {
    seamRx.instance.exports.seam_rx_q4_rows(xq, xd, xs, K, wq, wh, wm, bias, y, n0, n1);
  },
});
