//! The vocabulary: which tokens the model knows, and their column numbers.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// Tokens in column order, with a hash index from token to column built on
/// first use (training needs it; a loaded model looks tokens up in its
/// scoring table instead, and so starts faster).
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    tokens: Vec<String>,
    index: OnceLock<FxHashMap<Box<str>, u32>>,
}

impl Vocabulary {
    /// A vocabulary whose column `i` is `tokens[i]`. Duplicates keep their
    /// first column.
    pub fn new(tokens: Vec<String>) -> Self {
        Vocabulary {
            tokens,
            index: OnceLock::new(),
        }
    }

    /// The column of `token`, if known.
    #[inline]
    pub fn get(&self, token: &str) -> Option<u32> {
        let index = self.index.get_or_init(|| {
            let mut index = FxHashMap::default();
            index.reserve(self.tokens.len());
            for (i, t) in self.tokens.iter().enumerate() {
                index.entry(t.as_str().into()).or_insert(i as u32);
            }
            index
        });
        index.get(token).copied()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The token of column `i`.
    pub fn token(&self, i: usize) -> &str {
        &self.tokens[i]
    }

    /// Tokens in column order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}
