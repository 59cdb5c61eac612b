//! Readers and writers: labelled data for training and evaluation, the
//! stream of items to score, and the score output formats.
//!
//! CSV readers and writers are configured here and nowhere else.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Label;

mod jsonl;

/// The byte-order mark some editors put at the start of a UTF-8 file (the
/// CSV reader skips it too): not part of the first line of a line-based file.
const BOM: &str = "\u{feff}";

/// The length of the byte-order mark that starts line `n` (from 1) of a
/// file: only the first line can have one, which is no part of its text.
fn bom_len(line: &[u8], n: u64) -> usize {
    if n == 1 && line.starts_with(BOM.as_bytes()) {
        BOM.len()
    } else {
        0
    }
}

/// What satire says of text that is not UTF-8, after where it fails.
const NOT_UTF8: &str =
    "satire reads UTF-8 only; convert a Latin-1 or Windows-1252 file with `iconv -f WINDOWS-1252 -t UTF-8`";

/// Why `bytes` are not UTF-8, as `e` (their [`std::str::from_utf8`]
/// error) says: where, the bytes there, and what to do about them. Bytes
/// that no UTF-8 text holds, such as `0xE9` (é in Latin-1) before a space,
/// are what a file in a legacy single-byte encoding gives; text cut off
/// inside a character is said to be so instead.
pub(crate) fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    match e.error_len() {
        Some(n) => {
            let shown = bytes
                .get(at..at + n)
                .unwrap_or_default()
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect::<Vec<_>>()
                .join(" ");
            format!("invalid UTF-8 at byte {at} ({shown}): {NOT_UTF8}")
        }
        None => format!("invalid UTF-8 at byte {at}: the text ends inside a character"),
    }
}

