//! `satire score --format jsonl -` as a mapper in Apache Spark: local mode,
//! `rdd.pipe`, several partitions (so several satire processes), the same
//! rows as the plain command on the same file. Skipped, saying so, when
//! pyspark or Java is missing; `.ci/run` installs pyspark.

mod common;
use common::*;

use std::process::Command;

fn available(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn spark_rdd_pipe_gives_the_same_rows_as_the_cli() {
    if !available("python3", &["-c", "import pyspark"]) {
        eprintln!("skipped: pyspark is not installed (pip install pyspark; .ci/run does)");
        return;
    }
    if !available("java", &["-version"]) {
        eprintln!("skipped: no Java runtime for Spark");
        return;
    }
    // Every sentence of the seeds as one JSONL line with its own id, plus
    // lines Spark must carry through as error rows.
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::new();
    let mut n = 0;
    for (text, _) in seed_texts() {
        for s in text.split(". ").filter(|s| !s.trim().is_empty()) {
            let line = serde_json::json!({"id": format!("s{n}"), "text": s});
            jsonl.push_str(&format!("{line}\n"));
            n += 1;
        }
    }
    jsonl.push_str("{\"id\": \"no-text\"}\n{\"id\": \"empty\", \"text\": \"  \"}\n");
    let input = write(dir.path(), "sentences.jsonl", &jsonl);
    let piped = dir.path().join("piped.jsonl");
    let out = Command::new("python3")
        .arg(root().join("tests/spark/pipe.py"))
        .args([
            env!("CARGO_BIN_EXE_satire"),
            input.to_str().unwrap(),
            piped.to_str().unwrap(),
            "4",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "spark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("partitions: 4"));
    let through_spark = std::fs::read_to_string(&piped).unwrap();
    let cli = satire(
        &[
            "score",
            "--format",
            "jsonl",
            "--quiet",
            input.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(cli.status.code(), Some(1), "two error rows");
    let cli = String::from_utf8(cli.stdout).unwrap();
    assert_eq!(through_spark.lines().count(), n + 2);
    // Same rows in the same order with the same scores. Error rows name
    // where they were found: the file and its line for the CLI, standard
    // input and the line within its partition for Spark; what they say is
    // the same.
    for (spark, plain) in through_spark.lines().zip(cli.lines()) {
        let parse = |l: &str| serde_json::from_str::<serde_json::Value>(l).unwrap();
        let (mut a, mut b) = (parse(spark), parse(plain));
        let what = |v: &mut serde_json::Value| {
            let e = v["error"].take();
            e.as_str()
                .map(|e| e.rsplit(": ").next().unwrap_or_default().to_string())
        };
        assert_eq!(what(&mut a), what(&mut b), "{spark} vs {plain}");
        assert_eq!(a, b);
    }
}
