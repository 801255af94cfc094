#!/usr/bin/env bash
# Installs the Debian packages sgatlin needs, only when some are missing.
# Idempotent; runs apt-get as root, or through sudo otherwise.
set -euo pipefail

PACKAGES=(build-essential cmake pkg-config libdnnl-dev libcli11-dev nlohmann-json3-dev
          libsentencepiece-dev doctest-dev bible-kjv gnuplot-nox)
PACKAGES+=(clang-format)  # scripts/ci_format.sh checks the formatting
PACKAGES+=(nodejs chromium)  # `sgatlin report` builds its page with node; its test runs Chromium
PACKAGES+=(openmpi-bin libopenmpi-dev)  # data-parallel training over MPI (docs/DISTRIBUTED.md)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