/// `s` as it is safe to print for a person to read, on one line: each
/// control character (a line break, a tab, an escape that would recolour
/// or move a terminal's cursor) written as its Rust escape (`\n`, `\t`,
/// `\u{1b}`). Text without them is borrowed as it is.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Default cap on one item's size in bytes (`--max-bytes`).
pub const DEFAULT_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// A file written under a temporary name and renamed when committed. If
/// dropped uncommitted, the temporary file is removed and the real name is
/// never touched.
///
/// Only regular files are replaced that way: a target that exists and is
/// something else (`/dev/null`, a named pipe, a terminal) is written to
/// directly, since renaming over it would replace the device or pipe with
/// a file.
pub struct AtomicFile {
    target: PathBuf,
    /// `None` when writing straight to a target that is not a regular file.
    tmp: Option<PathBuf>,
    file: Option<std::io::BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `path`. Every error names `path`, never the
    /// temporary file, and a `path` that cannot be written (a folder, a
    /// missing or read-only folder) is refused here, before the work
    /// whose result it would hold.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let meta = std::fs::metadata(path);
        if meta.as_ref().is_ok_and(|m| m.is_dir()) {
            return Err(Error::io(
                path,
                std::io::Error::from(std::io::ErrorKind::IsADirectory),
            ));
        }
        let special = meta.is_ok_and(|m| !m.is_file());
        if special {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            return Ok(AtomicFile {
                target: path.to_path_buf(),
                tmp: None,
                file: Some(std::io::BufWriter::new(file)),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| Error::io(path, e))?;
        Ok(AtomicFile {
            target: path.to_path_buf(),
            tmp: Some(tmp),
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// The path being written, as given.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// The temporary file written until [`Self::commit`] (`None` when the
    /// target is written directly).
    pub fn temp_path(&self) -> Option<&Path> {
        self.tmp.as_deref()
    }

    /// Flushes, syncs and renames into place (a target that is not a
    /// regular file is only flushed).
    pub fn commit(mut self) -> Result<()> {
        let Some(w) = self.file.take() else {
            return Ok(());
        };
        let Some(tmp) = self.tmp.take() else {
            return w
                .into_inner()
                .map(drop)
                .map_err(|e| Error::io(&self.target, e.into_error()));
        };
        let done = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &self.target));
        done.map_err(|e| {
            // Not left behind under a name the user never gave.
            let _ = std::fs::remove_file(&tmp);
            Error::io(&self.target, e)
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already committed")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (Some(_), Some(tmp)) = (self.file.take(), &self.tmp) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Bytes read from an input file at a time. With the standard 8 KiB, a
/// 50 MB CSV took 6,142 `read` calls; with 128 KiB it takes 393, and one
/// thread scores it about 2% faster (`benches/ab_time.py --mb 50 --runs
/// 9`: user time 0.333 -> 0.328 s, wall 0.349 -> 0.342 s). The buffer still
/// fits the core's L2 cache, where the parser reads it.
pub const READ_BUFFER: usize = 128 << 10;

/// The one place CSV readers are configured: headers on, strict row
/// lengths (a ragged row is an error for that row, not a silent shift),
/// reads of [`READ_BUFFER`] bytes.
pub fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(READ_BUFFER)
        .from_reader(r)
}

/// Follows the quoting of a CSV byte stream as the csv crate reads it, the
/// way `csv_core` parses it (a `"` opens a quoted field only at the start of
/// a field; `""` inside is a quote), to find what the csv crate accepts
/// without a word: a quoted field never closed (it runs to the end of the
/// input) and text right after a closing quote (the field goes on
/// unquoted). Both mean a quote went astray, and the rows after it were
/// read as part of one field.
///
/// It also finds the line each record begins on ([`record_line`]): the
/// csv crate starts a record just after the first byte of the previous
/// one's terminator, so the line feed of a CRLF, and those of blank lines,
/// come before the record's first byte but after the line it is given
/// (rust-csv issues 395 and 208, open): every row of a CRLF file was named
/// one line early.
struct QuoteWatch<R> {
    inner: R,
    state: QuoteState,
    /// Line feeds seen since the last record's terminator began (at the
    /// start of a record, where the csv crate skips them).
    skipped: u64,
    /// Where a record began after line feeds the csv crate skipped, and
    /// how many, oldest first, not yet matched to a record. Nothing for a
    /// record right after a single line feed (most rows of most files).
    late_starts: std::collections::VecDeque<(u64, u64)>,
    /// Bytes seen.
    pos: u64,
    /// Where the current quoted field opened.
    opened_at: u64,
    /// Where text followed a closing quote, oldest first, not yet matched
    /// to a record.
    text_after_quote: std::collections::VecDeque<u64>,
    eof: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    /// After a record's terminator (or at the start), where line feeds
    /// and carriage returns are skipped.
    RecordStart,
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> QuoteWatch<R> {
    fn new(inner: R) -> Self {
        QuoteWatch {
            inner,
            state: QuoteState::RecordStart,
            skipped: 0,
            late_starts: Default::default(),
            pos: 0,
            opened_at: 0,
            text_after_quote: Default::default(),
            eof: false,
        }
    }

    fn scan(&mut self, b: &[u8]) {
        use QuoteState::*;
        let mut i = 0;
        while i < b.len() {
            match self.state {
                Quoted => match memchr::memchr(b'"', &b[i..]) {
                    Some(j) => {
                        i += j + 1;
                        self.state = QuoteInQuoted;
                    }
                    None => i = b.len(),
                },
                Unquoted => match memchr::memchr3(b',', b'\n', b'\r', &b[i..]) {
                    Some(j) => {
                        self.state = if b[i + j] == b',' {
                            FieldStart
                        } else {
                            RecordStart
                        };
                        i += j + 1;
                    }
                    None => i = b.len(),
                },
                RecordStart => match b[i] {
                    b'\n' => {
                        self.skipped += 1;
                        i += 1;
                    }
                    b'\r' => i += 1,
                    // The record's first byte: taken again as a field's.
                    _ => {
                        if self.skipped > 0 {
                            self.late_starts
                                .push_back((self.pos + i as u64, self.skipped));
                            self.skipped = 0;
                        }
                        self.state = FieldStart;
                    }
                },
                FieldStart | QuoteInQuoted => {
                    self.state = match (self.state, b[i]) {
                        (FieldStart, b'"') => {
                            self.opened_at = self.pos + i as u64;
                            Quoted
                        }
                        (QuoteInQuoted, b'"') => Quoted,
                        (_, b',') => FieldStart,
                        (_, b'\n' | b'\r') => RecordStart,
                        (QuoteInQuoted, _) => {
                            self.text_after_quote.push_back(self.pos + i as u64);
                            Unquoted
                        }
                        _ => Unquoted,
                    };
                    i += 1;
                }
            }
        }
        self.pos += b.len() as u64;
    }

    /// The line a record the csv crate read from byte `start` (where the
    /// csv crate says it is, on `line`) up to `end` begins on: `line` plus
    /// the line feeds skipped before its first byte. Forgets what it knew
    /// of records before `end`.
    fn record_line(&mut self, start: u64, end: u64, line: u64) -> u64 {
        let mut first = line;
        while let Some(&(at, skipped)) = self.late_starts.front() {
            if at >= end {
                break;
            }
            if at >= start {
                first = line + skipped;
            }
            self.late_starts.pop_front();
        }
        first
    }

    /// Once the whole input has been read: the byte offset of a quoted
    /// field that is never closed.
    fn unclosed(&self) -> Option<u64> {
        (self.eof && self.state == QuoteState::Quoted).then_some(self.opened_at)
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        self.scan(&buf[..n]);
        Ok(n)
    }
}

const UNCLOSED_HEADER: &str = "the header opens a quoted field that is never closed: the CSV reader took the whole file as the header";

/// What is wrong with the quoting of the record just read, if anything: a
/// message for its error row. `start` is the record's first byte.
fn bad_quoting<R: Read>(
    rdr: &mut csv::Reader<QuoteWatch<R>>,
    start: Option<u64>,
) -> Option<String> {
    let end = rdr.position().byte();
    let watch = rdr.get_mut();
    let start = start?;
    let mut text_after = false;
    while let Some(&at) = watch.text_after_quote.front() {
        if at >= end {
            break;
        }
        text_after |= at >= start;
        watch.text_after_quote.pop_front();
    }
    if watch.unclosed().is_some_and(|q| start <= q && q < end) {
        Some(
            "a quoted field opened in this row is never closed: the CSV reader took the rest of the file as that one field, so the rows after this one are lost in it (close the quote, or double a quote inside a field)"
                .into(),
        )
    } else if text_after {
        Some(
            "text follows a closing quote in this row: a quote inside a field is not doubled, or a quote was left open and the rows after this one, up to the next quote, were read into it"
                .into(),
        )
    } else {
        None
    }
}

/// The one place CSV writers are configured.
pub fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().has_headers(false).from_writer(w)
}

/// Which columns (CSV) or fields (JSONL) hold what.
#[derive(Clone, Debug)]
pub struct Columns {
    /// Text column; default `text`.
    pub text: String,
    /// Id column. `None`: use `id` when present, else `FILE:LINE`.
    pub id: Option<String>,
    /// Label column (labelled data only); default `label`.
    pub label: String,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            text: "text".into(),
            id: None,
            label: "label".into(),
        }
    }
}

/// One labelled text.
#[derive(Clone, Debug)]
pub struct Example {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: Label,
    /// Its text.
    pub text: String,
}

/// What an empty CSV (no header line, no rows) is told apart by.
const EMPTY_CSV: &str = "empty: no header line and no rows";

fn find_column(headers: &csv::StringRecord, name: &str, path: &Path) -> Result<usize> {
    if headers.is_empty() {
        return Err(Error::input(path, None, EMPTY_CSV));
    }
    optional_column(headers, name, path)?.ok_or_else(|| {
        // Each name quoted, so that a stray space (`label `) or an empty
        // name shows.
        let have: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
        Error::input(
            path,
            Some(1),
            format!(
                "no column `{name}` in the header (columns: {})",
                have.join(", ")
            ),
        )
    })
}

/// The column named `name`, if the header has one. A name the header
/// holds twice is an error: which of the two is meant cannot be known,
/// and taking either would score or train on the wrong text unasked.
fn optional_column(headers: &csv::StringRecord, name: &str, path: &Path) -> Result<Option<usize>> {
    let mut at = headers.iter().enumerate().filter(|(_, h)| *h == name);
    let first = at.next().map(|(i, _)| i);
    if let (Some(i), Some((j, _))) = (first, at.next()) {
        return Err(Error::input(
            path,
            Some(1),
            format!(
                "column `{name}` appears more than once in the header (columns {} and {})",
                i + 1,
                j + 1
            ),
        ));
    }
    Ok(first)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

fn parse_label(s: &str, path: &Path, line: Option<u64>) -> Result<Label> {
    Label::parse(s).ok_or_else(|| {
        Error::input(
            path,
            line,
            format!("unknown label `{s}` (expected `satire` or `real`)"),
        )
    })
}

/// Whether `a` and `b` name one existing file, however spelt (`x.csv`,
/// `./x.csv`, a link to it). False when either cannot be resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    matches!(
        (std::fs::canonicalize(a), std::fs::canonicalize(b)),
        (Ok(a), Ok(b)) if a == b
    )
}

/// Reads labelled data: a `.csv` file (`id,label,text` by default), a
/// `.jsonl` file (objects with the same field names), or a directory laid
/// out as `DIR/satire/*` and `DIR/real/*`, or holding a `labels.csv` with
/// columns `file,label`. Any bad row stops the read with an error naming
/// the file and line.
pub fn read_labelled(path: &Path, cols: &Columns) -> Result<Vec<Example>> {
    read_labelled_rows(path, cols, &mut Err)
}

/// [`read_labelled`], with each bad row (an unknown label, an empty or
/// binary text, a quote left open, a ragged or non-UTF-8 row, a JSON line
/// without the fields, an article file that cannot be read) handed to
/// `bad`, in input order, and the rest read on; `bad` returning an error
/// stops the read with it. A file that cannot be opened, a header without
/// the columns, or an I/O failure stops the read whatever `bad` says.
pub fn read_labelled_rows(
    path: &Path,
    cols: &Columns,
    bad: &mut dyn FnMut(Error) -> Result<()>,
) -> Result<Vec<Example>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return read_labelled_dir(path, bad);
    }
    match extension(path).as_str() {
        "jsonl" | "ndjson" => read_labelled_jsonl(path, cols, bad),
        _ => read_labelled_csv(path, cols, bad),
    }
}

