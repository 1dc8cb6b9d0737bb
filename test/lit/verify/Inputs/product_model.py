#!/usr/bin/python3
"""Writes PATH, a model with an op the kernels do not implement: a product
of two activations, X[1,2,3] -> relu -> Mul(relu, X) -> relu -> flatten ->
Gemm(6 -> 2). Used by kernel_fallback.test: gammac refuses it with E5005,
gamma bounds uses the reference interpreter.

usage: product_model.py PATH
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)
w = numpy_helper.from_array(rng.uniform(-1, 1, (2, 6)).astype(np.float32), "W")
b = numpy_helper.from_array(np.array([0.1, -0.2], dtype=np.float32), "B")
nodes = [
    helper.make_node("Relu", ["X"], ["r1"]),
    helper.make_node("Mul", ["r1", "X"], ["t"]),
    helper.make_node("Relu", ["t"], ["r2"]),
    helper.make_node("Flatten", ["r2"], ["f"]),
    helper.make_node("Gemm", ["f", "W", "B"], ["Y"], transB=1),
]
graph = helper.make_graph(
    nodes, "product_net",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2, 3])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
    initializer=[w, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
