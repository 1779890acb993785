#!/usr/bin/env bash
# Bounded fuzzing: builds every fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan + UBSan)
# linked with the core engine, runs each for SECONDS seconds, and reports per target.
#
# Usage: tools/fuzz.sh [SECONDS]            (default 30)
# Env:   FUZZ_CC      compiler (default clang; libFuzzer needs Debian libclang-rt-14-dev)
#        FUZZ_JOBS    targets fuzzed at once (default: number of CPUs, at most 4)
#        FUZZ_TARGETS space-separated subset of target names (e.g. "json config")
#
# Output in build-fuzz/: fuzz_<target> binaries, fuzz_<target>.log, the working corpus
# corpus-<target> (seeded from fuzz/corpus/<target>, kept between runs; the repository's
# corpus is never written), crash-<target>-* artifacts, and test-results.txt holding one
# line "fuzz PASSED FAILED" (counted in targets). Exits non-zero if any target failed to
# build or found a problem.
set -u

DURATION=${1:-30}
case "$DURATION" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.." || exit 2
OUT=build-fuzz
CC=${FUZZ_CC:-clang}
mkdir -p "$OUT"
RESULTS="$OUT/test-results.txt"
rm -f "$RESULTS"
START="$OUT/.fuzz-start"
touch "$START"

