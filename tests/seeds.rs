//! The default model on the reference articles (corpus/seeds): the
//! README's first command.

mod common;
use common::*;

#[test]
fn default_model_labels_the_seeds() {
    let out = satire(&["score", "corpus/seeds"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = score_rows(&out);
    assert_eq!(rows.len(), 5, "one row per seed, labels.csv skipped");
    for (id, label, p, err) in &rows {
        assert!(err.is_empty(), "{id}: {err}");
        let want = if id.contains("/000_") {
            "satire"
        } else {
            "real"
        };
        assert_eq!(label, want, "{id}: p_satire {p:?}");
    }
    // The satirical report is scored more satirical than every straight one.
    let p_sat = rows[0].2.unwrap();
    assert!(rows[0].0.contains("/000_"));
    assert!(rows[1..].iter().all(|r| r.2.unwrap() < p_sat));
}

#[test]
fn default_model_seed_000_is_confident() {
    // Issue 2: the satirical report scores p_satire >= 0.9.
    let out = satire(&["score", "corpus/seeds/000_ee9cb40c4d31c8bb.txt"], None);
    let rows = score_rows(&out);
    assert!(rows[0].2.unwrap() >= 0.9, "{rows:?}");
}

#[test]
fn length_is_not_evidence() {
    // The calibration averages evidence over the known tokens: the same
    // article twice over is the same article, and keeps its label and its
    // score (up to the router, which sees a longer text).
    let texts = seed_texts();
    let model = satire::model::Model::embedded().unwrap();
    let mut scorer = satire::score::Scorer::new(&model);
    for (i, (text, _label)) in texts.iter().enumerate() {
        let once = scorer.score(text);
        let twice = scorer.score(&format!("{text}\n{text}"));
        assert_eq!(once.p_satire >= 0.5, twice.p_satire >= 0.5, "seed {i}");
        assert!(
            (once.p_satire - twice.p_satire).abs() < 0.05,
            "seed {i}: {} once, {} twice",
            once.p_satire,
            twice.p_satire
        );
    }
}

#[test]
fn eval_on_seeds_reports_perfect_accuracy() {
    let out = satire(&["eval", "corpus/seeds", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["n"], 5);
    assert_eq!(v[0]["accuracy"], 1.0);
    assert_eq!(v[0]["confusion"], serde_json::json!([[4, 0], [0, 1]]));
}

#[test]
fn eval_reads_the_seeds_from_jsonl_starting_with_a_byte_order_mark() {
    // The first line's mark is skipped, not reported as invalid JSON.
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::from("\u{feff}");
    for (i, (text, label)) in seed_texts().into_iter().enumerate() {
        let row = serde_json::json!({"id": i, "label": label, "text": text});
        jsonl.push_str(&format!("{row}\n"));
    }
    let file = write(dir.path(), "seeds.jsonl", &jsonl);
    let out = satire(&["eval", file.to_str().unwrap(), "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["n"], 5);
    assert_eq!(v[0]["confusion"], serde_json::json!([[4, 0], [0, 1]]));
}

#[test]
fn eval_leaves_a_bad_row_out_of_the_figures_names_it_and_says_so_in_its_exit_code() {
    // Regression: the first bad row (a typo in a label, say) stopped the
    // whole evaluation, as if every other row were unusable too.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = csv::Writer::from_writer(Vec::new());
    rows.write_record(["id", "label", "text"]).unwrap();
    let mut line = 1;
    let mut bad_lines = Vec::new();
    for (i, (text, label)) in seed_texts().into_iter().enumerate() {
        rows.write_record([format!("s{i}").as_str(), &label, &text])
            .unwrap();
        line += 1 + text.matches('\n').count();
        rows.write_record([format!("x{i}").as_str(), "satirical", "Area man wins"])
            .unwrap();
        line += 1;
        bad_lines.push(line);
    }
    rows.write_record(["e", "real", "  "]).unwrap();
    line += 1;
    let file = write(
        dir.path(),
        "mixed.csv",
        &String::from_utf8(rows.into_inner().unwrap()).unwrap(),
    );
    let f = file.to_str().unwrap();
    let out = satire(&["eval", f, "--format", "json"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The figures are the seeds' own, as eval of the seeds alone gives.
    assert_eq!(v[0]["n"], 5);
    assert_eq!(v[0]["accuracy"], 1.0);
    assert_eq!(v[0]["confusion"], serde_json::json!([[4, 0], [0, 1]]));
    let errors: Vec<&str> = v[0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let mut want: Vec<String> = bad_lines
        .iter()
        .map(|l| format!("{f}, line {l}: unknown label `satirical`"))
        .collect();
    want.push(format!("{f}, line {line}: empty text"));
    assert_eq!(errors.len(), want.len(), "{errors:?}");
    for (got, want) in errors.iter().zip(&want) {
        assert!(got.starts_with(want.as_str()), "{got} / {want}");
    }
    assert!(
        stderr(&out).contains(&format!("{f}: 6 rows in error, left out of its figures")),
        "{}",
        stderr(&out)
    );
    // Text lists the first five and says how many more.
    let out = satire(&["eval", f], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("errors    6 rows left out of these figures:"),
        "{text}"
    );
    assert!(
        text.contains(&want[4]) && !text.contains(&want[5]),
        "{text}"
    );
    assert!(
        text.contains("... and 1 more (--format json lists them all)"),
        "{text}"
    );
    // Training still stops at the first bad row.
    let model = dir.path().join("m.satmodel");
    let out = satire(&["train", "-q", "-o", model.to_str().unwrap(), f], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&want[0]), "{}", stderr(&out));
}
