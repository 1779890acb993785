#!/usr/bin/env bash
# seam's tokenizers give Hugging Face tokenizers' ids (the Rust crate through npm's
# @anush008/tokenizers, pinned in tests/tokref) on every Unicode code point in context and on
# seeded random mixes, for bert-base-uncased's WordPiece and GPT-2's byte-level BPE
# (tests/tokref/diff.mjs). Installs the reference into tests/tokref/node_modules when absent.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
cd "$(dirname "$0")/../.."
if [ ! -d tests/tokref/node_modules/@anush008/tokenizers ]; then
  (cd tests/tokref && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci in tests/tokref failed"; exit 1; }
fi
node tests/tokref/diff.mjs "$S" "$F/tok/bert-base-uncased" 1
node tests/tokref/diff.mjs "$S" "$F/tok/gpt2" 0
