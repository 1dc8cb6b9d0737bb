#!/usr/bin/env python3
"""Self-test of check_instance.py: it must accept true counterexamples and reject
tampered ones, evaluate ONNX as numpy does by hand, and judge verdicts right.

Every model here is generated with onnx.helper into a temporary folder; the
verdict tests run check_instance.py against a fake `gamma` (a script that
prints a given stdout and result file), so nothing needs ../shared or a build.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from decimal import Decimal
from fractions import Fraction

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_instance as ci  # noqa: E402
import check_table  # noqa: E402


def save_model(path, nodes, inputs, outputs, inits=(), opset=13, external=False):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    if external:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=0)
    else:
        onnx.save(m, path)
    return path


def f32(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def vin(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def cex(xs, ys):
    body = "\n ".join([f"(X_{i} {v})" for i, v in enumerate(xs)] +
                      [f"(Y_{j} {v})" for j, v in enumerate(ys)])
    return f"({body})\n"


class Tmp(unittest.TestCase):
    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.d = self._d.name

    def tearDown(self):
        self._d.cleanup()

    def write(self, name, text):
        p = os.path.join(self.d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(textwrap.dedent(text))
        return p

    def fake_shared(self):
        """A fake ../shared with one category `toy`: the linear model and p.vnnlib."""
        self.shared = os.path.join(self.d, "shared")
        cat = os.path.join(self.shared, "benchmarks", "vnncomp", "toy")
        os.makedirs(os.path.join(cat, "onnx"))
        self.linear_model(os.path.join(cat, "onnx", "lin.onnx"))
        self.write(os.path.join(cat, "vnnlib", "p.vnnlib"), Counterexamples.PROP)
        return cat

    def linear_model(self, name="lin.onnx", external=False):
        # y0 = 0.5 x0 + 0.25 x1, y1 = relu(x0 - x1): exact in binary.
        W = np.array([[0.5, 1.0], [0.25, -1.0]])
        nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
                 helper.make_node("Split", ["h", "sizes"], ["a", "b"], axis=1),
                 helper.make_node("Relu", ["b"], ["rb"]),
                 helper.make_node("Concat", ["a", "rb"], ["y"], axis=1)]
        inits = [f32("W", W), numpy_helper.from_array(np.array([1, 1], dtype=np.int64), "sizes")]
        return save_model(os.path.join(self.d, name), nodes, [vin("x", [1, 2])],
                          [vin("y", [1, 2])], inits, external=external)

    def check(self, model, prop, body, strict_input=False):
        return ci.check_counterexample(model, prop, body, log=lambda *a: None,
                                       strict_input=strict_input)


class LinearModelCase(Tmp):
    """The linear test model with the class's PROP written beside it."""

    def setUp(self):
        super().setUp()
        self.model = self.linear_model()
        self.prop = self.write("p.vnnlib", self.PROP)


