#!/usr/bin/env bash
# The main job on the built-in default: installs deps, builds, and runs sgatlin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
./build/sgatlin --help
