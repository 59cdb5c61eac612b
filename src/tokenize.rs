//! Text to tokens: Unicode word segmentation plus the folding that makes
//! tokens generalise.
//!
//! Words are exactly the segments [`UnicodeSegmentation::unicode_words`]
//! yields (UAX #29 word boundaries, segments holding at least one
//! alphanumeric character). Each word is then folded:
//!
//! | setting | default | effect |
//! |---|---|---|
//! | `lowercase` | `false` | full Unicode lower-casing (`Ünïcode` -> `ünïcode`); off by default because case carries tone (Onion headlines are in Title Case) |
//! | `number_shapes` | `true` | every decimal digit becomes `0` (`39,021` -> `00,000`, `2016` -> `0000`) |
//! | `bigrams` | `true` | each pair of adjacent words also yields `"left right"` |
//! | `cues` | `true` | quote marks, `!` and `?` yield the cue tokens [`CUE_QUOTE`], [`CUE_EXCLAIM`], [`CUE_QUESTION`] |
//! | `case_cues` | `true` | a Title-case word yields [`CUE_TITLE`], an all-caps word [`CUE_CAPS`] |
//!
//! Curly apostrophes (`’`, `‘`, `ʼ`) always fold to `'`, so `Musk’s` and
//! `Musk's` are one token. Cue tokens contain `<` and `>`, which no word
//! token can, and bigrams contain a space, which no word can, so the three
//! kinds never collide.
//!
//! The settings travel inside the model file: scoring always tokenizes
//! exactly as training did.
//!
//! ```
//! use satire::tokenize::{Tokenizer, TokenizerConfig};
//! let tok = Tokenizer::new(TokenizerConfig::default());
//! let mut tokens = Vec::new();
//! tok.for_each_token("Musk’s 39,021 users!", &mut Default::default(), |t| tokens.push(t.to_string()));
//! assert_eq!(tokens, ["<title>", "Musk's", "00,000", "Musk's 00,000", "users", "00,000 users", "<!>"]);
//! ```

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// Cue token for a quotation mark (`"`, `“`, `”`, `„`, `«`, `»`).
pub const CUE_QUOTE: &str = "<quote>";
/// Cue token for `!`.
pub const CUE_EXCLAIM: &str = "<!>";
/// Cue token for `?`.
pub const CUE_QUESTION: &str = "<?>";
/// Cue token for a Title-case word (`Hulu`, not `hulu` or `NASA`).
pub const CUE_TITLE: &str = "<title>";
/// Cue token for an all-caps word of two or more letters (`NASA`).
pub const CUE_CAPS: &str = "<caps>";

/// How text is cut into tokens. Stored in every model file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizerConfig {
    /// Fold words to lower case.
    pub lowercase: bool,
    /// Fold every decimal digit to `0`.
    pub number_shapes: bool,
    /// Emit adjacent word pairs as extra tokens.
    pub bigrams: bool,
    /// Emit cue tokens for quote marks, `!` and `?`.
    pub cues: bool,
    /// Emit cue tokens for Title-case and ALL-CAPS words.
    pub case_cues: bool,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            lowercase: false,
            number_shapes: true,
            bigrams: true,
            cues: true,
            case_cues: true,
        }
    }
}

/// Buffers reused across calls so that tokenizing allocates nothing per
/// token once they have grown to the longest word seen.
#[derive(Default, Debug)]
pub struct TokenBuffers {
    word: String,
    prev: String,
    pair: String,
}

/// Turns text into tokens according to a [`TokenizerConfig`].
#[derive(Clone, Debug)]
pub struct Tokenizer {
    config: TokenizerConfig,
}

impl Tokenizer {
    /// A tokenizer with these settings.
    pub fn new(config: TokenizerConfig) -> Self {
        Tokenizer { config }
    }

    /// The settings.
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    /// Calls `f` once per token of `text`, in text order. The `&str` handed
    /// to `f` lives in `bufs` and is valid only during the call.
    #[inline]
    pub fn for_each_token<F: FnMut(&str)>(&self, text: &str, bufs: &mut TokenBuffers, mut f: F) {
        self.for_each_token_at(text, bufs, |_, t| f(t))
    }

