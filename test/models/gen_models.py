#!/usr/bin/python3
"""Generates the small ONNX models gamma's frontend tests read.

Run with Debian's interpreter (python3-onnx 1.12, numpy; python3-torch is
optional):

    /usr/bin/python3 test/models/gen_models.py

The models are written next to this script. Everything is deterministic (fixed
seeds), so re-running it reproduces the committed files byte for byte with the
same library versions. README.md in this folder describes each model.

For every valid model, `<name>.ref.json` holds reference data computed here in
float64 numpy, independently of gamma:

    {"input_shape": [...], "output_shape": [...],
     "inputs": [[...flattened sample...], ...], "outputs": [[...], ...],
     "box": {"lo": [...], "hi": [...]}}

Downstream tests run gamma on `inputs` and compare with `outputs`, and sample
inside `box` (a small box around the first input).
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
NUM_SAMPLES = 8
BOX_RADIUS = 0.05


# --- helpers -----------------------------------------------------------------

def f32(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits, opset, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = helper.make_model(graph, producer_name="gamma gen_models.py",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7  # Readable by onnx 1.12 and every later release.
    return m


def tensor_info(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(m, name, check=True):
    if check:
        onnx.checker.check_model(m)
    path = os.path.join(HERE, name + ".onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")
    return m


def write_ref(name, input_shape, forward, seed):
    """Reference samples for `forward`, a float64 numpy function of one input."""
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(input_shape) for _ in range(NUM_SAMPLES)]
    ys = [forward(x.astype(np.float32).astype(np.float64)) for x in xs]
    x0 = xs[0].astype(np.float32).astype(np.float64).reshape(-1)
    ref = {
        "input_shape": list(input_shape),
        "output_shape": list(ys[0].shape),
        "inputs": [x.astype(np.float32).astype(np.float64).reshape(-1).tolist() for x in xs],
        "outputs": [y.reshape(-1).tolist() for y in ys],
        "box": {"lo": (x0 - BOX_RADIUS).tolist(), "hi": (x0 + BOX_RADIUS).tolist()},
    }
    with open(os.path.join(HERE, name + ".ref.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def d(a):
    """float32 weights as float64, for the reference forward passes."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def relu(x):
    return np.maximum(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- valid models -------------------------------------------------------------

def mlp_gemm():
    """Flatten -> Gemm(transB=1) -> Relu -> Gemm -> Relu -> Gemm, like mnist_fc.

    Input [1,1,4,4], output [1,3]; opset 13.
    """
    rng = np.random.default_rng(1)
    w1, b1 = f32(rng, 8, 16), f32(rng, 8)
    w2, b2 = f32(rng, 8, 8), f32(rng, 8)
    w3, b3 = f32(rng, 3, 8), f32(rng, 3)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "fc2.weight", "fc2.bias"], ["h2"], name="fc2", transB=1),
        helper.make_node("Relu", ["h2"], ["r2"], name="relu2"),
        helper.make_node("Gemm", ["r2", "fc3.weight", "fc3.bias"], ["output"], name="fc3",
                         transB=1),
    ]
    inits = [init("fc1.weight", w1), init("fc1.bias", b1), init("fc2.weight", w2),
             init("fc2.bias", b2), init("fc3.weight", w3), init("fc3.bias", b3)]
    m = save(model(nodes, [tensor_info("input", [1, 1, 4, 4])],
                   [tensor_info("output", [1, 3])], inits, 13, "mlp_gemm"), "mlp_gemm")

    def forward(x):
        h = x.reshape(1, 16)
        h = relu(h @ d(w1).T + d(b1))
        h = relu(h @ d(w2).T + d(b2))
        return h @ d(w3).T + d(b3)

    write_ref("mlp_gemm", [1, 1, 4, 4], forward, seed=101)
    return m


