#!/usr/bin/env bash
# VNN-COMP: prepare_instance.sh v1 CATEGORY ONNX VNNLIB
# Compiles the model into gamma's compile cache ahead of time, so that
# run_instance.sh starts from the cached library. Exits 0 when the instance
# can be run (a model gamma cannot compile is reported by run_instance.sh).
set -u
if [ "$#" -ne 4 ] || [ "$1" != "v1" ]; then
  echo "usage: $0 v1 CATEGORY ONNX VNNLIB" >&2
  exit 1
fi
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
gamma=$(find_gamma) || exit 1
onnx=$3
case "$onnx" in
  *.gz) gunzip -kf "$onnx"; onnx=${onnx%.gz} ;;
esac
"$gamma" prepare "$onnx" >&2 || echo "gamma: prepare failed for $onnx; run_instance will compile" >&2
exit 0
