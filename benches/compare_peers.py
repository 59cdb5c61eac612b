#!/usr/bin/env python3
"""Accuracy of satire against scikit-learn on the same splits.

For each dataset in ../shared/datasets (or --datasets DIR), trains
  * scikit-learn CountVectorizer + MultinomialNB (default settings), and
  * `satire train DATASET/train.csv` (default settings)
on train.csv only, scores test.csv with both, and prints satire-class F1,
accuracy and ROC AUC side by side. Rerun:

    pip install -r benches/requirements.txt
    cargo build --release
    python3 benches/compare_peers.py
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.naive_bayes import MultinomialNB

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [1 if r["label"] == "satire" else 0 for r in rows]


def sklearn_figures(train, test):
    xtr, ytr = read(train)
    xte, yte = read(test)
    vec = CountVectorizer()
    clf = MultinomialNB().fit(vec.fit_transform(xtr), ytr)
    p = clf.predict_proba(vec.transform(xte))[:, 1]
    pred = (p >= 0.5).astype(int)
    return f1_score(yte, pred), accuracy_score(yte, pred), roc_auc_score(yte, p)


def satire_figures(binary, train, test):
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "m.satmodel")
        subprocess.run([binary, "train", "-q", "-o", model, train], check=True)
        out = subprocess.run(
            [binary, "eval", "-m", model, "--format", "json", test], check=True, capture_output=True, text=True
        ).stdout
    m = json.loads(out)[0]
    return m["satire"]["f1"], m["accuracy"], m["auc"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--satire", default=os.path.join(ROOT, "target", "release", "satire"))
    args = ap.parse_args()
    if not os.path.exists(args.satire):
        sys.exit(f"{args.satire} not found: run `cargo build --release` first")
    names = sorted(n for n in os.listdir(args.datasets) if os.path.exists(os.path.join(args.datasets, n, "train.csv")))
    print("| test.csv | n | sklearn F1 / acc / AUC | satire F1 / acc / AUC |")
    print("|---|---|---|---|")
    for name in names:
        train = os.path.join(args.datasets, name, "train.csv")
        test = os.path.join(args.datasets, name, "test.csv")
        n = len(read(test)[1])
        sk = sklearn_figures(train, test)
        sa = satire_figures(args.satire, train, test)
        print(f"| {name} | {n} | {sk[0]:.3f} / {sk[1]:.3f} / {sk[2]:.3f} | {sa[0]:.3f} / {sa[1]:.3f} / {sa[2]:.3f} |")


if __name__ == "__main__":
    main()
