// emcc --pre-js, after the generated line `var SEAM_RX_WASM = '<base64>'` (web/wasm.mk): the
// relaxed-SIMD q8 and q4 tiles' module (src/kernels/quant_wasm_relaxed.c) for this build's memory
// (shared or not). Engines without relaxed SIMD fail WebAssembly.validate and keep the
// SIMD128 tiles. The main thread compiles it before the runtime starts (browsers refuse to
// compile modules over 4 KiB synchronously there); workers compile it when first asked
// (web/rx_lib.js).
var seamRx = { module: null, instance: null, runs: 0 };

function seamRxBytes() {
  try {
    if (typeof atob == 'function') return Uint8Array.from(atob(SEAM_RX_WASM), (c) => c.charCodeAt(0));
    return new Uint8Array(Buffer.from(SEAM_RX_WASM, 'base64'));
  } catch (e) {
    return null;
  }
}

Module['preRun'] = [].concat(Module['preRun'] || [], function () {
  const bytes = seamRxBytes();
  if (!bytes || !WebAssembly.validate(bytes)) return;
  addRunDependency('seam-rx');
  WebAssembly.compile(bytes).then((m) => { seamRx.module = m; }, () => {})
    .finally(() => removeRunDependency('seam-rx'));
});
