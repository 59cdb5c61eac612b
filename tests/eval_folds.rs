//! Cross-validation (`satire eval --folds K`, `train::cross_validate`):
//! a fold's model never trains on a text the fold holds out, even when the
//! same text sits in another row or another file.

mod common;
use common::*;

use std::path::PathBuf;

use satire::io::Columns;
use satire::train::{self, overlap_key, TrainParams};

/// The seeds' sentences (three words or more) dealt into two CSV sources,
/// each with both classes; the second also holds, upper-cased and without
/// its full stop, a copy of some sentences of the first (about one in six:
/// `twins` such pairs), as the two headline sets share The Onion's
/// headlines. The copies are chosen so that two folds split every pair: a
/// row's fold is its place among its source's rows of its label, modulo 2
/// (`train::cross_validation_folds`). Last, rows of punctuation alone (no
/// letter or digit, so an empty key: never twins), one in the first source
/// and two in the second, so that one of them is in the other fold. A third
/// file holds both sources' rows.
fn sources_with_twins(dir: &std::path::Path) -> (Vec<PathBuf>, usize) {
    let mut files = [Vec::new(), Vec::new()];
    for (i, row) in seed_sentences(3).into_iter().enumerate() {
        files[i % 2].push(row);
    }
    let place =
        |rows: &[(String, String)], label: &str| rows.iter().filter(|(l, _)| l == label).count();
    let mut copies: Vec<(String, String)> = Vec::new();
    for (i, (label, text)) in files[0].iter().enumerate() {
        let here = place(&files[0][..i], label);
        let there = place(&files[1], label) + place(&copies, label);
        if i % 3 == 0 && here % 2 != there % 2 {
            copies.push((label.clone(), text.trim_end_matches('.').to_uppercase()));
        }
    }
    let twins = copies.len();
    files[1].extend(copies);
    for (k, text) in [(0, "!!!"), (1, "?!"), (1, "!?")] {
        files[k].push(("real".to_string(), text.to_string()));
    }
    let both = [files[0].clone(), files[1].clone()].concat();
    let paths = [&files[0], &files[1], &both]
        .iter()
        .enumerate()
        .map(|(k, rows)| write(dir, &format!("source{k}.csv"), &csv_of(rows)))
        .collect();
    (paths, twins)
}

fn params() -> satire::train::ValidTrainParams {
    TrainParams {
        min_df: 1,
        folds: 2,
        ..TrainParams::default()
    }
    .check()
    .unwrap()
}

#[test]
fn a_fold_never_trains_on_the_twin_of_a_text_it_holds_out() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, twins) = sources_with_twins(dir.path());
    let set = train::load(&paths[..2], &[], &Columns::default()).unwrap();
    let keys: Vec<String> = set.examples.iter().map(|e| overlap_key(&e.text)).collect();
    let cv = train::cross_validate(&params(), &set, 2).unwrap();
    let fold_of = train::cross_validation_folds(&set, 2);

    let mut split_pairs = 0;
    for f in 0..2 {
        let held: Vec<usize> = (0..set.examples.len())
            .filter(|&i| fold_of[i] == f)
            .collect();
        let twin_of_held = |i: usize| {
            fold_of[i] != f && !keys[i].is_empty() && held.iter().any(|&h| keys[h] == keys[i])
        };
        split_pairs += (0..set.examples.len()).filter(|&i| twin_of_held(i)).count();
        let scored = set.subset(|i| fold_of[i] == f).examples;
        // The fold's model is the one trained on the other fold less the
        // twins of its own texts, to the bit.
        let clean = train::fit(
            &params(),
            &set.subset(|i| fold_of[i] != f && !twin_of_held(i)),
        )
        .unwrap();
        let want = train::predict(&clean, &scored);
        let got: Vec<f64> = held.iter().map(|&i| cv.p[i]).collect();
        assert_eq!(got, want, "fold {f}");
        // And the twins matter: trained on them, the fold scores otherwise.
        let leaky = train::fit(&params(), &set.subset(|i| fold_of[i] != f)).unwrap();
        assert_ne!(train::predict(&leaky, &scored), want, "fold {f}");
    }
    // Each pair costs each of its rows one fold's training.
    assert!(twins > 5, "{twins}");
    assert_eq!(split_pairs, 2 * twins);
    assert_eq!(cv.twins_left_out, [twins as u64, twins as u64]);
}