class Counterexamples(LinearModelCase):
    PROP = """\
        ; unsafe: y0 >= 0.5 over [0, 1] x [0, 1]
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (assert (>= X_0 0))
        (assert (<= X_0 1))
        (assert (<= X_1 1.0))
        (assert (>= X_1 0.0))
        (assert (>= Y_0 0.5))
        """


    def test_exact_boundary_counterexample_is_accepted(self):
        # y0 = 0.5 exactly: the unsafe condition holds with zero slack.
        self.assertEqual(self.check(self.model, self.prop, cex(["1", "0"], ["0.5", "1"])), [])

    def test_output_just_outside_is_rejected(self):
        # x0 = 1 - 2^-40 gives y0 = 0.5 - 2^-41 (exact in float64), although the
        # printed Y_0 claims 0.5.
        x0 = repr(1 - 2.0 ** -40)
        f = self.check(self.model, self.prop, cex([x0, "0"], ["0.5", "1"]))
        self.assertEqual(len(f), 1, f)
        self.assertIn("satisfy no output conjunction", f[0])

    def test_input_just_outside_as_double_is_rejected(self):
        x0 = repr(1 + 2.0 ** -52)
        f = self.check(self.model, self.prop, cex([x0, "0"], [x0, x0]))
        self.assertTrue(any("in no input box" in m for m in f), f)

    def test_input_outside_as_printed_but_inside_as_double_is_rejected(self):
        # 1.00000000000000000001 rounds to the double 1.0, inside the box, but the
        # printed value is not: the box is checked on the decimal as written.
        f = self.check(self.model, self.prop, cex(["1.00000000000000000001", "0"], ["0.5", "1"]))
        self.assertEqual(len(f), 1, f)
        self.assertIn("as printed", f[0])

    def test_printed_inside_but_double_outside(self):
        # The box's bound 0.75 + 1e-17 is not a double; the printed x0 equals it
        # and denotes the double 0.75, below it: inside either way. With the
        # bound 0.75 - 1e-17, the printed x0 = 0.75 - 1e-17 is inside as
        # printed, and denotes the double 0.75, outside: a failure only with
        # strict_input. (y0 = 0.5 x0 + 0.25 x1 >= 0.5 holds at x1 = 1.)
        for bound, strict_fails in (("0.75000000000000001", False), ("0.74999999999999999", True)):
            prop = self.write("q.vnnlib", self.PROP.replace("(<= X_0 1)", f"(<= X_0 {bound})"))
            body = cex([bound, "1"], ["0.625", "0"])
            self.assertEqual(float(bound), 0.75)
            self.assertEqual(self.check(model=self.model, prop=prop, body=body), [])
            f = self.check(self.model, prop, body, strict_input=True)
            self.assertEqual(len(f), int(strict_fails), f)
            if strict_fails:
                self.assertIn("as float64", f[0])

    def test_printed_outputs_far_from_the_model_are_rejected(self):
        f = self.check(self.model, self.prop, cex(["1", "0"], ["0.5", "7"]))
        self.assertTrue(any("printed Y_1" in m for m in f), f)

    def test_malformed_results_raise(self):
        for body in [cex(["1"], ["0.5", "1"]),                  # X_1 missing
                     "((X_0 1) (X_0 1) (X_1 0) (Y_0 0.5) (Y_1 1))",  # X_0 twice
                     "((X_0 1) (X_1 0) (Y_0 0.5) (Y_1 1) (Y_2 0))",  # undeclared
                     "((X_0 nan) (X_1 0) (Y_0 0.5) (Y_1 1))",        # not a number
                     "((X_0 1) (X_1 0) (Y_0 0.5) (Y_1 1)"]:          # unbalanced
            with self.assertRaises(ci.CheckError, msg=body):
                self.check(self.model, self.prop, body)

    def test_external_data_model(self):
        model = self.linear_model("ext.onnx", external=True)
        self.assertTrue(os.path.exists(model + ".data"))
        self.assertEqual(self.check(model, self.prop, cex(["1", "0"], ["0.5", "1"])), [])
        f = self.check(model, self.prop, cex([repr(1 - 2.0 ** -40), "0"], ["0.5", "1"]))
        self.assertEqual(len(f), 1, f)


class Disjunctions(LinearModelCase):
    PROP = """\
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (assert (or (and (>= X_0 0) (<= X_0 0.25) (>= X_1 0) (<= X_1 1))
                    (and (>= X_0 0.75) (<= X_0 1) (>= X_1 0) (<= X_1 1))))
        (assert (or (and (>= Y_0 0.5))
                    (and (<= Y_1 0) (>= Y_0 0.1))))
        """


    def test_second_box_second_conjunction(self):
        # x = (0.75, 1): y0 = 0.625, y1 = relu(-0.25) = 0 -> both conjunctions hold.
        self.assertEqual(self.check(self.model, self.prop, cex(["0.75", "1"], ["0.625", "0"])), [])
        # x = (0.25, 0.5): first box; y0 = 0.25, y1 = 0: only the second conjunction.
        self.assertEqual(self.check(self.model, self.prop, cex(["0.25", "0.5"], ["0.25", "0"])), [])

    def test_between_the_boxes_is_rejected(self):
        f = self.check(self.model, self.prop, cex(["0.5", "1"], ["0.5", "0"]))
        self.assertTrue(any("in no input box" in m for m in f), f)

    def test_one_row_of_a_conjunction_failing_is_rejected(self):
        # x = (0.25, 0.25): y0 = 0.1875, y1 = 0: second conjunction holds.
        self.assertEqual(self.check(self.model, self.prop, cex(["0.25", "0.25"], ["0.1875", "0"])), [])
        # x = (0.125, 0): y0 = 0.0625 < 0.1, y1 = 0.125 > 0: no conjunction.
        f = self.check(self.model, self.prop, cex(["0.125", "0"], ["0.0625", "0.125"]))
        self.assertEqual(len(f), 1, f)
        self.assertIn("satisfy no output conjunction", f[0])