fn read_labelled_csv(
    path: &Path,
    cols: &Columns,
    bad: &mut dyn FnMut(Error) -> Result<()>,
) -> Result<Vec<Example>> {
    let mut rdr = csv_reader(QuoteWatch::new(BufReader::with_capacity(
        READ_BUFFER,
        open(path)?,
    )));
    let headers = rdr.headers().map_err(|e| csv_error(path, e))?.clone();
    let text_i = find_column(&headers, &cols.text, path)?;
    let label_i = find_column(&headers, &cols.label, path)?;
    let id_i = match &cols.id {
        Some(name) => Some(find_column(&headers, name, path)?),
        None => optional_column(&headers, "id", path)?,
    };
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(csv_record_error(path, e, &mut rdr))
            }
            Err(e) => {
                bad(csv_record_error(path, e, &mut rdr))?;
                continue;
            }
        }
        let line = rec.position().map(|p| record_line(&mut rdr, p));
        if let Some(msg) = bad_quoting(&mut rdr, rec.position().map(|p| p.byte())) {
            bad(Error::input(path, line, msg))?;
            continue;
        }
        let label = match parse_label(&rec[label_i], path, line) {
            Ok(label) => label,
            Err(e) => {
                bad(e)?;
                continue;
            }
        };
        let text = rec[text_i].to_string();
        if let Some(why) = unusable_text(&text) {
            bad(Error::input(path, line, why))?;
            continue;
        }
        let id = match id_i {
            Some(i) => rec[i].to_string(),
            None => format!("{}:{}", path.display(), line.unwrap_or(0)),
        };
        out.push(Example { id, label, text });
    }
    Ok(out)
}

fn read_labelled_jsonl(
    path: &Path,
    cols: &Columns,
    bad: &mut dyn FnMut(Error) -> Result<()>,
) -> Result<Vec<Example>> {
    let mut out = Vec::new();
    // Lines as bytes: `BufRead::lines` would say only "stream did not
    // contain valid UTF-8" of a line that is not.
    for (i, line) in BufReader::with_capacity(READ_BUFFER, open(path)?)
        .split(b'\n')
        .enumerate()
    {
        let n = i as u64 + 1;
        let line = line.map_err(|e| Error::input(path, Some(n), e.to_string()))?;
        let line = &line[bom_len(&line, n)..];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match labelled_json_line(line, n, path, cols) {
            Ok(ex) => out.push(ex),
            Err(e) => bad(e)?,
        }
    }
    Ok(out)
}

/// One JSON line of labelled data, line `n` of `path`.
fn labelled_json_line(line: &[u8], n: u64, path: &Path, cols: &Columns) -> Result<Example> {
    let names = [
        cols.text.as_str(),
        cols.label.as_str(),
        cols.id.as_deref().unwrap_or("id"),
    ];
    let values = match jsonl::read(line, &names) {
        Ok(jsonl::Line::Object(values)) => values,
        Ok(_) => Vec::new(),
        Err(e) => return Err(Error::input(path, Some(n), e.to_string())),
    };
    let field = |name: &str| jsonl::get(&values, &names, name).and_then(|x| x.as_str());
    let text = field(&cols.text)
        .ok_or_else(|| Error::input(path, Some(n), format!("no string field `{}`", cols.text)))?;
    let label = field(&cols.label)
        .ok_or_else(|| Error::input(path, Some(n), format!("no string field `{}`", cols.label)))?;
    let label = parse_label(label, path, Some(n))?;
    // A NUL byte cannot be in a JSON line, and `\u0000` is a character
    // written on purpose, which `satire score` scores too.
    if text.trim().is_empty() {
        return Err(Error::input(path, Some(n), "empty text"));
    }
    let id = jsonl::get(&values, &names, names[2])
        .and_then(jsonl::Field::as_id)
        .map_or_else(|| format!("{}:{n}", path.display()), str::to_string);
    Ok(Example {
        id,
        label,
        text: text.to_string(),
    })
}

/// Why a labelled text cannot be trained on, as `satire score` would
/// refuse it: binary (a NUL byte, as in UTF-16) or empty.
fn unusable_text(text: &str) -> Option<&'static str> {
    if memchr::memchr(0, text.as_bytes()).is_some() {
        Some("binary data (NUL byte)")
    } else if text.trim().is_empty() {
        Some("empty text")
    } else {
        None
    }
}

/// One labelled article file, refused as `satire score` refuses it: binary,
/// not UTF-8, or empty.
fn read_text_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Binary before not UTF-8, as `satire score` says it.
        let why = match memchr::memchr(0, e.as_bytes()) {
            Some(_) => "binary data (NUL byte)".to_string(),
            None => not_utf8(e.as_bytes(), e.utf8_error()),
        };
        Error::input(path, None, why)
    })?;
    match unusable_text(&text) {
        Some(why) => Err(Error::input(path, None, why)),
        None => Ok(text),
    }
}

/// The one way a folder is read, by `score` and `train` alike: every
/// entry below it, sorted by name, links followed; without `hidden`, not
/// the hidden ones ([`is_hidden`]) nor anything below them, as ripgrep
/// walks a tree. `dir` itself is read whatever its name: it was named.
pub fn folder_walk(
    dir: &Path,
    hidden: bool,
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    every_entry(dir).filter_entry(move |e| hidden || !passed_over(e))
}

/// [`folder_walk`] with the hidden entries too.
fn every_entry(dir: &Path) -> walkdir::IntoIter {
    walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
}

/// Whether [`folder_walk`] passes over `e` (and what lies below it).
fn passed_over(e: &walkdir::DirEntry) -> bool {
    e.depth() > 0 && is_hidden(e.file_name())
}

/// A name starting with `.`: a version-control folder (`.git`), a desktop's
/// index (macOS `.DS_Store`), an editor's swap file. Read as articles they
/// would be scored as news, or stop training as binary data.
pub fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// The path, and what went wrong, of an entry a [`folder_walk`] could not
/// read.
fn walk_failure(e: &walkdir::Error, dir: &Path) -> (PathBuf, String) {
    let path = e.path().unwrap_or(dir).to_path_buf();
    let why = if e.loop_ancestor().is_some() {
        "symlink loop".to_string()
    } else {
        e.io_error()
            .map_or_else(|| e.to_string(), |io| io.to_string())
    };
    (path, why)
}

/// Every file below `dir`, as `satire score` walks a folder (hidden ones
/// left out). Anything else (a dangling link, a socket, a loop) stops the
/// read, naming it.
fn files_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in folder_walk(dir, false) {
        let entry = entry.map_err(|e| {
            let (path, why) = walk_failure(&e, dir);
            Error::input(path, None, why)
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        } else if !entry.file_type().is_dir() {
            return Err(Error::input(entry.path(), None, "not a regular file"));
        }
    }
    Ok(files)
}

