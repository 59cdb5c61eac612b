//! `satire explain`: the cue words and sentences behind each score.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use satire::explain::{Explainer, Explanation, TokenShare};
use satire::model::{Counting, Model};
use satire::report::HtmlReport;
use satire::score::Decision;

use satire::io::{printable, Item, StdinFormat};

use super::{batch, DecisionArgs, InputArgs, ModelArg, Output};

/// Explain scores: the tokens and sentences that moved each article's
/// log-odds, with their exact contributions.
///
/// For each article: its label and P(satire); the component that scored
/// it; `log_odds = intercept + token contributions + mixing`, where each
/// token's contribution is `scale * count * weight`; the strongest cue
/// tokens each way; and its sentences, most satirical first, each with its
/// share of the log-odds (its contribution plus its part of the intercept,
/// spread over the known tokens, so the shares sum to `log_odds - mixing`)
/// and its own P(satire), the same component's score of the sentence
/// alone. Inputs are read as `satire score` reads them.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inputs to explain.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArg,
    /// Write here instead of standard output (atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub decision: DecisionArgs,
    /// Cue tokens shown in each direction.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 10,
        value_name = "N"
    )]
    pub top: usize,
    /// Sentences shown in text output (JSON always has all of them).
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 5,
        value_name = "N"
    )]
    pub sentences: usize,
    /// Explain the raw naive-Bayes posterior instead of the calibrated one.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// Explaining threads [default: one per core]. Output is in input
    /// order and the same for any number.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub threads: Option<usize>,
}

/// Output formats of `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON object per article, one per line.
    Json,
    /// One self-contained HTML page: each article with its sentences
    /// shaded by their share, its cue words, and (for several inputs) an
    /// index table sortable by score. Written when all inputs are read.
    Html,
}

/// One item, explained.
enum Explained {
    /// Its text or JSON output, written by the explaining thread, so that
    /// writing in input order is all that is left to one thread.
    Rendered {
        output: std::io::Result<Vec<u8>>,
        error: Option<String>,
    },
    /// What the HTML report needs, which is written once all items are in:
    /// the item's id, and its text with its explanation or its error.
    ForReport {
        id: String,
        done: Result<(String, Explanation), String>,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Checked before the model loads and the output opens, as `score` does.
    let decision = args.decision.decision()?;
    let threads = batch::threads(args.threads)?;
    let model = args.model.load()?;
    let mut reader = args.input.reader(&args.paths, StdinFormat::Text)?;
    let (mut out, out_name) = Output::open(args.out.as_ref(), &args.paths)?;
    // A pipeline whose reader downstream has left ends while it waits for
    // standard input, not at its next row, which may be long in coming.
    reader.watch_stdout = matches!(out, Output::Stdout(_));
    reader.own_output = out.temp_path();
    let io_err = |e: std::io::Error| satire::Error::Io {
        path: out_name.clone(),
        source: e,
    };
    let hidden_passed = reader.hidden_passed.clone();
    let explainers = (0..threads)
        .map(|_| Explainer::new(&model).calibrated(!args.raw))
        .collect();
    let explain = |explainer: &mut Explainer, item: Item| {
        let id = item.id;
        let done = item.text.map(|text| {
            let e = explainer.explain(&text);
            (text, e)
        });
        let mut out = Vec::new();
        let written = match (&done, args.format) {
            (_, Format::Html) => return Explained::ForReport { id, done },
            (Ok((text, e)), Format::Text) => {
                write_text(&mut out, &model, &id, text, e, decision, &args)
            }
            (Ok((text, e)), Format::Json) => {
                write_json(&mut out, &model, &id, text, e, decision, args.top)
            }
            (Err(msg), Format::Text) => {
                writeln!(out, "== {}\nerror: {}\n", printable(&id), printable(msg))
            }
            (Err(msg), Format::Json) => json_line(
                &mut out,
                &JsonError {
                    error: msg,
                    id: &id,
                },
            ),
        };
        Explained::Rendered {
            output: written.map(|()| out),
            error: done.err(),
        }
    };
    let mut report = HtmlReport::new(&model, args.top, decision);
    let (mut explained, mut failed) = (0u64, 0u64);
    let mut first_error: Option<String> = None;
    let mut count = |error: Option<&String>| match error {
        None => explained += 1,
        Some(msg) => {
            failed += 1;
            first_error.get_or_insert_with(|| msg.clone());
        }
    };
    let mut emit = |done: Option<Explained>| {
        match done {
            None => out.flush().map_err(io_err)?,
            Some(Explained::Rendered { output, error }) => {
                count(error.as_ref());
                out.write_all(&output.map_err(io_err)?).map_err(io_err)?;
            }
            Some(Explained::ForReport { id, done }) => match done {
                Ok((text, e)) => {
                    count(None);
                    report.add(&model, &id, &text, &e);
                }
                Err(msg) => {
                    count(Some(&msg));
                    report.add_error(&id, &msg);
                }
            },
        }
        Ok(true)
    };
    batch::Batches {
        reader,
        paths: &args.paths,
        workers: explainers,
        work: explain,
    }
    .in_order(&mut emit)?;
    if args.format == Format::Html {
        report.write(&mut out).map_err(io_err)?;
    }
    out.finish()?;
    // The errors are in the output, which may be a file or a page: the
    // terminal is told too, as `score` tells it, or exit 1 would be all.
    if let Some(e) = &first_error {
        eprintln!("satire: {explained} explained, {failed} in error");
        eprintln!("satire: first error: {}", printable(e));
    }
    super::tell_hidden_passed(&hidden_passed);
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A sentence on one line, whole: a reader checks the very words. Runs
/// of white space are one space; other control characters are escaped.
fn one_line(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    printable(&words).into_owned()
}

fn write_text(
    out: &mut impl Write,
    model: &Model,
    id: &str,
    text: &str,
    e: &Explanation,
    decision: Decision,
    args: &Args,
) -> std::io::Result<()> {
    let s = &e.score;
    writeln!(out, "== {}", printable(id))?;
    writeln!(
        out,
        "{}  p_satire {:.4}  log_odds {:.4}",
        decision.label(s.p_satire),
        s.p_satire,
        s.log_odds
    )?;
    writeln!(
        out,
        "component {} (router {:.3})",
        model.components()[e.component].name,
        s.component_p
    )?;
    writeln!(
        out,
        "log_odds = intercept {:+.4} + tokens {:+.4} ({} known{} of {}, scale {:.4}) + mixing {:+.4}",
        e.intercept,
        e.token_total(),
        s.known_tokens,
        match model.counting() {
            Counting::Presence => ", each counted once,",
            Counting::Frequency => "",
        },
        s.tokens,
        e.scale,
        e.mixing
    )?;
    for (title, cues) in [
        ("satire cues", e.satire_cues(args.top).collect::<Vec<_>>()),
        ("real cues", e.real_cues(args.top).collect::<Vec<_>>()),
    ] {
        writeln!(
            out,
            "{title} (contribution = times counted x weight x scale):"
        )?;
        for t in cues {
            write!(
                out,
                "  {:+9.4}  {:>3} x {:+.3}  {}",
                t.contribution, t.counted, t.weight, t.token
            )?;
            if t.count != t.counted {
                write!(out, "  ({} times in the text)", t.count)?;
            }
            writeln!(out)?;
        }
    }
    writeln!(
        out,
        "sentences, most satirical first (share of log_odds, own P(satire)):"
    )?;
    let shown = e
        .sentences_by_satire()
        .into_iter()
        .map(|i| &e.sentences[i])
        .filter(|st| !st.is_blank(text));
    for st in shown.take(args.sentences) {
        writeln!(
            out,
            "  {:+9.4}  {:.3}  {}",
            st.share,
            st.p_satire,
            one_line(st.text(text))
        )?;
    }
    writeln!(out)
}

/// One line of `--format json` for an item explained. Its fields are in the order of their
/// names, as the `serde_json::Value` map that it replaced wrote them
/// (the lines are the same, byte for byte), and it borrows what it
/// shows: no map and no copies for each article.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    component: &'a str,
    error: Option<&'a str>,
    id: &'a str,
    intercept: f64,
    known_tokens: u64,
    label: &'a str,
    log_odds: f64,
    mixing: f64,
    p_satire: f64,
    real_cues: Vec<JsonCue<'a>>,
    router_p: f64,
    satire_cues: Vec<JsonCue<'a>>,
    scale: f64,
    sentences: Vec<JsonSentence<'a>>,
    token_total: f64,
    tokens: u64,
}

/// The line of `--format json` for an item in error: its fields in name
/// order too.
#[derive(serde::Serialize)]
struct JsonError<'a> {
    error: &'a str,
    id: &'a str,
}

