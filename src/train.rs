//! Training: labelled texts to a [`Model`].
//!
//! 1. Texts are read ([`crate::io::read_labelled`]); any whose folded form
//!    (lower case, `’` as `'`, only letters and digits, single spaces) also
//!    occurs in a held-out file is dropped and counted.
//! 2. The vocabulary keeps tokens found in at least `min_df` documents, the
//!    `max_features` most frequent by document count (ties by token).
//! 3. Each training source (each input path) becomes one component of the
//!    model (see [`crate::model`]); with `one_component` they are pooled.
//!    Each component's `linfa_bayes::MultinomialNb` is fitted with `fit_with` over chunks of
//!    dense rows sized to a memory budget, so memory stays bounded however
//!    large the corpus. linfa-bayes 0.8.1 `dbg!`s the whole model at every
//!    chunk: this package builds a copy without that line
//!    (`vendor/linfa-bayes`), and on Unix standard error goes to `/dev/null`
//!    around each call, for builds where that patch does not apply.
//!    With several components, each starts from a prior borrowed from the
//!    others' counts (`borrow`), fed to linfa as one extra document per
//!    class, in a last chunk of its own so that the fitted counts do not
//!    depend on the chunk size.
//! 4. Calibration ([`crate::model::Calibration`]) is fitted by logistic
//!    regression on out-of-fold naive-Bayes evidence of the training data
//!    (stratified folds), averaged over the known tokens
//!    ([`CALIBRATION_GAMMA`]); each fold's vocabulary and weights are
//!    computed exactly as the final model's are. Held-out files are never
//!    used for it.
//!
//! # Parameters
//!
//! | name | default | purpose | range |
//! |---|---|---|---|
//! | `alpha` | 1.0 | additive smoothing | > 0, finite |
//! | `min_df` | 2 | minimum document frequency | >= 1 |
//! | `max_features` | 200,000 | vocabulary cap | >= 1 |
//! | `chunk_mb` | 16 | dense chunk budget for linfa | >= 1 |
//! | `prior_satire` | fitted | class prior of satire | (0, 1) |
//! | `calibrate` | true | fit the calibration (a component with fewer examples of a class than `folds` keeps the raw posterior) | |
//! | `folds` | 5 | folds for the calibration | >= 2 |
//! | `one_component` | false | pool all sources into one component | |
//! | `borrow` | 0.15 | each component's prior from the others' counts, as a share of its own token total | >= 0, finite |
//! | `borrow_for` | none | `borrow` for the named components instead (name: the source's path as given) | >= 0, finite; names of components |
//! | `updatable` | false | keep every document's token counts in the model, for [`update`] | |
//! | `tokenizer` | see [`TokenizerConfig`] | tokenizer settings | |
//! | `counting` | presence | a token counts once per document, or once per occurrence ([`Counting`]) | |

use std::path::{Path, PathBuf};

use linfa::prelude::*;
use linfa_bayes::{GaussianNb, MultinomialNb};
use ndarray::{Array1, Array2};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::eval::{evaluate, stratified_folds};
use crate::io::{read_labelled, Columns, Example};
use crate::model::{
    Calibration, ClassCounts, ComponentCounts, Counting, HeldOutFigures, Label, Metadata, Model,
    ShapeStats, SourceSummary, StoredDocument, TrainingState,
};
use crate::score::Scorer;
use crate::tokenize::{text_shape, TokenBuffers, Tokenizer, TokenizerConfig, SHAPE_FEATURES};

/// Training parameters; see the module docs for the table. Build with
/// [`TrainParams::default`] and the setters, then [`TrainParams::check`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainParams {
    /// Tokenizer settings.
    pub tokenizer: TokenizerConfig,
    /// How often a token counts in a document.
    pub counting: Counting,
    /// Additive smoothing.
    pub alpha: f64,
    /// Minimum document frequency.
    pub min_df: u32,
    /// Vocabulary cap.
    pub max_features: usize,
    /// Dense chunk budget in MiB.
    pub chunk_mb: usize,
    /// Class prior of satire; `None`: as fitted.
    pub prior_satire: Option<f64>,
    /// Fit the calibration (else raw naive Bayes).
    pub calibrate: bool,
    /// Calibration folds.
    pub folds: usize,
    /// Pool every source into one component.
    pub one_component: bool,
    /// Weight of the prior each component borrows from the others' counts,
    /// as a share of its own token total (0: none).
    pub borrow: f64,
    /// [`TrainParams::borrow`] for single components, by name (the
    /// training source's path as given): a source whose texts differ in
    /// kind from the others' (full articles among headlines) may do better
    /// on its own.
    pub borrow_for: Vec<(String, f64)>,
    /// Keep every document's token counts in the model
    /// ([`TrainingState`]) so that [`update`] can add to it.
    pub updatable: bool,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            tokenizer: TokenizerConfig::default(),
            counting: Counting::default(),
            alpha: 1.0,
            min_df: 2,
            max_features: 200_000,
            chunk_mb: DEFAULT_CHUNK_MB,
            prior_satire: None,
            calibrate: true,
            folds: 5,
            one_component: false,
            borrow: DEFAULT_BORROW,
            borrow_for: Vec::new(),
            updatable: false,
        }
    }
}

/// Parameters that passed [`TrainParams::check`].
#[derive(Clone, Debug)]
pub struct ValidTrainParams(TrainParams);

