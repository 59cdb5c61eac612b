//! The scoring table: token to per-component weights, laid out for the
//! cache.
//!
//! Looking tokens up is the scoring path's main cost, and with a vocabulary
//! of 76,000 tokens a general hash map plus a separate weight array costs
//! three scattered memory reads per token. This table needs two for a
//! word and one for a pair:
//!
//! - for words, a slot array of 8 bytes a slot (32 bits of the hash and the
//!   offset of the word's record), at most two thirds full, probed
//!   linearly, and one record per word holding where its weights are, its
//!   column and its bytes, records stored most frequent word first, so
//!   that the words most texts use sit together in a few hundred
//!   kilobytes;
//! - for word pairs, which the scorer asks for as often as words and which
//!   no memo answers, rows of 16 bytes, each where a pair's weights are,
//!   its column and its key, at most a quarter of them used, probed linearly: a
//!   row's address follows from the hash, so a pair costs one cache miss,
//!   where a slot naming a record costs two, one after the other;
//! - the weights themselves (one `f64` per component) in a *palette*, each
//!   distinct set of weights once, the most used first. Naive Bayes gives
//!   every token seen equally often in each class of each component the same
//!   weights, so most of the vocabulary's rare tokens share a few sets: the
//!   default model's 75,968 tokens have 9,129 distinct sets, and the 16 most
//!   used serve half the tokens. Records and rows hold a 4-byte offset where
//!   they held `8 * k` bytes of weights: the default model's table went from
//!   12.2 to 8.9 MB, with the same scores to the bit.
//!
//! A word is found by its bytes' hash and confirmed by comparing its bytes,
//! so the table never answers for a token the model does not know. A word
//! pair `"left right"` is found by its two words' columns instead: its row
//! is placed by the hash of, and holds, `pair_key` of its words' columns,
//! so the scorer, which has just looked both words up, finds the pair with
//! one integer hash and one integer compare, never reading the words' bytes
//! again. A word of a pair that is no token of the model gets a record too,
//! a *shadow* one (no weights, marked in its slot), whose column is a
//! shadow id (`SHADOW` and its number among the shadow words): it gives
//! the pair its key and is never counted as a token. Words never contain a
//! space, so a token holding one is always a pair.
//!
//! A token found is its record's or row's first eight bytes, a [`Hit`]:
//! where its weights are and its column, all that summing its weights
//! needs, so the sums never read a record (format 11; in format 10 pairs
//! were keyed by their words' record offsets, and a found token was its
//! record's offset, which the sums read again for the column and weights).
//!
//! The scorer asks in batches ([`Lookups`]), so that the cache misses of
//! a batch's slots and records overlap instead of coming one at a time,
//! and the answers for its most recent words of up to 16 bytes are
//! remembered, so that most words are not looked up at all.

use crate::tokenize::{head8, Cue, Piece};

const K1: u64 = 0x243F_6A88_85A3_08D3;
const K2: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hash of a token's bytes (not a pair): one folded 64x64->128-bit
/// multiply for a token of up to 8 bytes (most words), one more for each
/// further 8 bytes.
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    if bytes.len() <= 8 {
        return hash_word(bytes, head8(bytes));
    }
    let len = bytes.len() as u64;
    let mut h = len.wrapping_mul(K2);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = fold_mul(h ^ head8(c) ^ K1, K2);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fold_mul(h ^ head8(rest) ^ K1, K2);
    }
    h
}

/// [`hash_bytes`] of a word given its [`crate::tokenize::head8`] as well:
/// a word of up to eight bytes is hashed without reading its bytes again.
#[inline]
pub fn hash_word(word: &[u8], head: u64) -> u64 {
    if word.len() <= 8 {
        fold_mul(head ^ K1, word.len() as u64 ^ K2)
    } else {
        hash_bytes(word)
    }
}

/// The 128-bit product of `a` and `b`, its halves XORed: every input bit
/// reaches the high half.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// The key of the word pair whose words have the columns `left` and
/// `right` (shadow ids included): what the pair's row is placed by
/// (through [`pair_hash`]) and holds.
#[inline]
fn pair_key(left: u32, right: u32) -> u64 {
    u64::from(left) | (u64::from(right) << 32)
}

/// The hash a pair is stored under, from its [`pair_key`].
#[inline]
fn pair_hash(key: u64) -> u64 {
    fold_mul(key ^ 0x4528_21E6_38D0_1377, 0xBE54_66CF_34E9_0C6C)
}

/// The two words of a pair token: a token with one space between two
/// words. Any other token (never one the tokenizer makes, which gives no
/// empty word and no word with a space) is stored as a word.
fn as_pair(token: &str) -> Option<(&str, &str)> {
    let (left, right) = token.split_once(' ')?;
    (!left.is_empty() && !right.is_empty() && !right.contains(' ')).then_some((left, right))
}

use std::borrow::Cow;

const EMPTY: u32 = u32::MAX;

/// The top bit of a slot's record and of a record's column: a shadow
/// word's (see the module docs), which answers for pairs only. `EMPTY` has
/// it too, so `column < SHADOW` says "a token found".
const SHADOW: u32 = 1 << 31;

/// The answer for no token: column [`EMPTY`].
const NONE: u64 = u64::MAX;

/// The key of an empty pair row: two [`EMPTY`] words, which no pair has.
const NO_PAIR: u64 = u64::MAX;

/// A pair row's size in 8-byte units.
const ROW: usize = 2;

/// log2 of the filter's size in bits.
const FILTER_BITS: u32 = 20;

/// The filter of the words' `slots` and the pairs' `keys`: a bit for each
/// stored tag.
fn filter_of(slots: &[Slot], keys: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut filter = vec![0u64; (1usize << FILTER_BITS) / 64];
    let tags = slots
        .iter()
        .filter(|s| s.record != EMPTY)
        .map(|s| s.tag)
        .chain(keys.map(|key| (pair_hash(key) >> 32) as u32));
    for tag in tags {
        let b = (tag & ((1 << FILTER_BITS) - 1)) as usize;
        filter[b / 64] |= 1 << (b % 64);
    }
    filter
}

