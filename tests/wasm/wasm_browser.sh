#!/usr/bin/env bash
# The demo page in headless Chromium, served by `seam serve --web` (COOP/COEP): cross-origin
# isolated with the pthreads build, loads gpt2-tiny with a progress bar, generates the
# reference greedy tokens, saves build/web/screenshot.png, a reload loads with no model bytes
# downloaded (Cache API), split sessions in both modes match the reference; without
# isolation, one thread. Builds build/web (make wasm) and build/seam when missing or stale
# and installs playwright-core into web/node_modules (npm ci) when absent; needs Debian's
# chromium (make deps).
set -euo pipefail
cd "$(dirname "$0")/../.."
F=${SEAM_FIXTURES:?} WEB=${SEAM_WEB:-build/web}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "$CHROMIUM is missing (make deps installs Debian's chromium)"; exit 1; }
if [ "$WEB" = build/web ]; then
  command -v emcc > /dev/null || { echo "emcc is not installed (make deps installs emscripten)"; exit 1; }
  mkdir -p build-wasm
  make --no-print-directory wasm > build-wasm/make.log 2>&1 || { tail -n 30 build-wasm/make.log; exit 1; }
fi
if [ -z "${SEAM_BIN:-}" ]; then
  mkdir -p build-wasm
  make --no-print-directory -j2 build/seam > build-wasm/make-seam.log 2>&1 || { tail -n 30 build-wasm/make-seam.log; exit 1; }
  SEAM_BIN=$PWD/build/seam
fi
export SEAM_BIN
if [ ! -d web/node_modules/playwright-core ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci in web/ failed"; exit 1; }
fi
CHROMIUM=$CHROMIUM node web/test/browser_test.mjs "$WEB" "$F" "$WEB/screenshot.png"
