#!/usr/bin/python3
"""Writes OUT: a chain of DEPTH Gemm+ReLU layers of width 4 (watchdog.test: a
model whose compilation takes far longer than a tiny --timeout)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, depth = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
nodes, inits, prev = [], [], "X"
for i in range(depth):
    w = (rng.standard_normal((4, 4)) / 2).astype(np.float32)
    inits.append(numpy_helper.from_array(w, f"W{i}"))
    nodes.append(helper.make_node("Gemm", [prev, f"W{i}"], [f"h{i}"]))
    nodes.append(helper.make_node("Relu", [f"h{i}"], [f"r{i}"]))
    prev = f"r{i}"
nodes.append(helper.make_node("Identity", [prev], ["Y"]))
graph = helper.make_graph(nodes, "chain",
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])], inits)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), out)
