//! The hot path on real article text (the five seeds): tokenizing alone,
//! and raw bytes to P(satire) with the built-in default model.
//! Run with `cargo bench`; figures are MB/s of input text.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use satire::model::Model;
use satire::score::Scorer;
use satire::tokenize::TokenBuffers;

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

fn hot_path(c: &mut Criterion) {
    let texts = seeds();
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let model = Model::embedded().expect("default model");
    let tokenizer = model.tokenizer();

    let mut g = c.benchmark_group("seeds");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("tokenize", |b| {
        let mut bufs = TokenBuffers::default();
        b.iter(|| {
            let mut n = 0usize;
            for t in &texts {
                tokenizer.for_each_token(black_box(t), &mut bufs, |tok| n += tok.len());
            }
            n
        })
    });
    g.bench_function("score", |b| {
        let mut scorer = Scorer::new(&model);
        b.iter(|| {
            texts
                .iter()
                .map(|t| scorer.score(black_box(t)).p_satire)
                .sum::<f64>()
        })
    });
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
