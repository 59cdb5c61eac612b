//! Scoring: text to calibrated probability of satire.
//!
//! The posterior is computed in log space: the log-odds are a finite sum
//! for any text length and the probability comes from a logistic function
//! written not to overflow, so no input gives `inf` or `NaN`.

use crate::model::{Label, Model};
use crate::tokenize::{TokenBuffers, Tokenizer};

/// The score of one text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Sum of the weights of the text's known tokens (counted with repeats).
    pub evidence: f64,
    /// Tokens found in the vocabulary.
    pub known_tokens: u64,
    /// All tokens.
    pub tokens: u64,
    /// Raw naive-Bayes log-odds of satire: the linfa model's posterior.
    pub raw_log_odds: f64,
    /// Calibrated log-odds of satire.
    pub log_odds: f64,
    /// Calibrated probability of satire.
    pub p_satire: f64,
}

/// Numerically safe logistic function.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// How scores become labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// `p_satire >= threshold` is satire. Ties therefore always go to satire.
    pub threshold: f64,
    /// Half-width of a band around the threshold labelled `unsure` (0: none).
    pub unsure: f64,
}

impl Default for Decision {
    fn default() -> Self {
        Decision {
            threshold: 0.5,
            unsure: 0.0,
        }
    }
}

impl Decision {
    /// `satire`, `real` or `unsure`.
    pub fn label(&self, p: f64) -> &'static str {
        if self.unsure > 0.0 && (p - self.threshold).abs() < self.unsure {
            "unsure"
        } else if p >= self.threshold {
            Label::Satire.as_str()
        } else {
            Label::Real.as_str()
        }
    }
}

/// Scores texts with one model, reusing its buffers between texts.
pub struct Scorer<'m> {
    model: &'m Model,
    tokenizer: Tokenizer,
    bufs: TokenBuffers,
    calibrated: bool,
}

impl<'m> Scorer<'m> {
    /// A scorer giving calibrated scores.
    pub fn new(model: &'m Model) -> Self {
        Scorer {
            model,
            tokenizer: model.tokenizer(),
            bufs: TokenBuffers::default(),
            calibrated: true,
        }
    }

    /// With `false`, `log_odds` and `p_satire` are the raw naive-Bayes
    /// posterior (linfa's), not the calibrated one.
    pub fn calibrated(mut self, on: bool) -> Self {
        self.calibrated = on;
        self
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Scores one text.
    pub fn score(&mut self, text: &str) -> Score {
        let model = self.model;
        let (mut evidence, mut known, mut tokens) = (0.0f64, 0u64, 0u64);
        self.tokenizer.for_each_token(text, &mut self.bufs, |t| {
            tokens += 1;
            if let Some(col) = model.column(t) {
                evidence += model.weight(col);
                known += 1;
            }
        });
        let raw_log_odds = model.prior_log_odds() + evidence;
        let log_odds = if self.calibrated {
            let cal = model.calibration();
            cal.scale(known) * evidence + cal.intercept
        } else {
            raw_log_odds
        };
        Score {
            evidence,
            known_tokens: known,
            tokens,
            raw_log_odds,
            log_odds,
            p_satire: sigmoid(log_odds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_finite_everywhere() {
        for x in [-1e308, -745.0, -30.0, 0.0, 30.0, 745.0, 1e308] {
            let p = sigmoid(x);
            assert!((0.0..=1.0).contains(&p), "{x} -> {p}");
        }
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn decision_ties_and_unsure_band() {
        let d = Decision::default();
        assert_eq!(d.label(0.5), "satire");
        assert_eq!(d.label(0.4999), "real");
        let d = Decision {
            threshold: 0.5,
            unsure: 0.1,
        };
        assert_eq!(d.label(0.55), "unsure");
        assert_eq!(d.label(0.61), "satire");
        assert_eq!(d.label(0.39), "real");
    }
}
