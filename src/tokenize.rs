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
    words: WordBuffers,
    pair: String,
}

/// The folded current and previous word.
#[derive(Default, Debug)]
struct WordBuffers {
    word: String,
    prev: String,
}

/// The cue tokens, as the tokenizer yields them in a [`Piece`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cue {
    /// [`CUE_QUOTE`]
    Quote,
    /// [`CUE_EXCLAIM`]
    Exclaim,
    /// [`CUE_QUESTION`]
    Question,
    /// [`CUE_TITLE`]
    Title,
    /// [`CUE_CAPS`]
    Caps,
}

impl Cue {
    /// Every cue, in `as usize` order.
    pub const ALL: [Cue; 5] = [
        Cue::Quote,
        Cue::Exclaim,
        Cue::Question,
        Cue::Title,
        Cue::Caps,
    ];

    /// The cue's token.
    pub fn as_str(self) -> &'static str {
        match self {
            Cue::Quote => CUE_QUOTE,
            Cue::Exclaim => CUE_EXCLAIM,
            Cue::Question => CUE_QUESTION,
            Cue::Title => CUE_TITLE,
            Cue::Caps => CUE_CAPS,
        }
    }
}

/// The word before the current one, for pairs: still in the text (no
/// folding was needed), in [`WordBuffers::prev`], or none yet.
#[derive(Clone, Copy)]
enum Prev<'t> {
    None,
    Text(&'t str),
    Buf,
}

/// What the tokenizer yields before tokens are spelled out as strings: a
/// word pair is handed over as its two words, so that a caller can look it
/// up without building `"left right"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A cue token ([`CUE_QUOTE`], [`CUE_TITLE`], ...).
    Cue(Cue),
    /// A folded word, and its [`head8`]: the scorer hashes and compares a
    /// word of up to eight bytes (most words) as that one integer.
    Word(&'a str, u64),
    /// A word pair: the previous folded word and this one. As a token it
    /// is `"left right"`. It comes right after the [`Piece::Word`] of its
    /// right word, and its left word is the `Word` before that one: a
    /// scorer may look it up as "the last two words" (see
    /// [`crate::table::Lookups::pair`]).
    Pair(&'a str, &'a str),
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
    ///
    /// This is the fast path: ASCII stretches are cut into words by a byte
    /// scan that applies the UAX #29 rules for ASCII, and only stretches
    /// holding non-ASCII text go through `unicode-segmentation`. It yields
    /// exactly the tokens of [`Tokenizer::for_each_token_at_reference`]
    /// (tests compare them on arbitrary Unicode and on every dataset text).
    pub fn for_each_token_at<F: FnMut(usize, &str)>(
        &self,
        text: &str,
        bufs: &mut TokenBuffers,
        mut f: F,
    ) {
        let pair = &mut bufs.pair;
        self.pieces(text, &mut bufs.words, |at, piece| f(at, spell(piece, pair)));
    }

    /// The pieces of `text` with their byte offsets (see
    /// [`Tokenizer::for_each_token_at`]); the scoring path uses this.
    #[inline]
    pub fn for_each_piece<F: FnMut(usize, Piece<'_>)>(
        &self,
        text: &str,
        bufs: &mut TokenBuffers,
        f: F,
    ) {
        self.pieces(text, &mut bufs.words, f)
    }

    #[inline]
    fn pieces<F: FnMut(usize, Piece<'_>)>(&self, text: &str, bufs: &mut WordBuffers, mut f: F) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let cues = self.config.cues;
        let mut prev = Prev::None;
        let mut pos = 0;
        let mut block = Block::at(bytes, 0, cues);
        while pos < n {
            // On to the next byte the scan must look at; the bytes skipped
            // give no token (see `Block::stops`). A position outside the
            // block (past it, or before it, which no step gives) reads the
            // block from there.
            let rel = pos.wrapping_sub(block.base);
            if rel >= 64 {
                block = Block::at(bytes, pos, cues);
                continue;
            }
            let stops = block.stops >> rel;
            if stops == 0 {
                pos = block.base + 64;
                continue;
            }
            pos += stops.trailing_zeros() as usize;
            // A word byte (most stops), read off the block.
            if (block.word >> (pos - block.base)) & 1 != 0 {
                if let Some(end) = block.small_word_at(pos) {
                    let how = Folding {
                        cue: None,
                        copied: false,
                        head: Some(head_of(load8(bytes, pos), end - pos)),
                    };
                    debug_assert!(pos < end && text.is_char_boundary(end));
                    // SAFETY: as for the word below: both ends follow or
                    // start at an ASCII byte, within `text`.
                    let word = unsafe { text.get_unchecked(pos..end) };
                    self.folded(pos, word, how, bufs, &mut prev, &mut f);
                    pos = end;
                    continue;
                }
                match ascii_word_end(bytes, pos, &mut block, cues) {
                    Some(w) => {
                        // A run of `_` alone is no word.
                        if w.upper | w.lower | w.digits {
                            let cue = if self.config.case_cues {
                                w.case_cue()
                            } else {
                                None
                            };
                            let how = Folding {
                                cue,
                                copied: w.folding_changes(&self.config),
                                head: Some(w.head(pos)),
                            };
                            debug_assert!(pos < w.end && text.is_char_boundary(w.end));
                            // SAFETY: `ascii_word_end` gives an end within
                            // `text` after a run of ASCII word bytes (a word
                            // ends with one), and the word starts at one:
                            // a char starts after an ASCII byte and at one,
                            // so both ends are char boundaries. (Checked,
                            // this slice took 1.2% of the instructions.)
                            let word = unsafe { text.get_unchecked(pos..w.end) };
                            self.folded(pos, word, how, bufs, &mut prev, &mut f);
                        }
                        pos = w.end;
                    }
                    None => pos = self.fallback(text, pos, bufs, &mut prev, &mut f),
                }
                continue;
            }
            let b = bytes[pos];
            if b >= 0x80 {
                match common_punctuation(bytes, pos) {
                    Some(p) => {
                        // A segment of its own: a quote mark is a cue, the
                        // rest give nothing.
                        if cues && p == Common::Quote {
                            f(pos, Piece::Cue(Cue::Quote));
                        }
                        pos += 3;
                    }
                    None => pos = self.fallback(text, pos, bufs, &mut prev, &mut f),
                }
            } else if unknown_at(bytes, pos + 1) {
                // A combining mark after it would join it: let UAX #29 decide.
                pos = self.fallback(text, pos, bufs, &mut prev, &mut f);
            } else {
                if cues {
                    if let Some(cue) = ascii_punctuation_cue(b) {
                        f(pos, Piece::Cue(cue));
                    }
                }
                pos += 1;
            }
        }
    }

    /// The reference path: every segment from `unicode-segmentation`'s
    /// word-boundary iterator. [`Tokenizer::for_each_token_at`] gives the same
    /// tokens faster; this one is kept to check it against.
    pub fn for_each_token_at_reference<F: FnMut(usize, &str)>(
        &self,
        text: &str,
        bufs: &mut TokenBuffers,
        mut f: F,
    ) {
        let mut prev = Prev::None;
        let pair = &mut bufs.pair;
        self.segments(text, 0, &mut bufs.words, &mut prev, &mut |at, piece| {
            f(at, spell(piece, pair))
        });
    }

    /// Tokens of `text[pos..q]` by UAX #29 (from the start of the space run
    /// when `pos` is a space), where `q` is the first point
    /// after `pos` that follows an ASCII space or line feed and starts an
    /// ASCII character. Segmentation provably restarts there: no UAX #29
    /// rule joins across it or looks across it. Returns `q`.
    fn fallback<'t, F: FnMut(usize, Piece<'_>)>(
        &self,
        text: &'t str,
        pos: usize,
        bufs: &mut WordBuffers,
        prev: &mut Prev<'t>,
        f: &mut F,
    ) -> usize {
        let bytes = text.as_bytes();
        // UAX #29 keeps a run of spaces together (WB3d), and a combining
        // mark after it joins the whole run (WB4): start at the run's first
        // space. The spaces gave no tokens, so none is given twice.
        let mut start = pos;
        if bytes[pos] == b' ' {
            while start > 0 && bytes[start - 1] == b' ' {
                start -= 1;
            }
        }
        let mut q = pos + 1;
        while q < bytes.len() && !(matches!(bytes[q - 1], b' ' | b'\n') && bytes[q] < 0x80) {
            q += 1;
        }
        // `q` is at a char boundary: the byte there is ASCII, or the end.
        self.segments(&text[start..q], start, bufs, prev, f);
        q
    }

    fn segments<'t, F: FnMut(usize, Piece<'_>)>(
        &self,
        text: &'t str,
        offset: usize,
        bufs: &mut WordBuffers,
        prev: &mut Prev<'t>,
        f: &mut F,
    ) {
        for (at, seg) in text.split_word_bound_indices() {
            if seg.chars().any(char::is_alphanumeric) {
                self.word(offset + at, seg, bufs, prev, f);
            } else if self.config.cues {
                if let Some(cue) = punctuation_cue(seg) {
                    f(offset + at, Piece::Cue(cue));
                }
            }
        }
    }

    /// The pieces of one word: its case cue, the folded word, and the pair
    /// with the word before. A word that folding leaves as it is (most
    /// words, with the default settings) is handed over straight from the
    /// text, without a copy.
    #[inline]
    fn word<'t, F: FnMut(usize, Piece<'_>)>(
        &self,
        at: usize,
        seg: &'t str,
        bufs: &mut WordBuffers,
        prev: &mut Prev<'t>,
        f: &mut F,
    ) {
        let cue = if self.config.case_cues {
            case_cue(seg)
        } else {
            None
        };
        let how = Folding {
            cue,
            copied: folding_changes(seg, &self.config),
            head: None,
        };
        self.folded(at, seg, how, bufs, prev, f);
    }

    /// [`Tokenizer::word`] once what folding does to the word is known.
    #[inline(always)]
    fn folded<'t, F: FnMut(usize, Piece<'_>)>(
        &self,
        at: usize,
        seg: &'t str,
        how: Folding,
        bufs: &mut WordBuffers,
        prev: &mut Prev<'t>,
        f: &mut F,
    ) {
        let cfg = &self.config;
        if let Some(cue) = how.cue {
            f(at, Piece::Cue(cue));
        }
        let copied = how.copied;
        if copied {
            fold_word(seg, cfg, &mut bufs.word);
        }
        let word: &str = if copied { &bufs.word } else { seg };
        let head = match how.head {
            Some(head) if !copied => head,
            _ => head8(word.as_bytes()),
        };
        f(at, Piece::Word(word, head));
        if cfg.bigrams {
            match *prev {
                Prev::Text(p) => f(at, Piece::Pair(p, word)),
                Prev::Buf => f(at, Piece::Pair(&bufs.prev, word)),
                Prev::None => {}
            }
            *prev = if copied {
                std::mem::swap(&mut bufs.prev, &mut bufs.word);
                Prev::Buf
            } else {
                Prev::Text(seg)
            };
        }
    }

    /// Every token of `text` with its byte offset, as owned strings, from
    /// the fast path (`reference == false`) or the reference path: what
    /// tests and fuzzing compare. Allocates; scoring uses
    /// [`Tokenizer::for_each_piece`].
    pub fn tokens_at(&self, text: &str, reference: bool) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut bufs = TokenBuffers::default();
        let push = |at: usize, t: &str| out.push((at, t.to_string()));
        if reference {
            self.for_each_token_at_reference(text, &mut bufs, push);
        } else {
            self.for_each_token_at(text, &mut bufs, push);
        }
        out
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