fn read_labelled_dir(dir: &Path, bad: &mut dyn FnMut(Error) -> Result<()>) -> Result<Vec<Example>> {
    let labels_csv = dir.join("labels.csv");
    let mut out = Vec::new();
    if labels_csv.is_file() {
        let mut rdr = csv_reader(QuoteWatch::new(BufReader::with_capacity(
            READ_BUFFER,
            open(&labels_csv)?,
        )));
        let headers = rdr
            .headers()
            .map_err(|e| csv_error(&labels_csv, e))?
            .clone();
        let file_i = find_column(&headers, "file", &labels_csv)?;
        let label_i = find_column(&headers, "label", &labels_csv)?;
        let mut rec = csv::StringRecord::new();
        // Each file's first line: a file listed twice would be counted
        // twice, or under both labels, without a word.
        let mut listed = std::collections::HashMap::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    return Err(csv_record_error(&labels_csv, e, &mut rdr))
                }
                Err(e) => {
                    bad(csv_record_error(&labels_csv, e, &mut rdr))?;
                    continue;
                }
            }
            let line = rec.position().map(|p| record_line(&mut rdr, p));
            let file = dir.join(&rec[file_i]);
            let read = parse_label(&rec[label_i], &labels_csv, line)
                .and_then(|label| Ok((label, read_text_file(&file)?)));
            let (label, text) = match read {
                Ok(read) => read,
                Err(e) => {
                    bad(e)?;
                    continue;
                }
            };
            // The file exists (it was just read): its canonical path names
            // it however it is spelt (`./a.txt`, a symlink).
            let same = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if let Some(first) = listed.insert(same, line) {
                let first = first.map_or(String::new(), |l| format!(" (first on line {l})"));
                return Err(Error::input(
                    &labels_csv,
                    line,
                    format!("`{}` is listed more than once{first}", &rec[file_i]),
                ));
            }
            out.push(Example {
                id: file.display().to_string(),
                label,
                text,
            });
        }
        return Ok(out);
    }
    if !Label::ALL.iter().any(|l| dir.join(l.as_str()).is_dir()) {
        return Err(Error::input(
            dir,
            None,
            "a labelled directory needs `satire/` and `real/` subfolders, or a `labels.csv` with columns `file,label`",
        ));
    }
    // Anything beside the two label folders would be left out unseen
    // (hidden entries, such as `.git`, excepted).
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let known = Label::ALL.iter().any(|l| name == l.as_str());
        if !known && !is_hidden(&name) {
            return Err(Error::input(
                entry.path(),
                None,
                format!(
                    "not in `satire/` or `real/`, so it has no label: move it out of {}, or into one of them",
                    dir.display()
                ),
            ));
        }
    }
    for label in Label::ALL {
        let sub = dir.join(label.as_str());
        if !sub.is_dir() {
            continue;
        }
        for file in files_below(&sub)? {
            let text = match read_text_file(&file) {
                Ok(text) => text,
                Err(e) => {
                    bad(e)?;
                    continue;
                }
            };
            out.push(Example {
                id: file.display().to_string(),
                label,
                text,
            });
        }
    }
    Ok(out)
}

/// The line the record the csv crate places at `pos` (its position of a
/// record just read, or of the error in one) begins on: see
/// [`QuoteWatch::record_line`].
fn record_line<R: Read>(rdr: &mut csv::Reader<QuoteWatch<R>>, pos: &csv::Position) -> u64 {
    let end = rdr.position().byte();
    rdr.get_mut().record_line(pos.byte(), end, pos.line())
}

/// A CSV error in a header, on the line the csv crate gives.
fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    csv_error_on(path, e, line)
}

/// A CSV error in a record, on the line the record begins on.
fn csv_record_error<R: Read>(
    path: &Path,
    e: csv::Error,
    rdr: &mut csv::Reader<QuoteWatch<R>>,
) -> Error {
    let line = e.position().map(|p| record_line(rdr, p));
    csv_error_on(path, e, line)
}

fn csv_error_on(path: &Path, e: csv::Error, line: Option<u64>) -> Error {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            let fields = if *len == 1 { "field" } else { "fields" };
            format!("row has {len} {fields}, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "invalid UTF-8 in field {} at byte {} of the field: {NOT_UTF8}",
            err.field() + 1,
            err.valid_up_to()
        ),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    };
    Error::input(path, line, message)
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// One thing to score: its id and its text, or why there is no text.
#[derive(Clone, Debug)]
pub struct Item {
    /// The row's id, or the file's path.
    pub id: String,
    /// The text, or an error message naming the file and line.
    pub text: std::result::Result<String, String>,
}

/// The one item of a CSV or JSONL input that holds no rows, so that it is
/// not silently passed over.
fn no_rows(name: &str) -> Item {
    Item {
        id: name.to_string(),
        text: Err(format!("{name}: no rows")),
    }
}

/// Standard input, calling `wait` before a read that would wait for data
/// (see [`ItemReader::for_each_waiting`]), and failing that read with
/// [`STOPPED_WAITING`] when `wait` says to stop, or with [`OUTPUT_GONE`]
/// (a broken pipe) when `watch_stdout` is set and standard output's
/// reader leaves while it waits.
struct Watched<R, W> {
    inner: R,
    wait: W,
    watch_stdout: bool,
}

/// The read error of standard input when the caller stopped the run while
/// it waited for more.
pub const STOPPED_WAITING: &str = "the run stopped while waiting for more input";

/// The read error of standard input when, while it waited for more, no
/// one was left to read standard output.
pub const OUTPUT_GONE: &str = "standard output closed while waiting for more input";

impl<R: Read, W: FnMut() -> bool> Read for Watched<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !stdin_ready() {
            if !(self.wait)() {
                return Err(std::io::Error::other(STOPPED_WAITING));
            }
            if self.watch_stdout && !stdin_ready_before_stdout_gone() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    OUTPUT_GONE,
                ));
            }
        }
        self.inner.read(buf)
    }
}

/// Standard input read straight from its file descriptor, without the
/// standard library's buffer: whether a read would wait is asked of the
/// descriptor ([`stdin_ready`]), which knows nothing of bytes held in a
/// buffer above it. A closed descriptor reads as empty, as the standard
/// library's `stdin` does.
#[cfg(unix)]
struct RawStdin;

#[cfg(unix)]
impl Read for RawStdin {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            // As the standard library does: a count past `isize::MAX` is
            // the system's to define.
            let len = buf.len().min(isize::MAX as usize);
            // SAFETY: `buf` is valid for writes of `len` bytes.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), len) };
            if let Ok(n) = usize::try_from(n) {
                return Ok(n);
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EBADF) => return Ok(0),
                _ => return Err(e),
            }
        }
    }
}

/// Whether a read of standard input would return at once: data, its end,
/// or an error are there. Where that cannot be asked, no.
#[cfg(unix)]
fn stdin_ready() -> bool {
    let mut fd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid `pollfd` for a count of one, and no waiting (a
    // timeout of 0). A failed poll (-1) counts as ready: the read reports.
    unsafe { libc::poll(&mut fd, 1, 0) != 0 }
}

#[cfg(not(unix))]
fn stdin_ready() -> bool {
    false
}

/// Waits until a read of standard input would return at once (true), or
/// until standard output reports an error or hang-up (false): a pipe
/// reports an error once every process has closed its reading end, so a
/// run whose reader downstream has left stops there, rather than when it
/// next writes, which may be never (a producer upstream keeping standard
/// input open, waiting for rows that no one reads). A write to such an
/// output fails at once; one that succeeded just before (another process
/// held the reading end for a moment) left nothing to fail. Standard output
/// that is a file or is closed never ends the wait.
#[cfg(unix)]
fn stdin_ready_before_stdout_gone() -> bool {
    let mut fds = [
        libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        },
        // No events asked for: errors and hang-ups are always reported.
        libc::pollfd {
            fd: 1,
            events: 0,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: two valid `pollfd`s for a count of two; -1 waits without
        // a time limit.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            // The read reports what is wrong, or waits as it would have.
            return true;
        }
        if fds[0].revents != 0 {
            return true;
        }
        if fds[1].revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            return false;
        }
        // A closed standard output (POLLNVAL) is not watched again: its
        // writes are dropped, as the standard library does, and poll
        // would report it at once every time.
        fds[1].fd = -1;
    }
}

#[cfg(not(unix))]
fn stdin_ready_before_stdout_gone() -> bool {
    true
}

/// How standard input (`-`) is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StdinFormat {
    /// All of it is one document.
    Text,
    /// Each line is one document.
    Lines,
    /// Each line is a JSON object (or string).
    Jsonl,
    /// A CSV file.
    Csv,
    /// Each line is a JSON object or string when it parses as one, else
    /// plain text (the default with `--format jsonl`, for use as a mapper).
    Auto,
}

