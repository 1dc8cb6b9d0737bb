#!/usr/bin/python3
"""test/hostile/run_corpus.py - Run gamma's tools on the hostile-input corpus.

    run_corpus.py --corpus DIR --tools BUILD/tools --work DIR [--jobs 2]
                  [--wall 20] [--filter REGEX] [--sanitizer]

For every entry of DIR/manifest.json (written by gen_corpus.py) and every tool
the entry names, runs the tool in a fresh empty folder and checks:

  - no signal death, no internal error (exit 2), no sanitizer report;
  - no hang: the run ends within --wall seconds (a hang detector, not a
    performance assertion; a run past it is killed with its process group);
  - the expected result: the user-error exit code (1) with the expected
    stable code E#### on stderr, or success (and, for verify, the verdict);
  - after an error, no output file and no temporary anywhere: not in the
    run folder, not beside the inputs, not in the compile cache;
  - for entries marked "plain", no raw control character on stderr (names
    from the model must be escaped).

Runs listed under an entry's "known" (failures outside the frontend, owned
elsewhere) are reported but do not fail the test. Prints the counts
(inputs, runs, coded errors, correct answers, crashes, hangs, ...) and exits
non-zero if any run failed unexpectedly.
"""

import argparse
import concurrent.futures
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

CODE_RE = re.compile(rb"\bE(\d{4})\b")
SANITIZER_RE = re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error: |"
                          rb"SUMMARY: UndefinedBehaviorSanitizer")
CONTROL_RE = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
VERDICT_RE = re.compile(rb"\b(sat|unsat|unknown|timeout)\b")
USER_ERROR = 1
MEMORY_LIMIT = 4 << 30  # RLIMIT_AS of each run outside sanitizer builds (a model read
#                         from /dev/zero by a known-failing reader stops here)


def tool_commands(entry, corpus, run_dir, tools):
    f = {k: os.path.join(corpus, v) for k, v in entry["files"].items()}
    kind = entry["kind"]
    cmds = {}
    if kind in ("onnx", "vnnlib"):
        cmds["bounds"] = [tools["gamma"], "bounds", f["model"], "--vnnlib", f["vnnlib"]]
        cmds["verify"] = [tools["gamma"], "verify", f["model"], f["vnnlib"], "--timeout", "5",
                          "--result", os.path.join(run_dir["verify"], "result.txt")]
    if kind in ("onnx", "gir"):
        cmds["gammac"] = [tools["gammac"], f["model"], "-o",
                          os.path.join(run_dir["gammac"], "out.so")]
        cmds["opt"] = [tools["gamma-opt"], f["model"], "-o",
                       os.path.join(run_dir["opt"], "out.gir")]
    return cmds


def snapshot(root):
    names = set()
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            names.add(os.path.join(d, n))
    return names


def expected_for(entry, tool):
    e = entry["expect"]
    return e.get(tool, "answer") if isinstance(e, dict) else e


def check(entry, tool, expect, rc, out, err, timed_out, leftovers):
    """Returns (category, problem): category counts the run; problem is None if it passed."""
    if timed_out:
        return "hang", "no exit within the wall limit"
    if SANITIZER_RE.search(err):
        return "sanitizer", "sanitizer report"
    if rc < 0:
        return "crash", f"killed by signal {-rc} ({signal.Signals(-rc).name})"
    if rc not in (0, USER_ERROR):
        return "crash", f"exit code {rc} (internal error)"
    problems = []
    codes = {b"E" + m.group(1) for m in CODE_RE.finditer(err)}
    if rc == USER_ERROR:
        category = "coded" if codes else "uncoded"
        if not codes:
            problems.append("user error without an E#### code")
        if leftovers:
            problems.append("files left after an error: " + ", ".join(sorted(leftovers)[:5]))
    else:
        category = "answer"
    if entry.get("plain") and CONTROL_RE.search(err):
        problems.append("raw control characters on stderr")
    if entry.get("plain") and re.search(rb"(^|\n)E9999", err):
        problems.append("an injected line reached stderr unescaped")
    if expect == "any":
        pass
    elif expect == "error":
        if rc != USER_ERROR:
            problems.append("expected a coded error, got an answer")
    elif expect.startswith("E"):
        if rc != USER_ERROR:
            problems.append(f"expected {expect}, got an answer")
        elif expect.encode() not in codes:
            problems.append(f"expected {expect}, got {', '.join(sorted(c.decode() for c in codes)) or 'no code'}")
    elif expect.startswith("answer"):
        if rc != 0:
            problems.append(f"expected an answer, got an error")
        elif ":" in expect and tool == "verify":
            want = expect.split(":", 1)[1].encode()
            got = VERDICT_RE.search(out)
            if not got or got.group(1) != want:
                problems.append(f"expected verdict {want.decode()}, got "
                                f"{got.group(1).decode() if got else 'none'}")
    return category, ("; ".join(problems) if problems else None)


