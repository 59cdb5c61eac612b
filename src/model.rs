//! The trained model: the fitted linfa-bayes counts, the vocabulary, the
//! tokenizer settings and the calibration, and the file format that holds
//! them.
//!
//! # Scoring table
//!
//! linfa-bayes scores a count vector `x` for class `c` as
//! `ln(prior_c) + x · feature_log_prob_c` (dense, over the whole
//! vocabulary). For two classes only the difference matters, so a model
//! keeps one weight per token, `w_j = flp_satire[j] - flp_real[j]`, and the
//! prior log-odds `ln(prior_satire) - ln(prior_real)`: the raw naive-Bayes
//! log-odds of a text is the prior plus the sum of the weights of its
//! tokens, which touches only the tokens present.
//!
//! # Components and router
//!
//! A model holds one or more *components*, each a two-class linfa
//! `MultinomialNb` fitted on one training source (by default, one per
//! training file: headlines of one outlet pair, full articles, ...) with its
//! own calibration, over one shared vocabulary. With several components a
//! *router* decides how much each one speaks for a text: a linfa
//! `GaussianNb` over components (class `k` = "came from source `k`") whose
//! features are the text's shape, [`crate::tokenize::text_shape`]: its
//! length and its share of capitalised words. Shape, not words, because
//! sources differ in form (full articles; Title-Case headlines; lower-cased
//! headlines) far more reliably than in vocabulary: two headline sources
//! can share the same satirical outlet. The probability of satire is the
//! mixture `sum_k P(k | shape) * P(satire | text, k)`, computed in log
//! space. With one component this is that component's score.
//!
//! # Calibration
//!
//! Naive-Bayes evidence grows with text length, so its raw probabilities are
//! extreme and its 0.5 threshold is wrong on long texts. The model stores a
//! calibration fitted on held-out folds of the training data:
//! `log_odds = slope * S / max(n, 1)^gamma + intercept`, where `S` is the
//! summed token weights and `n` the number of known tokens. With
//! `gamma = 0, slope = 1, intercept = prior log-odds` this is the raw
//! naive-Bayes posterior.
//!
//! # Counting
//!
//! A token counts once per text however often it occurs there
//! ([`Counting::Presence`], the default; binarized multinomial naive Bayes),
//! or once per occurrence ([`Counting::Frequency`]), in training and scoring
//! alike. With presence, an article that repeats a name does not pile up
//! that name's weight; it measured better on all three datasets in
//! cross-validation (README, "Accuracy").
//!
//! # File format (version 11)
//!
//! | bytes | content |
//! |---|---|
//! | 13 | magic `satire-model\n` |
//! | 4 | format version, u32 little-endian (`11`) |
//! | 8 | body length `L`, u64 little-endian |
//! | `L` | body: bincode 1 (little-endian, fixed-width integers) of [`ModelBody`] |
//! | 8 | checksum of the body (see `checksum` in `src/model.rs`), u64 little-endian |
//!
//! The body holds the metadata, the vocabulary in column order and, for each
//! component, its columns, for each class (`real` then `satire`) linfa's
//! `class_count` and `feature_count`, its calibration, and the router's
//! Gaussian for it (linfa's `theta` and `sigma`), and, for a model trained
//! with `--updatable`, its [`TrainingState`] (none in the default model),
//! and the scoring table ([`ScoreTable::to_bytes`]): derived from the
//! counts, stored so that loading copies and checks it instead of
//! rebuilding it.
//! linfa's `prior` and `feature_log_prob` are recomputed on load with the
//! same expressions linfa uses, so [`Model::to_linfa`] rebuilds the fitted
//! linfa model exactly. Writing is deterministic: the same training gives
//! the same bytes. `models/README.md` documents the format for users.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linfa_bayes::{GaussianNb, MultinomialNb};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::table::ScoreTable;
use crate::tokenize::{Tokenizer, TokenizerConfig, SHAPE_FEATURES};
use crate::vocab::Vocabulary;

/// The model file format version this build writes, and reads with its
/// stored scoring table.
pub const FORMAT_VERSION: u32 = 11;

/// Older versions this build also reads: their body is this version's,
/// with a scoring table laid out otherwise (pairs found through slots in
/// 8, weights in every record and row in 9, pairs keyed by their words'
/// record offsets in 10), so the stored table is set aside and rebuilt
/// from the counts on load (about 50 ms for the default model; see
/// `models/README.md`).
pub const REBUILT_VERSIONS: [u32; 3] = [8, 9, 10];
const MAGIC: &[u8; 13] = b"satire-model\n";

/// The two classes. Column `0` of linfa's targets is `Real`, `1` is `Satire`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Label {
    /// Straight reporting.
    Real,
    /// Satire.
    Satire,
}

impl Label {
    /// Both labels, in class-index order.
    pub const ALL: [Label; 2] = [Label::Real, Label::Satire];

    /// linfa's target value for this label.
    pub fn index(self) -> usize {
        match self {
            Label::Real => 0,
            Label::Satire => 1,
        }
    }

    /// `real` or `satire`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Real => "real",
            Label::Satire => "satire",
        }
    }

    /// Parses `real` or `satire` (any case, surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<Label> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("satire") {
            Some(Label::Satire)
        } else if s.eq_ignore_ascii_case("real") {
            Some(Label::Real)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maps summed token evidence to calibrated log-odds (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Length exponent: evidence is divided by `max(n, 1)^gamma`.
    pub gamma: f64,
    /// Multiplies the length-normalised evidence.
    pub slope: f64,
    /// Added last; plays the part of the prior log-odds.
    pub intercept: f64,
}

impl Calibration {
    /// The identity: calibrated log-odds equal raw naive-Bayes log-odds.
    pub fn identity(prior_log_odds: f64) -> Self {
        Calibration {
            gamma: 0.0,
            slope: 1.0,
            intercept: prior_log_odds,
        }
    }

    /// Factor applied to each token weight for a text with `known` known tokens.
    #[inline]
    pub fn scale(&self, known: u64) -> f64 {
        let n = known.max(1) as f64;
        if self.gamma == 0.0 {
            self.slope
        } else if self.gamma == 1.0 {
            // What `powf` gives for 1 (exactly `n`), without its cost:
            // several hundred instructions a call, three calls a text with
            // the default model, whose exponents are all 1.
            self.slope / n
        } else {
            self.slope / n.powf(self.gamma)
        }
    }
}

/// Where the training data came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// The path as given to `satire train`.
    pub path: String,
    /// Rows read.
    pub rows: u64,
    /// Rows dropped because their text also appears in a held-out file.
    pub dropped_overlap: u64,
    /// Rows used, satire.
    pub satire: u64,
    /// Rows used, real.
    pub real: u64,
}

