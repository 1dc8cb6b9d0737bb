#!/usr/bin/python3
"""test/hostile/gen_corpus.py - Generate gamma's hostile-input corpus.

    /usr/bin/python3 test/hostile/gen_corpus.py OUT_DIR

writes every input under OUT_DIR and OUT_DIR/manifest.json, the table the
driver (run_corpus.py) checks each tool run against. The corpus is generated,
not committed: it holds FIFOs, symlinks and sparse multi-gigabyte files that
git cannot (or should not) store. Everything is deterministic (fixed seeds).

Each manifest entry is one input and what every tool must do with it:

  name      unique id, also the file stem
  kind      "onnx" (a model, run with a valid property), "vnnlib" (a property,
            run with the valid base model) or "gir" (textual IR)
  files     the files of the entry, relative to OUT_DIR ("model", "vnnlib")
  expect    what each run must give, one of
              "E2001"        the user-error exit code and that error code
              "error"        the user-error exit code and some E#### code
              "answer"       success (verify: any verdict)
              "answer:unsat" success with that verdict (verify only)
              "any"          a coded error or an answer (bit flips and
                             truncations whose validity is not known here)
            either one string for all tools or a dict tool -> string.
  known     tool -> reason: a known failure outside the frontend (lead's code);
            the driver reports it but does not fail on it.
  plain     true: stderr must carry no raw control characters (names from the
            model are escaped in messages).

Tools: bounds (`gamma bounds M --vnnlib P`), verify (`gamma verify M P
--timeout 5`), gammac (`gammac M -o out.so`), opt (`gamma-opt M -o out.gir`).
"onnx" entries run all four, "vnnlib" entries bounds and verify, "gir"
entries opt and gammac.
"""

import json
import os
import random
import stat
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13

# --------------------------------------------------------------------------
# The valid base model and property.
#
# y = W2 · relu(W1 · x + b1) + b2 with x ∈ R^2, y ∈ R^2:
#   W1 = [[1, 1], [1, -1]], b1 = 0, W2 = I, b2 = 0, so for x ∈ [0, 1]^2
#   y0 = x0 + x1 ∈ [0, 2] and y1 = relu(x0 - x1) ∈ [0, 1].
# The base property asks for y0 >= 3: unsat (y0 <= 2 on the whole box).
# --------------------------------------------------------------------------

W1 = np.array([[1, 1], [1, -1]], dtype=np.float32)  # Gemm transB=1: [out, in]
B1 = np.zeros(2, dtype=np.float32)
W2 = np.eye(2, dtype=np.float32)
B2 = np.zeros(2, dtype=np.float32)

BASE_VNNLIB = """; base property: y0 >= 3 is unreachable (y0 = x0 + x1 <= 2)
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(assert (>= X_0 0.0))
(assert (<= X_0 1.0))
(assert (>= X_1 0.0))
(assert (<= X_1 1.0))
(assert (>= Y_0 3.0))
"""

VNN_DECLS = """(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
"""
VNN_BOX = """(assert (>= X_0 0.0))
(assert (<= X_0 1.0))
(assert (>= X_1 0.0))
(assert (<= X_1 1.0))
"""

BASE_GIR = """graph @base(%x: f32[1,2]) -> (f32[1,2]) {
  %0 = const dense<[1, 1, 1, -1]> : f32[2,2]
  %1 = matmul %x, %0 : f32[1,2]
  %2 = const dense<[0.5, -1]> : f32[1,2]
  %3 = add %2, %1 : f32[1,2]
  %4 = relu %3 : f32[1,2]
  %5 = sigmoid %4 : f32[1,2]
  return %5
}
"""