/// A piece as a token string; a pair is spelled into `pair`.
#[inline]
fn spell<'a>(piece: Piece<'a>, pair: &'a mut String) -> &'a str {
    match piece {
        Piece::Cue(c) => c.as_str(),
        Piece::Word(w, _) => w,
        Piece::Pair(left, right) => {
            pair.clear();
            pair.push_str(left);
            pair.push(' ');
            pair.push_str(right);
            pair
        }
    }
}

/// ASCII letters, digits and `_` (UAX #29 ALetter, Numeric, ExtendNumLet).
#[inline]
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() | (b == b'_')
}

/// What folding does to one word, with its case cue (`None` also when case
/// cues are off).
#[derive(Clone, Copy)]
struct Folding {
    cue: Option<Cue>,
    /// Whether folding changes the word (then it is copied).
    copied: bool,
    /// The word's [`head8`], when the scan already has it.
    head: Option<u64>,
}

/// A word of at most eight bytes as a little-endian `u64`, zero-padded (0
/// for a longer word).
#[inline]
pub fn head8(word: &[u8]) -> u64 {
    if word.len() > 8 {
        return 0;
    }
    load8(word, 0)
}

/// Eight bytes from `bytes[i..]` as a little-endian word, zero-padded past
/// the end (a zero byte is no word byte).
#[inline(always)]
fn load8(bytes: &[u8], i: usize) -> u64 {
    match bytes.get(i..i + 8) {
        Some(b) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        }
        None => short8(bytes.get(i..).unwrap_or_default()),
    }
}

/// Up to eight bytes as a little-endian `u64`, zero-padded: what copying
/// them into eight zero bytes gives, from two loads of fixed size (which may
/// overlap, and agree where they do) instead of a call to `memcpy` for a
/// copy of unknown length. Bytes past the eighth are left out.
#[inline(always)]
fn short8(b: &[u8]) -> u64 {
    let n = b.len();
    let le2 = |b: &[u8]| u64::from(u16::from_le_bytes([b[0], b[1]]));
    let le4 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    match n {
        0 => 0,
        1 => u64::from(b[0]),
        2..=3 => le2(b) | (le2(&b[n - 2..]) << (8 * (n - 2))),
        4..=7 => le4(b) | (le4(&b[n - 4..]) << (8 * (n - 4))),
        _ => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[..8]);
            u64::from_le_bytes(w)
        }
    }
}

/// The ASCII bytes that are cues ([`ascii_punctuation_cue`]).
const CUE_BYTES: [u8; 3] = *b"\"!?";

/// The ASCII bytes that may join two runs of word bytes into one word
/// (which, and between what, [`ascii_word_end`] says).
const JOINERS: [u8; 5] = *b".':,;";

/// The classes of 64 bytes, one bit per byte (bit `i` for byte `i`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    upper: u64,
    lower: u64,
    digit: u64,
    /// ASCII letters, digits and `_` ([`is_word_byte`]).
    word: u64,
    /// Bytes at or above `0x80`.
    high: u64,
    /// [`CUE_BYTES`].
    cue: u64,
    /// [`JOINERS`].
    joiner: u64,
}

/// [`Masks`] of 64 bytes with the widest vectors the CPU has, found at run
/// time: AVX-512BW, AVX2 (about half the instructions of SSE2), else SSE2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks(chunk: &[u8; 64]) -> Masks {
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: the CPU has AVX-512BW, just checked.
        return unsafe { masks_avx512(chunk) };
    }
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, just checked.
        return unsafe { masks_avx2(chunk) };
    }
    masks_sse2(chunk)
}