    /// Like [`Tokenizer::for_each_token`], also passing the byte offset in
    /// `text` of the word or mark that produced each token (for a bigram,
    /// its second word). Explanations use it to credit tokens to sentences.
    pub fn for_each_token_at<F: FnMut(usize, &str)>(
        &self,
        text: &str,
        bufs: &mut TokenBuffers,
        mut f: F,
    ) {
        let cfg = &self.config;
        let mut have_prev = false;
        for (at, seg) in text.split_word_bound_indices() {
            if seg.chars().any(char::is_alphanumeric) {
                if cfg.case_cues {
                    if let Some(cue) = case_cue(seg) {
                        f(at, cue);
                    }
                }
                fold_word(seg, cfg, &mut bufs.word);
                f(at, &bufs.word);
                if cfg.bigrams {
                    if have_prev {
                        bufs.pair.clear();
                        bufs.pair.push_str(&bufs.prev);
                        bufs.pair.push(' ');
                        bufs.pair.push_str(&bufs.word);
                        f(at, &bufs.pair);
                    }
                    std::mem::swap(&mut bufs.prev, &mut bufs.word);
                    have_prev = true;
                }
            } else if cfg.cues {
                if let Some(cue) = punctuation_cue(seg) {
                    f(at, cue);
                }
            }
        }
    }

    /// All tokens of `text` as owned strings: convenient, but allocates;
    /// the scoring path uses [`Tokenizer::for_each_token`].
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, &mut TokenBuffers::default(), |t| {
            out.push(t.to_string())
        });
        out
    }
}

fn punctuation_cue(seg: &str) -> Option<&'static str> {
    match seg {
        "\"" | "\u{201C}" | "\u{201D}" | "\u{201E}" | "\u{00AB}" | "\u{00BB}" => Some(CUE_QUOTE),
        "!" => Some(CUE_EXCLAIM),
        "?" => Some(CUE_QUESTION),
        _ => None,
    }
}

fn case_cue(word: &str) -> Option<&'static str> {
    let mut chars = word.chars().filter(|c| c.is_alphabetic());
    let first = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let (mut upper, mut lower) = (0usize, 0usize);
    for c in chars {
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_lowercase() {
            lower += 1;
        }
    }
    match (upper, lower) {
        (0, 0) => None, // a one-letter word: "I", "A"
        (_, 0) => Some(CUE_CAPS),
        (0, _) => Some(CUE_TITLE),
        _ => None, // "McDonald", "iPhone"-like mixed case
    }
}

fn fold_word(seg: &str, cfg: &TokenizerConfig, out: &mut String) {
    out.clear();
    for c in seg.chars() {
        match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => out.push('\''),
            '0'..='9' if cfg.number_shapes => out.push('0'),
            c if cfg.lowercase => out.extend(c.to_lowercase()),
            c => out.push(c),
        }
    }
}

/// Number of values in a [`text_shape`].
pub const SHAPE_FEATURES: usize = 2;