/// The palette of `weights` (`k` a column, column-major) for the columns
/// of `order`: each distinct set once (compared bit for bit), the most
/// used first, ties in order of first use, as arena bytes; and each
/// column's offset in it, in 8-byte units. Never empty: with no columns,
/// one set of zeros.
fn palette(weights: &[f64], k: usize, order: &[u32]) -> (Vec<u8>, Vec<u32>) {
    use std::collections::HashMap;
    let set = |col: u32| -> Vec<u64> {
        weights[col as usize * k..][..k]
            .iter()
            .map(|w| w.to_bits())
            .collect()
    };
    // Each set's uses and first use.
    let mut uses: HashMap<Vec<u64>, (usize, usize)> = HashMap::new();
    for (n, &col) in order.iter().enumerate() {
        uses.entry(set(col)).or_insert((0, n)).0 += 1;
    }
    let mut sets: Vec<(Vec<u64>, (usize, usize))> = uses.into_iter().collect();
    sets.sort_by_key(|&(_, (count, first))| (std::cmp::Reverse(count), first));
    if sets.is_empty() {
        sets.push((vec![0; k], (0, 0)));
    }
    let mut arena = Vec::with_capacity(sets.len() * 8 * k);
    let mut at = HashMap::with_capacity(sets.len());
    for (i, (bits, _)) in sets.into_iter().enumerate() {
        for b in &bits {
            arena.extend_from_slice(&b.to_le_bytes());
        }
        at.insert(bits, (i * k) as u32);
    }
    let mut of = vec![0u32; weights.len() / k.max(1)];
    for &col in order {
        of[col as usize] = at[&set(col)];
    }
    (arena, of)
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Slot {
    tag: u32,
    /// Offset of the record in the arena, in 8-byte units.
    record: u32,
}

/// A found token: the first eight bytes of its record or pair row, little
/// endian: the offset of its weights in the palette (low 32 bits) and its
/// column (high 32 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit(u64);

/// A record's offset in the arena, in 8-byte units.
#[derive(Clone, Copy, Debug)]
struct Record(u32);

impl Hit {
    /// Its weights' offset in the palette, in 8-byte units.
    #[inline(always)]
    fn weights_at(self) -> usize {
        self.0 as u32 as usize
    }

    /// The column of an answer: [`EMPTY`] for none, [`SHADOW`] marked for
    /// a shadow word.
    #[inline(always)]
    fn column_of(answer: u64) -> u32 {
        (answer >> 32) as u32
    }
}

/// The columns already counted in the current text, when each token counts
/// once ([`crate::model::Counting::Presence`]): one byte a column, holding
/// the number (mod 255) of the text that last counted it. Starting a text
/// is one increment (every 255 texts, a zeroing of the bytes), and a check
/// is a load and a store with no branch on the answer: a repeat is as
/// likely as a new token, and a mispredicted branch there would stall the
/// table lookups in flight. 76 KB for the default model's vocabulary,
/// mostly in L1 and L2.
#[derive(Debug)]
pub struct SeenColumns {
    stamp: Vec<u8>,
    now: u8,
}

impl SeenColumns {
    /// For a vocabulary of `columns` tokens.
    pub fn new(columns: usize) -> SeenColumns {
        SeenColumns {
            stamp: vec![0; columns],
            now: 1,
        }
    }

    /// Forgets every column: the next text starts.
    #[inline]
    pub fn next_text(&mut self) {
        if self.now == u8::MAX {
            self.stamp.fill(0);
            self.now = 0;
        }
        self.now += 1;
    }

    /// Marks `column` counted in this text; whether it was not yet. A
    /// column beyond the vocabulary (never, for a table that loaded) is
    /// always new.
    #[inline]
    pub fn insert(&mut self, column: u32) -> bool {
        match self.stamp.get_mut(column as usize) {
            Some(s) => {
                let new = *s != self.now;
                *s = self.now;
                new
            }
            None => true,
        }
    }
}

/// Token to weights; see the module docs.
///
/// The arena holds the palette, then the records, then the pair rows, all
/// little endian. Palette: `k` weights `f64` for each distinct set, the
/// most used first. Record layout (8-byte aligned): the offset of its
/// weights in the palette (`u32`, in 8-byte units: a multiple of `k`; 0 for
/// a shadow word, whose weights are never read), column `u32` (a shadow
/// id for a shadow word: `SHADOW` and its number), key length `u32`,
/// zero `u32`, key bytes, padding to 8. Pair row layout (`ROW` units),
/// the same up to the column: weights offset `u32`, column `u32`,
/// `pair_key` (`u64`); an empty row has the key `NO_PAIR` and zeros
/// before it. A found token, word or pair, is the eight bytes its record
/// or row starts with (a [`Hit`]).
#[derive(Clone, Debug)]
pub struct ScoreTable {
    /// One bit per value of the tag's low [`FILTER_BITS`] bits, set for
    /// every stored token: most absent tokens (word pairs, above all) are
    /// turned away here, in 128 KiB that stay in cache, without touching
    /// the slots.
    filter: Vec<u64>,
    slots: Vec<Slot>,
    /// Records; borrowed from the binary for the built-in model.
    arena: Cow<'static, [u8]>,
    k: usize,
    /// Where the pair rows start in the arena, in 8-byte units: where the
    /// records end.
    rows: usize,
    /// The number of pair rows less one (their number is a power of two).
    row_mask: usize,
    /// Where the records start in the arena, in 8-byte units: where the
    /// palette ends.
    records: usize,
    /// Which table this is, for [`Lookups`]' memo of answers: unique to
    /// every table built or read in this process (a clone shares it, and
    /// answers as the original does).
    id: u64,
}

/// Tables are equal when they answer alike, whatever their ids.
impl PartialEq for ScoreTable {
    fn eq(&self, other: &ScoreTable) -> bool {
        (&self.filter, &self.slots, &self.arena, self.k, self.rows)
            == (
                &other.filter,
                &other.slots,
                &other.arena,
                other.k,
                other.rows,
            )
    }
}

/// A new [`ScoreTable::id`]: never 0, which no table has.
fn next_table_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl ScoreTable {
    /// A table over `tokens` (column `j` is `tokens[j]`) with `k` weights a
    /// column in `weights` (column-major: `weights[j * k..][..k]`), word
    /// records laid out in the order of `order` (every column once, most
    /// frequent first), then the shadow words, then the pair rows. A
    /// duplicate token keeps its first column.
    pub fn new<S: AsRef<str>>(
        tokens: &[S],
        weights: &[f64],
        k: usize,
        order: &[u32],
    ) -> ScoreTable {
        use std::collections::HashSet;
        let words: HashSet<&str> = tokens
            .iter()
            .map(|t| t.as_ref())
            .filter(|t| as_pair(t).is_none())
            .collect();
        // The pairs' words that are no token: shadow words, in order.
        let mut shadows = Vec::new();
        let mut shadowed = HashSet::new();
        let mut pairs = Vec::new();
        for &col in order {
            if let Some((l, r)) = as_pair(tokens[col as usize].as_ref()) {
                pairs.push((col, l, r));
                for w in [l, r] {
                    if !words.contains(w) && shadowed.insert(w) {
                        shadows.push(w);
                    }
                }
            }
        }
        // At most two thirds full: the default model's 26,430 words take
        // 65,536 slots, 512 KiB.
        let stored = words.len() + shadows.len();
        let size = (stored * 3 / 2).next_power_of_two().max(16);
        let (arena, weights_at) = palette(weights, k, order);
        let records = arena.len() / 8;
        let mut t = ScoreTable {
            records,
            slots: vec![
                Slot {
                    tag: 0,
                    record: EMPTY,
                };
                size
            ],
            arena: Cow::Owned(arena),
            k,
            rows: 0,
            row_mask: 0,
            filter: Vec::new(),
            id: next_table_id(),
        };
        for &col in order {
            let token = tokens[col as usize].as_ref();
            if as_pair(token).is_none() {
                t.insert_word(token, col, weights_at[col as usize], 0);
            }
        }
        for (i, w) in shadows.into_iter().enumerate() {
            // Fewer shadow words than bytes in the arena, which is below
            // 16 GiB: the number fits below `SHADOW`.
            t.insert_word(w, SHADOW | i as u32, 0, SHADOW);
        }
        // The words' filter, to find them by; then the pairs' rows, at
        // most a quarter of them used (0.19 in the default model). At
        // 0.38 (half as many rows, 2 MB fewer) scoring one thread took
        // 1.7% to 2.4% more user time, and at 0.76 4% more than at 0.38
        // (`benches/ab_time.py --mb 100`, session 41). Presumably more
        // pairs are found in their first row, so the probe's branch is
        // guessed right more often: mispredicts were not counted.
        t.filter = filter_of(&t.slots, std::iter::empty());
        let n = (4 * pairs.len()).next_power_of_two().max(2);
        let arena = t.arena.to_mut();
        t.rows = arena.len() / 8;
        t.row_mask = n - 1;
        for _ in 0..n {
            arena.resize(arena.len() + 8 * (ROW - 1), 0);
            arena.extend_from_slice(&NO_PAIR.to_le_bytes());
        }
        let mut keys = Vec::with_capacity(pairs.len());
        for (col, l, r) in pairs {
            // Both words have records now, as tokens or shadows.
            let (Some(l), Some(r)) = (t.word_column(l.as_bytes()), t.word_column(r.as_bytes()))
            else {
                debug_assert!(false, "every word of a pair has a record");
                continue;
            };
            let key = pair_key(l, r);
            let home = pair_hash(key) as usize;
            let found = t.pair_row(home, key);
            if found != EMPTY {
                // The same pair again: keep the first column, as the
                // vocabulary does.
                t.keep_first_column(found, col);
                continue;
            }
            // Not there: the probe ended at the first empty row from home.
            let mut i = home & t.row_mask;
            while t.u64_at(8 * (t.rows + i * ROW + ROW - 1)) != NO_PAIR {
                i = (i + 1) & t.row_mask;
            }
            let at = 8 * (t.rows + i * ROW);
            let row = &mut t.arena.to_mut()[at..at + 8 * ROW];
            row[..4].copy_from_slice(&weights_at[col as usize].to_le_bytes());
            row[4..8].copy_from_slice(&col.to_le_bytes());
            row[8..16].copy_from_slice(&key.to_le_bytes());
            keys.push(key);
        }
        t.filter = filter_of(&t.slots, keys.into_iter());
        t
    }

    /// Appends a word's record and returns its offset.
    fn push_record(&mut self, token: &str, col: u32, weights: u32) -> u32 {
        let record = (self.arena.len() / 8) as u32;
        let arena = self.arena.to_mut();
        arena.extend_from_slice(&weights.to_le_bytes());
        arena.extend_from_slice(&col.to_le_bytes());
        arena.extend_from_slice(&(token.len() as u32).to_le_bytes());
        arena.extend_from_slice(&0u32.to_le_bytes());
        arena.extend_from_slice(token.as_bytes());
        arena.resize(arena.len().next_multiple_of(8), 0);
        record
    }

    /// Stores the word `token` with its record, unless it is stored
    /// already; `mark` is [`SHADOW`] for a shadow word, else 0.
    fn insert_word(&mut self, token: &str, col: u32, weights: u32, mark: u32) {
        let h = hash_bytes(token.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s.record == EMPTY {
                let record = self.push_record(token, col, weights);
                self.slots[i] = Slot {
                    tag: (h >> 32) as u32,
                    record: record | mark,
                };
                return;
            }
            if s.tag == (h >> 32) as u32 && self.key(Record(s.record & !SHADOW)) == token.as_bytes()
            {
                // The same token again: keep the first column, as the
                // vocabulary does.
                self.keep_first_column(s.record & !SHADOW, col);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Gives `record` (or pair row) the column `col` if it comes first.
    fn keep_first_column(&mut self, record: u32, col: u32) {
        if col < self.u32_at(record as usize * 8 + 4) {
            self.arena.to_mut()[record as usize * 8 + 4..][..4].copy_from_slice(&col.to_le_bytes());
        }
    }

    /// The table as stored in a model file: the slot count, the pair row
    /// count and the palette's length in 8-byte units (u64 each), each
    /// slot's tag and record (u32 each), then the arena (the palette, the
    /// records, then the pair rows); all little endian.
    /// Loading it back ([`ScoreTable::from_bytes`]) is a copy and
    /// a check, where building it takes milliseconds of hashing and
    /// scattered writes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + 8 * self.slots.len() + self.arena.len());
        out.extend_from_slice(&(self.slots.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.row_mask as u64 + 1).to_le_bytes());
        out.extend_from_slice(&(self.records as u64).to_le_bytes());
        for s in &self.slots {
            out.extend_from_slice(&s.tag.to_le_bytes());
            out.extend_from_slice(&s.record.to_le_bytes());
        }
        out.extend_from_slice(&self.arena);
        out
    }

    /// Reads [`ScoreTable::to_bytes`] of a table with `k` weights a token
    /// over `columns` columns, checking every slot and record: a table that
    /// passes never indexes out of bounds or probes forever, whatever the
    /// bytes.
    pub fn from_bytes(bytes: &[u8], k: usize, columns: usize) -> Result<ScoreTable, String> {
        ScoreTable::read(Cow::Owned(bytes.to_vec()), k, columns)
    }

    /// [`ScoreTable::from_bytes`] without copying the records: for a model
    /// built into the binary.
    pub fn from_static(
        bytes: &'static [u8],
        k: usize,
        columns: usize,
    ) -> Result<ScoreTable, String> {
        ScoreTable::read(Cow::Borrowed(bytes), k, columns)
    }

    fn read(bytes: Cow<'static, [u8]>, k: usize, columns: usize) -> Result<ScoreTable, String> {
        let count = |at: usize| {
            bytes
                .get(at..at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .ok_or("scoring table: truncated")
                .and_then(|n| usize::try_from(n).map_err(|_| "scoring table: a count too large"))
        };
        let (n, rows, records) = (count(0)?, count(8)?, count(16)?);
        if !n.is_power_of_two() || n < 16 {
            return Err(format!(
                "scoring table: {n} slots is not a power of two >= 16"
            ));
        }
        if !rows.is_power_of_two() || rows < 2 {
            return Err(format!(
                "scoring table: {rows} pair rows is not a power of two >= 2"
            ));
        }
        let arena_at = n
            .checked_mul(8)
            .and_then(|b| b.checked_add(24))
            .filter(|&end| end <= bytes.len())
            .ok_or("scoring table: truncated slots")?;
        let slots: Vec<Slot> = bytes[24..arena_at]
            .chunks_exact(8)
            .map(|c| Slot {
                tag: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                record: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        let stride = 8 * ROW;
        let records_end = rows
            .checked_mul(stride)
            .and_then(|r| (bytes.len() - arena_at).checked_sub(r))
            .filter(|end| end % 8 == 0)
            .ok_or("scoring table: truncated pair rows")?;
        if (bytes.len() - arena_at) / 8 >= SHADOW as usize {
            // A found token is an offset below `SHADOW`, in 8-byte units.
            return Err("scoring table: an arena of 16 GiB or more".into());
        }
        let mut t = ScoreTable {
            filter: Vec::new(),
            slots,
            arena: match bytes {
                Cow::Borrowed(b) => Cow::Borrowed(&b[arena_at..]),
                Cow::Owned(mut v) => {
                    v.drain(..arena_at);
                    Cow::Owned(v)
                }
            },
            k,
            rows: records_end / 8,
            row_mask: rows - 1,
            records,
            id: next_table_id(),
        };
        if !t.slots.iter().any(|s| s.record == EMPTY) {
            return Err("scoring table: no empty slot".into());
        }
        // Walk the records in arena order (a sequential read), marking
        // where each starts and which are shadow words'; then every slot
        // must point at a record start (a shadow word's if and only if
        // marked so), and every pair row's key at two words. The marks are
        // bitmaps, a bit per 8 bytes of arena, which stay in cache where
        // the records would not.
        let units = records_end / 8;
        let mut starts = vec![0u64; units.div_ceil(64)];
        let mut shadows = vec![0u64; units.div_ceil(64)];
        // The columns of the words and the numbers of the shadow words, each
        // once: a pair's key must name two of them.
        let mut word_columns = vec![0u64; columns.div_ceil(64)];
        let mut shadow_ids = vec![0u64; units.div_ceil(64)];
        let finite = |w: &[u8]| {
            w.chunks_exact(8)
                .all(|w| f64::from_le_bytes(w.try_into().unwrap_or([0xff; 8])).is_finite())
        };
        // Checked: a count near 2^61 would wrap to a small length.
        let palette_end = records.checked_mul(8).filter(|&end| end <= records_end);
        let Some(palette_end) = palette_end.filter(|_| k > 0 && records >= k && records % k == 0)
        else {
            return Err("scoring table: a bad palette".into());
        };
        if !finite(&t.arena[..palette_end]) {
            return Err("scoring table: a weight is not finite".into());
        }
        let palette_entry = |w: u32| (w as usize) < records && (w as usize).is_multiple_of(k);
        let mut at = palette_end;
        while at < records_end {
            let head = at + 16;
            if head > records_end {
                return Err("scoring table: a record runs past the records".into());
            }
            let len = t.u32_at(at + 8) as usize;
            if len == 0 || len > u32::MAX as usize / 2 {
                // Every key has a padded first 8 bytes to compare, and
                // no word is 2 GiB long.
                return Err("scoring table: an empty key or a bad key length".into());
            }
            let end = (head + len).next_multiple_of(8);
            if end > records_end {
                return Err("scoring table: a record runs past the records".into());
            }
            if t.arena[head + len..end].iter().any(|&b| b != 0) {
                // A short word is compared as its zero-padded 8 bytes.
                return Err("scoring table: a key's padding is not zero".into());
            }
            let column = t.u32_at(at + 4);
            let shadow = column & SHADOW != 0;
            let (ids, id, range) = if shadow {
                (&mut shadow_ids, (column & !SHADOW) as usize, units)
            } else {
                (&mut word_columns, column as usize, columns)
            };
            if id >= range {
                return Err("scoring table: a column out of range".into());
            }
            if ids[id / 64] & (1 << (id % 64)) != 0 {
                return Err("scoring table: two words with one column".into());
            }
            ids[id / 64] |= 1 << (id % 64);
            if !palette_entry(t.u32_at(at)) {
                return Err("scoring table: a record's weights are no palette entry".into());
            }
            let bit = |v: &mut Vec<u64>| v[at / 8 / 64] |= 1 << (at / 8 % 64);
            bit(&mut starts);
            if shadow {
                bit(&mut shadows);
            }
            at = end;
        }
        let is = |v: &[u64], r: usize| r < units && v[r / 64] & (1 << (r % 64)) != 0;
        for s in t.slots.iter().filter(|s| s.record != EMPTY) {
            let r = (s.record & !SHADOW) as usize;
            if !is(&starts, r) {
                return Err("scoring table: a slot points outside any record".into());
            }
            if (s.record & SHADOW != 0) != is(&shadows, r) {
                return Err("scoring table: a shadow word's slot or record is wrong".into());
            }
        }
        let mut keys = Vec::new();
        for row in t.arena[records_end..].chunks_exact(stride) {
            let key = u64::from_le_bytes(row[stride - 8..].try_into().unwrap_or([0; 8]));
            if key == NO_PAIR {
                continue;
            }
            let column = u32::from_le_bytes(row[4..8].try_into().unwrap_or([0xff; 4]));
            if column as usize >= columns {
                return Err("scoring table: a column out of range".into());
            }
            if !palette_entry(u32::from_le_bytes(row[..4].try_into().unwrap_or([0xff; 4]))) {
                return Err("scoring table: a pair row's weights are no palette entry".into());
            }
            let word = |v: u32| {
                let (ids, id) = match v & SHADOW {
                    0 => (&word_columns, v as usize),
                    _ => (&shadow_ids, (v & !SHADOW) as usize),
                };
                ids.get(id / 64).is_some_and(|b| b & (1 << (id % 64)) != 0)
            };
            if !(word(key as u32) && word((key >> 32) as u32)) {
                return Err("scoring table: a pair's key is not two words".into());
            }
            keys.push(key);
        }
        if keys.len() == rows {
            return Err("scoring table: no empty pair row".into());
        }
        t.filter = filter_of(&t.slots, keys.into_iter());
        Ok(t)
    }

    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.arena[at..at + 4]);
        u32::from_le_bytes(b)
    }

    /// The 8 bytes at `at`, little endian; `at + 8` must be in the arena.
    #[inline]
    fn u64_at(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.arena[at..at + 8]);
        u64::from_le_bytes(b)
    }

    #[inline]
    fn key(&self, rec: Record) -> &[u8] {
        let start = self.key_start(rec);
        &self.arena[start..start + self.stored_len(rec)]
    }

    /// Where a record's key starts: after its weights offset, column, key
    /// length and a zero.
    #[inline]
    fn key_start(&self, rec: Record) -> usize {
        rec.0 as usize * 8 + 16
    }

    /// The answer for the record or pair row at `at` (in 8-byte units):
    /// its first eight bytes, as a [`Hit`] holds them.
    #[inline]
    fn answer_at(&self, at: u32) -> u64 {
        self.u64_at(at as usize * 8)
    }

    /// The answer for a word's slot value (a token's record, or a shadow
    /// word's, marked [`SHADOW`]): its record's first eight bytes.
    #[inline]
    fn slot_answer(&self, value: u32) -> u64 {
        self.answer_at(value & !SHADOW)
    }

    /// The column of a found token.
    #[inline]
    pub fn column(&self, hit: Hit) -> u32 {
        Hit::column_of(hit.0)
    }

    /// Adds `times` times a found token's weights to `sums` (one per
    /// component). The scorer passes 1, or with presence counting 0 for a
    /// repeat: a product rather than a branch, as a repeat is about as
    /// likely as not. `1.0 * w` and `0.0 * w` are exact, so the sums are
    /// those of adding the weights or skipping them.
    #[inline]
    pub fn add_weights(&self, hit: Hit, sums: &mut [f64], times: f64) {
        let start = hit.weights_at() * 8;
        let ws = &self.arena[start..start + 8 * self.k];
        for (s, w) in sums.iter_mut().zip(ws.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            *s += times * f64::from_le_bytes(b);
        }
    }

    /// A found token's `K` weights, `K` being the table's weights a token
    /// (as [`ScoreTable::weights_per_token`] says): read at offsets known
    /// when compiling, so that a scorer for `K` components keeps its sums
    /// in registers.
    #[inline]
    pub(crate) fn weights<const K: usize>(&self, hit: Hit) -> [f64; K] {
        debug_assert_eq!(K, self.k);
        let start = hit.weights_at() * 8;
        let mut out = [0.0; K];
        for (o, w) in out
            .iter_mut()
            .zip(self.arena[start..start + 8 * K].chunks_exact(8))
        {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            *o = f64::from_le_bytes(b);
        }
        out
    }

    /// How many weights a token has: one per component.
    pub fn weights_per_token(&self) -> usize {
        self.k
    }

    /// Whether the filter lets a token with this tag on to the slots.
    #[inline]
    fn filter_passes(&self, tag: u32) -> bool {
        let b = (tag & ((1 << FILTER_BITS) - 1)) as usize;
        self.filter[b / 64] & (1 << (b % 64)) != 0
    }

    /// The slot value (a record, with [`SHADOW`] for a shadow word's)
    /// under `h` whose record `is_it`.
    #[inline]
    fn probe_hit(&self, h: u64, is_it: impl Fn(Record) -> bool) -> Option<u32> {
        let tag = (h >> 32) as u32;
        if !self.filter_passes(tag) {
            return None;
        }
        self.probe_from(h as usize, tag, is_it)
    }

    /// The slot value with `tag` whose record `is_it`, probing from slot
    /// `i` (masked).
    #[inline]
    fn probe_from(&self, i: usize, tag: u32, is_it: impl Fn(Record) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = i & mask;
        loop {
            let s = self.slots[i];
            if s.record == EMPTY {
                return None;
            }
            if s.tag == tag && is_it(Record(s.record & !SHADOW)) {
                return Some(s.record);
            }
            i = (i + 1) & mask;
        }
    }

    /// A record's key length.
    #[inline]
    fn stored_len(&self, rec: Record) -> usize {
        self.u32_at(rec.0 as usize * 8 + 8) as usize
    }

    /// The slot value of the word `w`: a token's, or a shadow word's.
    fn word_slot(&self, w: &[u8]) -> Option<u32> {
        self.word_value(hash_bytes(w), w, head8(w))
    }

    /// The column of the word `w`: a token's, or a shadow word's id.
    fn word_column(&self, w: &[u8]) -> Option<u32> {
        self.word_slot(w)
            .map(|v| Hit::column_of(self.slot_answer(v)))
    }

    /// [`ScoreTable::word_slot`] of a word whose hash ([`hash_word`]) and
    /// [`crate::tokenize::head8`] are known.
    #[inline]
    fn word_value(&self, h: u64, w: &[u8], head: u64) -> Option<u32> {
        self.probe_hit(h, |hit| self.is_word(hit, w, head))
    }

    /// The answer for the pair with this [`pair_key`], past the filter;
    /// `None` if absent.
    #[inline]
    fn find_pair(&self, key: u64) -> Option<u64> {
        let h = pair_hash(key);
        if !self.filter_passes((h >> 32) as u32) {
            return None;
        }
        Some(self.pair_answer(h as usize, key)).filter(|&r| r != NONE)
    }

    /// The answer for the pair with key `key`, probing from row `i`
    /// (masked), or [`NONE`]: [`ScoreTable::pair_row`]'s first eight bytes.
    #[inline]
    fn pair_answer(&self, i: usize, key: u64) -> u64 {
        match self.pair_row(i, key) {
            EMPTY => NONE,
            at => self.answer_at(at),
        }
    }

    /// Prefetches row `i` (masked).
    #[inline(always)]
    fn prefetch_row(&self, i: usize) {
        let at = 8 * (self.rows + (i & self.row_mask) * ROW);
        if let Some(b) = self.arena.get(at) {
            prefetch(b);
        }
    }

    /// The row of the pair with key `key`, probing from row `i` (masked):
    /// its offset in the arena in 8-byte units, or [`EMPTY`]. A table that
    /// loaded has an empty row, where every probe ends.
    #[inline]
    fn pair_row(&self, i: usize, key: u64) -> u32 {
        let mut i = i & self.row_mask;
        loop {
            let at = self.rows + i * ROW;
            let stored = self.u64_at(8 * (at + ROW - 1));
            if stored == key {
                return at as u32;
            }
            if stored == NO_PAIR {
                return EMPTY;
            }
            i = (i + 1) & self.row_mask;
        }
    }

    /// Any token (a shadow word is none).
    pub fn get(&self, token: &str) -> Option<Hit> {
        let found = match as_pair(token) {
            Some((l, r)) => self.find_pair(pair_key(
                self.word_column(l.as_bytes())?,
                self.word_column(r.as_bytes())?,
            )),
            None => self
                .word_slot(token.as_bytes())
                .map(|v| self.slot_answer(v)),
        };
        found.filter(|&a| Hit::column_of(a) < SHADOW).map(Hit)
    }

    /// A word (no space) whose [`hash_bytes`] is `h` and
    /// [`crate::tokenize::head8`] is `head` (a shadow word is none).
    #[inline]
    pub fn word(&self, h: u64, word: &str, head: u64) -> Option<Hit> {
        self.word_value(h, word.as_bytes(), head)
            .filter(|&v| v & SHADOW == 0)
            .map(|v| Hit(self.slot_answer(v)))
    }

    /// Whether the record `rec` is the word `w` with
    /// [`crate::tokenize::head8`] `head`. A word of up to eight bytes is compared as one integer: a
    /// record's key is zero-padded to eight bytes, so its first eight are
    /// the stored word's `head8`.
    #[inline]
    fn is_word(&self, rec: Record, w: &[u8], head: u64) -> bool {
        if (1..=8).contains(&w.len()) {
            (self.stored_len(rec) == w.len()) & (self.u64_at(self.key_start(rec)) == head)
        } else {
            self.stored_len(rec) == w.len() && self.key(rec) == w
        }
    }
}

/// The tokens of the pieces of one text ([`crate::tokenize::Piece`]),
/// found one at a time: for a caller that needs each token's [`Hit`] as it
/// comes (an explanation credits each to its sentence), where the scorer
/// asks in batches ([`Lookups`]). A word is found by its bytes and
/// [`crate::tokenize::head8`], as [`ScoreTable::word`] finds it, and a
/// pair by its two words' columns (see the module docs), never by
/// spelling `"left right"` out. It answers as [`ScoreTable::get`] of the
/// piece's token string does (tested).
#[derive(Clone, Debug)]
pub struct PieceLookups {
    /// The table's entry for each cue, found once.
    cues: [Option<Hit>; Cue::ALL.len()],
    /// The columns of the last two words (the earlier first): a token's,
    /// a shadow word's id, or [`EMPTY`].
    words: [u32; 2],
    /// The [`ScoreTable::id`] of the table the cues and words are from.
    table: u64,
}

impl PieceLookups {
    /// For pieces of texts to be found in `table`.
    pub fn new(table: &ScoreTable) -> PieceLookups {
        PieceLookups {
            cues: Cue::ALL.map(|c| table.get(c.as_str())),
            words: [EMPTY; 2],
            table: table.id,
        }
    }

    /// The record of `piece` in `table`, if the piece is a token of it.
    /// Every [`Piece::Word`] must come here, in order, for the pairs to be
    /// found: a pair is the last two words asked (the tokenizer gives a
    /// text's first pair after its first two words, so nothing of the text
    /// before is left by then). Given another table than the last, it
    /// finds the cues again and forgets the words.
    #[inline]
    pub fn find(&mut self, table: &ScoreTable, piece: Piece<'_>) -> Option<Hit> {
        if self.table != table.id {
            *self = PieceLookups::new(table);
        }
        let found = match piece {
            Piece::Cue(c) => return self.cues[c as usize],
            Piece::Word(w, head) => {
                let a = table
                    .word_value(hash_word(w.as_bytes(), head), w.as_bytes(), head)
                    .map_or(NONE, |v| table.slot_answer(v));
                self.words = [self.words[1], Hit::column_of(a)];
                a
            }
            Piece::Pair(..) => match self.words {
                [l, r] if l != EMPTY && r != EMPTY => {
                    table.find_pair(pair_key(l, r)).unwrap_or(NONE)
                }
                _ => NONE,
            },
        };
        (Hit::column_of(found) < SHADOW).then_some(Hit(found))
    }
}

/// Asks the cache for the line holding `p`, without waiting for it. A
/// hint: it never faults and changes no value, whatever the address.
#[inline(always)]
fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `p` is a reference, and a prefetch reads nothing the program
    // sees; SSE, which `_mm_prefetch` needs, is part of x86_64.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((p as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Keys waiting in a [`Lookups`] batch before the table is read. Most
/// words are answered by the memo (nine in ten in news articles: on the
/// 2 MB article CSV of BENCHMARKS.md, callgrind counts 30,438 of 321,748
/// words going on to the table), so
/// only a few keys of a batch, most of them pairs, go on to the slots:
/// 128 left too little between a slot's prefetch and its read. On 50 MB
/// of articles, one thread, 256 took 4.7% less user time than 128 (11
/// alternating runs, `benches/ab_time.py`); 512 and 1024 were no faster
/// than 256.
const BATCH: usize = 256;

/// The top bit of a long [`Part`]'s `word`: its bytes are in the copies.
const COPIED: u64 = 1 << 63;

/// A waiting word. One of up to eight bytes (most words) is kept as its
/// [`crate::tokenize::head8`] and compared as that one integer, its bytes
/// never read again; a longer one by where its bytes are: in the text being
/// scored, or copied (a folded word lives in a buffer the tokenizer reuses
/// at once).
#[derive(Clone, Copy, Debug)]
struct Part {
    /// The head, or the start of the bytes (`| COPIED` when copied).
    word: u64,
    len: usize,
}

impl Part {
    /// The bytes of a long part, from `text` or from `copies`; none if
    /// `text` is not the text the part was taken from and is too short for
    /// it (see [`Lookups::finish`]).
    #[inline]
    fn bytes<'a>(self, text: &'a str, copies: &'a [u8]) -> &'a [u8] {
        let from = if self.word & COPIED != 0 {
            copies
        } else {
            text.as_bytes()
        };
        let start = (self.word & !COPIED) as usize;
        from.get(start..start.saturating_add(self.len))
            .unwrap_or_default()
    }

    /// Whether the record `rec` is this word: its stored length (never a
    /// pair's) and its key.
    #[inline]
    fn is(self, table: &ScoreTable, rec: Record, text: &str, copies: &[u8]) -> bool {
        if table.stored_len(rec) != self.len {
            return false;
        }
        let at = table.key_start(rec);
        if self.len <= 8 {
            // Keys are zero-padded to eight bytes, as heads are.
            table.u64_at(at) == self.word
        } else {
            table
                .arena
                .get(at..at + self.len)
                .is_some_and(|k| k == self.bytes(text, copies))
        }
    }
}

/// A word waiting for the table.
#[derive(Clone, Copy, Debug)]
struct Ask {
    h: u64,
    word: Part,
    /// Its place among the answers.
    at: usize,
    /// The first slot from `h` holding the key's tag, once probed.
    slot: usize,
}

/// The places among [`Lookups`]'s answers of two words' answers, the left
/// in the low 32 bits and the right in the high 32: one `u64`, so that
/// moving on by a word is one load and one 8-byte store. (As two `u32`s,
/// the word's two 4-byte stores were then read as one 8-byte load by the
/// pair after it, which the CPU cannot forward from two stores: it waited
/// for both to reach the cache, 6.7% of the scorer's samples.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Places(u64);

impl Places {
    /// Before the first word: the two [`CARRIED`] answers.
    const CARRIED: Places = Places(1 << 32);

    /// The left word's place, then the right's.
    #[inline(always)]
    fn get(self) -> [u32; 2] {
        [self.0 as u32, (self.0 >> 32) as u32]
    }

    /// The right word becomes the left, and `at` the right.
    #[inline(always)]
    fn then(self, at: u32) -> Places {
        Places((self.0 >> 32) | (u64::from(at) << 32))
    }
}

/// A pair waiting for its words' answers, then for the table.
#[derive(Clone, Copy, Debug, Default)]
struct PairAsk {
    /// The places of its words' answers, left and right.
    words: Places,
    /// Its place among the answers.
    at: u32,
}

/// The places in [`Lookups`]'s answers before a batch's own: the answers
/// of the last two words of the batch before, which a batch's first pairs
/// may need.
const CARRIED: usize = 2;

/// A pair whose words are both known, on its way through the table.
#[derive(Clone, Copy, Debug, Default)]
struct PairProbe {
    key: u64,
    at: u32,
    /// Its first row (masked when read): the low 32 bits of its hash,
    /// which hold every row index, as a table's rows are fewer than 2^31
    /// (their arena offsets are `u32`s in 8-byte units).
    row: u32,
}

/// Words remembered by [`Lookups`]: a power of two.
const MEMO: usize = 1 << 14;

/// A word of up to eight bytes and its answer, remembered.
#[derive(Clone, Copy, Debug)]
struct Remembered {
    /// Its [`crate::tokenize::head8`], which is the word: its bytes,
    /// zero-padded, and no word holds a zero byte, so the padding gives the
    /// length. [`NOTHING`] where nothing is remembered: eight `0xFF` bytes,
    /// never UTF-8. Never 0, the head of every longer word, so a longer
    /// word is never answered here.
    head: u64,
    /// Its answer: the [`Hit`] of a token, a shadow word's record's first
    /// eight bytes likewise, or [`NONE`] if the table does not hold it.
    answer: u64,
}

/// The head of a memo entry that remembers nothing.
const NOTHING: u64 = u64::MAX;

impl Default for Remembered {
    fn default() -> Self {
        Remembered {
            head: NOTHING,
            answer: NONE,
        }
    }
}

/// Two words of up to eight bytes remembered under one hash value (with
/// its lowest bit cleared), the later first: 32 bytes, aligned so that
/// both are in one cache line, read together. Two ways under `MEMO / 2`
/// values answer more words than one way under `MEMO` in the same bytes,
/// as two words that land together no longer push each other out: over
/// the words of the benchmark's articles (10 MB, split by a regular
/// expression, random hashes), a simulation answered 96.0% of the words
/// of up to eight bytes against 92.7%.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(32))]
struct RememberedTwo([Remembered; 2]);

impl RememberedTwo {
    /// The answer for the word with this head, if remembered: the second
    /// way is read unless the first holds the word, chosen by index, so
    /// the one branch is on whether the way read holds it. (Of a test on
    /// both ways the compiler makes two branches, the first on which way
    /// holds the word, which is hard to predict: 14% to 16% slower.)
    #[inline(always)]
    fn answer(&self, head: u64) -> Option<u64> {
        let e = self.0[usize::from(self.0[0].head != head)];
        (e.head == head).then_some(e.answer)
    }

    /// Remembers `word` first; the word remembered first before moves to
    /// the second way, unless it is this word (asked twice in one batch).
    #[inline]
    fn remember(&mut self, word: Remembered) {
        if self.0[0].head != word.head {
            self.0[1] = self.0[0];
        }
        self.0[0] = word;
    }
}

/// A word of 9 to 16 bytes and its answer, remembered.
#[derive(Clone, Copy, Debug)]
struct RememberedLong {
    /// Its first eight bytes, and the rest zero-padded to eight: no word
    /// holds a zero byte, so the padding gives the length, and together
    /// they are the word. Both 0 where nothing is remembered, which no word
    /// of 9 to 16 bytes has.
    first: u64,
    rest: u64,
    /// As [`Remembered::answer`].
    answer: u64,
}

impl RememberedLong {
    /// `word`'s [`RememberedLong::first`] and [`RememberedLong::rest`], if
    /// it has 9 to 16 bytes: the rest from its last eight bytes, shifted.
    #[inline(always)]
    fn ends(word: &[u8]) -> Option<(u64, u64)> {
        if !(9..=16).contains(&word.len()) {
            return None;
        }
        let first = word.first_chunk::<8>()?;
        let last = word.last_chunk::<8>()?;
        let rest = u64::from_le_bytes(*last) >> (8 * (16 - word.len()));
        Some((u64::from_le_bytes(*first), rest))
    }

    /// Where a word of 9 to 16 bytes with these [`RememberedLong::ends`]
    /// is remembered: from one multiply of what the entry holds, not from
    /// the word's [`hash_bytes`] (a call, and a multiply for each eight
    /// bytes), which a remembered word then never needs.
    #[inline(always)]
    fn index(first: u64, rest: u64) -> usize {
        memo_index(fold_mul(first ^ K1, rest ^ K2))
    }
}

impl Default for RememberedLong {
    fn default() -> Self {
        RememberedLong {
            first: 0,
            rest: 0,
            answer: NONE,
        }
    }
}

/// Where a word of up to eight bytes hashed to `h` is remembered (a longer
/// word's `h` comes from [`RememberedLong::index`]): its top 14 bits (50 to
/// 63), which the slot index (the low bits) never uses and the filter
/// (bits 32 to 51) shares only two of, so that words crowding one slot or
/// one filter bit seldom also crowd one memo entry.
#[inline(always)]
fn memo_index(h: u64) -> usize {
    (h >> 50) as usize & (MEMO - 1)
}

/// Table lookups in batches, answered in the order they were asked.
///
/// One lookup at a time, the scorer waits on two cache misses a token: the
/// slot, then the record (on the machine measured, 70% of the scoring
/// time went to the scoring loop and most of its samples to the loads of
/// a slot or a record). Their addresses are known as soon as the token is
/// hashed, so a batch is read in passes instead: hashes in (the filter
/// word prefetched), then the filter checked and the slots prefetched,
/// then the slots probed and the records prefetched, then the records
/// compared; a word found is its record's first eight bytes from then on
/// (a [`Hit`]), so adding its weights up reads no record. The misses of a
/// whole batch overlap. A pair is asked as "the
/// last two words asked": once its words' answers are in, its
/// `pair_key` goes to its row instead, in two passes (the filter, then
/// the rows probed), since a row's address follows from the hash (a pair
/// with a word the table lacks is none, at once). The answers come out in the
/// order the keys went in, so sums over them add in the same order as one
/// lookup at a time would, to the bit.
///
/// Whether a key passes the filter, or is found, is as likely as not, so
/// the passes keep those answers out of branches: the keys that pass and
/// the records found are gathered into lists by index arithmetic, and
/// later passes walk only those.
#[derive(Debug)]
pub struct Lookups {
    /// The answers for the last words of up to eight bytes asked, two
    /// under each value of their hash's [`memo_index`] halved: `MEMO / 2`
    /// pairs, or none before the first word.
    memo: Vec<RememberedTwo>,
    /// The same for words of 9 to 16 bytes: `MEMO` of them, or none before
    /// the first word.
    memo_long: Vec<RememberedLong>,
    /// The [`ScoreTable::id`] of the table the memo's answers are from (0:
    /// none).
    memo_table: u64,
    asks: Vec<Ask>,
    /// Indices into `asks` of the words that pass the filter, first (the
    /// rest is left from earlier batches; see [`room`]).
    live: Vec<u32>,
    /// The pairs waiting, first ([`Batch::pairs`] of them; the rest is
    /// left from earlier batches).
    pairs: Vec<PairAsk>,
    /// The pairs with both words known that pass the filter, first.
    probes: Vec<PairProbe>,
    /// The [`CARRIED`] answers, then every answer of the batch in order
    /// ([`Batch::answers`] in all; the rest is left from earlier batches):
    /// a [`Hit`]'s value (a shadow word's likewise), or [`NONE`].
    answers: Vec<u64>,
    /// The tokens found, in order, first.
    found: Vec<Hit>,
    /// The bytes of words that are not in the text.
    copies: Vec<u8>,
    /// Keys asked (words, pairs and answers known) in the batches
    /// finished since [`Lookups::take_asked`].
    asked: u64,
}

impl Default for Lookups {
    fn default() -> Self {
        Lookups {
            memo: Vec::new(),
            memo_long: Vec::new(),
            memo_table: 0,
            asks: Vec::new(),
            live: Vec::new(),
            // Room for a full batch and the piece that fills it (two keys
            // at most: a word and its pair), so that the asking never
            // grows them; they grow if asked for more (see `answer`).
            pairs: vec![PairAsk::default(); BATCH + 2],
            probes: Vec::new(),
            // No word asked yet: the pair of the carried answers is none.
            answers: vec![NONE; CARRIED + BATCH + 2],
            found: Vec::new(),
            copies: Vec::new(),
            asked: 0,
        }
    }
}

/// Where a batch of [`Lookups`] stands: how many answers and pairs it
/// holds, and where the last two words' answers are. The caller keeps it,
/// a local value passed to each call, which the compiler keeps in
/// registers or its own stack slots through the tokenizer's loop. (As the
/// lengths of the lookups' vectors, behind a reference, each push stored a
/// length that the next push to the vector loaded again, and checked it
/// against the capacity, also loaded: two pushes of an answer and one of
/// a pair a word. One thread, 100 MB of articles: 3% less user time.)
///
/// [`Lookups::finish`] takes the batch; the keys after it go in a new one
/// ([`Batch::default`]), which starts after the answers it carries.
#[derive(Debug)]
pub struct Batch {
    /// The answers held, the [`CARRIED`] included: the next one's place.
    answers: usize,
    /// The pairs waiting.
    pairs: usize,
    /// The places among the answers of the words asked before last and
    /// last: a pair's left and right.
    words: Places,
}

impl Default for Batch {
    /// A batch of no keys yet: a pair asked now is of the answers carried
    /// from the batch before (none before the first word).
    fn default() -> Batch {
        Batch {
            answers: CARRIED,
            pairs: 0,
            words: Places::CARRIED,
        }
    }
}

impl Batch {
    /// Whether the batch is full: time to [`Lookups::finish`] it.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.answers >= CARRIED + BATCH
    }
}

impl Lookups {
    /// Puts `value` in the batch's next answer.
    #[inline(always)]
    fn answer(&mut self, batch: &mut Batch, value: u64) {
        put(&mut self.answers, batch.answers, value);
        batch.answers += 1;
    }

    /// `s`, whose [`crate::tokenize::head8`] is `head`, as a waiting word:
    /// if long, where it lies in `text`, or else copied.
    #[inline]
    fn part(&mut self, text: &str, s: &str, head: u64) -> Part {
        if s.len() <= 8 {
            return Part {
                word: head,
                len: s.len(),
            };
        }
        let (t, p) = (text.as_ptr() as usize, s.as_ptr() as usize);
        let word = if p >= t && p + s.len() <= t + text.len() {
            (p - t) as u64
        } else {
            let start = self.copies.len() as u64 | COPIED;
            self.copies.extend_from_slice(s.as_bytes());
            start
        };
        Part { word, len: s.len() }
    }

    /// Asks for the word `word` of `text` (or a folded copy of one) in
    /// `batch`, as [`ScoreTable::word`] does; `head` must be its
    /// [`crate::tokenize::head8`].
    ///
    /// Most words of a text are among a few thousand (`the`, `said`,
    /// `president`, ..), so the answers for words of up to 16 bytes, found
    /// or not, are remembered between batches and texts, two words of up to
    /// eight bytes under each of `MEMO / 2` hash values and one longer
    /// word under each of `MEMO`: a remembered word is answered here,
    /// without the filter, the slots or a comparison with its record. A
    /// word is remembered by all its bytes (up to eight, its head; longer,
    /// its first eight and the rest zero-padded), so two words under one
    /// hash each get their own answer.
    /// A word of up to eight bytes is remembered under its [`hash_word`]
    /// (one multiply of its head), a longer one under
    /// `RememberedLong::index`: its [`hash_bytes`] is worked out only
    /// when the table is asked. Answers from one table are never given for
    /// another.
    #[inline(always)]
    pub fn word(
        &mut self,
        batch: &mut Batch,
        table: &ScoreTable,
        text: &str,
        word: &str,
        head: u64,
    ) {
        self.memo_for(table);
        // Where the answer will be, found in the memo or not: a pair then
        // reads both words' answers the same way, without a branch on the
        // memo's hits and misses (a batch's first pairs may read the
        // answers carried from the batch before).
        batch.words = batch.words.then(batch.answers as u32);
        debug_assert_eq!(head, head8(word.as_bytes()));
        let h = if word.len() <= 8 {
            let h = hash_word(word.as_bytes(), head);
            if let Some(e) = self.memo.get(memo_index(h) / 2) {
                if let Some(answer) = e.answer(head) {
                    self.answer(batch, answer);
                    return;
                }
            }
            h
        } else {
            // Longer words: one in nine in news text.
            if let Some((first, rest)) = RememberedLong::ends(word.as_bytes()) {
                let i = RememberedLong::index(first, rest);
                if let Some(e) = self.memo_long.get(i) {
                    if e.first == first && e.rest == rest {
                        let answer = e.answer;
                        self.answer(batch, answer);
                        return;
                    }
                }
            }
            hash_bytes(word.as_bytes())
        };
        self.ask(batch, table, text, h, word, head);
    }

    /// Queues the word `word` (as [`Lookups::word`]) for the table, under
    /// the hash `h`, which must be its [`hash_word`] for it to be found:
    /// the memo is not read, and is written when the batch is finished.
    #[inline(always)]
    fn ask(
        &mut self,
        batch: &mut Batch,
        table: &ScoreTable,
        text: &str,
        h: u64,
        word: &str,
        head: u64,
    ) {
        let at = batch.answers;
        let word = self.part(text, word, head);
        let b = ((h >> 32) as u32 & ((1 << FILTER_BITS) - 1)) as usize;
        prefetch(&table.filter[b / 64]);
        self.asks.push(Ask {
            h,
            word,
            at,
            slot: 0,
        });
        self.answer(batch, NONE);
    }

    /// Empties the memo if its answers are not `table`'s.
    #[inline(always)]
    fn memo_for(&mut self, table: &ScoreTable) {
        if self.memo_table != table.id {
            self.forget(table.id);
        }
    }

    /// Empties the memo, for the table `id`: once per scorer.
    #[cold]
    #[inline(never)]
    fn forget(&mut self, id: u64) {
        self.memo.clear();
        self.memo.resize(MEMO / 2, RememberedTwo::default());
        self.memo_long.clear();
        self.memo_long.resize(MEMO, RememberedLong::default());
        self.memo_table = id;
    }

    /// Asks for the pair of the last two words asked with
    /// [`Lookups::word`] (of the same table), the earlier one on the left,
    /// as [`ScoreTable::get`] of `"left right"` would find it. With fewer
    /// than two words asked, it is none.
    #[inline(always)]
    pub fn pair(&mut self, batch: &mut Batch) {
        let ask = PairAsk {
            words: batch.words,
            at: batch.answers as u32,
        };
        put(&mut self.pairs, batch.pairs, ask);
        batch.pairs += 1;
        self.answer(batch, NONE);
    }

    /// The number of keys asked (a word, a pair or an answer known: a
    /// token each) in the batches finished since the last call; counted a
    /// batch at a time, not a key at a time in the tokenizer's loop.
    pub fn take_asked(&mut self) -> u64 {
        std::mem::take(&mut self.asked)
    }

    /// Queues an answer known already, to come out in its turn.
    #[inline]
    pub fn known(&mut self, batch: &mut Batch, hit: Option<Hit>) {
        self.answer(batch, hit.map_or(NONE, |h| h.0));
    }

    /// The tokens found for the keys of `batch` (from `text`), in the
    /// order asked (the keys not found leave no gap). `text` must be the
    /// text the words were asked from: given another, words are compared
    /// with whatever bytes lie at their places, if any. The keys after
    /// these go in a new batch ([`Batch::default`]): the answers of this
    /// one's last two words are carried to it for its first pairs.
    pub fn finish(&mut self, batch: Batch, table: &ScoreTable, text: &str) -> &[Hit] {
        let mask = table.slots.len() - 1;
        // The words that pass the filter, and their first slots prefetched
        // (slot 0, always cached, for the rest).
        let live = room(&mut self.live, self.asks.len(), 0);
        let mut n = 0;
        for (i, a) in self.asks.iter_mut().enumerate() {
            let pass = usize::from(table.filter_passes((a.h >> 32) as u32));
            a.slot = a.h as usize & mask & pass.wrapping_neg();
            prefetch(&table.slots[a.slot]);
            if let Some(l) = live.get_mut(n) {
                *l = i as u32;
            }
            n += pass;
        }
        let live = live.get(..n).unwrap_or_default();
        // Their slots probed up to the tag, and those records prefetched.
        for &i in live {
            let a = &mut self.asks[i as usize];
            a.slot = table.probe_to_tag(a.slot, (a.h >> 32) as u32);
        }
        // Their records compared.
        let copies = &self.copies[..];
        for &i in live {
            let a = self.asks[i as usize];
            let found = table.probe_from(a.slot, (a.h >> 32) as u32, |rec| {
                a.word.is(table, rec, text, copies)
            });
            self.answers[a.at] = found.map_or(NONE, |v| table.slot_answer(v));
        }
        // The answers of words of up to 16 bytes remembered, the found and
        // the not found, if the memo is this table's.
        if self.memo_table == table.id {
            for a in &self.asks {
                let answer = self.answers[a.at];
                if let (1..=8, Some(e)) = (a.word.len, self.memo.get_mut(memo_index(a.h) / 2)) {
                    e.remember(Remembered {
                        head: a.word.word,
                        answer,
                    });
                } else if let Some((first, rest)) = RememberedLong::ends(a.word.bytes(text, copies))
                {
                    let i = RememberedLong::index(first, rest);
                    let Some(e) = self.memo_long.get_mut(i) else {
                        continue;
                    };
                    *e = RememberedLong {
                        first,
                        rest,
                        answer,
                    };
                }
            }
        }
        // The pairs with both words found (tokens or shadows) whose key
        // passes the filter, their first rows prefetched (row 0 for the
        // rest, as for the words' slots), then probed. Without the
        // prefetch, the load of a pair's first row took 38% of this
        // function's samples on a Zen 4 host (32 KB L1) and the whole run
        // 11% to 15% more user time (100 MB of articles, one thread, 11
        // and 15 alternating runs); on an earlier host with 48 KB of L1,
        // a `prefetchnta` of the same row measured within noise.
        // Slices, not the vectors: the loops below then keep their
        // pointers and lengths in registers, where stores through the
        // vectors made them reload both from `self` at every element.
        let pairs = self.pairs.get(..batch.pairs).unwrap_or_default();
        let probes = room(&mut self.probes, pairs.len(), PairProbe::default());
        let answers = self.answers.get_mut(..batch.answers).unwrap_or_default();
        let mut n = 0;
        for p in pairs {
            let value = |i: u32| Hit::column_of(answers.get(i as usize).copied().unwrap_or(NONE));
            let [l, r] = p.words.get().map(value);
            let key = pair_key(l, r);
            let h = pair_hash(key);
            let both = (l != EMPTY) & (r != EMPTY);
            let pass = usize::from(both & table.filter_passes((h >> 32) as u32));
            table.prefetch_row(h as usize & pass.wrapping_neg());
            if let Some(probe) = probes.get_mut(n) {
                *probe = PairProbe {
                    key,
                    at: p.at,
                    row: h as u32,
                };
            }
            n += pass;
        }
        for p in probes.get(..n).unwrap_or_default() {
            if let Some(a) = answers.get_mut(p.at as usize) {
                *a = table.pair_answer(p.row as usize, p.key);
            }
        }
        // The tokens found, in order: shadow words and `NONE` are none.
        let answers = answers.get(CARRIED..).unwrap_or_default();
        self.asked += answers.len() as u64;
        let found = room(&mut self.found, answers.len(), Hit(0));
        let mut n = 0;
        for &r in answers {
            if let Some(f) = found.get_mut(n) {
                *f = Hit(r);
            }
            n += usize::from(Hit::column_of(r) < SHADOW);
        }
        let found_n = n;
        // The last two words' answers carried to the next batch's first
        // pairs.
        let carried = batch
            .words
            .get()
            .map(|i| self.answers.get(i as usize).copied().unwrap_or(NONE));
        if let Some(c) = self.answers.get_mut(..CARRIED) {
            c.copy_from_slice(&carried);
        }
        self.asks.clear();
        self.copies.clear();
        self.found.get(..found_n).unwrap_or_default()
    }
}

/// Puts `value` at `at` in `v`, which a batch fills in order (so `at` is
/// at most its length): in the room it keeps, or grown by one for a
/// caller that asks past a full batch.
#[inline(always)]
fn put<T: Copy>(v: &mut Vec<T>, at: usize, value: T) {
    match v.get_mut(at) {
        Some(x) => *x = value,
        None => grow_to(v, at, value),
    }
}

/// `v` grown to hold `value` at `at` (and at any place before it past its
/// length): out of the asking loop.
#[cold]
#[inline(never)]
fn grow_to<T: Copy>(v: &mut Vec<T>, at: usize, value: T) {
    v.resize(at + 1, value);
}

/// The first `len` elements of `v`, grown to hold them (with `fill`) but
/// never shrunk: a batch's working vectors keep their length from one
/// batch to the next, so that making room for a batch writes no memory.
/// (Truncated at the end of each batch and resized at the start of the
/// next, they were filled again every batch: `memset` took 0.5% of the
/// scoring time on 100 MB of articles, 1.9% on 10 MB.)
#[inline]
fn room<T: Copy>(v: &mut Vec<T>, len: usize, fill: T) -> &mut [T] {
    if v.len() < len {
        v.resize(len, fill);
    }
    v.get_mut(..len).unwrap_or_default()
}

impl ScoreTable {
    /// The first slot from `i` that is empty or holds `tag`, with the
    /// record it points at prefetched: its head and, for a record that
    /// crosses into the next line, the rest of its first 64 bytes.
    #[inline]
    fn probe_to_tag(&self, mut i: usize, tag: u32) -> usize {
        let mask = self.slots.len() - 1;
        loop {
            let s = self.slots[i];
            if s.record == EMPTY || s.tag == tag {
                let at = (s.record & !SHADOW) as usize * 8;
                for b in [at, at + 63] {
                    if let Some(b) = self.arena.get(b) {
                        prefetch(b);
                    }
                }
                return i;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(tokens: &[String]) -> ScoreTable {
        let k = 2;
        let weights: Vec<f64> = (0..tokens.len() * k).map(|i| i as f64 * 0.5).collect();
        // Reverse order: records need not follow columns.
        let order: Vec<u32> = (0..tokens.len() as u32).rev().collect();
        ScoreTable::new(tokens, &weights, k, &order)
    }

    /// `n` tokens: word `w{i}` for `i` a multiple of 3, the pair of it and
    /// the next word after it, then `third(i)`.
    fn words_pairs_and(n: usize, third: impl Fn(usize) -> String) -> Vec<String> {
        (0..n)
            .map(|i| match i % 3 {
                0 => format!("w{i}"),
                1 => format!("w{} w{}", i - 1, i),
                _ => third(i),
            })
            .collect()
    }

    #[test]
    fn seen_columns_count_each_column_once_per_text_for_any_number_of_texts() {
        let mut seen = SeenColumns::new(1_000);
        // 600 texts: the stamps wrap twice and must forget every column
        // each time, as at every new text.
        for text in 0..600u32 {
            seen.next_text();
            let cols: Vec<u32> = (0..50).map(|i| (i * 7 + text) % 1_000).collect();
            for &c in &cols {
                assert!(seen.insert(c), "text {text}: {c} is new");
            }
            for &c in &cols {
                assert!(!seen.insert(c), "text {text}: {c} was counted");
            }
        }
        assert!(seen.insert(1_000), "out of range counts, never panics");
    }

    #[test]
    fn finds_every_token_with_its_weights_and_nothing_else() {
        let tokens = words_pairs_and(5000, |i| format!("<c{i}>"));
        let t = table(&tokens);
        for (j, tok) in tokens.iter().enumerate() {
            let hit = t.get(tok).unwrap_or_else(|| panic!("{tok} not found"));
            assert_eq!(t.column(hit), j as u32);
            let mut sums = [1.0, 1.0];
            t.add_weights(hit, &mut sums, 1.0);
            assert_eq!(sums, [1.0 + j as f64, 1.5 + j as f64]);
        }
        // "w1" is a shadow word (a word of the pair "w0 w1", no token).
        for tok in [
            "", "w", "w1", "w1 ", " w1", "w0 w1 w2", "w5001", "w0  w1", "w1 w0",
        ] {
            assert_eq!(t.get(tok), None, "{tok:?}");
        }
        // Words from their hash and head8, as the scorer looks them up:
        // short words are compared as one integer, longer ones byte by byte.
        let word = |w: &str, as_if: &str| {
            let head = crate::tokenize::head8(w.as_bytes());
            t.word(hash_word(as_if.as_bytes(), head), w, head)
                .map(|x| t.column(x))
        };
        for (j, tok) in tokens.iter().enumerate().step_by(3) {
            assert_eq!(word(tok, tok), Some(j as u32), "{tok}");
        }
        for w in [
            "w",
            "w1",
            "w5001",
            "w30000",
            "w3000000",
            "w30000000",
            "w0 w1",
            "<c3>",
        ] {
            assert_eq!(word(w, w), None, "{w:?}");
        }
        // A word under the hash of another (as a hash collision would put
        // it) is told apart by its bytes: same length, prefix, longer.
        for (w, as_if) in [("w4", "w3"), ("w", "w3"), ("w30", "w3"), ("w3000000", "w3")] {
            assert_eq!(word(w, as_if), None, "{w:?} as if {as_if:?}");
        }
    }

    #[test]
    fn batched_lookups_answer_in_order_as_one_at_a_time() {
        // Long words, and pairs with a long word on the left or the right;
        // the right words of "w0 w1", "w3 w4", .. and both words of
        // "longer-than-eight-5 w5", .. are shadow words.
        let long = |i: usize| format!("longer-than-eight-{i}");
        let tokens = words_pairs_and(3000, |i| match i % 12 {
            5 => format!("{} w{i}", long(i)),
            11 => format!("w{i} {}", long(i)),
            _ => long(i),
        });
        let t = table(&tokens);
        // Words in the text and folded copies outside it, short and long;
        // pairs of them; known answers, absent keys, and a word asked
        // under another word's hash (as a collision would put it): over
        // several batches, which end anywhere, between a pair's words too.
        let text: String = (0..1000).map(|i| format!("w{i} {} ", long(i))).collect();
        let mut folded = String::new();
        let mut asked = Vec::new();
        let mut want = Vec::new();
        let mut lookups = Lookups::default();
        let mut batch = Batch::default();
        let mut got: Vec<Hit> = Vec::new();
        let head = |s: &str| crate::tokenize::head8(s.as_bytes());
        let h = |s: &str| hash_word(s.as_bytes(), head(s));
        // Before any word, a pair is none.
        lookups.pair(&mut batch);
        asked.push("a pair before any word".to_string());
        want.push(None);
        for i in 0..1000usize {
            let w = format!("w{i}");
            let at = text.find(&format!("{w} ")).unwrap();
            let in_text = &text[at..at + w.len()];
            let long_at = at + w.len() + 1;
            let lt = &text[long_at..long_at + long(i).len()];
            folded.clear();
            folded.push_str(&long(i));
            let prev = format!("w{}", i.saturating_sub(1));
            let mut ask =
                |lookups: &mut Lookups, batch: &mut Batch, what: String, hit: Option<Hit>| {
                    asked.push(what);
                    want.push(hit);
                    if batch.is_full() {
                        got.extend_from_slice(lookups.finish(std::mem::take(batch), &t, &text));
                    }
                };
            let word = |lookups: &mut Lookups, batch: &mut Batch, s: &str| {
                lookups.word(batch, &t, &text, s, head(s));
                t.get(s)
            };
            let hit = word(&mut lookups, &mut batch, in_text);
            ask(&mut lookups, &mut batch, "w in the text".into(), hit);
            let hit = word(&mut lookups, &mut batch, &folded);
            ask(&mut lookups, &mut batch, "long folded".into(), hit);
            let hit = word(&mut lookups, &mut batch, lt);
            ask(&mut lookups, &mut batch, "long in the text".into(), hit);
            // A long left word from the text.
            let hit = word(&mut lookups, &mut batch, in_text);
            ask(&mut lookups, &mut batch, "w in the text".into(), hit);
            lookups.pair(&mut batch);
            ask(
                &mut lookups,
                &mut batch,
                format!("pair {lt} {w}"),
                t.get(&format!("{lt} {w}")),
            );
            let hit = word(&mut lookups, &mut batch, &prev);
            ask(&mut lookups, &mut batch, "the w before".into(), hit);
            let hit = word(&mut lookups, &mut batch, in_text);
            ask(&mut lookups, &mut batch, "w in the text".into(), hit);
            lookups.pair(&mut batch);
            ask(
                &mut lookups,
                &mut batch,
                format!("pair {prev} {w}"),
                t.get(&format!("{prev} {w}")),
            );
            // A long right word, copied.
            let hit = word(&mut lookups, &mut batch, &folded);
            ask(&mut lookups, &mut batch, "long folded".into(), hit);
            lookups.pair(&mut batch);
            let pair = format!("{w} {folded}");
            ask(
                &mut lookups,
                &mut batch,
                format!("pair {pair}"),
                t.get(&pair),
            );
            lookups.known(&mut batch, Some(Hit(i as u64)));
            ask(
                &mut lookups,
                &mut batch,
                "known".into(),
                Some(Hit(i as u64)),
            );
            let other = format!("w{}", (i + 3) % 3000);
            lookups.ask(&mut batch, &t, &text, h(&other), in_text, head(in_text));
            ask(&mut lookups, &mut batch, format!("{w} as {other}"), None);
        }
        got.extend_from_slice(lookups.finish(batch, &t, &text));
        let found: Vec<(&String, Hit)> = asked
            .iter()
            .zip(&want)
            .filter_map(|(what, hit)| Some((what, (*hit)?)))
            .collect();
        // Pairs "w0 w1", "w3 w4", ..; long pairs 5, 17, .. and 11, 23, ..
        let pairs = found
            .iter()
            .filter(|(what, _)| what.starts_with("pair "))
            .count();
        assert_eq!(pairs, 333 + 83 + 83);
        // Words w0, w3, .. three times in their round and once as the word
        // before in the next (w0 in rounds 0 and 1), long words 2, 8, 14,
        // .. three times (copied twice, in the text once), and every known
        // answer.
        assert_eq!(found.len(), 4 * 334 + 3 * 167 + pairs + 1000);
        assert_eq!(got.len(), found.len());
        for (got, (what, want)) in got.iter().zip(&found) {
            assert_eq!(got, want, "{what}");
        }
        assert!(lookups.finish(Batch::default(), &t, &text).is_empty());
    }

    #[test]
    fn a_batch_asked_past_its_room_still_answers_every_key_in_order() {
        // A caller that never checks `Batch::is_full`: keys past the room
        // of a full batch, words (from the table, then from the memo),
        // pairs and known answers, are answered all the same.
        let tokens = words_pairs_and(3000, |i| format!("<c{i}>"));
        let t = table(&tokens);
        let text: String = (0..2999).map(|i| format!("w{i} ")).collect();
        let mut lookups = Lookups::default();
        for round in 0..2 {
            let mut batch = Batch::default();
            let mut want = Vec::new();
            let mut prev: Option<&str> = None;
            for w in text.split_whitespace() {
                lookups.word(&mut batch, &t, &text, w, head8(w.as_bytes()));
                want.extend(t.get(w));
                if let Some(p) = prev {
                    lookups.pair(&mut batch);
                    want.extend(t.get(&format!("{p} {w}")));
                }
                prev = Some(w);
            }
            lookups.known(&mut batch, Some(Hit(7)));
            want.push(Hit(7));
            assert!(batch.answers > 10 * BATCH);
            let got = lookups.finish(batch, &t, &text).to_vec();
            // Words w0, w3, .. and the pairs "w0 w1", "w3 w4", ..
            assert_eq!(want.len(), 2001);
            assert_eq!(got, want, "round {round}");
        }
        // The next batch carries on from the last two words: their pair,
        // and none of the earlier batch's answers.
        let mut batch = Batch::default();
        lookups.pair(&mut batch);
        let got = lookups.finish(batch, &t, &text).to_vec();
        assert_eq!(got, [t.get("w2997 w2998").unwrap()]);
    }

    #[test]
    fn pieces_are_found_in_the_table_they_are_asked_of() {
        // "<quote>" and the pair "a b" in the first table only; "b" at a
        // different record in each.
        let t1 = table(&["<quote>".into(), "a".into(), "b".into(), "a b".into()]);
        let t2 = table(&["b".into(), "x".into(), "a".into()]);
        let word = |w: &'static str| Piece::Word(w, head8(w.as_bytes()));
        let mut lookups = PieceLookups::new(&t1);
        for (t, other) in [(&t1, &t2), (&t2, &t1), (&t1, &t2)] {
            assert_eq!(lookups.find(t, Piece::Cue(Cue::Quote)), t.get("<quote>"));
            assert_eq!(lookups.find(t, word("a")), t.get("a"));
            // The first word of a table's text, after words asked of the
            // other: the pair is of this table's words only.
            assert_eq!(lookups.find(other, word("a")), other.get("a"));
            assert_eq!(lookups.find(t, word("b")), t.get("b"));
            assert_eq!(lookups.find(t, Piece::Pair("", "")), None);
            assert_eq!(lookups.find(t, word("a")), t.get("a"));
            assert_eq!(lookups.find(t, word("b")), t.get("b"));
            assert_eq!(lookups.find(t, Piece::Pair("a", "b")), t.get("a b"));
        }
        assert!(t1.get("a b").is_some() && t1.get("<quote>").is_some());
        assert!(t2.get("<quote>").is_none());
    }

    #[test]
    fn remembered_words_are_answered_for_their_own_table_only() {
        // Two tables that disagree: "wow" and the long words
        // "international" and "internationalisation" (too long for the
        // memo) only in the first, "said" at different records, "area" and
        // another long word in neither.
        let t1 = table(&[
            "said".into(),
            "wow".into(),
            "man".into(),
            "international".into(),
            "internationalisation".into(),
        ]);
        let t2 = table(&["man".into(), "x".into(), "said".into()]);
        let text = "said wow area man international nationalisation internationalisation";
        let mut lookups = Lookups::default();
        let mut ask = |t: &ScoreTable, times: usize| {
            let mut got = Vec::new();
            let mut batch = Batch::default();
            for _ in 0..times {
                for w in text.split(' ') {
                    let head = crate::tokenize::head8(w.as_bytes());
                    lookups.word(&mut batch, t, text, w, head);
                    if batch.is_full() {
                        let hits = lookups.finish(std::mem::take(&mut batch), t, text);
                        got.extend(hits.iter().map(|&h| t.column(h)));
                    }
                }
            }
            let hits = lookups.finish(batch, t, text);
            got.extend(hits.iter().map(|&h| t.column(h)));
            got
        };
        let (once1, once2) = ([0, 1, 2, 3, 4], [2, 0]);
        // Asked again and again (remembered after the first batch), in
        // turns between the tables, and from a clone: always the asked
        // table's answers.
        for t in [&t1, &t2, &t1, &t1.clone(), &t2] {
            let want: &[u32] = if *t == t1 { &once1 } else { &once2 };
            let got = ask(t, 100);
            assert_eq!(got.len(), 100 * want.len());
            for chunk in got.chunks(want.len()) {
                assert_eq!(chunk, want);
            }
        }
    }

    #[test]
    fn two_words_under_one_memo_value_are_both_remembered() {
        let head = |w: &str| head8(w.as_bytes());
        let word = |w: &str, answer: u64| Remembered {
            head: head(w),
            answer,
        };
        let mut two = RememberedTwo::default();
        assert_eq!(two.answer(head("said")), None);
        two.remember(word("said", 7));
        two.remember(word("wow", NONE));
        // Both answered, the word the table lacks too (as NONE).
        assert_eq!(two.answer(head("said")), Some(7));
        assert_eq!(two.answer(head("wow")), Some(NONE));
        assert_eq!(two.answer(head("man")), None);
        // A word remembered again (asked twice in one batch) keeps the
        // other; a third word pushes out the one remembered earlier.
        two.remember(word("wow", NONE));
        assert_eq!(two.answer(head("said")), Some(7));
        two.remember(word("man", 3));
        assert_eq!(two.answer(head("man")), Some(3));
        assert_eq!(two.answer(head("wow")), Some(NONE));
        assert_eq!(two.answer(head("said")), None);
        // Nothing remembered answers no word, nor the head of a long one.
        assert_eq!(RememberedTwo::default().answer(0), None);
        assert_eq!(std::mem::align_of::<RememberedTwo>(), 32);
    }

    #[test]
    fn a_remembered_long_word_answers_for_itself_alone() {
        // Words of 9 to 16 bytes are remembered by their first eight bytes
        // and the rest, zero-padded. Runs of one letter share their first
        // eight bytes and differ in the rest by its length alone; two
        // words of 16 bytes share neither. An entry is planted where the asked word
        // is remembered, with another record's answer, which comes out
        // only if the entry is the asked word.
        let words = [
            "aaaaaaaaa",
            "aaaaaaaaaa",
            "aaaaaaaaaaaaaaaa",
            "bbbbbbbbcccccccc",
        ];
        let t = table(&words.map(String::from));
        let record = |w: &str| t.get(w).map(|h| h.0);
        for asked in words {
            for planted in words {
                let mut lookups = Lookups::default();
                lookups.memo_for(&t);
                let (first, rest) = RememberedLong::ends(planted.as_bytes()).unwrap();
                // Another word's answer, so that a wrong answer shows.
                let other = words.iter().find(|&&w| w != planted).unwrap();
                let answer = record(other).unwrap();
                let (a_first, a_rest) = RememberedLong::ends(asked.as_bytes()).unwrap();
                let i = RememberedLong::index(a_first, a_rest);
                lookups.memo_long[i] = RememberedLong {
                    first,
                    rest,
                    answer,
                };
                let mut batch = Batch::default();
                lookups.word(&mut batch, &t, asked, asked, 0);
                let got = lookups
                    .finish(batch, &t, asked)
                    .iter()
                    .map(|h| h.0)
                    .collect::<Vec<_>>();
                let want = if planted == asked {
                    answer
                } else {
                    record(asked).unwrap()
                };
                assert_eq!(got, [want], "{asked} asked, {planted} remembered");
            }
        }
        // Found or not, words of 9 to 16 bytes are remembered; others not.
        let mut lookups = Lookups::default();
        let mut batch = Batch::default();
        let text = "aaaaaaaaaa notinthetable aaaaaaaaaaaaaaaaa";
        for w in text.split(' ') {
            let head = crate::tokenize::head8(w.as_bytes());
            lookups.word(&mut batch, &t, text, w, head);
        }
        lookups.finish(batch, &t, text);
        let remembered = |w: &str| {
            let Some((first, rest)) = RememberedLong::ends(w.as_bytes()) else {
                return false;
            };
            let e = lookups.memo_long[RememberedLong::index(first, rest)];
            (first, rest) == (e.first, e.rest)
        };
        assert!(remembered("aaaaaaaaaa") && remembered("notinthetable"));
        // The rest of each: its bytes after the eighth, zero-padded.
        let rest = |w: &str| RememberedLong::ends(w.as_bytes()).unwrap().1;
        assert_eq!(rest("aaaaaaaaaa").to_le_bytes(), *b"aa\0\0\0\0\0\0");
        assert_eq!(rest("notinthetable").to_le_bytes(), *b"table\0\0\0");
        // The 17-byte word is not: two entries hold a word.
        assert_eq!(lookups.memo_long.iter().filter(|e| e.first != 0).count(), 2);
    }

    #[test]
    fn duplicates_keep_their_first_column() {
        // Records are laid out in reverse column order, so the later
        // column of a duplicate word or pair comes first.
        let t = table(&[
            "a".into(),
            "b".into(),
            "a b".into(),
            "a".into(),
            "a b".into(),
        ]);
        assert_eq!(t.get("a").map(|x| t.column(x)), Some(0));
        assert_eq!(t.get("a b").map(|x| t.column(x)), Some(2));
    }

    #[test]
    fn bytes_round_trip_and_bad_bytes_are_refused() {
        let tokens: Vec<String> = (0..300).map(|i| format!("t{i}")).collect();
        let t = table(&tokens);
        let bytes = t.to_bytes();
        assert_eq!(ScoreTable::from_bytes(&bytes, 2, 300), Ok(t.clone()));
        // Every truncation is refused, never a panic.
        for cut in 0..bytes.len() {
            let _ = ScoreTable::from_bytes(&bytes[..cut], 2, 300);
        }
        // Cutting 8 bytes off the end moves the rows into the last
        // record: refused.
        assert!(ScoreTable::from_bytes(&bytes[..bytes.len() - 8], 2, 300).is_err());
        // A weight that is not a number: the palette comes first, 300
        // sets of two (every column's weights differ here).
        let palette = 24 + 8 * 512;
        assert_eq!(t.records, 600);
        let mut nan = bytes.clone();
        nan[palette + 8..palette + 16].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(
            ScoreTable::from_bytes(&nan, 2, 300),
            Err("scoring table: a weight is not finite".into())
        );
        // Columns beyond the vocabulary, a wrong weight count, a full table.
        assert!(ScoreTable::from_bytes(&bytes, 2, 299).is_err());
        assert!(ScoreTable::from_bytes(&bytes, 40, 300).is_err());
        let mut full = bytes.clone();
        for slot in full[24..24 + 8 * 512].chunks_exact_mut(8) {
            if slot[4..] == [0xff; 4] {
                slot[4..].copy_from_slice(&0u32.to_le_bytes());
            }
        }
        assert!(ScoreTable::from_bytes(&full, 2, 300).is_err());
        // A key's padding must be zero (short words are compared with it),
        // and a key must not be empty. The first record follows the
        // palette: weights offset, column, key length, zero, key.
        let record = palette + 8 * 600;
        let key = record + 16;
        let mut padding = bytes.clone();
        padding[key + 7] = b'x';
        assert_eq!(
            ScoreTable::from_bytes(&padding, 2, 300),
            Err("scoring table: a key's padding is not zero".into())
        );
        let mut empty = bytes.clone();
        empty[record + 8..record + 12].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            ScoreTable::from_bytes(&empty, 2, 300),
            Err("scoring table: an empty key or a bad key length".into())
        );
        // A record's weights must be a set of the palette: its start (a
        // multiple of k) and inside it.
        for at in [1u32, 599, 600, u32::MAX] {
            let mut bad = bytes.clone();
            bad[record..record + 4].copy_from_slice(&at.to_le_bytes());
            assert_eq!(
                ScoreTable::from_bytes(&bad, 2, 300),
                Err("scoring table: a record's weights are no palette entry".into()),
                "{at}"
            );
        }
        // A palette length that is no whole number of sets, none, or one
        // whose size in bytes overflows (it wrapped to 4,800 unchecked).
        for len in [0u64, 1, 599, (1 << 61) + 600] {
            let mut bad = bytes.clone();
            bad[16..24].copy_from_slice(&len.to_le_bytes());
            assert!(ScoreTable::from_bytes(&bad, 2, 300).is_err(), "{len}");
        }
    }

    #[test]
    fn equal_weights_are_stored_once_most_used_first() {
        // Six words and two pairs with three distinct sets of weights:
        // (1, 2) for four tokens, (0, 0) for three, (-1, 3) for one.
        let tokens: Vec<String> = ["a", "b", "c", "d", "e", "f", "a b", "c d"]
            .map(String::from)
            .into();
        let sets = [[0.0, 0.0], [1.0, 2.0], [-1.0, 3.0]];
        let which = [0, 1, 1, 0, 2, 1, 1, 0];
        let weights: Vec<f64> = which.iter().flat_map(|&i| sets[i]).collect();
        let order: Vec<u32> = (0..8).collect();
        let t = ScoreTable::new(&tokens, &weights, 2, &order);
        assert_eq!(t.records, 6, "three sets of two weights");
        let palette: Vec<f64> = t.arena[..48]
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(palette, [1.0, 2.0, 0.0, 0.0, -1.0, 3.0]);
        for (j, tok) in tokens.iter().enumerate() {
            let hit = t.get(tok).unwrap();
            assert_eq!(t.weights::<2>(hit), sets[which[j]], "{tok}");
            assert_eq!(t.column(hit), j as u32, "{tok}");
        }
        // -0.0 is not 0.0: weights are compared bit for bit, so a set is
        // never stored as another that merely compares equal.
        let w = [0.0, 0.0, -0.0, 0.0];
        let t = ScoreTable::new(&["a", "b"], &w, 2, &[0, 1]);
        assert_eq!(t.records, 4);
        let b = t.get("b").unwrap();
        assert!(t.weights::<2>(b)[0].is_sign_negative());
    }

    /// Slots (for a word) or rows (for a pair) probed to find `token`.
    fn probes(t: &ScoreTable, token: &str) -> usize {
        let want = t.get(token).unwrap().0;
        let (h, mask, at): (u64, usize, &dyn Fn(usize) -> u64) = match as_pair(token) {
            Some((l, r)) => (
                pair_hash(pair_key(
                    t.word_column(l.as_bytes()).unwrap(),
                    t.word_column(r.as_bytes()).unwrap(),
                )),
                t.row_mask,
                &|i| t.answer_at((t.rows + i * ROW) as u32),
            ),
            None => (
                hash_bytes(token.as_bytes()),
                t.slots.len() - 1,
                &|i| match t.slots[i].record {
                    EMPTY => NONE,
                    r => t.answer_at(r & !SHADOW),
                },
            ),
        };
        let (mut i, mut n) = (h as usize & mask, 1);
        while at(i) != want {
            i = (i + 1) & mask;
            n += 1;
        }
        n
    }

    #[test]
    fn the_hash_spreads_the_default_vocabulary() {
        // With a hash that behaves randomly, linear probing at load a
        // averages (1 + 1 / (1 - a)) / 2 probes a hit: 2 at the two thirds
        // the slots allow, 1.5 at the half the pair rows allow, 1.3 at the
        // default model's 38% of rows. Clusters would show here, for words
        // (by their bytes) and pairs (by their words' columns) alike.
        let model = crate::model::Model::embedded().unwrap();
        let t = model.scoring_table();
        let tokens: Vec<&str> = model.vocab().tokens().collect();
        for pairs in [false, true] {
            let some: Vec<&str> = tokens
                .iter()
                .copied()
                .filter(|tok| as_pair(tok).is_some() == pairs)
                .collect();
            let mean =
                some.iter().map(|tok| probes(t, tok)).sum::<usize>() as f64 / some.len() as f64;
            let most = if pairs { 1.6 } else { 2.2 };
            assert!(mean < most, "pairs {pairs}: {mean:.2} probes a hit");
        }
        // Absent words (the tokens, one byte appended) pass the tag filter
        // about as often as its share of set bits predicts.
        let set = t.filter.iter().map(|w| w.count_ones()).sum::<u32>() as f64
            / (1u64 << FILTER_BITS) as f64;
        let absent: Vec<String> = tokens.iter().map(|tok| format!("{tok}\u{1}")).collect();
        let passed = absent
            .iter()
            .filter(|tok| t.filter_passes((hash_bytes(tok.as_bytes()) >> 32) as u32))
            .count() as f64
            / absent.len() as f64;
        assert!(
            (passed - set).abs() < 0.01,
            "filter passes {passed:.3} of absent tokens, {set:.3} of bits set"
        );
        assert!(absent.iter().all(|tok| t.get(tok).is_none()));
    }

    #[test]
    fn pair_tables_round_trip_and_bad_pair_rows_are_refused() {
        // "b" and "d" are shadow words.
        let tokens: Vec<String> = ["a", "a b", "c", "d c", "b a"].map(String::from).into();
        let t = table(&tokens);
        let bytes = t.to_bytes();
        let back = ScoreTable::from_bytes(&bytes, 2, 5).unwrap();
        assert_eq!(back, t);
        for (j, tok) in tokens.iter().enumerate() {
            assert_eq!(
                back.get(tok).map(|h| back.column(h)),
                Some(j as u32),
                "{tok}"
            );
        }
        for tok in ["b", "d", "b d", "a a", "c d"] {
            assert_eq!(back.get(tok), None, "{tok}");
        }
        // The rows, after the records: sixteen, three of them used (at
        // most a quarter). Each is a weights offset, a column and a key.
        assert_eq!(t.row_mask, 15);
        let rows = bytes.len() - 16 * 16;
        let used: Vec<usize> = (0..16)
            .map(|i| rows + 16 * i)
            .filter(|&at| bytes[at + 8..at + 16] != [0xff; 8])
            .collect();
        assert_eq!(used.len(), 3);
        let row = used[0];
        let bad = |at: usize, with: &[u8]| {
            let mut bad = bytes.clone();
            bad[at..at + with.len()].copy_from_slice(with);
            ScoreTable::from_bytes(&bad, 2, 5)
        };
        // A pair's key that is no two words, or a row's column or weight
        // or mark that is wrong, is refused; so is a table with every row
        // used, where a probe for an absent pair would never end.
        assert_eq!(
            bad(row + 8, &EMPTY.to_le_bytes()),
            Err("scoring table: a pair's key is not two words".into())
        );
        // A key names its words by their columns: a pair's column ("a b"
        // is column 1) is no word's, and neither is a shadow id past the
        // shadow words.
        for id in [1, SHADOW | 2] {
            assert_eq!(
                bad(row + 8, &id.to_le_bytes()),
                Err("scoring table: a pair's key is not two words".into()),
                "{id:x}"
            );
        }
        // A record's column: each word has its own, and a shadow word's
        // number is below the records' count.
        let record = |w: &str| {
            24 + 8 * t.slots.len() + 8 * (t.word_slot(w.as_bytes()).unwrap() & !SHADOW) as usize
        };
        assert_eq!(
            bad(record("c") + 4, &0u32.to_le_bytes()),
            Err("scoring table: two words with one column".into())
        );
        assert_eq!(
            bad(record("d") + 4, &(SHADOW | 1 << 20).to_le_bytes()),
            Err("scoring table: a column out of range".into())
        );
        let shadow_ids = ["b", "d"].map(|w| t.u32_at(record(w) - 24 - 8 * t.slots.len() + 4));
        assert_eq!(shadow_ids, [SHADOW, SHADOW | 1]);
        assert_eq!(
            bad(row + 4, &5u32.to_le_bytes()),
            Err("scoring table: a column out of range".into())
        );
        assert_eq!(
            bad(row, &3u32.to_le_bytes()),
            Err("scoring table: a pair row's weights are no palette entry".into())
        );
        let mut full = bytes.clone();
        for at in (0..16)
            .map(|i| rows + 16 * i)
            .filter(|at| !used.contains(at))
        {
            full.copy_within(row..row + 16, at);
        }
        assert_eq!(
            ScoreTable::from_bytes(&full, 2, 5),
            Err("scoring table: no empty pair row".into())
        );
        // A slot marked shadow that points at a token's record, and a
        // shadow word's slot unmarked.
        for flip in [false, true] {
            let mut bad = bytes.clone();
            let slot = t
                .slots
                .iter()
                .position(|s| s.record != EMPTY && (s.record & SHADOW != 0) == flip)
                .unwrap();
            bad[24 + 8 * slot + 7] ^= 0x80;
            assert_eq!(
                ScoreTable::from_bytes(&bad, 2, 5),
                Err("scoring table: a shadow word's slot or record is wrong".into())
            );
        }
    }

    #[test]
    fn empty_table_finds_nothing() {
        assert_eq!(ScoreTable::new::<&str>(&[], &[], 1, &[]).get("a"), None);
    }
}
