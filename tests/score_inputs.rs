//! `satire score` on every input kind: one row per item, in input order,
//! errors in their own rows.

mod common;
use common::*;
use std::path::{Path, PathBuf};

const SATIRE: &str = "Area Man Passionate Defender Of What He Imagines Constitution To Be";
// Headline of seed 004 (The Guardian).
const REAL: &str = "Elon Musk claims ‘massive cyber-attack’ caused X outages";

#[test]
fn csv_rows_keep_ids_and_order_with_error_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "in.csv",
        &format!("id,text\na,{SATIRE}\nb,\"\"\nc,\"{REAL}\"\nd,x,extra\ne,{SATIRE}\n"),
    );
    let out = satire(&["score", csv.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "some items in error: {}",
        stderr(&out)
    );
    let rows = score_rows(&out);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(&ids[..3], ["a", "b", "c"]);
    assert_eq!(ids[4], "e");
    assert!(
        rows[1].3.contains("line 3") && rows[1].3.contains("empty text"),
        "{rows:?}"
    );
    assert!(
        rows[3].3.contains("line 5") && rows[3].3.contains("3 fields"),
        "{rows:?}"
    );
    assert_eq!(rows[0].1, "satire");
    assert_eq!(rows[2].1, "real");
    assert!(rows[1].2.is_none() && rows[1].1.is_empty());
}

/// The line of `file` on which `marker` first appears.
fn line_of(file: &str, marker: &str) -> usize {
    let at = file
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in the file"));
    file[..at].matches('\n').count() + 1
}

#[test]
fn error_rows_and_ids_name_the_line_a_row_begins_on_with_crlf_and_blank_lines() {
    // Windows and spreadsheet exports end lines with CRLF, and blank lines
    // creep in. The csv crate places a row after a CRLF or a blank line on
    // an earlier line (rust-csv issues 395, 208): every row of a CRLF file
    // was named one line early. Each row here begins with its own marker;
    // the line the test finds it on is the line its row must name.
    let rows = [
        "row_a,\"ok text, quoted\r\nover two lines\"",
        "row_b,\"closed\"then more",
        "",
        "row_c,",
        "",
        "",
        "row_d,too,many",
        "row_e,fine text",
        "\"row_f\",\"never closed",
        "row_g,lost in it",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, end) in [("lf.csv", "\n"), ("crlf.csv", "\r\n")] {
        let file = format!("id,text{end}{}{end}", rows.join(end));
        let csv = write(dir.path(), name, &file);
        let path = csv.to_str().unwrap();
        for args in [
            vec!["score", path],
            vec!["score", "--threads", "3", path],
            vec!["score", "--stdin", "csv", "-"],
        ] {
            let out = if args.contains(&"-") {
                satire(&args, Some(&file))
            } else {
                satire(&args, None)
            };
            let got = score_rows(&out);
            let name = if args.contains(&"-") { "-" } else { path };
            let at = |marker: &str| format!("{name}, line {}:", line_of(&file, marker));
            let ids: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
            let ragged = format!("{name}:{}", line_of(&file, "row_d"));
            assert_eq!(
                ids,
                ["row_a", "row_b", "row_c", &ragged, "row_e", "row_f"],
                "{name} {args:?}"
            );
            assert_eq!(got[0].3, "", "{got:?}");
            assert!(got[1].3.starts_with(&at("row_b")), "{name}: {got:?}");
            assert!(got[2].3.starts_with(&at("row_c")), "{name}: {got:?}");
            assert!(got[3].3.starts_with(&at("row_d")), "{name}: {got:?}");
            assert!(got[5].3.starts_with(&at("row_f")), "{name}: {got:?}");
        }
    }
}

