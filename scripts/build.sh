#!/usr/bin/env bash
# Configures (once) and builds gamma in build/. Extra arguments go to cmake's
# configure step, e.g. -DGAMMA_SLOW_TESTS=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
if [ ! -f build/build.ninja ] || [ $# -gt 0 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build build -j "$jobs"
