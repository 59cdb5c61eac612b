//! Why a text got its score: the tokens and the sentences that moved its
//! log-odds, each with its exact share.
//!
//! A text's calibrated log-odds under its component `c` (the one the router
//! trusts most) is `intercept + scale * sum_j count_j * w_j`, where `w_j` is
//! the token's satire-minus-real log-probability in `c`, `count_j` is what
//! the model's [`Counting`] makes of its occurrences (1 for every token
//! present by default, else their number), and `scale` comes from the
//! calibration and the text's length. Each token's *contribution* is
//! `scale * count * w`; they sum, with the intercept, to the component's
//! log-odds. When other components share the text (the router is never
//! certain), the mixture moves the final log-odds a little further: that
//! remainder is reported as `mixing`, so that
//! `intercept + sum(contributions) + mixing = log_odds` exactly.
//!
//! Sentences are UAX #29 sentences (`unicode-segmentation`). A token is
//! credited to the sentence holding the word or mark that produced it (a
//! bigram to its second word); with presence counting, a token found `k`
//! times credits `1/k` of its one count to each place, so that no sentence
//! gains from coming first. Sentence contributions sum to the token total.
//!
//! A sentence's *share* of the log-odds adds to its contribution its part
//! of the intercept, spread over the known tokens: `intercept * n_s / n`
//! for a sentence credited with `n_s` of the text's `n` known tokens. The shares
//! sum to `log_odds - mixing`, so they say how much each sentence pushed
//! the article towards satire or away from it, against the same zero line
//! as the article's own score. With the calibration's mean evidence per
//! token this is `n_s / n` times the score the sentence would get on its
//! own, so a long sentence that reads as satire counts for more than a
//! short one; sentences are ranked by it. Each sentence's own P(satire) is
//! what the same component and calibration give its tokens alone, counted
//! as the model counts a text (for raw scores, `sigmoid(prior + sum of its
//! tokens' weights)`).

use unicode_segmentation::UnicodeSegmentation;

#[cfg(doc)]
use crate::model::Counting;
use crate::model::Model;
use crate::score::{sigmoid, Score, Scorer};
use crate::table::PieceLookups;
use crate::tokenize::{TokenBuffers, Tokenizer};

/// One token's share of a text's log-odds.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenShare {
    /// The token as the model knows it (folded; bigrams hold a space; cue
    /// tokens look like `<quote>`).
    pub token: String,
    /// Occurrences in the text.
    pub count: u64,
    /// How many of them count ([`Counting::counted`]): 1 with presence
    /// counting, else `count`.
    pub counted: u64,
    /// The token's weight in the component (satire minus real
    /// log-probability).
    pub weight: f64,
    /// `scale * counted * weight`.
    pub contribution: f64,
}

/// One sentence's share of a text's log-odds.
#[derive(Clone, Debug, PartialEq)]
pub struct SentenceShare {
    /// Byte range in the text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// Known tokens credited to it: with presence counting, a token found
    /// `k` times in the text credits `1/k` to each of its places.
    pub tokens: f64,
    /// Sum of its tokens' contributions.
    pub contribution: f64,
    /// Its share of the log-odds: `contribution + intercept * tokens / n`.
    pub share: f64,
    /// Its own P(satire) under the text's component and calibration, as if
    /// it were the whole text.
    pub p_satire: f64,
}

impl SentenceShare {
    /// Its text in `text`, the text it was explained from.
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }

    /// Whether it is only whitespace (UAX #29 gives line breaks between
    /// paragraphs a sentence of their own): not worth listing.
    pub fn is_blank(&self, text: &str) -> bool {
        self.text(text).trim().is_empty()
    }
}

/// The explanation of one text's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The score, exactly as `satire score` gives it.
    pub score: Score,
    /// Index of the component explained (the router's choice).
    pub component: usize,
    /// Calibration intercept (or the prior log-odds, for raw scores).
    pub intercept: f64,
    /// Factor applied to each token weight.
    pub scale: f64,
    /// `log_odds - (intercept + sum of contributions)`: what mixing in the
    /// other components adds (0 with one component).
    pub mixing: f64,
    /// Every known token, strongest satire evidence first.
    pub tokens: Vec<TokenShare>,
    /// Every sentence, in text order.
    pub sentences: Vec<SentenceShare>,
}

impl Explanation {
    /// Sum of all token contributions.
    pub fn token_total(&self) -> f64 {
        self.tokens.iter().map(|t| t.contribution).sum()
    }

    /// The `n` strongest satire cues: tokens with a positive contribution,
    /// largest first.
    pub fn satire_cues(&self, n: usize) -> impl Iterator<Item = &TokenShare> {
        self.tokens.iter().filter(|t| t.contribution > 0.0).take(n)
    }

    /// The `n` strongest real cues: tokens with a negative contribution,
    /// most negative first.
    pub fn real_cues(&self, n: usize) -> impl Iterator<Item = &TokenShare> {
        self.tokens
            .iter()
            .rev()
            .filter(|t| t.contribution < 0.0)
            .take(n)
    }

    /// Sum of all sentence shares: `log_odds - mixing` when the text has
    /// known tokens, 0 when it has none.
    pub fn share_total(&self) -> f64 {
        self.sentences.iter().map(|s| s.share).sum()
    }

    /// Sentence indices, most satirical (largest share) first; ties in
    /// text order.
    pub fn sentences_by_satire(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.sentences.len()).collect();
        idx.sort_by(|&a, &b| {
            self.sentences[b]
                .share
                .total_cmp(&self.sentences[a].share)
                .then(a.cmp(&b))
        });
        idx
    }
}

