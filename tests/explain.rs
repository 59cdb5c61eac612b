//! `explain`: token and sentence contributions add up to the score.

mod common;
use common::*;

use satire::explain::Explainer;
use satire::model::{Counting, Model};
use satire::score::Scorer;
use satire::train::{self, TrainParams};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn contributions_sum_to_the_scorers_log_odds_with_one_component() {
    for counting in [Counting::Presence, Counting::Frequency] {
        contributions_sum_to_log_odds(counting);
    }
}

fn contributions_sum_to_log_odds(counting: Counting) {
    // One component: no mixing, so intercept + contributions must equal the
    // scorer's log-odds, which the scorer sums by its own path.
    let set = seed_set();
    let params = TrainParams {
        min_df: 1,
        calibrate: false,
        counting,
        ..Default::default()
    };
    let model = train::fit(&params.check().unwrap(), &set).unwrap();
    // Short texts too.
    let headlines = [
        "Area Man Passionate Defender Of What He Imagines Constitution To Be",
        "Elon Musk claims ‘massive cyber-attack’ caused X outages",
    ];
    let texts = set
        .examples
        .iter()
        .map(|e| e.text.as_str())
        .chain(headlines);
    for raw in [false, true] {
        let mut ex = Explainer::new(&model).calibrated(!raw);
        let mut sc = Scorer::new(&model).calibrated(!raw);
        for text in texts.clone() {
            let e = ex.explain(text);
            let want = sc.score(text).log_odds;
            assert!(
                close(e.intercept + e.token_total(), want),
                "{counting:?}: {} + {} vs {want}",
                e.intercept,
                e.token_total()
            );
        }
    }
}

#[test]
fn seed_explanations_add_up_on_the_default_model() {
    let model = Model::embedded().unwrap();
    let mut ex = Explainer::new(&model);
    for (text, label) in seed_texts() {
        let e = ex.explain(&text);
        // Articles are routed with certainty: the component's own sum is
        // the score.
        assert!(e.mixing.abs() < 1e-6, "mixing {}", e.mixing);
        assert!((e.intercept + e.token_total() + e.mixing - e.score.log_odds).abs() < 1e-9);
        // Sentences tile the text and their shares, credited by position,
        // sum to the tokens' shares, aggregated by token.
        assert_eq!(e.sentences.first().map(|s| s.start), Some(0));
        assert_eq!(e.sentences.last().map(|s| s.end), Some(text.len()));
        assert!(e.sentences.windows(2).all(|w| w[0].end == w[1].start));
        let by_sentence: f64 = e.sentences.iter().map(|s| s.contribution).sum();
        assert!(close(by_sentence, e.token_total()), "{label}");
        let credited: f64 = e.sentences.iter().map(|s| s.tokens).sum();
        assert!(close(credited, e.score.known_tokens as f64), "{credited}");
        // Shares add the intercept, spread by known tokens: they sum to the
        // article's log-odds.
        assert!(
            close(e.share_total(), e.score.log_odds - e.mixing),
            "{label}"
        );
        let order = e.sentences_by_satire();
        assert!(order
            .windows(2)
            .all(|w| e.sentences[w[0]].share >= e.sentences[w[1]].share));
        // Each token's share is times counted x weight x scale, with the
        // model's weight.
        for t in &e.tokens {
            let col = model.column(&t.token).unwrap();
            assert_eq!(t.weight, model.weight(e.component, col));
            let counted = match model.counting() {
                Counting::Presence => 1,
                Counting::Frequency => t.count,
            };
            assert_eq!(t.counted, counted, "{}", t.token);
            assert!(close(t.contribution, counted as f64 * t.weight * e.scale));
        }
        assert!(e
            .tokens
            .windows(2)
            .all(|w| w[0].contribution >= w[1].contribution));
    }
}