/// Figures on one held-out file, measured when the model was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOutFigures {
    /// The path as given.
    pub path: String,
    /// Labelled rows.
    pub n: u64,
    /// Accuracy at the 0.5 threshold.
    pub accuracy: f64,
    /// F1 of the satire class.
    pub f1_satire: f64,
    /// ROC AUC.
    pub auc: f64,
}

/// How often a token counts in a text; see the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Counting {
    /// Once, however often it occurs (binarized naive Bayes).
    #[default]
    Presence,
    /// Once per occurrence (linfa's multinomial model as usually fed).
    Frequency,
}

impl Counting {
    /// The name `satire train --counts` takes and `inspect` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Counting::Presence => "presence",
            Counting::Frequency => "frequency",
        }
    }

    /// How many of a token's `occurrences` in one text count.
    #[inline]
    pub fn counted(self, occurrences: u64) -> u64 {
        match self {
            Counting::Presence => occurrences.min(1),
            Counting::Frequency => occurrences,
        }
    }
}

/// Everything about a model that is not its counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// `satire` version that wrote the model.
    pub created_by: String,
    /// Tokenizer settings used in training; scoring uses the same.
    pub tokenizer: TokenizerConfig,
    /// How often a token counts in a text, in training and scoring.
    pub counting: Counting,
    /// Additive (Laplace/Lidstone) smoothing given to linfa.
    pub alpha: f64,
    /// Minimum document frequency for a token to enter the vocabulary.
    pub min_df: u32,
    /// Vocabulary size cap.
    pub max_features: u64,
    /// Class prior for satire set by the user, replacing the one linfa fits.
    pub prior_satire: Option<f64>,
    /// Share of its own token total each component borrowed from the
    /// others' counts (0: none), unless given for the component itself
    /// ([`ComponentCounts::borrow`]); a component that borrowed has one
    /// extra document per class in its counts, the borrowed prior.
    pub borrow: f64,
    /// Training data, per source.
    pub sources: Vec<SourceSummary>,
    /// Files whose texts were kept out of training.
    pub excluded: Vec<String>,
    /// Held-out figures measured at training time.
    pub heldout: Vec<HeldOutFigures>,
}

/// linfa's per-class state that cannot be recomputed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Documents seen.
    pub class_count: usize,
    /// Summed token counts per column.
    pub feature_count: Vec<f64>,
}

/// One fitted two-class naive-Bayes model and its calibration, as stored.
///
/// A component knows only the tokens seen in its own training data: its
/// linfa model's column `i` is vocabulary column `columns[i]`, and a token
/// it never saw has weight 0 in it (rather than a weight made of smoothing
/// alone, which would bias long texts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentCounts {
    /// Name (the training source).
    pub name: String,
    /// Vocabulary columns of this component's linfa columns, ascending.
    pub columns: Vec<u32>,
    /// `[real, satire]`.
    pub classes: [ClassCounts; 2],
    /// Share of its own token total this component was to borrow from the
    /// others' counts (0: none).
    pub borrow: f64,
    /// The counts include a prior borrowed from the other components, fed
    /// to linfa as one extra document per class.
    pub borrowed: bool,
    /// Calibration of this component.
    pub calibration: Calibration,
    /// The router's Gaussian over this component's text shapes.
    pub shape: ShapeStats,
}

impl ComponentCounts {
    /// Training documents of class `label` (without the borrowed prior).
    pub fn documents(&self, label: Label) -> usize {
        self.classes[label.index()].class_count - usize::from(self.borrowed)
    }
}

/// A per-feature Gaussian over [`crate::tokenize::text_shape`]: linfa
/// `GaussianNb`'s `theta` and `sigma` for one class (here, one component).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShapeStats {
    /// Mean of each shape feature.
    pub mean: [f64; SHAPE_FEATURES],
    /// Variance of each shape feature, including linfa's `var_smoothing`.
    pub var: [f64; SHAPE_FEATURES],
}

impl ShapeStats {
    /// The part of the Gaussian log-density that does not depend on the
    /// text: `-0.5 * sum ln(2 pi var)` (linfa's expression).
    fn log_norm(&self) -> f64 {
        self.var
            .iter()
            .map(|v| (2.0 * std::f64::consts::PI * v).ln())
            .sum::<f64>()
            * -0.5
    }

    /// The part that does: `0.5 * sum (x - mean)^2 / var`.
    #[inline]
    fn half_distance(&self, x: &[f64; SHAPE_FEATURES]) -> f64 {
        x.iter()
            .zip(&self.mean)
            .zip(&self.var)
            .map(|((x, m), v)| (x - m).powi(2) / v)
            .sum::<f64>()
            * 0.5
    }
}

/// The router's prior over components, as linfa's `GaussianNb` computes
/// it: each component's share of the training documents.
fn router_priors(components: &[ComponentCounts]) -> Vec<f64> {
    let sizes: Vec<usize> = components
        .iter()
        .map(|c| c.documents(Label::Real) + c.documents(Label::Satire))
        .collect();
    let total: usize = sizes.iter().sum();
    sizes.iter().map(|&s| s as f64 / total as f64).collect()
}

