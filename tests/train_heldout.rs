//! `satire train --heldout`: held-out files are never training data, and
//! training drops every text that also occurs in one of them.

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn write_csv(dir: &Path, name: &str, rows: &[(String, String)]) -> PathBuf {
    write(dir, name, &csv_of(rows))
}

/// A training file of every seed sentence, and two held-out files, each
/// with one satire and one real sentence of it, upper-cased and with a
/// full stop added, so only the folded comparison finds them.
fn files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let all = seed_sentences(5);
    let pick = |label: &str, nth: usize| {
        let (l, t) = all.iter().filter(|(l, _)| l == label).nth(nth).unwrap();
        (l.clone(), format!("{}.", t.to_uppercase()))
    };
    let train = write_csv(dir, "train.csv", &all);
    let a = write_csv(dir, "a.csv", &[pick("satire", 0), pick("real", 0)]);
    let b = write_csv(dir, "b.csv", &[pick("satire", 1), pick("real", 1)]);
    (train, a, b)
}

/// Trains with `heldout_args` after the training file and returns what
/// `satire inspect` says of the model.
fn train_and_inspect(dir: &Path, train: &Path, heldout_args: &[&str]) -> String {
    let model = dir.join("m.satmodel");
    let mut args = vec![
        "train",
        "-q",
        "--min-df",
        "1",
        "--calibration-folds",
        "2",
        "-o",
        model.to_str().unwrap(),
        train.to_str().unwrap(),
    ];
    args.extend_from_slice(heldout_args);
    let out = satire(&args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = satire(&["inspect", model.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

fn trained_on(inspect: &str) -> Vec<&str> {
    inspect
        .lines()
        .filter(|l| l.starts_with("trained on"))
        .collect()
}

fn held_out(inspect: &str) -> Vec<&str> {
    inspect
        .lines()
        .filter(|l| l.starts_with("held out"))
        .collect()
}

#[test]
fn one_heldout_flag_takes_every_file_a_glob_names() {
    // `--heldout data/*/test.csv` reaches satire as one flag and several
    // paths. Every one is held out; none is trained on.
    let dir = tempfile::tempdir().unwrap();
    let (train, a, b) = files(dir.path());
    let total = seed_sentences(5).len();
    let inspect = train_and_inspect(
        dir.path(),
        &train,
        &["--heldout", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let trained = trained_on(&inspect);
    assert_eq!(trained.len(), 1, "{inspect}");
    assert!(
        trained[0].contains("train.csv")
            && trained[0].contains(&format!("({total} rows, 4 dropped as held-out overlap")),
        "{inspect}"
    );
    let held = held_out(&inspect);
    assert_eq!(held.len(), 2, "{inspect}");
    assert!(held[0].contains("a.csv: n=2"), "{inspect}");
    assert!(held[1].contains("b.csv: n=2"), "{inspect}");
}

#[test]
fn a_repeated_heldout_flag_holds_out_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (train, a, b) = files(dir.path());
    let glob = train_and_inspect(
        dir.path(),
        &train,
        &["--heldout", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let repeated = train_and_inspect(
        dir.path(),
        &train,
        &[
            "--heldout",
            a.to_str().unwrap(),
            "--heldout",
            b.to_str().unwrap(),
        ],
    );
    assert_eq!(trained_on(&glob), trained_on(&repeated));
    assert_eq!(held_out(&glob), held_out(&repeated));
}

#[test]
fn training_paths_after_heldout_are_held_out_not_trained_on() {
    // The safe reading: with nothing left to train on, training stops and
    // says so, rather than training on a file meant to be held out.
    let dir = tempfile::tempdir().unwrap();
    let (train, a, _) = files(dir.path());
    let model = dir.path().join("m.satmodel");
    let out = satire(
        &[
            "train",
            "-q",
            "-o",
            model.to_str().unwrap(),
            "--heldout",
            a.to_str().unwrap(),
            train.to_str().unwrap(),
        ],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("<PATH>"), "{err}");
    assert!(!model.exists());
}

#[test]
fn inspect_reports_the_held_out_figures_in_json_as_eval_does_with_format_json() {
    // `--format json`, as eval, score and explain spell it; `--json` too.
    let dir = tempfile::tempdir().unwrap();
    let (train, a, _) = files(dir.path());
    train_and_inspect(dir.path(), &train, &["--heldout", a.to_str().unwrap()]);
    let model = dir.path().join("m.satmodel");
    let m = model.to_str().unwrap();
    let by_format = satire(&["inspect", "--format", "json", m], None);
    let by_flag = satire(&["inspect", "--json", m], None);
    assert!(by_format.status.success(), "{}", stderr(&by_format));
    assert_eq!(stdout(&by_format), stdout(&by_flag));
    let v: serde_json::Value = serde_json::from_str(&stdout(&by_format)).unwrap();
    let held = &v["metadata"]["heldout"];
    assert_eq!(held.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(held[0]["path"], a.to_str().unwrap());
    assert_eq!(held[0]["n"], 2);
    let both = satire(&["inspect", "--json", "--format", "text", m], None);
    assert_eq!(both.status.code(), Some(2));
    // `-m`/`--model`, as every other verb takes the model: the same model,
    // not the built-in one; with the positional as well, refused.
    for flag in ["-m", "--model"] {
        let by_option = satire(&["inspect", "--format", "json", flag, m], None);
        assert!(by_option.status.success(), "{}", stderr(&by_option));
        assert_eq!(stdout(&by_option), stdout(&by_format));
    }
    let twice = satire(&["inspect", "-m", m, m], None);
    assert_eq!(twice.status.code(), Some(2));
}
