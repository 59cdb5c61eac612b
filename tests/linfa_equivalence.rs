//! The sparse scoring table equals linfa-bayes on real text, chunked
//! `fit_with` training equals one `fit`, and the shape router equals
//! linfa's `GaussianNb`.

mod common;
use common::*;

use linfa::prelude::*;
use linfa_bayes::{GaussianNb, MultinomialNb, NaiveBayes};
use ndarray::{Array1, Array2};
use satire::io::Example;
use satire::model::{Counting, Model};
use satire::score::{sigmoid, Scorer};
use satire::tokenize::text_shape;
use satire::train::{self, TrainParams, TrainingSet};

/// Dense count rows of `texts` over component 0's linfa columns, counted
/// as the model counts: 1 for a token present, or its occurrences.
fn dense(model: &Model, texts: &[String]) -> Array2<f64> {
    let cols = &model.components()[0].columns;
    let tok = model.tokenizer();
    let mut x = Array2::zeros((texts.len(), cols.len()));
    for (i, t) in texts.iter().enumerate() {
        for token in tok.tokens(t) {
            if let Some(c) = model.column(&token) {
                if let Ok(local) = cols.binary_search(&c) {
                    x[[i, local]] += 1.0;
                }
            }
        }
    }
    x.mapv_inplace(|n| model.counting().counted(n as u64) as f64);
    x
}

fn seed_model(params: TrainParams) -> (Model, TrainingSet) {
    let set = seed_set();
    let model = train::fit(&params.check().unwrap(), &set).unwrap();
    (model, set)
}

const COUNTINGS: [Counting; 2] = [Counting::Presence, Counting::Frequency];

#[test]
fn sparse_posterior_equals_linfa_joint_log_likelihood() {
    for counting in COUNTINGS {
        sparse_posterior_equals_linfa(counting);
    }
}

fn sparse_posterior_equals_linfa(counting: Counting) {
    let (model, set) = seed_model(TrainParams {
        min_df: 1,
        calibrate: false,
        counting,
        ..Default::default()
    });
    assert_eq!(model.counting(), counting);
    let texts: Vec<String> = set.examples.iter().map(|e| e.text.clone()).collect();
    let nb = model.to_linfa(0);
    let x = dense(&model, &texts);
    let jll = nb.joint_log_likelihood(x.view());
    let mut scorer = Scorer::new(&model).calibrated(false);
    for (i, text) in texts.iter().enumerate() {
        let (s, r) = (jll[&1][i], jll[&0][i]);
        // linfa's posterior, normalised in log space.
        let m = s.max(r);
        let p_linfa = (s - m).exp() / ((s - m).exp() + (r - m).exp());
        let ours = scorer.score(text);
        assert!(
            (ours.log_odds - (s - r)).abs() <= 1e-9 * (s - r).abs().max(1.0),
            "{counting:?} {i}: {} vs {}",
            ours.log_odds,
            s - r
        );
        assert!((ours.p_satire - p_linfa).abs() < 1e-9, "{counting:?} {i}");
        assert!((sigmoid(s - r) - p_linfa).abs() < 1e-12);
    }
}

#[test]
fn chunked_fit_with_equals_one_fit_and_round_trips_exactly() {
    for counting in COUNTINGS {
        chunked_fit_with_equals_one_fit(counting);
    }
}

fn chunked_fit_with_equals_one_fit(counting: Counting) {
    // A 1 MiB chunk budget forces several fit_with chunks over the seeds'
    // vocabulary; the model rebuilt from the file must equal linfa's own fit.
    let (model, set) = seed_model(TrainParams {
        min_df: 1,
        chunk_mb: 1,
        counting,
        ..Default::default()
    });
    let texts: Vec<String> = set.examples.iter().map(|e| e.text.clone()).collect();
    let x = dense(&model, &texts);
    let y: Array1<usize> = set.examples.iter().map(|e| e.label.index()).collect();
    let direct: MultinomialNb<f64, usize> = MultinomialNb::params()
        .alpha(1.0)
        .fit(&DatasetBase::new(x, y))
        .unwrap();
    assert_eq!(model.to_linfa(0), direct);
    let reloaded = Model::from_bytes(&model.to_bytes(), std::path::Path::new("mem")).unwrap();
    assert_eq!(reloaded.to_linfa(0), direct);
}