/// The body of a model file. Field order is part of the format.
#[derive(Serialize, Deserialize)]
pub struct ModelBody<'a> {
    /// Metadata.
    pub meta: Metadata,
    /// Number of vocabulary columns.
    pub columns: u64,
    /// Tokens in column order, `\n` between them ([`Vocabulary::text`]).
    pub vocab: String,
    /// Components (at least one).
    pub components: Vec<ComponentCounts>,
    /// What `satire train --update` needs; `None` unless trained with
    /// `--updatable`.
    pub training: Option<TrainingState>,
    /// The scoring table derived from the counts ([`ScoreTable::to_bytes`]),
    /// stored so that loading is a copy and a check instead of a rebuild.
    #[serde(borrow, with = "serde_bytes")]
    pub scoring: &'a [u8],
}

/// What an updatable model keeps of its training data, so that
/// `satire train --update` can add documents and give exactly the model
/// training on all of them at once gives: the settings `Metadata` does not
/// hold, and every training document's token counts (no text) and shape.
/// The vocabulary cut-offs (`min_df`, `max_features`), the borrowed priors
/// and the out-of-fold calibration all depend on every document, so the
/// fitted counts alone could not give that model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// Dense chunk budget given to linfa, in MiB.
    pub chunk_mb: u64,
    /// Whether the calibration was fitted.
    pub calibrate: bool,
    /// Calibration folds.
    pub folds: u64,
    /// Whether every source was pooled into one component.
    pub one_component: bool,
    /// Every distinct token of the training documents, sorted.
    pub tokens: Vec<String>,
    /// The documents in training order, component by component.
    pub documents: Vec<StoredDocument>,
}

/// One training document of a [`TrainingState`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredDocument {
    /// Index of its component.
    pub component: u32,
    /// Its label.
    pub label: Label,
    /// Its shape ([`crate::tokenize::text_shape`]).
    pub shape: [f64; SHAPE_FEATURES],
    /// `(index into tokens, count)`, by increasing index.
    pub counts: Vec<(u32, u32)>,
}

impl TrainingState {
    fn check(&self, components: usize) -> Result<()> {
        let bad = |m: &str| Err(Error::Data(format!("training state: {m}")));
        if self.tokens.windows(2).any(|w| w[0] >= w[1]) {
            return bad("tokens out of order");
        }
        if self.folds < 2 || self.chunk_mb == 0 {
            return bad("folds must be at least 2 and chunk_mb at least 1");
        }
        let mut last = 0u32;
        for d in &self.documents {
            if d.component < last || d.component as usize >= components {
                return bad("documents out of component order or range");
            }
            last = d.component;
            if d.counts.windows(2).any(|w| w[0].0 >= w[1].0)
                || d.counts
                    .last()
                    .is_some_and(|&(t, _)| t as usize >= self.tokens.len())
                || d.counts.iter().any(|&(_, n)| n == 0)
                || d.shape.iter().any(|v| !v.is_finite())
            {
                return bad("a document's counts or shape are malformed");
            }
        }
        Ok(())
    }
}

// Mirrors of linfa-bayes 0.8.1's private `MultinomialNb` / `ClassHistogram`
// for serde: same field names, same order, same types. The round trip
// through these is checked by a test against a real fit.
#[derive(Serialize, Deserialize)]
struct LinfaHistogram {
    class_count: usize,
    prior: f64,
    feature_count: Array1<f64>,
    feature_log_prob: Array1<f64>,
}

#[derive(Serialize, Deserialize)]
struct LinfaMultinomialNb {
    class_info: BTreeMap<usize, LinfaHistogram>,
}

// Mirrors of linfa-bayes 0.8.1's private `GaussianNb` / `GaussianClassInfo`.
#[derive(Serialize, Deserialize)]
struct LinfaGaussianInfo {
    class_count: usize,
    prior: f64,
    theta: Array1<f64>,
    sigma: Array1<f64>,
}

#[derive(Serialize, Deserialize)]
struct LinfaGaussianNb {
    class_info: BTreeMap<usize, LinfaGaussianInfo>,
}

/// A trained model, ready to score.
///
/// Per vocabulary column the model keeps one row of weights: each
/// component's satire-minus-real log-probability (0 where the component
/// never saw the token).
#[derive(Clone, Debug)]
pub struct Model {
    meta: Metadata,
    vocab: Vocabulary,
    components: Vec<ComponentCounts>,
    /// Per column, one weight per component (dense, column-major); built
    /// on first use: scoring reads `scoring`, only the reference path and
    /// explanations read this.
    table: std::sync::OnceLock<Vec<f64>>,
    /// The same weights, laid out for scoring.
    scoring: ScoreTable,
    prior_log_odds: Vec<f64>,
    /// Per component, the router's log-prior plus its Gaussian's
    /// normalising term: everything of its log-likelihood but the text.
    router_log_base: Vec<f64>,
    /// What `train --update` needs, for an updatable model.
    training: Option<TrainingState>,
    /// The format version of the file this was read from
    /// ([`FORMAT_VERSION`] for a model trained here).
    format: u32,
}

/// linfa's smoothing, written exactly as linfa-bayes 0.8.1 writes it, so
/// that the recomputed values are bit-identical.
fn linfa_feature_log_prob(feature_count: &Array1<f64>, alpha: f64) -> Array1<f64> {
    let smoothed = feature_count.mapv(|x| x + alpha);
    let count = smoothed.sum();
    smoothed.mapv(|x| x.ln() - count.ln())
}

/// Per column, each component's satire-minus-real log-probability (0
/// where the component never saw the token), column-major.
fn dense_weights(components: &[ComponentCounts], n: usize, alpha: f64) -> Vec<f64> {
    let k = components.len();
    let mut table = vec![0.0f64; n * k];
    for (ci, comp) in components.iter().enumerate() {
        let flp: Vec<Array1<f64>> = comp
            .classes
            .iter()
            .map(|c| linfa_feature_log_prob(&Array1::from(c.feature_count.clone()), alpha))
            .collect();
        for (i, &j) in comp.columns.iter().enumerate() {
            table[j as usize * k + ci] = flp[1][i] - flp[0][i];
        }
    }
    table
}

