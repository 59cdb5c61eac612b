//! `satire score`: one output row per input item, in input order.

use std::path::PathBuf;
use std::process::ExitCode;

use satire::io::{OutputFormat, ScoreRow, ScoreWriter};
use satire::score::{Decision, Scorer};

use super::{InputArgs, ModelArg, Output};

/// Score articles.
///
/// Each PATH is a text file (one article), a folder (every file below it,
/// sorted, recursively), a `.csv` file (one article per row, `--text-column`),
/// a `.jsonl` file (one JSON object per line), or `-` for standard input
/// (see --stdin). Every item gives exactly one output row, in input order;
/// an item that cannot be scored gets a row whose `error` says why, naming
/// the file and line.
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
    /// P(satire) at or above this is labelled `satire`.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Label `unsure` when P(satire) is within this distance of the threshold.
    #[arg(long, default_value_t = 0.0, value_name = "WIDTH")]
    pub unsure: f64,
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
    /// No summary on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        anyhow::bail!(
            "--threshold must be strictly between 0 and 1, got {}",
            args.threshold
        );
    }
    if !(0.0..0.5).contains(&args.unsure) {
        anyhow::bail!("--unsure must be in [0, 0.5), got {}", args.unsure);
    }
    let model = args.model.load()?;
    let reader = args.input.reader(&args.paths)?;
    let (out, out_name) = Output::open(args.out.as_ref())?;
    let io_err = |e: std::io::Error| satire::Error::Io {
        path: out_name.clone(),
        source: e,
    };
    let mut writer = ScoreWriter::new(out, args.format).map_err(io_err)?;
    let mut scorer = Scorer::new(&model).calibrated(!args.raw);
    let decision = Decision {
        threshold: args.threshold,
        unsure: args.unsure,
    };
    let started = std::time::Instant::now();
    let (mut scored, mut failed, mut bytes) = (0u64, 0u64, 0u64);
    let mut first_error: Option<String> = None;
    reader
        .for_each(&args.paths, |item| {
            let row = match &item.text {
                Ok(text) => {
                    bytes += text.len() as u64;
                    scored += 1;
                    let s = scorer.score(text);
                    ScoreRow {
                        id: &item.id,
                        label: decision.label(s.p_satire),
                        p_satire: Some(s.p_satire),
                        log_odds: Some(s.log_odds),
                        error: "",
                    }
                }
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert_with(|| e.clone());
                    ScoreRow {
                        id: &item.id,
                        label: "",
                        p_satire: None,
                        log_odds: None,
                        error: e,
                    }
                }
            };
            writer.write(&row).map_err(io_err)?;
            if args.strict && failed > 0 {
                return Err(satire::Error::Data(format!(
                    "stopped at the first error (--strict): {}",
                    row.error
                )));
            }
            Ok(())
        })
        .or_else(|e| match e {
            satire::Error::Data(msg) if args.strict => {
                eprintln!("satire: {msg}");
                Ok(())
            }
            e => Err(e),
        })?;
    writer.into_inner().map_err(io_err)?.finish()?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "satire: {scored} scored, {failed} in error, {secs:.2}s, {:.1} MB/s",
            bytes as f64 / 1e6 / secs.max(1e-9)
        );
        if let Some(e) = &first_error {
            eprintln!("satire: first error: {e}");
        }
    }
    Ok(if failed > 0 && !args.lenient {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