#[test]
fn eval_reports_the_twins_it_left_out_for_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = sources_with_twins(dir.path());
    let set = train::load(&paths[..2], &[], &Columns::default()).unwrap();
    let cv = train::cross_validate(&params(), &set, 2).unwrap();
    let p: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let args = [
        "eval",
        "--folds",
        "2",
        "--min-df",
        "1",
        "--calibration-folds",
        "2",
    ];

    let out = satire(
        &[&args[..], &["--together", p[0], p[1], "--format", "json"]].concat(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for (k, r) in reports.as_array().unwrap().iter().enumerate() {
        assert_eq!(r["path"], p[k]);
        assert_eq!(r["twins_left_out"], cv.twins_left_out[k]);
    }

    let out = satire(&[&args[..], &["--together", p[0], p[1]]].concat(), None);
    let text = stdout(&out);
    let line = format!(
        "twins     {} training rows left out of a fold that holds out the same text",
        cv.twins_left_out[1]
    );
    assert!(text.contains(&line), "{text}");

    // Alone, the second file has no twins; a file holding both rows of
    // each pair has them all.
    for (path, has_twins) in [(p[1], false), (p[2], true)] {
        let out = satire(&[&args[..], &[path, "--format", "json"]].concat(), None);
        let reports: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let n = reports[0]["twins_left_out"].as_u64().unwrap();
        assert_eq!(n > 0, has_twins, "{path}: {n}");
    }
    // Scoring with a model reports no such figure.
    let out = satire(&["eval", p[0], "--format", "json"], None);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(reports[0].get("twins_left_out").is_none());
}

#[test]
fn a_file_cross_validated_with_its_own_copy_has_nothing_left_to_train_on() {
    // The copy starts with one new row of each class, so that every row
    // and its twin fall in different folds: each fold holds out one of
    // every pair, and the other is left out of its training.
    let dir = tempfile::tempdir().unwrap();
    let rows = seed_sentences(3);
    let extra = [
        ("real", "A row about the weather in a small town"),
        (
            "satire",
            "A row about a town whose weather refuses to comment",
        ),
    ];
    let copy: Vec<(String, String)> = (extra.iter())
        .map(|(l, t)| (l.to_string(), t.to_string()))
        .chain(rows.iter().cloned())
        .collect();
    let a = write(dir.path(), "a.csv", &csv_of(&rows));
    let b = write(dir.path(), "b.csv", &csv_of(&copy));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = satire(
        &["eval", "--folds", "2", "--min-df", "1", "--together", a, b],
        None,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cross-validation fold 1 of 2, trained without the ")
            && err.contains(" rows that repeat a text it holds out: ")
            && err.contains(a),
        "{err}"
    );
}

#[test]
fn a_fold_left_without_a_class_says_so_without_counting_twins_it_did_not_drop() {
    // One real row and three satirical ones, two folds: the fold that
    // holds out the real row trains on satire alone. No text repeats.
    let dir = tempfile::tempdir().unwrap();
    let rows = seed_sentences(3);
    let of = |label: &'static str, n: usize| rows.iter().filter(move |(l, _)| l == label).take(n);
    let picked: Vec<(String, String)> = of("real", 1).chain(of("satire", 3)).cloned().collect();
    let a = write(dir.path(), "a.csv", &csv_of(&picked));
    let a = a.to_str().unwrap();
    let out = satire(&["eval", "--folds", "2", "--min-df", "1", a], None);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cross-validation fold 1 of 2: "), "{err}");
    assert!(!err.contains("trained without"), "{err}");
    assert!(err.contains(a), "{err}");
}
