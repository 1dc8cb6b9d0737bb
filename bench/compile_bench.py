#!/usr/bin/python3
"""Compile time of gammac, per model and optimisation level.

Reports the CPU time (user + system, of gammac and the linker it runs) of
`gammac MODEL -o OUT.so -O N`, the median of --repeat runs, and the size of
the library. CPU time, not wall time: on a shared machine wall time measures
the neighbours. Models: the ACAS Xu, mnist_fc and eran networks of
../shared (when present) and width-4 Gemm+ReLU chains of 200, 1,000 and 2,000
layers generated here, to show that compile time grows linearly with depth.

usage: bench/compile_bench.py [--gammac build/tools/gammac] [--levels 1,3] [--repeat 3]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "benchmarks", "vnncomp")


def chain(path, depth, width=4, seed=0):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
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
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, width])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def cpu_seconds(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gammac", default=os.path.join(ROOT, "build", "tools", "gammac"))
    ap.add_argument("--levels", default="1,3")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gamma-compile-bench-")
    models = []
    for cat, name in (("acasxu", "ACASXU_run2a_1_1_batch_2000.onnx"),
                      ("mnist_fc", "mnist-net_256x6.onnx"),
                      ("eran", "ffnnSIGMOID__Point_6x200.onnx")):
        path = os.path.join(SHARED, cat, "onnx", name)
        if os.path.exists(path):
            models.append((f"{cat}/{name[:-5]}", path))
    for depth in (200, 1000, 2000):
        path = os.path.join(work, f"chain{depth}.onnx")
        chain(path, depth)
        models.append((f"chain{depth} (width 4)", path))
    levels = [int(x) for x in args.levels.split(",")]
    print(f"{'model':40} " + " ".join(f"{'-O' + str(l) + ' cpu s':>11} {'lib KB':>7}" for l in levels))
    for label, path in models:
        cells = []
        for level in levels:
            out = os.path.join(work, "out.so")
            times = [cpu_seconds([args.gammac, path, "-o", out, "-O", str(level)])
                     for _ in range(args.repeat)]
            cells.append(f"{statistics.median(times):11.3f} {os.path.getsize(out) / 1024:7.0f}")
        print(f"{label:40} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    sys.exit(main())