def vi(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def base_nodes():
    return [
        helper.make_node("Gemm", ["x", "W1", "B1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu1"),
        helper.make_node("Gemm", ["r", "W2", "B2"], ["y"], name="fc2", transB=1),
    ]


def base_inits():
    return [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(B1, "B1"),
            numpy_helper.from_array(W2, "W2"), numpy_helper.from_array(B2, "B2")]


def make_model(nodes=None, inits=None, inputs=None, outputs=None, opset=OPSET):
    graph = helper.make_graph(
        base_nodes() if nodes is None else nodes, "g",
        [vi("x", [1, 2])] if inputs is None else inputs,
        [vi("y", [1, 2])] if outputs is None else outputs,
        base_inits() if inits is None else inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def raw_tensor(name, dims, data_bytes, elem=TensorProto.FLOAT):
    t = TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.extend(dims)
    t.raw_data = data_bytes
    return t


def external_tensor(name, dims, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            e = t.external_data.add()
            e.key = key
            e.value = value
    return t


def parses_in_python(data):
    try:
        m = onnx.ModelProto()
        m.ParseFromString(data)
        return True
    except Exception:
        return False


class Corpus:
    def __init__(self, out):
        self.out = out
        self.entries = []
        os.makedirs(out, exist_ok=True)
        self.base_model_path = self.write_bytes("base/model.onnx", make_model().SerializeToString())
        self.base_vnnlib_path = self.write_bytes("base/prop.vnnlib", BASE_VNNLIB.encode())

    def path(self, rel):
        p = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write_bytes(self, rel, data):
        p = self.path(rel)
        if os.path.lexists(p):
            os.remove(p)
        with open(p, "wb") as f:
            f.write(data)
        return rel

    def add(self, name, kind, files, expect, known=None, plain=False, why=""):
        assert all(e["name"] != name for e in self.entries), name
        files = dict(files)
        if kind in ("onnx", "vnnlib"):
            files.setdefault("model", self.base_model_path)
            files.setdefault("vnnlib", self.base_vnnlib_path)
        self.entries.append({"name": name, "kind": kind, "files": files, "expect": expect,
                             "known": known or {}, "plain": plain, "why": why})

    # --- ONNX -------------------------------------------------------------
    def onnx(self, name, model_or_bytes, expect, known=None, plain=False, why="", folder=None):
        data = model_or_bytes if isinstance(model_or_bytes, bytes) else \
            model_or_bytes.SerializeToString()
        rel = self.write_bytes(f"{folder or 'onnx/' + name}/model.onnx" if folder else
                               f"onnx/{name}.onnx", data)
        self.add(name, "onnx", {"model": rel}, expect, known, plain, why)
        return rel

    def vnnlib(self, name, text, expect, known=None, why=""):
        data = text if isinstance(text, bytes) else text.encode()
        rel = self.write_bytes(f"vnnlib/{name}.vnnlib", data)
        self.add(name, "vnnlib", {"vnnlib": rel}, expect, known, why=why)

    def gir(self, name, text, expect, known=None, why=""):
        data = text if isinstance(text, bytes) else text.encode()
        rel = self.write_bytes(f"gir/{name}.gir", data)
        self.add(name, "gir", {"model": rel}, expect, known, why=why)


# --------------------------------------------------------------------------
# ONNX inputs
# --------------------------------------------------------------------------

def gen_onnx(c):
    base = make_model().SerializeToString()
    c.onnx("valid_base", base, {"verify": "answer:unsat", "bounds": "answer", "gammac": "answer",
                                "opt": "answer"}, why="the base model itself")

    # Truncations: where protobuf itself fails, E2001; a cut at a field
    # boundary can leave a valid but incomplete model (no graph, no opset...).
    for cut in (1, 2, 7, 16, len(base) // 3, len(base) // 2, len(base) - 40, len(base) - 3,
                len(base) - 1):
        data = base[:cut]
        c.onnx(f"truncated_{cut}", data, "E2001" if not parses_in_python(data) else "error",
               why=f"the base model cut to {cut} of {len(base)} bytes")
    c.onnx("onnx_empty_file", b"", "E2001")
    c.onnx("text_file", b"this is not a protobuf\n", "any")
    c.onnx("zeros_4k", b"\0" * 4096, "any")

    # Bit flips: 40 single-bit and 10 eight-bit corruptions.
    rng = random.Random(20261202)
    for i in range(50):
        data = bytearray(base)
        for _ in range(1 if i < 40 else 8):
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        data = bytes(data)
        c.onnx(f"bitflip_{i:02d}", data, "E2001" if not parses_in_python(data) else "any",
               why="random bit flips in the base model")

    # Graph structure.
    c.onnx("cyclic_two_nodes", make_model(nodes=[
        helper.make_node("Relu", ["b"], ["a"], name="n1"),
        helper.make_node("Relu", ["a"], ["b"], name="n2"),
        helper.make_node("Add", ["x", "b"], ["y"], name="n3")]), "E2005",
        why="a -> b -> a: n1 reads b before anything defines it")
    c.onnx("cyclic_self_loop", make_model(nodes=[
        helper.make_node("Relu", ["s"], ["s"], name="self"),
        helper.make_node("Add", ["x", "s"], ["y"], name="n2")]), "E2005")
    c.onnx("dangling_node_input", make_model(nodes=[
        helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]), "E2005")
    c.onnx("dangling_graph_output", make_model(outputs=[vi("nowhere", [1, 2])]), "E2005")
    c.onnx("no_nodes_no_outputs", make_model(nodes=[], outputs=[]), "E2010")
    c.onnx("no_inputs", make_model(inputs=[], nodes=[
        helper.make_node("Add", ["B1", "B2"], ["y"])], outputs=[vi("y", [2])]), "E2010")
    c.onnx("no_opset", _without_opset(), "E2008")
    c.onnx("opset_99", make_model(opset=99), "E2008")
    c.onnx("unsupported_op", make_model(nodes=[
        helper.make_node("Softmax", ["x"], ["y"], name="sm")]), "E2002")

    # Duplicate and redefined names.
    c.onnx("duplicate_graph_input", make_model(inputs=[vi("x", [1, 2]), vi("x", [1, 2])]),
           "E2011")
    c.onnx("duplicate_graph_input_shapes", make_model(inputs=[vi("x", [1, 2]), vi("x", [1, 7])]),
           "E2011")
    c.onnx("duplicate_graph_output", make_model(outputs=[vi("y", [1, 2]), vi("y", [1, 2])]),
           "E2011")
    c.onnx("redefined_initializer",
           make_model(inits=base_inits() + [numpy_helper.from_array(W1 * 2, "W1")]), "E2011")
    c.onnx("node_redefines_input", make_model(nodes=[
        helper.make_node("Relu", ["x"], ["x"], name="again")] + base_nodes()), "E2011")
    c.onnx("node_redefines_initializer", make_model(nodes=[
        helper.make_node("Relu", ["x"], ["W1"], name="shadow")] + base_nodes()), "E2011")
    c.onnx("two_nodes_one_output", make_model(nodes=base_nodes() + [
        helper.make_node("Relu", ["x"], ["h"], name="dup")]), "E2011")
    c.onnx("input_named_like_initializer",
           make_model(inputs=[vi("x", [1, 2]), vi("W1", [2, 2])]), "answer",
           why="an initializer listed as a graph input is its default value (legal ONNX)")

    # Dimensions.
    for name, dims, code in (("input_dim_zero", [1, 0], "E2010"),
                             ("input_dim_negative", [1, -2], "E2001"),
                             ("input_dim_2p31", [1, 2 ** 31], "E2010"),
                             ("input_dim_2p31_minus1", [1, 2 ** 31 - 1], "E2010"),
                             ("input_dim_2p40", [2 ** 40, 2], "E2010"),
                             ("input_dims_overflow", [2 ** 32, 2 ** 32, 2 ** 32], "E2010"),
                             ("input_dim_int64_max", [2 ** 63 - 1], "E2010")):
        c.onnx(name, make_model(inputs=[vi("x", dims)], nodes=[
            helper.make_node("Relu", ["x"], ["y"], name="relu")], inits=[],
            outputs=[vi("y", None)]), code)
    c.onnx("input_rank_100", make_model(inputs=[vi("x", [1] * 100 + [2])]), "error")
    c.onnx("init_dim_negative", make_model(inits=base_inits()[:3] + [
        raw_tensor("B2", [-2], B2.tobytes())]), "E2001")
    c.onnx("init_dims_overflow", make_model(inits=base_inits()[:3] + [
        raw_tensor("B2", [2 ** 62, 4], B2.tobytes())]), "E2001")
    c.onnx("init_dims_2p40", make_model(inits=base_inits()[:3] + [
        raw_tensor("B2", [2 ** 20, 2 ** 20, 2], B2.tobytes())]), "E2001")
    c.onnx("output_dim_mismatch", make_model(outputs=[vi("y", [1, 3])]), "E2004")

    # Reshape / transpose sizes.
    def reshape_model(shape, allowzero=None):
        attrs = {} if allowzero is None else {"allowzero": allowzero}
        return make_model(nodes=base_nodes()[:2] + [
            helper.make_node("Reshape", ["r", "shape"], ["y"], name="reshape", **attrs)],
            inits=base_inits()[:2] + [numpy_helper.from_array(np.array(shape, np.int64), "shape")],
            outputs=[vi("y", None)], opset=14)
    c.onnx("reshape_overflow", reshape_model([2 ** 62, 4, 0]), "E2004")
    c.onnx("reshape_overflow_neg1", reshape_model([2 ** 62, 2 ** 62, -1]), "E2004")
    c.onnx("reshape_int64_max", reshape_model([2 ** 63 - 1]), "E2004")
    c.onnx("reshape_int64_min", reshape_model([-(2 ** 63)]), "E2004")
    c.onnx("reshape_two_minus1", reshape_model([-1, -1]), "E2004")
    c.onnx("reshape_zero_allowzero", reshape_model([0, 2], allowzero=1), "E2004")
    c.onnx("reshape_wrap_to_total", reshape_model([2, 3, 3074457345618258603]), "E2004",
           why="2 * 3 * 3074457345618258603 = 2^64 + 2 wraps to the input's 2 elements")
    c.onnx("reshape_ok", reshape_model([2, 1]), "answer")

    def transpose_model(perm):
        return make_model(nodes=base_nodes()[:2] + [
            helper.make_node("Transpose", ["r"], ["y"], name="tr", perm=perm)],
            inits=base_inits()[:2], outputs=[vi("y", None)])
    c.onnx("transpose_perm_huge", transpose_model([2 ** 62, 0]), "error")
    c.onnx("transpose_perm_negative", transpose_model([-(2 ** 63), 0]), "error")
    c.onnx("transpose_perm_repeated", transpose_model([0, 0]), "error")
    c.onnx("transpose_perm_short", transpose_model([0]), "error")
    # A constant shape computed by Shape/Gather/Concat whose product overflows.
    c.onnx("shape_product_overflow", make_model(nodes=[
        helper.make_node("Constant", [], ["big"], name="big",
                         value=numpy_helper.from_array(np.array([2 ** 40, 2 ** 40], np.int64))),
        helper.make_node("Reshape", ["x", "big"], ["y"], name="reshape")],
        inits=[], outputs=[vi("y", None)]), "E2004")

    # Pooling, Pad and BatchNormalization on a [1, 1, 4, 4] input (all lowered to conv/div).
    def image_prop(outputs):
        text = "".join(f"(declare-const X_{i} Real)\n" for i in range(16))
        text += "".join(f"(declare-const Y_{i} Real)\n" for i in range(outputs))
        text += "".join(f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))\n" for i in range(16))
        return c.write_bytes(f"vnnlib/image_{outputs}.vnnlib", (text + "(assert (>= Y_0 100))\n").encode())
    def image_entry(name, model, expect, outputs=16, why=""):
        c.onnx(name, model, expect, why=why)
        c.entries[-1]["files"]["vnnlib"] = image_prop(outputs)
    def image_model(node, inits=(), opset=OPSET):
        return make_model(nodes=[node], inits=list(inits), inputs=[vi("x", [1, 1, 4, 4])],
                          outputs=[vi("y", None)], opset=opset)
    pool = lambda **a: image_model(helper.make_node("AveragePool", ["x"], ["y"], name="pool", **a))
    image_entry("avgpool_kernel_huge", pool(kernel_shape=[2 ** 31, 2 ** 31]), "E2003")
    image_entry("avgpool_kernel_zero", pool(kernel_shape=[0, 0]), "E2001")
    image_entry("avgpool_kernel_missing", pool(), "E2001")
    image_entry("avgpool_kernel_over_input", pool(kernel_shape=[8, 8]), "error")
    image_entry("avgpool_stride_zero", pool(kernel_shape=[2, 2], strides=[0, 0]), "E2001")
    image_entry("avgpool_all_padding", pool(kernel_shape=[2, 2], pads=[3, 3, 3, 3]), "error",
           why="windows entirely in the padding average nothing")
    image_entry("avgpool_ok", pool(kernel_shape=[3, 3], pads=[1, 1, 1, 1]), "answer")
    mpool = lambda **a: image_model(helper.make_node("MaxPool", ["x"], ["y"], name="mpool", **a))
    image_entry("maxpool_kernel_huge", mpool(kernel_shape=[2 ** 31, 2 ** 31]), "E2003")
    image_entry("maxpool_kernel_zero", mpool(kernel_shape=[0, 0]), "E2001")
    image_entry("maxpool_kernel_missing", mpool(), "E2001")
    image_entry("maxpool_kernel_over_input", mpool(kernel_shape=[8, 8]), "error")
    image_entry("maxpool_stride_zero", mpool(kernel_shape=[2, 2], strides=[0, 0]), "E2001")
    image_entry("maxpool_dilation_negative", mpool(kernel_shape=[2, 2], dilations=[-1, -1]),
                "E2001")
    image_entry("maxpool_all_padding", mpool(kernel_shape=[2, 2], pads=[3, 3, 3, 3]), "error",
                why="windows entirely in the padding have no maximum")
    image_entry("maxpool_ceil_mode", mpool(kernel_shape=[3, 3], ceil_mode=1), "E2003")
    image_entry("maxpool_ok", mpool(kernel_shape=[3, 3], pads=[1, 1, 1, 1]), "answer")
    image_entry("maxpool_dilated_ok", mpool(kernel_shape=[2, 2], dilations=[2, 2]), "answer",
                outputs=4)
    maxn = lambda *ins, inits=(): image_model(helper.make_node("Max", list(ins), ["y"], name="max"),
                                              inits)
    image_entry("max_broadcast", maxn("x", "c", inits=[numpy_helper.from_array(
        np.ones((1, 1, 1, 4), np.float32), "c")]), "E2003")
    image_entry("max_of_x_and_x", maxn("x", "x"), "answer",
                why="max of a value with itself is the value")
    pad = lambda pads: image_model(helper.make_node("Pad", ["x", "p"], ["y"], name="pad"),
                                   [numpy_helper.from_array(np.array(pads, np.int64), "p")])
    image_entry("pad_huge", pad([0, 0, 2 ** 40, 0, 0, 0, 0, 0]), "error")
    image_entry("pad_int64_max", pad([0, 0, 2 ** 63 - 1, 0, 0, 0, 0, 0]), "error")
    image_entry("pad_short", pad([0, 0, 1]), "E2001")
    image_entry("pad_ok", pad([0, 0, 1, 1, 0, 0, 1, 1]), "answer", outputs=36)
    def bn(var, size=1):
        ones = np.ones(size, np.float32)
        return image_model(
            helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn"),
            [numpy_helper.from_array(ones, "s"), numpy_helper.from_array(ones, "b"),
             numpy_helper.from_array(ones, "m"),
             numpy_helper.from_array(np.array(var, np.float32).reshape(-1)[:size], "v")])
    image_entry("batchnorm_negative_var", bn([-1.0]), "E2001")
    image_entry("batchnorm_wrong_size", bn([1.0, 1.0], size=2), "E2004")
    image_entry("batchnorm_ok", bn([0.5]), "answer")
    # Clip (lowered through ReLUs) and Tanh (through the sigmoid).
    def clip(lo, hi, opset=OPSET):
        if opset < 11:
            attrs = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
            return image_model(helper.make_node("Clip", ["x"], ["y"], name="clip", **attrs),
                               opset=opset)
        inits = [numpy_helper.from_array(np.array(v, np.float32), n)
                 for n, v in (("lo", lo), ("hi", hi))]
        return image_model(helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip"), inits)
    image_entry("clip_min_above_max", clip(1.0, -1.0), "E2003")
    image_entry("clip_nan_attr", clip(float("nan"), 1.0, opset=10), "E2003")
    image_entry("clip_nan_input", clip(float("nan"), 1.0), "E2012")
    image_entry("clip_min_vector", clip([0.0, 1.0], 2.0), "E2006")
    image_entry("clip_min_computed", image_model(
        helper.make_node("Clip", ["x", "x"], ["y"], name="clip")), "E2009")
    image_entry("clip_ok", clip(-0.5, 0.5), "answer")
    image_entry("clip_huge_bounds_ok", clip(-3.0e38, 3.0e38), "answer")
    image_entry("tanh_ok", image_model(helper.make_node("Tanh", ["x"], ["y"], name="tanh")),
                "answer")

    # Data length mismatches.
    c.onnx("raw_data_short", make_model(inits=base_inits()[:3] + [
        raw_tensor("B2", [2], b"\0" * 7)]), "E2001")
    c.onnx("raw_data_long", make_model(inits=base_inits()[:3] + [
        raw_tensor("B2", [2], b"\0" * 9)]), "E2001")
    c.onnx("float_data_count", make_model(inits=base_inits()[:3] + [
        helper.make_tensor("B2", TensorProto.FLOAT, [3], [0.0, 0.0, 0.0])]), "E2004")
    bad = helper.make_tensor("B2", TensorProto.FLOAT, [2], [0.0, 0.0])
    del bad.float_data[:]
    bad.float_data.extend([1.0])
    c.onnx("float_data_short", make_model(inits=base_inits()[:3] + [bad]), "E2001")
    c.onnx("int64_shape_count", reshape_model([2, 1]).SerializeToString(), "answer")
    c.onnx("float16_weight", make_model(inits=base_inits()[:3] + [
        helper.make_tensor("B2", TensorProto.FLOAT16, [2], [0, 0])]), "E2006")
    c.onnx("string_weight", make_model(inits=base_inits()[:3] + [
        helper.make_tensor("B2", TensorProto.STRING, [2], [b"a", b"b"])]), "E2006")

    # Non-finite weights: no sound bound exists through a NaN weight.
    for tag, val in (("nan", np.nan), ("inf", np.inf), ("neg_inf", -np.inf)):
        w = W1.copy()
        w[0, 1] = val
        c.onnx(f"weight_{tag}", make_model(inits=[numpy_helper.from_array(w, "W1")] +
                                         base_inits()[1:]), "E2012")
    w = np.array([np.nan, 0], np.float64)
    c.onnx("weight_nan_double", make_model(inits=base_inits()[:3] + [
        numpy_helper.from_array(w, "B2")]), "E2012")
    c.onnx("weight_double_overflow", make_model(inits=base_inits()[:3] + [
        numpy_helper.from_array(np.array([1e300, 0], np.float64), "B2")]), "E2012",
        why="1e300 rounds to +inf in float32")
    c.onnx("constant_nan", make_model(nodes=[
        helper.make_node("Constant", [], ["k"], name="k", value_float=float("nan")),
        helper.make_node("Add", ["x", "k"], ["y"], name="add")], inits=[]), "E2012")

    # Untrusted names reach messages: escape control characters.
    evil = "\x1b[31mINJECTED\x1b[0m\nE9999: fake line\r\x07"
    c.onnx("name_escape_node", make_model(nodes=[
        helper.make_node("Softmax", ["x"], ["y"], name=evil)]), "E2002", plain=True)
    c.onnx("name_escape_input", make_model(nodes=[
        helper.make_node("Add", ["x", evil], ["y"], name="add")]), "E2005", plain=True)
    c.onnx("name_escape_optype", make_model(nodes=[
        helper.make_node(evil, ["x"], ["y"], name="n")]), "E2002", plain=True)
    c.onnx("name_nul_input", make_model(nodes=[
        helper.make_node("Add", ["x", "B1\0hidden"], ["y"], name="add")]), "E2005", plain=True)

    gen_external(c)
    gen_model_files(c)
    gen_big_models(c)


def _without_opset():
    m = make_model()
    del m.opset_import[:]
    return m


def gen_external(c):
    """External-data locations: missing, escaping, past the end, FIFOs, NULs."""
    w1 = W1.tobytes()

    def ext_model(location, offset=None, length=None):
        return make_model(inits=[external_tensor("W1", [2, 2], location, offset, length)] +
                          base_inits()[1:])

    def entry(name, model, expect, setup=None, known=None):
        folder = f"ext/{name}"
        rel = c.onnx(name, model, expect, folder=folder, known=known)
        d = os.path.dirname(c.path(rel))
        if setup:
            setup(d)
        return d

    def put(fname, data):
        return lambda d: open(os.path.join(d, fname), "wb").write(data)

    entry("ext_ok", ext_model("w.bin"), "answer", put("w.bin", w1))
    entry("ext_ok_offset", ext_model("w.bin", "8", "16"), "answer", put("w.bin", b"\0" * 8 + w1))
    entry("ext_missing", ext_model("absent.bin"), "E1001")
    entry("ext_dotdot", ext_model("../ext_ok/w.bin"), "E2001")
    entry("ext_absolute", ext_model(os.path.abspath(c.path("ext/w_abs.bin"))), "E2001",
          lambda d: open(c.path("ext/w_abs.bin"), "wb").write(w1))
    entry("ext_dev_zero", ext_model("/dev/zero"), "E2001")

    def symlink_escape(d):
        outside = c.path("outside/w.bin")
        open(outside, "wb").write(w1)
        os.symlink(os.path.relpath(outside, d), os.path.join(d, "w.bin"))
    entry("ext_symlink_escape", ext_model("w.bin"), "E2001", symlink_escape)

    def symlink_dir_escape(d):
        os.makedirs(c.path("outside2"), exist_ok=True)
        open(c.path("outside2/w.bin"), "wb").write(w1)
        os.symlink(os.path.relpath(c.path("outside2"), d), os.path.join(d, "sub"))
    entry("ext_symlink_dir_escape", ext_model("sub/w.bin"), "E2001", symlink_dir_escape)

    def symlink_inside(d):
        open(os.path.join(d, "real.bin"), "wb").write(w1)
        os.symlink("real.bin", os.path.join(d, "w.bin"))
    entry("ext_symlink_inside", ext_model("w.bin"), "answer", symlink_inside)
    entry("ext_symlink_dev_zero", ext_model("w.bin"), "E2001",
          lambda d: os.symlink("/dev/zero", os.path.join(d, "w.bin")))
    entry("ext_past_end", ext_model("w.bin", "8", "16"), "E2001", put("w.bin", w1))
    entry("ext_offset_past_end", ext_model("w.bin", "1000"), "E2001", put("w.bin", w1))
    entry("ext_offset_overflow", ext_model("w.bin", str(2 ** 63 - 8), "16"), "E2001",
          put("w.bin", w1))
    entry("ext_offset_too_big", ext_model("w.bin", "99999999999999999999999"), "E2001",
          put("w.bin", w1))
    entry("ext_offset_negative", ext_model("w.bin", "-8"), "E2001", put("w.bin", w1))
    entry("ext_length_mismatch", ext_model("w.bin", "0", "12"), "E2001", put("w.bin", w1))
    entry("ext_short_file", ext_model("w.bin"), "E2001", put("w.bin", w1[:12]))
    entry("ext_empty_file", ext_model("w.bin"), "E2001", put("w.bin", b""))
    entry("ext_offset_nul", ext_model("w.bin", "0\x008"), "E2001", put("w.bin", w1))
    entry("ext_location_nul", ext_model("w.bin\0../../../etc/passwd"), "E2001", put("w.bin", w1))
    entry("ext_location_nul_tail", ext_model("w.bin\0junk"), "E2001", put("w.bin", w1))
    entry("ext_location_empty", ext_model(""), "E2001")
    entry("ext_directory", ext_model("sub"), "E1001", lambda d: os.makedirs(os.path.join(d, "sub")))
    entry("ext_fifo", ext_model("w.bin"), "E1001", lambda d: os.mkfifo(os.path.join(d, "w.bin")))
    entry("ext_symlink_to_fifo", ext_model("w.bin"), "E1001",
          lambda d: (os.mkfifo(os.path.join(d, "fifo")), os.symlink("fifo", os.path.join(d, "w.bin"))))
    entry("ext_name_escape", ext_model("\x1b[2J\nINJECTED.bin"), "E1001")
    c.entries[-1]["plain"] = True

    def sparse(size):
        def f(d):
            with open(os.path.join(d, "w.bin"), "wb") as fh:
                fh.truncate(size - len(w1))
                fh.seek(size - len(w1))
                fh.write(w1)
        return f
    # Weights past the 2 GiB mark of a sparse 2.5 GiB file: offsets beyond int32.
    entry("ext_sparse_offset_2g5", ext_model("w.bin", str((5 << 29) - 16), "16"), "answer",
          sparse(5 << 29))


def gen_model_files(c):
    """The model path itself: /dev/zero, a FIFO, a directory, a huge sparse file."""
    def special(name, make, expect, known=None, why=""):
        rel = f"files/{name}/model.onnx"
        p = c.path(rel)
        make(p)
        c.add(name, "onnx", {"model": rel}, expect, known, why=why)

    special("model_dev_zero", lambda p: os.symlink("/dev/zero", p), "E1001")
    special("model_fifo", lambda p: os.mkfifo(p), "E1001")
    special("model_directory", lambda p: os.makedirs(p), "E1001")
    special("model_missing", lambda p: None, "E1001")

    def sparse(p):
        with open(p, "wb") as f:
            f.truncate(3 << 30)
    special("model_sparse_3g", sparse, "E2001")


def gen_big_models(c):
    """Models that are valid but large: answers, or known failures of later stages."""
    rng = np.random.default_rng(7)
    width = 100_000
    w_a = rng.standard_normal((width, 2)).astype(np.float32) * 0.01
    w_b = rng.standard_normal((2, width)).astype(np.float32) * 0.01
    m = make_model(nodes=[
        helper.make_node("Gemm", ["x", "Wa", "Ba"], ["h"], name="wide1", transB=1),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "Wb", "Bb"], ["y"], name="wide2", transB=1)],
        inits=[numpy_helper.from_array(w_a, "Wa"),
               numpy_helper.from_array(np.zeros(width, np.float32), "Ba"),
               numpy_helper.from_array(w_b, "Wb"),
               numpy_helper.from_array(np.zeros(2, np.float32), "Bb")])
    # Beyond the crown kernels' scratch budget: eval/ibp kernels, IBP bounds.
    c.onnx("wide_relu_100k", m, "answer")

    nodes, inits, prev = [], [], "x"
    depth = 200
    for i in range(depth):
        w = (np.eye(4, 2 if i == 0 else 4, dtype=np.float32) * 0.9)
        inits += [numpy_helper.from_array(w, f"W{i}"),
                  numpy_helper.from_array(np.zeros(4, np.float32), f"B{i}")]
        nodes += [helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [f"h{i}"], transB=1),
                  helper.make_node("Relu", [f"h{i}"], [f"r{i}"])]
        prev = f"r{i}"
    inits += [numpy_helper.from_array(np.eye(2, 4, dtype=np.float32), "Wout"),
              numpy_helper.from_array(np.zeros(2, np.float32), "Bout")]
    nodes.append(helper.make_node("Gemm", [prev, "Wout", "Bout"], ["y"], transB=1))
    # Compile time is linear in depth (codegen/ShareKernels.h, CrownLayout.h).
    c.onnx("chain_200_gemm_relu", make_model(nodes=nodes, inits=inits), "answer")


# --------------------------------------------------------------------------
# VNN-LIB inputs
# --------------------------------------------------------------------------

def gen_vnnlib(c):
    d, box = VNN_DECLS, VNN_BOX
    c.vnnlib("valid_base_prop", BASE_VNNLIB, {"verify": "answer:unsat", "bounds": "answer"})
    c.vnnlib("sat_prop", d + box + "(assert (>= Y_0 1.5))\n",
             {"verify": "answer:sat", "bounds": "answer"}, why="y0 = 2 at x = (1, 1)")
    # Syntax.
    c.vnnlib("unclosed_paren", d + box + "(assert (>= Y_0 3.0)\n", "E4001")
    c.vnnlib("extra_close", d + box + "(assert (>= Y_0 3.0)))\n", "E4001")
    c.vnnlib("vnnlib_empty_file", "", "E4004")
    c.vnnlib("only_comments", "; nothing\n; here\n", "E4004")
    c.vnnlib("binary_garbage", bytes(random.Random(1).randrange(256) for _ in range(2000)),
             "error")
    c.vnnlib("bare_atom", d + "hello\n", "E4001")
    c.vnnlib("empty_assert", d + box + "(assert)\n", "E4001")
    c.vnnlib("empty_list", d + box + "()\n", "E4001")
    c.vnnlib("unknown_operator", d + box + "(assert (foo Y_0 3.0))\n", "E4001")
    c.vnnlib("strict_less", d + box + "(assert (< Y_0 3.0))\n", "E4003")
    c.vnnlib("bad_number", d + box + "(assert (>= Y_0 3.0abc))\n", "E4001")
    c.vnnlib("hex_number", d + box + "(assert (>= Y_0 0x1p2))\n", "E4001")
    c.vnnlib("inf_number", d + box + "(assert (>= Y_0 inf))\n", "E4001")
    c.vnnlib("infinity_number", d + box + "(assert (>= Y_0 -infinity))\n", "E4001")
    c.vnnlib("nan_number", d + box + "(assert (>= Y_0 nan))\n", "E4001")
    c.vnnlib("nul_in_number", (d + box + "(assert (>= Y_0 3.0\0garbage))\n").encode(), "E4001")
    c.vnnlib("nul_in_name", (d.replace("Y_1 Real", "Y_1\0x Real") + box +
                             "(assert (>= Y_0 3.0))\n").encode(), "error")
    c.vnnlib("nul_byte_alone", (d + box + "\0(assert (>= Y_0 3.0))\n").encode(), "E4001")
    c.vnnlib("unsupported_command", d + box + "(push 1)\n", "E4003")
    c.vnnlib("bad_sort", d.replace("X_1 Real", "X_1 Int") + box, "E4003")
    c.vnnlib("declared_twice", d + "(declare-const X_0 Real)\n" + box, "E4001")
    c.vnnlib("bad_var_name", d + "(declare-const Z_0 Real)\n" + box, "E4003")
    c.vnnlib("var_index_huge", d + "(declare-const X_99999999999999999999 Real)\n" + box, "E4003")
    c.vnnlib("var_index_gap", d + "(declare-const X_1000000 Real)\n" + box, "E4004")
    # Variables.
    c.vnnlib("undeclared_var", d + box + "(assert (>= X_7 0.0))\n", "E4001")
    c.vnnlib("undeclared_output", d + box + "(assert (>= Y_9 0.0))\n", "E4001")
    c.vnnlib("unbounded_upper", d + box.replace("(assert (<= X_1 1.0))\n", "") +
             "(assert (>= Y_0 3.0))\n", "E4002")
    c.vnnlib("unbounded_all", d + "(assert (>= Y_0 3.0))\n", "E4002")
    c.vnnlib("no_outputs", d.replace("(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n", "")
             + box, "E4004")
    c.vnnlib("three_inputs", d + "(declare-const X_2 Real)\n" + box +
             "(assert (>= X_2 0.0))\n(assert (<= X_2 1.0))\n(assert (>= Y_0 3.0))\n", "E4004")
    c.vnnlib("mixed_constraint", d + box + "(assert (<= X_0 Y_0))\n", "E4003")
    c.vnnlib("nonlinear", d + box + "(assert (<= (* Y_0 Y_1) 1.0))\n", "E4003")
    c.vnnlib("two_var_input", d + box + "(assert (<= (+ X_0 X_1) 1.0))\n", "E4003")
    # Empty and contradictory boxes.
    c.vnnlib("box_inverted", d + "(assert (>= X_0 1.0))\n(assert (<= X_0 0.0))\n"
             "(assert (>= X_1 0.0))\n(assert (<= X_1 1.0))\n(assert (>= Y_0 3.0))\n", "E4005")
    c.vnnlib("box_inverted_in_or", d + "(assert (or (and (>= X_0 1.0) (<= X_0 0.0)"
             " (>= X_1 0.0) (<= X_1 1.0)) (and (>= X_0 2.0) (<= X_0 -2.0) (>= X_1 0.0)"
             " (<= X_1 1.0))))\n(assert (>= Y_0 3.0))\n", "E4005")
    c.vnnlib("box_one_empty_disjunct", d + "(assert (or (and (>= X_0 1.0) (<= X_0 0.0)"
             " (>= X_1 0.0) (<= X_1 1.0)) (and (>= X_0 0.0) (<= X_0 1.0) (>= X_1 0.0)"
             " (<= X_1 1.0))))\n(assert (>= Y_0 3.0))\n", {"verify": "answer:unsat",
                                                          "bounds": "answer"},
             why="one empty disjunct next to a non-empty one is a legal union")
    c.vnnlib("box_point", d + "(assert (>= X_0 0.5))\n(assert (<= X_0 0.5))\n"
             "(assert (>= X_1 0.5))\n(assert (<= X_1 0.5))\n(assert (>= Y_0 3.0))\n",
             {"verify": "answer:unsat", "bounds": "answer"})
    c.vnnlib("constant_false", d + box + "(assert (<= 1.0 0.0))\n(assert (>= Y_0 0.0))\n",
             "E4005")
    # Numbers.
    c.vnnlib("number_1e400", d + box + "(assert (>= Y_0 1e400))\n", "E4006")
    c.vnnlib("number_neg_1e400", d + "(assert (>= X_0 -1e400))\n(assert (<= X_0 1.0))\n"
             "(assert (>= X_1 0.0))\n(assert (<= X_1 1.0))\n(assert (>= Y_0 3.0))\n", "E4006")
    c.vnnlib("number_long_digits", d + box + "(assert (>= Y_0 1" + "0" * 400 + ".0))\n", "E4006")
    c.vnnlib("number_1e_minus400", d + box + "(assert (>= Y_0 1e-400))\n",
             {"verify": "answer:sat", "bounds": "answer"}, why="underflow to 0 is harmless")
    c.vnnlib("arith_overflow_inf", d + box + "(assert (>= Y_0 (* 1e200 1e200)))\n", "E4006")
    c.vnnlib("arith_nan", d + box + "(assert (>= Y_0 (- (* 1e200 1e200) (* 1e200 1e200))))\n",
             "E4006")
    c.vnnlib("arith_nan_coef", d + box + "(assert (>= (* (* 1e200 1e200) (- Y_0 Y_0)) 0.0))\n",
             "E4006")
    c.vnnlib("arith_inf_bound", d + "(assert (>= (* 1e-300 1e-300 X_0) 0.0))\n"
             "(assert (<= X_0 1.0))\n(assert (>= X_1 0.0))\n(assert (<= X_1 1.0))\n"
             "(assert (>= Y_0 3.0))\n", "error", why="coefficient 0 leaves X_0 unbounded below")
    c.vnnlib("arith_ok", d + box + "(assert (>= (+ Y_0 (* 2 Y_1) (- 1)) (* 0.5 4)))\n",
             {"verify": "answer:sat", "bounds": "answer"}, why="y0 + 2 y1 >= 3 at x = (1, 0)")
    # Nesting and size.
    for depth in (1000, 5000, 100_000):
        c.vnnlib(f"nest_and_{depth}", d + box + "(assert " + "(and " * depth + "(>= Y_0 3.0)"
                 + ")" * depth + ")\n", "E4007")
    c.vnnlib("nest_parens_unclosed", d + "(" * 200_000, "E4007")
    c.vnnlib("nest_arith_50000", d + box + "(assert (>= Y_0 " + "(+ 1 " * 50_000 + "0" +
             ")" * 50_000 + "))\n", "E4007")
    c.vnnlib("nest_and_100", d + box + "(assert " + "(and " * 100 + "(>= Y_0 3.0)" + ")" * 100
             + ")\n", {"verify": "answer:unsat", "bounds": "answer"})
    c.vnnlib("disjuncts_2p20", d + box + "(assert (or (>= Y_0 3.0) (>= Y_0 4.0)))\n" * 20,
             "E4007", why="the DNF of 20 two-way ors has 2^20 conjunctions")
    c.vnnlib("disjuncts_or_wide", d + box + "(assert (or " + "(>= Y_0 3.0) " * 300_000 + "))\n",
             "E4007")
    c.vnnlib("disjuncts_input_boxes", d + "(assert (or " + "".join(
        f"(and (>= X_0 {i / 1000}) (<= X_0 {(i + 1) / 1000}) (>= X_1 0.0) (<= X_1 1.0))"
        for i in range(1000)) + "))\n(assert (>= Y_0 3.0))\n",
             {"verify": "answer:unsat", "bounds": "answer"}, why="1,000 input boxes")
    big = d + "".join("(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n" for _ in range(150_000)) \
        + box + "(assert (>= Y_0 3.0))\n"
    c.vnnlib("huge_file_repeated_bounds", big, {"verify": "answer:unsat", "bounds": "answer"},
             why=f"{len(big) >> 20} MB of repeated bounds")
    c.vnnlib("huge_atom", d + box + "(assert (>= Y_0 " + "9" * 5_000_000 + "))\n", "E4006")
    c.vnnlib("huge_comment", d + box + ";" + "x" * 5_000_000 + "\n(assert (>= Y_0 3.0))\n",
             {"verify": "answer:unsat", "bounds": "answer"})

    # Special files as the property.
    def special(name, make, expect):
        rel = f"vnnlib/files/{name}.vnnlib"
        make(c.path(rel))
        c.add(name, "vnnlib", {"vnnlib": rel}, expect)

    def sparse(p):
        with open(p, "wb") as f:
            f.truncate(2 << 30)
    special("vnnlib_dev_zero", lambda p: os.symlink("/dev/zero", p), "E1001")
    special("vnnlib_fifo", lambda p: os.mkfifo(p), "E1001")
    special("vnnlib_directory", lambda p: os.makedirs(p), "E1001")
    special("vnnlib_sparse_2g", sparse, "E4007")


# --------------------------------------------------------------------------
# Textual IR inputs
# --------------------------------------------------------------------------

def gen_gir(c):
    g = BASE_GIR
    c.gir("valid_base_gir", g, "answer")
    c.gir("gir_empty", "", "E3001")
    c.gir("gir_truncated_half", g[: len(g) // 2], "error", why="cut inside an op name: E3002")
    c.gir("gir_truncated_end", g[:-2], "E3001")
    c.gir("gir_unknown_op", g.replace("relu %3", "frobnicate %3"), "E3002")
    c.gir("gir_undefined_value", g.replace("relu %3", "relu %9"), "E3003")
    c.gir("gir_redefined_value", g.replace("%4 = relu", "%3 = relu"), "E3005")
    c.gir("gir_huge_dim", g.replace("f32[1,2]) ->", "f32[1,99999999999999999999999]) ->"), "error")
    c.gir("gir_dim_2p62", g.replace("f32[1,2]) ->", f"f32[{2**62},{2**62}]) ->"), "error")
    c.gir("gir_negative_dim", g.replace("f32[1,2]) ->", "f32[1,-2]) ->"), "error")
    c.gir("gir_zero_dim", g.replace("f32[1,2]) ->", "f32[1,0]) ->"), "error")
    c.gir("gir_rank_10000", g.replace("f32[1,2]) ->", "f32[" + ",".join(["1"] * 10000) + "]) ->"),
          "error")
    c.gir("gir_dense_count", g.replace("dense<[1, 1, 1, -1]>", "dense<[1, 1, 1]>"), "error")
    # Textual IR is gamma's own format and round-trips inf and nan constants
    # on purpose (test/unit/ir/TextFormatTest.cpp); the ONNX frontend is where
    # non-finite weights are refused.
    c.gir("gir_dense_nan", g.replace("dense<[1, 1, 1, -1]>", "dense<[1, nan, 1, -1]>"), "answer")
    c.gir("gir_dense_1e400", g.replace("dense<[1, 1, 1, -1]>", "dense<[1, 1e400, 1, -1]>"),
          "answer", why="1e400 reads as inf, like the printed 'inf'")
    c.gir("gir_dense_huge", g.replace("dense<[1, 1, 1, -1]>", "dense<[" + ", ".join(
        ["1"] * 4) + "]>").replace(": f32[2,2]", f": f32[{2**40},{2**40}]"), "E3001",
          why="the element count overflows int64 (UBSan found it under build-asan)")
    c.gir("gir_input_type_overflow", g.replace("f32[1,2]) ->", f"f32[{2**32},{2**32},4]) ->"),
          "E3001")
    c.gir("gir_type_mismatch", g.replace("%4 = relu %3 : f32[1,2]", "%4 = relu %3 : f32[1,3]"),
          "error")
    c.gir("gir_nul_bytes", g.replace("relu", "re\0lu").encode(), "error")
    c.gir("gir_name_escape", g.replace("graph @base", "graph @\x1b[31mINJECTED\n"), "error")
    c.entries[-1]["plain"] = True
    c.gir("gir_binary_garbage", bytes(random.Random(2).randrange(256) for _ in range(3000)),
          "error")
    c.gir("gir_deep_parens", "graph @g(" + "(" * 100_000, "error")
    c.gir("gir_long_line", "graph @g(%x: f32[1]) -> (f32[1]) {\n  %0 = relu " + "%x, " * 200_000
          + "%x : f32[1]\n  return %0\n}\n", "error")
    rng = random.Random(424242)
    for i in range(40):
        data = bytearray(g.encode())
        for _ in range(1 if i < 30 else 4):
            pos = rng.randrange(len(data))
            data[pos] ^= 1 << rng.randrange(8)
        c.gir(f"gir_bitflip_{i:02d}", bytes(data), "any")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_corpus.py OUT_DIR")
    out = sys.argv[1]
    if os.path.isdir(out):
        # Regenerate from scratch: stale FIFOs and symlinks would confuse runs.
        import shutil
        shutil.rmtree(out)
    c = Corpus(out)
    gen_onnx(c)
    gen_vnnlib(c)
    gen_gir(c)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"entries": c.entries}, f, indent=1)
    print(f"gen_corpus: {len(c.entries)} inputs in {out}")


if __name__ == "__main__":
    main()