#[test]
fn borrowed_prior_gives_the_same_counts_for_any_chunk_size() {
    // Two components, each borrowing fractional counts from the other: the
    // borrowed prior is fitted after the documents, so the chunking of the
    // (integer) document counts cannot change how it rounds.
    let set = two_source_set();
    let fit = |chunk_mb: usize| {
        train::fit(
            &TrainParams {
                min_df: 1,
                chunk_mb,
                ..Default::default()
            }
            .check()
            .unwrap(),
            &set,
        )
        .unwrap()
    };
    let (small, large) = (fit(1), fit(1024));
    let comps = small.components();
    assert!(comps.iter().all(|c| c.borrowed), "both components borrow");
    // A 1 MiB budget over the paragraphs' columns is more than one chunk.
    let rows_per_chunk = (1usize << 20) / (8 * comps[1].columns.len());
    let paragraphs = set.source_of.iter().filter(|&&s| s == 1).count();
    assert!(
        paragraphs > rows_per_chunk,
        "{paragraphs} rows, {rows_per_chunk} a chunk"
    );
    assert!(comps[1].classes[1]
        .feature_count
        .iter()
        .any(|n| n.fract() != 0.0));
    for (a, b) in comps.iter().zip(large.components()) {
        for (ca, cb) in a.classes.iter().zip(&b.classes) {
            let differ = ca
                .feature_count
                .iter()
                .zip(&cb.feature_count)
                .filter(|(x, y)| x != y)
                .count();
            assert_eq!(differ, 0, "{}: counts differ in {differ} columns", a.name);
        }
    }
    assert!(small.to_bytes() == large.to_bytes(), "model files differ");
}

#[test]
fn posterior_is_finite_for_any_length() {
    let model = Model::embedded().unwrap();
    let mut scorer = Scorer::new(&model).calibrated(false);
    let long = seed_texts()[0].0.repeat(200); // ~500 KB of article text
    let s = scorer.score(&long);
    assert!(s.log_odds.is_finite() && s.p_satire.is_finite(), "{s:?}");
    let mut cal = Scorer::new(&model);
    let s = cal.score(&long);
    assert!(s.log_odds.is_finite() && (0.0..=1.0).contains(&s.p_satire));
}

/// Two sources of real text: the seed articles, and their paragraphs as
/// short texts with the article's label.
fn two_source_set() -> TrainingSet {
    let mut set = seed_set();
    let paragraphs: Vec<Example> = set
        .examples
        .iter()
        .flat_map(|e| {
            e.text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Example {
                    id: String::new(),
                    label: e.label,
                    text: l.to_string(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    set.source_of
        .extend(std::iter::repeat_n(1, paragraphs.len()));
    set.examples.extend(paragraphs);
    set
}

#[test]
fn shape_router_equals_linfa_gaussian_nb() {
    let set = two_source_set();
    let model = train::fit(
        &TrainParams {
            min_df: 1,
            calibrate: false,
            ..Default::default()
        }
        .check()
        .unwrap(),
        &set,
    )
    .unwrap();
    assert_eq!(model.components().len(), 2);
    let shapes: Vec<[f64; 2]> = set.examples.iter().map(|e| text_shape(&e.text)).collect();
    let x = Array2::from_shape_fn((shapes.len(), 2), |(i, j)| shapes[i][j]);
    let y: Array1<usize> = set.source_of.iter().copied().collect();
    let direct: GaussianNb<f64, usize> = GaussianNb::params()
        .fit(&DatasetBase::new(x.clone(), y))
        .unwrap();
    assert_eq!(model.shape_router_to_linfa(), direct);
    let reloaded = Model::from_bytes(&model.to_bytes(), std::path::Path::new("mem")).unwrap();
    assert_eq!(reloaded.shape_router_to_linfa(), direct);
    // The router's posterior over components is linfa's, normalised in
    // log space, on every text.
    let jll = direct.joint_log_likelihood(x.view());
    let mut scorer = Scorer::new(&model);
    let mut routed = [0, 0];
    for (i, e) in set.examples.iter().enumerate() {
        let (a, b) = (jll[&0][i], jll[&1][i]);
        let m = a.max(b);
        let p0 = (a - m).exp() / ((a - m).exp() + (b - m).exp());
        let s = scorer.score(&e.text);
        let ours_p0 = if s.component == 0 {
            s.component_p
        } else {
            1.0 - s.component_p
        };
        assert!((ours_p0 - p0).abs() < 1e-9, "{i}: {ours_p0} vs {p0}");
        routed[s.component] += 1;
    }
    // And it routes: articles to the article component, paragraphs mostly
    // to the paragraph one.
    assert!(set.examples[..5]
        .iter()
        .all(|e| scorer.score(&e.text).component == 0));
    assert!(routed[1] > routed[0], "{routed:?}");
}
