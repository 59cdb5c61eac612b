//! Scoring: text to calibrated probability of satire.
//!
//! The posterior is computed in log space: the log-odds are a finite sum
//! for any text length and the probability comes from a logistic function
//! written not to overflow, so no input gives `inf` or `NaN`.

use crate::model::{Counting, Label, Model};
use crate::table::{Batch, Hit, Lookups, ScoreTable, SeenColumns};
use crate::tokenize::{text_shape, Cue, Piece, TokenBuffers, Tokenizer, TokenizerConfig};

/// The score of one text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Tokens found in the vocabulary, as the model counts them: each
    /// distinct token once ([`Counting::Presence`]), or every occurrence.
    pub known_tokens: u64,
    /// All tokens, with repeats.
    pub tokens: u64,
    /// Log-odds of satire: calibrated, or from a raw scorer
    /// ([`Scorer::calibrated`]`(false)`) the naive-Bayes log-odds: with one
    /// component, exactly the linfa model's posterior; with several, their
    /// router-weighted mixture. Only the one reported is worked out.
    pub log_odds: f64,
    /// Probability of satire, `sigmoid(log_odds)`.
    pub p_satire: f64,
    /// The component the router trusts most for this text.
    pub component: usize,
    /// The router's probability for that component (1 with one component).
    pub component_p: f64,
}

/// `ln(1 + e^x)` without overflow.
#[inline]
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `ln(sigmoid(x))` without overflow.
#[inline]
pub fn log_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

/// `(ln(sigmoid(x)), ln(sigmoid(-x)))`: each [`log_sigmoid`] to the bit,
/// with the `ln(1 + e^-|x|)` they share worked out once.
#[inline]
fn log_sigmoid_both(x: f64) -> (f64, f64) {
    let shared = (-x.abs()).exp().ln_1p();
    (-((-x).max(0.0) + shared), -(x.max(0.0) + shared))
}

/// `ln(sum(exp(v)))` without overflow.
fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Log-odds of the mixture `sum_k g_k sigmoid(lo_k)` given log gate
/// weights `lg` (normalised) and per-component log-odds `lo`.
/// `lo(c)` is component `c`'s log-odds; taking it as a function, and
/// `terms` (the log terms of both sides, reused), keeps the scoring path
/// free of per-text allocations. Each component's log-odds and log-sigmoids
/// are worked out once.
fn mixture_log_odds(lg: &[f64], lo: impl Fn(usize) -> f64, terms: &mut Vec<f64>) -> f64 {
    let k = lg.len();
    terms.clear();
    terms.resize(2 * k, 0.0);
    let (pos, neg) = terms.split_at_mut(k);
    for (c, g) in lg.iter().enumerate() {
        let (p, n) = log_sigmoid_both(lo(c));
        (pos[c], neg[c]) = (g + p, g + n);
    }
    log_sum_exp(pos) - log_sum_exp(neg)
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

/// Adds the weights of the tokens found, `hits` in text order, to `sums`
/// (one per component, `K` of them), each token once if `presence`; counts
/// the tokens added in `known`. The sums stay in registers through the
/// loop, and each adds the same terms in the same order as
/// [`ScoreTable::add_weights`] one token at a time would.
#[inline]
fn add_up<const K: usize>(
    table: &ScoreTable,
    hits: &[Hit],
    presence: bool,
    seen: &mut SeenColumns,
    sums: &mut [f64],
    known: &mut u64,
) {
    let mut acc = [0.0; K];
    acc.copy_from_slice(&sums[..K]);
    // Counted here, in a register, and added once: `known` behind its
    // reference was stored at every token.
    let mut new_ones = 0;
    for &hit in hits {
        let new = !presence || seen.insert(table.column(hit));
        // 1 or 0, a product rather than a branch (see `add_weights`).
        let times = f64::from(u8::from(new));
        let w = table.weights::<K>(hit);
        for c in 0..K {
            acc[c] += times * w[c];
        }
        new_ones += u64::from(new);
    }
    *known += new_ones;
    sums[..K].copy_from_slice(&acc);
}

/// Scores texts with one model, reusing its buffers between texts.
pub struct Scorer<'m> {
    model: &'m Model,
    tokenizer: Tokenizer,
    /// The model's tokenizer without word pairs, for the scoring path,
    /// which asks for each pair itself (see [`Scorer::score`]).
    words: Tokenizer,
    bufs: TokenBuffers,
    calibrated: bool,
    sums: Vec<f64>,
    scratch: Vec<f64>,
    /// The log terms of a mixture's two sides (see `mixture_log_odds`).
    terms: Vec<f64>,
    /// Each cue token's entry in the scoring table, looked up once.
    cues: [Option<Hit>; Cue::ALL.len()],
    /// Tokens already counted in this text, with [`Counting::Presence`].
    seen: SeenColumns,
    /// The table lookups of the text being scored, in batches.
    lookups: Lookups,
    reference: bool,
}

