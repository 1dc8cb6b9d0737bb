#!/usr/bin/python3
"""Writes DIR/scale.onnx, y = w * x (Gemm with one input and one output), with
the weight w in the external-data file DIR/scale.data.

Used by cache.test: rewriting only scale.data (the .onnx bytes stay the same)
must change the model's identity, so no cached or compiled verifier of the old
weight is ever used for the new one.

With --layers 2 the model is y = 1·relu(w * x) instead: other code (a ReLU
and a second Gemm), the same answers for w in [0, 1).

usage: scale_model.py DIR WEIGHT [--layers 2]  writes both files
       scale_model.py DIR WEIGHT --data        rewrites scale.data only
"""
import os
import struct
import sys

import onnx
from onnx import TensorProto, helper

out_dir, weight = sys.argv[1], float(sys.argv[2])
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "scale.data"), "wb") as f:
    f.write(struct.pack("<f", weight))
if "--data" in sys.argv:
    sys.exit(0)

w = TensorProto()
w.name = "W"
w.data_type = TensorProto.FLOAT
w.dims.extend([1, 1])
w.data_location = TensorProto.EXTERNAL
for key, value in (("location", "scale.data"), ("offset", "0"), ("length", "4")):
    entry = w.external_data.add()
    entry.key, entry.value = key, value
initializers = [w]
if "--layers" in sys.argv and sys.argv[sys.argv.index("--layers") + 1] == "2":
    nodes = [helper.make_node("Gemm", ["X", "W"], ["H"]),
             helper.make_node("Relu", ["H"], ["R"]),
             helper.make_node("Gemm", ["R", "W2"], ["Y"])]
    initializers.append(helper.make_tensor("W2", TensorProto.FLOAT, [1, 1], [1.0]))
else:
    nodes = [helper.make_node("Gemm", ["X", "W"], ["Y"])]
graph = helper.make_graph(
    nodes, "scale",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 1])],
    initializer=initializers)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
with open(os.path.join(out_dir, "scale.onnx"), "wb") as f:
    f.write(model.SerializeToString())
