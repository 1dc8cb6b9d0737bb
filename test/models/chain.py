#!/usr/bin/python3
"""Chains of DEPTH Gemm+ReLU layers of width WIDTH with random weights: the
model of the compile-time benchmark (bench/compile_bench.py) and of the
watchdog test (test/lit/verify/watchdog.test), whose compile time must grow
linearly with depth.

usage: test/models/chain.py OUT.onnx DEPTH [WIDTH]
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def chain_model(depth, width=4, seed=0):
    """A Gemm (+ bias) / ReLU chain, no ReLU after the last Gemm."""
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "X"
    for i in range(depth):
        w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        b = (0.1 * rng.standard_normal(width)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"b{i}"], [f"h{i}"]))
        prev = f"h{i}"
        if i < depth - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"r{i}"]))
            prev = f"r{i}"
    nodes.append(helper.make_node("Identity", [prev], ["Y"]))
    g = helper.make_graph(nodes, f"chain{depth}",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, width])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, width])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    width = int(sys.argv[3]) if len(sys.argv) == 4 else 4
    onnx.save(chain_model(int(sys.argv[2]), width), sys.argv[1])


if __name__ == "__main__":
    main()
