#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages needed to build and test seam: compilers,
# libFuzzer runtime, clang-19 (relaxed-SIMD WebAssembly, web/wasm.mk), libcurl and libmicrohttpd headers, pkg-config, python3 and valgrind.
# Safe to run again: apt-get skips what is already installed. Uses sudo only when not root.
set -euo pipefail

PACKAGES=(
  build-essential
  clang
  libclang-rt-14-dev
  libcurl4-openssl-dev
  libmicrohttpd-dev
  pkg-config
  python3
  valgrind
  ca-certificates
  curl
  gcc-aarch64-linux-gnu
  libc6-dev-arm64-cross
  qemu-user
  emscripten
  node-acorn
  clang-19
  lld-19
  chromium
)

die() { echo "install-deps: $*" >&2; exit 1; }

command -v apt-get > /dev/null 2>&1 || die "apt-get not found: this script is for Debian 12 (install ${PACKAGES[*]} by hand)"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null 2>&1 || die "not root and sudo is not installed"
  SUDO=(sudo)
fi

if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
    echo "install-deps: warning: written for Debian 12, this is ${PRETTY_NAME:-unknown}" >&2
  fi
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-q -y -o Dpkg::Use-Pty=0 --no-install-recommends)

echo "install-deps: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update -o Dpkg::Use-Pty=0 > /dev/null ||
  die "apt-get update failed"

echo "install-deps: apt-get install ${PACKAGES[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install "${APT_OPTS[@]}" "${PACKAGES[@]}" > "$log" 2>&1; then
  tail -n 30 "$log" >&2
  die "apt-get install failed"
fi

# Check that what the build needs is really there.
missing=()
for cmd in cc clang pkg-config python3 valgrind curl aarch64-linux-gnu-gcc qemu-aarch64 emcc clang-19 wasm-ld-19 node chromium; do
  command -v "$cmd" > /dev/null 2>&1 || missing+=("$cmd")
done
pkg-config --exists libcurl || missing+=("libcurl (pkg-config)")
pkg-config --exists libmicrohttpd || missing+=("libmicrohttpd (pkg-config)")
[ ${#missing[@]} -eq 0 ] || die "still missing after install: ${missing[*]}"
echo "install-deps: ok"
