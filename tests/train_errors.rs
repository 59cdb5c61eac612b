//! Bad input to `satire train` stops with a message naming the file and
//! row, exit code 2, and never a panic.

mod common;
use common::*;

fn train_err(csv: &str) -> String {
    train_err_in("data.csv", csv)
}

fn train_err_in(name: &str, content: impl AsRef<[u8]>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(name);
    std::fs::write(&data, content).unwrap();
    let out_model = dir.path().join("m.satmodel");
    let out = satire(
        &[
            "train",
            "-q",
            "-o",
            out_model.to_str().unwrap(),
            data.to_str().unwrap(),
        ],
        None,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out_model.exists(), "no model written on error");
    assert!(err.contains(name), "names the file: {err}");
    err
}

#[test]
fn missing_column_names_file_and_columns() {
    let err = train_err("id,label,body\n1,satire,Area man wins\n");
    assert!(
        err.contains("no column `text`") && err.contains("(columns: `id`, `label`, `body`)"),
        "{err}"
    );
    // A stray space in a name is why the column is not found: it shows.
    let err = train_err("id,label ,text\n1,satire,Area man wins\n");
    assert!(
        err.contains("no column `label`") && err.contains("`id`, `label `, `text`"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_called_empty() {
    let err = train_err("");
    assert!(err.contains("empty: no header line"), "{err}");
    assert!(!err.contains("no column"), "{err}");
}

#[test]
fn unknown_label_names_row() {
    let err = train_err("id,label,text\n1,satire,Area man wins\n2,fake,Something else\n");
    assert!(
        err.contains("line 3") && err.contains("unknown label `fake`"),
        "{err}"
    );
}

#[test]
fn a_quote_left_open_names_its_row() {
    // Without the check, rows 3 and 4 would silently become one text.
    let err = train_err(
        "id,label,text\n1,satire,Area man wins\n2,real,\"Senate passes bill\n3,satire,Nation shocked\n",
    );
    assert!(
        err.contains("line 3") && err.contains("never closed"),
        "{err}"
    );
    let err = train_err(
        "id,label,text\n1,satire,Area man wins\n2,real,\"Senate \"passes\" bill\"\n3,satire,Nation shocked\n",
    );
    assert!(
        err.contains("line 3") && err.contains("text follows a closing quote"),
        "{err}"
    );
}

#[test]
fn rows_after_a_crlf_or_a_blank_line_are_named_by_their_own_line() {
    // The csv crate places such a row on the line before (rust-csv issues
    // 395, 208); each message here must name the line the row begins on.
    for end in ["\n", "\r\n"] {
        let lines = |rows: &[&str]| rows.join(end) + end;
        // Lines 1 to 3, then two blank lines: the last row is on line 6.
        let head = ["id,label,text", "1,satire,\"Area man\r\nwins\"", ""];
        for (last, line, what) in [
            ("3,fake,Something else", 6, "unknown label `fake`"),
            ("3,real", 6, "row has 2 fields"),
            (
                "3,real,\"Senate \"passes\" bill\"",
                6,
                "text follows a closing quote",
            ),
        ] {
            let err = train_err(&lines(&[&head[..], &["", last]].concat()));
            let want = format!("data.csv, line {line}: {what}");
            assert!(err.contains(&want), "{end:?}: {err}");
        }
        // A labelled folder's labels.csv.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", "Area man wins");
        write(dir.path(), "b.txt", "Senate passes bill");
        let labels = lines(&["file,label", "a.txt,satire", "", "b.txt,rael"]);
        write(dir.path(), "labels.csv", &labels);
        let model = dir.path().join("m.satmodel");
        let out = satire(
            &[
                "train",
                "-q",
                "-o",
                model.to_str().unwrap(),
                dir.path().to_str().unwrap(),
            ],
            None,
        );
        let err = stderr(&out);
        assert!(
            err.contains("labels.csv, line 4: unknown label `rael`"),
            "{end:?}: {err}"
        );
    }
}

#[test]
fn empty_set_is_refused() {
    let err = train_err("id,label,text\n");
    assert!(err.contains("empty training file"), "{err}");
}

#[test]
fn a_class_with_no_rows_is_refused() {
    let err = train_err("id,label,text\n1,satire,Area man wins\n2,satire,Nation shocked\n");
    assert!(err.contains("no `real` rows"), "{err}");
}

#[test]
fn ragged_row_names_line() {
    let err = train_err("id,label,text\n1,satire,Area man wins\n2,real\n");
    assert!(err.contains("line 3") && err.contains("2 fields"), "{err}");
}

#[test]
fn empty_text_names_line() {
    let err = train_err("id,label,text\n1,satire,Area man wins\n2,real,\"  \"\n");
    assert!(
        err.contains("line 3") && err.contains("empty text"),
        "{err}"
    );
}

#[test]
fn bad_parameters_are_refused_before_reading() {
    let out = satire(
        &[
            "train",
            "-o",
            "/nonexistent/m",
            "corpus/seeds",
            "--alpha=-1",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("alpha must be positive"),
        "{}",
        stderr(&out)
    );
    // The same values as separate words: clap took `-1` for a flag.
    for (flag, value, says) in [
        ("--alpha", "-1", "alpha must be positive"),
        ("--borrow", "-0.1", "borrow must be 0 or more"),
        (
            "--prior-satire",
            "-0.2",
            "prior-satire must be strictly between 0 and 1",
        ),
        ("--min-df", "-1", "--min-df"),
    ] {
        let out = satire(
            &["train", "-o", "/nonexistent/m", "corpus/seeds", flag, value],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = stderr(&out);
        assert!(
            err.contains(says) && err.contains(value),
            "{flag} {value}: {err}"
        );
    }
}

#[test]
fn trains_from_a_labelled_folder_and_scores_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("seeds.satmodel");
    let out = satire(
        &[
            "train",
            "-q",
            "--min-df",
            "1",
            "-o",
            model.to_str().unwrap(),
            "corpus/seeds",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Quiet means nothing at all: no dump of linfa's model either.
    assert_eq!(stderr(&out), "");
    // Trained on the seeds themselves, it must at least separate them.
    let out = satire(
        &["score", "-m", model.to_str().unwrap(), "corpus/seeds"],
        None,
    );
    let rows = score_rows(&out);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].1, "satire", "{rows:?}");
    assert!(rows[1..].iter().all(|r| r.1 == "real"), "{rows:?}");
}

#[test]
fn a_satire_real_folder_is_read_as_score_reads_a_folder_and_leaves_nothing_out_unseen() {
    // Regression: only the files directly in `satire/` and `real/` were
    // read (a `satire/2019/` of articles was skipped without a word), an
    // empty or binary file trained as an article, and a file beside the
    // two folders was left out unseen.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (satire_dir, real_dir) = (data.join("satire").join("2019"), data.join("real"));
    std::fs::create_dir_all(&satire_dir).unwrap();
    std::fs::create_dir_all(&real_dir).unwrap();
    std::fs::create_dir_all(data.join(".git")).unwrap();
    for (i, (text, label)) in seed_texts().iter().enumerate() {
        let to = if label == "satire" {
            &satire_dir
        } else {
            &real_dir
        };
        std::fs::write(to.join(format!("{i}.txt")), text).unwrap();
    }
    let model = dir.path().join("m.satmodel");
    let train = || {
        let args = [
            "train",
            "-o",
            model.to_str().unwrap(),
            data.to_str().unwrap(),
        ];
        let out = satire(&args, None);
        (out.status.code(), stderr(&out))
    };
    let (code, err) = train();
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("1 satire + 4 real used"), "{err}");
    for (name, content, says) in [
        (
            "notes.txt",
            &b"about this set"[..],
            "not in `satire/` or `real/`",
        ),
        ("real/empty.txt", b" \n", "empty text"),
        ("real/utf16.txt", b"h\0i\0", "binary data (NUL byte)"),
    ] {
        let bad = data.join(name);
        std::fs::write(&bad, content).unwrap();
        let (code, err) = train();
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{}: {says}", bad.display())), "{err}");
        std::fs::remove_file(&bad).unwrap();
    }
}

#[test]
fn a_repeated_label_column_names_both() {
    let err = train_err("id,label,text,label\n1,real,Senate passes bill,satire\n");
    assert!(
        err.contains("line 1")
            && err
                .contains("column `label` appears more than once in the header (columns 2 and 4)"),
        "{err}"
    );
}

#[test]
fn a_jsonl_field_named_twice_names_its_line() {
    // A JSON object may repeat a name; a general JSON reader keeps the last
    // one without a word, which would train on `satire` here.
    let err = train_err_in(
        "data.jsonl",
        concat!(
            r#"{"label": "satire", "text": "Area man wins"}"#,
            "\n",
            r#"{"label": "real", "text": "Senate passes bill", "label": "satire"}"#,
            "\n",
        ),
    );
    assert!(
        err.contains("data.jsonl, line 2: field `label` appears more than once"),
        "{err}"
    );
}

#[test]
fn text_in_a_legacy_encoding_names_its_line_and_the_encoding() {
    // `café` saved as Windows-1252: é is the single byte 0xE9.
    let hint = "convert a Latin-1 or Windows-1252 file with `iconv -f WINDOWS-1252 -t UTF-8`";
    let err = train_err_in(
        "data.jsonl",
        b"{\"label\": \"real\", \"text\": \"Senate passes bill\"}\n{\"label\": \"satire\", \"text\": \"Area caf\xe9 wins\"}\n",
    );
    assert!(
        err.contains("data.jsonl, line 2: invalid UTF-8 at byte 37 (0xE9)") && err.contains(hint),
        "{err}"
    );
    let err = train_err_in(
        "data.csv",
        b"id,label,text\na,real,Senate passes bill\nb,satire,Area caf\xe9 wins\n",
    );
    assert!(
        err.contains("data.csv, line 3: invalid UTF-8 in field 3 at byte 8 of the field")
            && err.contains(hint),
        "{err}"
    );
}

#[test]
fn a_file_listed_twice_in_labels_csv_names_both_lines() {
    // Listed twice, a file would be trained on twice, here once under each
    // label; `./` or not, it is the same file.
    let dir = tempfile::tempdir().unwrap();
    let texts = seed_texts();
    let mut labels = String::from("file,label\n");
    for (i, (text, label)) in texts.iter().enumerate() {
        write(dir.path(), &format!("{i}.txt"), text);
        labels.push_str(&format!("{i}.txt,{label}\n"));
    }
    for (again, first_line) in [("1.txt,satire", 3), ("./0.txt,satire", 2)] {
        write(dir.path(), "labels.csv", &format!("{labels}{again}\n"));
        let model = dir.path().join("m.satmodel");
        let path = dir.path().to_str().unwrap();
        for verb in [
            vec!["train", "-q", "-o", model.to_str().unwrap(), path],
            vec!["eval", path],
        ] {
            let out = satire(&verb, None);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{err}");
            let file = again.split(',').next().unwrap();
            assert!(
                err.contains(&format!(
                    "labels.csv, line 7: `{file}` is listed more than once (first on line {first_line})"
                )),
                "{err}"
            );
            assert!(!model.exists());
        }
    }
}

#[test]
fn an_output_that_cannot_be_written_stops_before_the_data_is_read() {
    // Regression: the model file was opened only after training, so a
    // folder or a missing folder as `-o` cost the whole run, and the OS
    // error was printed twice. The input here does not exist: the error
    // must be the output's, found first.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder").join("m.satmodel");
    for (target, says) in [
        (dir.path().to_path_buf(), "is a directory"),
        (missing, "No such file or directory"),
    ] {
        let out = satire(
            &["train", "-o", target.to_str().unwrap(), "no-such-data.csv"],
            None,
        );
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}: {says}", target.display())),
            "{err}"
        );
        assert_eq!(err.matches(says).count(), 1, "said once: {err}");
        assert!(!err.contains("no-such-data"), "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_csv_row_with_a_nul_byte_is_refused_as_score_refuses_it() {
    // Regression: train took a row that `satire score` gives an error row
    // (`binary data`), so the two disagreed on what is text.
    let err = train_err("id,label,text\n1,satire,Area man\0 wins\n2,real,Senate passes bill\n");
    assert!(
        err.contains("data.csv, line 2: binary data (NUL byte)"),
        "{err}"
    );
}

/// The seeds as `(label, text)` rows, for [`csv_of`].
fn seed_rows() -> Vec<(String, String)> {
    seed_texts().into_iter().map(|(t, l)| (l, t)).collect()
}

#[test]
fn an_output_that_is_its_own_training_or_held_out_data_is_refused() {
    // Regression: `train x.csv -o x.csv` replaced the training data with
    // the model (score refused the same mistake; train did not).
    let dir = tempfile::tempdir().unwrap();
    let rows = seed_rows();
    let data = write(dir.path(), "data.csv", &csv_of(&rows));
    let held = write(dir.path(), "held.csv", &csv_of(&rows[..2]));
    let before = std::fs::read(&data).unwrap();
    let (d, h) = (data.to_str().unwrap(), held.to_str().unwrap());
    let spelt_again = format!("{}/./held.csv", dir.path().display());
    for (out_path, named, role) in [
        (d, d, "training data"),
        (spelt_again.as_str(), h, "a held-out file"),
    ] {
        let out = satire(&["train", "-q", d, "--heldout", h, "-o", out_path], None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("{named} is both {role} and the output (-o)")),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(&data).unwrap(), before, "training data kept");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn a_training_path_given_twice_is_refused() {
    // Regression: `train a.csv a.csv` (or `a.csv ./a.csv`) trained two
    // identical components under one name, so `--into` and `--borrow-for`
    // could not tell them apart, and every text counted twice.
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "data.csv", &csv_of(&seed_rows()));
    let d = data.to_str().unwrap();
    let again = format!("{}/./data.csv", dir.path().display());
    let model = dir.path().join("m.satmodel");
    for second in [d, again.as_str()] {
        let out = satire(
            &["train", "-q", "-o", model.to_str().unwrap(), d, second],
            None,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("{second} is given twice")), "{err}");
        assert_eq!(err.contains("(also as"), second != d, "{err}");
        assert!(!model.exists());
    }
    let out = satire(&["eval", "--folds", "2", "--together", d, d], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is given twice"), "{}", stderr(&out));
}

#[test]
fn texts_labelled_both_ways_are_named_on_standard_error() {
    // Label noise is not an error (onion-or-not's own train.csv has a
    // headline under both labels), but a user who trains on it should hear
    // of it: each such text once, with the rows that disagree.
    let dir = tempfile::tempdir().unwrap();
    let mut rows = seed_sentences(8);
    let (label, text) = rows[3].clone();
    let other = if label == "real" { "satire" } else { "real" };
    // Row 3's sentence again under the other label, shouted and
    // re-punctuated (folded as --heldout folds, it is the same), then a
    // third time: still one text reported.
    rows.push((other.into(), format!("{}!!", text.to_uppercase())));
    rows.push((label.clone(), text.clone()));
    // A repeat under the same label is not noise of this kind.
    rows.push(rows[5].clone());
    let n = rows.len();
    let a = write(dir.path(), "a.csv", &csv_of(&rows));
    // Across files too: b.csv's last row is a.csv's last seed sentence
    // (from a straight report) labelled satire.
    let k = n - 4;
    let mut b = seed_rows();
    let (lk, tk) = rows[k].clone();
    assert_eq!(lk, "real");
    b.push(("satire".into(), tk));
    let b = write(dir.path(), "b.csv", &csv_of(&b));
    let m = dir.path().join("m.satmodel");
    let (a, b, m) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        m.to_str().unwrap(),
    );
    let out = satire(&["train", a, b, "-o", m], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("note: 2 texts are labelled both satire and real"),
        "{err}"
    );
    let pair = |x: &str, y: &str| format!("\n  {x} and {y}\n");
    assert!(
        err.contains(&pair(
            &format!("r3 ({a}, {label})"),
            &format!("r{} ({a}, {other})", n - 3)
        )),
        "{err}"
    );
    let b_row = seed_rows().len();
    assert!(
        err.contains(&pair(
            &format!("r{k} ({a}, real)"),
            &format!("r{b_row} ({b}, satire)")
        )),
        "{err}"
    );
    // Without them, not a word; and the note is only a note: the model is
    // trained on every row, as given.
    let clean = write(dir.path(), "clean.csv", &csv_of(&seed_sentences(8)));
    let out = satire(&["train", clean.to_str().unwrap(), "-o", m], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));
    let out = satire(&["train", "-q", a, b, "-o", m], None);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn train_passes_over_hidden_files_in_the_label_folders() {
    // `satire/.DS_Store` stopped training as binary data.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (i, (text, label)) in seed_texts().into_iter().enumerate() {
        std::fs::create_dir_all(data.join(&label)).unwrap();
        write(&data.join(&label), &format!("{i}.txt"), &text);
    }
    let train = |name: &str| {
        let model = dir.path().join(name);
        let out = satire(
            &[
                "train",
                "-q",
                data.to_str().unwrap(),
                "-o",
                model.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        model
    };
    let plain = train("plain.satmodel");
    std::fs::write(data.join("satire/.DS_Store"), b"\0\0\0\x01Bud1\0\0").unwrap();
    std::fs::create_dir(data.join("real/.git")).unwrap();
    write(&data.join("real/.git"), "HEAD", "ref: refs/heads/main\n");
    let with = train("with.satmodel");
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&with).unwrap()
    );
}