fn linfa_priors(classes: &[ClassCounts]) -> Vec<f64> {
    let total: usize = classes.iter().map(|c| c.class_count).sum();
    classes
        .iter()
        .map(|c| c.class_count as f64 / total as f64)
        .collect()
}

fn to_linfa_model(classes: &[ClassCounts], alpha: f64) -> MultinomialNb<f64, usize> {
    let priors = linfa_priors(classes);
    let mirror = LinfaMultinomialNb {
        class_info: classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let fc = Array1::from(c.feature_count.clone());
                let flp = linfa_feature_log_prob(&fc, alpha);
                (
                    i,
                    LinfaHistogram {
                        class_count: c.class_count,
                        prior: priors[i],
                        feature_count: fc,
                        feature_log_prob: flp,
                    },
                )
            })
            .collect(),
    };
    let bytes = bincode::serialize(&mirror).expect("serialising plain data to memory cannot fail");
    bincode::deserialize(&bytes)
        .expect("the mirror has linfa's exact serde layout (checked by a test)")
}

/// The model file's checksum: four interleaved multiply-rotate lanes over
/// 32-byte blocks, then the tail and the length, mixed by MurmurHash3's
/// finaliser. It catches truncation, padding and flipped bits at memory
/// speed (FNV-1a, one byte at a time, took 7 ms of every start-up).
fn checksum(bytes: &[u8]) -> u64 {
    const K: [u64; 4] = [
        0x9E37_79B9_7F4A_7C15,
        0xC2B2_AE3D_27D4_EB4F,
        0x1656_67B1_9E37_79F9,
        0xFF51_AFD7_ED55_8CCD,
    ];
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
    let mut lanes = K;
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane = (*lane ^ word(&block[8 * i..8 * i + 8]))
                .wrapping_mul(K[i])
                .rotate_left(31);
        }
    }
    let mut h = (bytes.len() as u64).wrapping_mul(K[0]);
    for lane in lanes {
        h = (h ^ lane).wrapping_mul(K[1]).rotate_left(27);
    }
    for c in blocks.remainder().chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w))
            .wrapping_mul(K[2])
            .rotate_left(29);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

impl Model {
    /// Builds a model from its parts, checking that they fit together.
    pub fn from_parts(
        meta: Metadata,
        vocab: Vec<String>,
        components: Vec<ComponentCounts>,
    ) -> Result<Model> {
        Model::assemble(meta, Vocabulary::new(&vocab), components, None)
    }

    /// [`Model::from_parts`], with the scoring table already built (read
    /// from a model file) or not.
    fn assemble(
        meta: Metadata,
        vocab: Vocabulary,
        components: Vec<ComponentCounts>,
        scoring: Option<ScoreTable>,
    ) -> Result<Model> {
        let n = vocab.len();
        if components.is_empty() {
            return Err(Error::Data("a model needs at least one component".into()));
        }
        for comp in &components {
            // Folds with `|` and `&`, not `any` with `||`: with no early
            // exit, these loops over every column compile to vector code
            // (start-up; see BENCHMARKS.md).
            let cols = &comp.columns;
            let unordered = cols
                .iter()
                .zip(cols.iter().skip(1))
                .fold(false, |bad, (a, b)| bad | (a >= b));
            if unordered || cols.last().is_some_and(|&c| c as usize >= n) {
                return Err(Error::Data(format!(
                    "component {}: columns out of order or range",
                    comp.name
                )));
            }
            for (c, label) in comp.classes.iter().zip(Label::ALL) {
                if c.feature_count.len() != comp.columns.len() {
                    return Err(Error::Data(format!(
                        "component {}: class {label} has {} feature counts for {} columns",
                        comp.name,
                        c.feature_count.len(),
                        comp.columns.len()
                    )));
                }
                if c.class_count <= usize::from(comp.borrowed) {
                    return Err(Error::Data(format!(
                        "component {}: class {label} has no training documents",
                        comp.name
                    )));
                }
            }
            if comp.shape.var.iter().any(|v| !(*v > 0.0 && v.is_finite()))
                || comp.shape.mean.iter().any(|m| !m.is_finite())
            {
                return Err(Error::Data(format!(
                    "component {}: shape statistics must be finite with positive variance",
                    comp.name
                )));
            }
            // `0 <= n <= MAX` is false for NaN, the infinities and negatives.
            let counts_ok = comp.classes.iter().all(|c| {
                c.feature_count
                    .iter()
                    .fold(true, |ok, n| ok & (0.0..=f64::MAX).contains(n))
            });
            if !counts_ok {
                return Err(Error::Data(format!(
                    "component {}: token counts must be finite and not negative",
                    comp.name
                )));
            }
            let cal = &comp.calibration;
            if !(cal.gamma >= 0.0
                && cal.gamma.is_finite()
                && cal.slope.is_finite()
                && cal.intercept.is_finite())
            {
                return Err(Error::Data(format!(
                    "component {}: calibration must be finite (gamma >= 0)",
                    comp.name
                )));
            }
        }
        if meta.prior_satire.is_some_and(|p| !(p > 0.0 && p < 1.0)) {
            return Err(Error::Data("prior_satire must be in (0, 1)".into()));
        }
        if !(meta.alpha > 0.0 && meta.alpha.is_finite()) {
            return Err(Error::Data(format!(
                "alpha must be positive, got {}",
                meta.alpha
            )));
        }
        let k = components.len();
        let prior_log_odds = components
            .iter()
            .map(|comp| match meta.prior_satire {
                Some(p) => (p / (1.0 - p)).ln(),
                None => {
                    let pr = linfa_priors(&comp.classes);
                    pr[1].ln() - pr[0].ln()
                }
            })
            .collect();
        let router_log_base = router_priors(&components)
            .iter()
            .zip(&components)
            .map(|(p, c)| p.ln() + c.shape.log_norm())
            .collect();
        let table = std::sync::OnceLock::new();
        let scoring = match scoring {
            Some(t) => t,
            None => {
                let dense = dense_weights(&components, n, meta.alpha);
                // Records most frequent token first (training counts, all
                // components), so that common tokens share cache lines.
                let mut freq = vec![0.0f64; n];
                for comp in &components {
                    for (i, &j) in comp.columns.iter().enumerate() {
                        freq[j as usize] +=
                            comp.classes[0].feature_count[i] + comp.classes[1].feature_count[i];
                    }
                }
                let mut order: Vec<u32> = (0..n as u32).collect();
                order.sort_by(|&a, &b| {
                    freq[b as usize]
                        .total_cmp(&freq[a as usize])
                        .then(a.cmp(&b))
                });
                let tokens: Vec<&str> = vocab.tokens().collect();
                let t = ScoreTable::new(&tokens, &dense, k, &order);
                let _ = table.set(dense);
                t
            }
        };
        Ok(Model {
            meta,
            vocab,
            components,
            table,
            scoring,
            prior_log_odds,
            router_log_base,
            training: None,
            format: FORMAT_VERSION,
        })
    }

