#!/usr/bin/env bash
# First command of the README: installs what is missing, builds gamma, compiles
# the bundled example model to a shared library and computes its IBP bounds
# with both the library and the in-process JIT.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

example=examples/mlp
mkdir -p build/example
echo "== gammac $example.onnx -o build/example/mlp_verifier.so"
build/tools/gammac "$example.onnx" -o build/example/mlp_verifier.so
echo "== gamma bounds (compiled library)"
build/tools/gamma bounds "$example.onnx" --vnnlib "$example.vnnlib" --verifier build/example/mlp_verifier.so
echo "== gamma bounds --json (JIT)"
build/tools/gamma bounds "$example.onnx" --vnnlib "$example.vnnlib" --json
