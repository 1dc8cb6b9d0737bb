#!/usr/bin/env bash
# Second command of the README (and what CI runs): installs anything missing,
# builds, and runs the whole test suite through CTest. Tests that need
# ../shared skip with a message when it is absent. Pass -DGAMMA_SLOW_TESTS=ON
# to also run the slow tier of test/regress/instances.csv (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
