//! The library's one error type.

use std::path::PathBuf;

/// Where in the input a problem was found: a file, and a row or line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or `-` for standard input).
    pub path: PathBuf,
    /// 1-based line (of a CSV file, counting the header as line 1, or of a JSONL file), when known.
    pub row: Option<u64>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(f, "{}, line {}", self.path.display(), r),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Malformed or unusable input data.
    #[error("{at}: {message}")]
    Input {
        /// Where.
        at: Location,
        /// What is wrong.
        message: String,
    },
    /// A model file that cannot be used.
    #[error("{path}: {message}")]
    Model {
        /// The model file (or `<embedded>`).
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// A parameter out of its range.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// Training data that cannot train a model (empty, one class only, ...).
    #[error("{0}")]
    Data(String),
    /// linfa refused to fit.
    #[error("linfa: {0}")]
    Linfa(#[from] linfa_bayes::NaiveBayesError),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn input(
        path: impl Into<PathBuf>,
        row: Option<u64>,
        message: impl Into<String>,
    ) -> Self {
        Error::Input {
            at: Location {
                path: path.into(),
                row,
            },
            message: message.into(),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