def mlp_matmul_norm():
    """(x - mean) / std -> Flatten -> MatMul -> Add -> Relu -> MatMul -> Add.

    The ACAS Xu / ERAN pattern: input normalisation by constant tensors, then
    MatMul + Add layers. Input [1,1,1,5], output [1,5]; opset 9.
    """
    rng = np.random.default_rng(2)
    mean = f32(rng, 1, 1, 1, 5)
    std = (np.abs(f32(rng, 1, 1, 1, 5)) + 0.5).astype(np.float32)
    w1, b1 = f32(rng, 5, 10), f32(rng, 10)
    w2, b2 = f32(rng, 10, 5), f32(rng, 5)
    nodes = [
        helper.make_node("Sub", ["input", "mean"], ["centered"], name="normalize_sub"),
        helper.make_node("Div", ["centered", "std"], ["scaled"], name="normalize_div"),
        helper.make_node("Flatten", ["scaled"], ["flat"], name="flatten", axis=1),
        helper.make_node("MatMul", ["flat", "W1"], ["m1"], name="matmul1"),
        helper.make_node("Add", ["m1", "B1"], ["a1"], name="add1"),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "W2"], ["m2"], name="matmul2"),
        helper.make_node("Add", ["m2", "B2"], ["output"], name="add2"),
    ]
    inits = [init("mean", mean), init("std", std), init("W1", w1), init("B1", b1),
             init("W2", w2), init("B2", b2)]
    m = save(model(nodes, [tensor_info("input", [1, 1, 1, 5])],
                   [tensor_info("output", [1, 5])], inits, 9, "mlp_matmul_norm"),
             "mlp_matmul_norm")

    def forward(x):
        h = ((x - d(mean)) / d(std)).reshape(1, 5)
        h = relu(h @ d(w1) + d(b1))
        return h @ d(w2) + d(b2)

    write_ref("mlp_matmul_norm", [1, 1, 1, 5], forward, seed=102)
    return m


def shape_chain():
    """PyTorch's `x.view(x.size(0), -1)` written out by hand (opset 13):
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape, then Gemm -> Relu ->
    Dropout (ratio input, mask output unused) -> Identity -> Gemm.

    The batch dimension is symbolic ("batch"); gamma gives it dynamicDimSize.
    Input [batch,3,4], output [batch,3].
    """
    rng = np.random.default_rng(3)
    w1, b1 = f32(rng, 8, 12), f32(rng, 8)
    w2, b2 = f32(rng, 3, 8), f32(rng, 3)
    nodes = [
        helper.make_node("Shape", ["input"], ["shape"], name="shape"),
        helper.make_node("Constant", [], ["zero"], name="const_zero",
                         value=helper.make_tensor("zero", TensorProto.INT64, [], [0])),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="gather", axis=0),
        helper.make_node("Constant", [], ["axes0"], name="const_axes",
                         value=helper.make_tensor("axes0", TensorProto.INT64, [1], [0])),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"], name="unsqueeze"),
        helper.make_node("Constant", [], ["minus_one"], name="const_minus_one",
                         value=helper.make_tensor("minus_one", TensorProto.INT64, [1], [-1])),
        helper.make_node("Concat", ["batch1", "minus_one"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["input", "target"], ["flat"], name="view"),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h1"], name="fc1", transB=1),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Dropout", ["r1", "ratio"], ["dropped", "mask"], name="dropout"),
        helper.make_node("Identity", ["dropped"], ["same"], name="identity"),
        helper.make_node("Gemm", ["same", "fc2.weight", "fc2.bias"], ["output"], name="fc2",
                         transB=1),
    ]
    inits = [init("fc1.weight", w1), init("fc1.bias", b1), init("fc2.weight", w2),
             init("fc2.bias", b2), init("ratio", np.array(0.25, dtype=np.float32))]
    m = save(model(nodes, [tensor_info("input", ["batch", 3, 4])],
                   [tensor_info("output", ["batch", 3])], inits, 13, "shape_chain"),
             "shape_chain")

    def forward(x):
        h = x.reshape(x.shape[0], -1)
        h = relu(h @ d(w1).T + d(b1))
        return h @ d(w2).T + d(b2)

    write_ref("shape_chain", [1, 3, 4], forward, seed=103)
    return m