/// The classes [`masks_avx2`] looks up by a byte's high and low four bits:
/// each a set of bytes that is every pairing of the high halves and the
/// low halves found among its bytes, so that a byte is in it exactly when
/// both its halves are. The cue and joiner classes must hold
/// [`CUE_BYTES`] and [`JOINERS`]; both are tested on every byte value
/// against `masks_bytewise`.
#[cfg(target_arch = "x86_64")]
const NIBBLE_CLASSES: [&[u8]; 8] = [
    // Letters `A..=O`, `a..=o`.
    b"ABCDEFGHIJKLMNOabcdefghijklmno",
    // Letters `P..=Z`, `p..=z`.
    b"PQRSTUVWXYZpqrstuvwxyz",
    b"0123456789",
    b"_",
    // The cue bytes by their high half: `!` `"`, then `?`.
    b"!\"",
    b"?",
    // The joiners by their high half: `'` `,` `.`, then `:` `;`.
    b"',.",
    b":;",
];

/// Bits of [`NIBBLE_CLASSES`]: letters, word bytes, cues, joiners.
#[cfg(target_arch = "x86_64")]
const LETTER_BITS: u8 = 0b11;
#[cfg(target_arch = "x86_64")]
const WORD_BITS: u8 = 0b1111;
#[cfg(target_arch = "x86_64")]
const DIGIT_BITS: u8 = 0b100;
#[cfg(target_arch = "x86_64")]
const CUE_BITS: u8 = 0b11_0000;
#[cfg(target_arch = "x86_64")]
const JOINER_BITS: u8 = 0b1100_0000;

/// The table of [`NIBBLE_CLASSES`] for the low four bits of a byte
/// (`high == false`) or the high four.
#[cfg(target_arch = "x86_64")]
const fn nibble_table(high: bool) -> [u8; 16] {
    let mut t = [0u8; 16];
    let mut bit = 0;
    while bit < 8 {
        let class = NIBBLE_CLASSES[bit];
        let mut i = 0;
        while i < class.len() {
            let half = if high { class[i] >> 4 } else { class[i] & 15 };
            t[half as usize] |= 1 << bit;
            i += 1;
        }
        bit += 1;
    }
    t
}

/// [`Masks`] of 64 bytes with AVX2, 32 bytes a step: a byte's classes are
/// the bits its low half's and high half's table entries share
/// ([`NIBBLE_CLASSES`]; two `vpshufb`), each class then a test and one
/// `movemask`, and case the byte's `0x20` bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn masks_avx2(chunk: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    const LOW: [u8; 16] = nibble_table(false);
    const HIGH: [u8; 16] = nibble_table(true);
    // SAFETY: AVX2 is enabled for this function; the loads read 16 bytes
    // of the tables and 32 of `chunk` at offsets 0 and 32, unaligned.
    let half = |at: usize| unsafe {
        let low_table = _mm256_broadcastsi128_si256(_mm_loadu_si128(LOW.as_ptr().cast()));
        let high_table = _mm256_broadcastsi128_si256(_mm_loadu_si128(HIGH.as_ptr().cast()));
        let fifteen = _mm256_set1_epi8(15);
        let x = _mm256_loadu_si256(chunk.as_ptr().add(at).cast());
        let low = _mm256_and_si256(x, fifteen);
        let high = _mm256_and_si256(_mm256_srli_epi16(x, 4), fifteen);
        let t = _mm256_and_si256(
            _mm256_shuffle_epi8(low_table, low),
            _mm256_shuffle_epi8(high_table, high),
        );
        let any = |bits: u8| {
            let none = _mm256_cmpeq_epi8(
                _mm256_and_si256(t, _mm256_set1_epi8(bits as i8)),
                _mm256_setzero_si256(),
            );
            u64::from(!(_mm256_movemask_epi8(none) as u32))
        };
        // Bit 5 (small letters' `0x20`) of each byte moved to its top.
        let small = u64::from(_mm256_movemask_epi8(_mm256_slli_epi16(x, 2)) as u32);
        let letter = any(LETTER_BITS);
        [
            letter & !small,
            letter & small,
            any(DIGIT_BITS),
            any(WORD_BITS),
            u64::from(_mm256_movemask_epi8(x) as u32),
            any(CUE_BITS),
            any(JOINER_BITS),
        ]
    };
    let (a, b) = (half(0), half(32));
    Masks {
        upper: a[0] | b[0] << 32,
        lower: a[1] | b[1] << 32,
        digit: a[2] | b[2] << 32,
        word: a[3] | b[3] << 32,
        high: a[4] | b[4] << 32,
        cue: a[5] | b[5] << 32,
        joiner: a[6] | b[6] << 32,
    }
}

/// [`Masks`] of 64 bytes with AVX-512BW, all 64 a step: as
/// [`masks_avx2`], each class then one test straight into a mask.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
fn masks_avx512(chunk: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    const LOW: [u8; 16] = nibble_table(false);
    const HIGH: [u8; 16] = nibble_table(true);
    // SAFETY: AVX-512BW is enabled for this function; the loads read 16
    // bytes of the tables and the 64 of `chunk`, unaligned.
    unsafe {
        let low_table = _mm512_broadcast_i32x4(_mm_loadu_si128(LOW.as_ptr().cast()));
        let high_table = _mm512_broadcast_i32x4(_mm_loadu_si128(HIGH.as_ptr().cast()));
        let fifteen = _mm512_set1_epi8(15);
        let x = _mm512_loadu_si512(chunk.as_ptr().cast());
        let low = _mm512_and_si512(x, fifteen);
        let high = _mm512_and_si512(_mm512_srli_epi16(x, 4), fifteen);
        let t = _mm512_and_si512(
            _mm512_shuffle_epi8(low_table, low),
            _mm512_shuffle_epi8(high_table, high),
        );
        let any = |bits: u8| _mm512_test_epi8_mask(t, _mm512_set1_epi8(bits as i8));
        let small = _mm512_test_epi8_mask(x, _mm512_set1_epi8(0x20));
        let letter = any(LETTER_BITS);
        Masks {
            upper: letter & !small,
            lower: letter & small,
            digit: any(DIGIT_BITS),
            word: any(WORD_BITS),
            high: _mm512_movepi8_mask(x),
            cue: any(CUE_BITS),
            joiner: any(JOINER_BITS),
        }
    }
}

/// [`Masks`] of 64 bytes with SSE2 (part of every x86-64 CPU): 16 bytes a
/// step, each class a compare or two and one `movemask`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks_sse2(chunk: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    let mut m = Masks::default();
    for (k, part) in chunk.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is in the x86-64 baseline, so every intrinsic here
        // is available; the load reads the 16 bytes of `part`, unaligned.
        let bits = unsafe {
            let x = _mm_loadu_si128(part.as_ptr().cast());
            // Bytes in `lo..=hi`: shifted so the range starts at -128, it
            // is what compares (signed) below -128 + its length.
            let range = |lo: u8, hi: u8| {
                let t = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
                _mm_cmplt_epi8(t, _mm_set1_epi8((0x80 + (hi - lo + 1)) as i8))
            };
            let is = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
            let bits = |v: __m128i| u64::from(_mm_movemask_epi8(v) as u16);
            let upper = range(b'A', b'Z');
            let lower = range(b'a', b'z');
            let digit = range(b'0', b'9');
            let word = _mm_or_si128(_mm_or_si128(upper, lower), _mm_or_si128(digit, is(b'_')));
            let any = |set: &[u8]| {
                set.iter()
                    .fold(_mm_setzero_si128(), |acc, &c| _mm_or_si128(acc, is(c)))
            };
            let cue = any(&CUE_BYTES);
            let joiner = any(&JOINERS);
            [
                bits(upper),
                bits(lower),
                bits(digit),
                bits(word),
                bits(x),
                bits(cue),
                bits(joiner),
            ]
        };
        let at = 16 * k;
        m.upper |= bits[0] << at;
        m.lower |= bits[1] << at;
        m.digit |= bits[2] << at;
        m.word |= bits[3] << at;
        m.high |= bits[4] << at;
        m.cue |= bits[5] << at;
        m.joiner |= bits[6] << at;
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks(chunk: &[u8; 64]) -> Masks {
    masks_bytewise(chunk)
}

