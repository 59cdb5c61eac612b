//! The hot path on real article text, with the built-in default model.
//! Run with `cargo bench`; throughput is MB/s of input text.
//!
//! | bench | what |
//! |---|---|
//! | `tokenize/fast` | the scoring path's tokenizer alone (pieces, no lookups) |
//! | `tokenize/reference` | the unicode-segmentation reference path alone |
//! | `score/one_article` | bytes to P(satire), seed `000` |
//! | `score/batch_1_thread` | a folder's worth of articles, one thread |
//! | `score/batch_all_cores` | the same on all cores (rayon), one scorer per thread kept across iterations, as `satire score` keeps one per thread for a run |
//! | `train/seeds` | training on the five seeds (one component) |
//!
//! The batch is the 150 full articles of horne2017 (`train.csv` and
//! `test.csv`) when `../shared/datasets` is beside the checkout, else the
//! seeds thirty times over.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use satire::io::{read_labelled, Columns, Example};
use satire::model::{Label, Model};
use satire::score::{PerThread, Scorer};
use satire::tokenize::TokenBuffers;
use satire::train::{self, TrainParams, TrainingSet};

fn seeds() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/seeds");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus/seeds")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("seed text"))
        .collect()
}

fn articles() -> Vec<String> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/datasets/horne2017-political-satire"
    );
    let files = ["train.csv", "test.csv"].map(|f| std::path::Path::new(dir).join(f));
    if files.iter().all(|f| f.is_file()) {
        files
            .iter()
            .flat_map(|f| read_labelled(f, &Columns::default()).expect("horne2017 reads"))
            .map(|e| e.text)
            .collect()
    } else {
        let seeds = seeds();
        (0..30).flat_map(|_| seeds.iter().cloned()).collect()
    }
}

fn bytes_of(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.len() as u64).sum()
}

fn tokenize(c: &mut Criterion) {
    let texts = seeds();
    let tokenizer = Model::embedded().expect("default model").tokenizer();
    let mut g = c.benchmark_group("tokenize");
    g.throughput(Throughput::Bytes(bytes_of(&texts)));
    g.bench_function("fast", |b| {
        let mut bufs = TokenBuffers::default();
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                tokenizer.for_each_piece(black_box(t), &mut bufs, |_, _| n += 1);
            }
            n
        })
    });
    g.bench_function("reference", |b| {
        let mut bufs = TokenBuffers::default();
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                tokenizer
                    .for_each_token_at_reference(black_box(t), &mut bufs, |_, tok| n += tok.len());
            }
            n
        })
    });
    g.finish();
}

fn score(c: &mut Criterion) {
    let model = Model::embedded().expect("default model");
    let one = &seeds()[0];
    let batch = articles();
    let mut g = c.benchmark_group("score");
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("one_article", |b| {
        let mut scorer = Scorer::new(&model);
        b.iter(|| scorer.score(black_box(one)).p_satire)
    });
    g.throughput(Throughput::Bytes(bytes_of(&batch)));
    g.bench_function("batch_1_thread", |b| {
        let mut scorer = Scorer::new(&model);
        b.iter(|| {
            batch
                .iter()
                .map(|t| scorer.score(black_box(t)).p_satire)
                .sum::<f64>()
        })
    });
    g.bench_function("batch_all_cores", |b| {
        // One scorer per pool thread, kept across iterations as
        // `batch_1_thread` keeps its one, and as `satire score` keeps one
        // per thread for a whole run.
        let scorers = PerThread::new(rayon::current_num_threads(), || Scorer::new(&model));
        b.iter(|| {
            batch
                .par_iter()
                .map(|t| scorers.with(|s| s.score(black_box(t)).p_satire))
                .sum::<f64>()
        })
    });
    g.finish();
}

fn training(c: &mut Criterion) {
    let texts = seeds();
    let set = TrainingSet {
        examples: texts
            .iter()
            .enumerate()
            .map(|(i, t)| Example {
                id: i.to_string(),
                label: if i == 0 { Label::Satire } else { Label::Real },
                text: t.clone(),
            })
            .collect(),
        source_of: vec![0; texts.len()],
        ..Default::default()
    };
    let params = TrainParams {
        min_df: 1,
        calibrate: false,
        ..Default::default()
    }
    .check()
    .expect("valid parameters");
    let mut g = c.benchmark_group("train");
    g.throughput(Throughput::Bytes(bytes_of(&texts)));
    g.sample_size(20);
    g.bench_function("seeds", |b| {
        b.iter(|| train::fit(&params, black_box(&set)).expect("fits"))
    });
    g.finish();
}

criterion_group!(benches, tokenize, score, training);
criterion_main!(benches);