#[test]
fn jsonl_and_stdin_lines() {
    let dir = tempfile::tempdir().unwrap();
    let jl = write(
        dir.path(),
        "in.jsonl",
        &format!("{{\"id\":\"j1\",\"text\":\"{SATIRE}\"}}\nnot json\n\"{REAL}\"\n"),
    );
    let out = satire(&["score", "--format", "jsonl", jl.to_str().unwrap()], None);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "j1");
    assert_eq!(lines[0]["label"], "satire");
    assert!(lines[1]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(lines[2]["label"], "real");
    let out = satire(
        &["score", "--stdin", "lines", "-"],
        Some(&format!("{SATIRE}\n{REAL}\n")),
    );
    let rows = score_rows(&out);
    assert_eq!(
        rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
        ["satire", "real"]
    );
    assert_eq!(rows[0].0, "-:1");
    // Standard input can be read once: a second `-` is a usage error,
    // not an error row claiming the input was empty.
    for verb in ["score", "explain"] {
        let out = satire(&[verb, "-", "-"], Some(SATIRE));
        assert_eq!(out.status.code(), Some(2), "{verb}");
        assert!(stdout(&out).is_empty(), "{verb}");
        assert!(
            stderr(&out).contains("`-` (standard input) is given twice"),
            "{verb}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn text_in_a_legacy_encoding_gets_an_error_row_saying_so_and_the_rest_are_scored() {
    // `café` saved as Windows-1252 (or Latin-1): é is the single byte 0xE9,
    // which no UTF-8 text holds before a space.
    let hint = "convert a Latin-1 or Windows-1252 file with `iconv -f WINDOWS-1252 -t UTF-8`";
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    // `@` stands for that byte.
    let latin1 = |s: String| {
        s.bytes()
            .map(|b| if b == b'@' { 0xE9 } else { b })
            .collect::<Vec<u8>>()
    };
    let csv = put(
        "in.csv",
        &latin1(format!("id,text\na,Area caf@ wins\nb,{SATIRE}\n")),
    );
    let txt = put("old.txt", b"Area caf\xe9 wins");
    let jsonl = put(
        "in.jsonl",
        &latin1(format!(
            "{{\"id\":\"j1\",\"text\":\"Area caf@ wins\"}}\n\"{REAL}\"\n"
        )),
    );
    let out = satire(&["score", &csv, &txt, &jsonl], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = score_rows(&out);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "a",
            "b",
            txt.as_str(),
            &format!("{jsonl}:1"),
            &format!("{jsonl}:2")
        ]
    );
    for (row, at) in [
        (0, format!("{csv}, line 2: invalid UTF-8 at byte 8 (0xE9)")),
        (2, format!("{txt}: invalid UTF-8 at byte 8 (0xE9)")),
        (
            3,
            format!("{jsonl}, line 1: invalid UTF-8 at byte 27 (0xE9)"),
        ),
    ] {
        let error = &rows[row].3;
        assert!(error.contains(&at) && error.contains(hint), "{rows:?}");
        assert_eq!(rows[row].1, "", "{rows:?}");
    }
    assert_eq!(rows[1].1, "satire", "{rows:?}");
    assert_eq!(rows[4].1, "real", "{rows:?}");
    // The same from standard input, read as JSON lines or guessed.
    for format in ["jsonl", "auto"] {
        let out = satire_bytes(
            &["score", "--stdin", format, "-"],
            &std::fs::read(&jsonl).unwrap(),
        );
        let rows = score_rows(&out);
        assert_eq!(rows.len(), 2, "{format}: {rows:?}");
        assert!(
            rows[0]
                .3
                .contains("-, line 1: invalid UTF-8 at byte 27 (0xE9)")
                && rows[0].3.contains(hint),
            "{format}: {rows:?}"
        );
        assert_eq!(rows[1].1, "real", "{format}: {rows:?}");
    }
}

#[test]
fn a_nul_byte_is_binary_data_in_its_own_error_row() {
    // A NUL byte in a text (a binary file, a UTF-16 file) is an error row
    // naming the file, and line for a CSV row, wherever it lies in the text;
    // the rows around it are scored.
    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let long = format!("{REAL} ").repeat(40);
    let csv = put(
        "in.csv",
        format!("id,text\na,{SATIRE}\nb,\"{long}\0{long}\"\nc,\0\nd,{REAL}\n").as_bytes(),
    );
    let bin = put("utf16.txt", &[b'A', 0, b'r', 0, b'e', 0, b'a', 0]);
    let out = satire(&["score", &csv, &bin], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = score_rows(&out);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", bin.as_str()]);
    for (row, at) in [
        (1, format!("{csv}, line 3: binary data (NUL byte)")),
        (2, format!("{csv}, line 4: binary data (NUL byte)")),
        (4, format!("{bin}: binary data (NUL byte)")),
    ] {
        assert!(rows[row].3.contains(&at), "{rows:?}");
        assert_eq!(rows[row].1, "", "{rows:?}");
    }
    assert_eq!(rows[0].1, "satire", "{rows:?}");
    assert_eq!(rows[3].1, "real", "{rows:?}");
}

#[test]
fn files_in_error_get_rows_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", REAL);
    std::fs::write(dir.path().join("b.bin"), [0u8, 159, 146, 150]).unwrap();
    std::fs::write(dir.path().join("c.txt"), [b'o', b'k', 0xff, b'!']).unwrap();
    write(dir.path(), "d.txt", "   \n");
    let missing = dir.path().join("gone.txt");
    let out = satire(
        &[
            "score",
            dir.path().to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let rows = score_rows(&out);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows[0].3.is_empty());
    assert!(
        rows[1].3.contains("b.bin") && rows[1].3.contains("binary"),
        "{rows:?}"
    );
    assert!(rows[2].3.contains("invalid UTF-8 at byte 2"), "{rows:?}");
    assert!(rows[3].3.contains("empty text"), "{rows:?}");
    assert!(rows[4].3.contains("gone.txt"), "{rows:?}");
}

#[test]
fn missing_text_column_stops_before_scoring() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", &format!("id,text\n1,{REAL}\n"));
    let bad = write(dir.path(), "bad.csv", "id,body\n1,hello\n");
    let out = satire(
        &["score", good.to_str().unwrap(), bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "nothing scored: {}", stdout(&out));
    assert!(stderr(&out).contains("bad.csv") && stderr(&out).contains("no column `text`"));
}

#[test]
fn a_bad_setting_stops_before_any_output() {
    // Each refused with exit 2 and a message naming the flag, and nothing
    // on standard output: a CSV header there would read as an empty result.
    for (verb, flag, value) in [
        ("score", "--threads", "0"),
        ("score", "--threshold", "1.5"),
        ("score", "--unsure", "0.5"),
        ("explain", "--threads", "0"),
        ("explain", "--threshold", "0"),
        ("explain", "--unsure", "0.5"),
        // Negative numbers reach the flag's own check (or its parser),
        // not clap's "unexpected argument '-0'" with a tip to write
        // `-- -0.5`, which would make the value a path.
        ("score", "--threshold", "-0.5"),
        ("score", "--unsure", "-1"),
        ("score", "--threads", "-2"),
        ("explain", "--threads", "-1"),
        ("eval", "--threshold", "-0.5"),
    ] {
        let out = satire(&[verb, flag, value, "corpus/seeds"], None);
        assert_eq!(out.status.code(), Some(2), "{verb} {flag} {value}");
        assert!(
            stdout(&out).is_empty(),
            "{verb} {flag} {value} wrote: {}",
            stdout(&out)
        );
        let err = stderr(&out);
        assert!(err.contains(flag), "{err}");
        if value.starts_with('-') {
            assert!(err.contains(value), "{verb} {flag} {value}: {err}");
            assert!(!err.contains("unexpected argument"), "{err}");
        }
    }
}

#[test]
fn an_unsure_band_that_leaves_a_label_unreachable_is_refused() {
    // Around 0.3, a band of 0.35 covers every P(satire) below the
    // threshold: no text could be labelled real, which is a mistake in the
    // flags, not a result to write. Its mirror image loses `satire`.
    for (verb, threshold, unsure, lost) in [
        ("score", "0.3", "0.35", "real"),
        ("explain", "0.3", "0.3", "real"),
        ("score", "0.7", "0.35", "satire"),
    ] {
        let out = satire(
            &[
                verb,
                "--threshold",
                threshold,
                "--unsure",
                unsure,
                "corpus/seeds",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{verb} {threshold} {unsure}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("--unsure {unsure} around --threshold {threshold}"))
                && err.contains(&format!("no text could be labelled {lost}")),
            "{err}"
        );
    }
    // A band that reaches 0 or 1 exactly still leaves both labels.
    let out = satire(
        &[
            "score",
            "--threshold",
            "0.6",
            "--unsure",
            "0.4",
            "corpus/seeds",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn an_empty_csv_is_an_error_row_not_a_wrong_column() {
    // A 0-byte CSV has no header to lack a column in: it is an input with
    // nothing in it (like an empty .jsonl), so it gets its row and the run
    // goes on, where a header without `text` stops the run (above).
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    let good = write(dir.path(), "good.csv", &format!("id,text\n1,{REAL}\n"));
    for threads in ["1", "2"] {
        let out = satire(
            &[
                "score",
                "--threads",
                threads,
                empty.to_str().unwrap(),
                good.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let rows = score_rows(&out);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].0, empty.to_str().unwrap());
        assert!(
            rows[0].2.is_none() && rows[0].3.contains("empty.csv: empty: no header line"),
            "{rows:?}"
        );
        assert_eq!((rows[1].0.as_str(), rows[1].1.as_str()), ("1", "real"));
    }
}

#[test]
fn output_file_is_written_whole_and_threshold_and_raw_apply() {
    let dir = tempfile::tempdir().unwrap();
    let out_csv = dir.path().join("out.csv");
    let out = satire(
        &[
            "score",
            "-q",
            "-o",
            out_csv.to_str().unwrap(),
            "corpus/seeds",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&out_csv).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
    // A threshold above every score labels everything real.
    let out = satire(&["score", "--threshold", "0.99", "corpus/seeds"], None);
    assert!(score_rows(&out).iter().all(|r| r.1 == "real"));
    // The raw posterior of a long article is far more extreme than the calibrated one.
    let raw = score_rows(&satire(
        &["score", "--raw", "corpus/seeds/004_80fefa1a40ef8727.txt"],
        None,
    ));
    let cal = score_rows(&satire(
        &["score", "corpus/seeds/004_80fefa1a40ef8727.txt"],
        None,
    ));
    assert!(raw[0].2.unwrap() < cal[0].2.unwrap());
}

#[test]
fn an_output_that_cannot_be_written_stops_before_scoring_and_is_named_once() {
    // Regression: `-o FOLDER` scored every input into a temporary file,
    // failed to rename it at the end, left it behind, and printed the OS
    // error twice; a missing folder was reported under the temporary
    // file's name.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("rows");
    std::fs::create_dir(&folder).unwrap();
    let missing = dir.path().join("no-such-folder").join("rows.csv");
    for (target, says) in [
        (&folder, "is a directory"),
        (&missing, "No such file or directory"),
    ] {
        let out = satire(
            &["score", "-o", target.to_str().unwrap(), "corpus/seeds"],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}: {says}", target.display())),
            "{err}"
        );
        assert_eq!(err.matches(says).count(), 1, "said once: {err}");
        assert!(!err.contains("scored"), "stopped before scoring: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    assert!(std::fs::read_dir(&folder).unwrap().next().is_none());
}

#[test]
fn rows_written_into_the_folder_being_scored_are_not_read_as_input() {
    // Regression: `score DIR -o DIR/rows.csv` found its own temporary
    // output file in DIR and gave it an error row (`empty text`), so a
    // clean run exited 1; `score a.csv -o a.csv` replaced the articles
    // with their scores.
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, _)) in seed_texts().iter().enumerate() {
        write(dir.path(), &format!("{i}.txt"), text);
    }
    let d = dir.path().to_str().unwrap();
    let rows = dir.path().join("rows.csv");
    let out = satire(&["score", "-q", d, "-o", rows.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&rows).unwrap();
    assert_eq!(
        written.lines().count(),
        6,
        "header and five rows: {written}"
    );
    assert!(!written.contains(".rows.csv.tmp"), "{written}");
    std::fs::remove_file(&rows).unwrap();
    let report = dir.path().join("report.html");
    let out = satire(
        &["explain", "-f", "html", "-o", report.to_str().unwrap(), d],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // An input named as the output is refused before it is touched, however
    // the two are spelt.
    let articles = write(dir.path(), "articles.csv", &format!("id,text\n1,{REAL}\n"));
    let before = std::fs::read(&articles).unwrap();
    let same = dir.path().join(".").join("articles.csv");
    for verb in ["score", "explain"] {
        let out = satire(
            &[
                verb,
                articles.to_str().unwrap(),
                "-o",
                same.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{verb}");
        assert!(
            stderr(&out).contains("is both an input and the output"),
            "{verb}: {}",
            stderr(&out)
        );
        assert_eq!(std::fs::read(&articles).unwrap(), before, "{verb}");
    }
}

#[test]
fn corrupt_model_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // A version newer than this build's.
    let newer = satire::model::FORMAT_VERSION + 1;
    let m = dir.path().join("bad.satmodel");
    let mut bytes = b"satire-model\n".to_vec();
    bytes.extend_from_slice(&newer.to_le_bytes());
    bytes.extend_from_slice(b"rest");
    std::fs::write(&m, bytes).unwrap();
    let out = satire(&["score", "-m", m.to_str().unwrap(), "corpus/seeds"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.satmodel")
            && err.contains(&format!("version {newer}"))
            && err.contains("upgrade satire"),
        "{err}"
    );
}

/// `many.csv` in `dir`: `n` rows with ids `r0`, `r1`, ..., row `i`'s text
/// given by `text(i, seed)`, where `seed` is the seeds' text `i % 5`.
fn rows_csv(dir: &Path, n: usize, text: impl Fn(usize, &str) -> String) -> PathBuf {
    let seeds = seed_texts();
    let mut csv = String::from("id,text\n");
    for i in 0..n {
        let t = text(i, &seeds[i % seeds.len()].0);
        csv.push_str(&format!("r{i},\"{}\"\n", t.replace('"', "\"\"")));
    }
    write(dir, "many.csv", &csv)
}

#[test]
fn threads_give_the_same_rows_in_the_same_order() {
    // More rows than one batch (4,096 items), with error rows scattered
    // through them: every thread count writes the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = rows_csv(dir.path(), 9000, |i, seed| match i % 7 {
        0 => String::new(),
        1 => SATIRE.to_string(),
        2 => REAL.to_string(),
        _ => seed.to_string(),
    });
    let path = path.to_str().unwrap();
    let one = satire(&["score", "--threads", "1", path], None);
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    let rows = score_rows(&one);
    assert_eq!(rows.len(), 9000);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.0, format!("r{i}"));
        assert_eq!(r.3.is_empty(), i % 7 != 0, "{r:?}");
    }
    for threads in ["2", "3"] {
        let many = satire(&["score", "--threads", threads, path], None);
        assert_eq!(many.status.code(), Some(1));
        assert_eq!(many.stdout, one.stdout, "--threads {threads}");
    }
}

#[test]
fn strict_stops_at_the_first_error_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(
        dir.path(),
        "in.csv",
        &format!("id,text\na,{SATIRE}\nb,\"\"\nc,\"{REAL}\"\n"),
    );
    for threads in ["1", "2"] {
        let out = satire(
            &[
                "score",
                "--strict",
                "--threads",
                threads,
                csv.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1));
        let ids: Vec<String> = score_rows(&out).into_iter().map(|r| r.0).collect();
        assert_eq!(ids, ["a", "b"], "--threads {threads}");
        assert!(stderr(&out).contains("--strict"), "{}", stderr(&out));
    }
}

#[test]
fn strict_stops_mid_stream_with_batches_in_flight() {
    // The error is far into the input: with threads, later batches are
    // already read and scored when writing stops, and every stage must
    // still shut down, with no row written after the error.
    let dir = tempfile::tempdir().unwrap();
    let path = rows_csv(dir.path(), 6000, |i, seed| {
        if i == 4321 {
            String::new()
        } else {
            seed.to_string()
        }
    });
    for threads in ["1", "2", "3"] {
        let out = satire(
            &[
                "score",
                "--strict",
                "--threads",
                threads,
                path.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let rows = score_rows(&out);
        assert_eq!(rows.len(), 4322, "--threads {threads}");
        assert!(rows.iter().enumerate().all(|(i, r)| r.0 == format!("r{i}")));
        assert!(!rows[4321].3.is_empty(), "{:?}", rows[4321]);
    }
}

#[test]
fn progress_bar_only_on_a_terminal_and_not_with_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,text\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "r{i},\"{}\"\n",
            seed_texts()[i % 5].0.replace('"', "\"\"")
        ));
    }
    let path = write(dir.path(), "many.csv", &csv);
    let path = path.to_str().unwrap();
    // Standard error is a pipe here: no bar.
    let piped = satire(&["score", path], None);
    assert!(!stderr(&piped).contains("items"), "{}", stderr(&piped));
    // Under a pseudo-terminal (util-linux `script`), the bar shows items and
    // an ETA, and `--quiet` silences it.
    let bin = env!("CARGO_BIN_EXE_satire");
    let out = dir.path().join("out.csv");
    let out = out.to_str().unwrap();
    let on_tty = |extra: &str| {
        std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{bin} score {extra} {path} -o {out}"),
                "/dev/null",
            ])
            .output()
    };
    let Ok(shown) = on_tty("--threads 1") else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    let shown = String::from_utf8_lossy(&shown.stdout).replace('\r', "\n");
    assert!(shown.contains("items") && shown.contains("ETA"), "{shown}");
    let quiet = on_tty("--quiet").expect("script ran once already");
    let quiet = String::from_utf8_lossy(&quiet.stdout);
    assert!(!quiet.contains("items"), "{quiet}");
}

