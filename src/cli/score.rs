//! `satire score`: one output row per input item, in input order.

use std::path::PathBuf;
use std::process::ExitCode;

use satire::io::{printable, Item, OutputFormat, ScoreRow, ScoreWriter, StdinFormat};
use satire::model::Model;
use satire::score::{Score, Scorer};

use super::{batch, DecisionArgs, InputArgs, ModelArg, Output};

/// Score articles.
///
/// Each PATH is a text file (one article), a folder (every file below it,
/// sorted, recursively), a `.csv` file (one article per row, `--text-column`),
/// a `.jsonl` file (one JSON object per line), or `-` for standard input
/// (see --stdin). Every item gives exactly one output row, in input order;
/// an item that cannot be scored gets a row whose `error` says why, naming
/// the file and line. Rows are flushed whenever standard input has nothing
/// more to read yet, so items fed one at a time get their rows at once.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inputs to score.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArg,
    /// Write here instead of standard output (atomically: the file appears
    /// only once complete).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Csv)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub decision: DecisionArgs,
    /// Report the raw naive-Bayes posterior instead of the calibrated one.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// Exit 0 even when some items could not be scored.
    #[arg(long, conflicts_with = "strict")]
    pub lenient: bool,
    /// Stop at the first item that cannot be scored (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// No progress bar and no summary on standard error. (The progress
    /// bar, with items, MB/s and an ETA, is shown only when standard error
    /// is a terminal.)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Scoring threads [default: one per core]. With 1, reading, scoring
    /// and writing take turns on one thread; with more, a reader thread
    /// cuts the input into chunks, each scoring thread takes the next
    /// chunk when it is free, and rows are written in input order.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Score through the reference path (unicode-segmentation for every
    /// word, a hash map lookup per token string): slow, and byte-identical
    /// output, for checking the fast path.
    #[arg(long, hide = true)]
    pub reference_path: bool,
}

/// How each thread's scorer is set up.
#[derive(Clone, Copy)]
struct ScorerOpts {
    calibrated: bool,
    reference_path: bool,
}

impl ScorerOpts {
    fn scorer(self, model: &Model) -> Scorer<'_> {
        Scorer::new(model)
            .calibrated(self.calibrated)
            .reference_path(self.reference_path)
    }
}

/// One scored (or failed) item, ready to write.
struct Scored {
    id: String,
    bytes: usize,
    result: Result<Score, String>,
}

fn score_item(scorer: &mut Scorer, item: Item) -> Scored {
    match item.text {
        Ok(text) => Scored {
            id: item.id,
            bytes: text.len(),
            result: Ok(scorer.score(&text)),
        },
        Err(e) => Scored {
            id: item.id,
            bytes: 0,
            result: Err(e),
        },
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let decision = args.decision.decision()?;
    // Checked with the other settings, before the output is opened: a bad
    // setting writes nothing, not even the header.
    let threads = batch::threads(args.threads)?;
    let model = args.model.load()?;
    let stdin_default = if args.format == OutputFormat::Jsonl {
        StdinFormat::Auto
    } else {
        StdinFormat::Text
    };
    let mut reader = args.input.reader(&args.paths, stdin_default)?;
    let (out, out_name) = Output::open(args.out.as_ref(), &args.paths)?;
    // A pipeline whose reader downstream has left ends while it waits for
    // standard input, not at its next row, which may be long in coming.
    reader.watch_stdout = matches!(out, Output::Stdout(_));
    reader.own_output = out.temp_path();
    let io_err = |e: std::io::Error| satire::Error::Io {
        path: out_name.clone(),
        source: e,
    };
    let mut writer = ScoreWriter::new(out, args.format).map_err(io_err)?;
    let scorer_opts = ScorerOpts {
        calibrated: !args.raw,
        reference_path: args.reference_path,
    };
    let started = std::time::Instant::now();
    let (mut scored, mut failed, mut bytes) = (0u64, 0u64, 0u64);
    let mut first_error: Option<String> = None;
    let bar = progress_bar(&args.paths, args.input.hidden, args.quiet);
    // Writes one row, or with `None` flushes what is written (at the end of
    // each batch, so that a reader downstream sees rows as batches finish);
    // `Ok(false)` asks to stop (--strict after an error).
    let mut emit = |s: Option<Scored>| -> satire::Result<bool> {
        let Some(s) = s else {
            writer.flush().map_err(io_err)?;
            return Ok(true);
        };
        if let Some(bar) = &bar {
            bar.inc(s.bytes as u64);
            if (scored + failed) % 256 == 0 {
                bar.set_message(format!("{} items", scored + failed));
            }
        }
        let row = match &s.result {
            Ok(score) => {
                bytes += s.bytes as u64;
                scored += 1;
                ScoreRow {
                    id: &s.id,
                    label: decision.label(score.p_satire),
                    p_satire: Some(score.p_satire),
                    log_odds: Some(score.log_odds),
                    error: "",
                }
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| e.clone());
                ScoreRow {
                    id: &s.id,
                    label: "",
                    p_satire: None,
                    log_odds: None,
                    error: e,
                }
            }
        };
        writer.write(&row).map_err(io_err)?;
        Ok(!(args.strict && failed > 0))
    };
    let hidden_passed = reader.hidden_passed.clone();
    let scorers = (0..threads).map(|_| scorer_opts.scorer(&model)).collect();
    let stopped = batch::Batches {
        reader,
        paths: &args.paths,
        workers: scorers,
        work: score_item,
    }
    .in_order(&mut emit)?;
    if stopped {
        if let Some(e) = &first_error {
            eprintln!(
                "satire: stopped at the first error (--strict): {}",
                printable(e)
            );
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    writer.into_inner().map_err(io_err)?.finish()?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "satire: {scored} scored, {failed} in error, {secs:.2}s, {:.1} MB/s",
            bytes as f64 / 1e6 / secs.max(1e-9)
        );
        if let Some(e) = &first_error {
            eprintln!("satire: first error: {}", printable(e));
        }
        super::tell_hidden_passed(&hidden_passed);
    }
    Ok(if failed > 0 && !args.lenient {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress bar on standard error when it is a terminal and not
/// `--quiet`: text bytes scored out of the inputs' size on disk (which also
/// counts CSV quoting and ids, so the bar ends a little short), items, MB/s
/// and an ETA. With standard input among the inputs the size is unknown:
/// no ETA.
fn progress_bar(paths: &[PathBuf], hidden: bool, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: Option<u64> = paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                return None;
            }
            let size: u64 = satire::io::folder_walk(p, hidden)
                .flatten()
                .filter(|e| e.file_type().is_file())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum();
            Some(size)
        })
        .sum();
    let (bar, template) = match total {
        Some(t) => (
            indicatif::ProgressBar::new(t),
            "{spinner} {msg}, {bytes} of {total_bytes} [{wide_bar}] {bytes_per_sec}, ETA {eta}",
        ),
        None => (
            indicatif::ProgressBar::no_length(),
            "{spinner} {msg}, {bytes}, {bytes_per_sec}",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message("0 items");
    Some(bar)
}
