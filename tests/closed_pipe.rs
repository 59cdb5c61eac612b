//! A reader that stops early (`satire ... | head`) ends the run quietly
//! with exit code 0, for every verb that writes to standard output.
//! Regressions: `inspect` (and `eval`) printed with `println!`, which
//! panics on a closed pipe; `score`'s CSV writer wrapped the closed pipe as
//! an error of another kind, so it exited 2.

mod common;
use common::*;

use std::io::Read;
use std::process::{Command, Stdio};

/// Runs `satire ARGS`, reads a little of its output, closes the pipe, and
/// returns the exit code and standard error. Each verb is asked for more
/// than a pipe buffer (64 KiB) so that its writes do fail.
fn close_early(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_satire"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("satire starts");
    let mut first = [0u8; 64];
    let mut stdout = child.stdout.take().expect("piped stdout");
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("satire ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_explain_and_score_exit_0_on_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,label,text\n");
    let (text, _) = &seed_texts()[1];
    for i in 0..400 {
        let label = if i % 2 == 0 { "satire" } else { "real" };
        csv.push_str(&format!("r{i},{label},\"{}\"\n", text.replace('"', "\"\"")));
    }
    let many = write(dir.path(), "many.csv", &csv);
    let many = many.to_str().unwrap();
    for args in [
        vec!["inspect", "--top", "5000"],
        vec!["score", many],
        vec!["explain", many, "--format", "json"],
    ] {
        let (code, err) = close_early(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// A JSON line `satire` scores quickly.
const ITEM: &str =
    r#"{"id":"a","text":"Area Man Passionate Defender Of What He Imagines Constitution To Be"}"#;

#[test]
fn a_reader_that_leaves_while_input_waits_ends_the_run() {
    use std::io::{BufRead, Write};
    // A mapper's producer keeps standard input open; every row so far has
    // been read when the reader downstream leaves, so no write is left to
    // fail. The run ends all the same, quietly, as on any closed pipe.
    // Regression: satire learnt that its reader had gone only from a write
    // that failed; when the last row's write still found the pipe's
    // reading end open (another process held it for a moment), it waited
    // for input that never came.
    // And in CSV, which the csv crate's reader reads, the same watched
    // standard input under it.
    let csv = "id,text\na,Area Man Passionate Defender Of What He Imagines Constitution To Be";
    let runs = [
        ("score", "jsonl", ITEM),
        ("explain", "jsonl", ITEM),
        ("score", "csv", csv),
    ];
    for (verb, stdin, item) in runs {
        for threads in ["1", "2"] {
            let at = format!("{verb} --stdin {stdin} --threads {threads}");
            let (mut child, mut input, out) =
                spawn_piped(&format!("{verb} --stdin {stdin} --threads {threads} -"));
            let mut out = std::io::BufReader::new(out);
            writeln!(input, "{item}").unwrap();
            input.flush().unwrap();
            let mut line = String::new();
            // The item's row (score) or heading (explain) has come out, and
            // satire waits for more.
            while !(line.starts_with("a,") || line.starts_with("== a")) {
                line.clear();
                assert_ne!(out.read_line(&mut line).unwrap(), 0, "{at}: output ended");
            }
            drop(out);
            let status = exits_soon(&mut child, &at);
            assert_eq!(status.code(), Some(0), "{at}");
            drop(input);
        }
    }
}

#[test]
fn with_an_output_file_a_closed_standard_output_stops_nothing() {
    use std::io::Write;
    // Standard output is watched only when the rows go there.
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.csv");
    let rows_arg = rows.to_str().unwrap();
    let (mut child, mut input, out) =
        spawn_piped(&format!("score --stdin jsonl --threads 1 -o {rows_arg} -"));
    drop(out);
    writeln!(input, "{ITEM}").unwrap();
    input.flush().unwrap();
    // Time enough for a run that (wrongly) watched standard output to stop.
    std::thread::sleep(std::time::Duration::from_millis(300));
    writeln!(input, "{}", ITEM.replace("\"a\"", "\"b\"")).unwrap();
    drop(input);
    let status = exits_soon(&mut child, "-o FILE");
    assert_eq!(status.code(), Some(0));
    let written = std::fs::read_to_string(&rows).unwrap();
    let ids: Vec<_> = written
        .lines()
        .skip(1)
        .map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids, [Some("a"), Some("b")], "{written}");
}
