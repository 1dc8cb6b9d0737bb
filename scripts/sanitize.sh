#!/usr/bin/env bash
# The sanitizer tier: builds gamma with AddressSanitizer + UndefinedBehaviorSanitizer
# into build-asan (-DGAMMA_SANITIZE=ON) and runs the unit tests, the fuzz
# replays and the hostile-input corpus there. Any sanitizer report fails a test
# (UBSan does not recover; the corpus driver counts ASan/UBSan reports).
#
#   scripts/sanitize.sh [ctest -R regex]   # default: every test labelled unit, fuzz or hostile
#
# Expensive: a full instrumented build takes several times the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="${GAMMA_JOBS:-2}"
if [ ! -f build-asan/CMakeCache.txt ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGAMMA_SANITIZE=ON
fi
nice -n 10 cmake --build build-asan -j "$jobs"
# LeakSanitizer reports leaks at exit; UBSan prints a stack for each finding.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
if [ $# -gt 0 ]; then
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -R "$1"
else
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|fuzz|hostile'
fi
