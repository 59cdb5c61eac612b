//! Any bytes as standard input in every format: no panic, and in the
//! line formats exactly one item per line (an empty input: one "no rows"
//! item). A CSV stream gives at least one item.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use satire::io::{Columns, ItemReader, StdinFormat};

fuzz_target!(|data: &[u8]| {
    let reader = ItemReader {
        columns: Columns::default(),
        stdin: StdinFormat::Text,
        max_bytes: 64,
    };
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
        let mut items = 0usize;
        let result = reader.for_each_in_stream(Path::new("-"), format, data, &mut |item| {
            items += 1;
            if let Ok(text) = &item.text {
                assert!(!text.trim().is_empty() && text.len() <= 64);
            }
            Ok(())
        });
        match format {
            StdinFormat::Text => assert_eq!(items, 1),
            StdinFormat::Csv => assert!(items >= 1 || result.is_err()),
            _ => assert_eq!(items, lines, "{format:?}"),
        }
    }
});