    /// The format version of the file the model was read from: older than
    /// [`FORMAT_VERSION`] for one of [`REBUILT_VERSIONS`], whose scoring
    /// table was rebuilt on load. A model trained here, or saved, is
    /// [`FORMAT_VERSION`].
    pub fn format_version(&self) -> u32 {
        self.format
    }

    /// The dense weights, built on first use.
    fn dense(&self) -> &[f64] {
        self.table
            .get_or_init(|| dense_weights(&self.components, self.vocab.len(), self.meta.alpha))
    }

    /// The model with `state` attached (it becomes updatable), or without
    /// one.
    pub fn with_training_state(mut self, state: Option<TrainingState>) -> Result<Model> {
        if let Some(st) = &state {
            st.check(self.components.len())?;
        }
        self.training = state;
        Ok(self)
    }

    /// What `satire train --update` needs, if the model was trained with
    /// `--updatable`.
    pub fn training_state(&self) -> Option<&TrainingState> {
        self.training.as_ref()
    }

    /// The metadata.
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// Replaces the metadata's held-out figures (training fills them in
    /// after fitting).
    pub fn set_heldout(&mut self, heldout: Vec<HeldOutFigures>) {
        self.meta.heldout = heldout;
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocabulary {
        &self.vocab
    }

    /// The components.
    pub fn components(&self) -> &[ComponentCounts] {
        &self.components
    }

    /// A tokenizer with the model's settings.
    pub fn tokenizer(&self) -> Tokenizer {
        Tokenizer::new(self.meta.tokenizer.clone())
    }

    /// How often a token counts in a text.
    pub fn counting(&self) -> Counting {
        self.meta.counting
    }

    /// Column of a token, if known.
    #[inline]
    pub fn column(&self, token: &str) -> Option<u32> {
        self.scoring.get(token).map(|hit| self.scoring.column(hit))
    }

    /// The scoring table (the weights of [`Model::row`], by token).
    #[inline]
    pub fn scoring_table(&self) -> &ScoreTable {
        &self.scoring
    }

    /// Weights of column `col`: one satire-minus-real log-probability per
    /// component.
    #[inline]
    pub fn row(&self, col: u32) -> &[f64] {
        let k = self.components.len();
        let i = col as usize * k;
        &self.dense()[i..i + k]
    }

    /// Weight (satire minus real log-probability) of column `col` in
    /// component `k`.
    #[inline]
    pub fn weight(&self, k: usize, col: u32) -> f64 {
        self.dense()[col as usize * self.components.len() + k]
    }

    /// How often vocabulary column `col` was seen in component `k`'s
    /// training data, both classes together.
    pub fn count(&self, k: usize, col: u32) -> f64 {
        let c = &self.components[k];
        match c.columns.binary_search(&col) {
            Ok(i) => c.classes[0].feature_count[i] + c.classes[1].feature_count[i],
            Err(_) => 0.0,
        }
    }

    /// Raw naive-Bayes prior log-odds of satire of component `k`.
    pub fn prior_log_odds(&self, k: usize) -> f64 {
        self.prior_log_odds[k]
    }

    /// The router's joint log-likelihood of component `k` for a text of
    /// this shape ([`crate::tokenize::text_shape`]): linfa `GaussianNb`'s
    /// `joint_log_likelihood`, up to rounding.
    #[inline]
    pub fn router_log_likelihood(&self, k: usize, shape: &[f64; SHAPE_FEATURES]) -> f64 {
        self.router_log_base[k] - self.components[k].shape.half_distance(shape)
    }

    /// The calibration of component `k`.
    pub fn calibration(&self, k: usize) -> &Calibration {
        &self.components[k].calibration
    }

    /// What turns component `k`'s evidence into the log-odds a scorer
    /// reports: its [`Model::calibration`], or with `calibrated` false the
    /// identity on its prior ([`Calibration::identity`]), which gives the
    /// raw naive-Bayes log-odds to the bit (`1.0 * evidence + prior`).
    pub fn calibration_for(&self, k: usize, calibrated: bool) -> Calibration {
        if calibrated {
            self.calibration(k).clone()
        } else {
            Calibration::identity(self.prior_log_odds(k))
        }
    }

    /// Rebuilds component `k`'s fitted linfa model (over the component's
    /// own columns, [`ComponentCounts::columns`]): equal (`==`) to what
    /// linfa's fit returned for the same data.
    pub fn to_linfa(&self, k: usize) -> MultinomialNb<f64, usize> {
        to_linfa_model(&self.components[k].classes, self.meta.alpha)
    }

    /// The shape router as a linfa model (targets: component index): equal
    /// to linfa's `GaussianNb` fit on the training texts' shapes.
    pub fn shape_router_to_linfa(&self) -> GaussianNb<f64, usize> {
        let priors = router_priors(&self.components);
        let mirror = LinfaGaussianNb {
            class_info: self
                .components
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        i,
                        LinfaGaussianInfo {
                            class_count: c.documents(Label::Real) + c.documents(Label::Satire),
                            prior: priors[i],
                            theta: Array1::from(c.shape.mean.to_vec()),
                            sigma: Array1::from(c.shape.var.to_vec()),
                        },
                    )
                })
                .collect(),
        };
        let bytes =
            bincode::serialize(&mirror).expect("serialising plain data to memory cannot fail");
        bincode::deserialize(&bytes)
            .expect("the mirror has linfa's exact serde layout (checked by a test)")
    }

    /// Reads the per-component shape Gaussians out of a fitted linfa
    /// `GaussianNb` whose targets are component indices `0..k`.
    pub fn shapes_from_linfa(nb: &GaussianNb<f64, usize>, k: usize) -> Result<Vec<ShapeStats>> {
        let bad = |e: String| Error::Data(format!("cannot read linfa model: {e}"));
        let bytes = bincode::serialize(nb).map_err(|e| bad(e.to_string()))?;
        let mirror: LinfaGaussianNb =
            bincode::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        if mirror.class_info.len() != k || mirror.class_info.keys().copied().ne(0..k) {
            return Err(bad(format!("expected components 0..{k}")));
        }
        mirror
            .class_info
            .into_values()
            .map(|g| {
                let arr = |a: &Array1<f64>| -> Result<[f64; SHAPE_FEATURES]> {
                    a.as_slice()
                        .and_then(|s| s.try_into().ok())
                        .ok_or_else(|| bad(format!("expected {SHAPE_FEATURES} shape features")))
                };
                Ok(ShapeStats {
                    mean: arr(&g.theta)?,
                    var: arr(&g.sigma)?,
                })
            })
            .collect()
    }

    /// Reads linfa's per-class counts out of a fitted two-class model
    /// (targets `0` = real and `1` = satire).
    pub fn counts_from_linfa(nb: &MultinomialNb<f64, usize>) -> Result<[ClassCounts; 2]> {
        let bytes = bincode::serialize(nb)
            .map_err(|e| Error::Data(format!("cannot read linfa model: {e}")))?;
        let mirror: LinfaMultinomialNb = bincode::deserialize(&bytes)
            .map_err(|e| Error::Data(format!("cannot read linfa model: {e}")))?;
        let mut out: [Option<ClassCounts>; 2] = [None, None];
        for (class, h) in mirror.class_info {
            let slot = out
                .get_mut(class)
                .ok_or_else(|| Error::Data(format!("unexpected class {class} in linfa model")))?;
            *slot = Some(ClassCounts {
                class_count: h.class_count,
                feature_count: h.feature_count.to_vec(),
            });
        }
        match out {
            [Some(r), Some(s)] => Ok([r, s]),
            [None, _] => Err(Error::Data("the training data has no `real` rows".into())),
            [_, None] => Err(Error::Data("the training data has no `satire` rows".into())),
        }
    }

    /// The model file's bytes (deterministic).
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = ModelBody {
            meta: self.meta.clone(),
            columns: self.vocab.len() as u64,
            vocab: self.vocab.text().to_string(),
            components: self.components.clone(),
            training: self.training.clone(),
            scoring: &self.scoring.to_bytes(),
        };
        let body = bincode::serialize(&body).expect("serialising plain data to memory cannot fail");
        Model::frame(&body)
    }

    /// A model file around `body` (the bincode of [`ModelBody`]): magic,
    /// this build's format version, length and checksum. For tools and
    /// fuzzing that need to reach the body's parser past the checksum.
    pub fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 40);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(&checksum(body).to_le_bytes());
        out
    }

    /// Parses a model file's bytes; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Model> {
        Model::parse(bytes, origin, ScoreTable::from_bytes)
    }

    /// Parses a model file's bytes, reading the scoring table (its bytes,
    /// weights a token, columns) with `table`: copied, or borrowed for the
    /// built-in model.
    fn parse<'a>(
        bytes: &'a [u8],
        origin: &Path,
        table: impl FnOnce(&'a [u8], usize, usize) -> std::result::Result<ScoreTable, String>,
    ) -> Result<Model> {
        let err = |message: String| Error::Model {
            path: origin.to_path_buf(),
            message,
        };
        let retrain = "retrain it with `satire train` (see models/README.md)";
        if bytes.is_empty() {
            return Err(err(format!("empty model file: {retrain}")));
        }
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(err("not a satire model file (bad magic bytes)".into()));
        }
        let rest = &bytes[MAGIC.len()..];
        let version = rest
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| err(format!("truncated model file: {retrain}")))?;
        let rebuild = REBUILT_VERSIONS.contains(&version);
        if version != FORMAT_VERSION && !rebuild {
            return Err(err(format!(
                "model format version {version}, but this satire ({}) reads versions {} to {FORMAT_VERSION}: {}",
                env!("CARGO_PKG_VERSION"),
                REBUILT_VERSIONS[0],
                if version > FORMAT_VERSION {
                    "upgrade satire, or retrain the model with this version"
                } else {
                    retrain
                }
            )));
        }
        let rest = &rest[4..];
        let len = rest
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .ok_or_else(|| err(format!("truncated model file: {retrain}")))?;
        let rest = &rest[8..];
        let len =
            usize::try_from(len).map_err(|_| err("corrupt model file (body length)".into()))?;
        if rest.len() != len.saturating_add(8) {
            return Err(err(format!(
                "truncated or padded model file: body of {} bytes announced, {} present: {retrain}",
                len,
                rest.len().saturating_sub(8)
            )));
        }
        let (body, sum) = rest.split_at(len);
        let sum = u64::from_le_bytes(sum.try_into().unwrap_or([0; 8]));
        if checksum(body) != sum {
            return Err(err(format!(
                "corrupt model file (checksum mismatch): {retrain}"
            )));
        }
        let body: ModelBody = bincode::deserialize(body)
            .map_err(|e| err(format!("corrupt model file ({e}): {retrain}")))?;
        let k = body.components.len();
        let columns = usize::try_from(body.columns)
            .map_err(|_| err(format!("corrupt model file (vocabulary size): {retrain}")))?;
        let vocab = Vocabulary::from_text(body.vocab, columns);
        if vocab.len() != columns || (columns == 0 && !vocab.text().is_empty()) {
            return Err(err(format!(
                "corrupt model file (vocabulary size): {retrain}"
            )));
        }
        let scoring = if rebuild {
            None
        } else {
            Some(
                table(body.scoring, k, columns)
                    .map_err(|e| err(format!("corrupt model file ({e}): {retrain}")))?,
            )
        };
        Model::assemble(body.meta, vocab, body.components, scoring)
            .and_then(|m| m.with_training_state(body.training))
            .map(|m| Model {
                format: version,
                ..m
            })
            .map_err(|e| err(format!("inconsistent model file ({e})")))
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Model::from_bytes(&bytes, path)
    }

    /// Writes the model file atomically (a temporary file in the same
    /// folder, renamed into place when complete).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.save_to(crate::io::AtomicFile::create(path)?)
    }

    /// Writes the model into `out` and puts it in place: [`Self::save`]
    /// with the file opened beforehand, so that an output that cannot be
    /// written is found before the work of training.
    pub fn save_to(&self, mut out: crate::io::AtomicFile) -> Result<()> {
        use std::io::Write;
        out.write_all(&self.to_bytes())
            .map_err(|e| Error::io(out.path(), e))?;
        out.commit()
    }

    /// The default model embedded in this binary at build time
    /// (`models/default.satmodel`).
    pub fn embedded() -> Result<Model> {
        // The scoring table is read in place: nothing to copy at start-up.
        Model::parse(
            EMBEDDED,
            &PathBuf::from("<embedded default model>"),
            ScoreTable::from_static,
        )
    }
}