def run_one(entry, tool, cmd, run_dir, args, env, corpus_before, cache_dir):
    preexec = None
    if not args.sanitizer:
        def preexec():
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    proc = subprocess.Popen(cmd, cwd=run_dir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=args.wall)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    rc = proc.returncode
    leftovers = set()
    if rc != 0:
        leftovers |= {os.path.relpath(p, run_dir) for p in snapshot(run_dir)}
    # Temporaries must never outlive a run, whatever its result. (The compile
    # cache is shared by concurrent runs, so it is checked once at the end.)
    leftovers |= {os.path.relpath(p, args.corpus) for p in snapshot(args.corpus) - corpus_before}
    expect = expected_for(entry, tool)
    category, problem = check(entry, tool, expect, rc, out, err, timed_out, leftovers)
    return {"name": entry["name"], "tool": tool, "expect": expect, "rc": rc,
            "category": category, "problem": problem, "cmd": cmd,
            "stderr": err[-2000:].decode(errors="backslashreplace"),
            "known": entry.get("known", {}).get(tool)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tools", required=True, help="folder with gamma, gammac, gamma-opt")
    ap.add_argument("--work", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--wall", type=float, default=20.0)
    ap.add_argument("--filter", default="")
    ap.add_argument("--only-tools", default="",
                    help="comma-separated subset of bounds,verify,gammac,opt (e.g. on a partial "
                         "sanitizer build)")
    ap.add_argument("--sanitizer", action="store_true",
                    help="tools built with ASan/UBSan: no RLIMIT_AS, sanitizer options set")
    args = ap.parse_args()
    args.corpus = os.path.abspath(args.corpus)
    tools = {t: os.path.join(os.path.abspath(args.tools), t) for t in ("gamma", "gammac", "gamma-opt")}
    with open(os.path.join(args.corpus, "manifest.json")) as f:
        entries = json.load(f)["entries"]
    if args.filter:
        entries = [e for e in entries if re.search(args.filter, e["name"])]

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    cache_dir = os.path.join(work, "cache")
    home = os.path.join(work, "home")
    os.makedirs(cache_dir)
    os.makedirs(home)
    env = dict(os.environ, GAMMA_CACHE_DIR=cache_dir, HOME=home, LC_ALL="C")
    if args.sanitizer:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86:hard_rss_limit_mb=4096:" \
                              "allocator_may_return_null=1:" + env.get("ASAN_OPTIONS", "")
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=86:" + \
                               env.get("UBSAN_OPTIONS", "")
    corpus_before = snapshot(args.corpus)

    jobs = []
    for i, e in enumerate(entries):
        dirs = {}
        for tool in ("bounds", "verify", "gammac", "opt"):
            dirs[tool] = os.path.join(work, "runs", f"{i:03d}_{e['name']}", tool)
        cmds = tool_commands(e, args.corpus, dirs, tools)
        if args.only_tools:
            cmds = {t: c for t, c in cmds.items() if t in args.only_tools.split(",")}
        for tool, cmd in cmds.items():
            os.makedirs(dirs[tool])
            jobs.append((e, tool, cmd, dirs[tool]))

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(run_one, e, tool, cmd, d, args, env, corpus_before, cache_dir)
                for e, tool, cmd, d in jobs]
        for fut in concurrent.futures.as_completed(futs):
            results.append(fut.result())
    results.sort(key=lambda r: (r["name"], r["tool"]))

    counts = {k: 0 for k in ("coded", "answer", "crash", "hang", "sanitizer", "uncoded")}
    failed, known, xpass = [], [], []
    for r in results:
        counts[r["category"]] += 1
        if r["problem"] and r["known"]:
            known.append(r)
        elif r["problem"]:
            failed.append(r)
        elif r["known"]:
            xpass.append(r)
    # No run may leave a temporary in the shared compile cache.
    cache_tmp = sorted(os.path.relpath(p, cache_dir) for p in snapshot(cache_dir)
                       if ".tmp" in os.path.basename(p))
    if cache_tmp:
        failed.append({"name": "(all runs)", "tool": "cache", "expect": "no temporaries",
                       "problem": "temporaries left in the compile cache: " +
                                  ", ".join(cache_tmp[:5]),
                       "cmd": [], "rc": 0, "stderr": ""})
    correct_coded = sum(1 for r in results if not r["problem"] and r["category"] == "coded")
    correct_answers = sum(1 for r in results if not r["problem"] and r["category"] == "answer")

    for r in known:
        print(f"KNOWN  {r['name']} [{r['tool']}]: {r['problem']} -- {r['known']}")
    for r in xpass:
        print(f"XPASS  {r['name']} [{r['tool']}]: passes now; drop it from the known list")
    for r in failed:
        print(f"FAIL   {r['name']} [{r['tool']}] expected {r['expect']}: {r['problem']}\n"
              f"       $ {' '.join(r['cmd'])}\n       exit {r['rc']}; stderr: "
              f"{r['stderr'].strip()[-600:]}")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"hostile corpus: {len(entries)} inputs, {len(results)} runs: "
          f"{counts['coded']} coded errors ({correct_coded} as expected), "
          f"{counts['answer']} answers ({correct_answers} correct), "
          f"{counts['uncoded']} uncoded errors, {counts['crash']} crashes, "
          f"{counts['hang']} hangs, {counts['sanitizer']} sanitizer reports; "
          f"{len(failed)} unexpected failures, {len(known)} known failures, {len(xpass)} xpass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
