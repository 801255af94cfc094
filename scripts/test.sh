#!/usr/bin/env bash
# The test command: installs deps, builds, runs the whole doctest suite via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# Tests run in parallel with OpenMP inside: idle threads must sleep, not spin, or an
# oversubscribed machine runs them many times slower (results are the same either way).
export OMP_WAIT_POLICY=passive
ctest --test-dir build --output-on-failure -j "$(nproc)"