#[cfg(test)]
impl Metadata {
    /// Minimal metadata for unit tests: default tokenizer, alpha 1.
    pub(crate) fn for_tests() -> Metadata {
        Metadata {
            created_by: "test".into(),
            tokenizer: TokenizerConfig::default(),
            counting: Counting::Frequency,
            alpha: 1.0,
            min_df: 1,
            max_features: 10,
            prior_satire: None,
            borrow: 0.0,
            sources: vec![],
            excluded: vec![],
            heldout: vec![],
        }
    }
}

#[cfg(test)]
impl ShapeStats {
    /// Unit-variance Gaussian at `mean`, for unit tests.
    pub(crate) fn for_tests(mean: [f64; SHAPE_FEATURES]) -> ShapeStats {
        ShapeStats {
            mean,
            var: [1.0; SHAPE_FEATURES],
        }
    }
}

static EMBEDDED: &[u8] = include_bytes!("../models/default.satmodel");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_scale_is_the_length_power_to_the_bit() {
        // Exponent 1 skips `powf`; every exponent must give what the
        // formula `slope / max(n, 1)^gamma` gives, bit for bit.
        for gamma in [0.5, 1.0, 1.7] {
            let cal = Calibration {
                gamma,
                slope: 6.0018,
                intercept: 0.0,
            };
            for known in [0u64, 1, 2, 3, 7, 10, 999, 1 << 20, (1 << 53) + 1] {
                let want = 6.0018 / (known.max(1) as f64).powf(gamma);
                assert_eq!(
                    cal.scale(known).to_bits(),
                    want.to_bits(),
                    "{gamma} {known}"
                );
            }
        }
        assert_eq!(Calibration::identity(0.3).scale(12), 1.0);
    }

    fn tiny() -> Model {
        let meta = Metadata::for_tests();
        let classes = [
            ClassCounts {
                class_count: 3,
                feature_count: vec![5.0, 1.0, 0.0],
            },
            ClassCounts {
                class_count: 1,
                feature_count: vec![0.0, 1.0, 4.0],
            },
        ];
        let comp = ComponentCounts {
            name: "t".into(),
            columns: vec![0, 1, 2],
            classes,
            borrow: 0.0,
            borrowed: false,
            calibration: Calibration::identity(0.0),
            shape: ShapeStats::for_tests([0.0, 0.0]),
        };
        Model::from_parts(
            meta,
            vec!["said".into(), "the".into(), "area".into()],
            vec![comp],
        )
        .unwrap()
    }

    /// `from_parts` of one component over a vocabulary of `n` tokens, with
    /// `columns` and the satire class's counts as given.
    fn with(n: usize, columns: Vec<u32>, satire: Vec<f64>) -> Result<Model> {
        let comp = ComponentCounts {
            name: "t".into(),
            classes: [
                ClassCounts {
                    class_count: 3,
                    feature_count: vec![1.0; columns.len()],
                },
                ClassCounts {
                    class_count: 1,
                    feature_count: satire,
                },
            ],
            columns,
            borrow: 0.0,
            borrowed: false,
            calibration: Calibration::identity(0.0),
            shape: ShapeStats::for_tests([0.0, 0.0]),
        };
        let vocab = (0..n).map(|i| format!("t{i}")).collect();
        Model::from_parts(Metadata::for_tests(), vocab, vec![comp])
    }

    #[test]
    fn counts_and_columns_are_checked_on_load() {
        // 37 columns: the vectorised checks' main loop and their tail
        // both see a bad value somewhere.
        let n = 37;
        let cols = || (0..n as u32).collect::<Vec<_>>();
        let counts = || (0..n).map(|i| i as f64).collect::<Vec<_>>();
        let err = |m: Result<Model>| m.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(with(n, cols(), counts()).is_ok());
        let mut max = counts();
        max[n - 1] = f64::MAX;
        assert!(with(n, cols(), max).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300] {
            for i in 0..n {
                let mut c = counts();
                c[i] = bad;
                let e = err(with(n, cols(), c));
                assert!(
                    e.contains("token counts must be finite and not negative"),
                    "{bad} at {i}: {e}"
                );
            }
        }
        for i in 1..n {
            // Column `i` swapped with the one before, or equal to it.
            let mut swapped = cols();
            swapped.swap(i - 1, i);
            let mut equal = cols();
            equal[i] = equal[i - 1];
            for c in [swapped, equal] {
                let e = err(with(n, c.clone(), counts()));
                assert!(e.contains("columns out of order or range"), "{c:?}: {e}");
            }
        }
        let mut past = cols();
        past[n - 1] = n as u32;
        assert!(err(with(n, past, counts())).contains("columns out of order or range"));
    }

    #[test]
    fn weights_are_smoothed_log_ratios() {
        let m = tiny();
        // real: (5+1, 1+1, 0+1) / 9; satire: (1, 2, 5) / 8
        let w_area = (5.0f64 / 8.0).ln() - (1.0f64 / 9.0).ln();
        assert!((m.weight(0, m.column("area").unwrap()) - w_area).abs() < 1e-15);
        assert!((m.prior_log_odds(0) - (0.25f64 / 0.75).ln()).abs() < 1e-15);
    }

    #[test]
    fn bytes_round_trip_exactly() {
        let m = tiny();
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes, Path::new("t")).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.components(), m.components());
    }

    #[test]
    fn stored_table_is_the_one_built_from_the_counts() {
        let m = tiny();
        let back = Model::from_bytes(&m.to_bytes(), Path::new("t")).unwrap();
        assert_eq!(back.scoring_table(), m.scoring_table());
        assert_eq!(back.vocab().text(), "said\nthe\narea");
        for t in ["said", "the", "area"] {
            assert_eq!(back.column(t), m.column(t));
        }
    }

    #[test]
    fn older_formats_load_with_their_table_rebuilt() {
        // A body of version 8 or 9 is this version's with a table this
        // build cannot read: here bytes of no table at all, which must be
        // set aside, not read. The model rebuilt from the counts scores as
        // the model it was trained as, says which version it was read
        // from, and saves as this version.
        let m = tiny();
        let body = ModelBody {
            meta: m.meta.clone(),
            columns: m.vocab.len() as u64,
            vocab: m.vocab.text().to_string(),
            components: m.components.clone(),
            training: None,
            scoring: b"an older layout",
        };
        let body = bincode::serialize(&body).unwrap();
        let text = "said the area area man";
        for version in REBUILT_VERSIONS {
            let mut bytes = Model::frame(&body);
            bytes[MAGIC.len()..][..4].copy_from_slice(&version.to_le_bytes());
            let old = Model::from_bytes(&bytes, Path::new("old.satmodel")).unwrap();
            assert_eq!(old.format_version(), version);
            assert_eq!(old.scoring_table(), m.scoring_table());
            let score = |m: &Model| crate::score::Scorer::new(m).score(text);
            assert_eq!(score(&old), score(&m));
            assert_eq!(old.to_bytes(), m.to_bytes());
            // This version's table is read, not rebuilt: the same bytes
            // as this version are refused.
            bytes[MAGIC.len()..][..4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
            let e = Model::from_bytes(&bytes, Path::new("new.satmodel")).unwrap_err();
            assert!(e.to_string().contains("scoring table"), "{e}");
        }
        assert_eq!(m.format_version(), FORMAT_VERSION);
    }

    #[test]
    fn damaged_vocabularies_and_tables_behind_a_valid_checksum_never_panic() {
        // The checksum catches accidents; a body rewritten with a fresh
        // checksum must still load safely or be refused. Every byte of the
        // tiny model's body is set to values that break lengths, offsets
        // and tags; a model that still loads must score finitely.
        let bytes = tiny().to_bytes();
        let body = &bytes[MAGIC.len() + 12..bytes.len() - 8];
        let mut refused = 0;
        for i in 0..body.len() {
            for v in [0u8, 1, 7, 0x7f, 0xff] {
                let mut b = body.to_vec();
                b[i] = v;
                match Model::from_bytes(&Model::frame(&b), Path::new("t")) {
                    Ok(m) => {
                        let s = crate::score::Scorer::new(&m).score("said the area area man");
                        assert!(s.p_satire.is_finite());
                        let _ = m.vocab().tokens().count();
                    }
                    Err(_) => refused += 1,
                }
            }
        }
        assert!(refused > 0);
    }

    #[test]
    fn damaged_files_are_refused_with_reason() {
        let bytes = tiny().to_bytes();
        let msg = |b: &[u8]| {
            Model::from_bytes(b, Path::new("m.satmodel"))
                .unwrap_err()
                .to_string()
        };
        assert!(msg(b"hello").contains("not a satire model"));
        assert!(msg(&bytes[..bytes.len() - 3]).contains("truncated"));
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(msg(&flipped).contains("checksum"));
        let mut newer = bytes.clone();
        newer[MAGIC.len()] = (FORMAT_VERSION + 1) as u8;
        let m = msg(&newer);
        assert!(
            m.contains(&format!("version {}", FORMAT_VERSION + 1)) && m.contains("upgrade satire"),
            "{m}"
        );
        let mut older = bytes.clone();
        older[MAGIC.len()] = (REBUILT_VERSIONS[0] - 1) as u8;
        let m = msg(&older);
        assert!(m.contains("retrain"), "{m}");
        assert!(msg(&bytes[..MAGIC.len() + 2]).contains("truncated"));
    }
}
