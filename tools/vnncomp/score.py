#!/usr/bin/env python3
"""Runs gamma on a VNN-COMP category and scores it against ground_truth.csv.

    tools/vnncomp/score.py ../shared/benchmarks/vnncomp/acasxu --timeout 10 [--out results.csv]
        [--filter prop_2] [--threads N] [--gamma build/tools/gamma]

Each instance goes through run_instance.sh (prepare_instance.sh first), like
the competition. Prints one line per instance and the totals: correct, wrong
(a release-blocking bug), unknown/timeout. Exit status 3 if any answer is wrong.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("category_dir")
    ap.add_argument("--timeout", type=float, default=None, help="override the instance timeouts")
    ap.add_argument("--filter", default="", help="substring of 'onnx,vnnlib' to keep")
    ap.add_argument("--out", default=None)
    ap.add_argument("--gamma", default=None)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    env = dict(os.environ)
    if args.gamma:
        env["GAMMA_BIN"] = os.path.abspath(args.gamma)
    cat = os.path.abspath(args.category_dir)
    name = os.path.basename(cat.rstrip("/"))
    truth = {}
    with open(os.path.join(cat, "ground_truth.csv")) as f:
        for row in csv.DictReader(f):
            truth[(row["onnx"], row["vnnlib"])] = row["result"]
    rows = []
    with open(os.path.join(cat, "instances.csv")) as f:
        for r in csv.reader(f):
            if len(r) >= 3 and args.filter in ",".join(r[:2]):
                rows.append(r)
    if args.limit:
        rows = rows[: args.limit]
    counts = {"correct": 0, "wrong": 0, "unsolved": 0}
    out = []
    tmp = tempfile.mkdtemp(prefix="gamma-score-")
    for onnx, vnnlib, tmo in rows:
        timeout = args.timeout if args.timeout else float(tmo)
        onnx_p, vnn_p = os.path.join(cat, onnx), os.path.join(cat, vnnlib)
        res_p = os.path.join(tmp, "result.txt")
        subprocess.run([os.path.join(here, "prepare_instance.sh"), "v1", name, onnx_p, vnn_p],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.time()
        subprocess.run([os.path.join(here, "run_instance.sh"), "v1", name, onnx_p, vnn_p, res_p,
                        str(timeout)], env=env, stdout=subprocess.DEVNULL)
        dt = time.time() - t
        with open(res_p) as f:
            verdict = f.readline().strip()
        expected = truth.get((onnx, vnnlib), "unknown")
        if verdict in ("sat", "unsat"):
            status = "correct" if expected in (verdict, "unknown") else "wrong"
        else:
            status = "unsolved"
        counts[status] += 1
        out.append((onnx, vnnlib, expected, verdict, f"{dt:.2f}", status))
        print(f"{onnx},{vnnlib},{expected},{verdict},{dt:.2f},{status}", flush=True)
        if status == "wrong":
            print(f"WRONG ANSWER: {onnx} {vnnlib}: gamma says {verdict}, truth {expected}",
                  file=sys.stderr, flush=True)
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["onnx", "vnnlib", "expected", "verdict", "time_s", "status"])
            w.writerows(out)
    solved_t = [float(o[4]) for o in out if o[5] == "correct"]
    print(f"total {len(out)}: correct {counts['correct']} (sat {sum(1 for o in out if o[5]=='correct' and o[3]=='sat')}, "
          f"unsat {sum(1 for o in out if o[5]=='correct' and o[3]=='unsat')}), wrong {counts['wrong']}, "
          f"unsolved {counts['unsolved']}; time of solved: sum {sum(solved_t):.1f} s")
    return 3 if counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
