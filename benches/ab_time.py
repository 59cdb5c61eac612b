#!/usr/bin/env python3
"""Single-thread scoring time of two satire binaries on the same bytes.

Builds the article corpus of compare_speed.py (--mb megabytes, default 100),
then runs `BIN score --threads 1 articles.csv -o OUT -q` for A and B in
alternation, --runs times each (default 7), and prints each run's user CPU
seconds, the medians and B/A. Alternating spreads a busy spell of a shared
machine over both. It also says whether the two outputs are identical (they
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

from corpus import DATASETS, build_corpus


def user_seconds(cmd):
    """User CPU seconds of one run of `cmd`, from the children's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    subprocess.run(cmd, check=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", help="binary A (the baseline)")
    ap.add_argument("b", help="binary B")
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "articles.csv")
        _, size = build_corpus(args.datasets, args.mb, data)
        out = {k: os.path.join(tmp, f"{k}.csv") for k in "ab"}
        secs = {"a": [], "b": []}
        for _ in range(args.runs):
            for k in "ab":
                binary = getattr(args, k)
                cmd = [binary, "score", "--threads", "1", data, "-o", out[k], "-q"]
                secs[k].append(user_seconds(cmd))
        same = filecmp.cmp(out["a"], out["b"], shallow=False)
    print(f"{size / 1e6:.1f} MB, {args.runs} runs each, alternating; outputs "
          + ("identical" if same else "differ"))
    for k in "ab":
        print(f"{k.upper()}: " + " ".join(f"{s:.2f}" for s in secs[k]))
    ma, mb = statistics.median(secs["a"]), statistics.median(secs["b"])
    print(f"median user seconds: A {ma:.3f}  B {mb:.3f}  B/A {mb / ma:.3f}")


if __name__ == "__main__":
    main()
