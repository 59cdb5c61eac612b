"""The article corpus the speed scripts time: the horne2017 articles (train
and test) repeated in order up to a size, as a CSV (`id,text`); or, for
`ab_time.py --headlines`, the headline sets' `train.csv` texts. Standard
library only, so that `ab_time.py` runs without the peers installed."""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(ROOT, "..", "shared", "datasets")
csv.field_size_limit(sys.maxsize)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def build_corpus(datasets, mb, out, headlines=False):
    """The articles (or, with `headlines`, the two headline sets' `train.csv`
    texts, misra's then onion-or-not's) repeated in order up to `mb` MB, as a
    CSV at `out`; returns the texts and their size in bytes."""
    if headlines:
        names = ["misra-sarcasm-headlines-v2", "onion-or-not"]
        texts = [t for n in names for t in read(os.path.join(datasets, n, "train.csv"))[0]]
    else:
        horne = os.path.join(datasets, "horne2017-political-satire")
        texts = read(os.path.join(horne, "train.csv"))[0] + read(os.path.join(horne, "test.csv"))[0]
    corpus, size, i = [], 0, 0
    while size < mb * 1e6:
        t = texts[i % len(texts)]
        corpus.append(t)
        size += len(t.encode("utf-8"))
        i += 1
    write_texts(corpus, out)
    return corpus, size


def write_texts(texts, out):
    """`texts` as a CSV at `out`: columns `id,text`, ids `a0`, `a1`, .."""
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text"])
        for j, t in enumerate(texts):
            w.writerow([f"a{j}", t])
