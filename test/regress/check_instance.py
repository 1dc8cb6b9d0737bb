#!/usr/bin/env python3
"""One row of test/regress/instances.csv: run `gamma verify` and check its answer.

Checks, in order (any failure exits 1 with the reason):
  1. gamma exits 0 within the row's timeout plus a grace period;
  2. stdout is one JSON object whose verdict is in {sat, unsat, unknown, timeout};
  3. the verdict is the row's expected one; for `no-wrong` rows it is not the
     wrong one (the opposite of ground_truth.csv); unknown/timeout pass only there;
  4. the result file's first line is the verdict (and nothing follows unless sat);
  5. for sat, the counterexample in the result file, independently of gamma:
     - the VNN-LIB property is parsed here (the VNN-COMP subset);
     - x lies in an input box as written: exact rational comparison of the
       printed decimals with the VNN-LIB numbers (with --strict-input, of the
       doubles they denote too; without, a difference is reported);
     - the original ONNX graph is evaluated here in float64 (numpy, our own
       op implementations) and the property holds on (x, y) with zero
       tolerance (exact rational comparison of the float64 outputs);
     - the float32 evaluation and the deviations of gamma's printed outputs
       are reported (not required to satisfy the property).

Exits 77 (CTest's skip) when the shared benchmark directory is absent.

Also a library: test_checker.py imports parse_vnnlib, OnnxEvaluator and
check_counterexample.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
from fractions import Fraction

SKIP = 77
VERDICTS = ("sat", "unsat", "unknown", "timeout")


class CheckError(Exception):
    """A property, model or result file this checker cannot accept."""


# --------------------------------------------------------------------------
# S-expressions (VNN-LIB and the VNN-COMP counterexample format)
# --------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(;[^\n]*)|(\()|(\))|([^\s();]+))")


def parse_sexprs(text, where):
    """All top-level s-expressions of `text` as nested lists of strings."""
    stack = [[]]
    pos = 0
    line = 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise CheckError(f"{where}:{line}: unexpected character {text[pos]!r}")
        line += text.count("\n", pos, m.end())
        pos = m.end()
        if m.group(1):
            continue
        if m.group(2):
            stack.append([])
        elif m.group(3):
            if len(stack) == 1:
                raise CheckError(f"{where}:{line}: unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        elif m.group(4):
            stack[-1].append(m.group(4))
    if len(stack) != 1:
        raise CheckError(f"{where}: unbalanced '(' at end of file")
    return stack[0]


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_VAR = re.compile(r"^([XY])_(\d+)$")


def parse_number(tok, where):
    if not isinstance(tok, str) or not _NUMBER.match(tok):
        raise CheckError(f"{where}: not a decimal number: {tok!r}")
    return Fraction(tok)


# --------------------------------------------------------------------------
# VNN-LIB (the VNN-COMP subset)
# --------------------------------------------------------------------------


class Property:
    """Declared variables and the conjunction of all asserts.

    A formula is ('and', [f...]) | ('or', [f...]) | ('<=', a, b) where a and b
    are ('var', 'X', i) / ('var', 'Y', j) / ('num', Fraction); `>=` is stored
    as `<=` with the operands swapped.
    """

    def __init__(self, n_x, n_y, asserts):
        self.n_x = n_x
        self.n_y = n_y
        self.asserts = asserts


def _operand(tok, declared, where):
    if isinstance(tok, list):
        raise CheckError(f"{where}: arithmetic terms are outside the VNN-COMP subset: {tok!r}")
    m = _VAR.match(tok)
    if m:
        if tok not in declared:
            raise CheckError(f"{where}: variable {tok} is not declared")
        return ("var", m.group(1), int(m.group(2)))
    return ("num", parse_number(tok, where))


def _formula(e, declared, where):
    if not isinstance(e, list) or not e:
        raise CheckError(f"{where}: expected a formula, got {e!r}")
    head = e[0]
    if head in ("and", "or"):
        if len(e) < 2:
            raise CheckError(f"{where}: ({head}) needs at least one operand")
        return (head, [_formula(s, declared, where) for s in e[1:]])
    if head in ("<=", ">="):
        if len(e) != 3:
            raise CheckError(f"{where}: ({head} ...) needs exactly two operands")
        a = _operand(e[1], declared, where)
        b = _operand(e[2], declared, where)
        if a[0] == "num" and b[0] == "num":
            raise CheckError(f"{where}: a comparison of two numbers: {e!r}")
        if a[0] == "var" and b[0] == "var" and a[1] != b[1]:
            raise CheckError(f"{where}: a comparison mixing inputs and outputs: {e!r}")
        return ("<=", a, b) if head == "<=" else ("<=", b, a)
    raise CheckError(f"{where}: unsupported VNN-LIB operator {head!r} "
                     "(the checker accepts and, or, <=, >=)")


def parse_vnnlib(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    declared = {}
    asserts = []
    for e in parse_sexprs(text, path):
        if not isinstance(e, list) or not e:
            raise CheckError(f"{path}: unexpected top-level token {e!r}")
        if e[0] == "declare-const":
            if len(e) != 3 or e[2] != "Real" or not isinstance(e[1], str) or not _VAR.match(e[1]):
                raise CheckError(f"{path}: unsupported declaration {e!r}")
            if e[1] in declared:
                raise CheckError(f"{path}: {e[1]} declared twice")
            declared[e[1]] = True
        elif e[0] == "assert":
            if len(e) != 2:
                raise CheckError(f"{path}: (assert) takes one formula")
            asserts.append(_formula(e[1], declared, path))
        else:
            raise CheckError(f"{path}: unsupported command {e[0]!r}")
    counts = {}
    for kind in "XY":
        idx = sorted(int(_VAR.match(v).group(2)) for v in declared if v[0] == kind)
        if idx != list(range(len(idx))):
            raise CheckError(f"{path}: {kind} variables are not numbered 0..n-1")
        counts[kind] = len(idx)
    if counts["X"] == 0 or counts["Y"] == 0:
        raise CheckError(f"{path}: no X or no Y variables declared")
    return Property(counts["X"], counts["Y"], asserts)


def _value(t, env):
    if t[0] == "num":
        return t[1]
    return env[t[1]][t[2]]


def _mentions(f, kind):
    if f[0] in ("and", "or"):
        return any(_mentions(s, kind) for s in f[1])
    return any(t[0] == "var" and t[1] == kind for t in f[1:])


def evaluate(f, env, only=None):
    """Truth of formula f on env = {'X': [Fraction], 'Y': [Fraction]}.

    With only='X' ('Y'), atoms on outputs (inputs) count as true: the input
    (output) part alone."""
    if f[0] == "and":
        return all(evaluate(s, env, only) for s in f[1])
    if f[0] == "or":
        return any(evaluate(s, env, only) for s in f[1])
    if only is not None and _mentions(f, "Y" if only == "X" else "X"):
        return True
    return _value(f[1], env) <= _value(f[2], env)


def violated_input_atoms(prop, env):
    """Input atoms outside any `or` that env violates: (variable, value, bound, excess)."""
    out = []

    def walk(f):
        if f[0] == "and":
            for s in f[1]:
                walk(s)
        elif f[0] == "<=" and not _mentions(f, "Y"):
            a, b = _value(f[1], env), _value(f[2], env)
            if a > b:
                var = f[1] if f[1][0] == "var" else f[2]
                val, bound = (a, b) if f[1][0] == "var" else (b, a)
                out.append((f"{var[1]}_{var[2]}", val, bound, a - b))

    for a in prop.asserts:
        walk(a)
    return out


def pinned_inputs(prop):
    """Inputs that top-level atoms pin to one value (x >= b and x <= b): {name: b}."""
    lower, upper = {}, {}

    def walk(f):
        if f[0] == "and":
            for s in f[1]:
                walk(s)
        elif f[0] == "<=" and not _mentions(f, "Y"):
            a, b = f[1], f[2]
            if a[0] == "var" and b[0] == "num":
                upper[f"{a[1]}_{a[2]}"] = b[1]
            elif a[0] == "num" and b[0] == "var":
                lower[f"{b[1]}_{b[2]}"] = a[1]

    for a in prop.asserts:
        walk(a)
    return {v: b for v, b in upper.items() if lower.get(v) == b}


def holds(prop, env, only=None):
    return all(evaluate(a, env, only) for a in prop.asserts)


def min_slack(prop, env):
    """Smallest b - a over the output atoms that hold (a float, for the report)."""
    best = None

    def walk(f):
        nonlocal best
        if f[0] in ("and", "or"):
            for s in f[1]:
                walk(s)
        elif _mentions(f, "Y"):
            s = _value(f[2], env) - _value(f[1], env)
            if s >= 0 and (best is None or s < best):
                best = s

    for a in prop.asserts:
        walk(a)
    return None if best is None else float(best)


# --------------------------------------------------------------------------
# ONNX evaluation in numpy (float64 or float32), independent of gamma
# --------------------------------------------------------------------------


class OnnxEvaluator:
    """Evaluates an ONNX graph with numpy; floating tensors in one dtype."""

    def __init__(self, path):
        import numpy as np
        import onnx
        from onnx import numpy_helper
        self.np = np
        self.onnx = onnx
        self.path = path
        try:
            self.model = onnx.load(path, load_external_data=False)
        except Exception as e:  # protobuf errors have no common base class
            raise CheckError(f"{path}: cannot load the ONNX model: {e}")
        g = self.model.graph
        self.opset = 1
        for o in self.model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = o.version
        if len(g.sparse_initializer):
            raise CheckError(f"{path}: sparse initializers are not supported by the checker")
        base = os.path.dirname(os.path.abspath(path))
        self.inits = {}
        for t in g.initializer:
            self.inits[t.name] = numpy_helper.to_array(t, base_dir=base)
        inputs = [i for i in g.input if i.name not in self.inits]
        if len(inputs) != 1:
            raise CheckError(f"{path}: the checker needs exactly one graph input, found "
                             f"{[i.name for i in inputs]}")
        self.input = inputs[0]
        dims = self.input.type.tensor_type.shape.dim
        # Symbolic or zero dims (a batch) are 1, as in VNN-COMP.
        self.input_shape = tuple(d.dim_value if d.dim_value > 0 else 1 for d in dims)
        if len(g.output) < 1:
            raise CheckError(f"{path}: the graph has no output")
        self.output = g.output[0].name
        for n in g.node:
            if n.domain not in ("", "ai.onnx"):
                raise CheckError(f"{path}: node {n.name!r}: operator domain {n.domain!r} "
                                 "is not supported by the checker")
            if not hasattr(self, "_op_" + n.op_type):
                raise CheckError(f"{path}: node {n.name!r}: ONNX operator {n.op_type} is not "
                                 "supported by the checker's evaluator (check_instance.py)")

    # -- helpers --
    def _is_float(self, a):
        return self.np.issubdtype(a.dtype, self.np.floating)

    def _conv(self, a):
        a = self.np.asarray(a)
        return a.astype(self.dtype) if self._is_float(a) else a

    def _attrs(self, n):
        from onnx import helper
        out = {}
        for a in n.attribute:
            if a.type == self.onnx.AttributeProto.TENSOR:
                from onnx import numpy_helper
                out[a.name] = numpy_helper.to_array(a.t)
            else:
                out[a.name] = helper.get_attribute_value(a)
        return out

    def run(self, x, dtype):
        """Output of the graph (flattened) for the flat input vector x."""
        np = self.np
        self.dtype = np.dtype(dtype)
        x = np.asarray(x, dtype=self.dtype)
        size = int(np.prod(self.input_shape)) if self.input_shape else 1
        if x.size != size:
            raise CheckError(f"{self.path}: the property has {x.size} inputs, the model's input "
                             f"{self.input.name!r} has shape {self.input_shape}")
        env = {k: self._conv(v) for k, v in self.inits.items()}
        env[self.input.name] = x.reshape(self.input_shape)
        env[""] = None
        with np.errstate(over="ignore", under="ignore"):
            for n in self.model.graph.node:
                ins = []
                for name in n.input:
                    if name not in env:
                        raise CheckError(f"{self.path}: node {n.name!r} ({n.op_type}) reads "
                                         f"{name!r} before it is defined")
                    ins.append(env[name])
                outs = getattr(self, "_op_" + n.op_type)(ins, self._attrs(n), len(n.output))
                if not isinstance(outs, (list, tuple)):
                    outs = [outs]
                for name, v in zip(n.output, outs):
                    v = np.asarray(v)
                    if self._is_float(v) and v.dtype != self.dtype:
                        raise CheckError(f"internal: {n.op_type} node {n.name!r} produced "
                                         f"{v.dtype}, expected {self.dtype}")
                    env[name] = v
        if self.output not in env:
            raise CheckError(f"{self.path}: the graph output {self.output!r} is never computed")
        return np.asarray(env[self.output]).reshape(-1)

    # -- operators (ONNX semantics, opsets 7-18 where they differ) --
    def _op_Identity(self, i, a, n):
        return i[0]

    def _op_Dropout(self, i, a, n):  # inference: identity, mask all true
        return [i[0], self.np.ones(i[0].shape, dtype=bool)][:n]

    def _op_Constant(self, i, a, n):
        np = self.np
        if "value" in a:
            return self._conv(a["value"])
        if "value_float" in a:
            return np.array(a["value_float"], dtype=self.dtype)
        if "value_floats" in a:
            return np.array(a["value_floats"], dtype=self.dtype)
        if "value_int" in a:
            return np.array(a["value_int"], dtype=np.int64)
        if "value_ints" in a:
            return np.array(a["value_ints"], dtype=np.int64)
        raise CheckError(f"Constant with attributes {sorted(a)} is not supported")

    def _op_Add(self, i, a, n):
        return i[0] + i[1]

    def _op_Sub(self, i, a, n):
        return i[0] - i[1]

    def _op_Mul(self, i, a, n):
        return i[0] * i[1]

    def _op_Div(self, i, a, n):
        if self._is_float(i[0]):
            return i[0] / i[1]
        return self.np.trunc(i[0] / i[1]).astype(i[0].dtype)

    def _op_Neg(self, i, a, n):
        return -i[0]

    def _op_Relu(self, i, a, n):
        return self.np.maximum(i[0], self.np.zeros((), dtype=i[0].dtype))

    def _op_LeakyRelu(self, i, a, n):
        x = i[0]
        alpha = self.np.float32(a.get("alpha", 0.01)).astype(x.dtype)
        return self.np.where(x < 0, alpha * x, x)

    def _op_Sigmoid(self, i, a, n):
        np = self.np
        x = i[0]
        one = np.ones((), dtype=x.dtype)
        e = np.exp(-np.abs(x))  # in (0, 1]: no overflow
        return np.where(x >= 0, one / (one + e), e / (one + e))

    def _op_Tanh(self, i, a, n):
        return self.np.tanh(i[0])

    def _op_MatMul(self, i, a, n):
        return self.np.matmul(i[0], i[1])

    def _op_Gemm(self, i, a, n):
        A = i[0].T if a.get("transA", 0) else i[0]
        B = i[1].T if a.get("transB", 0) else i[1]
        alpha = a.get("alpha", 1.0)
        beta = a.get("beta", 1.0)
        y = self.np.matmul(A, B)
        if alpha != 1.0:
            y = y * self.dtype.type(alpha)
        if len(i) > 2 and i[2] is not None:
            c = i[2] if beta == 1.0 else i[2] * self.dtype.type(beta)
            y = y + c
        return y

    def _op_Conv(self, i, a, n):
        """ONNX Conv (1-D to 3-D): zero padding (explicit pads or auto_pad),
        strides, dilations, groups; one strided slice per kernel offset."""
        np = self.np
        x, w = i[0], i[1]
        bias = i[2] if len(i) > 2 and i[2] is not None else None
        k = x.ndim - 2
        ks = list(w.shape[2:])
        strides = list(a.get("strides", [1] * k))
        dil = list(a.get("dilations", [1] * k))
        group = int(a.get("group", 1))
        auto = a.get("auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            pads = list(a.get("pads", [0] * (2 * k)))
        elif auto == "VALID":
            pads = [0] * (2 * k)
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0] * (2 * k)
            for d in range(k):
                size = x.shape[2 + d]
                out = -(-size // strides[d])
                total = max(0, (out - 1) * strides[d] + (ks[d] - 1) * dil[d] + 1 - size)
                small, big = total // 2, total - total // 2
                pads[d], pads[k + d] = (small, big) if auto == "SAME_UPPER" else (big, small)
        else:
            raise CheckError(f"Conv auto_pad {auto!r} is not supported")
        xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[d], pads[k + d]) for d in range(k)])
        outs = [(xp.shape[2 + d] - dil[d] * (ks[d] - 1) - 1) // strides[d] + 1 for d in range(k)]
        N, C, M = x.shape[0], x.shape[1], w.shape[0]
        cg, mg = C // group, M // group
        y = np.zeros((N, M, *outs), dtype=x.dtype)
        for g in range(group):
            xs = xp[:, g * cg:(g + 1) * cg]
            wg = w[g * mg:(g + 1) * mg]
            for off in np.ndindex(*ks):
                sl = tuple(slice(off[d] * dil[d], off[d] * dil[d] + strides[d] * (outs[d] - 1) + 1,
                                 strides[d]) for d in range(k))
                patch = xs[(slice(None), slice(None)) + sl]
                y[:, g * mg:(g + 1) * mg] += np.einsum("nc...,mc->nm...", patch,
                                                       wg[(slice(None), slice(None)) + off])
        if bias is not None:
            y = y + bias.reshape((1, M) + (1,) * k)
        return y

    def _op_Flatten(self, i, a, n):
        x = i[0]
        axis = a.get("axis", 1)
        if axis < 0:
            axis += x.ndim
        lead = int(self.np.prod(x.shape[:axis])) if axis > 0 else 1
        return x.reshape(lead, -1)

    def _op_Reshape(self, i, a, n):
        x = i[0]
        if "shape" in a:  # opset < 5
            shape = list(a["shape"])
        else:
            shape = [int(s) for s in i[1].reshape(-1)]
        if not a.get("allowzero", 0):
            shape = [x.shape[k] if s == 0 else s for k, s in enumerate(shape)]
        return x.reshape(shape)

    def _axes(self, i, a, pos):
        if "axes" in a:
            return [int(v) for v in a["axes"]]
        if len(i) > pos and i[pos] is not None:
            return [int(v) for v in i[pos].reshape(-1)]
        return None

    def _op_Squeeze(self, i, a, n):
        x = i[0]
        axes = self._axes(i, a, 1)
        if axes is None:
            return self.np.squeeze(x)
        return self.np.squeeze(x, axis=tuple(ax % x.ndim for ax in axes))

    def _op_Unsqueeze(self, i, a, n):
        x = i[0]
        axes = self._axes(i, a, 1)
        rank = x.ndim + len(axes)
        for ax in sorted(ax % rank for ax in axes):
            x = self.np.expand_dims(x, ax)
        return x

    def _op_Transpose(self, i, a, n):
        perm = a.get("perm")
        return self.np.transpose(i[0], perm if perm else None)

    def _op_Shape(self, i, a, n):
        s = list(i[0].shape)
        start = a.get("start", 0)
        end = a.get("end", len(s))
        return self.np.array(s[start:end], dtype=self.np.int64)

    def _op_Gather(self, i, a, n):
        x, idx = i[0], i[1].astype(self.np.int64)
        axis = a.get("axis", 0) % x.ndim
        idx = self.np.where(idx < 0, idx + x.shape[axis], idx)
        return self.np.take(x, idx, axis=axis)

    def _op_Concat(self, i, a, n):
        return self.np.concatenate(i, axis=a["axis"])

    def _op_Cast(self, i, a, n):
        np = self.np
        T = self.onnx.TensorProto
        to = a["to"]
        if to in (T.FLOAT, T.DOUBLE, T.FLOAT16):
            return i[0].astype(self.dtype)
        table = {T.INT64: np.int64, T.INT32: np.int32, T.INT16: np.int16, T.INT8: np.int8,
                 T.UINT8: np.uint8, T.BOOL: bool}
        if to not in table:
            raise CheckError(f"Cast to ONNX type {to} is not supported")
        return i[0].astype(table[to])

    def _op_Slice(self, i, a, n):
        x = i[0]
        if "starts" in a:  # opset < 10
            starts, ends = list(a["starts"]), list(a["ends"])
            axes = list(a.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts = [int(v) for v in i[1].reshape(-1)]
            ends = [int(v) for v in i[2].reshape(-1)]
            axes = [int(v) for v in i[3].reshape(-1)] if len(i) > 3 and i[3] is not None \
                else list(range(len(starts)))
            steps = [int(v) for v in i[4].reshape(-1)] if len(i) > 4 and i[4] is not None \
                else [1] * len(starts)
        sl = [slice(None)] * x.ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            ax %= x.ndim
            dim = x.shape[ax]
            if st == 0:
                raise CheckError("Slice with step 0")
            s = s + dim if s < 0 else s
            e = e + dim if e < 0 else e
            if st > 0:
                s, e = min(max(s, 0), dim), min(max(e, 0), dim)
                sl[ax] = slice(s, e, st)
            else:
                s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
                sl[ax] = slice(s, None if e < 0 else e, st)
        return x[tuple(sl)]

    def _op_Split(self, i, a, n):
        np = self.np
        x = i[0]
        axis = a.get("axis", 0) % x.ndim
        if "split" in a:
            sizes = list(a["split"])
        elif len(i) > 1 and i[1] is not None:
            sizes = [int(v) for v in i[1].reshape(-1)]
        else:
            k = a.get("num_outputs", n)
            chunk = -(-x.shape[axis] // k)
            sizes = [min(chunk, x.shape[axis] - j * chunk) for j in range(k)]
        if sum(sizes) != x.shape[axis]:
            raise CheckError(f"Split sizes {sizes} do not add up to {x.shape[axis]}")
        return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


# --------------------------------------------------------------------------
# The counterexample
# --------------------------------------------------------------------------


def parse_counterexample(text, prop, where):
    """Printed X and Y values of a VNN-COMP result body: {'X': [str], 'Y': [str]}."""
    exprs = parse_sexprs(text, where)
    if len(exprs) != 1 or not isinstance(exprs[0], list):
        raise CheckError(f"{where}: expected one list ((X_0 v) ... (Y_0 v) ...) after 'sat'")
    vals = {"X": [None] * prop.n_x, "Y": [None] * prop.n_y}
    for pair in exprs[0]:
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise CheckError(f"{where}: malformed entry {pair!r}")
        m = _VAR.match(pair[0])
        if not m:
            raise CheckError(f"{where}: unknown variable {pair[0]!r}")
        kind, k = m.group(1), int(m.group(2))
        if k >= len(vals[kind]):
            raise CheckError(f"{where}: {pair[0]} is not declared by the property")
        if vals[kind][k] is not None:
            raise CheckError(f"{where}: {pair[0]} given twice")
        parse_number(pair[1], f"{where}: {pair[0]}")
        vals[kind][k] = pair[1]
    for kind in "XY":
        missing = [f"{kind}_{k}" for k, v in enumerate(vals[kind]) if v is None]
        if missing:
            raise CheckError(f"{where}: no value for {', '.join(missing[:5])}"
                             + (" ..." if len(missing) > 5 else ""))
    return vals


def check_counterexample(model_path, prop_path, body, log=print, strict_input=False):
    """Validates a sat result body; returns a list of failure messages (empty: valid).

    x must lie in an input box as printed (exact decimals). The doubles the
    printed decimals denote, where the model is evaluated, may differ from
    them by half an ulp and so cross a bound that is not a double (a VNN-LIB
    bound written as the 17-digit decimal of an f32 is slightly below or
    above that f32): reported, and a failure only with strict_input."""
    import numpy as np
    prop = parse_vnnlib(prop_path)
    vals = parse_counterexample(body, prop, "result file")
    failures = []
    x_dec = [Fraction(s) for s in vals["X"]]
    x64 = np.array([float(s) for s in vals["X"]], dtype=np.float64)
    x_dbl = [Fraction(float(v)) for v in x64]
    y_printed = np.array([float(s) for s in vals["Y"]], dtype=np.float64)

    # The input, both as printed and as the doubles it denotes.
    for label, xs in (("as printed", x_dec), ("as float64", x_dbl)):
        env = {"X": xs, "Y": None}
        if not holds(prop, env, only="X"):
            bad = violated_input_atoms(prop, env)
            detail = "".join(f"; {v} = {float(val)!r} is outside its bound {b} "
                             f"(exactly {bound}) by {float(d):.3g}"
                             for v, val, bound, d in bad[:3]
                             for b in [float(bound)])
            more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
            msg = f"x {label} lies in no input box of the property{detail}{more}"
            if label == "as float64" and strict_input:
                # gamma's contract (docs/soundness.md): where the box pins an
                # input to a decimal that is not an f32, the nearest f32 may
                # lie outside it by less than half a double ulp; everywhere
                # else the point must be inside.
                pinned = pinned_inputs(prop)
                fixed, ok = list(xs), True
                for v, val, bound, d in bad:
                    i = int(v.split("_")[1])
                    if v in pinned and abs(val - pinned[v]) <= abs(pinned[v]) * Fraction(1, 2**53):
                        fixed[i] = pinned[v]
                    else:
                        ok = False
                if ok and holds(prop, {"X": fixed, "Y": None}, only="X"):
                    log(f"note: x as float64 is outside the box only on inputs the box pins to a "
                        f"decimal that is not an f32, by less than half a double ulp ({len(bad)})")
                    continue
            if label == "as printed" or strict_input:
                failures.append(msg)
            else:
                log(f"note: {msg} (a failure with --strict-input)")

    ev = OnnxEvaluator(model_path)
    y64 = ev.run(x64, np.float64)
    if y64.size != prop.n_y:
        raise CheckError(f"{model_path}: the model has {y64.size} outputs, the property {prop.n_y}")
    if not np.all(np.isfinite(y64)):
        failures.append(f"float64 evaluation gives non-finite outputs {y64.tolist()}")
    else:
        env = {"X": x_dbl if strict_input else x_dec, "Y": [Fraction(float(v)) for v in y64]}
        if not holds(prop, env, only="Y"):
            failures.append("the float64 outputs of the original ONNX graph satisfy no output "
                            f"conjunction: y64 = {[repr(float(v)) for v in y64]}")
        elif holds(prop, env, only="X") and not holds(prop, env):
            failures.append("x's input box and the output conjunction that y64 satisfies "
                            "belong to different cases of the property")
        elif holds(prop, env):
            log(f"float64: property holds with zero tolerance; smallest slack "
                f"{min_slack(prop, env):.3e}")

    # Reported, not required: the float32 evaluation (inputs rounded to f32).
    x32 = x64.astype(np.float32)
    if not np.array_equal(x32.astype(np.float64), x64):
        log(f"note: x is not exactly representable in float32 "
            f"(max |x - f32(x)| = {np.max(np.abs(x32 - x64)):.3e})")
    y32 = ev.run(x32, np.float32).astype(np.float64)
    env32 = {"X": [Fraction(float(v)) for v in x32], "Y": [Fraction(float(v)) for v in y32]}
    ok32 = np.all(np.isfinite(y32)) and holds(prop, env32)
    log(f"float32: property {'holds' if ok32 else 'DOES NOT hold'}; "
        f"max |y32 - y64| = {np.max(np.abs(y32 - y64)):.3e}")
    dev = np.abs(y_printed - y64)
    log(f"gamma's printed y: max |y_printed - y64| = {np.max(dev):.3e}, "
        f"max |y_printed - y32| = {np.max(np.abs(y_printed - y32)):.3e}")
    # The printed outputs must be the model's outputs at x (f32 or f64, up to f32 rounding
    # of the evaluation): a loose sanity bound, the zero-tolerance check is the one above.
    scale = np.maximum(1.0, np.abs(y64))
    if np.any(dev > 1e-3 * scale):
        k = int(np.argmax(dev / scale))
        failures.append(f"gamma's printed Y_{k} = {vals['Y'][k]} is not the model's output "
                        f"at x (float64: {float(y64[k])!r})")
    return failures


# --------------------------------------------------------------------------
# Ground truth and the run
# --------------------------------------------------------------------------


def ground_truth(category_dir, model, prop):
    path = os.path.join(category_dir, "ground_truth.csv")
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["onnx"] == model and r["vnnlib"] == prop:
                return r["result"]
    raise CheckError(f"{path}: no row for {model}, {prop}")


def run(args):
    cat_dir = os.path.join(args.shared, "benchmarks", "vnncomp", args.category)
    if not os.path.isdir(args.shared):
        print(f"SKIP: the shared benchmark directory {args.shared} is absent")
        return SKIP
    if not os.path.isdir(cat_dir):
        raise CheckError(f"{cat_dir} is absent although {args.shared} exists")
    model = os.path.join(cat_dir, args.model)
    prop = os.path.join(cat_dir, args.property)
    truth = ground_truth(cat_dir, args.model, args.property)
    if args.expected in ("sat", "unsat") and truth != args.expected:
        raise CheckError(f"the table expects {args.expected}, ground_truth.csv says {truth}")
    wrong = {"sat": "unsat", "unsat": "sat"}.get(truth)

    os.makedirs(args.workdir, exist_ok=True)
    result = os.path.join(args.workdir, "result.txt")
    if os.path.lexists(result):
        os.remove(result)
    env = dict(os.environ)
    env.setdefault("GAMMA_CACHE_DIR", os.path.join(args.workdir, "cache"))
    cmd = [args.gamma, "verify", model, prop, "--timeout", f"{args.timeout:g}",
           "--json", "--result", result] + args.gamma_arg
    print("run:", " ".join(cmd), f"(GAMMA_CACHE_DIR={env['GAMMA_CACHE_DIR']})")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=args.timeout + args.grace)
    except subprocess.TimeoutExpired:
        print(f"FAIL: gamma did not end within {args.timeout:g} + {args.grace:g} s")
        return 1
    except OSError as e:
        print(f"FAIL: cannot run {args.gamma}: {e}")
        return 1
    if p.stderr:
        print("gamma stderr:\n" + p.stderr.rstrip())
    print("gamma stdout: " + p.stdout.rstrip())
    if p.returncode != 0:
        print(f"FAIL: gamma exited with {p.returncode}")
        return 1
    try:
        j = json.loads(p.stdout)
        verdict = j["verdict"]
    except (ValueError, KeyError, TypeError) as e:
        print(f"FAIL: stdout is not a JSON object with a verdict ({e})")
        return 1
    if verdict not in VERDICTS:
        print(f"FAIL: unknown verdict {verdict!r}")
        return 1
    print(f"verdict {verdict}; expected {args.expected}; ground truth {truth}; "
          f"gamma time_s {j.get('time_s')}")
    failures = []
    if args.expected in ("sat", "unsat"):
        if verdict != args.expected:
            failures.append(f"verdict {verdict}, expected {args.expected}"
                            + (" (a WRONG answer)" if verdict == wrong else ""))
    elif verdict == wrong:
        failures.append(f"verdict {verdict} is WRONG (ground truth {truth})")
    try:
        with open(result, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        failures.append(f"cannot read the result file: {e}")
        text = None
    if text is not None:
        first, _, body = text.partition("\n")
        if first != verdict:
            failures.append(f"result file's first line {first!r} is not the verdict {verdict!r}")
        elif verdict != "sat":
            if body.strip():
                failures.append(f"result file has text after {verdict!r}: {body[:200]!r}")
        else:
            failures += check_counterexample(model, prop, body, strict_input=args.strict_input)
            cex = j.get("counterexample") or {}
            vals = parse_counterexample(body, parse_vnnlib(prop), "result file")
            # The result file holds the reference point: x_f64 when the JSON
            # has it (inputs the box pins to a decimal that is not an f32
            # keep that decimal), else x.
            key = "x_f64" if "x_f64" in cex else "x"
            if key in cex and [float(v) for v in cex[key]] != [float(s) for s in vals["X"]]:
                failures.append(f"the JSON counterexample's {key} differs from the result file's")
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("PASS")
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gamma", required=True, help="the gamma binary")
    ap.add_argument("--shared", required=True, help="the ../shared directory")
    ap.add_argument("--category", required=True)
    ap.add_argument("--model", required=True, help="relative to the category's folder")
    ap.add_argument("--property", required=True, help="relative to the category's folder")
    ap.add_argument("--expected", required=True, choices=("sat", "unsat", "no-wrong"))
    ap.add_argument("--timeout", required=True, type=float)
    ap.add_argument("--workdir", required=True, help="result file (and default cache) here")
    ap.add_argument("--grace", type=float, default=30.0,
                    help="seconds past --timeout before gamma counts as hung")
    ap.add_argument("--strict-input", action=argparse.BooleanOptionalAction, default=True,
                    help="also require the doubles of the printed x (the point gamma evaluated) "
                         "to lie in an input box (default: on)")
    ap.add_argument("--gamma-arg", action="append", default=[],
                    help="extra argument for gamma verify (repeatable)")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except CheckError as e:
        print(f"FAIL: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