def sigmoid_mlp():
    """Gemm (transB=0, alpha=0.5, beta=2, C of shape [1,N]) -> Sigmoid ->
    Gemm (transB=1) -> Sigmoid -> Dropout (ratio attribute) -> Gemm, like
    ERAN's sigmoid networks but with Gemm's scaling attributes exercised.
    Input [1,6], output [1,4]; opset 11.
    """
    rng = np.random.default_rng(4)
    w1, b1 = f32(rng, 6, 10), f32(rng, 1, 10)
    w2, b2 = f32(rng, 10, 10), f32(rng, 10)
    w3, b3 = f32(rng, 4, 10), f32(rng, 4)
    nodes = [
        helper.make_node("Gemm", ["input", "W1", "B1"], ["h1"], name="fc1", alpha=0.5, beta=2.0),
        helper.make_node("Sigmoid", ["h1"], ["s1"], name="sigmoid1"),
        helper.make_node("Gemm", ["s1", "W2", "B2"], ["h2"], name="fc2", transB=1),
        helper.make_node("Sigmoid", ["h2"], ["s2"], name="sigmoid2"),
        helper.make_node("Dropout", ["s2"], ["d2"], name="dropout", ratio=0.1),
        helper.make_node("Gemm", ["d2", "W3", "B3"], ["output"], name="fc3", transB=1),
    ]
    inits = [init("W1", w1), init("B1", b1), init("W2", w2), init("B2", b2), init("W3", w3),
             init("B3", b3)]
    m = save(model(nodes, [tensor_info("input", [1, 6])], [tensor_info("output", [1, 4])],
                   inits, 11, "sigmoid_mlp"), "sigmoid_mlp")

    def forward(x):
        h = sigmoid(0.5 * (x @ d(w1)) + 2.0 * d(b1))
        h = sigmoid(h @ d(w2).T + d(b2))
        return h @ d(w3).T + d(b3)

    write_ref("sigmoid_mlp", [1, 6], forward, seed=104)
    return m


def misc_ops():
    """The remaining operators, opset 12: Constant(value_floats) -> Mul,
    Unsqueeze/Squeeze (axes attributes) on an activation, Transpose of a
    constant weight -> MatMul, Neg, Dropout (ratio and training_mode = false
    as inputs), Gemm without C, and Sub of two activations.
    Input [1,4], output [1,3].
    """
    rng = np.random.default_rng(5)
    scale = rng.uniform(0.5, 1.5, 4).astype(np.float32)
    wt = f32(rng, 6, 4)  # Stored transposed; the model transposes it back.
    w2 = f32(rng, 3, 6)
    nodes = [
        helper.make_node("Constant", [], ["scale"], name="const_scale",
                         value_floats=scale.tolist()),
        helper.make_node("Mul", ["input", "scale"], ["scaled"], name="mul_scale"),
        helper.make_node("Unsqueeze", ["scaled"], ["u"], name="unsqueeze", axes=[1]),
        helper.make_node("Squeeze", ["u"], ["s"], name="squeeze", axes=[1]),
        helper.make_node("Transpose", ["WT"], ["W"], name="transpose_w", perm=[1, 0]),
        helper.make_node("MatMul", ["s", "W"], ["m"], name="matmul"),
        helper.make_node("Neg", ["m"], ["n"], name="neg"),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("Dropout", ["r", "ratio", "training"], ["dr"], name="dropout"),
        helper.make_node("Sub", ["dr", "n"], ["diff"], name="sub_acts"),
        helper.make_node("Gemm", ["diff", "W2"], ["output"], name="fc_nobias", transB=1),
    ]
    inits = [init("WT", wt), init("W2", w2), init("ratio", np.array(0.1, np.float32)),
             init("training", np.array(False))]
    m = save(model(nodes, [tensor_info("input", [1, 4])], [tensor_info("output", [1, 3])],
                   inits, 12, "misc_ops"), "misc_ops")

    def forward(x):
        s = x * d(scale)
        n = -(s @ d(wt).T)
        return (relu(n) - n) @ d(w2).T

    write_ref("misc_ops", [1, 4], forward, seed=105)
    return m