impl TrainParams {
    /// Validates every parameter.
    pub fn check(self) -> Result<ValidTrainParams> {
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return Err(Error::Param(format!(
                "alpha must be positive and finite, got {}",
                self.alpha
            )));
        }
        if self.min_df == 0 {
            return Err(Error::Param("min-df must be at least 1".into()));
        }
        if self.max_features == 0 {
            return Err(Error::Param("max-features must be at least 1".into()));
        }
        if self.chunk_mb == 0 {
            return Err(Error::Param("chunk-mb must be at least 1".into()));
        }
        if let Some(p) = self.prior_satire {
            if !(p > 0.0 && p < 1.0) {
                return Err(Error::Param(format!(
                    "prior-satire must be strictly between 0 and 1, got {p}"
                )));
            }
        }
        if self.folds < 2 {
            return Err(Error::Param("folds must be at least 2".into()));
        }
        if !(self.borrow >= 0.0 && self.borrow.is_finite()) {
            return Err(Error::Param(format!(
                "borrow must be 0 or more, got {}",
                self.borrow
            )));
        }
        for (name, share) in &self.borrow_for {
            if !(*share >= 0.0 && share.is_finite()) {
                return Err(Error::Param(format!(
                    "borrow for {name} must be 0 or more, got {share}"
                )));
            }
            if self.borrow_for.iter().filter(|(n, _)| n == name).count() > 1 {
                return Err(Error::Param(format!("borrow for {name} is given twice")));
            }
        }
        Ok(ValidTrainParams(self))
    }

    /// The share component `name` borrows.
    fn borrow_of(&self, name: &str) -> f64 {
        self.borrow_for
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.borrow, |&(_, share)| share)
    }
}

impl ValidTrainParams {
    /// The parameters.
    pub fn get(&self) -> &TrainParams {
        &self.0
    }
}

/// Labelled texts ready to train on, with where they came from.
#[derive(Clone, Debug, Default)]
pub struct TrainingSet {
    /// The texts.
    pub examples: Vec<Example>,
    /// Per source file.
    pub sources: Vec<SourceSummary>,
    /// Held-out files whose texts were kept out.
    pub excluded: Vec<String>,
    /// For each example, the index of its source in `sources`.
    pub source_of: Vec<usize>,
}

impl TrainingSet {
    /// The examples for which `keep(i)` holds, with their sources.
    pub fn subset(&self, keep: impl Fn(usize) -> bool) -> TrainingSet {
        let idx: Vec<usize> = (0..self.examples.len()).filter(|&i| keep(i)).collect();
        TrainingSet {
            examples: idx.iter().map(|&i| self.examples[i].clone()).collect(),
            source_of: idx.iter().map(|&i| self.source_of[i]).collect(),
            sources: self.sources.clone(),
            excluded: self.excluded.clone(),
        }
    }
}

/// The folded form used to find the same text in two files.
pub fn overlap_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if matches!(c, '\u{2019}' | '\u{2018}') {
            '\''
        } else {
            c
        };
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else if c.is_whitespace() {
            pending_space = true;
        }
    }
    out
}

