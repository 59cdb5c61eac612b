//! The fast path equals the reference path on every real text we have (the
//! seeds, and every row of every dataset in `../shared/datasets` when that
//! folder is present): the tokenizer gives exactly the same tokens and
//! offsets as `unicode-segmentation`, the scorer, through the scoring
//! table, exactly the same scores as string lookups in the vocabulary, and
//! `explain`'s one-at-a-time lookups of the tokenizer's pieces the same
//! tokens as lookups of their strings.

mod common;
use common::*;

use std::path::Path;

use satire::io::{read_labelled, Columns};
use satire::model::Model;
use satire::score::Scorer;
use satire::table::PieceLookups;
use satire::tokenize::{Piece, TokenBuffers, Tokenizer, TokenizerConfig};

/// What [`PieceLookups`] found among the tokens of `texts`: (words, pairs,
/// tokens not found). Asserts that it finds each piece as the scoring
/// table finds the piece's token string, at the same offset.
fn check_pieces(model: &Model, texts: &[&str], what: &str) -> (usize, usize, usize) {
    let table = model.scoring_table();
    let tok = model.tokenizer();
    let mut lookups = PieceLookups::new(table);
    let mut bufs = TokenBuffers::default();
    let mut counts = (0, 0, 0);
    for (i, text) in texts.iter().enumerate() {
        let mut found = Vec::new();
        tok.for_each_piece(text, &mut bufs, |at, piece| {
            let pair = matches!(piece, Piece::Pair(..));
            found.push((at, lookups.find(table, piece), pair));
        });
        let tokens = tok.tokens_at(text, false);
        assert_eq!(found.len(), tokens.len(), "{what}: text {i}");
        for ((at, hit, pair), (t_at, t)) in found.into_iter().zip(&tokens) {
            assert_eq!((at, hit), (*t_at, table.get(t)), "{what}: text {i}, {t:?}");
            match (hit, pair) {
                (None, _) => counts.2 += 1,
                (Some(_), true) => counts.1 += 1,
                (Some(_), false) => counts.0 += 1,
            }
        }
    }
    counts
}

fn check_file(path: &Path) -> usize {
    let rows = read_labelled(path, &Columns::default()).expect("labelled file reads");
    let model = Model::embedded().expect("default model");
    let texts: Vec<&str> = rows.iter().map(|ex| ex.text.as_str()).collect();
    let (words, pairs, missed) = check_pieces(&model, &texts, &path.display().to_string());
    assert!(
        words > 0 && pairs > 0 && missed > 0,
        "{}: {words} words and {pairs} pairs found, {missed} tokens not",
        path.display()
    );
    let mut fast = Scorer::new(&model);
    let mut reference = Scorer::new(&model).reference_path(true);
    for ex in &rows {
        assert_eq!(
            fast.score(&ex.text),
            reference.score(&ex.text),
            "{}: row {}",
            path.display(),
            ex.id
        );
    }
    let configs = [
        TokenizerConfig::default(),
        TokenizerConfig {
            lowercase: true,
            ..TokenizerConfig::default()
        },
    ];
    for cfg in configs {
        let tok = Tokenizer::new(cfg);
        for ex in &rows {
            assert_eq!(
                tok.tokens_at(&ex.text, false),
                tok.tokens_at(&ex.text, true),
                "{}: row {}",
                path.display(),
                ex.id
            );
        }
    }
    rows.len()
}

#[test]
fn fast_path_equals_reference_on_the_seeds() {
    let n = check_file(&seeds());
    assert_eq!(n, 5);
}

#[test]
fn fast_path_equals_reference_on_every_dataset_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets");
    if !root.is_dir() {
        eprintln!("skipped: {} not present", root.display());
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("datasets folder lists")
        .flatten()
        .flat_map(|d| ["train.csv", "test.csv"].map(|f| d.path().join(f)))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let rows: usize = files.iter().map(|f| check_file(f)).sum();
    assert!(rows > 50_000, "expected every dataset row, saw {rows}");
}

#[test]
fn cli_output_is_byte_identical_through_the_reference_path() {
    let fast = satire(&["score", "corpus/seeds", "--threads", "2"], None);
    let reference = satire(
        &[
            "score",
            "corpus/seeds",
            "--reference-path",
            "--threads",
            "1",
        ],
        None,
    );
    assert_eq!(fast.status.code(), Some(0), "{}", stderr(&fast));
    assert_eq!(score_rows(&fast).len(), 5);
    assert_eq!(fast.stdout, reference.stdout);
}