impl<'m> Scorer<'m> {
    /// A scorer giving calibrated scores.
    pub fn new(model: &'m Model) -> Self {
        let tokenizer = model.tokenizer();
        let words = Tokenizer::new(TokenizerConfig {
            bigrams: false,
            ..tokenizer.config().clone()
        });
        Scorer {
            model,
            tokenizer,
            words,
            bufs: TokenBuffers::default(),
            calibrated: true,
            sums: Vec::new(),
            scratch: Vec::new(),
            terms: Vec::new(),
            cues: Cue::ALL.map(|c| model.scoring_table().get(c.as_str())),
            seen: SeenColumns::new(match model.counting() {
                Counting::Presence => model.vocab().len(),
                Counting::Frequency => 0,
            }),
            lookups: Lookups::default(),
            reference: false,
        }
    }

    /// With `false`, `log_odds` and `p_satire` are the raw naive-Bayes
    /// posterior (linfa's), not the calibrated one.
    pub fn calibrated(mut self, on: bool) -> Self {
        self.calibrated = on;
        self
    }

    /// With `true`, tokens come from the tokenizer's reference path
    /// ([`Tokenizer::for_each_token_at_reference`]) and are looked up one
    /// string at a time in the vocabulary's hash map and the model's weight
    /// rows, never in the scoring table: slower, and the same scores to the
    /// bit (tested), which is what it is for.
    pub fn reference_path(mut self, on: bool) -> Self {
        self.reference = on;
        self
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Scores one text.
    pub fn score(&mut self, text: &str) -> Score {
        let model = self.model;
        let k = model.components().len();
        self.sums.clear();
        self.sums.resize(k, 0.0);
        let sums = &mut self.sums;
        let (mut known, mut tokens) = (0u64, 0u64);
        let table = model.scoring_table();
        let cues = &self.cues;
        let presence = model.counting() == Counting::Presence;
        if self.reference {
            let vocab = model.vocab();
            let mut seen = rustc_hash::FxHashSet::default();
            self.tokenizer
                .for_each_token_at_reference(text, &mut self.bufs, |_, t| {
                    tokens += 1;
                    if let Some(col) = vocab.get(t).filter(|&c| !presence || seen.insert(c)) {
                        for (s, w) in sums.iter_mut().zip(model.row(col)) {
                            *s += w;
                        }
                        known += 1;
                    }
                });
        } else {
            let seen = &mut self.seen;
            seen.next_text();
            // Lookups are batched (see `Lookups`); their answers come back
            // in token order, so the sums add up as one at a time would.
            let lookups = &mut self.lookups;
            let mut settle = |lookups: &mut Lookups, batch: Batch| {
                let hits = lookups.finish(batch, table, text);
                let known = &mut known;
                match table.weights_per_token() {
                    1 => add_up::<1>(table, hits, presence, seen, sums, known),
                    2 => add_up::<2>(table, hits, presence, seen, sums, known),
                    3 => add_up::<3>(table, hits, presence, seen, sums, known),
                    4 => add_up::<4>(table, hits, presence, seen, sums, known),
                    _ => {
                        for &hit in hits {
                            let new = !presence || seen.insert(table.column(hit));
                            table.add_weights(hit, sums, f64::from(u8::from(new)));
                            *known += u64::from(new);
                        }
                    }
                }
            };
            // Inlined into the tokenizer's loop: called out of line, this
            // closure took each piece through memory, three calls a word
            // (with `ascii_word_end` and `Tokenizer::folded` inlined too,
            // 12.6% fewer instructions; see BENCHMARKS.md).
            //
            // The words come from the tokenizer without pairs: a pair is
            // the last two words, which the table finds by their answers
            // (see `Lookups::pair`), so it is asked here, right after its
            // right word as the tokenizer would give it, and the
            // tokenizer keeps no previous word for it.
            let pairs = self.tokenizer.config().bigrams;
            let mut first = true;
            // Whatever was counted before this text is not its tokens.
            lookups.take_asked();
            // Where the batch stands: here, not in `lookups`, so that the
            // compiler keeps it in registers or its own stack slots (see
            // `Batch`).
            let mut batch = Batch::default();
            self.words.for_each_piece(
                text,
                &mut self.bufs,
                #[inline(always)]
                |_, piece| {
                    // Each piece is one key asked, each pair one more: the
                    // tokens, which the lookups count.
                    match piece {
                        Piece::Word(w, head) => {
                            lookups.word(&mut batch, table, text, w, head);
                            if pairs & !first {
                                lookups.pair(&mut batch);
                            }
                            first = false;
                        }
                        // None: the tokenizer gives no pairs (see above).
                        Piece::Pair(..) => {}
                        Piece::Cue(c) => lookups.known(&mut batch, cues[c as usize]),
                    }
                    if batch.is_full() {
                        settle(lookups, std::mem::take(&mut batch));
                    }
                },
            );
            settle(lookups, batch);
            tokens = lookups.take_asked();
        }
        let ev = &self.sums;
        // The log-odds of component `c`: calibrated, or raw.
        let calibrated = self.calibrated;
        let lo = |c: usize| {
            let cal = model.calibration_for(c, calibrated);
            cal.scale(known) * ev[c] + cal.intercept
        };
        let (log_odds, component, component_p) = if k == 1 {
            (lo(0), 0, 1.0)
        } else {
            // Router posterior over components from the text's shape,
            // normalised in log space.
            let shape = text_shape(text);
            let lg = &mut self.scratch;
            lg.clear();
            lg.extend((0..k).map(|c| model.router_log_likelihood(c, &shape)));
            let z = log_sum_exp(lg);
            lg.iter_mut().for_each(|g| *g -= z);
            let best = (0..k).fold(0, |b, c| if lg[c] > lg[b] { c } else { b });
            (
                mixture_log_odds(lg, lo, &mut self.terms),
                best,
                lg[best].exp(),
            )
        };
        Score {
            known_tokens: known,
            tokens,
            log_odds,
            p_satire: sigmoid(log_odds),
            component,
            component_p,
        }
    }
}

/// One value (typically a [`Scorer`]) for each thread of a rayon pool,
/// kept for as long as this lives, so that work a pool splits finely still
/// finds its thread's scorer warm: its memo of common words' answers and
/// its buffers survive from one item to the next. (A scorer made for each
/// piece of work that rayon splits a batch into, with `map_init`, started
/// cold about 300 times on 50 MB of articles.) The `batch_all_cores`
/// benchmark uses this. (`satire score` and `satire explain` do not use
/// rayon: each of their threads owns its scorer.)
///
/// ```
/// use rayon::prelude::*;
/// use satire::{model::Model, score::{PerThread, Scorer}};
/// let model = Model::embedded().expect("the default model is built in");
/// let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let scorers = PerThread::new(pool.current_num_threads(), || Scorer::new(&model));
/// let texts = ["Area Man Wins Big", "Parliament passes the budget"];
/// let p: Vec<f64> = pool.install(|| {
///     texts.par_iter().map(|t| scorers.with(|s| s.score(t).p_satire)).collect()
/// });
/// assert_eq!(p[0], Scorer::new(&model).score(texts[0]).p_satire);
/// ```
pub struct PerThread<T> {
    values: Vec<std::sync::Mutex<T>>,
}

impl<T> PerThread<T> {
    /// `threads` values made by `make` (at least one): give it the number
    /// of threads of the pool that will call [`PerThread::with`].
    pub fn new(threads: usize, make: impl FnMut() -> T) -> Self {
        let values = std::iter::repeat_with(make)
            .take(threads.max(1))
            .map(std::sync::Mutex::new)
            .collect();
        PerThread { values }
    }