/// The shape of a text, independent of the tokenizer settings: what a
/// model's router uses besides the words to tell which kind of text (full
/// article, cased or lower-cased headline) it is looking at.
///
/// 0. `ln(1 + bytes)`: length.
/// 1. The share of words that start with an ASCII capital (`0` with no
///    words). A word starts at an ASCII letter that follows neither an ASCII
///    letter or digit, nor an apostrophe, nor a non-ASCII byte. Title Case
///    gives about 0.8, sentence case 0.1 to 0.2, lower case 0.
///
/// One pass over the bytes; no allocation.
///
/// ```
/// let [len, caps] = satire::tokenize::text_shape("Area Man Wins big");
/// assert!((len - 18f64.ln()).abs() < 1e-12);
/// assert_eq!(caps, 0.75);
/// ```
pub fn text_shape(text: &str) -> [f64; SHAPE_FEATURES] {
    let (mut starts, mut capitals) = (0u64, 0u64);
    let mut in_word = false;
    // Branch-free: `&` and `|` on bools, not `&&` and `||`.
    for &b in text.as_bytes() {
        let letter = b.is_ascii_alphabetic();
        let start = letter & !in_word;
        starts += start as u64;
        capitals += (start & b.is_ascii_uppercase()) as u64;
        in_word = letter | b.is_ascii_digit() | (b == b'\'') | (b >= 0x80);
    }
    let caps = if starts == 0 {
        0.0
    } else {
        capitals as f64 / starts as f64
    };
    [(text.len() as f64).ln_1p(), caps]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(cfg: TokenizerConfig, text: &str) -> Vec<String> {
        Tokenizer::new(cfg).tokens(text)
    }

    fn words_only() -> TokenizerConfig {
        TokenizerConfig {
            lowercase: true,
            number_shapes: false,
            bigrams: false,
            cues: false,
            case_cues: false,
        }
    }

    #[test]
    fn words_are_unicode_words_lowercased() {
        let text = "Denial-of-service (DoS) attacks, which flood platforms—with rogue traffic.";
        let expected: Vec<String> = text.unicode_words().map(|w| w.to_lowercase()).collect();
        assert_eq!(toks(words_only(), text), expected);
        assert_eq!(expected[0], "denial");
    }

    #[test]
    fn curly_and_straight_apostrophes_fold_together() {
        let curly = toks(words_only(), "Musk’s claim wasn’t");
        let straight = toks(words_only(), "Musk's claim wasn't");
        assert_eq!(curly, straight);
        assert_eq!(curly, ["musk's", "claim", "wasn't"]);
    }

    #[test]
    fn numbers_fold_to_shapes() {
        let cfg = TokenizerConfig {
            number_shapes: true,
            ..words_only()
        };
        assert_eq!(
            toks(cfg, "39,021 users in 2016 at 5.45am"),
            ["00,000", "users", "in", "0000", "at", "0.00am"]
        );
    }

    #[test]
    fn cues_for_quotes_and_exclamations() {
        let cfg = TokenizerConfig {
            cues: true,
            ..words_only()
        };
        assert_eq!(
            toks(cfg, "“Wow!” he said? \"ok\""),
            ["<quote>", "wow", "<!>", "<quote>", "he", "said", "<?>", "<quote>", "ok", "<quote>"]
        );
    }

    #[test]
    fn bigrams_pair_adjacent_words_across_punctuation() {
        let cfg = TokenizerConfig {
            bigrams: true,
            ..words_only()
        };
        assert_eq!(
            toks(cfg, "Bond villain, or"),
            ["bond", "villain", "bond villain", "or", "villain or"]
        );
    }

    #[test]
    fn case_cues_mark_title_and_caps() {
        let cfg = TokenizerConfig {
            case_cues: true,
            ..words_only()
        };
        assert_eq!(
            toks(cfg, "Area Man sees NASA iPhone a I"),
            ["<title>", "area", "<title>", "man", "sees", "<caps>", "nasa", "iphone", "a", "i"]
        );
    }

    #[test]
    fn lowercase_off_keeps_case() {
        let cfg = TokenizerConfig {
            lowercase: false,
            ..words_only()
        };
        assert_eq!(toks(cfg, "Area Man"), ["Area", "Man"]);
    }

    #[test]
    fn empty_and_punctuation_only_give_nothing() {
        assert!(toks(TokenizerConfig::default(), "").is_empty());
        assert!(toks(TokenizerConfig::default(), " ... -- ;").is_empty());
    }

    fn all_on() -> TokenizerConfig {
        TokenizerConfig {
            lowercase: true,
            number_shapes: true,
            bigrams: true,
            cues: true,
            case_cues: true,
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_words_match_reference(text in "\\PC*") {
            let got = toks(words_only(), &text);
            let want: Vec<String> = text.unicode_words().map(|w| {
                let mut s = String::new();
                fold_word(w, &words_only(), &mut s);
                s
            }).collect();
            proptest::prop_assert_eq!(got, want);
            // every setting on at once must not panic either
            let _ = toks(all_on(), &text);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = toks(all_on(), &text);
        }
    }
}