def conv_ref(x, w, b, strides, pads, dilations, group):
    """ONNX Conv in float64 by explicit loops (independent of gamma's taps):
    x [N, C, H, W], w [M, C/group, kh, kw], pads [top, left, bottom, right]."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (xp.shape[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for o in range(m):
        g0 = (o // mg) * cg
        for i in range(oh):
            for j in range(ow):
                acc = b[o]
                for ci in range(cg):
                    for a in range(kh):
                        for e in range(kw):
                            acc += (xp[:, g0 + ci, i * strides[0] + a * dilations[0],
                                       j * strides[1] + e * dilations[1]] * w[o, ci, a, e])
                y[:, o, i, j] = acc
    return y


def pool_windows(x, k, stride, pad):
    """(i, j, window) of a 2-D square pooling (ceil_mode 0): the window's elements inside x."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * stride - pad, j * stride - pad
            rs = [r for r in range(r0, r0 + k) if 0 <= r < h]
            cs = [q for q in range(c0, c0 + k) if 0 <= q < w]
            yield i, j, x[:, :, rs][:, :, :, cs]


def pool_ref(x, k, stride, pad, reduce):
    """y[:, :, i, j] = reduce(window (i, j))."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    y = np.zeros((n, c, oh, ow))
    for i, j, win in pool_windows(x, k, stride, pad):
        y[:, :, i, j] = reduce(win)
    return y


def avg_pool_ref(x, k, stride, pad, count_pads):
    """ONNX AveragePool (2-D, square window, ceil_mode 0) in float64 by loops."""
    return pool_ref(x, k, stride, pad, lambda win: win.sum(axis=(2, 3)) /
                    (k * k if count_pads else win.shape[2] * win.shape[3]))


def max_pool_ref(x, k, stride, pad):
    """ONNX MaxPool (2-D, square window, ceil_mode 0, padding ignored) in float64 by loops."""
    return pool_ref(x, k, stride, pad, lambda win: win.max(axis=(2, 3)))


def conv_net():
    """A small CNN, opset 13: Conv (3->4, 3x3, stride 2, pads 1) -> Relu ->
    Conv (4->4, 3x3, group 2, dilation 2, auto_pad SAME_UPPER, no bias) -> Relu
    -> Flatten -> Gemm. Input [1,3,8,8], output [1,5]."""
    rng = np.random.default_rng(8)
    w1, b1 = f32(rng, 4, 3, 3, 3), f32(rng, 4)
    w2 = f32(rng, 4, 2, 3, 3)
    w3, b3 = f32(rng, 5, 64), f32(rng, 5)
    nodes = [
        helper.make_node("Conv", ["input", "W1", "B1"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "W2"], ["c2"], name="conv2", group=2,
                         dilations=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "W3", "B3"], ["output"], name="fc", transB=1),
    ]
    inits = [init("W1", w1), init("B1", b1), init("W2", w2), init("W3", w3), init("B3", b3)]
    m = save(model(nodes, [tensor_info("input", [1, 3, 8, 8])], [tensor_info("output", [1, 5])],
                   inits, 13, "conv_net"), "conv_net")

    def forward(x):
        h = relu(conv_ref(x, d(w1), d(b1), [2, 2], [1, 1, 1, 1], [1, 1], 1))
        # SAME_UPPER with stride 1, dilation 2, kernel 3 on 4x4: 4 pad, 2 each side.
        h = relu(conv_ref(h, d(w2), np.zeros(4), [1, 1], [2, 2, 2, 2], [2, 2], 2))
        return h.reshape(h.shape[0], -1) @ d(w3).T + d(b3)

    write_ref("conv_net", [1, 3, 8, 8], forward, seed=108)
    return m


def torch_models():
    """Models exported by torch.onnx.export, if PyTorch is installed."""
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("torch is not installed: keeping the committed torch_*.onnx files", file=sys.stderr)
        return
    import io

    class ViewMlp(nn.Module):
        """x.view(x.size(0), -1) with a dynamic batch: Shape/Gather/Unsqueeze/Concat/Reshape."""

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(12, 8)
            self.fc2 = nn.Linear(8, 3)

        def forward(self, x):
            x = x.view(x.size(0), -1)
            return self.fc2(torch.relu(self.fc1(x)))

    class FlattenDropout(nn.Module):
        """nn.Flatten + nn.Dropout (removed by the exporter in eval mode)."""

        def __init__(self):
            super().__init__()
            self.seq = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Dropout(0.5),
                                     nn.Linear(8, 3))

        def forward(self, x):
            return self.seq(x)

    class ConvLeaky(nn.Module):
        """Conv2d + LeakyReLU(0.1) + strided Conv2d + LeakyReLU() (alpha 0.01) + Linear."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 4, 3, padding=1)
            self.c2 = nn.Conv2d(4, 4, 3, stride=2)
            self.fc = nn.Linear(4 * 3 * 3, 3)

        def forward(self, x):
            h = torch.nn.functional.leaky_relu(self.c1(x), 0.1)
            h = torch.nn.functional.leaky_relu(self.c2(h))
            return self.fc(torch.flatten(h, 1))

    class SoftplusMean(nn.Module):
        """Linear + Softplus + a mean over the last axis of a [1, 4, 2] view
        (ReduceMean, axes attribute at opset 13) + Linear."""

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 8)
            self.fc2 = nn.Linear(4, 3)

        def forward(self, x):
            h = torch.nn.functional.softplus(self.fc1(x))
            return self.fc2(h.reshape(1, 4, 2).mean(2))

    class ConvUpsample(nn.Module):
        """Conv2d + ReLU + nn.Upsample(scale_factor=2, nearest) (ONNX Resize,
        asymmetric coordinates, floor) + Linear."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(2, 3, 3, padding=1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.fc = nn.Linear(3 * 8 * 8, 2)

        def forward(self, x):
            return self.fc(torch.flatten(self.up(torch.relu(self.c1(x))), 1))

    class ConvPool(nn.Module):
        """Conv2d + ReLU + AvgPool2d(3, stride 2, padding 1, padding not counted) + Conv2d +
        ReLU + AvgPool2d(2) + AdaptiveAvgPool2d(1) (GlobalAveragePool) + Linear."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 4, 3, padding=1)
            self.p1 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
            self.c2 = nn.Conv2d(4, 6, 3, padding=1)
            self.p2 = nn.AvgPool2d(2)
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            h = self.p1(torch.relu(self.c1(x)))
            h = self.p2(torch.relu(self.c2(h)))
            h = torch.nn.functional.adaptive_avg_pool2d(h, 1)
            return self.fc(torch.flatten(h, 1))

    class ConvBatchNorm(nn.Module):
        """Conv2d + ReLU + BatchNorm2d + strided Conv2d + ReLU + Flatten + BatchNorm1d +
        Linear; the norms follow a ReLU, so the exporter cannot fold them into a conv."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 4, 3, padding=1)
            self.n1 = nn.BatchNorm2d(4)
            self.c2 = nn.Conv2d(4, 4, 3, stride=2)
            self.n2 = nn.BatchNorm1d(36)
            self.fc = nn.Linear(36, 3)
            g = torch.Generator().manual_seed(1)
            for norm in (self.n1, self.n2):
                c = norm.num_features
                norm.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                norm.running_var.copy_(torch.rand(c, generator=g) * 2 + 0.1)
                norm.weight.data.copy_(torch.randn(c, generator=g))
                norm.bias.data.copy_(torch.randn(c, generator=g) * 0.3)

        def forward(self, x):
            h = self.n1(torch.relu(self.c1(x)))
            h = torch.relu(self.c2(h))
            return self.fc(self.n2(torch.flatten(h, 1)))

    class TanhClip(nn.Module):
        """Linear + Tanh + Linear + ReLU6 (Clip 0, 6) + Linear + Hardtanh(-0.5, 0.8) +
        Linear: torch.onnx's Tanh and Clip with constant min/max inputs."""

        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(12, 10)
            self.fc2 = nn.Linear(10, 8)
            self.fc3 = nn.Linear(8, 6)
            self.fc4 = nn.Linear(6, 3)
            with torch.no_grad():
                self.fc2.weight.mul_(4.0)  # reach both ends of ReLU6
                self.fc2.bias.add_(2.0)

        def forward(self, x):
            h = torch.tanh(self.fc1(torch.flatten(x, 1)))
            h = nn.functional.relu6(self.fc2(h))
            h = nn.functional.hardtanh(self.fc3(h), -0.5, 0.8)
            return self.fc4(h)

    class ConvMaxPool(nn.Module):
        """Conv2d + ReLU + MaxPool2d(2) + Conv2d (no ReLU: negative inputs reach the pool) +
        MaxPool2d(3, stride 2, padding 1) + Linear."""

        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(2, 3, 3, padding=1)
            self.p1 = nn.MaxPool2d(2)
            self.c2 = nn.Conv2d(3, 4, 3, padding=1)
            self.p2 = nn.MaxPool2d(3, stride=2, padding=1)
            self.fc = nn.Linear(16, 3)

        def forward(self, x):
            h = self.p1(torch.relu(self.c1(x)))
            h = self.p2(self.c2(h))
            return self.fc(torch.flatten(h, 1))

    def export(module, name, opset, dynamic, shape=(1, 3, 4)):
        torch.manual_seed(0)
        net = module().eval()
        buf = io.BytesIO()
        axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None
        torch.onnx.export(net, torch.zeros(*shape), buf, input_names=["input"],
                          output_names=["output"], dynamic_axes=axes, opset_version=opset)
        m = onnx.load_from_string(buf.getvalue())
        save(m, name)
        params = {k: v.detach().numpy().astype(np.float64) for k, v in net.state_dict().items()}
        return params

    p = export(ViewMlp, "torch_view_mlp", 11, dynamic=True)

    def view_forward(x):
        h = x.reshape(x.shape[0], -1)
        h = relu(h @ p["fc1.weight"].T + p["fc1.bias"])
        return h @ p["fc2.weight"].T + p["fc2.bias"]

    write_ref("torch_view_mlp", [1, 3, 4], view_forward, seed=106)

    q = export(FlattenDropout, "torch_flatten_dropout", 13, dynamic=False)

    def flatten_forward(x):
        h = x.reshape(x.shape[0], -1)
        h = relu(h @ q["seq.1.weight"].T + q["seq.1.bias"])
        return h @ q["seq.4.weight"].T + q["seq.4.bias"]

    write_ref("torch_flatten_dropout", [1, 3, 4], flatten_forward, seed=107)

    r = export(ConvLeaky, "torch_conv_leaky", 13, dynamic=False, shape=(1, 3, 8, 8))

    def leaky(x, alpha):
        return np.where(x >= 0, x, np.float32(alpha).astype(np.float64) * x)

    def conv_leaky_forward(x):
        h = leaky(conv_ref(x, r["c1.weight"], r["c1.bias"], [1, 1], [1, 1, 1, 1], [1, 1], 1), 0.1)
        h = leaky(conv_ref(h, r["c2.weight"], r["c2.bias"], [2, 2], [0, 0, 0, 0], [1, 1], 1), 0.01)
        return h.reshape(h.shape[0], -1) @ r["fc.weight"].T + r["fc.bias"]

    write_ref("torch_conv_leaky", [1, 3, 8, 8], conv_leaky_forward, seed=109)

    sp = export(SoftplusMean, "torch_softplus_mean", 13, dynamic=False, shape=(1, 6))

    def softplus_mean_forward(x):
        h = np.logaddexp(0.0, x @ sp["fc1.weight"].T + sp["fc1.bias"])  # ln(1 + e^h)
        return h.reshape(1, 4, 2).mean(axis=2) @ sp["fc2.weight"].T + sp["fc2.bias"]

    write_ref("torch_softplus_mean", [1, 6], softplus_mean_forward, seed=111)

    cu = export(ConvUpsample, "torch_conv_upsample", 13, dynamic=False, shape=(1, 2, 4, 4))

    def conv_upsample_forward(x):
        h = relu(conv_ref(x, cu["c1.weight"], cu["c1.bias"], [1, 1], [1, 1, 1, 1], [1, 1], 1))
        h = np.repeat(np.repeat(h, 2, axis=2), 2, axis=3)
        return h.reshape(h.shape[0], -1) @ cu["fc.weight"].T + cu["fc.bias"]

    write_ref("torch_conv_upsample", [1, 2, 4, 4], conv_upsample_forward, seed=113)

    mp = export(ConvMaxPool, "torch_conv_maxpool", 13, dynamic=False, shape=(1, 2, 8, 8))

    def conv_maxpool_forward(x):
        h = max_pool_ref(relu(conv_ref(x, mp["c1.weight"], mp["c1.bias"], [1, 1], [1, 1, 1, 1],
                                       [1, 1], 1)), 2, 2, 0)
        h = max_pool_ref(conv_ref(h, mp["c2.weight"], mp["c2.bias"], [1, 1], [1, 1, 1, 1],
                                  [1, 1], 1), 3, 2, 1)
        return h.reshape(h.shape[0], -1) @ mp["fc.weight"].T + mp["fc.bias"]

    write_ref("torch_conv_maxpool", [1, 2, 8, 8], conv_maxpool_forward, seed=115)

    c = export(ConvPool, "torch_conv_pool", 13, dynamic=False, shape=(1, 3, 12, 12))

    def conv_pool_forward(x):
        h = avg_pool_ref(relu(conv_ref(x, c["c1.weight"], c["c1.bias"], [1, 1], [1, 1, 1, 1],
                                       [1, 1], 1)), 3, 2, 1, count_pads=False)
        h = avg_pool_ref(relu(conv_ref(h, c["c2.weight"], c["c2.bias"], [1, 1], [1, 1, 1, 1],
                                       [1, 1], 1)), 2, 2, 0, count_pads=True)
        h = h.mean(axis=(2, 3))
        return h @ c["fc.weight"].T + c["fc.bias"]

    write_ref("torch_conv_pool", [1, 3, 12, 12], conv_pool_forward, seed=110)

    e = export(ConvBatchNorm, "torch_conv_bn", 13, dynamic=False, shape=(1, 3, 8, 8))

    def batch_norm(x, prefix):
        # In float64 from the f32 parameters (the exporter's eps is 1e-5).
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, var = e[prefix + ".running_mean"].reshape(shape), e[prefix + ".running_var"]
        return ((x - mean) / np.sqrt(var.reshape(shape) + d(1e-5)) *
                e[prefix + ".weight"].reshape(shape) + e[prefix + ".bias"].reshape(shape))

    def conv_bn_forward(x):
        h = batch_norm(relu(conv_ref(x, e["c1.weight"], e["c1.bias"], [1, 1], [1, 1, 1, 1],
                                     [1, 1], 1)), "n1")
        h = relu(conv_ref(h, e["c2.weight"], e["c2.bias"], [2, 2], [0, 0, 0, 0], [1, 1], 1))
        h = batch_norm(h.reshape(h.shape[0], -1), "n2")
        return h @ e["fc.weight"].T + e["fc.bias"]

    write_ref("torch_conv_bn", [1, 3, 8, 8], conv_bn_forward, seed=111)

    t = export(TanhClip, "torch_tanh_clip", 13, dynamic=False)

    def tanh_clip_forward(x):
        h = np.tanh(x.reshape(x.shape[0], -1) @ t["fc1.weight"].T + t["fc1.bias"])
        h = np.clip(h @ t["fc2.weight"].T + t["fc2.bias"], 0.0, 6.0)
        h = np.clip(h @ t["fc3.weight"].T + t["fc3.bias"], d(np.float32(-0.5)), d(np.float32(0.8)))
        return h @ t["fc4.weight"].T + t["fc4.bias"]

    write_ref("torch_tanh_clip", [1, 3, 4], tanh_clip_forward, seed=112)


