//! The vocabulary: which tokens the model knows, and their column numbers.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// Tokens in column order, kept as one string (tokens separated by `\n`,
/// which no token holds) so that a model loads it with one allocation,
/// with a hash index from token to column built on first use (training
/// needs it; a loaded model looks tokens up in its scoring table instead,
/// and so starts faster).
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    text: String,
    /// Byte offset where each token ends in `text`.
    ends: Vec<u32>,
    index: OnceLock<FxHashMap<Box<str>, u32>>,
}

impl Vocabulary {
    /// A vocabulary whose column `i` is `tokens[i]`. Duplicates keep their
    /// first column. A token holding `\n` is cut there: tokens never hold
    /// one (the tokenizer splits words at every line break).
    pub fn new<S: AsRef<str>>(tokens: &[S]) -> Self {
        let mut text = String::with_capacity(tokens.iter().map(|t| t.as_ref().len() + 1).sum());
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(t.as_ref().split('\n').next().unwrap_or(""));
        }
        Vocabulary::from_text(text, tokens.len())
    }

    /// The vocabulary stored as [`Vocabulary::text`]: tokens separated by
    /// `\n`, `n` of them as the writer said. `n == 0` reads none (an empty
    /// text is either no token or one empty one); otherwise the text decides,
    /// and a reader compares [`Vocabulary::len`] with what it expected.
    pub fn from_text(text: String, n: usize) -> Self {
        let mut ends = Vec::new();
        if n > 0 {
            ends.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32));
            ends.push(text.len() as u32);
        }
        Vocabulary {
            text,
            ends,
            index: OnceLock::new(),
        }
    }

    /// The tokens as one string, `\n` between them.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The column of `token`, if known.
    #[inline]
    pub fn get(&self, token: &str) -> Option<u32> {
        let index = self.index.get_or_init(|| {
            let mut index = FxHashMap::default();
            index.reserve(self.len());
            for (i, t) in self.tokens().enumerate() {
                index.entry(t.into()).or_insert(i as u32);
            }
            index
        });
        index.get(token).copied()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The token of column `i`.
    pub fn token(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize + 1,
        };
        &self.text[start..self.ends[i] as usize]
    }

    /// Tokens in column order.
    pub fn tokens(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.token(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_the_text() {
        let v = Vocabulary::new(&["a", "b c", "", "<quote>"]);
        assert_eq!(v.len(), 4);
        assert_eq!(v.tokens().collect::<Vec<_>>(), ["a", "b c", "", "<quote>"]);
        let w = Vocabulary::from_text(v.text().to_string(), v.len());
        assert_eq!(w.tokens().collect::<Vec<_>>(), ["a", "b c", "", "<quote>"]);
        assert_eq!(w.get("b c"), Some(1));
        assert_eq!(w.get("b"), None);
        assert!(Vocabulary::new::<&str>(&[]).is_empty());
        assert_eq!(Vocabulary::from_text(String::new(), 0).len(), 0);
    }
}