/// Training texts that are the same after folding case and punctuation
/// ([`overlap_key`], as `--heldout` compares) but carry different labels:
/// each such text once, as the index in `set.examples` of its first
/// occurrence and of the first with the other label, in the order the
/// second is met. Such a text trains both classes, which is label noise a
/// user should hear of (onion-or-not's `train.csv` has one, and misra's
/// and onion-or-not's share another under opposite labels). Texts with no
/// letter or digit fold to nothing and are not compared.
pub fn label_conflicts(set: &TrainingSet) -> Vec<(usize, usize)> {
    use std::hash::{Hash, Hasher};
    // A 64-bit hash of each folded text, not the text: an article corpus
    // is held in memory once already. A hash that matches is confirmed on
    // the folded texts themselves, so a collision reports nothing.
    let mut first: FxHashMap<u64, [Option<usize>; 2]> = FxHashMap::default();
    let mut reported: FxHashSet<u64> = FxHashSet::default();
    let mut out = Vec::new();
    for (i, ex) in set.examples.iter().enumerate() {
        let key = overlap_key(&ex.text);
        if key.is_empty() {
            continue;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let h = h.finish();
        let seen = first.entry(h).or_default();
        let (own, other) = match ex.label {
            Label::Real => (0, 1),
            Label::Satire => (1, 0),
        };
        if seen[own].is_none() {
            seen[own] = Some(i);
        }
        if let Some(j) = seen[other] {
            if !reported.contains(&h) && overlap_key(&set.examples[j].text) == key {
                reported.insert(h);
                out.push((j, i));
            }
        }
    }
    out
}

/// Reads every training path, dropping texts that also occur in a
/// held-out file. Errors name the file and line of the first bad row.
/// Training needs both classes: a set without one is refused.
pub fn load(paths: &[PathBuf], heldout: &[PathBuf], cols: &Columns) -> Result<TrainingSet> {
    let set = load_additions(paths, heldout, cols)?;
    check_classes(&set.examples, &set.sources)?;
    Ok(set)
}

/// Like [`load`], for texts to add to a model with [`update`]: one class
/// alone is fine, since the model has both.
pub fn load_additions(
    paths: &[PathBuf],
    heldout: &[PathBuf],
    cols: &Columns,
) -> Result<TrainingSet> {
    // Each path resolved once (a path that does not resolve is reported
    // by its read below): `train data/*.csv` may name thousands.
    let mut seen: FxHashMap<PathBuf, &PathBuf> = FxHashMap::default();
    for p in paths {
        let Ok(canonical) = std::fs::canonicalize(p) else {
            continue;
        };
        if let Some(q) = seen.insert(canonical, p) {
            let also = if q.as_os_str() == p.as_os_str() {
                String::new()
            } else {
                format!(" (also as {})", q.display())
            };
            return Err(Error::Param(format!(
                "{} is given twice{also}: each training path is read once, as one component",
                p.display()
            )));
        }
    }
    let mut held: FxHashSet<String> = FxHashSet::default();
    for h in heldout {
        for ex in read_labelled(h, cols)? {
            held.insert(overlap_key(&ex.text));
        }
    }
    let mut set = TrainingSet {
        excluded: heldout.iter().map(|p| p.display().to_string()).collect(),
        ..Default::default()
    };
    for p in paths {
        let rows = read_labelled(p, cols)?;
        let mut summary = SourceSummary {
            path: p.display().to_string(),
            rows: rows.len() as u64,
            dropped_overlap: 0,
            satire: 0,
            real: 0,
        };
        for ex in rows {
            if !held.is_empty() && held.contains(&overlap_key(&ex.text)) {
                summary.dropped_overlap += 1;
                continue;
            }
            match ex.label {
                Label::Satire => summary.satire += 1,
                Label::Real => summary.real += 1,
            }
            set.examples.push(ex);
            set.source_of.push(set.sources.len());
        }
        if summary.rows == 0 {
            return Err(Error::input(p, None, "no rows: an empty training file"));
        }
        set.sources.push(summary);
    }
    Ok(set)
}

fn check_classes(examples: &[Example], sources: &[SourceSummary]) -> Result<()> {
    let names = || {
        sources
            .iter()
            .map(|s| s.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if examples.is_empty() {
        return Err(Error::Data(format!(
            "no training texts left in {}",
            names()
        )));
    }
    for label in Label::ALL {
        if !examples.iter().any(|e| e.label == label) {
            return Err(Error::Data(format!(
                "no `{label}` rows in {}: training needs both classes",
                names()
            )));
        }
    }
    Ok(())
}

/// Sparse token counts of one document over the vocabulary.
type SparseRow = Vec<(u32, f64)>;

/// Training documents as token counts over interned tokens: what the
/// vocabulary and the rows are built from, and what an updatable model
/// keeps ([`TrainingState`]).
#[derive(Default)]
struct Bags {
    tokens: Vec<String>,
    index: FxHashMap<String, u32>,
    /// Per document, `(token, count)` by increasing token.
    docs: Vec<Vec<(u32, u32)>>,
}

impl Bags {
    /// Bags holding the documents of `state`.
    fn from_state(state: &TrainingState) -> Bags {
        Bags {
            index: state
                .tokens
                .iter()
                .enumerate()
                .map(|(i, t)| (t.clone(), i as u32))
                .collect(),
            tokens: state.tokens.clone(),
            docs: state.documents.iter().map(|d| d.counts.clone()).collect(),
        }
    }

    /// Tokenizes `text` into a new document's bag.
    fn bag(
        &mut self,
        tokenizer: &Tokenizer,
        bufs: &mut TokenBuffers,
        text: &str,
    ) -> Vec<(u32, u32)> {
        let mut counts: FxHashMap<u32, u32> = FxHashMap::default();
        tokenizer.for_each_token(text, bufs, |t| {
            let id = match self.index.get(t) {
                Some(&id) => id,
                None => {
                    let id = self.tokens.len() as u32;
                    self.tokens.push(t.to_string());
                    self.index.insert(t.to_string(), id);
                    id
                }
            };
            *counts.entry(id).or_insert(0) += 1;
        });
        let mut bag: Vec<(u32, u32)> = counts.into_iter().collect();
        bag.sort_unstable_by_key(|&(t, _)| t);
        bag
    }

    /// The vocabulary: tokens found in at least `min_df` documents, the
    /// `max_features` most frequent by document count (ties by token),
    /// sorted.
    fn vocab(&self, order: &[usize], min_df: u32, max_features: usize) -> Vec<String> {
        let mut df = vec![0u32; self.tokens.len()];
        for &i in order {
            for &(t, _) in &self.docs[i] {
                df[t as usize] += 1;
            }
        }
        let mut kept: Vec<(&str, u32)> = df
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n >= min_df)
            .map(|(t, &n)| (self.tokens[t].as_str(), n))
            .collect();
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        kept.truncate(max_features);
        let mut vocab: Vec<String> = kept.into_iter().map(|(t, _)| t.to_string()).collect();
        vocab.sort_unstable();
        vocab
    }

    /// Each document's counts over the vocabulary's columns: 1 for every
    /// token present with [`Counting::Presence`].
    fn rows(&self, vocab: &crate::vocab::Vocabulary, counting: Counting) -> Vec<SparseRow> {
        let col: Vec<Option<u32>> = self.tokens.iter().map(|t| vocab.get(t)).collect();
        self.docs
            .iter()
            .map(|doc| {
                let mut row: SparseRow = doc
                    .iter()
                    .filter_map(|&(t, n)| {
                        col[t as usize].map(|c| (c, counting.counted(u64::from(n)) as f64))
                    })
                    .collect();
                row.sort_unstable_by_key(|&(c, _)| c);
                row
            })
            .collect()
    }
}

/// Sends file descriptor 2 to `/dev/null` while alive (Unix), to keep
/// linfa-bayes 0.8.1's stray `dbg!` of the whole model off the terminal
/// when `satire` is built as a library, where its `[patch.crates-io]` of
/// linfa-bayes (`vendor/linfa-bayes/PATCHED.md`) does not apply.
/// Training is single-threaded while it is alive, so no other output of
/// ours is lost.
struct QuietStderr {
    #[cfg(unix)]
    saved: libc::c_int,
}

impl QuietStderr {
    fn new() -> QuietStderr {
        #[cfg(unix)]
        {
            // SAFETY: plain fd calls; every fd opened is checked and closed.
            unsafe {
                let saved = libc::dup(2);
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                if saved >= 0 && null >= 0 {
                    libc::dup2(null, 2);
                }
                if null >= 0 {
                    libc::close(null);
                }
                QuietStderr { saved }
            }
        }
        #[cfg(not(unix))]
        QuietStderr {}
    }
}

impl Drop for QuietStderr {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the saved descriptor opened in `new`.
        unsafe {
            if self.saved >= 0 {
                libc::dup2(self.saved, 2);
                libc::close(self.saved);
            }
        }
    }
}

/// Fits linfa's `GaussianNb` (default `var_smoothing`) to the shapes of
/// the training texts, one class per component, and returns each
/// component's Gaussian. A feature constant over every text cannot tell
/// components apart; linfa gives it variance 0, which becomes 1.
fn fit_shapes(
    shapes: &[[f64; SHAPE_FEATURES]],
    targets: &[usize],
    k: usize,
) -> Result<Vec<ShapeStats>> {
    let x = Array2::from_shape_fn((shapes.len(), SHAPE_FEATURES), |(i, j)| shapes[i][j]);
    let y: Array1<usize> = targets.iter().copied().collect();
    let nb: GaussianNb<f64, usize> = GaussianNb::params().fit(&DatasetBase::new(x, y))?;
    let mut stats = Model::shapes_from_linfa(&nb, k)?;
    for s in &mut stats {
        for v in &mut s.var {
            if v.is_nan() || *v <= 0.0 {
                *v = 1.0;
            }
        }
    }
    Ok(stats)
}

/// Fits linfa's MultinomialNb over chunks of at most `chunk_mb` MiB of
/// dense rows of the first `documents` rows, then over the rest (the
/// borrowed prior: one row per class, fractional counts) as a chunk of its
/// own. Document counts are integers, so their sums are exact in any
/// chunking; added once, after them, the prior rounds once. The counts are
/// therefore the same for any `chunk_mb`, and equal to one `fit` on all
/// rows in order.
fn fit_linfa(
    rows: &[&SparseRow],
    targets: &[usize],
    documents: usize,
    ncols: usize,
    alpha: f64,
    chunk_mb: usize,
) -> Result<MultinomialNb<f64, usize>> {
    let params = MultinomialNb::<f64, usize>::params().alpha(alpha).check()?;
    let rows_per_chunk = ((chunk_mb << 20) / (8 * ncols.max(1))).max(1);
    let mut model: Option<MultinomialNb<f64, usize>> = None;
    let mut x = Array2::<f64>::zeros((0, ncols));
    let (rows, last_rows) = rows.split_at(documents);
    let (targets, last_targets) = targets.split_at(documents);
    let chunks = rows
        .chunks(rows_per_chunk)
        .zip(targets.chunks(rows_per_chunk))
        .chain((!last_rows.is_empty()).then_some((last_rows, last_targets)));
    for (chunk_rows, chunk_targets) in chunks {
        if x.nrows() != chunk_rows.len() {
            x = Array2::zeros((chunk_rows.len(), ncols));
        } else {
            x.fill(0.0);
        }
        for (i, row) in chunk_rows.iter().enumerate() {
            for &(c, n) in row.iter() {
                x[[i, c as usize]] = n;
            }
        }
        let y: Array1<usize> = chunk_targets.iter().copied().collect();
        let ds = DatasetBase::new(x.view(), y);
        let _quiet = QuietStderr::new();
        model = Some(params.fit_with(model, &ds)?);
    }
    model.ok_or_else(|| Error::Data("no training rows".into()))
}

/// 1-D logistic regression `y ~ sigmoid(a x + b)` by Newton's method with
/// a tiny ridge; returns `(a, b)`.
fn fit_logistic(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (mut a, mut b) = (0.0f64, 0.0f64);
    let ridge = 1e-9;
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (ridge * a, 0.0, ridge, 0.0, 1e-12);
        for (&xi, &yi) in x.iter().zip(y) {
            let p = crate::score::sigmoid(a * xi + b);
            let r = p - yi;
            let w = (p * (1.0 - p)).max(1e-12);
            ga += r * xi;
            gb += r;
            haa += w * xi * xi;
            hab += w * xi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-300 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-12 && db.abs() < 1e-12 {
            break;
        }
    }
    (a, b)
}

/// The calibration's length exponent: evidence is averaged over the known
/// tokens, so a text's length is never itself evidence. (With a free
/// exponent the full-article component learnt that short means satire,
/// because its real training articles are 2.4 times longer than its satire;
/// on the headline sets the exponent made no difference.)
pub const CALIBRATION_GAMMA: f64 = 1.0;

/// Default [`TrainParams::chunk_mb`]. A chunk, and linfa's copy of each
/// class's rows of it, stay below glibc's largest `mmap` threshold (32 MiB),
/// so they are reused from the heap; larger ones are mapped, faulted in and
/// unmapped at every chunk. For the default model, 16 MiB trains in 6.0 s
/// with a 156 MB peak, 128 MiB in 15.5 s (10 s of it in the kernel) with
/// 351 MB. The model is the same for any size.
pub const DEFAULT_CHUNK_MB: usize = 16;

/// Default [`TrainParams::borrow`].
pub const DEFAULT_BORROW: f64 = 0.15;

/// Fits the calibration on out-of-fold evidence: for each fold, weights
/// from the counts of the other folds plus `prior`, exactly as the final
/// model computes them (a column with no count in that part gets weight 0,
/// and only columns with a count share the smoothing), over the vocabulary
/// that part alone would have: a column whose document frequency `df`
/// (over all training documents) reaches `min_df` only with the fold's
/// own documents is left out, as a new text's tokens that no training
/// document shares are. Without that, a held-out row kept the rare tokens
/// it brought into the vocabulary itself, and the calibration learnt from
/// evidence no new text has. A row's known-token count `n` is counted
/// over the same columns, as the scorer counts it. (`max_features` is not
/// reapplied per fold: with the default cap it removes nothing.)
fn fit_calibration(
    rows: &[&SparseRow],
    labels: &[Label],
    prior: &[Vec<f64>; 2],
    alpha: f64,
    folds: usize,
    df: &[u32],
    min_df: u32,
) -> Calibration {
    let ncols = prior[0].len();
    let fold_of = stratified_folds(labels, folds);
    // Per fold, each column's document count in that fold: a fold's model
    // would keep a column only if the documents outside the fold reach min_df.
    let mut fold_df = vec![vec![0u32; ncols]; folds];
    for (row, &f) in rows.iter().zip(&fold_of) {
        for &(c, _) in row.iter() {
            fold_df[f][c as usize] += 1;
        }
    }
    // Per fold and class, summed counts; the training part of fold f is the
    // total minus fold f.
    let mut sums = vec![[vec![0.0f64; ncols], vec![0.0f64; ncols]]; folds];
    for ((row, label), &f) in rows.iter().zip(labels).zip(&fold_of) {
        for &(c, n) in row.iter() {
            sums[f][label.index()][c as usize] += n;
        }
    }
    let mut total = prior.clone();
    for s in &sums {
        for k in 0..2 {
            for (t, v) in total[k].iter_mut().zip(&s[k]) {
                *t += v;
            }
        }
    }
    let mut evidence = vec![0.0f64; rows.len()];
    let mut known = vec![0.0f64; rows.len()];
    for (f, fold_sums) in sums.iter().enumerate() {
        let part = |k: usize, j: usize| total[k][j] - fold_sums[k][j];
        let in_vocab: Vec<bool> = (0..ncols)
            .map(|j| df[j] - fold_df[f][j] >= min_df)
            .collect();
        let seen: Vec<bool> = (0..ncols)
            .map(|j| in_vocab[j] && part(0, j) + part(1, j) > 0.0)
            .collect();
        let log_z: Vec<f64> = (0..2)
            .map(|k| {
                (0..ncols)
                    .filter(|&j| seen[j])
                    .map(|j| part(k, j) + alpha)
                    .sum::<f64>()
                    .ln()
            })
            .collect();
        let weight = |j: usize| {
            if seen[j] {
                ((part(1, j) + alpha).ln() - log_z[1]) - ((part(0, j) + alpha).ln() - log_z[0])
            } else {
                0.0
            }
        };
        for (i, row) in rows.iter().enumerate() {
            if fold_of[i] == f {
                evidence[i] = row.iter().map(|&(c, n)| n * weight(c as usize)).sum();
                known[i] = row
                    .iter()
                    .filter(|&&(c, _)| in_vocab[c as usize])
                    .map(|&(_, n)| n)
                    .sum();
            }
        }
    }
    let x: Vec<f64> = evidence
        .iter()
        .zip(&known)
        .map(|(e, n)| e / n.max(1.0).powf(CALIBRATION_GAMMA))
        .collect();
    let y: Vec<f64> = labels
        .iter()
        .map(|l| if *l == Label::Satire { 1.0 } else { 0.0 })
        .collect();
    let (slope, intercept) = fit_logistic(&x, &y);
    Calibration {
        gamma: CALIBRATION_GAMMA,
        slope,
        intercept,
    }
}

/// Per group, the counts it borrows from the other groups, per class over
/// vocabulary columns: the other groups' summed counts, scaled so that
/// their total is the group's `borrow` times its own token total. A small
/// source (120 full articles) thereby starts from what the large ones know
/// of satirical and straight wording instead of from uniform smoothing; a
/// large one is barely moved.
fn borrowed_counts(
    rows: &[SparseRow],
    labels: &[Label],
    groups: &[(String, Vec<usize>)],
    ncols: usize,
    borrow: &[f64],
) -> Vec<[Vec<f64>; 2]> {
    let zero = || [vec![0.0f64; ncols], vec![0.0f64; ncols]];
    if borrow.iter().all(|&b| b == 0.0) || groups.len() < 2 {
        return groups.iter().map(|_| zero()).collect();
    }
    let own: Vec<[Vec<f64>; 2]> = groups
        .iter()
        .map(|(_, idx)| {
            let mut counts = zero();
            for &i in idx {
                let class = &mut counts[labels[i].index()];
                for &(c, n) in &rows[i] {
                    class[c as usize] += n;
                }
            }
            counts
        })
        .collect();
    let mass = |c: &[Vec<f64>; 2]| c.iter().flatten().sum::<f64>();
    let all_mass: f64 = own.iter().map(mass).sum();
    own.iter()
        .enumerate()
        .map(|(g, mine)| {
            let others = all_mass - mass(mine);
            let factor = if others > 0.0 {
                borrow[g] * mass(mine) / others
            } else {
                0.0
            };
            let mut prior = zero();
            for (_, theirs) in own.iter().enumerate().filter(|&(h, _)| h != g) {
                for k in 0..2 {
                    for (p, t) in prior[k].iter_mut().zip(&theirs[k]) {
                        *p += factor * t;
                    }
                }
            }
            prior
        })
        .collect()
}

/// Trains a model on `set`.
pub fn fit(params: &ValidTrainParams, set: &TrainingSet) -> Result<Model> {
    let p = params.get();
    check_classes(&set.examples, &set.sources)?;
    if set.source_of.len() != set.examples.len() {
        return Err(Error::Data(
            "internal: every training example needs a source".into(),
        ));
    }
    let mut bags = Bags::default();
    let mut docs = Documents::default();
    add_examples(&p.tokenizer, &set.examples, &mut bags, &mut docs);
    let groups: Vec<(String, Vec<usize>)> = if p.one_component {
        let name = set
            .sources
            .iter()
            .map(|s| s.path.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        vec![(name, (0..set.examples.len()).collect())]
    } else {
        let n_sources = set.source_of.iter().max().map_or(0, |m| m + 1);
        (0..n_sources)
            .map(|si| {
                let name = set
                    .sources
                    .get(si)
                    .map_or_else(|| format!("source {si}"), |s| s.path.clone());
                (
                    name,
                    (0..set.examples.len())
                        .filter(|&i| set.source_of[i] == si)
                        .collect(),
                )
            })
            .filter(|(_, idx): &(String, Vec<usize>)| !idx.is_empty())
            .collect()
    };
    fit_documents(p, &bags, &docs, &groups, &set.sources, &set.excluded)
}

/// Adds the labelled texts of `more` to an updatable model and returns
/// exactly the model that training on all of its documents at once gives
/// (with the model's own settings): the model's training state holds every
/// document's token counts, the new texts are tokenized as the model
/// tokenizes and placed after the other documents of component `into`
/// (needed when the model has several components; the name as `inspect`
/// shows it), and every part (vocabulary, linfa counts, borrowed priors,
/// calibration, router) is fitted again from them. The result is
/// updatable. Only the provenance differs from training at once: the
/// sources list `more`'s files after the model's.
pub fn update(model: &Model, more: &TrainingSet, into: Option<&str>) -> Result<Model> {
    let state = model.training_state().ok_or_else(|| {
        Error::Param(
            "the model keeps no training state, so data cannot be added to it exactly; \
             retrain it with `satire train --updatable`"
                .into(),
        )
    })?;
    let meta = model.meta();
    let params = TrainParams {
        tokenizer: meta.tokenizer.clone(),
        counting: meta.counting,
        alpha: meta.alpha,
        min_df: meta.min_df,
        max_features: usize::try_from(meta.max_features).unwrap_or(usize::MAX),
        chunk_mb: usize::try_from(state.chunk_mb).unwrap_or(usize::MAX),
        prior_satire: meta.prior_satire,
        calibrate: state.calibrate,
        folds: usize::try_from(state.folds).unwrap_or(usize::MAX),
        one_component: state.one_component,
        borrow: meta.borrow,
        borrow_for: model
            .components()
            .iter()
            .map(|c| (c.name.clone(), c.borrow))
            .collect(),
        updatable: true,
    }
    .check()?;
    let names: Vec<&str> = model.components().iter().map(|c| c.name.as_str()).collect();
    let target = match into {
        Some(name) => names.iter().position(|n| *n == name).ok_or_else(|| {
            Error::Param(format!(
                "--into {name}: the model has no such component; its components: {}",
                names.join(", ")
            ))
        })?,
        None if names.len() == 1 => 0,
        None => {
            return Err(Error::Param(format!(
                "the model has {} components; say which one the new data joins with --into NAME (one of: {})",
                names.len(),
                names.join(", ")
            )))
        }
    };
    if more.examples.is_empty() {
        let dropped: u64 = more.sources.iter().map(|s| s.dropped_overlap).sum();
        return Err(Error::Data(match dropped {
            0 => "no texts to add".into(),
            n => format!("no texts to add: all {n} also occur in a held-out file"),
        }));
    }
    let mut bags = Bags::from_state(state);
    let mut docs = Documents {
        labels: state.documents.iter().map(|d| d.label).collect(),
        shapes: state.documents.iter().map(|d| d.shape).collect(),
    };
    let first_new = bags.docs.len();
    add_examples(&meta.tokenizer, &more.examples, &mut bags, &mut docs);
    let groups: Vec<(String, Vec<usize>)> = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut idx: Vec<usize> = (0..first_new)
                .filter(|&i| state.documents[i].component as usize == k)
                .collect();
            if k == target {
                idx.extend(first_new..bags.docs.len());
            }
            (name.to_string(), idx)
        })
        .collect();
    let sources: Vec<SourceSummary> = meta.sources.iter().chain(&more.sources).cloned().collect();
    let mut excluded = meta.excluded.clone();
    for e in &more.excluded {
        if !excluded.contains(e) {
            excluded.push(e.clone());
        }
    }
    fit_documents(params.get(), &bags, &docs, &groups, &sources, &excluded)
}