class MixedCases(Tmp):
    def test_box_and_conjunction_of_different_cases_is_rejected(self):
        model = self.linear_model()
        prop = self.write("p.vnnlib", """\
            (declare-const X_0 Real)
            (declare-const X_1 Real)
            (declare-const Y_0 Real)
            (declare-const Y_1 Real)
            (assert (or (and (>= X_0 0) (<= X_0 0.5) (>= X_1 0) (<= X_1 1) (>= Y_0 0.5))
                        (and (>= X_0 0.5) (<= X_0 1) (>= X_1 0) (<= X_1 1) (<= Y_0 0.25))))
            """)
        # x = (0.5, 1): y0 = 0.5, in both boxes; the first case holds.
        self.assertEqual(self.check(model, prop, cex(["0.5", "1"], ["0.5", "0"])), [])
        # x = (0.25, 0): y0 = 0.125 only satisfies the second case's output, x is in the first box.
        f = self.check(model, prop, cex(["0.25", "0"], ["0.125", "0.25"]))
        self.assertEqual(len(f), 1, f)
        self.assertIn("different cases", f[0])


class Float64NotFloat32(Tmp):
    def test_holds_in_f32_but_not_in_f64_is_rejected(self):
        # y = (x + c) - x with c = f32(1e-8): at x = 1 float32 gives 0, float64 gives c > 0.
        nodes = [helper.make_node("Add", ["x", "c"], ["t"]), helper.make_node("Sub", ["t", "x"], ["y"])]
        model = save_model(os.path.join(self.d, "m.onnx"), nodes, [vin("x", [1])], [vin("y", [1])],
                           [f32("c", [1e-8])])
        prop = self.write("p.vnnlib", """\
            (declare-const X_0 Real)
            (declare-const Y_0 Real)
            (assert (>= X_0 1))
            (assert (<= X_0 1))
            (assert (<= Y_0 0))
            """)
        ev = ci.OnnxEvaluator(model)
        self.assertEqual(ev.run([1.0], np.float32)[0], 0.0)
        self.assertGreater(ev.run([1.0], np.float64)[0], 0.0)
        f = self.check(model, prop, cex(["1"], ["0"]))
        self.assertEqual(len(f), 1, f)
        self.assertIn("satisfy no output conjunction", f[0])

    def test_sigmoid_tanh(self):
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Tanh", ["s"], ["y"])]
        model = save_model(os.path.join(self.d, "m.onnx"), nodes, [vin("x", [1, 3])],
                           [vin("y", [1, 3])])
        x = np.array([-1000.0, 0.0, 2.5])
        got = ci.OnnxEvaluator(model).run(x, np.float64)
        want = np.tanh(1 / (1 + np.exp(-np.array([-700.0, 0.0, 2.5]))))
        want[0] = 0.0  # sigmoid(-1000) underflows to 0 (no overflow warning, no NaN)
        np.testing.assert_array_equal(got, want)
        t = float(np.tanh(np.float64(0.5)))  # tanh(sigmoid(0)) in float64

        def prop(threshold):
            return self.write("p.vnnlib", f"""\
                (declare-const X_0 Real)
                (declare-const X_1 Real)
                (declare-const X_2 Real)
                (declare-const Y_0 Real)
                (declare-const Y_1 Real)
                (declare-const Y_2 Real)
                (assert (>= X_0 -1)) (assert (<= X_0 0))
                (assert (>= X_1 -1)) (assert (<= X_1 0))
                (assert (>= X_2 -1)) (assert (<= X_2 0))
                (assert (>= Y_0 {threshold}))
                """)

        ys = [repr(t)] * 3
        # The exact decimal of the double: holds with zero slack at x0 = 0 ...
        exact = prop(str(Decimal(t)))
        self.assertEqual(self.check(model, exact, cex(["0", "0", "0"], ys)), [])
        # ... and fails at x0 = -1e-6.
        self.assertEqual(len(self.check(model, exact, cex(["-1e-6", "0", "0"], ys))), 1)
        # The double's shortest repr is a decimal above it: no zero-tolerance pass.
        self.assertGreater(Fraction(repr(t)), Fraction(t))
        self.assertEqual(len(self.check(model, prop(repr(t)), cex(["0", "0", "0"], ys))), 1)


