#!/usr/bin/python3
"""Writes OUT: y = w·x with w = f32(1/3) = 0.3333333432674408 (Gemm, no bias).

At x = 3 the f32 evaluation rounds y to exactly 1.0, while the real (and the
float64) value is 1.0000000298023224. For "unsafe if y <= 1" the f32 output
looks like a counterexample and is not one (counterexample.test).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = numpy_helper.from_array(np.array([[1.0 / 3.0]], dtype=np.float32), "W")
graph = helper.make_graph(
    [helper.make_node("Gemm", ["X", "W"], ["Y"])], "third",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1])], [w])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
