#!/usr/bin/env bash
# VNN-COMP: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULT TIMEOUT
# Runs `gamma verify`, which writes RESULT (sat + counterexample, unsat,
# unknown or timeout). If gamma fails without writing it, RESULT says unknown.
set -u
if [ "$#" -ne 6 ] || [ "$1" != "v1" ]; then
  echo "usage: $0 v1 CATEGORY ONNX VNNLIB RESULT TIMEOUT" >&2
  exit 1
fi
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
gamma=$(find_gamma) || exit 1
onnx=$3 vnnlib=$4 result=$5 timeout=$6
case "$onnx" in
  *.gz) [ -f "${onnx%.gz}" ] || gunzip -kf "$onnx"; onnx=${onnx%.gz} ;;
esac
case "$vnnlib" in
  *.gz) [ -f "${vnnlib%.gz}" ] || gunzip -kf "$vnnlib"; vnnlib=${vnnlib%.gz} ;;
esac
rm -f "$result"
# GAMMA_THREADS (optional) caps the threads, e.g. when a runner runs several
# instances at once.
"$gamma" verify "$onnx" "$vnnlib" --timeout "$timeout" --result "$result" ${GAMMA_THREADS:+--threads "$GAMMA_THREADS"}
rc=$?
if [ ! -f "$result" ]; then
  echo unknown > "$result"
fi
exit $rc
