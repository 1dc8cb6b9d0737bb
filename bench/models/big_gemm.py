#!/usr/bin/python3
"""A model whose weights are too big to commit: Gemm IN -> HIDDEN (external data),
ReLU, Gemm -> 10, and a VNN-LIB box of +-RADIUS around 0, for measuring gamma on
weights of GB size (docs/benchmarks.md, "A 1.25 GB external-data model").

usage: bench/models/big_gemm.py OUT_DIR [--in 16384] [--hidden 19073] [--radius 0.01]
Writes OUT_DIR/big.onnx, OUT_DIR/big.data and OUT_DIR/big.vnnlib; then e.g.
  gamma bounds OUT_DIR/big.onnx --vnnlib OUT_DIR/big.vnnlib --json
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--in", dest="n_in", type=int, default=16384)
    ap.add_argument("--hidden", type=int, default=19073)
    ap.add_argument("--radius", type=float, default=0.01)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(0)
    n_in, n_h = args.n_in, args.hidden
    inits = [
        numpy_helper.from_array(rng.standard_normal((n_in, n_h), dtype=np.float32) * 0.01, "W1"),
        numpy_helper.from_array(np.zeros(n_h, np.float32), "b1"),
        numpy_helper.from_array(rng.standard_normal((n_h, 10), dtype=np.float32) * 0.01, "W2"),
        numpy_helper.from_array(np.zeros(10, np.float32), "b2"),
    ]
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], name="fc2")]
    g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(m, os.path.join(args.out, "big.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="big.data", size_threshold=1024)
    with open(os.path.join(args.out, "big.vnnlib"), "w") as f:
        f.writelines(f"(declare-const X_{i} Real)\n" for i in range(n_in))
        f.writelines(f"(declare-const Y_{i} Real)\n" for i in range(10))
        for i in range(n_in):
            f.write(f"(assert (>= X_{i} {-args.radius}))\n(assert (<= X_{i} {args.radius}))\n")
        f.write("(assert (>= Y_0 Y_1))\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
