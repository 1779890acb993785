#!/usr/bin/env bash
# Builds what a run on the device machine needs, without the network libraries (libcurl and
# libmicrohttpd are not installed there): the core library (make NET=0), then
# /tmp/seam_bench and /tmp/mkrand (tools/make_random_gpt2.c) linked against it.
#
#   bash bench/devbuild.sh
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j"$(nproc)" NET=0 build-nonet/libseam.a
F="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -pthread -Iinclude -Isrc"
cc $F bench/seam_bench.c build-nonet/libseam.a -lm -lpthread -o /tmp/seam_bench
cc $F tools/make_random_gpt2.c build-nonet/libseam.a -lm -lpthread -o /tmp/mkrand
