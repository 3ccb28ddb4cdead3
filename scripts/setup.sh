#!/usr/bin/env bash
# Installs the Debian packages glassgpt needs, only those that are missing.
# Safe to run any number of times; quiet when there is nothing to do.
#
# usage: scripts/setup.sh [--bench]
#   --bench  install what `make bench` compares against or measures with
#            instead: sentencepiece, PyTorch with Debian's OpenBLAS, and wrk
set -euo pipefail

# What building and testing need: the C toolchain, the WebAssembly one
# (clang, lld, wasi-libc), clang's sanitizer and libFuzzer runtimes for the
# fuzzers, libmicrohttpd for the server, Open MPI for data-parallel training,
# Chromium, Node and the Noto CJK and colour emoji fonts for the browser tests
# and screenshots, Python for the small test helpers.
packages=(gcc make libc6-dev coreutils curl ca-certificates clang lld wasi-libc
          libclang-rt-14-dev-wasm32 libclang-rt-14-dev libmicrohttpd-dev chromium python3
          libopenmpi-dev openmpi-bin fonts-noto-cjk fonts-noto-color-emoji)
command -v node > /dev/null || packages+=(nodejs)
command -v npm > /dev/null || packages+=(npm)
if [ "${1:-}" = "--bench" ]; then
    packages=(sentencepiece python3-torch libopenblas0-pthread wrk)
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing missing Debian packages: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null; then
        sudo=(sudo)
    else
        echo "setup: not root and no sudo; please run: apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "setup: installed ${missing[*]}" >&2