class Evaluator(Tmp):
    def test_many_ops_against_numpy(self):
        rng = np.random.default_rng(1)
        W = rng.standard_normal((6, 4))
        B = rng.standard_normal((3, 4))
        C = rng.standard_normal(3)
        i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
        nodes = [
            helper.make_node("Reshape", ["x", "shp"], ["r"]),                  # [1,2,3]
            helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),        # [1,3,2]
            helper.make_node("Flatten", ["t"], ["f"], axis=1),                  # [1,6]
            helper.make_node("Gemm", ["f", "W", "bias"], ["g"], alpha=0.5, beta=2.0),  # [1,4]
            helper.make_node("Constant", [], ["k"], value=f32("kv", [3.0])),
            helper.make_node("Div", ["g", "k"], ["dv"]),
            helper.make_node("Neg", ["dv"], ["n"]),
            helper.make_node("Mul", ["n", "n"], ["sq"]),
            helper.make_node("Gemm", ["B", "sq", "C3"], ["g2"], transB=1),      # [3,1]
            helper.make_node("Squeeze", ["g2", "ax1"], ["s"]),                  # [3]
            helper.make_node("Unsqueeze", ["s", "ax0"], ["u"]),                 # [1,3]
            helper.make_node("Shape", ["u"], ["sh"]),
            helper.make_node("Cast", ["sh"], ["shf"], to=TensorProto.FLOAT),
            helper.make_node("Gather", ["shf", "idx"], ["three"]),              # [1] = 3.0
            helper.make_node("Slice", ["u", "st", "en", "axs", "stp"], ["sl"]),  # [1,2] reversed
            helper.make_node("Concat", ["sl", "u", "three2"], ["cc"], axis=1),   # [1,6]
            helper.make_node("Dropout", ["cc"], ["dr"]),
            helper.make_node("Identity", ["dr"], ["id"]),
            helper.make_node("Tanh", ["id"], ["th"]),
            helper.make_node("Relu", ["th"], ["y0"]),
            helper.make_node("Sub", ["y0", "th"], ["y"]),
        ]
        inits = [i64("shp", [1, 2, 3]), f32("W", W), f32("bias", [0.1, -0.2, 0.3, 0.0]),
                 f32("B", B), f32("C3", C.reshape(3, 1)), i64("ax1", [1]), i64("ax0", [0]),
                 i64("idx", [1]), i64("st", [-1]), i64("en", [-100]), i64("axs", [1]),
                 i64("stp", [-2])]
        nodes.insert(15, helper.make_node("Unsqueeze", ["three", "ax0"], ["three2"]))
        model = save_model(os.path.join(self.d, "m.onnx"), nodes, [vin("x", [6])], [vin("y", [1, 6])],
                           inits)
        x = rng.standard_normal(6)
        got = ci.OnnxEvaluator(model).run(x, np.float64)

        # The same computation written directly in float64.
        Wd, Bd, Cd = (np.float32(a).astype(np.float64) for a in (W, B, C))
        bias = np.float32([0.1, -0.2, 0.3, 0.0]).astype(np.float64)
        f = x.reshape(1, 2, 3).transpose(0, 2, 1).reshape(1, 6)
        g = 0.5 * (f @ Wd) + 2.0 * bias
        sq = (-(g / 3.0)) ** 2
        u = (Bd @ sq.T + Cd.reshape(3, 1)).reshape(1, 3)
        sl = u[:, [2, 0]]
        cc = np.concatenate([sl, u, [[3.0]]], axis=1)
        th = np.tanh(cc)
        want = np.maximum(th, 0) - th
        np.testing.assert_allclose(got, want.reshape(-1), rtol=1e-12, atol=1e-15)

    def test_unsupported_op_is_a_clear_error(self):
        nodes = [helper.make_node("Softmax", ["x"], ["y"], name="sm")]
        model = save_model(os.path.join(self.d, "m.onnx"), nodes, [vin("x", [1, 2])], [vin("y", [1, 2])])
        with self.assertRaisesRegex(ci.CheckError, "Softmax is not supported"):
            ci.OnnxEvaluator(model)