/// Settings for reading items to score.
#[derive(Clone, Debug)]
pub struct ItemReader {
    /// Columns / fields.
    pub columns: Columns,
    /// How `-` is read.
    pub stdin: StdinFormat,
    /// Items larger than this are errors.
    pub max_bytes: u64,
    /// Whether a wait for standard input also ends, the run's input with
    /// it, when no one is left to read standard output (set when the rows
    /// go there).
    pub watch_stdout: bool,
    /// A file this run writes (the output's temporary file): a folder
    /// being read passes over it rather than read the run's own rows.
    pub own_output: Option<PathBuf>,
    /// Whether a folder's hidden entries are read too ([`folder_walk`]).
    pub hidden: bool,
    /// How many hidden entries the folder walks passed over (each counted
    /// once, not what lies below it), for the verb's summary: shared by
    /// the clones that read on other threads.
    pub hidden_passed: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl ItemReader {
    /// A reader of `columns`, `-` read as `stdin`, items up to `max_bytes`;
    /// standard output not watched, no output of its own to pass over, and
    /// hidden entries passed over: the fields a verb sets once it knows
    /// where its rows go, or from `--hidden`.
    pub fn new(columns: Columns, stdin: StdinFormat, max_bytes: u64) -> Self {
        ItemReader {
            columns,
            stdin,
            max_bytes,
            watch_stdout: false,
            own_output: None,
            hidden: false,
            hidden_passed: Default::default(),
        }
    }

    /// Checks, before anything is scored, that every CSV named directly
    /// has the columns asked for. An empty one (no header, no rows) passes:
    /// it is an input with nothing in it, not a wrong column name, and gets
    /// its error row in turn.
    pub fn check_headers(&self, paths: &[PathBuf]) -> Result<()> {
        for p in paths {
            if p.as_os_str() != "-" && extension(p) == "csv" && p.is_file() {
                let mut rdr = csv_reader(QuoteWatch::new(open(p)?));
                let headers = rdr.headers().map_err(|e| csv_error(p, e))?.clone();
                if rdr.get_ref().unclosed().is_some() {
                    return Err(Error::input(p, Some(1), UNCLOSED_HEADER));
                }
                if headers.is_empty() {
                    continue;
                }
                self.columns_of(&headers, p)?;
            }
        }
        Ok(())
    }

    /// The text column and the id column (if any) of a CSV with `headers`:
    /// one answer for [`ItemReader::check_headers`] and the read itself,
    /// so a header the read would refuse is refused before anything is
    /// scored.
    fn columns_of(
        &self,
        headers: &csv::StringRecord,
        path: &Path,
    ) -> Result<(usize, Option<usize>)> {
        let text_i = find_column(headers, &self.columns.text, path)?;
        let id_i = match &self.columns.id {
            Some(id) => Some(find_column(headers, id, path)?),
            None => optional_column(headers, "id", path)?,
        };
        Ok((text_i, id_i))
    }

    /// Calls `f` with every item of every path, in order: files, directory
    /// trees (sorted, recursively; a `labels.csv` inside a folder is its
    /// label index and is skipped), `-` for standard input, rows of `.csv`
    /// files and lines of `.jsonl` files. Every item yields exactly one call;
    /// problems with one item are in its `text`. Returns early only when `f`
    /// fails or a CSV lacks a needed column.
    pub fn for_each<F: FnMut(Item) -> Result<()>>(&self, paths: &[PathBuf], f: F) -> Result<()> {
        self.for_each_waiting(paths, f, || true)
    }

    /// [`ItemReader::for_each`], calling `wait` whenever standard input has
    /// nothing to read yet, just before the read that waits for it: every
    /// item read so far has gone to `f` by then, so a caller that flushes
    /// its output in `wait` leaves nothing held back while the input
    /// trickles in (a pipeline feeding items one at a time gets each one's
    /// row as it goes, not at the end). Files never wait. `wait` returns
    /// whether to go on: with `false` (the output failed, say), standard
    /// input ends there with a read error ([`STOPPED_WAITING`]) instead of
    /// waiting for an item that may be long in coming. With
    /// [`ItemReader::watch_stdout`], it ends likewise ([`OUTPUT_GONE`]) when
    /// no one is left to read standard output while it waits.
    pub fn for_each_waiting<F: FnMut(Item) -> Result<()>>(
        &self,
        paths: &[PathBuf],
        mut f: F,
        mut wait: impl FnMut() -> bool,
    ) -> Result<()> {
        for p in paths {
            if p.as_os_str() == "-" {
                #[cfg(unix)]
                let inner = RawStdin;
                #[cfg(not(unix))]
                let inner = std::io::stdin().lock();
                let stdin = Watched {
                    inner,
                    wait: &mut wait,
                    watch_stdout: self.watch_stdout,
                };
                self.for_each_in_stream(
                    p,
                    self.stdin,
                    std::io::BufReader::with_capacity(READ_BUFFER, stdin),
                    &mut f,
                )?;
                continue;
            }
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => self.walk(p, &mut f)?,
                _ => self.file(p, true, &mut f)?,
            }
        }
        Ok(())
    }

    /// Calls `f` with every item of one stream read as `format` (what
    /// standard input goes through); `name` names it in ids and errors.
    pub fn for_each_in_stream<R: BufRead, F: FnMut(Item) -> Result<()>>(
        &self,
        name: &Path,
        format: StdinFormat,
        r: R,
        f: &mut F,
    ) -> Result<()> {
        match format {
            StdinFormat::Text => f(self.whole(name, r)),
            StdinFormat::Csv => self.csv(name, r, f),
            lines => self.lines(name, r, lines, f),
        }
    }

