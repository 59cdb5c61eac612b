//! Helpers shared by the integration tests: run the built binary, make
//! temporary inputs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn seeds() -> PathBuf {
    root().join("corpus/seeds")
}

/// Runs `satire ARGS` from the repository root, with `stdin` fed in.
pub fn satire(args: &[&str], stdin: Option<&str>) -> Output {
    satire_with(args, stdin.map(str::as_bytes))
}

/// [`satire`] with `stdin` as bytes, which need not be UTF-8.
pub fn satire_bytes(args: &[&str], stdin: &[u8]) -> Output {
    satire_with(args, Some(stdin))
}

fn satire_with(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_satire"));
    cmd.args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the satire binary runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses `satire score` CSV output into (id, label, p_satire, error) rows.
pub fn score_rows(o: &Output) -> Vec<(String, String, Option<f64>, String)> {
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let headers = rdr.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["id", "label", "p_satire", "log_odds", "error"]
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].to_string(),
                r[2].parse().ok(),
                r[4].to_string(),
            )
        })
        .collect()
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// The seeds' texts, in file order, with their labels.
pub fn seed_texts() -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seeds())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let label = if p.file_name().unwrap().to_string_lossy().starts_with("000_") {
                "satire"
            } else {
                "real"
            };
            (std::fs::read_to_string(p).unwrap(), label.to_string())
        })
        .collect()
}

/// The seeds as a one-source training set, in file order.
pub fn seed_set() -> satire::train::TrainingSet {
    let examples: Vec<satire::io::Example> = seed_texts()
        .into_iter()
        .enumerate()
        .map(|(i, (text, label))| satire::io::Example {
            id: format!("seed{i}"),
            label: satire::model::Label::parse(&label).unwrap(),
            text,
        })
        .collect();
    satire::train::TrainingSet {
        source_of: vec![0; examples.len()],
        sources: vec![],
        excluded: vec![],
        examples,
    }
}

/// Every sentence of the seeds with at least `min_words` words, labelled
/// as its article.
pub fn seed_sentences(min_words: usize) -> Vec<(String, String)> {
    use unicode_segmentation::UnicodeSegmentation;
    let mut rows = Vec::new();
    for (text, label) in seed_texts() {
        for s in text.split_sentence_bounds() {
            if s.split_whitespace().count() >= min_words {
                rows.push((label.clone(), s.trim().to_string()));
            }
        }
    }
    rows
}

/// `(label, text)` rows as `id,label,text` CSV.
pub fn csv_of(rows: &[(String, String)]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "label", "text"]).unwrap();
    for (i, (label, text)) in rows.iter().enumerate() {
        w.write_record([&format!("r{i}"), label, text]).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// `satire` running from the repository root with the arguments of
/// `command_line` (split at spaces: none of them holds one), its standard
/// input and output piped (standard error dropped): for tests that feed
/// items one at a time while it runs.
pub fn spawn_piped(
    command_line: &str,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    std::process::ChildStdout,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_satire"))
        .args(command_line.split(' '))
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the satire binary runs");
    let input = child.stdin.take().expect("piped standard input");
    let output = child.stdout.take().expect("piped standard output");
    (child, input, output)
}

/// How long a test waits for a running `satire` to write a line or exit.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// The lines of a running `satire`'s output, as a thread reads them.
pub struct Lines {
    rx: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<()>,
}

impl Lines {
    pub fn of(out: std::process::ChildStdout) -> Lines {
        use std::io::BufRead;
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                if tx.send(line.expect("output is UTF-8")).is_err() {
                    break;
                }
            }
        });
        Lines { rx, reader }
    }

    /// The next line, if one comes within [`PATIENCE`].
    pub fn next(&self) -> Option<String> {
        self.rx.recv_timeout(PATIENCE).ok()
    }

    /// The lines left, once the output has ended.
    pub fn rest(self) -> Vec<String> {
        self.reader.join().expect("the output is read");
        self.rx.try_iter().collect()
    }
}

/// Waits for `child` to exit, at most [`PATIENCE`]; kills it and fails past
/// that.
pub fn exits_soon(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if start.elapsed() > PATIENCE {
            let _ = child.kill();
            panic!("{what}: still running {PATIENCE:?} after its run stopped, waiting for input");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
