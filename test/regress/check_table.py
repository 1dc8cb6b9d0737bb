#!/usr/bin/env python3
"""Checks test/regress/instances.csv, the regression table.

Always: the header, one row per (category, model, property), unique names,
values in range, relative paths inside the category folder.
With ../shared (else exit 77 after the format checks):
  - every model and property exists and the pair is one of the category's
    instances (instances.csv);
  - `sat`/`unsat` rows agree with ground_truth.csv; `no-wrong` rows have a
    known ground truth (so a wrong answer can be recognised);
  - row timeouts do not exceed the category's own; slow rows use exactly it;
  - every instance of the --complete categories (ACAS Xu) is in the table.
"""

import argparse
import csv
import os
import re
import sys

HEADER = ["name", "category", "model", "property", "expected", "tier", "timeout"]
NAME = re.compile(r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*$")
PATH = re.compile(r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)+$")
SKIP = 77


def read_table(path, errors):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != HEADER:
        errors.append(f"{path}:1: header must be {','.join(HEADER)}")
        return []
    out = []
    names = set()
    pairs = set()
    for ln, r in enumerate(rows[1:], start=2):
        where = f"{path}:{ln}"
        if len(r) != len(HEADER):
            errors.append(f"{where}: {len(r)} fields, expected {len(HEADER)}")
            continue
        row = dict(zip(HEADER, r))
        row["line"] = ln
        if not NAME.match(row["name"]) or ".." in row["name"].split("/"):
            errors.append(f"{where}: bad name {row['name']!r}")
        if not re.match(r"^[a-z0-9_]+$", row["category"]):
            errors.append(f"{where}: bad category {row['category']!r}")
        test = f"{row['category']}/{row['name']}"
        if test in names:
            errors.append(f"{where}: duplicate test name regress/{test}")
        names.add(test)
        for col in ("model", "property"):
            p = row[col]
            if not PATH.match(p) or ".." in p.split("/"):
                errors.append(f"{where}: {col} must be a relative path inside the category "
                              f"folder: {p!r}")
        pair = (row["category"], row["model"], row["property"])
        if pair in pairs:
            errors.append(f"{where}: instance {pair} listed twice")
        pairs.add(pair)
        if row["expected"] not in ("sat", "unsat", "no-wrong"):
            errors.append(f"{where}: expected must be sat, unsat or no-wrong")
        if row["tier"] not in ("quick", "slow"):
            errors.append(f"{where}: tier must be quick or slow")
        if re.match(r"^[1-9][0-9]{0,4}$", row["timeout"]):
            row["t"] = int(row["timeout"])
        else:  # CMake adds the hang margin with integer arithmetic
            errors.append(f"{where}: timeout must be a whole number of seconds (1-99999)")
        out.append(row)
    return out


def check_against_shared(path, rows, vnncomp, complete, errors):
    cats = {}
    for row in rows:
        c = row["category"]
        if c in cats:
            continue
        d = os.path.join(vnncomp, c)
        if not os.path.isdir(d):
            errors.append(f"{path}:{row['line']}: no category folder {d}")
            cats[c] = None
            continue
        inst = {}
        with open(os.path.join(d, "instances.csv"), newline="", encoding="utf-8") as f:
            for r in csv.reader(f):
                if len(r) >= 3:
                    inst[(r[0].strip(), r[1].strip())] = float(r[2])
        with open(os.path.join(d, "ground_truth.csv"), newline="", encoding="utf-8") as f:
            truth = {(r["onnx"], r["vnnlib"]): r["result"] for r in csv.DictReader(f)}
        cats[c] = (d, inst, truth)
    for row in rows:
        info = cats.get(row["category"])
        if info is None:
            continue
        d, inst, truth = info
        where = f"{path}:{row['line']} ({row['category']}/{row['name']})"
        for col in ("model", "property"):
            if not os.path.isfile(os.path.join(d, row[col])):
                errors.append(f"{where}: {col} {row[col]} does not exist")
        key = (row["model"], row["property"])
        if key not in inst:
            errors.append(f"{where}: not an instance of {row['category']}/instances.csv")
            continue
        gt = truth.get(key)
        if gt is None:
            errors.append(f"{where}: no ground truth")
        elif row["expected"] in ("sat", "unsat") and row["expected"] != gt:
            errors.append(f"{where}: expected {row['expected']}, ground truth {gt}")
        elif row["expected"] == "no-wrong" and gt not in ("sat", "unsat"):
            errors.append(f"{where}: no-wrong needs a known ground truth, it is {gt}")
        own = inst[key]
        if "t" in row:
            if row["t"] > own:
                errors.append(f"{where}: timeout {row['timeout']} above the category's {own:g}")
            if row["tier"] == "slow" and row["t"] != own:
                errors.append(f"{where}: slow rows use the category's timeout ({own:g})")
    for c in complete:
        info = cats.get(c)
        d = os.path.join(vnncomp, c)
        if info is None:
            if os.path.isdir(d):
                errors.append(f"{path}: no row of {c}")
            continue
        listed = {(r["model"], r["property"]) for r in rows if r["category"] == c}
        missing = sorted(set(info[1]) - listed)
        for m in missing[:10]:
            errors.append(f"{path}: {c} instance {m[0]} {m[1]} is not in the table")
        if len(missing) > 10:
            errors.append(f"{path}: ... and {len(missing) - 10} more {c} instances")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--table", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--complete", default="acasxu",
                    help="comma-separated categories whose every instance must be listed")
    args = ap.parse_args(argv)
    errors = []
    rows = read_table(args.table, errors)
    vnncomp = os.path.join(args.shared, "benchmarks", "vnncomp")
    have_shared = os.path.isdir(args.shared)
    if have_shared and not errors:
        check_against_shared(args.table, rows, vnncomp,
                             [c for c in args.complete.split(",") if c], errors)
    for e in errors:
        print("FAIL: " + e)
    if errors:
        return 1
    tiers = {t: sum(r["tier"] == t for r in rows) for t in ("quick", "slow")}
    print(f"{len(rows)} rows ({tiers['quick']} quick, {tiers['slow']} slow): format ok")
    if not have_shared:
        print(f"SKIP: {args.shared} is absent; ground truth not checked")
        return SKIP
    print("every row agrees with ground_truth.csv and its category's instances.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
