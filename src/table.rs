//! The scoring table: token to per-component weights, laid out for the
//! cache.
//!
//! Looking tokens up is the scoring path's main cost, and with a vocabulary
//! of 76,000 tokens a general hash map plus a separate weight array costs
//! three scattered memory reads per token. This table needs two:
//!
//! - a slot array of 8 bytes a slot (32 bits of the hash and the offset of
//!   the token's record), at most two thirds full, probed linearly;
//! - one record per token holding its weights (one `f64` per component),
//!   its column and its bytes, records stored most frequent token first,
//!   so that the tokens most texts use sit together in a few hundred
//!   kilobytes.
//!
//! A hit is confirmed by comparing the token's bytes, so the table never
//! answers for a token the model does not know. A word pair `"left right"`
//! is stored under [`pair_hash`] of its two words' hashes: the scorer has
//! just hashed both words and looks the pair up without building it
//! ([`ScoreTable::pair`]). Words never contain a space, so a token holding
//! one is always a pair.

/// Hash of a token's bytes (not a pair).
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix64(h)
}

/// Hash of the word pair `"left right"` from its words' [`hash_bytes`].
#[inline]
pub fn pair_hash(left: u64, right: u64) -> u64 {
    fmix64(left.rotate_left(23) ^ right.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
}

/// MurmurHash3's finaliser: every input bit reaches every output bit.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The hash a token is stored under: a pair's comes from its two words.
fn token_hash(token: &str) -> u64 {
    match token.split_once(' ') {
        Some((left, right)) => pair_hash(hash_bytes(left.as_bytes()), hash_bytes(right.as_bytes())),
        None => hash_bytes(token.as_bytes()),
    }
}

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Slot {
    tag: u32,
    /// Offset of the record in the arena, in 8-byte units.
    record: u32,
}

/// A found token: the offset of its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit(u32);

/// Token to weights; see the module docs.
///
/// Record layout (8-byte aligned): key length `u32`, column `u32`, `k`
/// weights `f64`, key bytes, padding to 8.
#[derive(Clone, Debug, Default)]
pub struct ScoreTable {
    slots: Vec<Slot>,
    arena: Vec<u8>,
    k: usize,
}

impl ScoreTable {
    /// A table over `tokens` (column `j` is `tokens[j]`) with `k` weights a
    /// column in `weights` (column-major: `weights[j * k..][..k]`), records
    /// laid out in the order of `order` (every column once, most frequent
    /// first). A duplicate token keeps its first column.
    pub fn new(tokens: &[String], weights: &[f64], k: usize, order: &[u32]) -> ScoreTable {
        // At most two thirds full: for the default model's 76,000 tokens the
        // slots take 1 MiB, one core's L2 cache on the machine measured
        // (twice that, half full, timed slower there; see BENCHMARKS.md).
        let size = (tokens.len() * 3 / 2).next_power_of_two().max(16);
        let mut t = ScoreTable {
            slots: vec![
                Slot {
                    tag: 0,
                    record: EMPTY,
                };
                size
            ],
            arena: Vec::new(),
            k,
        };
        let mask = size - 1;
        for &col in order {
            let token = &tokens[col as usize];
            let h = token_hash(token);
            let mut i = h as usize & mask;
            loop {
                let s = t.slots[i];
                if s.record == EMPTY {
                    t.slots[i] = Slot {
                        tag: (h >> 32) as u32,
                        record: (t.arena.len() / 8) as u32,
                    };
                    t.arena
                        .extend_from_slice(&(token.len() as u32).to_le_bytes());
                    t.arena.extend_from_slice(&col.to_le_bytes());
                    for w in &weights[col as usize * k..][..k] {
                        t.arena.extend_from_slice(&w.to_le_bytes());
                    }
                    t.arena.extend_from_slice(token.as_bytes());
                    t.arena.resize(t.arena.len().next_multiple_of(8), 0);
                    break;
                }
                if s.tag == (h >> 32) as u32 && t.key(Hit(s.record)) == token.as_bytes() {
                    // The same token again: keep the first column, as the
                    // vocabulary does.
                    let (first, this) = (t.column(Hit(s.record)), col);
                    if this < first {
                        t.arena[s.record as usize * 8 + 4..][..4]
                            .copy_from_slice(&this.to_le_bytes());
                    }
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        t
    }

    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.arena[at..at + 4]);
        u32::from_le_bytes(b)
    }

    #[inline]
    fn key(&self, hit: Hit) -> &[u8] {
        let at = hit.0 as usize * 8;
        let len = self.u32_at(at) as usize;
        let start = at + 8 + 8 * self.k;
        &self.arena[start..start + len]
    }

    /// The column of a found token.
    #[inline]
    pub fn column(&self, hit: Hit) -> u32 {
        self.u32_at(hit.0 as usize * 8 + 4)
    }

    /// Adds a found token's weights to `sums` (one per component).
    #[inline]
    pub fn add_weights(&self, hit: Hit, sums: &mut [f64]) {
        let start = hit.0 as usize * 8 + 8;
        let ws = &self.arena[start..start + 8 * self.k];
        for (s, w) in sums.iter_mut().zip(ws.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            *s += f64::from_le_bytes(b);
        }
    }

    #[inline]
    fn probe(&self, h: u64, is_key: impl Fn(&[u8]) -> bool) -> Option<Hit> {
        let mask = self.slots.len() - 1;
        let tag = (h >> 32) as u32;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s.record == EMPTY {
                return None;
            }
            if s.tag == tag && is_key(self.key(Hit(s.record))) {
                return Some(Hit(s.record));
            }
            i = (i + 1) & mask;
        }
    }

    /// Any token.
    pub fn get(&self, token: &str) -> Option<Hit> {
        self.probe(token_hash(token), |k| k == token.as_bytes())
    }

    /// A word (no space) whose [`hash_bytes`] is `h`.
    #[inline]
    pub fn word(&self, h: u64, word: &str) -> Option<Hit> {
        self.probe(h, |k| k == word.as_bytes())
    }

    /// The pair `"left right"`, given `h = pair_hash(..)` of its words.
    #[inline]
    pub fn pair(&self, h: u64, left: &str, right: &str) -> Option<Hit> {
        let (l, r) = (left.as_bytes(), right.as_bytes());
        self.probe(h, |k| {
            k.len() == l.len() + 1 + r.len()
                && k[l.len()] == b' '
                && &k[..l.len()] == l
                && &k[l.len() + 1..] == r
        })
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

    #[test]
    fn finds_every_token_with_its_weights_and_nothing_else() {
        let tokens: Vec<String> = (0..5000)
            .map(|i| match i % 3 {
                0 => format!("w{i}"),
                1 => format!("w{} w{}", i - 1, i),
                _ => format!("<c{i}>"),
            })
            .collect();
        let t = table(&tokens);
        for (j, tok) in tokens.iter().enumerate() {
            let hit = t.get(tok).unwrap_or_else(|| panic!("{tok} not found"));
            assert_eq!(t.column(hit), j as u32);
            let mut sums = [1.0, 1.0];
            t.add_weights(hit, &mut sums);
            assert_eq!(sums, [1.0 + j as f64, 1.5 + j as f64]);
        }
        for tok in ["", "w", "w1 ", " w1", "w0 w1 w2", "w5001", "w0  w1"] {
            assert_eq!(t.get(tok), None, "{tok:?}");
        }
        // Pairs from their words' hashes, as the scorer looks them up.
        let h = pair_hash(hash_bytes(b"w0"), hash_bytes(b"w1"));
        assert_eq!(t.pair(h, "w0", "w1").map(|x| t.column(x)), Some(1));
        assert_eq!(t.pair(h, "w0", "w2"), None);
        assert_eq!(
            t.word(hash_bytes(b"w3"), "w3").map(|x| t.column(x)),
            Some(3)
        );
    }

    #[test]
    fn duplicates_keep_their_first_column() {
        let t = table(&["a".into(), "b".into(), "a".into()]);
        assert_eq!(t.get("a").map(|x| t.column(x)), Some(0));
    }

    #[test]
    fn empty_table_finds_nothing() {
        assert_eq!(ScoreTable::new(&[], &[], 1, &[]).get("a"), None);
    }
}
