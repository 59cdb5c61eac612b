//! `satire train --update`: adding labelled data to an updatable model
//! gives exactly the model training on all of it at once gives.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use satire::model::Model;

fn train(args: &[&str]) {
    let mut all = vec!["train", "-q"];
    all.extend_from_slice(args);
    let out = satire(&all, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Everything of a model but its provenance (source names, created-by)
/// must be equal: the parts that decide every score. Says which part
/// differs rather than printing megabytes.
fn assert_same_model(a: &Model, b: &Model) {
    let settings = |m: &Model| {
        let meta = m.meta();
        (
            meta.tokenizer.clone(),
            meta.alpha,
            meta.min_df,
            meta.max_features,
            meta.prior_satire,
            meta.borrow,
        )
    };
    assert!(settings(a) == settings(b), "settings differ");
    assert!(a.vocab().text() == b.vocab().text(), "vocabularies differ");
    assert_eq!(a.components().len(), b.components().len());
    for (k, (x, y)) in a.components().iter().zip(b.components()).enumerate() {
        assert!(x.columns == y.columns, "component {k}: columns differ");
        assert!(x.classes == y.classes, "component {k}: linfa counts differ");
        assert!(
            x.borrow == y.borrow && x.borrowed == y.borrowed,
            "component {k}: borrowing differs"
        );
        assert!(
            x.calibration == y.calibration,
            "component {k}: calibration differs: {:?} vs {:?}",
            x.calibration,
            y.calibration
        );
        assert!(x.shape == y.shape, "component {k}: router Gaussian differs");
    }
    assert!(
        a.training_state() == b.training_state(),
        "training states differ"
    );
}

fn score_output(model: &Path, inputs: &[&Path]) -> String {
    let mut args = vec!["score", "-m", model.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = satire(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn update_on_two_halves_equals_training_on_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let rows = seed_sentences(3);
    let (satire_rows, real_rows): (Vec<_>, Vec<_>) =
        rows.iter().cloned().partition(|r| r.0 == "satire");
    assert!(satire_rows.len() >= 12 && real_rows.len() >= 40);
    // The first half has both classes; the second is half the satire
    // sentences alone (additions need not hold both classes).
    let cut = satire_rows.len() / 2;
    let first: Vec<_> = real_rows
        .iter()
        .chain(&satire_rows[..cut])
        .cloned()
        .collect();
    let second: Vec<_> = satire_rows[cut..].to_vec();
    let whole: Vec<_> = first.iter().chain(&second).cloned().collect();
    let p = |name: &str| dir.path().join(name);
    write(dir.path(), "first.csv", &csv_of(&first));
    write(dir.path(), "second.csv", &csv_of(&second));
    write(dir.path(), "whole.csv", &csv_of(&whole));
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (first_m, updated_m, whole_m) = (
        p("first.satmodel"),
        p("updated.satmodel"),
        p("whole.satmodel"),
    );
    // min-df 1 and 5 calibration folds: every token and the calibration
    // depend on both halves.
    train(&[
        "--updatable",
        "--min-df",
        "1",
        "-o",
        &s(&first_m),
        &s(&p("first.csv")),
    ]);
    train(&[
        "--update",
        &s(&first_m),
        "-o",
        &s(&updated_m),
        &s(&p("second.csv")),
    ]);
    train(&[
        "--updatable",
        "--min-df",
        "1",
        "-o",
        &s(&whole_m),
        &s(&p("whole.csv")),
    ]);

    let first = Model::load(&first_m).unwrap();
    let updated = Model::load(&updated_m).unwrap();
    let whole = Model::load(&whole_m).unwrap();
    assert_same_model(&updated, &whole);
    // The update changed the model: new tokens, new counts, new calibration.
    assert!(updated.vocab().len() > first.vocab().len());
    assert_ne!(
        updated.components()[0].calibration,
        first.components()[0].calibration
    );
    assert_eq!(
        updated.training_state().unwrap().documents.len(),
        whole.training_state().unwrap().documents.len()
    );
    // Provenance says what happened.
    let sources: Vec<&str> = updated
        .meta()
        .sources
        .iter()
        .map(|s| s.path.as_str())
        .collect();
    assert!(sources[0].ends_with("first.csv") && sources[1].ends_with("second.csv"));
    // And every score is the same, byte for byte.
    let inputs = [p("whole.csv"), seeds()];
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    assert_eq!(
        score_output(&updated_m, &inputs),
        score_output(&whole_m, &inputs)
    );
}

#[test]
fn update_into_one_of_several_components_equals_training_at_once() {
    let onion = root().join("../shared/datasets/onion-or-not/train.csv");
    let misra = root().join("../shared/datasets/misra-sarcasm-headlines-v2/train.csv");
    if !onion.exists() || !misra.exists() {
        eprintln!("skipped: ../shared/datasets is not beside the checkout");
        return;
    }
    let read = |p: &Path, n: usize| -> Vec<(String, String)> {
        let mut r = csv::Reader::from_path(p).unwrap();
        r.records()
            .take(n)
            .map(|rec| {
                let rec = rec.unwrap();
                (rec[1].to_string(), rec[2].to_string())
            })
            .collect()
    };
    let onion_rows = read(&onion, 3000);
    let misra_rows = read(&misra, 2000);
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str, rows: &[(String, String)]| {
        write(dir.path(), name, &csv_of(rows))
            .to_str()
            .unwrap()
            .to_string()
    };
    let (o1, o2, o_all, m) = (
        f("onion1.csv", &onion_rows[..2000]),
        f("onion2.csv", &onion_rows[2000..]),
        f("onion.csv", &onion_rows),
        f("misra.csv", &misra_rows),
    );
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // Two components, each borrowing from the other: adding to one changes
    // the other's borrowed prior too. misra's share is its own, which the
    // update must keep.
    let misra_share = format!("{m}=0.4");
    train(&[
        "--updatable",
        "-o",
        &out("a.satmodel"),
        &o1,
        &m,
        "--borrow-for",
        &misra_share,
    ]);
    let wrong = satire(
        &[
            "train",
            "--update",
            &out("a.satmodel"),
            "-o",
            &out("x.satmodel"),
            &o2,
        ],
        None,
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("--into"), "{}", stderr(&wrong));
    train(&[
        "--update",
        &out("a.satmodel"),
        "--into",
        &o1,
        "-o",
        &out("b.satmodel"),
        &o2,
    ]);
    train(&[
        "--updatable",
        "-o",
        &out("c.satmodel"),
        &o_all,
        &m,
        "--borrow-for",
        &misra_share,
    ]);
    let updated = Model::load(Path::new(&out("b.satmodel"))).unwrap();
    let whole = Model::load(Path::new(&out("c.satmodel"))).unwrap();
    assert_eq!(updated.components().len(), 2);
    assert_eq!(updated.components()[1].borrow, 0.4);
    assert_same_model(&updated, &whole);
    let inputs = [PathBuf::from(&o_all), PathBuf::from(&m)];
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    assert_eq!(
        score_output(Path::new(&out("b.satmodel")), &inputs),
        score_output(Path::new(&out("c.satmodel")), &inputs)
    );
}

#[test]
fn update_refuses_what_it_cannot_do_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "more.csv", &csv_of(&seed_sentences(3)));
    let data = data.to_str().unwrap();
    let out_model = dir.path().join("out.satmodel");
    let o = out_model.to_str().unwrap();
    // The default model keeps no training state.
    let r = satire(
        &[
            "train",
            "--update",
            "models/default.satmodel",
            "-o",
            o,
            data,
        ],
        None,
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--updatable"), "{}", stderr(&r));
    // Settings come from the model: changing one is a usage error.
    let r = satire(
        &[
            "train",
            "--update",
            "models/default.satmodel",
            "--alpha",
            "0.5",
            "-o",
            o,
            data,
        ],
        None,
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--alpha"), "{}", stderr(&r));
    // An unknown component is named, with the ones there are.
    let m = dir.path().join("m.satmodel");
    train(&["--updatable", "-o", m.to_str().unwrap(), data]);
    let r = satire(
        &[
            "train",
            "--update",
            m.to_str().unwrap(),
            "--into",
            "nope",
            "-o",
            o,
            data,
        ],
        None,
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("nope") && stderr(&r).contains("more.csv"),
        "{}",
        stderr(&r)
    );
    assert!(!out_model.exists());
}

#[test]
fn update_holds_out_what_the_model_held_out() {
    // Regression: an update forgot the model's held-out files: their
    // texts in the new data were trained on while the model still said
    // they were kept out, and its held-out figures were dropped.
    let dir = tempfile::tempdir().unwrap();
    let rows = seed_sentences(3);
    let (satire_rows, real_rows): (Vec<_>, Vec<_>) =
        rows.iter().cloned().partition(|r| r.0 == "satire");
    let held: Vec<_> = satire_rows[..3]
        .iter()
        .chain(&real_rows[..6])
        .cloned()
        .collect();
    let first: Vec<_> = satire_rows[3..9]
        .iter()
        .chain(&real_rows[6..26])
        .cloned()
        .collect();
    // The new data repeats every held-out text.
    let second: Vec<_> = satire_rows[9..]
        .iter()
        .chain(&real_rows[26..])
        .chain(&held)
        .cloned()
        .collect();
    let whole: Vec<_> = first.iter().chain(&second).cloned().collect();
    let p = |name: &str| dir.path().join(name);
    let s = |name: &str| p(name).to_str().unwrap().to_string();
    write(dir.path(), "held.csv", &csv_of(&held));
    write(dir.path(), "first.csv", &csv_of(&first));
    write(dir.path(), "second.csv", &csv_of(&second));
    write(dir.path(), "whole.csv", &csv_of(&whole));
    let settings = ["--updatable", "--min-df", "1", "--heldout"];
    let with = |out: &str, data: &str| -> Vec<String> {
        let mut a: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
        a.extend([s("held.csv"), "-o".into(), s(out), s(data)]);
        a
    };
    for (out, data) in [
        ("first.satmodel", "first.csv"),
        ("whole.satmodel", "whole.csv"),
    ] {
        let a = with(out, data);
        train(&a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let update = [
        "train",
        "--update",
        &s("first.satmodel"),
        "-o",
        &s("updated.satmodel"),
        &s("second.csv"),
    ];
    let out = satire(&update, None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("holding out the texts of {}", s("held.csv"))),
        "{err}"
    );

    let updated = Model::load(&p("updated.satmodel")).unwrap();
    let whole = Model::load(&p("whole.satmodel")).unwrap();
    assert_same_model(&updated, &whole);
    let second_source = &updated.meta().sources[1];
    assert_eq!(second_source.dropped_overlap, held.len() as u64);
    assert_eq!(updated.meta().heldout, whole.meta().heldout);
    assert_eq!(updated.meta().heldout.len(), 1);

    // Moved, the held-out file stops the update with what to do; named
    // again with --heldout, it is held out from where it is now.
    std::fs::rename(p("held.csv"), p("moved.csv")).unwrap();
    let out = satire(&update, None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "was trained holding out the texts of {}, which cannot be read",
            s("held.csv")
        )) && err.contains("give --heldout"),
        "{err}"
    );
    let mut again: Vec<&str> = update.to_vec();
    let moved = s("moved.csv");
    again.extend(["--heldout", &moved]);
    let out = satire(&again, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_same_model(&Model::load(&p("updated.satmodel")).unwrap(), &whole);
}
