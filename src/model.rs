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
//! # File format (version 1)
//!
//! | bytes | content |
//! |---|---|
//! | 13 | magic `satire-model\n` |
//! | 4 | format version, u32 little-endian (`1`) |
//! | 8 | body length `L`, u64 little-endian |
//! | `L` | body: bincode 1 (little-endian, fixed-width integers) of [`ModelBody`] |
//! | 8 | FNV-1a 64 of the body, u64 little-endian |
//!
//! The body holds the metadata, the vocabulary in column order and, for each
//! class (`real` then `satire`), linfa's `class_count` and `feature_count`.
//! linfa's `prior` and `feature_log_prob` are recomputed on load with the
//! same expressions linfa uses, so [`Model::to_linfa`] rebuilds the fitted
//! linfa model exactly. Writing is deterministic: the same training gives
//! the same bytes. `models/README.md` documents the format for users.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linfa_bayes::MultinomialNb;
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tokenize::{Tokenizer, TokenizerConfig};
use crate::vocab::Vocabulary;

/// The model file format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
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
        if self.gamma == 0.0 {
            self.slope
        } else {
            self.slope / (known.max(1) as f64).powf(self.gamma)
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

/// Everything about a model that is not its counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// `satire` version that wrote the model.
    pub created_by: String,
    /// Tokenizer settings used in training; scoring uses the same.
    pub tokenizer: TokenizerConfig,
    /// Additive (Laplace/Lidstone) smoothing given to linfa.
    pub alpha: f64,
    /// Minimum document frequency for a token to enter the vocabulary.
    pub min_df: u32,
    /// Vocabulary size cap.
    pub max_features: u64,
    /// Class prior for satire set by the user, replacing the one linfa fits.
    pub prior_satire: Option<f64>,
    /// The calibration.
    pub calibration: Calibration,
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

/// The body of a model file. Field order is part of the format.
#[derive(Serialize, Deserialize)]
pub struct ModelBody {
    /// Metadata.
    pub meta: Metadata,
    /// Tokens in column order.
    pub vocab: Vec<String>,
    /// `[real, satire]`.
    pub classes: [ClassCounts; 2],
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

/// A trained model, ready to score.
#[derive(Clone, Debug)]
pub struct Model {
    meta: Metadata,
    vocab: Vocabulary,
    classes: [ClassCounts; 2],
    weights: Vec<f64>,
    prior_log_odds: f64,
}

/// linfa's smoothing, written exactly as linfa-bayes 0.8.1 writes it, so
/// that the recomputed values are bit-identical.
fn linfa_feature_log_prob(feature_count: &Array1<f64>, alpha: f64) -> Array1<f64> {
    let smoothed = feature_count.mapv(|x| x + alpha);
    let count = smoothed.sum();
    smoothed.mapv(|x| x.ln() - count.ln())
}

fn linfa_priors(classes: &[ClassCounts; 2]) -> [f64; 2] {
    let total: usize = classes.iter().map(|c| c.class_count).sum();
    [
        classes[0].class_count as f64 / total as f64,
        classes[1].class_count as f64 / total as f64,
    ]
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Model {
    /// Builds a model from its parts, checking that they fit together.
    pub fn from_parts(meta: Metadata, vocab: Vec<String>, classes: [ClassCounts; 2]) -> Result<Model> {
        let n = vocab.len();
        for (c, label) in classes.iter().zip(Label::ALL) {
            if c.feature_count.len() != n {
                return Err(Error::Data(format!(
                    "class {label} has {} feature counts for a vocabulary of {n}",
                    c.feature_count.len()
                )));
            }
            if c.class_count == 0 {
                return Err(Error::Data(format!("class {label} has no training documents")));
            }
        }
        if !(meta.alpha > 0.0 && meta.alpha.is_finite()) {
            return Err(Error::Data(format!("alpha must be positive, got {}", meta.alpha)));
        }
        let flp: Vec<Array1<f64>> = classes
            .iter()
            .map(|c| linfa_feature_log_prob(&Array1::from(c.feature_count.clone()), meta.alpha))
            .collect();
        let weights: Vec<f64> = flp[1].iter().zip(flp[0].iter()).map(|(s, r)| s - r).collect();
        let prior_log_odds = match meta.prior_satire {
            Some(p) => (p / (1.0 - p)).ln(),
            None => {
                let pr = linfa_priors(&classes);
                pr[1].ln() - pr[0].ln()
            }
        };
        Ok(Model {
            meta,
            vocab: Vocabulary::new(vocab),
            classes,
            weights,
            prior_log_odds,
        })
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

    /// Per-class counts, `[real, satire]`.
    pub fn classes(&self) -> &[ClassCounts; 2] {
        &self.classes
    }

    /// A tokenizer with the model's settings.
    pub fn tokenizer(&self) -> Tokenizer {
        Tokenizer::new(self.meta.tokenizer.clone())
    }

    /// Column of a token, if known.
    #[inline]
    pub fn column(&self, token: &str) -> Option<u32> {
        self.vocab.get(token)
    }

    /// Weight (satire minus real log-probability) of column `col`.
    #[inline]
    pub fn weight(&self, col: u32) -> f64 {
        self.weights[col as usize]
    }

    /// Raw naive-Bayes prior log-odds of satire.
    pub fn prior_log_odds(&self) -> f64 {
        self.prior_log_odds
    }

    /// The calibration in force.
    pub fn calibration(&self) -> &Calibration {
        &self.meta.calibration
    }

    /// Rebuilds the fitted linfa model: equal (`==`) to what linfa's fit
    /// returned for the same data.
    pub fn to_linfa(&self) -> MultinomialNb<f64, usize> {
        let priors = linfa_priors(&self.classes);
        let mirror = LinfaMultinomialNb {
            class_info: self
                .classes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let fc = Array1::from(c.feature_count.clone());
                    let flp = linfa_feature_log_prob(&fc, self.meta.alpha);
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
        bincode::deserialize(&bytes).expect("the mirror has linfa's exact serde layout (checked by a test)")
    }

    /// Reads linfa's per-class counts out of a fitted model (targets must
    /// be `0` = real and `1` = satire).
    pub fn counts_from_linfa(nb: &MultinomialNb<f64, usize>) -> Result<[ClassCounts; 2]> {
        let bytes = bincode::serialize(nb).map_err(|e| Error::Data(format!("cannot read linfa model: {e}")))?;
        let mirror: LinfaMultinomialNb =
            bincode::deserialize(&bytes).map_err(|e| Error::Data(format!("cannot read linfa model: {e}")))?;
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
            vocab: self.vocab.tokens().to_vec(),
            classes: self.classes.clone(),
        };
        let body = bincode::serialize(&body).expect("serialising plain data to memory cannot fail");
        let mut out = Vec::with_capacity(body.len() + 40);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&fnv1a64(&body).to_le_bytes());
        out
    }

    /// Parses a model file's bytes; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Model> {
        let err = |message: String| Error::Model {
            path: origin.to_path_buf(),
            message,
        };
        let retrain = "retrain it with `satire train` (see models/README.md)";
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(err("not a satire model file (bad magic bytes)".into()));
        }
        let rest = &bytes[MAGIC.len()..];
        let version = rest
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| err(format!("truncated model file: {retrain}")))?;
        if version != FORMAT_VERSION {
            return Err(err(format!(
                "model format version {version}, but this satire ({}) reads only version {FORMAT_VERSION}: {}",
                env!("CARGO_PKG_VERSION"),
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
        let len = usize::try_from(len).map_err(|_| err("corrupt model file (body length)".into()))?;
        if rest.len() != len.saturating_add(8) {
            return Err(err(format!(
                "truncated or padded model file: body of {} bytes announced, {} present: {retrain}",
                len,
                rest.len().saturating_sub(8)
            )));
        }
        let (body, sum) = rest.split_at(len);
        let sum = u64::from_le_bytes(sum.try_into().unwrap_or([0; 8]));
        if fnv1a64(body) != sum {
            return Err(err(format!("corrupt model file (checksum mismatch): {retrain}")));
        }
        let body: ModelBody = bincode::deserialize(body).map_err(|e| err(format!("corrupt model file ({e}): {retrain}")))?;
        Model::from_parts(body.meta, body.vocab, body.classes).map_err(|e| err(format!("inconsistent model file ({e})")))
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Model::from_bytes(&bytes, path)
    }

    /// Writes the model file atomically (a temporary file in the same
    /// folder, renamed into place when complete).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_atomically(path, &self.to_bytes())
    }

    /// The default model embedded in this binary at build time
    /// (`models/default.satmodel`).
    pub fn embedded() -> Result<Model> {
        Model::from_bytes(EMBEDDED, &PathBuf::from("<embedded default model>"))
    }
}

static EMBEDDED: &[u8] = include_bytes!("../models/default.satmodel");

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        let meta = Metadata {
            created_by: "test".into(),
            tokenizer: TokenizerConfig::default(),
            alpha: 1.0,
            min_df: 1,
            max_features: 10,
            prior_satire: None,
            calibration: Calibration::identity(0.0),
            sources: vec![],
            excluded: vec![],
            heldout: vec![],
        };
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
        Model::from_parts(meta, vec!["said".into(), "the".into(), "area".into()], classes).unwrap()
    }

    #[test]
    fn weights_are_smoothed_log_ratios() {
        let m = tiny();
        // real: (5+1, 1+1, 0+1) / 9; satire: (1, 2, 5) / 8
        let w_area = (5.0f64 / 8.0).ln() - (1.0f64 / 9.0).ln();
        assert!((m.weight(m.column("area").unwrap()) - w_area).abs() < 1e-15);
        assert!((m.prior_log_odds() - (0.25f64 / 0.75).ln()).abs() < 1e-15);
    }

    #[test]
    fn bytes_round_trip_exactly() {
        let m = tiny();
        let bytes = m.to_bytes();
        let back = Model::from_bytes(&bytes, Path::new("t")).unwrap();
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.classes(), m.classes());
    }

    #[test]
    fn damaged_files_are_refused_with_reason() {
        let bytes = tiny().to_bytes();
        let msg = |b: &[u8]| Model::from_bytes(b, Path::new("m.satmodel")).unwrap_err().to_string();
        assert!(msg(b"hello").contains("not a satire model"));
        assert!(msg(&bytes[..bytes.len() - 3]).contains("truncated"));
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(msg(&flipped).contains("checksum"));
        let mut v2 = bytes.clone();
        v2[MAGIC.len()] = 2;
        let m = msg(&v2);
        assert!(m.contains("version 2") && m.contains("upgrade satire"), "{m}");
        assert!(msg(&bytes[..MAGIC.len() + 2]).contains("truncated"));
    }
}
