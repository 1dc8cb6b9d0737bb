#!/usr/bin/python3
"""Writes the bundled example: a small MNIST-style classifier and a VNN-LIB
robustness property, in the shape VNN-COMP's mnist_fc networks have.

  mlp.onnx     Flatten -> Gemm(64->32, transB) -> Relu -> Gemm(32->32) -> Relu -> Gemm(32->10)
               input [1,1,8,8], output [1,10]; weights drawn with a fixed seed.
  mlp.vnnlib   an L-inf ball of radius 0.03 around a fixed 8x8 "image" (clipped to [0,1]);
               unsafe if some other class scores at least as high as class 3.

Run with Debian's interpreter: /usr/bin/python3 examples/make_example.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(20261125)
    sizes = [64, 32, 32, 10]
    inits, nodes = [], []
    nodes.append(helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1))
    prev = "flat"
    for i in range(3):
        k, n = sizes[i], sizes[i + 1]
        w = (rng.standard_normal((n, k)) * np.sqrt(2.0 / k)).astype(np.float32)
        b = (rng.standard_normal(n) * 0.1).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"fc{i}.weight"), numpy_helper.from_array(b, f"fc{i}.bias")]
        out = f"fc{i}" if i < 2 else "output"
        nodes.append(helper.make_node("Gemm", [prev, f"fc{i}.weight", f"fc{i}.bias"], [out],
                                      name=f"fc{i}", transB=1))
        prev = out
        if i < 2:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}"], name=f"relu{i}"))
            prev = f"relu{i}"
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="gamma-examples")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "mlp.onnx"))

    image = rng.uniform(0, 1, 64)
    eps, label = 0.03, 3
    lines = ["; Robustness of the example MLP: L-inf radius 0.03 around a fixed image.", ""]
    lines += [f"(declare-const X_{i} Real)" for i in range(64)] + [""]
    lines += [f"(declare-const Y_{j} Real)" for j in range(10)] + [""]
    for i, v in enumerate(image):
        lines.append(f"(assert (<= X_{i} {min(1.0, v + eps):.9f}))")
        lines.append(f"(assert (>= X_{i} {max(0.0, v - eps):.9f}))")
    lines += ["", f"; Unsafe if some class scores at least as high as class {label}.", "(assert (or"]
    lines += [f"    (and (>= Y_{j} Y_{label}))" for j in range(10) if j != label]
    lines += ["))", ""]
    with open(os.path.join(HERE, "mlp.vnnlib"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
