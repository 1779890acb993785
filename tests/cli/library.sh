#!/usr/bin/env bash
# The installed library works for a user's program: `make install` into a staging folder,
# compile examples/greedy.c with pkg-config, and get the reference greedy ids.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
BUILD=$(dirname "$S")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make --no-print-directory -s install BUILD="$BUILD" DESTDIR="$stage" PREFIX=/opt/seam > /dev/null
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$stage/opt/seam/lib/pkgconfig"
# sanitizer builds need the sanitizer runtime at link time too
extra=""; case "$BUILD" in *san*) extra="-fsanitize=address,undefined";; esac
# static: the archive plus the private libraries pkg-config lists for it
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror $extra $(pkg-config --cflags seam) examples/greedy.c -o "$stage/greedy" \
  "$stage/opt/seam/lib/libseam.a" $(pkg-config --libs --static seam | sed 's/-lseam//')
read -r ids greedy < <(python3 tools/ref_cases.py "$F/gpt2-tiny-ref/reference.safetensors")
text=$("$S" tokenize -m "$F/gpt2-tiny" --decode "$ids")
got=$("$stage/greedy" "$F/gpt2-tiny" "$text" 24)
[ "$got" = "$greedy" ] || { echo "library example: got $got, want $greedy"; exit 1; }
# the shared library links too
# shellcheck disable=SC2086
cc -std=c11 $extra examples/greedy.c -o "$stage/greedy-so" $(pkg-config --cflags --libs seam)
LD_LIBRARY_PATH="$stage/opt/seam/lib" "$stage/greedy-so" "$F/gpt2-tiny" "$text" 3 > /dev/null
echo ok