    /// Runs `f` on the calling thread's value: the one numbered by the
    /// thread's index in its rayon pool (the first, outside any pool). In
    /// a pool of at most [`PerThread::len`] threads no two threads share a
    /// value, so the lock is never contended; it is held only while `f`
    /// runs, which gives rayon no chance to run other work on this thread
    /// meanwhile. A value whose `f` panicked is used again as it was left.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.values.len();
        let mut value = self.values[i].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut value)
    }

    /// How many values (threads) there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Never true: there is always at least one value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, in thread order.
    pub fn into_inner(self) -> Vec<T> {
        self.values
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_thread_gives_each_pool_thread_its_own_value() {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("a pool of 3 threads");
        // Each value records the pool thread that used it: every value is
        // used by one thread only, the one of its own number. `broadcast`
        // runs on every thread of the pool, however rayon splits the rest.
        let seen = PerThread::new(3, Vec::new);
        let items = 3_000;
        let record = || {
            let me = rayon::current_thread_index();
            seen.with(|v: &mut Vec<Option<usize>>| v.push(me));
        };
        pool.broadcast(|_| record());
        pool.install(|| (0..items).into_par_iter().for_each(|_| record()));
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.iter().map(Vec::len).sum::<usize>(), items + 3);
        for (i, users) in seen.iter().enumerate() {
            assert!(!users.is_empty(), "value {i} unused");
            assert!(users.iter().all(|&u| u == Some(i)), "value {i}: {users:?}");
        }
        // Outside a pool, the first value; none is ever zero values.
        let one = PerThread::new(0, || 7);
        assert_eq!((one.len(), one.with(|v| *v)), (1, 7));
    }

    #[test]
    fn per_thread_value_survives_a_panic_in_its_closure() {
        let counter = PerThread::new(1, || 0u32);
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            counter.with(|n| {
                *n += 1;
                panic!("on purpose");
            })
        }));
        assert!(hit.is_err());
        assert_eq!(counter.with(|n| *n), 1);
    }

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
    fn both_log_sigmoids_at_once_are_each_to_the_bit() {
        let steps = (0..4325).map(|i| -800.0 + 0.37 * f64::from(i));
        let near = steps.clone().map(|x| x + 1e-3);
        for x in steps.chain(near).chain([-0.0, f64::MIN_POSITIVE]) {
            let (p, n) = log_sigmoid_both(x);
            assert_eq!(p.to_bits(), log_sigmoid(x).to_bits(), "{x}");
            assert_eq!(n.to_bits(), log_sigmoid(-x).to_bits(), "{x}");
        }
    }

    #[test]
    fn mixture_of_one_is_the_component_and_extremes_stay_finite() {
        let t = &mut Vec::new();
        assert!((mixture_log_odds(&[0.0], |_| 3.25, t) - 3.25).abs() < 1e-12);
        let half = 0.5f64.ln();
        assert!((mixture_log_odds(&[half, half], |c| [2.0, -2.0][c], t)).abs() < 1e-12);
        let lo = mixture_log_odds(&[0.0, f64::NEG_INFINITY], |c| [1e6, -1e6][c], t);
        assert!((lo - 1e6).abs() < 1e-6, "{lo}");
        assert!(log_sigmoid(-1e6).is_finite() && log_sigmoid(1e6) == 0.0);
    }

    fn two_component_model() -> Model {
        use crate::model::{Calibration, ClassCounts, ComponentCounts, Metadata, ShapeStats};
        let comp =
            |name: &str, real: Vec<f64>, satire: Vec<f64>, shape: [f64; 2]| ComponentCounts {
                name: name.into(),
                columns: vec![0, 1],
                classes: [
                    ClassCounts {
                        class_count: 2,
                        feature_count: real,
                    },
                    ClassCounts {
                        class_count: 2,
                        feature_count: satire,
                    },
                ],
                borrow: 0.0,
                borrowed: false,
                calibration: Calibration::identity(0.0),
                shape: ShapeStats::for_tests(shape),
            };
        // "wow" has shape [ln 4, 0]: component a's mean; b's is one unit
        // longer.
        let wow = 4f64.ln();
        let comps = vec![
            comp("a", vec![9.0, 1.0], vec![1.0, 9.0], [wow, 0.0]),
            comp("b", vec![3.0, 1.0], vec![3.0, 1.0], [wow + 1.0, 0.0]),
        ];
        Model::from_parts(
            Metadata::for_tests(),
            vec!["said".into(), "wow".into()],
            comps,
        )
        .unwrap()
    }

    /// A model of `n` components over a small vocabulary, each weighing
    /// the words differently.
    fn model_of(n: usize, counting: Counting) -> Model {
        use crate::model::{Calibration, ClassCounts, ComponentCounts, Metadata, ShapeStats};
        // "said to", "to be" and "be wow" are pairs of words that are no
        // tokens (shadow words in the scoring table).
        let words = [
            "said", "wow", "area", "man", "area man", "<!>", "<title>", "said to", "to be",
            "be wow",
        ];
        let comps = (0..n)
            .map(|c| ComponentCounts {
                name: format!("c{c}"),
                columns: (0..words.len() as u32).collect(),
                classes: [0, 1].map(|class| ClassCounts {
                    class_count: 2 + c,
                    feature_count: (0..words.len())
                        .map(|j| ((j * 7 + c * 3 + class * 5) % 11) as f64)
                        .collect(),
                }),
                borrow: 0.0,
                borrowed: false,
                calibration: Calibration::identity(0.0),
                shape: ShapeStats::for_tests([3.0 + c as f64, 0.1]),
            })
            .collect();
        Model::from_parts(
            Metadata {
                counting,
                ..Metadata::for_tests()
            },
            words.iter().map(|w| w.to_string()).collect(),
            comps,
        )
        .unwrap()
    }

    #[test]
    fn any_number_of_components_scores_as_the_reference_path() {
        // The scorer sums weights with code specialised for 1 to 4
        // components and general code beyond. Known: man 2 times, said 3,
        // wow 4, <!> 2, <title> 2 (Area, The), area 1, "area man" 1, "said
        // to", "to be" and "be wow" 1 each.
        let text = "Area man said wow! The area man, said to be wow, said: wow wow!";
        for n in 1..=6 {
            for (counting, known) in [(Counting::Frequency, 18), (Counting::Presence, 10)] {
                let m = model_of(n, counting);
                let fast = Scorer::new(&m).score(text);
                let reference = Scorer::new(&m).reference_path(true).score(text);
                assert_eq!(fast, reference, "{n} components, {counting:?}");
                assert_eq!(fast.known_tokens, known, "{n} components, {counting:?}");
            }
        }
    }

    #[test]
    fn router_mixes_components_by_shape() {
        let m = two_component_model();
        // Equal priors (4 documents each), unit variances: the log-density
        // of b is lower by 1/2, so P(a | "wow") = 1 / (1 + e^-0.5).
        let gate = 1.0 / (1.0 + (-0.5f64).exp());
        // Component a: satire log-odds of "wow" = ln(10/12) - ln(2/12);
        // component b has identical classes: log-odds 0.
        let pa = sigmoid((10.0f64 / 12.0).ln() - (2.0f64 / 12.0).ln());
        let s = Scorer::new(&m).calibrated(false).score("wow");
        let want = gate * pa + (1.0 - gate) * 0.5;
        assert!(
            (s.p_satire - want).abs() < 1e-12,
            "{} vs {want}",
            s.p_satire
        );
        assert_eq!(s.component, 0);
        assert!((s.component_p - gate).abs() < 1e-12);
        // Seven bytes are nearer b's length than a's.
        assert_eq!(Scorer::new(&m).score("wow wow").component, 1);
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
