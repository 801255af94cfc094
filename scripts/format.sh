#!/usr/bin/env bash
# Applies .clang-format to the C++ sources (src, tests, data_tools) in place.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z -- 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'data_tools/*.cpp' \
  'data_tools/*.h' | xargs -0 clang-format -i --style=file
