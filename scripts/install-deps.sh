#!/usr/bin/env bash
# Installs the Debian 12 packages gamma needs, if any is missing. Idempotent and
# quick when everything is present. Needs root (or sudo) only when installing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  llvm-19-dev llvm-19-tools            # LLVM 19 (codegen, JIT) + FileCheck and lit
  libonnx-dev libprotobuf-dev protobuf-compiler
  libeigen3-dev libtbb-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  python3 python3-onnx python3-numpy   # lit, and regenerating test models
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "gamma: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