    fn walk<F: FnMut(Item) -> Result<()>>(&self, dir: &Path, f: &mut F) -> Result<()> {
        // As `folder_walk(dir, self.hidden)`, counting what it passes over.
        let walk = every_entry(dir).filter_entry(|e| {
            let pass = !self.hidden && passed_over(e);
            if pass {
                self.hidden_passed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            !pass
        });
        for entry in walk {
            match entry {
                Ok(e) if e.file_type().is_dir() => {}
                // A labelled folder's index, not an article.
                Ok(e)
                    if e.file_type().is_file()
                        && e.depth() > 0
                        && e.file_name() == "labels.csv" => {}
                Ok(e) if self.is_own_output(e.path()) => {}
                Ok(e) if e.file_type().is_file() => self.file(e.path(), false, f)?,
                Ok(e) => f(Item {
                    id: e.path().display().to_string(),
                    text: Err(format!("{}: not a regular file", e.path().display())),
                })?,
                Err(e) => {
                    let (path, why) = walk_failure(&e, dir);
                    let path = path.display().to_string();
                    f(Item {
                        id: path.clone(),
                        text: Err(format!("{path}: {why}")),
                    })?
                }
            }
        }
        Ok(())
    }

    /// Whether `path` is [`Self::own_output`]: the names first, which
    /// costs nothing for every other file, then the files themselves.
    fn is_own_output(&self, path: &Path) -> bool {
        let Some(own) = &self.own_output else {
            return false;
        };
        own.file_name() == path.file_name() && same_file(own, path)
    }

    /// `explicit`: named on the command line (a CSV lacking a column then
    /// stops the run; found in a folder, it is one error row).
    fn file<F: FnMut(Item) -> Result<()>>(
        &self,
        path: &Path,
        explicit: bool,
        f: &mut F,
    ) -> Result<()> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => {
                return f(Item {
                    id: path.display().to_string(),
                    text: Err(format!("{}: {e}", path.display())),
                })
            }
        };
        match extension(path).as_str() {
            "csv" => match self.csv(path, BufReader::with_capacity(READ_BUFFER, file), f) {
                Err(e @ Error::Input { .. }) if !explicit => f(Item {
                    id: path.display().to_string(),
                    text: Err(e.to_string()),
                }),
                other => other,
            },
            "jsonl" | "ndjson" => self.lines(
                path,
                BufReader::with_capacity(READ_BUFFER, file),
                StdinFormat::Jsonl,
                f,
            ),
            _ => f(self.whole(path, file)),
        }
    }

    fn whole<R: Read>(&self, path: &Path, r: R) -> Item {
        let id = path.display().to_string();
        let mut buf = Vec::new();
        let text = match r
            .take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut buf)
        {
            Err(e) => Err(format!("{id}: {e}")),
            Ok(_) if buf.len() as u64 > self.max_bytes => Err(format!(
                "{id}: larger than --max-bytes ({} bytes)",
                self.max_bytes
            )),
            Ok(_) => self.decode(buf, &id, None),
        };
        Item { id, text }
    }

    fn decode(
        &self,
        buf: Vec<u8>,
        path: &str,
        line: Option<u64>,
    ) -> std::result::Result<String, String> {
        // Spelled only for an error: formatting it for every row cost one
        // allocation a row on the scoring path.
        let at = || match line {
            Some(l) => format!("{path}, line {l}"),
            None => path.to_string(),
        };
        if memchr::memchr(0, &buf).is_some() {
            return Err(format!("{}: binary data (NUL byte)", at()));
        }
        // `simdutf8` checks with the vector instructions the CPU has,
        // found at run time (AVX2 here), several times faster than the
        // standard library, which took 3% of the scoring time; the
        // standard library's check then says where bad bytes are.
        let text = if simdutf8::basic::from_utf8(&buf).is_ok() {
            // SAFETY: the bytes were just found to be UTF-8.
            unsafe { String::from_utf8_unchecked(buf) }
        } else {
            String::from_utf8(buf)
                .map_err(|e| format!("{}: {}", at(), not_utf8(e.as_bytes(), e.utf8_error())))?
        };
        if text.trim().is_empty() {
            return Err(format!("{}: empty text", at()));
        }
        Ok(text)
    }

    fn lines<R: BufRead, F: FnMut(Item) -> Result<()>>(
        &self,
        path: &Path,
        mut r: R,
        format: StdinFormat,
        f: &mut F,
    ) -> Result<()> {
        let name = path.display().to_string();
        let mut buf = Vec::new();
        let mut n = 0u64;
        loop {
            buf.clear();
            let got = (&mut r)
                .take(self.max_bytes.saturating_add(2))
                .read_until(b'\n', &mut buf);
            match got {
                Err(e) => {
                    n += 1;
                    return f(Item {
                        id: format!("{name}:{n}"),
                        text: Err(format!("{name}, line {n}: {e}")),
                    });
                }
                Ok(0) if n == 0 => return f(no_rows(&name)),
                Ok(0) => return Ok(()),
                Ok(_) => {}
            }
            n += 1;
            let complete = buf.last() == Some(&b'\n');
            if !complete && buf.len() as u64 > self.max_bytes {
                // Skip the rest of the over-long line.
                let mut sink = Vec::new();
                loop {
                    sink.clear();
                    match (&mut r).take(1 << 20).read_until(b'\n', &mut sink) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if sink.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                    }
                }
                f(Item {
                    id: format!("{name}:{n}"),
                    text: Err(format!(
                        "{name}, line {n}: larger than --max-bytes ({} bytes)",
                        self.max_bytes
                    )),
                })?;
                continue;
            }
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if buf.len() as u64 > self.max_bytes {
                // A whole line just over the limit: read complete, still too large.
                f(Item {
                    id: format!("{name}:{n}"),
                    text: Err(format!(
                        "{name}, line {n}: larger than --max-bytes ({} bytes)",
                        self.max_bytes
                    )),
                })?;
                continue;
            }
            let mut line = std::mem::take(&mut buf);
            line.drain(..bom_len(&line, n));
            let plain = |line| Item {
                id: format!("{name}:{n}"),
                text: self.decode(line, &name, Some(n)),
            };
            let item = match format {
                StdinFormat::Jsonl => self.json_item(&line, &name, n),
                StdinFormat::Auto => {
                    // A line is JSON if it is a string or an object; an
                    // object naming a field twice is JSON too, and gets its
                    // error row.
                    let first = line.iter().find(|b| !b.is_ascii_whitespace());
                    let read = matches!(first, Some(b'{' | b'"'))
                        .then(|| jsonl::read(&line, &self.json_fields()));
                    match read {
                        Some(
                            read @ (Ok(jsonl::Line::Text(_) | jsonl::Line::Object(_))
                            | Err(jsonl::Bad::Repeated { .. })),
                        ) => self.json_fields_item(read, &name, n),
                        _ => plain(line),
                    }
                }
                _ => plain(line),
            };
            f(item)?;
        }
    }

    /// The fields a JSON line is read for: the text, then the id.
    fn json_fields(&self) -> [&str; 2] {
        [
            self.columns.text.as_str(),
            self.columns.id.as_deref().unwrap_or("id"),
        ]
    }

    fn json_item(&self, line: &[u8], name: &str, n: u64) -> Item {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Item {
                id: format!("{name}:{n}"),
                text: Err(format!("{name}, line {n}: empty line")),
            };
        }
        self.json_fields_item(jsonl::read(line, &self.json_fields()), name, n)
    }

    /// The item of a JSON line read for [`ItemReader::json_fields`].
    fn json_fields_item(
        &self,
        read: std::result::Result<jsonl::Line, jsonl::Bad>,
        name: &str,
        n: u64,
    ) -> Item {
        // The id of a line without one, spelled only for such a line (as
        // `decode` spells a row's place only for an error).
        let fallback = || format!("{name}:{n}");
        let names = self.json_fields();
        let id_in = |values: &[Option<jsonl::Field>]| {
            jsonl::get(values, &names, names[1])
                .and_then(jsonl::Field::as_id)
                .map(str::to_string)
        };
        let (text, id) = match read {
            Err(e) => {
                // A line naming its text twice still has its id, unless
                // the id is what it names twice.
                let id = match &e {
                    jsonl::Bad::Repeated {
                        name: field,
                        values,
                    } if field != names[1] => id_in(values),
                    _ => None,
                };
                return Item {
                    id: id.unwrap_or_else(fallback),
                    text: Err(format!("{name}, line {n}: {e}")),
                };
            }
            Ok(jsonl::Line::Text(s)) => (Some(s), None),
            Ok(jsonl::Line::Other) => (None, None),
            Ok(jsonl::Line::Object(values)) => {
                let id = id_in(&values);
                let text = jsonl::get(&values, &names, names[0])
                    .and_then(jsonl::Field::as_str)
                    .map(str::to_string);
                (text, id)
            }
        };
        let text = match text {
            Some(t) if t.trim().is_empty() => Err(format!("{name}, line {n}: empty text")),
            Some(t) => Ok(t),
            None => Err(format!(
                "{name}, line {n}: no string field `{}`",
                self.columns.text
            )),
        };
        Item {
            id: id.unwrap_or_else(fallback),
            text,
        }
    }

    fn csv<R: Read, F: FnMut(Item) -> Result<()>>(
        &self,
        path: &Path,
        r: R,
        f: &mut F,
    ) -> Result<()> {
        let name = path.display().to_string();
        let mut rdr = csv_reader(QuoteWatch::new(r));
        let headers = match rdr.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                return f(Item {
                    id: name.clone(),
                    text: Err(csv_error(path, e).to_string()),
                })
            }
        };
        if rdr.get_ref().unclosed().is_some() {
            return f(Item {
                id: name.clone(),
                text: Err(format!("{name}, line 1: {UNCLOSED_HEADER}")),
            });
        }
        if headers.is_empty() {
            return f(Item {
                id: name.clone(),
                text: Err(format!("{name}: {EMPTY_CSV}")),
            });
        }
        let (text_i, id_i) = self.columns_of(&headers, path)?;
        let mut rec = csv::ByteRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_byte_record(&mut rec) {
                Ok(false) if rdr.position().record() <= 1 => return f(no_rows(&name)),
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => {
                    let at = e.position().map(|p| record_line(&mut rdr, p));
                    let err = csv_error_on(path, e, at);
                    f(Item {
                        id: format!("{name}:{}", at.unwrap_or(line)),
                        text: Err(err.to_string()),
                    })?;
                    continue;
                }
            }
            let line = rec.position().map_or(line, |p| record_line(&mut rdr, p));
            let id = match id_i.and_then(|i| rec.get(i)) {
                Some(b) => String::from_utf8_lossy(b).into_owned(),
                None => format!("{name}:{line}"),
            };
            let field = rec.get(text_i).unwrap_or(b"");
            let text = if let Some(msg) = bad_quoting(&mut rdr, rec.position().map(|p| p.byte())) {
                Err(format!("{name}, line {line}: {msg}"))
            } else if field.len() as u64 > self.max_bytes {
                Err(format!(
                    "{name}, line {line}: larger than --max-bytes ({} bytes)",
                    self.max_bytes
                ))
            } else {
                self.decode(field.to_vec(), &name, Some(line))
            };
            f(Item { id, text })?;
        }
    }
}

