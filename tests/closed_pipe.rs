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
