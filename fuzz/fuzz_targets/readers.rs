//! Any bytes as standard input in every format: no panic, and in the
//! line formats exactly one item per line (an empty input: one "no rows"
//! item). A CSV stream gives at least one item. And the same items, ids,
//! texts and errors alike, and the same result, when the stream comes a
//! few bytes a read as when it comes whole: the readers' buffers then end
//! at every place, inside a quoted field, a UTF-8 character or a CRLF, and
//! the patched csv-core's quoted-span scan (vendor/csv-core) starts and
//! stops at each.
#![no_main]

use std::io::{BufReader, Read};
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use satire::io::{Columns, Item, ItemReader, StdinFormat};

/// Gives at most `step` bytes a read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn items(
    reader: &ItemReader,
    format: StdinFormat,
    r: impl std::io::BufRead,
) -> (Vec<(String, Result<String, String>)>, Result<(), String>) {
    let mut items = Vec::new();
    let result = reader
        .for_each_in_stream(Path::new("-"), format, r, &mut |item: Item| {
            if let Ok(text) = &item.text {
                assert!(!text.trim().is_empty() && text.len() <= 64);
            }
            items.push((item.id, item.text));
            Ok(())
        })
        .map_err(|e| e.to_string());
    (items, result)
}

fuzz_target!(|data: &[u8]| {
    let reader = ItemReader::new(Columns::default(), StdinFormat::Text, 64);
    let lines = if data.is_empty() {
        1
    } else {
        data.iter().filter(|&&b| b == b'\n').count() + usize::from(data.last() != Some(&b'\n'))
    };
    // 1 to 7 bytes a read, chosen by the input so that each size is tried.
    let step = 1 + data.first().map_or(0, |&b| usize::from(b % 7));
    for format in [
        StdinFormat::Text,
        StdinFormat::Lines,
        StdinFormat::Jsonl,
        StdinFormat::Auto,
        StdinFormat::Csv,
    ] {
        let (whole, result) = items(&reader, format, data);
        match format {
            StdinFormat::Text => assert_eq!(whole.len(), 1),
            StdinFormat::Csv => assert!(!whole.is_empty() || result.is_err()),
            _ => assert_eq!(whole.len(), lines, "{format:?}"),
        }
        let trickled = BufReader::with_capacity(step, Trickle { data, step });
        assert_eq!(
            (whole, result),
            items(&reader, format, trickled),
            "{format:?}, {step} bytes a read"
        );
    }
});
