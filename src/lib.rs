//! # satire
//!
//! Tells straight news reporting from satire. Text is cut into tokens by
//! [`tokenize`] (Unicode word segmentation), counted against a
//! [`vocab::Vocabulary`], and scored by a multinomial naive-Bayes model
//! trained with `linfa-bayes` ([`train`]); [`score`] turns the model's
//! evidence into a calibrated probability, [`explain`] shows which tokens
//! and sentences moved it ([`report`] renders that as an HTML page),
//! [`eval`] measures it, and [`io`] reads inputs and writes results.
//!
//! Data flows one way: bytes -> [`tokenize`] -> [`vocab`] -> [`model`] ->
//! [`score`] -> [`io`] writers.
//!
//! ```
//! use satire::{model::Model, score::Scorer};
//! let model = Model::embedded().expect("the default model is built in");
//! let mut scorer = Scorer::new(&model);
//! let s = scorer.score("Area Man Passionate Defender Of What He Imagines Constitution To Be");
//! assert!(s.p_satire > 0.5);
//! let s = scorer.score("Elon Musk claims ‘massive cyber-attack’ caused X outages");
//! assert!(s.p_satire < 0.5);
//! ```
#![deny(missing_docs)]

pub mod error;
pub mod eval;
pub mod explain;
pub mod io;
pub mod model;
pub mod report;
pub mod score;
pub mod table;
pub mod tokenize;
pub mod train;
pub mod vocab;

pub use error::{Error, Result};
