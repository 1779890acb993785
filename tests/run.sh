#!/usr/bin/env bash
# Runs the unit-test binary and every CLI test script against one build folder.
# Usage: tests/run.sh BUILD_DIR. Appends "name passed failed" lines to BUILD_DIR/test-results.txt.
set -u
BUILD=${1:?usage: tests/run.sh BUILD_DIR}
cd "$(dirname "$0")/.."
export SEAM_BIN="$PWD/$BUILD/seam"
export SEAM_FIXTURES="${SEAM_FIXTURES:-$(cd ../shared/fixtures 2>/dev/null && pwd)}"
export SEAM_TEST_RESULTS="$PWD/$BUILD/test-results.txt"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rm -f "$SEAM_TEST_RESULTS"

echo "== unit tests ($BUILD)"
if ! "$BUILD/seam_tests"; then
  grep -q '^unit ' "$SEAM_TEST_RESULTS" 2>/dev/null || echo "unit 0 1" >> "$SEAM_TEST_RESULTS"
fi

echo "== CLI tests ($BUILD)"
pass=0; fail=0
for t in tests/cli/*.sh; do
  [ -e "$t" ] || continue
  log="$BUILD/$(basename "$t" .sh).log"
  if bash "$t" > "$log" 2>&1; then
    printf '  %-48s ok\n' "$(basename "$t")"; pass=$((pass+1))
  else
    printf '  %-48s FAIL (log: %s)\n' "$(basename "$t")" "$log"; tail -n 20 "$log" | sed 's/^/    /'; fail=$((fail+1))
  fi
done
echo "cli $pass $fail" >> "$SEAM_TEST_RESULTS"
echo "cli: $pass passed, $fail failed"
! grep -qv ' 0$' "$SEAM_TEST_RESULTS"
