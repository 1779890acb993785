// --pre-js for the unit-test binary: Emscripten's getenv() reads its own ENV table, not
// the process's, so SEAM_FIXTURES, SEAM_TEST_RESULTS and SEAM_ISA would be invisible.
Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () {
  if (typeof process === 'object' && process.env) {
    for (var k in process.env) ENV[k] = process.env[k];
  }
});
