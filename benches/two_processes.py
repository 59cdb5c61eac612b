#!/usr/bin/env python3
"""How far `satire score --threads 2` is from two independent processes.

Builds the article corpus of compare_speed.py (--mb megabytes, default 100)
and its two halves, then for --rounds rounds (default 9) times, with one
binary: each half scored by a one-thread process after the other; both
halves by two one-thread processes at once; the whole by `--threads 2`.
Prints the medians of wall-clock seconds and of CPU seconds (user + system,
from `wait4`), and each way's speed-up on the one-after-the-other wall time.
Two processes at once share nothing but the machine, so their speed-up is
what two busy cores allow; the rest of the gap to `--threads 2` is the
command's own (its reader and emitting threads, the hand-offs between them).
Standard library only:

    python3 benches/two_processes.py target/release/satire
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

from corpus import DATASETS, build_corpus, write_texts


def run(binary, jobs):
    """Wall-clock seconds of `jobs` (pairs of input, threads) started at
    once, and the CPU seconds of all of them."""
    started = time.perf_counter()
    procs = [subprocess.Popen([binary, "score", "--threads", str(threads), path,
                               "-o", os.devnull, "-q"])
             for path, threads in jobs]
    cpu = 0.0
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        if status != 0:
            raise SystemExit(f"{binary} failed on {jobs}: status {status}")
        cpu += usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", help="the satire binary")
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        whole = os.path.join(tmp, "articles.csv")
        texts, size = build_corpus(args.datasets, args.mb, whole)
        halves = [os.path.join(tmp, f"half{i}.csv") for i in (1, 2)]
        cut = len(texts) // 2
        for path, part in zip(halves, (texts[:cut], texts[cut:])):
            write_texts(part, path)
        ways = {
            "halves one after the other, 1 thread each": [],
            "halves at once, 1 thread each": [],
            "--threads 2 on the whole": [],
        }
        names = list(ways)
        for _ in range(args.rounds):
            (w1, c1), (w2, c2) = (run(args.binary, [(h, 1)]) for h in halves)
            ways[names[0]].append((w1 + w2, c1 + c2))
            ways[names[1]].append(run(args.binary, [(h, 1) for h in halves]))
            ways[names[2]].append(run(args.binary, [(whole, 2)]))
    base = statistics.median(w for w, _ in ways[names[0]])
    print(f"{size / 1e6:.1f} MB, {args.rounds} rounds, medians")
    print("| way | wall s | CPU s | speed-up |")
    print("|---|---|---|---|")
    for name, got in ways.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {base / wall:.2f}x |")


if __name__ == "__main__":
    main()
