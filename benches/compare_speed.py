#!/usr/bin/env python3
"""Scoring speed of satire against scikit-learn and fastText on the same bytes.

Builds a CSV of full news articles (the horne2017 articles, train and test,
repeated in order up to --mb megabytes), trains

  * scikit-learn CountVectorizer + MultinomialNB (default settings) and
  * fastText supervised (default settings)

on horne2017's train.csv, and times raw text to P(satire) on every article:

  * scikit-learn: vectorizer.transform + predict_proba on the texts in memory;
  * fastText: predict(k=-1) on the texts in memory (newlines replaced by
    spaces, which fastText requires; the replacing is not timed);
  * satire: `satire score --threads 1 FILE` through the command line, with the
    built-in default model (three components, 76k tokens), reading the CSV
    and writing every row: start-up, parsing and output are all timed. Also
    with --threads set to every core.

Each is run --runs times (default 5) in this one invocation, in rounds: every
round runs each scorer once, so that a busy spell of a shared machine slows all
of them rather than one. Medians and the ratios between them are printed as a
Markdown table. Rerun:

    pip install -r benches/requirements.txt
    cargo build --release
    python3 benches/compare_speed.py            # --mb 300 for the issue's size
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import fasttext
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB

from corpus import DATASETS, build_corpus, read

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed_in_rounds(scorers, runs):
    """Median seconds of each scorer, over `runs` rounds of one run each."""
    secs = {name: [] for name in scorers}
    for _ in range(runs):
        for name, fn in scorers.items():
            t = time.perf_counter()
            fn()
            secs[name].append(time.perf_counter() - t)
    return {name: statistics.median(s) for name, s in secs.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--mb", type=float, default=100, help="megabytes of article text to score")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--satire", default=os.path.join(ROOT, "target", "release", "satire"))
    args = ap.parse_args()

    horne = os.path.join(args.datasets, "horne2017-political-satire")
    train_x, train_y = read(os.path.join(horne, "train.csv"))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "articles.csv")
        corpus, size = build_corpus(args.datasets, args.mb, data)
        mb = size / 1e6
        print(f"{len(corpus)} articles, {mb:.1f} MB of text, {args.runs} rounds of one run each, medians",
              file=sys.stderr)

        vec = CountVectorizer()
        clf = MultinomialNB().fit(vec.fit_transform(train_x), [y == "satire" for y in train_y])
        ft_train = os.path.join(tmp, "ft.txt")
        with open(ft_train, "w", encoding="utf-8") as f:
            for x, y in zip(train_x, train_y):
                f.write(f"__label__{y} " + x.replace("\n", " ") + "\n")
        ft = fasttext.train_supervised(ft_train, verbose=0)
        ft_corpus = [t.replace("\n", " ") for t in corpus]

        def run_satire(threads):
            with open(os.devnull, "wb") as null:
                subprocess.run([args.satire, "score", "--quiet", "--threads", str(threads), data],
                               stdout=null, check=True)

        cores = os.cpu_count() or 1
        results = timed_in_rounds({
            "scikit-learn CountVectorizer+MultinomialNB":
                lambda: clf.predict_proba(vec.transform(corpus)),
            "fastText predict": lambda: ft.predict(ft_corpus, k=-1),
            "satire score --threads 1": lambda: run_satire(1),
            f"satire score --threads {cores}": lambda: run_satire(cores),
        }, args.runs)

    sk = results["scikit-learn CountVectorizer+MultinomialNB"]
    ftt = results["fastText predict"]
    print(f"| scorer ({mb:.0f} MB of articles) | seconds | MB/s | vs scikit-learn | vs fastText |")
    print("|---|---|---|---|---|")
    for name, secs in results.items():
        print(f"| {name} | {secs:.2f} | {mb / secs:.1f} | {sk / secs:.2f}x | {ftt / secs:.2f}x |")


if __name__ == "__main__":
    main()
