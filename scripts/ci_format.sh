#!/usr/bin/env bash
# CI check: every C++ source is formatted as .clang-format says (fix: scripts/format.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "ci_format: clang-format not installed (scripts/install_deps.sh)" >&2; exit 1; }
git ls-files -z -- 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'data_tools/*.cpp' \
  'data_tools/*.h' | xargs -0 clang-format --dry-run -Werror --style=file
echo "ci_format: all files formatted"