/// [`Masks`] one byte at a time: the portable path, and what tests check
/// the vector path against.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn masks_bytewise(chunk: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in chunk.iter().enumerate() {
        let bit = |yes: bool| u64::from(yes) << i;
        m.upper |= bit(b.is_ascii_uppercase());
        m.lower |= bit(b.is_ascii_lowercase());
        m.digit |= bit(b.is_ascii_digit());
        m.word |= bit(is_word_byte(b));
        m.high |= bit(b >= 0x80);
        m.cue |= bit(ascii_punctuation_cue(b).is_some());
        m.joiner |= bit(JOINERS.contains(&b));
    }
    m
}

/// The classes of the 64 bytes from `base` (zeros past the end of the
/// text, which are in no class), and where the byte scan must stop among
/// them.
#[derive(Clone, Copy, Debug)]
struct Block {
    base: usize,
    upper: u64,
    lower: u64,
    digit: u64,
    word: u64,
    /// Bytes the scan must look at: word bytes, non-ASCII bytes, ASCII
    /// bytes right before a non-ASCII byte (a combining mark may join
    /// them), and cue bytes when cues are on. Every other byte is ASCII
    /// punctuation or space that gives no token and is skipped unread.
    stops: u64,
    /// Bytes after which a word may go on: non-ASCII bytes, and joiners
    /// followed by a word byte or a non-ASCII byte. A word ends before
    /// any other byte that is no word byte, as read off this mask.
    joins: u64,
}

impl Block {
    /// The end of the word starting at the word byte `pos` of this block
    /// if it is small ASCII letters alone (most words of news text) and
    /// ends inside the block before a byte that cannot join it to more:
    /// such a word has no case cue, folding leaves it as it is, and it
    /// ends there, as [`ascii_word_end`] would find after reading all its
    /// letters (tested).
    #[inline(always)]
    fn small_word_at(&self, pos: usize) -> Option<usize> {
        let rel = pos - self.base;
        debug_assert!(rel < 64);
        let end = rel + (self.word >> rel).trailing_ones() as usize;
        if end >= 64 || (self.joins >> end) & 1 != 0 {
            return None;
        }
        // The word's bits, `rel..end`.
        let part = (u64::MAX << rel) & !(u64::MAX << end);
        (self.lower & part == part).then_some(self.base + end)
    }

