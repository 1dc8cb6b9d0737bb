#!/usr/bin/python3
"""Damages every compiled library in a gamma cache directory, as a disk fault
or a local attacker would (cache.test).

usage: cache_tamper.py DIR flip|truncate|fifo|stale-temp
  flip        change the last byte of each *.so
  truncate    cut each *.so to 100 bytes
  fifo        replace each *.so by a FIFO
  stale-temp  add a temporary two hours old and a fresh one
"""
import glob
import os
import sys
import time

cache, mode = sys.argv[1], sys.argv[2]
libs = glob.glob(os.path.join(cache, "*.so"))
if mode != "stale-temp" and not libs:
    sys.exit("no cache entries in " + cache)
for lib in libs:
    if mode == "flip":
        with open(lib, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            last = f.read(1)
            f.seek(-1, os.SEEK_END)
            f.write(bytes([last[0] ^ 0xFF]))
    elif mode == "truncate":
        os.truncate(lib, 100)
    elif mode == "fifo":
        os.remove(lib)
        os.mkfifo(lib)
if mode == "stale-temp":
    dead = os.path.join(cache, "dead.so.tmp-abc123.so")
    open(dead, "w").close()
    old = time.time() - 7200
    os.utime(dead, (old, old))
    open(os.path.join(cache, "live.so.tmp-def456.so"), "w").close()