COMMON=(-g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc -pthread
        -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
# The engine is instrumented for coverage and sanitizers; only the targets get libFuzzer's main.
LIB_SAN=("-fsanitize=fuzzer-no-link,address,undefined")
TGT_SAN=("-fsanitize=fuzzer,address,undefined")

shopt -s nullglob
targets=()
for f in fuzz/fuzz_*.c; do
  t=$(basename "$f" .c); t=${t#fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $t "* ]]; then continue; fi
  targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets found in fuzz/" >&2
  echo "fuzz 0 1" > "$RESULTS"
  exit 1
fi

fail_all() { # every target fails: the toolchain itself is missing or broken
  echo "fuzz: $1" >&2
  for t in "${targets[@]}"; do printf '  %-24s FAIL (not built)\n' "$t"; done
  echo "fuzz 0 ${#targets[@]}" > "$RESULTS"
  exit 1
}
command -v "$CC" > /dev/null 2>&1 || fail_all "compiler '$CC' not found (run tools/install-deps.sh)"
probe="$OUT/probe"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe.c"
if ! "$CC" "${COMMON[@]}" "${TGT_SAN[@]}" "$probe.c" -o "$probe" > "$probe.log" 2>&1; then
  sed 's/^/    /' "$probe.log" >&2
  fail_all "'$CC' cannot build a libFuzzer binary (Debian: apt-get install clang libclang-rt-14-dev)"
fi

# ---- the core engine: the same folders as the Makefile's CORE_SRC (src/hub is network code)
echo "== fuzz: building the core engine with $CC"
OBJ="$OUT/obj"
rm -rf "$OBJ"
mkdir -p "$OBJ"
core_src=(src/util/*.c src/format/*.c src/model/*.c src/tokenizer/*.c src/kernels/*.c src/graph/*.c src/sample/*.c)
for q in src/quant/*.c; do [ -e "$q" ] && core_src+=("$q"); done
NJOBS=$(nproc 2> /dev/null || echo 2)
build_obj() { # src -> object; the log is kept for the report
  local src=$1 extra=()
  case "$src" in
    *_avx2.c) extra=(-mavx2 -mfma -mf16c) ;;
    *_avx512.c) extra=(-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c) ;;
    *_avx512vnni.c) extra=(-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c -mavx512vnni) ;;
    *_avxvnni.c) extra=(-mavx2 -mfma -mf16c -mavxvnni) ;;
  esac
  local o="$OBJ/${src//\//__}"
  "$CC" "${COMMON[@]}" "${LIB_SAN[@]}" "${extra[@]}" -c "$src" -o "${o%.c}.o" > "${o%.c}.log" 2>&1
}
running=0
for src in "${core_src[@]}"; do
  build_obj "$src" &
  running=$((running + 1))
  if [ "$running" -ge "$NJOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
objs=()
broken=()
for src in "${core_src[@]}"; do
  o="$OBJ/${src//\//__}"
  if [ -s "${o%.c}.o" ]; then objs+=("${o%.c}.o"); else broken+=("$src"); fi
done
LIB="$OUT/libseam-fuzz.a"
rm -f "$LIB"
if [ ${#objs[@]} -gt 0 ]; then ar rcs "$LIB" "${objs[@]}" || fail_all "ar failed"; fi
if [ ${#broken[@]} -gt 0 ]; then
  echo "   these core sources do not compile; targets that need them will fail to link:"
  for src in "${broken[@]}"; do
    echo "   -- $src"
    o="$OBJ/${src//\//__}"
    grep -E 'error|note: ' "${o%.c}.log" | head -n 20 | sed 's/^/      /'
  done
fi

# ---- the targets
declare -A status
built=()
for t in "${targets[@]}"; do
  bin="$OUT/fuzz_$t"
  rm -f "$bin"
  libarg=()
  [ -f "$LIB" ] && libarg=("$LIB")
  if "$CC" "${COMMON[@]}" "${TGT_SAN[@]}" "fuzz/fuzz_$t.c" "${libarg[@]}" -lm -o "$bin" > "$OUT/fuzz_$t.build.log" 2>&1; then
    built+=("$t")
  else
    status[$t]="FAIL (does not build)"
    echo "== fuzz: fuzz/fuzz_$t.c does not build:"
    head -n 40 "$OUT/fuzz_$t.build.log" | sed 's/^/    /'
    if [ ${#broken[@]} -gt 0 ]; then echo "    (core sources that did not compile: ${broken[*]})"; fi
  fi
done

# ---- run
DICT=fuzz/seam.dict
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
run_target() {
  local t=$1
  local corpus="$OUT/corpus-$t" dictarg=()
  mkdir -p "$corpus"
  if [ -d "fuzz/corpus/$t" ]; then
    local s
    for s in "fuzz/corpus/$t"/*; do [ -f "$s" ] && cp "$s" "$corpus/seed-$(basename "$s")"; done
  fi
  [ -f "$DICT" ] && dictarg=(-dict="$DICT")
  # libFuzzer stops itself after max_total_time; timeout is only a backstop for a wedged run.
  timeout -k 10 $((DURATION + 120)) "$OUT/fuzz_$t" -max_total_time="$DURATION" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$OUT/crash-$t-" \
    "${dictarg[@]}" "$corpus" > "$OUT/fuzz_$t.log" 2>&1
  echo $? > "$OUT/fuzz_$t.rc"
}
if [ ${#built[@]} -gt 0 ]; then
  FJOBS=${FUZZ_JOBS:-$NJOBS}
  [ "$FJOBS" -gt 4 ] && [ -z "${FUZZ_JOBS:-}" ] && FJOBS=4
  [ "$FJOBS" -lt 1 ] && FJOBS=1
  echo "== fuzz: running ${built[*]} for ${DURATION}s each ($FJOBS at a time)"
  running=0
  for t in "${built[@]}"; do
    rm -f "$OUT/fuzz_$t.rc"
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$FJOBS" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
fi

# ---- report
pass=0
fail=0
for t in "${targets[@]}"; do
  if [ -n "${status[$t]:-}" ]; then
    printf '  %-24s %s\n' "$t" "${status[$t]}"
    fail=$((fail + 1))
    continue
  fi
  log="$OUT/fuzz_$t.log"
  rc=$(cat "$OUT/fuzz_$t.rc" 2> /dev/null || echo 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  if [ "$rc" = 0 ] && ! grep -qE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: ' "$log"; then
    printf '  %-24s ok   (%s runs, %s)\n' "$t" "${runs:-?}" "${cov:-cov: ?}"
    pass=$((pass + 1))
  else
    printf '  %-24s FAIL (exit %s; log %s)\n' "$t" "$rc" "$log"
    # The first report (error line and its top stack frames), then where the input went.
    awk '!shown && /ERROR: |runtime error:|out-of-memory|timeout after/ { shown = 1; n = 0 }
         shown == 1 && n < 16 { print; n++ }' "$log" | sed -e 's/ (BuildId: [0-9a-f]*)//' -e 's/^/    /'
    grep -E 'Test unit written|^SUMMARY' "$log" | sort -u | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
new_arts=$(find "$OUT" -maxdepth 1 -name 'crash-*' -newer "$START" | sort)
if [ -n "$new_arts" ]; then
  echo "   new artifacts (replay one: $OUT/fuzz_<target> FILE):"
  echo "$new_arts" | head -n 10 | sed 's/^/     /'
fi
echo "fuzz $pass $fail" > "$RESULTS"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