#[derive(serde::Serialize)]
struct JsonCue<'a> {
    contribution: f64,
    count: u64,
    counted: u64,
    token: &'a str,
    weight: f64,
}

#[derive(serde::Serialize)]
struct JsonSentence<'a> {
    contribution: f64,
    end: usize,
    p_satire: f64,
    share: f64,
    start: usize,
    text: &'a str,
    tokens: f64,
}

fn write_json(
    out: &mut impl Write,
    model: &Model,
    id: &str,
    text: &str,
    e: &Explanation,
    decision: Decision,
    top: usize,
) -> std::io::Result<()> {
    let s = &e.score;
    fn cue(t: &TokenShare) -> JsonCue<'_> {
        JsonCue {
            contribution: t.contribution,
            count: t.count,
            counted: t.counted,
            token: &t.token,
            weight: t.weight,
        }
    }
    let line = JsonLine {
        component: &model.components()[e.component].name,
        error: None,
        id,
        intercept: e.intercept,
        known_tokens: s.known_tokens,
        label: decision.label(s.p_satire),
        log_odds: s.log_odds,
        mixing: e.mixing,
        p_satire: s.p_satire,
        real_cues: e.real_cues(top).map(cue).collect(),
        router_p: s.component_p,
        satire_cues: e.satire_cues(top).map(cue).collect(),
        scale: e.scale,
        sentences: e
            .sentences
            .iter()
            .map(|st| JsonSentence {
                contribution: st.contribution,
                end: st.end,
                p_satire: st.p_satire,
                share: st.share,
                start: st.start,
                text: st.text(text),
                tokens: st.tokens,
            })
            .collect(),
        token_total: e.token_total(),
        tokens: s.tokens,
    };
    json_line(out, &line)
}

/// `value` as one line of JSON.
fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}
