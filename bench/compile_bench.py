#!/usr/bin/python3
"""Compile time of gammac, per model and optimisation level.

Reports the wall time and the CPU time (user + system, of gammac and the
linker it runs) of `gammac MODEL -o OUT.so -O N`, the medians of --repeat
runs, and the size of the library. gammac compiles in two parts on two
threads (codegen/SplitCompile.cpp), so wall time is what a user waits and CPU
time what the work costs; on a shared machine wall time also measures the
neighbours. Models: the ACAS Xu, mnist_fc and eran networks of
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "benchmarks", "vnncomp")


def chain(path, depth, width=4):
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    import onnx
    from chain import chain_model  # test/models/chain.py, shared with the watchdog test
    onnx.save(chain_model(depth, width), path)


def seconds(cmd):
    """(wall, cpu) seconds of one run of cmd."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
    print(f"{'model':32} " + " ".join(
        f"{'-O' + str(l) + ' wall s':>11} {'cpu s':>7} {'lib KB':>7}" for l in levels))
    for label, path in models:
        cells = []
        for level in levels:
            out = os.path.join(work, "out.so")
            runs = [seconds([args.gammac, path, "-o", out, "-O", str(level)])
                    for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{wall:11.3f} {cpu:7.3f} {os.path.getsize(out) / 1024:7.0f}")
        print(f"{label:32} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    sys.exit(main())