#[test]
fn satire_seeds_top_sentences_are_the_jokes_a_reader_would_pick() {
    // The check, through the command a user types: of the three
    // lines a reader picks out of the satire seed (the Bond villain, the
    // Taylor Swift fan club, the grandma), at least two are among the five
    // sentences listed.
    let seed = seeds().join("000_ee9cb40c4d31c8bb.txt");
    let out = satire(&["explain", seed.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("sentences, most satirical first"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(listed.len(), 5, "{text}");
    let jokes = ["Bond villain", "Taylor Swift fan club", "my grandma"];
    let found: Vec<&&str> = jokes
        .iter()
        .filter(|j| listed.iter().any(|l| l.contains(*j)))
        .collect();
    assert!(
        found.len() >= 2,
        "found {found:?} in\n{}",
        listed.join("\n")
    );
    // Listed shares are in decreasing order, and the satirical article's
    // top sentence pushes towards satire.
    let shares: Vec<f64> = listed
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
    assert!(shares[0] > 0.0);
}

#[test]
fn with_presence_counting_a_sentence_gains_nothing_from_coming_first() {
    // Two sentences of the satire seed sharing words ("the", "Musk", ...):
    // a token counted once per text is credited to its places in equal
    // parts, so each sentence's share is the same in either order. (No
    // word pairs: the pair across the two sentences would differ.)
    let set = seed_set();
    let params = TrainParams {
        min_df: 1,
        tokenizer: satire::tokenize::TokenizerConfig {
            bigrams: false,
            ..Default::default()
        },
        counting: Counting::Presence,
        ..Default::default()
    };
    let model = train::fit(&params.check().unwrap(), &set).unwrap();
    let a = "Social media platform X experienced intermittent outages on Monday, with owner Elon Musk attributing the disruption to a cyberattack so advanced that it required the resources of a Bond villain.";
    let b = "Musk later told Fox Business Network that the attack originated from IP addresses in Ukraine.";
    let mut ex = Explainer::new(&model);
    let ab = ex.explain(&format!("{a} {b}"));
    let ba = ex.explain(&format!("{b} {a}"));
    assert!(close(ab.score.log_odds, ba.score.log_odds));
    let share = |e: &satire::explain::Explanation, s: &str| {
        e.sentences
            .iter()
            .find(|x| {
                x.text(&format!("{a} {b}")).trim() == s || x.text(&format!("{b} {a}")).trim() == s
            })
            .map(|x| (x.share, x.tokens, x.p_satire))
            .unwrap()
    };
    for s in [a, b] {
        let (x, y) = (share(&ab, s), share(&ba, s));
        assert!(
            close(x.0, y.0) && close(x.1, y.1) && close(x.2, y.2),
            "{x:?} vs {y:?}"
        );
    }
    // "the" occurs three times, twice in the first sentence, and counts
    // once: two thirds of it go to that sentence, one third to the other.
    let the = ab.tokens.iter().find(|t| t.token == "the").unwrap();
    assert_eq!((the.count, the.counted), (3, 1));
    assert!(ab.sentences.iter().any(|s| s.tokens.fract() != 0.0));
}

#[test]
fn cli_json_explains_each_input_in_order() {
    let out = satire(
        &["explain", "--format", "json", "--top", "3", "corpus/seeds"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    let scored = score_rows(&satire(&["score", "corpus/seeds"], None));
    for (r, s) in rows.iter().zip(&scored) {
        assert_eq!(r["id"].as_str(), Some(s.0.as_str()));
        assert_eq!(r["label"].as_str(), Some(s.1.as_str()));
        let sum = r["intercept"].as_f64().unwrap()
            + r["token_total"].as_f64().unwrap()
            + r["mixing"].as_f64().unwrap();
        assert!((sum - r["log_odds"].as_f64().unwrap()).abs() < 1e-9);
        assert_eq!(r["satire_cues"].as_array().unwrap().len(), 3);
        assert!(r["sentences"].as_array().unwrap().len() > 5);
    }
    // The satire seed's strongest satire cues really push toward satire.
    assert!(rows[0]["satire_cues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["contribution"].as_f64().unwrap() > 0.0));
}

#[test]
fn cli_explain_reports_bad_items_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a_empty.txt", "");
    std::fs::copy(
        seeds().join("001_47928d6a448b7187.txt"),
        dir.path().join("b_article.txt"),
    )
    .unwrap();
    let out = satire(&["explain", dir.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let (first, second) = (
        text.find("a_empty.txt").unwrap(),
        text.find("b_article.txt").unwrap(),
    );
    assert!(first < second);
    assert!(text.contains("error:"), "{text}");
    assert!(text.contains("sentences, most satirical first"), "{text}");
    // The terminal is told too, not only the output: written to a page,
    // the errors would otherwise show as exit 1 and nothing else.
    let err = stderr(&out);
    assert!(
        err.contains("satire: 1 explained, 1 in error")
            && err.contains("first error: ")
            && err.contains("a_empty.txt"),
        "{err}"
    );
    // (Outside the folder explained: a page left in it would be read as
    // an article by the next run.)
    let pages = tempfile::tempdir().unwrap();
    let page = pages.path().join("page.html");
    let out = satire(
        &[
            "explain",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("1 explained, 1 in error") && err.contains("a_empty.txt"),
        "{err}"
    );
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains("1 in error"));
    // In JSON, the item in error is a line of its own with its id and
    // error only, and the next item is explained.
    let out = satire(
        &["explain", "--format", "json", dir.path().to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let error = lines[0].as_object().unwrap();
    assert_eq!(error.keys().collect::<Vec<_>>(), ["error", "id"]);
    assert!(error["id"].as_str().unwrap().ends_with("a_empty.txt"));
    assert!(!error["error"].as_str().unwrap().is_empty());
    assert!(lines[1]["id"].as_str().unwrap().ends_with("b_article.txt"));
    assert!(lines[1]["error"].is_null());
    assert_eq!(lines[1]["label"].as_str(), Some("real"));
}

#[test]
fn cli_explain_labels_as_score_does_with_the_same_threshold_and_band() {
    // The seeds' P(satire) are 0.96, 0.29, 0.04, 0.17 and 0.09: around
    // 0.2, a band of 0.1 makes two of them unsure, and leaves one of each
    // label besides. explain is what a reader checks a score against, so
    // its label must be the one score gave.
    let flags = ["--threshold", "0.2", "--unsure", "0.1"];
    let scored = score_rows(&satire(
        &[&["score"][..], &flags, &["corpus/seeds"]].concat(),
        None,
    ));
    let labels: Vec<&str> = scored.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(labels, ["satire", "unsure", "real", "unsure", "real"]);
    let out = satire(
        &[
            &["explain", "--format", "json"][..],
            &flags,
            &["corpus/seeds"],
        ]
        .concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let explained: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["label"].to_string())
        .collect();
    assert_eq!(
        explained,
        labels
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
    );
    let out = satire(
        &[&["explain"][..], &flags, &["corpus/seeds"]].concat(),
        None,
    );
    let text = stdout(&out);
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("  p_satire "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(heads, labels);
    // The page counts them and says how they were labelled.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("seeds.html");
    let out = satire(
        &[
            &["explain", "--format", "html", "-o", page.to_str().unwrap()][..],
            &flags,
            &["corpus/seeds"],
        ]
        .concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("5 articles: 1 satire, 2 real, 2 unsure.")
            && html.contains("Threshold 0.2, unsure within 0.1 of it."),
        "{html}"
    );
    assert_eq!(html.matches("data-label=\"unsure\"").count(), 2);
}

#[test]
fn cli_explain_threads_give_the_same_output_in_the_same_order() {
    // Several batches (the first holds 64 KB), with empty texts, which
    // are errors, scattered through them: every format writes the same
    // bytes on any number of threads, one entry per row, in row order.
    let sentences = seed_sentences(4);
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,text\n");
    for i in 0..5000 {
        let text = match i % 9 {
            0 => String::new(),
            _ => sentences[i % sentences.len()].1.replace('"', "\"\""),
        };
        csv.push_str(&format!("r{i},\"{text}\"\n"));
    }
    let path = write(dir.path(), "many.csv", &csv);
    let path = path.to_str().unwrap();
    for format in ["json", "text", "html"] {
        let one = satire(&["explain", "-f", format, "--threads", "1", path], None);
        assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
        if format == "json" {
            let rows: Vec<serde_json::Value> = stdout(&one)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(rows.len(), 5000);
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(r["id"].as_str(), Some(format!("r{i}").as_str()));
                assert_eq!(r["error"].is_null(), i % 9 != 0, "{r}");
            }
        }
        for threads in ["2", "3"] {
            let many = satire(&["explain", "-f", format, "--threads", threads, path], None);
            assert_eq!(many.status.code(), Some(1));
            assert!(
                many.stdout == one.stdout,
                "--format {format} --threads {threads} differs"
            );
        }
    }
}

#[test]
fn cli_explain_gives_each_trickling_item_its_line_before_the_input_ends() {
    use std::io::Write;
    // As for `score`: a producer feeding one item at a time and waiting for
    // its explanation gets it while standard input is still open.
    let items = [
        (
            "a",
            "Area Man Passionate Defender Of What He Imagines Constitution To Be",
        ),
        (
            "b",
            "Elon Musk claims massive cyber-attack caused X outages",
        ),
    ];
    for threads in ["1", "2"] {
        let (mut child, mut input, out) = spawn_piped(&format!(
            "explain --format json --stdin jsonl --threads {threads} -"
        ));
        let lines = Lines::of(out);
        for (id, text) in items {
            let item = serde_json::json!({ "id": id, "text": text });
            writeln!(input, "{item}").unwrap();
            input.flush().unwrap();
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("{threads} threads: no line for {id} while open"));
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["id"].as_str(), Some(id), "{threads} threads: {line}");
            assert!(v["error"].is_null(), "{threads} threads: {line}");
        }
        drop(input);
        assert!(child.wait().unwrap().success(), "{threads} threads");
        assert_eq!(
            lines.rest(),
            Vec::<String>::new(),
            "{threads} threads: one line an item"
        );
    }
}
