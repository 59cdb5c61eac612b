#!/usr/bin/env python3
"""Scoring time of two satire binaries on the same bytes.

Builds the article corpus of compare_speed.py (--mb megabytes, default 100;
with --headlines, the headline sets' train.csv texts instead),
then runs `BIN score --threads N articles.csv -o OUT -q` (--threads, default
1) for A and B in alternation, --runs times each (default 7), and prints each
run's user CPU seconds, the medians of user and of wall-clock seconds, and
B/A (with more than one thread, wall-clock time is what the user waits), then
the lower quartile and the fastest run of each. Alternating spreads a busy
spell of a shared machine over both; a busy spell only ever adds time, so
the quartile and the fastest run, taken in its quiet moments, swing less
than the median when the host is busy. It also says whether the two outputs are identical (they
differ when the binaries carry different built-in models). Standard library
only:

    python3 benches/ab_time.py OLD_BINARY target/release/satire
"""
import argparse
import filecmp
import os
import resource
import statistics
import subprocess
import tempfile
import time

from corpus import DATASETS, build_corpus


def timed(cmd):
    """User CPU seconds (from the children's rusage) and wall-clock seconds
    of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="binary A (the baseline)")
    ap.add_argument("b", help="binary B")
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--headlines", action="store_true",
                    help="time the headline sets' train.csv texts instead of the articles")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "articles.csv")
        _, size = build_corpus(args.datasets, args.mb, data, args.headlines)
        out = {k: os.path.join(tmp, f"{k}.csv") for k in "ab"}
        secs = {"a": [], "b": []}
        walls = {"a": [], "b": []}
        for _ in range(args.runs):
            for k in "ab":
                binary = getattr(args, k)
                cmd = [binary, "score", "--threads", str(args.threads), data,
                       "-o", out[k], "-q"]
                user, wall = timed(cmd)
                secs[k].append(user)
                walls[k].append(wall)
        same = filecmp.cmp(out["a"], out["b"], shallow=False)
    print(f"{size / 1e6:.1f} MB, --threads {args.threads}, {args.runs} runs each, "
          "alternating; outputs " + ("identical" if same else "differ"))
    for k in "ab":
        print(f"{k.upper()} user: " + " ".join(f"{s:.2f}" for s in secs[k]))
    quartile = lambda v: sorted(v)[len(v) // 4]
    for name, of in (("median", statistics.median), ("lower-quartile", quartile),
                     ("fastest", min)):
        for what, t in (("user", secs), ("wall", walls)):
            ma, mb = of(t["a"]), of(t["b"])
            print(f"{name} {what} seconds: A {ma:.3f}  B {mb:.3f}  B/A {mb / ma:.3f}")


if __name__ == "__main__":
    main()