/// Explains texts with one model, reusing buffers between texts.
pub struct Explainer<'m> {
    scorer: Scorer<'m>,
    tokenizer: Tokenizer,
    bufs: TokenBuffers,
    /// Each token's record, found as the tokenizer cuts it.
    lookups: PieceLookups,
    /// A count for each column of the vocabulary: the last text's, zeroed
    /// (its `distinct` columns) when the next starts.
    counts: Vec<u32>,
    /// The columns of the text's known tokens, each once.
    distinct: Vec<u32>,
    /// Each known token's place: (sentence, column).
    places: Vec<(usize, u32)>,
    calibrated: bool,
}

impl<'m> Explainer<'m> {
    /// An explainer of calibrated scores.
    pub fn new(model: &'m Model) -> Self {
        Explainer {
            scorer: Scorer::new(model),
            tokenizer: model.tokenizer(),
            bufs: TokenBuffers::default(),
            lookups: PieceLookups::new(model.scoring_table()),
            counts: Vec::new(),
            distinct: Vec::new(),
            places: Vec::new(),
            calibrated: true,
        }
    }

    /// With `false`, explains the raw naive-Bayes posterior.
    pub fn calibrated(mut self, on: bool) -> Self {
        self.scorer = self.scorer.calibrated(on);
        self.calibrated = on;
        self
    }

    /// Explains one text.
    pub fn explain(&mut self, text: &str) -> Explanation {
        let model = self.scorer.model();
        let score = self.scorer.score(text);
        let c = score.component;
        let calibration = model.calibration_for(c, self.calibrated);
        let scale = calibration.scale(score.known_tokens);
        let intercept = calibration.intercept;
        let mut sentences: Vec<SentenceShare> = text
            .split_sentence_bound_indices()
            .map(|(start, s)| SentenceShare {
                start,
                end: start + s.len(),
                tokens: 0.0,
                contribution: 0.0,
                share: 0.0,
                p_satire: 0.0,
            })
            .collect();
        let counting = model.counting();
        // Each column's occurrences in this text (the last text's are
        // zeroed here) and the columns seen, in order of first sight.
        let counts = &mut self.counts;
        counts.resize(model.vocab().len(), 0);
        let distinct = &mut self.distinct;
        for &col in distinct.iter() {
            if let Some(n) = counts.get_mut(col as usize) {
                *n = 0;
            }
        }
        distinct.clear();
        // Every known token's place: (sentence, column).
        let places = &mut self.places;
        places.clear();
        let table = model.scoring_table();
        let lookups = &mut self.lookups;
        // The sentence of the last token: tokens come in text order, so
        // the next one's is this one or a later one.
        let mut si = 0;
        self.tokenizer
            .for_each_piece(text, &mut self.bufs, |at, piece| {
                let Some(col) = lookups.find(table, piece).map(|hit| table.column(hit)) else {
                    return;
                };
                // A column of a table that loaded is within the vocabulary.
                if let Some(n) = counts.get_mut(col as usize) {
                    if *n == 0 {
                        distinct.push(col);
                    }
                    *n = n.saturating_add(1);
                }
                // The sentence holding byte `at`: the last one starting at
                // or before it.
                if sentences.get(si).is_some_and(|s| s.start > at) {
                    si = 0;
                }
                while sentences.get(si + 1).is_some_and(|s| s.start <= at) {
                    si += 1;
                }
                places.push((si, col));
            });
        // Credit: the token's counted occurrences, in equal parts at each
        // of its places (each place 1 with frequency counting, 1/k of the
        // one count with presence).
        let mut evidence = vec![0.0f64; sentences.len()];
        for &(si, col) in places.iter() {
            let k = counts.get(col as usize).map_or(1, |&n| u64::from(n));
            let part = counting.counted(k) as f64 / k as f64;
            if let Some(s) = sentences.get_mut(si) {
                s.tokens += part;
                evidence[si] += part * model.weight(c, col);
            }
        }
        // Each sentence alone, counted as the model counts a text: its
        // occurrences of each token, grouped.
        places.sort_unstable();
        let mut alone = vec![(0.0f64, 0u64); sentences.len()];
        for run in places.chunk_by(|a, b| a == b) {
            let (si, col) = run[0];
            let n = counting.counted(run.len() as u64);
            if let Some(a) = alone.get_mut(si) {
                a.0 += n as f64 * model.weight(c, col);
                a.1 += n;
            }
        }
        let known = score.known_tokens.max(1) as f64;
        for ((s, ev), &(ev_alone, n_alone)) in sentences.iter_mut().zip(&evidence).zip(&alone) {
            s.contribution = scale * ev;
            s.share = s.contribution + intercept * s.tokens / known;
            s.p_satire = sigmoid(intercept + calibration.scale(n_alone) * ev_alone);
        }
        let vocab = model.vocab();
        let mut tokens: Vec<TokenShare> = distinct
            .iter()
            .map(|&col| {
                let count = counts.get(col as usize).map_or(1, |&n| u64::from(n));
                let weight = model.weight(c, col);
                let counted = counting.counted(count);
                TokenShare {
                    token: vocab.token(col as usize).to_string(),
                    count,
                    counted,
                    weight,
                    contribution: scale * weight * counted as f64,
                }
            })
            .collect();
        // Tokens are distinct, so this order is total: no tie is left to
        // the order the tokens were found in.
        tokens.sort_unstable_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.token.cmp(&b.token))
        });
        let total: f64 = tokens.iter().map(|t| t.contribution).sum();
        Explanation {
            score,
            component: c,
            intercept,
            scale,
            mixing: score.log_odds - (intercept + total),
            tokens,
            sentences,
        }
    }
}
