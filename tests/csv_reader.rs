//! The CSV reader every command uses (`satire::io::csv_reader`), on the
//! csv-core this crate patches (`vendor/csv-core/PATCHED.md`: a quoted
//! field is copied up to its next quote in one search): it reads back
//! exactly the records the csv crate's writer wrote, and reports each
//! record's line as the line feeds before it say, which the error rows of
//! `satire score` name. Quoted fields here hold what news articles do: line
//! feeds, CRLF, commas, doubled quotes, non-ASCII text.

use proptest::prelude::*;

/// Writes `records` with the csv crate's writer (quoting as it must) under
/// the header `id,text`; reads them back with `satire::io::csv_reader`,
/// whose reads of `chunk` bytes at a time put buffer ends anywhere in a
/// field. Asserts each record's fields, and its line: one more than the
/// line feeds before its first byte.
fn round_trip(records: &[(String, String)], chunk: usize) {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "text"]).unwrap();
    for (id, text) in records {
        w.write_record([id, text]).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let mut rdr = satire::io::csv_reader(Chunked {
        bytes: &bytes,
        at: 0,
        chunk,
    });
    let mut rec = csv::ByteRecord::new();
    for (i, (id, text)) in records.iter().enumerate() {
        assert!(rdr.read_byte_record(&mut rec).unwrap(), "record {i} read");
        assert_eq!(&rec[0], id.as_bytes(), "record {i}'s id");
        assert_eq!(&rec[1], text.as_bytes(), "record {i}'s text");
        let pos = rec.position().expect("a record read has a position");
        let start = pos.byte() as usize;
        let feeds = bytes[..start].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(pos.line(), feeds as u64 + 1, "record {i}'s line");
    }
    assert!(!rdr.read_byte_record(&mut rec).unwrap(), "no more records");
}

/// A reader that gives at most `chunk` bytes a call.
struct Chunked<'a> {
    bytes: &'a [u8],
    at: usize,
    chunk: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn multi_line_quoted_articles_read_back_with_their_lines() {
    let article = "LONDON (Reuters) - The minister said, \"We will not\nback down.\"\r\n\
                   Critics – and there were many – disagreed.\n\n“Nonsense,” one said.";
    let records: Vec<(String, String)> = vec![
        ("a".into(), article.into()),
        ("b".into(), "Area Man Wins Big".into()),
        ("c".into(), "\"\"\"\n\n,\r\n\"".into()),
        ("d,1".into(), format!("{article}\n{article}")),
        ("e".into(), "".into()),
    ];
    for chunk in [1, 2, 3, 7, 64, 1 << 20] {
        round_trip(&records, chunk);
    }
}

proptest! {
    #[test]
    fn any_records_read_back_with_their_lines(
        records in proptest::collection::vec(
            ("[a-z0-9,\"\n]{0,4}", "([ -~]|\n|\r\n|\"|,|é|”){0,80}"),
            1..12,
        ),
        chunk in 1usize..40,
    ) {
        round_trip(&records, chunk);
    }
}
