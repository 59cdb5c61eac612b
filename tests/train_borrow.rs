//! Borrowed priors: `--borrow` for every component, `--borrow-for NAME=SHARE`
//! for one of them.

mod common;
use common::*;

use std::path::PathBuf;

use satire::io::Columns;
use satire::model::{ComponentCounts, Model};
use satire::train::{self, TrainParams};

/// The seeds' sentences (three words or more), dealt round-robin into
/// three CSV sources, each with both classes.
fn three_sources(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = [Vec::new(), Vec::new(), Vec::new()];
    let mut dealt = [0usize; 2];
    for (label, text) in seed_sentences(3) {
        let class = usize::from(label == "satire");
        files[dealt[class] % 3].push((label, text));
        dealt[class] += 1;
    }
    files
        .iter()
        .enumerate()
        .map(|(k, rows)| write(dir, &format!("source{k}.csv"), &csv_of(rows)))
        .collect()
}

fn fit(paths: &[PathBuf], params: TrainParams) -> satire::Result<Model> {
    let set = train::load(paths, &[], &Columns::default()).unwrap();
    train::fit(&params.check()?, &set)
}

/// The parts of a component that decide its scores.
fn same_component(a: &ComponentCounts, b: &ComponentCounts) -> bool {
    a.columns == b.columns
        && a.classes == b.classes
        && a.borrow == b.borrow
        && a.borrowed == b.borrowed
        && a.calibration == b.calibration
}

#[test]
fn borrow_for_one_component_leaves_the_others_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let paths = three_sources(dir.path());
    let first = paths[0].to_str().unwrap().to_string();
    let base = || TrainParams {
        min_df: 1,
        folds: 2,
        ..TrainParams::default()
    };
    let shared = fit(&paths, base()).unwrap();
    let none = fit(
        &paths,
        TrainParams {
            borrow: 0.0,
            ..base()
        },
    )
    .unwrap();
    let mixed = fit(
        &paths,
        TrainParams {
            borrow_for: vec![(first.clone(), 0.0)],
            ..base()
        },
    )
    .unwrap();
    let (s, n, m) = (shared.components(), none.components(), mixed.components());
    assert_eq!(m.len(), 3);
    // The named component is the one trained with no borrowing at all...
    assert!(!m[0].borrowed && m[0].borrow == 0.0);
    assert!(same_component(&m[0], &n[0]));
    assert!(
        !same_component(&m[0], &s[0]),
        "the share made no difference"
    );
    // ...and the others are the ones trained with the default share.
    for k in 1..3 {
        assert!(m[k].borrowed && m[k].borrow == train::DEFAULT_BORROW);
        assert!(same_component(&m[k], &s[k]), "component {k} changed");
    }
    assert_eq!(mixed.meta().borrow, train::DEFAULT_BORROW);

    // A larger share than the default, for one component only.
    let more = fit(
        &paths,
        TrainParams {
            borrow_for: vec![(first.clone(), 0.6)],
            ..base()
        },
    )
    .unwrap();
    assert_eq!(more.components()[0].borrow, 0.6);
    assert!(!same_component(&more.components()[0], &s[0]));
    assert!(same_component(&more.components()[2], &s[2]));
}

#[test]
fn borrow_for_refuses_unknown_names_and_bad_shares() {
    let dir = tempfile::tempdir().unwrap();
    let paths = three_sources(dir.path());
    let err = fit(
        &paths,
        TrainParams {
            borrow_for: vec![("source9.csv".into(), 0.0)],
            ..TrainParams::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("source9.csv") && err.contains("source0.csv"),
        "{err}"
    );
    let name = paths[1].to_str().unwrap().to_string();
    for bad in [
        vec![(name.clone(), -0.1)],
        vec![(name.clone(), f64::NAN)],
        vec![(name.clone(), 0.1), (name.clone(), 0.2)],
    ] {
        let err = TrainParams {
            borrow_for: bad.clone(),
            ..TrainParams::default()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(err.contains(&name), "{bad:?}: {err}");
    }
    // On the command line: NAME=SHARE, or a usage error.
    let out = dir.path().join("m.satmodel");
    let p: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
    let train_with = |borrow_for: &str| {
        let o = out.to_str().unwrap();
        let args = ["train", "-q", "--min-df", "1", "-o", o, p[0], p[1], p[2]];
        let mut args = args.to_vec();
        args.extend(["--borrow-for", borrow_for]);
        satire(&args, None)
    };
    for (arg, says) in [
        (name.clone(), "NAME=SHARE"),
        (format!("{name}=lots"), "not a number"),
    ] {
        let r = train_with(&arg);
        assert_eq!(r.status.code(), Some(2), "{arg}");
        assert!(stderr(&r).contains(says), "{arg}: {}", stderr(&r));
    }
    // And a good one is reported by `inspect`.
    let r = train_with(&format!("{name}=0"));
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    let r = satire(&["inspect", out.to_str().unwrap()], None);
    let text = stdout(&r);
    let borrows: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("borrows"))
        .collect();
    assert_eq!(borrows.len(), 3, "{text}");
    // `name` is the second source.
    assert!(
        borrows[1].contains("nothing")
            && borrows[0].contains("0.15")
            && borrows[2].contains("0.15"),
        "{text}"
    );
}