    #[inline(always)]
    fn at(bytes: &[u8], base: usize, cues: bool) -> Block {
        let mut padded = [0u8; 64];
        let chunk = match bytes.get(base..).and_then(|b| b.first_chunk::<64>()) {
            Some(chunk) => chunk,
            None => {
                let rest = bytes.get(base..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let m = masks(chunk);
        let next = bytes.get(base + 64).copied().unwrap_or(0);
        let (next_high, next_word) = (next >= 0x80, is_word_byte(next));
        let before_high = (m.high >> 1) | (u64::from(next_high) << 63);
        let before_word = (m.word >> 1) | (u64::from(next_word) << 63);
        let cue = if cues { m.cue } else { 0 };
        Block {
            base,
            upper: m.upper,
            lower: m.lower,
            digit: m.digit,
            word: m.word,
            stops: m.word | m.high | before_high | cue,
            joins: m.high | (m.joiner & (before_word | before_high)),
        }
    }
}

/// [`head8`] of a word of `len` bytes (at least one) from the eight
/// bytes [`load8`] reads at its start. Without a branch: whether a word is
/// longer than eight bytes is hard to predict.
#[inline(always)]
fn head_of(first8: u64, len: usize) -> u64 {
    /// The bytes of a word `len` bytes long, by `len` (one for none, no
    /// bytes past eight): a load in place of a clamp and two shifts.
    const KEEP: [u64; 10] = {
        let mut keep = [0; 10];
        let mut len = 0;
        while len <= 8 {
            keep[len] = u64::MAX >> (64 - 8 * if len == 0 { 1 } else { len });
            len += 1;
        }
        keep
    };
    first8 & KEEP[len.min(9)]
}

/// An ASCII word found by [`ascii_word_end`], with what the tokenizer asks
/// of its letters, found in the same scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AsciiWord {
    end: usize,
    /// Whether it has ASCII capitals (`upper`), more than one (`uppers`),
    /// and ASCII small letters (`lower`).
    upper: bool,
    uppers: bool,
    lower: bool,
    /// Whether the first letter is a capital.
    first_upper: bool,
    digits: bool,
    /// Whether the word holds a curly apostrophe (then it is not ASCII).
    curly: bool,
    /// The eight bytes from the word's start, as [`load8`] reads them.
    first8: u64,
}

impl AsciiWord {
    /// [`case_cue`] of the word.
    #[inline]
    fn case_cue(&self) -> Option<Cue> {
        if !self.first_upper {
            return None;
        }
        // The first letter is a capital: are there more?
        case_cue_of(usize::from(self.uppers), usize::from(self.lower))
    }

    /// [`head8`] of the unfolded word starting at `start`.
    #[inline]
    fn head(&self, start: usize) -> u64 {
        head_of(self.first8, self.end - start)
    }

    /// [`folding_changes`] of the word.
    #[inline]
    fn folding_changes(&self, cfg: &TokenizerConfig) -> bool {
        self.curly | (cfg.number_shapes & self.digits) | (cfg.lowercase & self.upper)
    }

    /// Ends the word before byte `end`, in `block`, whose letters from
    /// bit `from` are still to be read.
    #[inline(always)]
    fn end_at(&mut self, end: usize, block: &Block, from: usize) {
        self.end = end;
        self.read(block, from, end - block.base);
    }

    /// Takes in the letters and digits of the bytes `from..to` of `block`
    /// (as bit positions; `to` at most 64): one part of the word, all of
    /// it unless it spans blocks. Joiners, apostrophes and `_` in it are
    /// in no class.
    #[inline(always)]
    fn read(&mut self, block: &Block, from: usize, to: usize) {
        let part = u64::MAX
            .checked_shr((64 + from - to) as u32)
            .and_then(|m| m.checked_shl(from as u32))
            .unwrap_or(0);
        let (upper, lower) = (block.upper & part, block.lower & part);
        let letters = upper | lower;
        // The word's first letter is in this part if none came before:
        // without a branch, which words starting with a digit or `_`
        // would make hard to predict.
        let first = letters & letters.wrapping_neg();
        self.first_upper |= !(self.upper | self.lower) & (upper & first != 0);
        // More than one capital: two in this part, or one here and one
        // before.
        self.uppers |= (upper & upper.wrapping_sub(1)) != 0 || (self.upper && upper != 0);
        self.upper |= upper != 0;
        self.lower |= lower != 0;
        self.digits |= block.digit & part != 0;
    }
}

/// End of the UAX #29 word starting at ASCII word byte `bytes[start]`, or
/// `None` when non-ASCII text could extend it (the caller falls back).
/// Within ASCII a word is a run of letters, digits and `_`, continued over
/// one `.` `'` `:` between letters (WB6, WB7) or one `.` `'` `,` `;`
/// between digits (WB11, WB12).
///
/// Runs of word bytes are read off `block`'s masks, the letters with
/// them; a run that reaches the block's end goes on in the next block,
/// which is then read into `block` (the scan goes on from there).
// Always inlined, as is `Tokenizer::folded`: the scan's loop then keeps
// the word it found in registers (see the scorer's piece closure).
#[inline(always)]
fn ascii_word_end(bytes: &[u8], start: usize, block: &mut Block, cues: bool) -> Option<AsciiWord> {
    let mut w = AsciiWord {
        end: start,
        upper: false,
        uppers: false,
        lower: false,
        first_upper: false,
        digits: false,
        curly: false,
        first8: load8(bytes, start),
    };
    // Most words are one run of word bytes that ends inside the block it
    // starts in (the caller found `start` in it), before a byte that cannot
    // join it to more: they end here, without the loop below, which gives
    // the same for them (tested) and handles the rest.
    debug_assert!(start - block.base < 64);
    let rel = start - block.base;
    let end = rel + (block.word >> rel).trailing_ones() as usize;
    if end < 64 && (block.joins >> end) & 1 == 0 {
        w.end_at(block.base + end, block, rel);
        return Some(w);
    }
    // The loop scans that first run again (a few instructions for one word
    // in ten; starting past it measured more instructions in all).
    let mut i = start;
    // Where the word's letters still to be read start in `block`.
    let mut from = rel;
    loop {
        loop {
            let mut rel = i - block.base;
            if rel >= 64 {
                w.read(block, from, 64);
                *block = Block::at(bytes, i, cues);
                (rel, from) = (0, 0);
            }
            let run = (block.word >> rel).trailing_ones() as usize;
            i += run;
            if rel + run < 64 {
                break;
            }
        }
        // Most words end at a space or at punctuation before one: one
        // branch, the same for all of them.
        if (block.joins >> (i - block.base)) & 1 == 0 {
            w.end_at(i, block, from);
            return Some(w);
        }
        let c = bytes[i];
        if c >= 0x80 {
            let last = bytes[i - 1];
            return match common_punctuation(bytes, i) {
                None => None,
                // ‘ and ’ join letters to letters and digits to digits
                // (WB6, WB7, WB11, WB12), as `.` does.
                Some(Common::Apostrophe) => match bytes.get(i + 3) {
                    Some(&next)
                        if (last.is_ascii_alphabetic() && next.is_ascii_alphabetic())
                            || (last.is_ascii_digit() && next.is_ascii_digit()) =>
                    {
                        w.curly = true;
                        i += 3;
                        continue;
                    }
                    _ => {
                        w.end_at(i, block, from);
                        Some(w)
                    }
                },
                Some(_) => {
                    w.end_at(i, block, from);
                    Some(w)
                }
            };
        }
        let last = bytes[i - 1];
        let (letters, digits) = match c {
            b'.' | b'\'' => (true, true),
            b':' => (true, false),
            b',' | b';' => (false, true),
            _ => {
                w.end_at(i, block, from);
                return Some(w);
            }
        };
        match bytes.get(i + 1) {
            // A joiner before common punctuation (`said.”`, in news text
            // at the end of most quotes) ends the word there, as before a
            // space; before a character the scan does not know, UAX #29
            // decides.
            Some(_) if unknown_at(bytes, i + 1) => return None,
            Some(&next)
                if (letters && last.is_ascii_alphabetic() && next.is_ascii_alphabetic())
                    || (digits && last.is_ascii_digit() && next.is_ascii_digit()) =>
            {
                // On past the joiner; the next run starts at `next`.
                i += 1;
            }
            _ => {
                w.end_at(i, block, from);
                return Some(w);
            }
        }
    }
}

/// Non-ASCII punctuation common in news text that the byte scan handles
/// itself instead of falling back to unicode-segmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Common {
    /// ‘ ’ (U+2018, U+2019): word break property MidNumLet, like `.`.
    Apostrophe,
    /// “ ” (U+201C, U+201D): Other; a quote cue.
    Quote,
    /// – — … (U+2013, U+2014, U+2026): Other.
    Dash,
}

/// The [`Common`] punctuation starting at `bytes[i]`, if it is followed by
/// an ASCII byte or the end: then no Extend or Format character follows to
/// join it (WB4), and it segments as its word break property alone says.
#[inline]
fn common_punctuation(bytes: &[u8], i: usize) -> Option<Common> {
    let c = match bytes.get(i..i + 3)? {
        [0xE2, 0x80, 0x98 | 0x99] => Common::Apostrophe,
        [0xE2, 0x80, 0x9C | 0x9D] => Common::Quote,
        [0xE2, 0x80, 0x93 | 0x94 | 0xA6] => Common::Dash,
        _ => return None,
    };
    match bytes.get(i + 3) {
        Some(&next) if next >= 0x80 => None,
        _ => Some(c),
    }
}

/// Whether `bytes[i]` starts a non-ASCII character other than [`Common`]
/// punctuation followed by ASCII: one that may be a letter or digit, or an
/// Extend or Format character that joins what is before it (WB4), so that
/// the byte scan cannot tell where the segment before it ends.
#[inline]
fn unknown_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i).is_some_and(|&c| c >= 0x80) && common_punctuation(bytes, i).is_none()
}

#[inline]
fn ascii_punctuation_cue(b: u8) -> Option<Cue> {
    match b {
        b'"' => Some(Cue::Quote),
        b'!' => Some(Cue::Exclaim),
        b'?' => Some(Cue::Question),
        _ => None,
    }
}

fn punctuation_cue(seg: &str) -> Option<Cue> {
    match seg {
        "\"" | "\u{201C}" | "\u{201D}" | "\u{201E}" | "\u{00AB}" | "\u{00BB}" => Some(Cue::Quote),
        "!" => Some(Cue::Exclaim),
        "?" => Some(Cue::Question),
        _ => None,
    }
}

/// Whether [`fold_word`] would change `seg` (conservatively `true` for
/// non-ASCII words).
#[inline]
fn folding_changes(seg: &str, cfg: &TokenizerConfig) -> bool {
    !seg.is_ascii()
        || seg.bytes().any(|b| {
            (cfg.number_shapes & b.is_ascii_digit()) | (cfg.lowercase & b.is_ascii_uppercase())
        })
}

fn case_cue_of(upper: usize, lower: usize) -> Option<Cue> {
    match (upper, lower) {
        (0, 0) => None, // a one-letter word: "I", "A"
        (_, 0) => Some(Cue::Caps),
        (0, _) => Some(Cue::Title),
        _ => None, // "McDonald", "iPhone"-like mixed case
    }
}

