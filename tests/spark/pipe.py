#!/usr/bin/env python3
"""Scores a JSONL file through `satire score --format jsonl -` as a mapper in
Apache Spark (local mode, rdd.pipe), and writes the rows Spark collected.

    python3 tests/spark/pipe.py SATIRE_BINARY INPUT.jsonl OUTPUT.jsonl [PARTITIONS]

tests/spark.rs runs it and compares the result with the plain CLI. On a
cluster the same pipe works once the binary is on every executor, e.g.
`spark-submit --files target/release/satire job.py` and
`rdd.pipe("./satire score --format jsonl --quiet -")`.
"""
import sys

from pyspark.sql import SparkSession


def main():
    satire, src, dst = sys.argv[1:4]
    partitions = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("satire-pipe-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        lines = spark.sparkContext.textFile(src, minPartitions=partitions)
        rows = lines.pipe(f"{satire} score --format jsonl --quiet -").collect()
        print(f"partitions: {lines.getNumPartitions()}", file=sys.stderr)
    finally:
        spark.stop()
    with open(dst, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(r + "\n")


if __name__ == "__main__":
    main()