#[cfg(unix)]
#[test]
fn output_to_a_named_pipe_is_written_not_replaced() {
    // Regression: `-o` wrote a temporary file and renamed it over the
    // target, which replaced `/dev/null` (as root) or a pipe with a file.
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rows");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = satire(
        &["score", "corpus/seeds", "-o", fifo.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Checked before joining: had the pipe been replaced, the reader would
    // wait on it forever.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let got = reader.join().unwrap();
    assert_eq!(got.lines().count(), 6, "header and five rows: {got}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn a_repeated_text_column_stops_before_scoring() {
    // `id,text,text`: either column could be the one meant, so neither is
    // taken unasked.
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "twice.csv",
        &format!("id,text,text\n1,{REAL},Area man wins\n"),
    );
    let out = satire(&["score", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "nothing scored: {}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("twice.csv, line 1: column `text` appears more than once")
            && err.contains("(columns 2 and 3)"),
        "{err}"
    );
}

#[test]
fn a_repeated_id_column_stops_before_anything_is_scored() {
    // The id column is found without being asked for; named twice, it
    // stops the run before the first file is scored, as a repeated text
    // column does, rather than after earlier files' rows are lost.
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", &format!("id,text\n1,{REAL}\n"));
    let bad = write(
        dir.path(),
        "ids.csv",
        &format!("id,id,text\n1,2,{SATIRE}\n"),
    );
    let out = satire(
        &["score", good.to_str().unwrap(), bad.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "nothing scored: {}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "ids.csv, line 1: column `id` appears more than once in the header (columns 1 and 2)"
        ),
        "{err}"
    );
}

#[test]
fn a_jsonl_field_named_twice_gets_an_error_row_and_the_rest_are_scored() {
    // `{"text": A, "text": B}` is JSON whose meaning is not known: taking
    // either text would score one of them unasked. Its line gets an error
    // row, in a file and in standard input read as JSON lines, and the others
    // are scored.
    let dir = tempfile::tempdir().unwrap();
    let lines = format!(
        "{}\n{}\n{}\n",
        serde_json::json!({"id": "a", "text": SATIRE}),
        format_args!(r#"{{"id": "b", "text": "{REAL}", "text": "Area man wins"}}"#),
        serde_json::json!({"id": "c", "text": REAL}),
    );
    let file = write(dir.path(), "in.jsonl", &lines);
    for (args, input, name) in [
        (vec!["score", file.to_str().unwrap()], None, "in.jsonl"),
        (
            vec!["score", "--stdin", "jsonl", "-"],
            Some(lines.as_str()),
            "-",
        ),
        (
            vec!["score", "--stdin", "auto", "-"],
            Some(lines.as_str()),
            "-",
        ),
    ] {
        let out = satire(&args, input);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let rows = score_rows(&out);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("a", "satire"));
        assert_eq!((rows[2].0.as_str(), rows[2].1.as_str()), ("c", "real"));
        // Its id is read: the row is found by it.
        assert_eq!(rows[1].0, "b", "{rows:?}");
        assert!(rows[1].2.is_none() && rows[1].1.is_empty(), "{rows:?}");
        assert!(
            rows[1].3.ends_with(&format!(
                "{name}, line 2: field `text` appears more than once"
            )),
            "{rows:?}"
        );
    }
}

#[test]
fn jsonl_ids_are_kept_as_written_and_a_byte_order_mark_is_skipped() {
    // A UTF-8 byte-order mark (Notepad, PowerShell) starts the first line;
    // it is no part of the JSON, as the CSV reader also skips it. Numeric
    // ids are printed as written: re-formatted, `2.50` would become `2.5`
    // and an id past 64 bits would lose digits, making ids collide.
    let dir = tempfile::tempdir().unwrap();
    let long = "123456789012345678901234567891";
    let lines = format!(
        "\u{feff}{}\n{}\n{}\n",
        format_args!(r#"{{"id": 2.50, "text": "{SATIRE}"}}"#),
        format_args!(r#"{{"id": {long}, "text": "{REAL}"}}"#),
        format_args!(r#"{{"id": -7, "text": "{REAL}"}}"#),
    );
    let file = write(dir.path(), "bom.jsonl", &lines);
    for (args, input) in [
        (vec!["score", file.to_str().unwrap()], None),
        (vec!["score", "--stdin", "jsonl", "-"], Some(lines.as_str())),
        (vec!["score", "--stdin", "auto", "-"], Some(lines.as_str())),
    ] {
        let out = satire(&args, input);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let rows = score_rows(&out);
        let got: Vec<_> = rows.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
        assert_eq!(
            got,
            [("2.50", "satire"), (long, "real"), ("-7", "real")],
            "{args:?}"
        );
    }
}

#[test]
fn items_trickling_in_on_stdin_get_their_rows_before_the_input_ends() {
    use std::io::Write;
    // A pipeline feeding one item at a time and waiting for its row (a
    // mapper): each row must come out while standard input is still open,
    // in every --stdin mode that reads items, on one thread and on two.
    let json = |id: &str, text: &str| format!("{{\"id\":\"{id}\",\"text\":\"{text}\"}}");
    for (mode, format, header, first, second) in [
        ("jsonl", "csv", None, json("a", SATIRE), json("b", REAL)),
        // The mapper's default: JSONL out, `auto` in.
        ("auto", "jsonl", None, json("a", SATIRE), REAL.to_string()),
        ("lines", "csv", None, SATIRE.to_string(), REAL.to_string()),
        (
            "csv",
            "csv",
            Some("id,text"),
            format!("a,\"{SATIRE}\""),
            format!("b,\"{REAL}\""),
        ),
    ] {
        for threads in ["1", "2"] {
            let at = format!("--stdin {mode} --format {format} --threads {threads}");
            let (mut child, mut input, out) = spawn_piped(&format!("score {at} -"));
            let lines = Lines::of(out);
            let labelled = |row: &str, label: &str| match format {
                "csv" => row.contains(&format!(",{label},")),
                _ => row.contains(&format!("\"label\":\"{label}\"")),
            };
            if let Some(h) = header {
                writeln!(input, "{h}").unwrap();
            }
            writeln!(input, "{first}").unwrap();
            input.flush().unwrap();
            if format == "csv" {
                let head = lines.next();
                assert_eq!(
                    head.as_deref(),
                    Some("id,label,p_satire,log_odds,error"),
                    "{at}"
                );
            }
            let row = lines
                .next()
                .unwrap_or_else(|| panic!("{at}: no row while the input is open"));
            assert!(labelled(&row, "satire"), "{at}: {row}");
            writeln!(input, "{second}").unwrap();
            input.flush().unwrap();
            let row = lines
                .next()
                .unwrap_or_else(|| panic!("{at}: no second row while open"));
            assert!(labelled(&row, "real"), "{at}: {row}");
            drop(input);
            assert!(child.wait().unwrap().success(), "{at}");
            assert_eq!(lines.rest(), Vec::<String>::new(), "{at}: one row an item");
        }
    }
}

#[test]
fn a_run_that_stops_early_ends_while_stdin_stays_open() {
    use std::io::{BufRead, Write};
    // A producer that keeps standard input open (a mapper waiting for
    // rows) must not keep satire running once its run has stopped: by
    // --strict at an error, or by its output closing.
    let good = format!("{{\"id\":\"a\",\"text\":\"{SATIRE}\"}}");
    let bad = "{\"id\":\"b\"}";
    let real = format!("{{\"id\":\"c\",\"text\":\"{REAL}\"}}");
    for threads in ["1", "2"] {
        let at = format!("--strict --threads {threads}");
        let (mut child, mut input, out) = spawn_piped(&format!("score --stdin jsonl {at} -"));
        let lines = Lines::of(out);
        writeln!(input, "{good}\n{bad}").unwrap();
        input.flush().unwrap();
        let status = exits_soon(&mut child, &at);
        assert_eq!(status.code(), Some(1), "{at}: an error stops the run");
        let rows = lines.rest();
        assert_eq!(rows.len(), 3, "{at}: the header and both rows: {rows:?}");
        assert!(rows[1].starts_with("a,satire,"), "{at}: {rows:?}");
        assert!(rows[2].contains("no string field `text`"), "{at}: {rows:?}");
        drop(input);

        let at = format!("output closed, --threads {threads}");
        let (mut child, mut input, out) =
            spawn_piped(&format!("score --stdin jsonl --threads {threads} -"));
        let mut out = std::io::BufReader::new(out);
        writeln!(input, "{good}").unwrap();
        input.flush().unwrap();
        let mut line = String::new();
        for want in ["id,", "a,satire,"] {
            line.clear();
            out.read_line(&mut line).unwrap();
            assert!(line.starts_with(want), "{at}: {line}");
        }
        // The reader downstream goes; the next row finds no one to read it.
        // The run may have ended already (it watches its output while it
        // waits for input), and then this write finds its input closed.
        drop(out);
        let sent = writeln!(input, "{real}").and_then(|()| input.flush());
        if let Err(e) = sent {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{at}: {e}");
        }
        exits_soon(&mut child, &at);
        drop(input);
    }
}

#[test]
fn a_folders_hidden_entries_are_passed_over_unless_asked_for() {
    // A folder of articles kept in git, or copied from a Mac: `.git`'s
    // files scored as news and `.DS_Store` an error row (exit 1) on
    // every run. Passed over as ripgrep passes over them; `--hidden` reads
    // them; a hidden path named on the command line is read.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    std::fs::create_dir_all(root.join(".git/refs")).unwrap();
    write(&root.join(".git"), "HEAD", "ref: refs/heads/main\n");
    write(&root.join(".git/refs"), "main", "0123456789abcdef\n");
    std::fs::write(root.join(".DS_Store"), b"\0\0\0\x01Bud1\0\0").unwrap();
    std::fs::copy(
        seeds().join("000_ee9cb40c4d31c8bb.txt"),
        root.join("a_satire.txt"),
    )
    .unwrap();
    std::fs::create_dir(root.join("more")).unwrap();
    write(&root.join("more"), ".notes.swp", "draft");
    write(&root.join("more"), "b.txt", REAL);
    let r = root.to_str().unwrap();
    let ids = |rows: &[(String, String, Option<f64>, String)]| {
        rows.iter()
            .map(|r| {
                r.0.strip_prefix(&format!("{r}/", r = root.display()))
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    for verb_threads in ["1", "2"] {
        let out = satire(&["score", "--threads", verb_threads, r], None);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(ids(&score_rows(&out)), ["a_satire.txt", "more/b.txt"]);
        // Not without a word: `.git` (not each file in it), `.DS_Store`
        // and `more/.notes.swp`.
        assert!(
            stderr(&out).contains("passed over 3 hidden entries"),
            "{}",
            stderr(&out)
        );
    }
    let out = satire(&["score", "--hidden", r], None);
    assert_eq!(out.status.code(), Some(1), "the .DS_Store is binary");
    assert!(!stderr(&out).contains("passed over"), "{}", stderr(&out));
    assert_eq!(
        ids(&score_rows(&out)),
        [
            ".DS_Store",
            ".git/HEAD",
            ".git/refs/main",
            "a_satire.txt",
            "more/.notes.swp",
            "more/b.txt"
        ]
    );
    let named = root.join(".git/HEAD");
    let out = satire(
        &["score", named.to_str().unwrap(), &format!("{r}/.git")],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        ids(&score_rows(&out)),
        [".git/HEAD", ".git/HEAD", ".git/refs/main"]
    );
    // explain reads as score does.
    let out = satire(&["explain", "--format", "json", r], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2);
    assert!(stderr(&out).contains("passed over 3 hidden entries"));
}