/// A CSV writer's error as the I/O error it is, so that its kind (a closed
/// pipe, above all) survives; `?` would wrap it as `ErrorKind::Other`.
fn csv_write_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// One output row.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreRow<'a> {
    /// Item id.
    pub id: &'a str,
    /// `satire`, `real`, `unsure`, or empty on error.
    pub label: &'a str,
    /// Calibrated probability of satire.
    pub p_satire: Option<f64>,
    /// Calibrated log-odds of satire.
    pub log_odds: Option<f64>,
    /// Empty when scored.
    pub error: &'a str,
}

/// A number written with a fixed count of decimals, exactly as
/// `format!("{x:.D}")` writes it, without its cost on the output path:
/// the standard library rounds the exact binary value in big-number
/// arithmetic whenever its fast attempt gives up, and allocates a string;
/// this scales, rounds and spells the digits in integers, on the stack.
/// Where that could round otherwise than the exact value (a product within
/// a few units in the last place of a half), or for numbers too large or not
/// finite, it writes with `format!`.
enum Fixed {
    /// The text is `buf[start..]`.
    Short([u8; 32], usize),
    Long(String),
}

impl Fixed {
    fn new(x: f64, decimals: u32) -> Fixed {
        debug_assert!(decimals <= 9);
        let scale = 10u64.pow(decimals);
        let s = x.abs() * scale as f64;
        let floor = s.floor();
        let half = s - floor - 0.5;
        // Below 2^52 the scaled value and its rounding are exact integers
        // in f64; the product is within half a unit in its last place of
        // `|x| * scale`, so only a product that close to a half could round
        // the other way than the exact value.
        let ulps = s * f64::EPSILON * 4.0;
        // False for NaN and infinities too.
        let fits = s < (1u64 << 52) as f64;
        if !fits || half.abs() <= ulps {
            return Fixed::Long(format!("{x:.prec$}", prec = decimals as usize));
        }
        let mut v = (floor as u64) + u64::from(half > 0.0);
        // Right to left: the decimals, the point, the whole part (at least
        // one digit; under 2^52 it has at most 16), the sign.
        let mut buf = [0u8; 32];
        let mut at = buf.len();
        for k in 0.. {
            if k == decimals && decimals > 0 {
                at -= 1;
                buf[at] = b'.';
            }
            at -= 1;
            buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if k >= decimals && v == 0 {
                break;
            }
        }
        if x.is_sign_negative() {
            at -= 1;
            buf[at] = b'-';
        }
        Fixed::Short(buf, at)
    }

    fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits, `-` and `.` are written.
            Fixed::Short(buf, start) => std::str::from_utf8(&buf[*start..]).unwrap_or_default(),
            Fixed::Long(s) => s,
        }
    }
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// CSV with header `id,label,p_satire,log_odds,error`.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Aligned columns for reading.
    Table,
}

/// Writes score rows in one of the formats.
pub enum ScoreWriter<W: Write> {
    /// CSV through the csv crate.
    Csv(Box<csv::Writer<W>>),
    /// JSON lines.
    Jsonl(W),
    /// Aligned text.
    Table(W),
}

impl<W: Write> ScoreWriter<W> {
    /// A writer; writes the header (CSV, table) at once.
    pub fn new(mut w: W, format: OutputFormat) -> std::io::Result<Self> {
        Ok(match format {
            OutputFormat::Csv => {
                let mut csv = csv_writer(w);
                csv.write_record(["id", "label", "p_satire", "log_odds", "error"])
                    .map_err(csv_write_error)?;
                ScoreWriter::Csv(Box::new(csv))
            }
            OutputFormat::Table => {
                writeln!(w, "{:<7} {:>9} {:>9}  id", "label", "p_satire", "log_odds")?;
                ScoreWriter::Table(w)
            }
            OutputFormat::Jsonl => ScoreWriter::Jsonl(w),
        })
    }

