#!/usr/bin/python3
"""Dependencies point down the pipeline (docs/architecture.md).

Checks every #include "..." of gamma's own headers in the library folders
against the table below: a folder may include itself and the folders listed
for it, nothing else. Prints each violation with file and line; exit status
1 if there is one.

usage: test/lint/check_layers.py [repository root]
"""
import os
import re
import sys

# folder -> the folders it may include (besides itself). `generated` is the
# build tree's generated headers (version, fingerprint).
ALLOWED = {
    "support": {"generated"},
    "abi": set(),
    "ir": {"support", "abi"},
    "frontend": {"support", "ir"},
    "passes": {"support", "ir"},
    "codegen": {"support", "abi", "ir", "passes", "generated"},
    "runtime": {"support", "abi"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    top_level = {d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))}
    bad, checked = [], 0
    for folder, allowed in ALLOWED.items():
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp", ".def", ".c", ".in")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue
                        target = m.group(1).split("/")[0]
                        if target not in top_level and target != "generated":
                            continue  # a system or third-party path
                        checked += 1
                        if target != folder and target not in allowed:
                            bad.append(f"{os.path.relpath(path, root)}:{lineno}: {folder}/ "
                                       f"includes {m.group(1)} ({target}/ is not below it)")
    for b in bad:
        print(b)
    print(f"{checked} includes checked, {len(bad)} against the layering")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