class VnnLib(Tmp):
    def test_rejects_outside_the_subset(self):
        for body in ["(assert (< X_0 1))", "(assert (<= (+ X_0 X_0) 1))", "(assert (<= X_0 Y_0))",
                     "(assert (<= X_9 1))", "(define-fun f () Real 1)", "(assert (<= X_0 0x10))"]:
            p = self.write("p.vnnlib", "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n" + body)
            with self.assertRaises(ci.CheckError, msg=body):
                ci.parse_vnnlib(p)

    def test_exact_decimals(self):
        p = self.write("p.vnnlib", """\
            (declare-const X_0 Real)
            (declare-const Y_0 Real)
            (assert (<= X_0 0.1))
            (assert (>= X_0 -1e-3))
            (assert (>= Y_0 Y_0))
            """)
        prop = ci.parse_vnnlib(p)
        inside = lambda v: ci.holds(prop, {"X": [v], "Y": None}, only="X")
        self.assertTrue(inside(Fraction("0.1")))
        self.assertFalse(inside(Fraction(0.1)))  # the double 0.1 is above one tenth
        self.assertTrue(inside(Fraction("-0.001")))
        self.assertFalse(inside(Fraction("-0.0010000000000000000001")))


class Table(Tmp):
    """check_table.py against a fake ../shared with one two-instance category."""

    HEAD = "name,category,model,property,expected,tier,timeout\n"
    A = "a,toy,onnx/lin.onnx,vnnlib/p.vnnlib,sat,quick,5\n"
    B = "b,toy,onnx/lin.onnx,vnnlib/q.vnnlib,unsat,slow,10\n"

    def setUp(self):
        super().setUp()
        cat = self.fake_shared()
        self.write(os.path.join(cat, "vnnlib", "q.vnnlib"), Counterexamples.PROP)
        self.write(os.path.join(cat, "instances.csv"),
                   "onnx/lin.onnx,vnnlib/p.vnnlib,10\nonnx/lin.onnx,vnnlib/q.vnnlib,10\n")
        self.write(os.path.join(cat, "ground_truth.csv"),
                   "category,onnx,vnnlib,timeout,result\n"
                   "toy,onnx/lin.onnx,vnnlib/p.vnnlib,10,sat\n"
                   "toy,onnx/lin.onnx,vnnlib/q.vnnlib,10,unsat\n")

    def run_table(self, text, shared=None):
        import contextlib
        import io
        path = self.write("t.csv", text)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = check_table.main(["--table", path, "--shared", shared or self.shared,
                                   "--complete", "toy"])
        return rc, buf.getvalue()

    def test_good_table(self):
        rc, out = self.run_table(self.HEAD + self.A + self.B)
        self.assertEqual(rc, 0, out)
        rc, out = self.run_table(self.HEAD + self.A + self.B, shared=os.path.join(self.d, "no"))
        self.assertEqual(rc, check_table.SKIP, out)

    def test_bad_tables(self):
        for text in [
                self.HEAD + self.A.replace(",sat,", ",unsat,") + self.B,    # against ground truth
                self.HEAD + self.A,                                          # toy incomplete
                self.HEAD + self.A + self.B.replace(",10", ",9"),           # slow: not own timeout
                self.HEAD + self.A.replace(",5", ",11") + self.B,           # above own timeout
                self.HEAD + self.A.replace(",5", ",2.5") + self.B,          # not whole seconds
                self.HEAD + self.A + self.B.replace("b,", "a,"),            # duplicate name
                self.HEAD + self.A + self.A.replace("a,", "c,") + self.B,   # duplicate instance
                self.HEAD + self.A.replace("quick", "fast") + self.B,       # tier
                self.HEAD + self.A.replace(",sat,", ",maybe,") + self.B,    # expected
                self.HEAD + self.A.replace("onnx/lin", "../toy/onnx/lin") + self.B,  # escapes
                self.HEAD + self.A.replace("lin.onnx", "nope.onnx") + self.B,        # missing
                self.HEAD.replace("tier,", "") + self.A + self.B,           # header
                self.HEAD + "a,toy,onnx/lin.onnx\n" + self.B]:              # field count
            rc, out = self.run_table(text)
            self.assertEqual(rc, 1, f"{text}\n{out}")
            self.assertIn("FAIL", out)