    /// Writes one row.
    pub fn write(&mut self, row: &ScoreRow<'_>) -> std::io::Result<()> {
        let p = row.p_satire.map(|p| Fixed::new(p, 6));
        let lo = row.log_odds.map(|x| Fixed::new(x, 4));
        let (p, lo) = (
            p.as_ref().map_or("", Fixed::as_str),
            lo.as_ref().map_or("", Fixed::as_str),
        );
        match self {
            ScoreWriter::Csv(csv) => csv
                .write_record([row.id, row.label, p, lo, row.error])
                .map_err(csv_write_error)?,
            ScoreWriter::Jsonl(out) => {
                let obj = serde_json::json!({
                    "id": row.id,
                    "label": if row.label.is_empty() { serde_json::Value::Null } else { row.label.into() },
                    "p_satire": row.p_satire.map(|p| (p * 1e6).round() / 1e6),
                    "log_odds": row.log_odds.map(|x| (x * 1e4).round() / 1e4),
                    "error": if row.error.is_empty() { serde_json::Value::Null } else { row.error.into() },
                });
                serde_json::to_writer(&mut *out, &obj)?;
                out.write_all(b"\n")?;
            }
            ScoreWriter::Table(out) => {
                // One line a row, whatever an id or a message holds.
                let id = printable(row.id);
                if row.error.is_empty() {
                    writeln!(out, "{:<7} {:>9} {:>9}  {id}", row.label, p, lo)?;
                } else {
                    writeln!(
                        out,
                        "{:<7} {:>9} {:>9}  {id}  ERROR: {}",
                        "error",
                        "-",
                        "-",
                        printable(row.error)
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Flushes what is written so far.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ScoreWriter::Csv(csv) => csv.flush(),
            ScoreWriter::Jsonl(w) | ScoreWriter::Table(w) => w.flush(),
        }
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(self) -> std::io::Result<W> {
        match self {
            ScoreWriter::Csv(csv) => csv.into_inner().map_err(|e| e.into_error()),
            ScoreWriter::Jsonl(mut w) | ScoreWriter::Table(mut w) => {
                w.flush()?;
                Ok(w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_only() {
        assert!(matches!(
            printable("Café “quoted” — fine\\"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\nb\r\tc\u{1b}[0m\u{7f}\u{85}é"),
            "a\\nb\\r\\tc\\u{1b}[0m\\u{7f}\\u{85}é"
        );
    }

    #[test]
    fn a_commit_that_fails_removes_its_temporary_file() {
        // The target turned into a folder while the file was written: the
        // rename fails, and the temporary file must not stay behind.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rows.csv");
        let mut w = AtomicFile::create(&target).unwrap();
        w.write_all(b"id,label\n").unwrap();
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("kept"), b"").unwrap();
        let err = w.commit().unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", target.display())), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["rows.csv"], "{left:?}");
    }

    fn std_fixed(x: f64, d: u32) -> String {
        format!("{x:.prec$}", prec = d as usize)
    }

    #[test]
    fn fixed_writes_what_format_writes() {
        // Exact halves (odd multiples of 2^-k) where half-to-even decides,
        // values just either side of them, negatives that round to zero,
        // zeros, large and non-finite values.
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.0 / 128.0,
            3.0 / 128.0,
            0.00005,
            -0.00004,
            -0.000_000_4,
            0.999_999_5,
            0.999_999_499_999,
            12.345_65,
            -3.6874,
            1e12,
            -1e15,
            4.5e15,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for k in 1..40 {
            for odd in [1u64, 3, 5, 7, 101, 12345] {
                let h = odd as f64 / (1u64 << k) as f64;
                xs.extend([
                    h,
                    -h,
                    h * 1000.0,
                    f64::from_bits(h.to_bits() + 1),
                    f64::from_bits(h.to_bits() - 1),
                ]);
            }
        }
        for x in xs {
            for d in [0, 1, 4, 6] {
                assert_eq!(
                    Fixed::new(x, d).as_str(),
                    std_fixed(x, d),
                    "{x:e} to {d} places"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fixed_equals_format_on_any_f64(bits in proptest::num::u64::ANY, d in 0u32..=9) {
            let x = f64::from_bits(bits);
            proptest::prop_assert_eq!(Fixed::new(x, d).as_str().to_string(), std_fixed(x, d));
        }

        #[test]
        fn fixed_equals_format_on_probabilities_and_log_odds(p in 0.0f64..=1.0, lo in -1e6f64..1e6) {
            proptest::prop_assert_eq!(Fixed::new(p, 6).as_str().to_string(), std_fixed(p, 6));
            proptest::prop_assert_eq!(Fixed::new(lo, 4).as_str().to_string(), std_fixed(lo, 4));
        }
    }

    #[test]
    fn not_utf8_names_the_bytes_or_a_character_cut_off() {
        let latin1 = &b"caf\xe9 au lait".to_vec()[..];
        let e = std::str::from_utf8(latin1).unwrap_err();
        let why = not_utf8(latin1, e);
        assert!(
            why.starts_with("invalid UTF-8 at byte 3 (0xE9): satire reads UTF-8 only;"),
            "{why}"
        );
        let cut = &"café".as_bytes()[..4];
        let e = std::str::from_utf8(cut).unwrap_err();
        assert_eq!(
            not_utf8(cut, e),
            "invalid UTF-8 at byte 3: the text ends inside a character"
        );
    }

    /// Reads one byte at a time, so every state meets a chunk boundary.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn watch(input: &[u8], trickle: bool) -> (Option<u64>, Vec<u64>) {
        let mut out = Vec::new();
        let found = if trickle {
            let mut w = QuoteWatch::new(Trickle(input));
            w.read_to_end(&mut out).unwrap();
            (w.unclosed(), w.text_after_quote.into_iter().collect())
        } else {
            let mut w = QuoteWatch::new(input);
            w.read_to_end(&mut out).unwrap();
            (w.unclosed(), w.text_after_quote.into_iter().collect())
        };
        assert_eq!(out, input);
        found
    }

    #[test]
    fn quote_watch_finds_stray_and_open_quotes_across_reads() {
        let cases: [(&[u8], Option<u64>, &[u64]); 6] = [
            (b"id,text\na,\"fine, \"\"quoted\"\"\"\n", None, &[]),
            (b"id,text\na,plain \"quote\" inside\n", None, &[]),
            (b"id,text\na,\"multi\nline\"\nb,x\n", None, &[]),
            (b"id,text\na,\"never closed\nb,x\n", Some(10), &[]),
            (b"id,text\na,\"say \"hi\" now\"\n", None, &[16]),
            (b"\"id,text\na,b\n", Some(0), &[]),
        ];
        for (input, unclosed, after) in cases {
            for trickle in [false, true] {
                let (u, a) = watch(input, trickle);
                assert_eq!(u, unclosed, "{:?}", String::from_utf8_lossy(input));
                assert_eq!(a, after, "{:?}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn the_largest_max_bytes_reads_every_line_and_text_whole() {
        // `--max-bytes` takes any u64. Reading a line takes up to the limit
        // plus two bytes and a whole text the limit plus one: near
        // u64::MAX that sum wrapped, cutting every line into single bytes
        // and every text to nothing.
        let data = &b"one line\ntwo line\n"[..];
        for max_bytes in [u64::MAX, u64::MAX - 1, u64::MAX - 2, 1 << 40] {
            let reader = ItemReader::new(Columns::default(), StdinFormat::Lines, max_bytes);
            for (format, want) in [
                (StdinFormat::Lines, vec!["one line", "two line"]),
                (StdinFormat::Text, vec!["one line\ntwo line\n"]),
            ] {
                let mut got = Vec::new();
                reader
                    .for_each_in_stream(Path::new("-"), format, data, &mut |item| {
                        got.push(item.text);
                        Ok(())
                    })
                    .expect("read to the end");
                let want: Vec<_> = want.into_iter().map(|t| Ok(t.to_string())).collect();
                assert_eq!(got, want, "{format:?}, --max-bytes {max_bytes}");
            }
        }
    }

    /// Gives its bytes, then fails every read after them.
    struct FailsAfter<'a>(&'a [u8]);
    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("the disk went away"));
            }
            self.0.read(buf)
        }
    }

    #[test]
    fn a_read_error_ends_the_stream_with_one_error_row_in_every_format() {
        // A read that fails may fail again at every try: one error item,
        // then the input ends, in each format standard input can have.
        let reader = ItemReader::new(Columns::default(), StdinFormat::Csv, u64::MAX);
        for (format, data) in [
            (StdinFormat::Csv, &b"id,text\na,first text\n"[..]),
            (StdinFormat::Lines, &b"first text\n"[..]),
            (
                StdinFormat::Jsonl,
                &b"{\"id\":\"a\",\"text\":\"first text\"}\n"[..],
            ),
        ] {
            let mut items = Vec::new();
            let r = std::io::BufReader::new(FailsAfter(data));
            let result = reader.for_each_in_stream(Path::new("-"), format, r, &mut |item| {
                items.push(item);
                // Ends a loop that would never end.
                if items.len() > 10 {
                    return Err(Error::Data("too many items".into()));
                }
                Ok(())
            });
            assert!(result.is_ok(), "{format:?}: {result:?} {items:?}");
            assert_eq!(items.len(), 2, "{format:?}: {items:?}");
            assert_eq!(items[0].text.as_deref(), Ok("first text"), "{format:?}");
            let err = items[1].text.as_ref().expect_err("an error item");
            assert!(err.contains("the disk went away"), "{format:?}: {err}");
        }
    }
}