# --- models gamma must reject --------------------------------------------------

def bad_models(valid):
    # A Softmax node: not a supported operator (E2002).
    nodes = [
        helper.make_node("MatMul", ["input", "W"], ["logits"], name="matmul"),
        helper.make_node("Softmax", ["logits"], ["output"], name="softmax_0", axis=1),
    ]
    save(model(nodes, [tensor_info("input", [1, 4])], [tensor_info("output", [1, 3])],
               [init("W", np.ones((4, 3), np.float32))], 13, "bad_unsupported_op"),
         "bad_unsupported_op")

    # A Gemm whose weight [8,10] (transB=1, so K=10) does not match the
    # activation's 16 features (E2004).
    nodes = [helper.make_node("Gemm", ["input", "W", "B"], ["output"], name="fc_bad", transB=1)]
    save(model(nodes, [tensor_info("input", [1, 16])], [tensor_info("output", [1, 8])],
               [init("W", np.ones((8, 10), np.float32)), init("B", np.zeros(8, np.float32))],
               13, "bad_shape_mismatch"), "bad_shape_mismatch", check=False)

    # LeakyRelu with alpha = 2: concave, no relaxation (E2003).
    nodes = [helper.make_node("LeakyRelu", ["input"], ["output"], name="leaky_0", alpha=2.0)]
    save(model(nodes, [tensor_info("input", [1, 4])], [tensor_info("output", [1, 4])], [], 13,
               "bad_leaky_alpha"), "bad_leaky_alpha")

    # Opset 6: Add/Gemm still had the legacy `broadcast` attribute there (E2008).
    nodes = [helper.make_node("Relu", ["input"], ["output"], name="relu")]
    save(model(nodes, [tensor_info("input", [1, 4])], [tensor_info("output", [1, 4])], [], 6,
               "bad_opset"), "bad_opset")

    # The first half of mlp_gemm.onnx: protobuf parsing must fail (E2001).
    data = valid.SerializeToString()
    cut = len(data) // 2
    while True:
        try:
            onnx.load_from_string(data[:cut])
            parsed = True
        except Exception:
            parsed = False
        if not parsed:
            break
        cut += 1  # A cut on a field boundary parses; move into the next field.
    with open(os.path.join(HERE, "bad_truncated.onnx"), "wb") as f:
        f.write(data[:cut])
    print(f"wrote bad_truncated.onnx ({cut} of {len(data)} bytes)")


def main():
    first = mlp_gemm()
    mlp_matmul_norm()
    shape_chain()
    sigmoid_mlp()
    misc_ops()
    conv_net()
    torch_models()
    bad_models(first)


if __name__ == "__main__":
    main()
