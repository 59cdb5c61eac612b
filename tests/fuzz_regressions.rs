//! Every input the fuzzers (fuzz/, run by scripts/fuzz) ever crashed on,
//! replayed through the same checks as the fuzz target that found it. Each
//! file in tests/data/fuzz/regressions/TARGET/ is one such input:
//!
//! - tokenize: a run of spaces followed by a combining mark: UAX #29 keeps
//!   the spaces together and the mark joins them all, but the fast path
//!   restarted segmentation at the last space;
//! - model_load: a model body with a non-finite calibration loaded and
//!   scored NaN; loading now refuses non-finite calibrations and counts;
//! - readers: a complete line of exactly `--max-bytes + 1` bytes passed the
//!   size limit (only longer, unfinished reads were caught).

mod common;
use common::*;

use std::path::{Path, PathBuf};

use satire::io::{Columns, ItemReader, StdinFormat};
use satire::model::Model;
use satire::score::Scorer;
use satire::tokenize::{Tokenizer, TokenizerConfig};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root().join("tests/data/fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn tokenize_finds_stay_fixed() {
    let model = Model::embedded().unwrap();
    let found = inputs("tokenize");
    assert!(!found.is_empty());
    for (path, bytes) in found {
        let text = String::from_utf8_lossy(&bytes);
        for lowercase in [false, true] {
            let tok = Tokenizer::new(TokenizerConfig {
                lowercase,
                ..TokenizerConfig::default()
            });
            assert_eq!(
                tok.tokens_at(&text, false),
                tok.tokens_at(&text, true),
                "{}",
                path.display()
            );
        }
        let fast = Scorer::new(&model).score(&text);
        let reference = Scorer::new(&model).reference_path(true).score(&text);
        assert_eq!(fast, reference, "{}", path.display());
    }
}

#[test]
fn model_load_finds_stay_fixed() {
    let found = inputs("model_load");
    assert!(!found.is_empty());
    for (path, bytes) in found {
        let _ = Model::from_bytes(&bytes, Path::new("fuzz"));
        if let Ok(model) = Model::from_bytes(&Model::frame(&bytes), Path::new("fuzz")) {
            let s = Scorer::new(&model).score("Area Man Wins Award");
            assert!(
                s.p_satire.is_finite() && (0.0..=1.0).contains(&s.p_satire),
                "{}: {s:?}",
                path.display()
            );
        }
    }
}

/// Gives at most `step` bytes a read, as the readers fuzz target does.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

type Items = (Vec<(String, Result<String, String>)>, Result<(), String>);

fn stream_items(reader: &ItemReader, format: StdinFormat, r: impl std::io::BufRead) -> Items {
    let mut items = Vec::new();
    let result = reader
        .for_each_in_stream(Path::new("-"), format, r, &mut |item| {
            if let Ok(text) = &item.text {
                assert!(!text.trim().is_empty() && text.len() <= 64, "{item:?}");
            }
            items.push((item.id, item.text));
            Ok(())
        })
        .map_err(|e| e.to_string());
    (items, result)
}

#[test]
fn readers_finds_stay_fixed() {
    // The fuzz target's checks, on its finds and on the hostile corpus
    // under tests/data/fuzz/readers: the item counts, and the same items
    // and result when the stream comes 1 to 7 bytes a read as when whole.
    let reader = ItemReader::new(Columns::default(), StdinFormat::Text, 64);
    let mut all = inputs("readers");
    all.extend(
        std::fs::read_dir(root().join("tests/data/fuzz/readers"))
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| (e.path(), std::fs::read(e.path()).unwrap())),
    );
    assert!(!all.is_empty());
    for (path, data) in all {
        let lines = if data.is_empty() {
            1
        } else {
            data.iter().filter(|&&b| b == b'\n').count() + usize::from(data.last() != Some(&b'\n'))
        };
        for format in [
            StdinFormat::Text,
            StdinFormat::Lines,
            StdinFormat::Jsonl,
            StdinFormat::Auto,
            StdinFormat::Csv,
        ] {
            let whole = stream_items(&reader, format, &data[..]);
            let (items, result) = &whole;
            let what = format!("{} as {format:?}", path.display());
            match format {
                StdinFormat::Text => assert_eq!(items.len(), 1, "{what}"),
                StdinFormat::Csv => assert!(!items.is_empty() || result.is_err(), "{what}"),
                _ => {
                    assert!(result.is_ok(), "{what}: {result:?}");
                    assert_eq!(items.len(), lines, "{what}");
                }
            }
            for step in 1..=7 {
                let trickled =
                    std::io::BufReader::with_capacity(step, Trickle { data: &data, step });
                assert_eq!(
                    stream_items(&reader, format, trickled),
                    whole,
                    "{what}, {step} bytes a read"
                );
            }
        }
    }
}
