#!/usr/bin/env bash
# The WebAssembly build under node passes the native fixture checks: gpt2-tiny and
# gpt2-wide-f16 logits within 1e-4, greedy ids identical (1 thread and the pthreads build
# with 2), the 400 tokenizer golden lines identical; then seam.connect() split sessions
# against build/seam serve (web/test/node_connect_test.mjs). Builds build/web (make wasm)
# and build/seam first when missing or stale; needs emscripten and node-acorn (make deps).
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${SEAM_FIXTURES:?} WEB=${SEAM_WEB:-build/web}
command -v node > /dev/null || { echo "node is not installed (make deps)"; exit 1; }
if [ "$WEB" = build/web ]; then
  command -v emcc > /dev/null || { echo "emcc is not installed (make deps installs emscripten)"; exit 1; }
  mkdir -p build-wasm
  make --no-print-directory wasm > build-wasm/make.log 2>&1 || { tail -n 30 build-wasm/make.log; exit 1; }
fi
[ -f "$WEB/seam.mjs" ] || { echo "$WEB/seam.mjs is missing (make wasm)"; exit 1; }
if [ -z "${SEAM_BIN:-}" ]; then
  mkdir -p build-wasm
  make --no-print-directory -j2 build/seam > build-wasm/make-seam.log 2>&1 || { tail -n 30 build-wasm/make-seam.log; exit 1; }
  SEAM_BIN=$PWD/build/seam
fi
rc=0
node web/test/node_test.mjs "$WEB" "$F" || rc=1
SEAM_BIN=$SEAM_BIN node web/test/node_connect_test.mjs "$WEB" "$F" || rc=1
exit $rc
