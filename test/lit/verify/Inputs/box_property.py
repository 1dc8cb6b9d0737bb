#!/usr/bin/python3
"""Writes a VNN-LIB box property: NIN inputs in [-R, R], unsafe if Y_0 <= D.

usage: box_property.py OUT NIN NOUT R D
"""
import sys

out, nin, nout, r, dval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
with open(out, "w") as f:
    for i in range(nin):
        f.write(f"(declare-const X_{i} Real)\n")
    for j in range(nout):
        f.write(f"(declare-const Y_{j} Real)\n")
    for i in range(nin):
        f.write(f"(assert (>= X_{i} -{r}))\n(assert (<= X_{i} {r}))\n")
    f.write(f"(assert (<= Y_0 {dval}))\n")
