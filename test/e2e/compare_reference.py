#!/usr/bin/python3
"""Runs `gamma bounds --json` through each engine and checks the results.

  --engines jit,aot,interp   jit: in-process JIT; aot: gammac writes a shared
                             library that gamma loads with --verifier; interp:
                             the reference IR interpreter on the unoptimised graph.
  --method ibp|crown          the bound method (default ibp).
Checks:
  * every engine agrees with the others to 1e-5 relative;
  * with --shared/--category/--net/--prop: the IBP bounds equal the independent
    float64 reference (../shared/reference/lirpa) to 1e-5 relative, and contain
    it (a sound bound is never narrower than the exact one beyond 1e-9 relative,
    the reference's own accuracy with margin); with --method crown, the bounds
    lie inside the reference IBP bounds (CROWN is never looser than IBP, up to
    1e-5 relative for the f32 margins).
Exit 0 on success, 1 on a failed check, 77 (CTest skip) when ../shared is absent.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

REL_TOL = 1e-5
SOUND_TOL = 1e-9


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stdout}{p.stderr}")
        sys.exit(1)
    return p.stdout


def rel_dev(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--model")
    ap.add_argument("--vnnlib")
    ap.add_argument("--shared")
    ap.add_argument("--category")
    ap.add_argument("--net")
    ap.add_argument("--prop")
    ap.add_argument("--engines", default="jit")
    ap.add_argument("--method", default="ibp", choices=("ibp", "crown"))
    args = ap.parse_args()

    ref = None
    if args.shared is not None:
        root = os.path.join(args.shared, "benchmarks", "vnncomp", args.category)
        if not os.path.isdir(root):
            print(f"SKIP: {args.shared} is absent; the VNN-COMP reference checks need ../shared")
            sys.exit(77)
        args.model = os.path.join(root, "onnx", args.net + ".onnx")
        found = glob.glob(os.path.join(root, "vnnlib", "**", args.prop + ".vnnlib"), recursive=True)
        args.vnnlib = found[0] if found else os.path.join(root, "vnnlib", args.prop + ".vnnlib")
        ref_path = os.path.join(args.shared, "reference", "lirpa", args.category,
                                f"{args.net}__{args.prop}.json")
        with open(ref_path) as f:
            ref = json.load(f)["bounds"]["IBP"]

    gamma = os.path.join(args.tools, "gamma")
    results = {}
    for engine in args.engines.split(","):
        cmd = [gamma, "bounds", args.model, "--vnnlib", args.vnnlib, "--json", "--method", args.method]
        if engine == "aot":
            os.makedirs(args.workdir, exist_ok=True)
            lib = os.path.join(args.workdir, os.path.basename(args.model) + ".so")
            run([os.path.join(args.tools, "gammac"), args.model, "-o", lib])
            cmd += ["--verifier", lib]
        elif engine == "interp":
            cmd += ["--engine", "interp"]
        results[engine] = json.loads(run(cmd))
        r = results[engine]
        print(f"{engine:6s} time {r['time_s'] * 1e3:8.3f} ms  prepare {r['prepare_s']:.3f} s")

    ok = True
    engines = list(results)
    for e in engines[1:]:
        worst = max(rel_dev(a, b) for key in ("lower", "upper")
                    for a, b in zip(results[engines[0]][key], results[e][key]))
        print(f"{engines[0]} vs {e}: max relative deviation {worst:.3g}")
        if worst > REL_TOL:
            ok = False
            print(f"  FAIL: {engines[0]} and {e} disagree beyond {REL_TOL}")

    if ref is not None and args.method == "crown":
        for e, r in results.items():
            for j, (lo, hi, rlo, rhi) in enumerate(zip(r["lower"], r["upper"], ref["lower"], ref["upper"])):
                if lo < rlo - REL_TOL * max(abs(rlo), 1.0) or hi > rhi + REL_TOL * max(abs(rhi), 1.0):
                    ok = False
                    print(f"  FAIL: {e} CROWN bound {j} [{lo!r}, {hi!r}] is looser than IBP [{rlo!r}, {rhi!r}]")
        print("CROWN bounds inside the reference IBP bounds" if ok else "")
    elif ref is not None:
        for e, r in results.items():
            worst = 0.0
            for key in ("lower", "upper"):
                for j, (ours, exact) in enumerate(zip(r[key], ref[key])):
                    worst = max(worst, rel_dev(ours, exact))
                    slack = SOUND_TOL * max(abs(exact), 1.0)
                    if (key == "lower" and ours > exact + slack) or (key == "upper" and ours < exact - slack):
                        ok = False
                        print(f"  UNSOUND: {e} {key}[{j}] = {ours!r}, reference {exact!r}")
            print(f"{e} vs reference IBP: max relative deviation {worst:.3g}")
            if worst > REL_TOL:
                ok = False
                print(f"  FAIL: {e} deviates from the reference beyond {REL_TOL}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
