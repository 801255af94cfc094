#!/usr/bin/env bash
# The test command: installs deps, builds, runs the whole doctest suite via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
