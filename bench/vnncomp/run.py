#!/usr/bin/python3
"""Runs gamma on a VNN-COMP category and compares with the ground truth.

    bench/vnncomp/run.py ../shared/benchmarks/vnncomp/acasxu [--out DIR] [--jobs N]
        [--threads-per-job M] [--limit K] [--filter REGEX] [--gamma PATH] [--no-prepare]

For every row of <category>/instances.csv (onnx, vnnlib, timeout) it runs
VNN-COMP's two steps: prepare_instance.sh (compiles the model into gamma's cache;
untimed, as in the competition) and run_instance.sh (timed: wall clock of the
whole process, start-up included). Instances run in parallel, `jobs` at a time,
each gamma using `threads-per-job` threads, so jobs x threads never exceeds the
cores.

Writes <out>/results.csv (instance, result, wall seconds, truth, best tool time)
and <out>/summary.json, and prints the summary: correct, wrong, unsolved, total
and median time, and the speed ratio to the best tool's recorded time
(ground_truth.csv's best_time_s, measured on the competition's hardware: a
reference, not a same-machine comparison).
Exit status 1 if any answer is wrong.
"""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_instances(cat_dir):
    rows = []
    with open(os.path.join(cat_dir, "instances.csv")) as f:
        for row in csv.reader(f):
            if len(row) >= 3 and row[0].strip():
                rows.append((row[0].strip(), row[1].strip(), float(row[2])))
    return rows


def read_truth(cat_dir):
    truth = {}
    path = os.path.join(cat_dir, "ground_truth.csv")
    if os.path.exists(path):
        with open(path) as f:
            for row in csv.DictReader(f):
                best = row.get("best_time_s") or ""
                truth[(row["onnx"], row["vnnlib"])] = (row["result"], float(best) if best else None)
    return truth


def run_one(args, cat_dir, category, onnx, vnnlib, timeout):
    model = os.path.join(cat_dir, onnx)
    prop = os.path.join(cat_dir, vnnlib)
    scripts = os.path.join(ROOT, "tools", "vnncomp")
    env = dict(os.environ, GAMMA_BIN=args.gamma, GAMMA_THREADS=str(args.threads_per_job))
    if not args.no_prepare:
        subprocess.run(["bash", os.path.join(scripts, "prepare_instance.sh"), "v1", category, model, prop],
                       env=env, capture_output=True, text=True)
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as tmp:
        result_path = tmp.name
    t0 = time.monotonic()
    try:
        p = subprocess.run(["bash", os.path.join(scripts, "run_instance.sh"), "v1", category, model, prop,
                            result_path, str(timeout)],
                           env=env, capture_output=True, text=True, timeout=timeout + 30)
        wall = time.monotonic() - t0
        with open(result_path) as f:
            first = f.readline().strip()
        result = first if first in ("sat", "unsat", "unknown", "timeout") else "error"
        if result == "error":
            sys.stderr.write(f"{onnx} {vnnlib}: exit {p.returncode}: {p.stderr[-2000:]}\n")
    except subprocess.TimeoutExpired:
        wall = time.monotonic() - t0
        result = "timeout"
    except OSError:
        wall = time.monotonic() - t0
        result = "error"
    finally:
        if os.path.exists(result_path):
            os.unlink(result_path)
    return result, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("category_dir")
    ap.add_argument("--out", default=None)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--threads-per-job", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--filter", default=None)
    ap.add_argument("--gamma", default=os.path.join(ROOT, "build", "tools", "gamma"))
    ap.add_argument("--no-prepare", action="store_true")
    ap.add_argument("--timeout", type=float, default=None,
                    help="override every instance's timeout (seconds), e.g. for a quick pass")
    args = ap.parse_args()

    cat_dir = os.path.abspath(args.category_dir)
    category = os.path.basename(cat_dir.rstrip("/"))
    instances = read_instances(cat_dir)
    if args.filter:
        instances = [i for i in instances if re.search(args.filter, f"{i[0]} {i[1]}")]
    if args.limit:
        instances = instances[: args.limit]
    truth = read_truth(cat_dir)
    cores = os.cpu_count() or 1
    jobs = args.jobs or max(1, cores // max(1, args.threads_per_job))
    out = args.out or os.path.join(ROOT, "build", "vnncomp", category)
    os.makedirs(out, exist_ok=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, args, cat_dir, category, inst[0], inst[1],
                               args.timeout if args.timeout else inst[2]) for inst in instances]
        results = []
        for inst, fut in zip(instances, futures):
            result, wall = fut.result()
            t, best = truth.get((inst[0], inst[1]), ("unknown", None))
            results.append((inst, result, wall, t, best))
            print(f"{result:8s} {wall:8.3f}s  truth {t:8s}  {inst[0]} {inst[1]}", flush=True)

    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["onnx", "vnnlib", "result", "wall_s", "truth", "best_tool_s"])
        for inst, result, wall, t, best in results:
            w.writerow([inst[0], inst[1], result, f"{wall:.4f}", t, "" if best is None else best])

    decided = [r for r in results if r[1] in ("sat", "unsat")]
    correct = [r for r in decided if r[1] == r[3]]
    wrong = [r for r in decided if r[3] in ("sat", "unsat") and r[1] != r[3]]
    unconfirmed = [r for r in decided if r[3] not in ("sat", "unsat")]
    unsolved = [r for r in results if r[1] not in ("sat", "unsat")]
    walls = [r[2] for r in results]
    both = [r for r in correct if r[4]]
    summary = {
        "category": category,
        "instances": len(results),
        "correct": len(correct),
        "wrong": len(wrong),
        "decided_without_ground_truth": len(unconfirmed),
        "unsolved": len(unsolved),
        "unsolved_breakdown": {k: sum(1 for r in unsolved if r[1] == k) for k in ("unknown", "timeout", "error")},
        "total_wall_s": round(sum(walls), 3),
        "median_wall_s": round(statistics.median(walls), 4) if walls else None,
        "timeout_override_s": args.timeout,
        "jobs": jobs,
        "threads_per_job": args.threads_per_job,
        # Ratio > 1: gamma here was faster than the best tool's recorded time there.
        "speed_ratio_total_vs_best_tool": round(sum(r[4] for r in both) / sum(r[2] for r in both), 3) if both else None,
        "speed_ratio_median_vs_best_tool": round(statistics.median(r[4] / r[2] for r in both), 3) if both else None,
        "wrong_instances": [f"{r[0][0]} {r[0][1]}: gamma {r[1]}, truth {r[3]}" for r in wrong],
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