FAKE_GAMMA = """\
import json, os, sys, time
spec = json.loads(os.environ["FAKE_SPEC"])
args = sys.argv[1:]
if spec.get("result") is not None:
    with open(args[args.index("--result") + 1], "w") as f:
        f.write(spec["result"])
time.sleep(spec.get("sleep", 0))
sys.stdout.write(spec.get("stdout", ""))
sys.exit(spec.get("rc", 0))
"""


class Verdicts(Tmp):
    """check_instance.main against a fake gamma and a fake ../shared."""

    def setUp(self):
        super().setUp()
        cat = self.fake_shared()
        self.write(os.path.join(cat, "ground_truth.csv"),
                   "category,onnx,vnnlib,timeout,result\n"
                   "toy,onnx/lin.onnx,vnnlib/p.vnnlib,10,sat\n")
        self.gamma = self.write("gamma", "#!" + sys.executable + "\n" + FAKE_GAMMA)
        os.chmod(self.gamma, 0o755)

    def run_check(self, expected, spec, shared=None, grace="5"):
        os.environ["FAKE_SPEC"] = json.dumps(spec)
        out = []
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = ci.main(["--gamma", self.gamma, "--shared", shared or self.shared,
                          "--category", "toy", "--model", "onnx/lin.onnx",
                          "--property", "vnnlib/p.vnnlib", "--expected", expected,
                          "--timeout", "1", "--grace", grace,
                          "--workdir", os.path.join(self.d, "work")])
        out.append(buf.getvalue())
        return rc, out[0]

    def spec(self, verdict, body="", **kw):
        s = {"stdout": json.dumps({"verdict": verdict}) + "\n", "result": verdict + "\n" + body}
        s.update(kw)
        return s

    GOOD = cex(["1", "0"], ["0.5", "1"])

    def test_correct_sat_passes(self):
        rc, out = self.run_check("sat", self.spec("sat", self.GOOD))
        self.assertEqual(rc, 0, out)

    def test_wrong_and_missing_answers_fail(self):
        for expected, spec in [
                ("sat", self.spec("unsat")),                       # wrong
                ("no-wrong", self.spec("unsat")),                  # wrong, by ground truth
                ("sat", self.spec("timeout")),                     # unsolved where required
                ("sat", self.spec("sat", cex([repr(1 - 2.0 ** -40), "0"], ["0.5", "1"]))),
                ("sat", self.spec("sat", self.GOOD, rc=3)),        # exit code
                ("sat", dict(self.spec("sat", self.GOOD), stdout="sat\n")),  # not JSON
                ("sat", dict(self.spec("sat", self.GOOD), result="unsat\n")),  # file disagrees
                ("sat", dict(self.spec("sat", self.GOOD), result=None)),      # no file
                ("no-wrong", dict(self.spec("timeout"), result="unknown\n")),  # file disagrees
                ("no-wrong", dict(self.spec("unknown"), result="unknown\nsat\n")),  # text after it
                ("sat", self.spec("sat", self.GOOD, sleep=3))]:    # past timeout + grace
            rc, out = self.run_check(expected, spec, grace="1")
            self.assertEqual(rc, 1, f"{expected} {spec}:\n{out}")
            self.assertIn("FAIL", out)

    def test_unsolved_is_fine_for_no_wrong_rows(self):
        for v in ("timeout", "unknown"):
            rc, out = self.run_check("no-wrong", self.spec(v))
            self.assertEqual(rc, 0, out)
        rc, out = self.run_check("no-wrong", self.spec("sat", self.GOOD))
        self.assertEqual(rc, 0, out)

    def test_table_disagreeing_with_ground_truth_fails(self):
        rc, out = self.run_check("unsat", self.spec("unsat"))
        self.assertEqual(rc, 1, out)
        self.assertIn("ground_truth.csv says sat", out)

    def test_absent_shared_skips(self):
        rc, out = self.run_check("sat", self.spec("sat", self.GOOD),
                                 shared=os.path.join(self.d, "nowhere"))
        self.assertEqual(rc, ci.SKIP, out)
        self.assertIn("absent", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
