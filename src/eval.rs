//! Evaluation metrics for a binary classifier that outputs P(satire).

use serde::Serialize;

use crate::model::Label;

/// Precision, recall and F1 of one class.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassMetrics {
    /// Of texts predicted this class, the fraction that are.
    pub precision: f64,
    /// Of texts of this class, the fraction found.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Texts of this class.
    pub support: u64,
}

/// Every figure `satire eval` reports.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Metrics {
    /// Labelled texts.
    pub n: u64,
    /// Fraction labelled right at the threshold.
    pub accuracy: f64,
    /// Satire class.
    pub satire: ClassMetrics,
    /// Real class.
    pub real: ClassMetrics,
    /// Area under the ROC curve (ties count half).
    pub auc: f64,
    /// Mean squared error of P(satire).
    pub brier: f64,
    /// Mean negative log-likelihood (probabilities clipped to [1e-15, 1-1e-15]).
    pub log_loss: f64,
    /// `[[real->real, real->satire], [satire->real, satire->satire]]` (rows: truth).
    pub confusion: [[u64; 2]; 2],
    /// The threshold used.
    pub threshold: f64,
}

fn class_metrics(tp: u64, fp: u64, fn_: u64) -> ClassMetrics {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    ClassMetrics {
        precision,
        recall,
        f1,
        support: tp + fn_,
    }
}

/// ROC AUC by the rank-sum (Mann-Whitney) formula, ties counting half.
/// `None` when one class is absent.
pub fn roc_auc(truth: &[Label], p: &[f64]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let (mut rank_sum, mut pos, mut neg) = (0.0f64, 0u64, 0u64);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if truth[k] == Label::Satire {
                rank_sum += avg_rank;
                pos += 1;
            } else {
                neg += 1;
            }
        }
        i = j + 1;
    }
    if pos == 0 || neg == 0 {
        return None;
    }
    Some((rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64))
}

/// All metrics for true labels and predicted P(satire) at `threshold`.
/// AUC is `NaN` when only one class is present.
pub fn evaluate(truth: &[Label], p: &[f64], threshold: f64) -> Metrics {
    assert_eq!(truth.len(), p.len(), "one probability per label");
    let mut confusion = [[0u64; 2]; 2];
    let (mut brier, mut log_loss) = (0.0, 0.0);
    for (&t, &q) in truth.iter().zip(p) {
        let predicted = if q >= threshold {
            Label::Satire
        } else {
            Label::Real
        };
        confusion[t.index()][predicted.index()] += 1;
        let y = if t == Label::Satire { 1.0 } else { 0.0 };
        brier += (q - y) * (q - y);
        let qc = q.clamp(1e-15, 1.0 - 1e-15);
        log_loss -= y * qc.ln() + (1.0 - y) * (1.0 - qc).ln();
    }
    let n = truth.len() as u64;
    let nf = (n.max(1)) as f64;
    let [[rr, rs], [sr, ss]] = confusion;
    Metrics {
        n,
        accuracy: (rr + ss) as f64 / nf,
        satire: class_metrics(ss, rs, sr),
        real: class_metrics(rr, sr, rs),
        auc: roc_auc(truth, p).unwrap_or(f64::NAN),
        brier: brier / nf,
        log_loss: log_loss / nf,
        confusion,
        threshold,
    }
}

/// Stratified fold assignment: within each stratum (each distinct key:
/// a label, or a (source, label) pair), the `i`-th example in input order
/// goes to fold `i % k`. Deterministic.
pub fn stratified_folds<K: std::hash::Hash + Eq + Copy>(keys: &[K], k: usize) -> Vec<usize> {
    let mut seen: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    keys.iter()
        .map(|key| {
            let n = seen.entry(*key).or_insert(0);
            let f = *n % k;
            *n += 1;
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::{Real as R, Satire as S};

    #[test]
    fn figures_match_hand_computation() {
        // Compared with scikit-learn 1.5: accuracy_score, f1_score,
        // roc_auc_score, brier_score_loss, log_loss on the same vectors.
        let truth = [S, S, S, R, R, R];
        let p = [0.9, 0.6, 0.4, 0.3, 0.7, 0.1];
        let m = evaluate(&truth, &p, 0.5);
        assert_eq!(m.confusion, [[2, 1], [1, 2]]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((m.satire.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.auc - 7.0 / 9.0).abs() < 1e-12);
        let brier = (0.01 + 0.16 + 0.36 + 0.09 + 0.49 + 0.01) / 6.0;
        assert!((m.brier - brier).abs() < 1e-12);
        let ll = -((0.9f64).ln()
            + (0.6f64).ln()
            + (0.4f64).ln()
            + (0.7f64).ln()
            + (0.3f64).ln()
            + (0.9f64).ln())
            / 6.0;
        assert!((m.log_loss - ll).abs() < 1e-12);
    }

    #[test]
    fn auc_counts_ties_half() {
        assert_eq!(roc_auc(&[S, R], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[S, S], &[0.5, 0.4]), None);
    }

    #[test]
    fn folds_are_stratified() {
        let labels = [S, S, S, S, R, R, R, R];
        let f = stratified_folds(&labels, 2);
        assert_eq!(f, [0, 1, 0, 1, 0, 1, 0, 1]);
        // (source, label) strata count separately.
        let keys = [(0, S), (1, S), (0, S), (1, S), (0, R)];
        assert_eq!(stratified_folds(&keys, 2), [0, 0, 1, 1, 0]);
    }
}