/// Tokenizes `examples` with `config` into new documents of `bags` and
/// `docs`.
fn add_examples(
    config: &TokenizerConfig,
    examples: &[Example],
    bags: &mut Bags,
    docs: &mut Documents,
) {
    let tokenizer = Tokenizer::new(config.clone());
    let mut bufs = TokenBuffers::default();
    for ex in examples {
        let bag = bags.bag(&tokenizer, &mut bufs, &ex.text);
        bags.docs.push(bag);
        docs.labels.push(ex.label);
        docs.shapes.push(text_shape(&ex.text));
    }
}

/// Per training document (in the order of [`Bags::docs`]), its label and
/// shape.
#[derive(Default)]
struct Documents {
    labels: Vec<Label>,
    shapes: Vec<[f64; SHAPE_FEATURES]>,
}

/// Fits a model on tokenized documents, one component per group (name and
/// document indices). Every part of the model depends on the documents
/// only through their group order: documents are taken group by group, in
/// each group's order.
fn fit_documents(
    p: &TrainParams,
    bags: &Bags,
    docs: &Documents,
    groups: &[(String, Vec<usize>)],
    sources: &[SourceSummary],
    excluded: &[String],
) -> Result<Model> {
    let order: Vec<usize> = groups
        .iter()
        .flat_map(|(_, idx)| idx.iter().copied())
        .collect();
    let vocab_tokens = bags.vocab(&order, p.min_df, p.max_features);
    if vocab_tokens.is_empty() {
        return Err(Error::Data(format!(
            "no token occurs in at least {} documents: nothing to learn from (lower --min-df?)",
            p.min_df
        )));
    }
    let vocab = crate::vocab::Vocabulary::new(&vocab_tokens);
    let rows = bags.rows(&vocab, p.counting);
    let labels = &docs.labels;
    let mut df = vec![0u32; vocab.len()];
    for &i in &order {
        for &(c, _) in &rows[i] {
            df[c as usize] += 1;
        }
    }
    let mut component_of = Vec::with_capacity(order.len());
    for (g, (_, idx)) in groups.iter().enumerate() {
        component_of.extend(idx.iter().map(|_| g));
    }
    let shapes: Vec<[f64; SHAPE_FEATURES]> = order.iter().map(|&i| docs.shapes[i]).collect();
    let mut shape_stats = fit_shapes(&shapes, &component_of, groups.len())?.into_iter();
    if let Some((name, _)) = p
        .borrow_for
        .iter()
        .find(|(n, _)| !groups.iter().any(|(g, _)| g == n))
    {
        return Err(Error::Param(format!(
            "borrow for {name}: no component has that name; the components: {}",
            groups
                .iter()
                .map(|(g, _)| g.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let shares: Vec<f64> = groups.iter().map(|(name, _)| p.borrow_of(name)).collect();
    let borrowed = borrowed_counts(&rows, labels, groups, vocab.len(), &shares);
    let mut components = Vec::with_capacity(groups.len());
    for (((name, idx), prior), &share) in groups.iter().zip(borrowed).zip(&shares) {
        // The component's columns: vocabulary tokens seen in its rows or in
        // its borrowed prior, renumbered densely for linfa.
        let mut local: Vec<Option<u32>> = (0..vocab.len())
            .map(|j| (prior[0][j] + prior[1][j] > 0.0).then_some(0))
            .collect();
        for &i in idx {
            for &(c, _) in &rows[i] {
                local[c as usize] = Some(0);
            }
        }
        let mut columns = Vec::new();
        for (j, slot) in local.iter_mut().enumerate() {
            if slot.is_some() {
                *slot = Some(columns.len() as u32);
                columns.push(j as u32);
            }
        }
        let local_rows: Vec<SparseRow> = idx
            .iter()
            .map(|&i| {
                rows[i]
                    .iter()
                    .filter_map(|&(c, n)| local[c as usize].map(|l| (l, n)))
                    .collect()
            })
            .collect();
        let local_prior: [Vec<f64>; 2] =
            prior.map(|counts| columns.iter().map(|&j| counts[j as usize]).collect());
        let g_labels: Vec<Label> = idx.iter().map(|&i| labels[i]).collect();
        let per_class = Label::ALL.map(|l| g_labels.iter().filter(|x| **x == l).count());
        for (label, n) in Label::ALL.iter().zip(per_class) {
            if n == 0 {
                return Err(Error::Data(format!(
                    "{name}: no `{label}` rows; each training source becomes a component and needs both classes (or pass --one-component to pool the sources)"
                )));
            }
        }
        // linfa sees the borrowed prior as one more document per class.
        let borrowed = local_prior.iter().flatten().any(|&n| n > 0.0);
        let prior_rows: Vec<(SparseRow, Label)> = if borrowed {
            Label::ALL
                .iter()
                .map(|&l| {
                    let row = local_prior[l.index()]
                        .iter()
                        .enumerate()
                        .filter(|&(_, &n)| n > 0.0)
                        .map(|(c, &n)| (c as u32, n))
                        .collect();
                    (row, l)
                })
                .collect()
        } else {
            Vec::new()
        };
        let fit_rows: Vec<&SparseRow> = local_rows
            .iter()
            .chain(prior_rows.iter().map(|(r, _)| r))
            .collect();
        let targets: Vec<usize> = g_labels
            .iter()
            .chain(prior_rows.iter().map(|(_, l)| l))
            .map(|l| l.index())
            .collect();
        let nb = fit_linfa(
            &fit_rows,
            &targets,
            local_rows.len(),
            columns.len(),
            p.alpha,
            p.chunk_mb,
        )?;
        let classes: [ClassCounts; 2] = Model::counts_from_linfa(&nb)?;
        let fitted = (per_class[1] as f64).ln() - (per_class[0] as f64).ln();
        // Out-of-fold calibration needs every fold to hold out examples of
        // both classes; with fewer examples than folds it would be noise.
        let mut calibration = if p.calibrate && per_class.iter().all(|&n| n >= p.folds) {
            let g_rows: Vec<&SparseRow> = local_rows.iter().collect();
            let local_df: Vec<u32> = columns.iter().map(|&j| df[j as usize]).collect();
            fit_calibration(
                &g_rows,
                &g_labels,
                &local_prior,
                p.alpha,
                p.folds,
                &local_df,
                p.min_df,
            )
        } else {
            Calibration::identity(fitted)
        };
        if let Some(prior) = p.prior_satire {
            // Prior shift: the calibrated odds assume the training balance;
            // move them to the balance the user asked for.
            calibration.intercept += (prior / (1.0 - prior)).ln() - fitted;
        }
        let shape = shape_stats
            .next()
            .ok_or_else(|| Error::Data("internal: one shape Gaussian per component".into()))?;
        components.push(ComponentCounts {
            name: name.clone(),
            columns,
            classes,
            borrow: share,
            borrowed,
            calibration,
            shape,
        });
    }
    let meta = Metadata {
        created_by: format!("satire {}", env!("CARGO_PKG_VERSION")),
        tokenizer: p.tokenizer.clone(),
        counting: p.counting,
        alpha: p.alpha,
        min_df: p.min_df,
        max_features: p.max_features as u64,
        prior_satire: p.prior_satire,
        borrow: p.borrow,
        sources: sources.to_vec(),
        excluded: excluded.to_vec(),
        heldout: vec![],
    };
    let state = p.updatable.then(|| training_state(p, bags, docs, groups));
    Model::from_parts(meta, vocab_tokens, components)?.with_training_state(state)
}

/// The documents of `groups` as an updatable model keeps them: tokens
/// sorted, documents group by group.
fn training_state(
    p: &TrainParams,
    bags: &Bags,
    docs: &Documents,
    groups: &[(String, Vec<usize>)],
) -> TrainingState {
    let mut by_token: Vec<u32> = (0..bags.tokens.len() as u32).collect();
    by_token.sort_unstable_by(|&a, &b| bags.tokens[a as usize].cmp(&bags.tokens[b as usize]));
    let mut new_id = vec![0u32; bags.tokens.len()];
    for (new, &old) in by_token.iter().enumerate() {
        new_id[old as usize] = new as u32;
    }
    let mut documents = Vec::new();
    for (g, (_, idx)) in groups.iter().enumerate() {
        for &i in idx {
            let mut counts: Vec<(u32, u32)> = bags.docs[i]
                .iter()
                .map(|&(t, n)| (new_id[t as usize], n))
                .collect();
            counts.sort_unstable_by_key(|&(t, _)| t);
            documents.push(StoredDocument {
                component: g as u32,
                label: docs.labels[i],
                shape: docs.shapes[i],
                counts,
            });
        }
    }
    TrainingState {
        chunk_mb: p.chunk_mb as u64,
        calibrate: p.calibrate,
        folds: p.folds as u64,
        one_component: p.one_component,
        tokens: by_token
            .iter()
            .map(|&t| bags.tokens[t as usize].clone())
            .collect(),
        documents,
    }
}

/// Out-of-fold figures of [`cross_validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct CrossValidation {
    /// Each example's out-of-fold P(satire), in input order.
    pub p: Vec<f64>,
    /// Per source (as in [`TrainingSet::sources`]), how many of its rows
    /// some fold left out of its training part because that fold holds out
    /// the same text ([`overlap_key`]). A row counts once for each fold
    /// that left it out.
    pub twins_left_out: Vec<u64>,
}

/// The fold [`cross_validate`] holds each example out in: stratified by
/// (source, label), the `i`-th example of each in input order going to
/// fold `i % k`.
pub fn cross_validation_folds(set: &TrainingSet, k: usize) -> Vec<usize> {
    let keys: Vec<(usize, Label)> = set
        .source_of
        .iter()
        .zip(&set.examples)
        .map(|(&s, e)| (s, e.label))
        .collect();
    stratified_folds(&keys, k)
}

/// K-fold cross-validation of [`fit`] on `set`: folds stratified by
/// (source, label); returns each example's out-of-fold P(satire), in
/// input order.
///
/// A fold's model never trains on a text it is scored on: rows outside the
/// fold whose text is one of the fold's, after folding case and
/// punctuation as `--heldout` does, are left out of that fold's training,
/// as `satire train --heldout` leaves out the texts of a test file. The two
/// headline sets share thousands of The Onion's headlines, so without this
/// a held-out headline's twin in the other set was trained on (through the
/// borrowed prior), and the pooled figures measured models that had seen
/// the texts they scored. A text with no letter or digit has an empty key
/// and is never taken for a twin.
pub fn cross_validate(
    params: &ValidTrainParams,
    set: &TrainingSet,
    k: usize,
) -> Result<CrossValidation> {
    if k < 2 {
        return Err(Error::Param("folds must be at least 2".into()));
    }
    let fold_of = cross_validation_folds(set, k);
    let texts: Vec<String> = set.examples.iter().map(|e| overlap_key(&e.text)).collect();
    let sources =
        (set.source_of.iter().max()).map_or(set.sources.len(), |&s| (s + 1).max(set.sources.len()));
    let mut out = CrossValidation {
        p: vec![0.0; set.examples.len()],
        twins_left_out: vec![0; sources],
    };
    for f in 0..k {
        let held_texts: FxHashSet<&str> = (0..texts.len())
            .filter(|&i| fold_of[i] == f && !texts[i].is_empty())
            .map(|i| texts[i].as_str())
            .collect();
        let twin = |i: usize| fold_of[i] != f && held_texts.contains(texts[i].as_str());
        let mut left_out = 0;
        for i in (0..texts.len()).filter(|&i| twin(i)) {
            out.twins_left_out[set.source_of[i]] += 1;
            left_out += 1;
        }
        let model =
            fit(params, &set.subset(|i| fold_of[i] != f && !twin(i))).map_err(|e| match e {
                Error::Data(m) => {
                    let without = match left_out {
                        0 => String::new(),
                        1 => ", trained without the 1 row that repeats a text it holds out".into(),
                        n => format!(
                            ", trained without the {n} rows that repeat a text it holds out"
                        ),
                    };
                    Error::Data(format!(
                        "cross-validation fold {} of {k}{without}: {m}",
                        f + 1
                    ))
                }
                e => e,
            })?;
        let held = (0..set.examples.len()).filter(|&i| fold_of[i] == f);
        let preds = predict(&model, &set.subset(|i| fold_of[i] == f).examples);
        for (i, q) in held.zip(preds) {
            out.p[i] = q;
        }
    }
    Ok(out)
}

/// Scores `examples` with `model` and returns their P(satire).
pub fn predict(model: &Model, examples: &[Example]) -> Vec<f64> {
    let mut scorer = Scorer::new(model);
    examples
        .iter()
        .map(|e| scorer.score(&e.text).p_satire)
        .collect()
}

/// Figures of `model` on a labelled held-out file.
pub fn heldout_figures(model: &Model, path: &Path, cols: &Columns) -> Result<HeldOutFigures> {
    let examples = read_labelled(path, cols)?;
    let truth: Vec<Label> = examples.iter().map(|e| e.label).collect();
    let m = evaluate(&truth, &predict(model, &examples), 0.5);
    Ok(HeldOutFigures {
        path: path.display().to_string(),
        n: m.n,
        accuracy: m.accuracy,
        f1_satire: m.satire.f1,
        auc: m.auc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_key_folds_case_quotes_and_punctuation() {
        assert_eq!(
            overlap_key("Woman bites into ‘waferless’ KitKat!"),
            overlap_key("woman bites into 'waferless' kitkat")
        );
        assert_eq!(overlap_key("  Area  man, 45 "), "area man 45");
    }

    #[test]
    fn logistic_recovers_known_parameters() {
        // y = 1 exactly when x > 0.5, with noise-free but overlapping
        // probabilities: fit on the expected labels of sigmoid(2x - 1).
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..2000 {
            let xi = -3.0 + 6.0 * (i as f64) / 2000.0;
            let p = crate::score::sigmoid(2.0 * xi - 1.0);
            // two weighted copies encode the probability exactly
            for (label, copies) in [
                (1.0, (p * 100.0).round() as usize),
                (0.0, ((1.0 - p) * 100.0).round() as usize),
            ] {
                for _ in 0..copies {
                    x.push(xi);
                    y.push(label);
                }
            }
        }
        let (a, b) = fit_logistic(&x, &y);
        assert!(
            (a - 2.0).abs() < 0.05 && (b + 1.0).abs() < 0.05,
            "a={a} b={b}"
        );
    }

    #[test]
    fn params_are_checked() {
        assert!(TrainParams {
            alpha: 0.0,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(TrainParams {
            prior_satire: Some(1.0),
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(TrainParams {
            folds: 1,
            ..Default::default()
        }
        .check()
        .is_err());
        assert!(TrainParams::default().check().is_ok());
    }
}