fn case_cue(word: &str) -> Option<Cue> {
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
    case_cue_of(upper, lower)
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
///    words). A word starts at an ASCII letter that does not follow
///    - an ASCII letter or digit,
///    - an apostrophe that follows an ASCII letter or digit or a non-ASCII
///      character (`don't`, `O'Brien`, `café's`),
///    - a non-ASCII character, unless it is one of Unicode's General
///      Punctuation (U+2000 to U+206F: curly quotes, dashes, the ellipsis,
///      zero-width and typographic spaces).
///
///    So an opening quote does not hide a capital: `'Seductive' dress` and
///    `“Very stupid”` each start with one. Title Case gives about 0.8,
///    sentence case 0.1 to 0.2, lower case 0.
///
/// One pass over the bytes; no allocation.
///
/// ```
/// let [len, caps] = satire::tokenize::text_shape("Area Man Wins big");
/// assert!((len - 18f64.ln()).abs() < 1e-12);
/// assert_eq!(caps, 0.75);
/// assert_eq!(satire::tokenize::text_shape("'Seductive' dress")[1], 0.5);
/// ```
pub fn text_shape(text: &str) -> [f64; SHAPE_FEATURES] {
    let (starts, capitals) = shape_counts_fastest(text.as_bytes());
    let caps = if starts == 0 {
        0.0
    } else {
        capitals as f64 / starts as f64
    };
    [(text.len() as f64).ln_1p(), caps]
}

/// [`shape_counts`] with the widest vectors the CPU has, found at run
/// time: 64 lanes with AVX-512BW, 32 with AVX2 (half the instructions of
/// 16 lanes with SSE2, which every x86-64 CPU has), else 16.
#[inline]
fn shape_counts_fastest(bytes: &[u8]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        /// [`shape_counts`] compiled for AVX-512BW.
        #[target_feature(enable = "avx512bw")]
        fn avx512(bytes: &[u8]) -> (u64, u64) {
            shape_counts::<64>(bytes)
        }
        // SAFETY: the CPU has AVX-512BW, just checked.
        return unsafe { avx512(bytes) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        /// [`shape_counts`] compiled for AVX2.
        #[target_feature(enable = "avx2")]
        fn avx2(bytes: &[u8]) -> (u64, u64) {
            shape_counts::<32>(bytes)
        }
        // SAFETY: the CPU has AVX2, just checked.
        return unsafe { avx2(bytes) };
    }
    shape_counts::<16>(bytes)
}

/// The word starts and capitalised word starts of `bytes`, as
/// [`text_shape`] defines them, counted in `LANES` byte-wide lanes.
#[inline(always)]
fn shape_counts<const LANES: usize>(bytes: &[u8]) -> (u64, u64) {
    // Whether a byte starts a word depends only on it and the three bytes
    // before it (`b1` next to it), so the counts are sums over windows of
    // four bytes. They are kept in `LANES` byte-wide lanes, `LANES`
    // windows a step, which the compiler turns into a few vector
    // instructions a step; a lane is emptied into the totals before it can
    // overflow (255 steps).
    #[inline(always)]
    fn counts(byte: u8, b1: u8, b2: u8, b3: u8) -> (u8, u8) {
        // `b1` ends a General Punctuation character: E2 80 80 to E2 81 AF.
        let punctuation = (b3 == 0xE2) & ((b2 == 0x80) | ((b2 == 0x81) & (b1 < 0xB0)));
        let in_word = b1.is_ascii_alphanumeric()
            | ((b1 == b'\'') & (b2.is_ascii_alphanumeric() | (b2 >= 0x80)))
            | ((b1 >= 0x80) & !punctuation);
        let start = byte.is_ascii_alphabetic() & !in_word;
        (start as u8, (start & byte.is_ascii_uppercase()) as u8)
    }
    const STEPS: usize = 255;
    /// Word starts and capitals among at most `STEPS` steps of windows:
    /// `now[i]` and the three bytes before it, `b1[i]` next to it.
    #[inline(always)]
    fn block<const LANES: usize>(now: &[u8], b1: &[u8], b2: &[u8], b3: &[u8]) -> (u64, u64) {
        let (mut s, mut c) = ([0u8; LANES], [0u8; LANES]);
        let mut steps = now.chunks_exact(LANES);
        let mut before = b1
            .chunks_exact(LANES)
            .zip(b2.chunks_exact(LANES))
            .zip(b3.chunks_exact(LANES));
        for (n, ((p1, p2), p3)) in (&mut steps).zip(&mut before) {
            for j in 0..LANES {
                let (ds, dc) = counts(n[j], p1[j], p2[j], p3[j]);
                s[j] += ds;
                c[j] += dc;
            }
        }
        // The windows left, fewer than `LANES`, as one more step with the
        // lanes past them zero (a zero byte starts no word), rather than
        // one window at a time: on articles of 3 KB, that scalar tail
        // took as long as the vector steps.
        let done = now.len() - steps.remainder().len();
        let rest = now.len() - done;
        if rest > 0 {
            let pad = |part: &[u8]| {
                let mut lanes = [0u8; LANES];
                lanes[..rest].copy_from_slice(&part[done..]);
                lanes
            };
            let (n, p1, p2, p3) = (pad(now), pad(b1), pad(b2), pad(b3));
            for j in 0..LANES {
                let (ds, dc) = counts(n[j], p1[j], p2[j], p3[j]);
                s[j] += ds;
                c[j] += dc;
            }
        }
        let starts: u64 = s.iter().map(|&x| u64::from(x)).sum();
        let capitals: u64 = c.iter().map(|&x| u64::from(x)).sum();
        (starts, capitals)
    }
    // The first three bytes, with nothing (a zero byte) before the text.
    let (mut starts, mut capitals) = (0u64, 0u64);
    let before = |i: usize, k: usize| if i >= k { bytes[i - k] } else { 0 };
    for (i, &b) in bytes.iter().enumerate().take(3) {
        let (s, c) = counts(b, before(i, 1), before(i, 2), before(i, 3));
        starts += u64::from(s);
        capitals += u64::from(c);
    }
    let len = bytes.len();
    if len > 3 {
        let chunk = LANES * STEPS;
        let (now, b1, b2, b3) = (
            &bytes[3..],
            &bytes[2..len - 1],
            &bytes[1..len - 2],
            &bytes[..len - 3],
        );
        for (((n, p1), p2), p3) in now
            .chunks(chunk)
            .zip(b1.chunks(chunk))
            .zip(b2.chunks(chunk))
            .zip(b3.chunks(chunk))
        {
            let (s, c) = block::<LANES>(n, p1, p2, p3);
            starts += s;
            capitals += c;
        }
    }
    (starts, capitals)
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

    /// [`text_shape`]'s share of capitalised words by its definition, one
    /// character at a time.
    fn capital_share_char_by_char(text: &str) -> f64 {
        let (starts, capitals) = shape_counts_char_by_char(text);
        if starts == 0 {
            0.0
        } else {
            capitals as f64 / starts as f64
        }
    }

    /// Word starts and capitalised ones, by [`text_shape`]'s definition.
    fn shape_counts_char_by_char(text: &str) -> (u64, u64) {
        let (mut starts, mut capitals) = (0u64, 0u64);
        let (mut c1, mut c2) = (None::<char>, None::<char>);
        for c in text.chars() {
            let in_word = c1.is_some_and(|p| {
                p.is_ascii_alphanumeric()
                    || (p == '\'' && c2.is_some_and(|q| q.is_ascii_alphanumeric() || !q.is_ascii()))
                    || (!p.is_ascii() && !('\u{2000}'..='\u{206F}').contains(&p))
            });
            let start = c.is_ascii_alphabetic() && !in_word;
            starts += start as u64;
            capitals += (start && c.is_ascii_uppercase()) as u64;
            (c2, c1) = (c1, Some(c));
        }
        (starts, capitals)
    }

    #[test]
    fn an_opening_quote_or_dash_does_not_hide_a_capital() {
        // Headlines from onion-or-not's r/NotTheOnion side: with a capital
        // that an opening quote or dash hid, they looked lower-cased (0),
        // like misra's headlines, and went to the wrong component.
        for (text, share) in [
            ("'Seductive' dress gets girl barred", 1.0 / 5.0),
            ("\u{201c}Very, very stupid:\u{201d} 2 men caught", 1.0 / 5.0),
            (
                "\u{2018}Mandatory penis inspection\u{2019} letter",
                1.0 / 4.0,
            ),
            ("\u{200b}Potato photo sells", 1.0 / 3.0),
            // A word's own apostrophe still joins it: `Don't` and
            // `Nation's` are one word each, and `s` after `é'` too.
            ("Don't panic\u{2014}Nation's finest", 2.0 / 4.0),
            ("caf\u{e9}'s Menu", 1.0 / 2.0),
            // Other non-ASCII letters still join a word: `É` + `Tat`.
            ("\u{c9}Tat alors", 0.0),
        ] {
            assert_eq!(text_shape(text)[1], share, "{text}");
            assert_eq!(capital_share_char_by_char(text), share, "{text}");
        }
    }

    #[test]
    fn text_shape_counts_across_lane_blocks() {
        // Every length around the first three bytes, the 16-, 32- and
        // 64-byte steps (the last step of a block padded) and one and two
        // blocks of 16, 32 or 64 lanes (4,080, 8,160 or 16,320 windows,
        // which end at bytes 4,083, 8,163, 16,323 and 32,643), against the
        // definition: a window missed or counted twice at an edge changes
        // the counts. The unit's characters of two and three bytes cut some
        // lengths short by a byte or two, which the ranges make up for.
        let unit = "A b C' d\u{e9}E.f,\u{201c}G 'h\u{2014}I x'Y \u{2070}J\u{1018}K";
        let lens = (0..140)
            .chain(4070..4100)
            .chain(8150..8180)
            .chain(16310..16340)
            .chain(32630..32660);
        for len in lens.chain([20000]) {
            let text: String = unit
                .chars()
                .cycle()
                .scan(0, |n, c| {
                    *n += c.len_utf8();
                    (*n <= len).then_some(c)
                })
                .collect();
            let want = shape_counts_char_by_char(&text);
            let bytes = text.as_bytes();
            assert_eq!(shape_counts::<16>(bytes), want, "{len} bytes, 16 lanes");
            assert_eq!(shape_counts::<32>(bytes), want, "{len} bytes, 32 lanes");
            assert_eq!(shape_counts::<64>(bytes), want, "{len} bytes, 64 lanes");
            assert_eq!(shape_counts_fastest(bytes), want, "{len} bytes");
            assert_eq!(text_shape(&text)[1], capital_share_char_by_char(&text));
        }
        let caps = "A".repeat(10_000) + &" B".repeat(5_000);
        assert_eq!(text_shape(&caps)[1], 1.0);
        // A word starts at every other byte: every other lane counts 255 in
        // each full block, so a lane that overflowed would change the share.
        let all_starts = "a ".repeat(9_000) + "B";
        assert_eq!(text_shape(&all_starts)[1], 1.0 / 9_001.0);
        for counts in [shape_counts::<16>, shape_counts::<32>, shape_counts::<64>] {
            assert_eq!(counts(all_starts.as_bytes()), (9_001, 1));
        }
        // A block of 254 steps and a padded last one: 255 in a lane, the
        // most it holds.
        let just_full = "a ".repeat(16 * 254 / 2 + 4);
        assert_eq!(shape_counts::<16>(just_full.as_bytes()).0, 16 * 254 / 2 + 4);
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

    /// Pieces that exercise every ASCII rule of the fast path next to the
    /// non-ASCII text that forces it back to `unicode-segmentation`:
    /// joiners (`.` `'` `:` `,` `;`), `_`, combining marks, format and
    /// zero-width joiner characters, curly quotes, non-ASCII letters and
    /// digits, Hebrew, Katakana, emoji and regional indicators.
    const TRICKY: [&str; 49] = [
        "a",
        "Z",
        "7",
        "_",
        ".",
        "'",
        ":",
        ",",
        ";",
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "\"",
        "!",
        "?",
        "-",
        "$",
        "U.S.",
        "3.5",
        "1,000",
        "don't",
        "e.g.",
        "\u{301}",
        "\u{200D}",
        "\u{AD}",
        "\u{2019}",
        "\u{201C}",
        "é",
        "\u{661}",
        "\u{5D0}",
        "\u{30A2}",
        "\u{1F600}",
        "\u{1F1FA}",
        "\u{2014}",
        "\u{A0}",
        "\u{3000}",
        "\u{85}",
        "\u{2028}",
        "\u{7FD}",
        "\u{2018}",
        "\u{201D}",
        "\u{2013}",
        "\u{2026}",
        "Musk\u{2019}s",
        "\u{2019}s",
        "1\u{2019}000",
        "\u{201C}Quote\u{201D}",
    ];

    #[test]
    fn short8_is_the_bytes_copied_into_eight_zeros() {
        // Every length up to nine, at every offset of a buffer of distinct
        // bytes, and the zero-padding a copy gives.
        let bytes: Vec<u8> = (1..=40u8).map(|b| b.wrapping_mul(37)).collect();
        for start in 0..bytes.len() {
            for n in 0..=9.min(bytes.len() - start) {
                let b = &bytes[start..start + n];
                let mut w = [0u8; 8];
                w[..n.min(8)].copy_from_slice(&b[..n.min(8)]);
                assert_eq!(short8(b), u64::from_le_bytes(w), "{b:?}");
                assert_eq!(load8(&bytes[..start + n], start), u64::from_le_bytes(w));
            }
        }
    }

    #[test]
    fn a_words_head_is_its_eight_padded_bytes_or_nothing_past_eight() {
        // `head_of` keeps a word's bytes out of the eight read from its
        // start, and gives 0 for a word longer than eight, as `head8` does.
        let bytes = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..bytes.len() {
            for len in 1..=bytes.len() - start {
                let word = &bytes[start..start + len];
                let head = head_of(load8(bytes, start), len);
                assert_eq!(head, head8(word), "{word:?}");
                assert_eq!(head == 0, len > 8, "{word:?}");
            }
        }
    }

    /// [`masks`] of `chunk`, checked equal to [`masks_bytewise`], as are
    /// the SSE2 masks and, where the CPU has them, the AVX2 and AVX-512
    /// ones.
    fn every_masks_equal(chunk: &[u8; 64]) -> Masks {
        let want = masks_bytewise(chunk);
        assert_eq!(masks(chunk), want, "{chunk:?}");
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(masks_sse2(chunk), want, "SSE2, {chunk:?}");
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, just checked.
                assert_eq!(unsafe { masks_avx2(chunk) }, want, "AVX2, {chunk:?}");
            } else {
                eprintln!("no AVX2 here: its masks are not checked");
            }
            if std::arch::is_x86_feature_detected!("avx512bw") {
                // SAFETY: the CPU has AVX-512BW, just checked.
                assert_eq!(unsafe { masks_avx512(chunk) }, want, "AVX-512, {chunk:?}");
            } else {
                eprintln!("no AVX-512BW here: its masks are not checked");
            }
        }
        want
    }

    #[test]
    fn vector_masks_equal_the_bytewise_ones() {
        // Every byte value, at every position of a block.
        for shift in 0..256 {
            let mut chunk = [0u8; 64];
            for (i, c) in chunk.iter_mut().enumerate() {
                *c = ((i * 4 + shift) % 256) as u8;
            }
            every_masks_equal(&chunk);
        }
        let chunk = *b"The U.S. said \"no!\" Is_it 1,000? don't; a:b Zz09AZaz@[`{/:OK   \n";
        let m = every_masks_equal(&chunk);
        assert_eq!(m.upper.count_ones(), 9);
        assert_eq!(m.cue.count_ones(), 4);
        assert_eq!(m.high, 0);
    }

    /// Tricky words at every offset from a block's start, so that each
    /// crosses the 64-byte block boundary at every one of its bytes.
    #[test]
    fn words_across_block_boundaries_equal_the_reference() {
        let long = "Supercalifragilisticexpialidocious".repeat(3);
        let words = [
            "word",
            "Title",
            "CAPS",
            "U.S.A.",
            "3.5",
            "1,000,000",
            "don't",
            "e.g.",
            "a:b",
            "Musk\u{2019}s",
            "rock\u{2019}n\u{2019}roll",
            "1\u{2019}000",
            "\u{201C}Quoted\u{201D}",
            "caf\u{e9}",
            "a.\u{301}b",
            "x \u{301}y",
            "snake_case_9",
            "__",
            "end.",
            "\"Yes!\"",
            long.as_str(),
        ];
        for cfg in [all_on(), TokenizerConfig::default()] {
            let tok = Tokenizer::new(cfg);
            for word in words {
                for pad in 0..72 {
                    let text = format!("{}{word} next", " ".repeat(pad));
                    assert_eq!(
                        tok.tokens_at(&text, false),
                        tok.tokens_at(&text, true),
                        "{text:?}"
                    );
                    let text = format!("{}{word}", "ab ".repeat(pad));
                    assert_eq!(
                        tok.tokens_at(&text, false),
                        tok.tokens_at(&text, true),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn common_punctuation_segments_as_the_reference_does() {
        let tok = Tokenizer::new(all_on());
        for text in [
            "Musk\u{2019}s",
            "\u{2019}Tis",
            "rock\u{2019}n\u{2019}roll",
            "90\u{2019}s",
            "1\u{2019}000",
            "1\u{2019}a",
            "a\u{2019}1",
            "a\u{2019} b",
            "a \u{2019}b",
            "x\u{201C}y\u{201D}z",
            "\u{2014}dash\u{2014}",
            "a\u{2026}b",
            "\u{2018}quoted\u{2019}",
            "a\u{2019}\u{301}b",
            "a\u{201C}\u{301}b",
            "a.\u{2019}b",
            "a\u{2019}.b",
            "_\u{2019}a",
            "a\u{2019}_",
            "A\u{2013}B",
            "3\u{2013}4",
            "\u{2019}",
            "x\u{2019}",
            "\u{201C}",
            "he said.\u{201D} Then",
            "a,\u{201D}b",
            "1,\u{2014}2",
            "a:\u{2026}",
            "a'\u{2019}b",
            "a.\u{2018}b",
            "a.\u{201D}\u{301}b",
        ] {
            assert_eq!(
                tok.tokens_at(text, false),
                tok.tokens_at(text, true),
                "{text:?}"
            );
        }
    }

    #[test]
    fn small_words_end_where_the_full_scan_ends_them_with_nothing_to_fold() {
        // At every word byte of words at every offset from a block's
        // start: where the shortcut takes a word, the full scan ends it at
        // the same byte, finds small letters alone (no case cue, nothing
        // to fold, under any settings) and the same head.
        let words = [
            "word",
            "Title",
            "CAPS",
            "iPhone",
            "e.g.",
            "don't",
            "a:b",
            "abc1",
            "x_y",
            "__",
            "end.",
            "rock\u{2019}n",
            "caf\u{e9}",
            "a\u{301}",
            "said,\u{201D}",
        ];
        let mut taken = 0;
        for word in words {
            for pad in 0..72 {
                let text = format!("{}{word} next", " ".repeat(pad));
                let bytes = text.as_bytes();
                for pos in (0..bytes.len()).filter(|&p| is_word_byte(bytes[p])) {
                    let block = Block::at(bytes, pos.saturating_sub(63), true);
                    let Some(end) = block.small_word_at(pos) else {
                        continue;
                    };
                    taken += 1;
                    let mut full = block;
                    let w = ascii_word_end(bytes, pos, &mut full, true);
                    let w = w.unwrap_or_else(|| panic!("{text:?} at {pos}: none"));
                    assert_eq!(w.end, end, "{text:?} at {pos}");
                    assert!(w.lower && !w.upper && !w.digits && !w.curly, "{text:?}");
                    assert_eq!(w.case_cue(), None);
                    for cfg in [all_on(), TokenizerConfig::default()] {
                        assert!(!w.folding_changes(&cfg), "{text:?}");
                    }
                    assert_eq!(w.head(pos), head_of(load8(bytes, pos), end - pos));
                    assert_eq!(w.head(pos), head8(&bytes[pos..end]));
                }
            }
        }
        // "word", "next", and the small-letter tails of the others.
        assert!(taken > 72 * words.len(), "{taken}");
        let block = Block::at(b"Title word e.g. x", 0, true);
        assert_eq!(
            [0, 1, 6, 11, 16].map(|p| block.small_word_at(p)),
            [None, Some(5), Some(10), None, Some(17)]
        );
    }

    #[test]
    fn a_joiner_before_common_punctuation_ends_the_word_in_the_byte_scan() {
        // `said.”` closes most quotes in news text: the scan ends the word
        // at the joiner itself, where it used to hand the rest of the word
        // to unicode-segmentation.
        let end = |text: &str, start: usize| {
            let bytes = text.as_bytes();
            let mut block = Block::at(bytes, 0, true);
            ascii_word_end(bytes, start, &mut block, true).map(|w| w.end)
        };
        assert_eq!(end("he said.\u{201D} Then", 3), Some(7));
        assert_eq!(end("no,\u{201D} she", 0), Some(2));
        assert_eq!(end("1,\u{2014}2", 0), Some(1));
        assert_eq!(end("rock'\u{2019}", 0), Some(4));
        // Before a mark the scan does not know, or one that a combining
        // mark follows, it still falls back.
        assert_eq!(end("a.\u{301}b", 0), None);
        assert_eq!(end("a.\u{201D}\u{301}b", 0), None);
        assert_eq!(end("a.\u{E9}", 0), None);
    }

    fn prop_assert_fast_eq_reference(
        text: &str,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        for cfg in [all_on(), TokenizerConfig::default()] {
            let tok = Tokenizer::new(cfg);
            proptest::prop_assert_eq!(
                tok.tokens_at(text, false),
                tok.tokens_at(text, true),
                "text {:?}",
                text
            );
        }
        Ok(())
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
        fn fast_path_equals_reference_on_arbitrary_unicode(text in "\\PC*") {
            prop_assert_fast_eq_reference(&text)?;
        }

        #[test]
        fn fast_path_equals_reference_on_short_ascii_text(
            text in "[A-Za-z0-9_.',:; ]{0,64}"
        ) {
            prop_assert_fast_eq_reference(&text)?;
        }

        #[test]
        fn fast_path_equals_reference_on_ascii_text_across_blocks(
            text in "([A-Za-z0-9_]{0,70}[.',:; \"!?\n-]{0,2}){0,12}"
        ) {
            prop_assert_fast_eq_reference(&text)?;
        }

        #[test]
        fn fast_path_equals_reference_on_mixed_text(
            parts in proptest::collection::vec(proptest::sample::select(TRICKY.to_vec()), 0..40)
        ) {
            prop_assert_fast_eq_reference(&parts.concat())?;
        }

        #[test]
        fn text_shape_counts_word_starts(
            // The quotes, dash, ellipsis and zero-width space of General
            // Punctuation, its last character (U+206F) and the one after it,
            // and characters whose last two bytes are those of a curly quote.
            text in "[a-zA-Z0-9' .é,‘’“”—…\u{200b}\u{206f}\u{2070}\u{1018}\u{3019}-]{0,200}",
            // Repeats take the text past the 16-byte steps and the
            // 4,080-byte blocks of the counting lanes.
            repeats in 1usize..50,
        ) {
            let text = text.repeat(repeats);
            proptest::prop_assert_eq!(text_shape(&text)[1], capital_share_char_by_char(&text));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = toks(all_on(), &text);
        }
    }
}
