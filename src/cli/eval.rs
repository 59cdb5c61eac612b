//! `satire eval`: figures on labelled data, or cross-validated training.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use satire::eval::{evaluate, Metrics};
use satire::io::read_labelled_rows;
use satire::model::Label;
use satire::train;

use super::train::TrainOpts;
use super::{ColumnArgs, ModelArg, ReportFormat as Format};

/// Measure a model on labelled data.
///
/// Without --folds, scores each PATH with the model and reports accuracy,
/// precision/recall/F1 per class, ROC AUC, Brier score, log loss and the
/// confusion matrix. With --folds K, trains K models on each PATH (with the
/// training options below) and reports the pooled out-of-fold figures.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Labelled data (CSV, JSONL, or a labelled folder).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArg,
    /// Stratified K-fold cross-validation of training on each PATH. A
    /// fold's model is trained without the rows whose text (case and
    /// punctuation folded, as --heldout compares) is one the fold holds out.
    #[arg(long, allow_negative_numbers = true, value_name = "K")]
    pub folds: Option<usize>,
    /// With --folds: train on all PATHs together (each one a component, as
    /// `satire train` does) and report each PATH's out-of-fold figures.
    #[arg(long, requires = "folds")]
    pub together: bool,
    /// P(satire) at or above this counts as a `satire` prediction.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub threshold: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub columns: ColumnArgs,
    #[command(flatten)]
    pub opts: TrainOpts,
}

#[derive(serde::Serialize)]
struct Report {
    path: String,
    mode: String,
    /// With --folds: how many of this PATH's rows a fold left out of its
    /// training part as twins of the texts it holds out.
    #[serde(skip_serializing_if = "Option::is_none")]
    twins_left_out: Option<u64>,
    /// Rows that could not be evaluated (an unknown label, an empty text,
    /// ...), left out of the figures; in input order. Cross-validation
    /// trains, and stops at a bad row as `satire train` does: none there.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<String>>,
    #[serde(flatten)]
    metrics: Metrics,
}

fn rows(n: usize) -> String {
    match n {
        1 => "1 row".into(),
        n => format!("{n} rows"),
    }
}

/// Errors listed in the text report; JSON lists them all.
const ERRORS_SHOWN: usize = 5;

fn print_text(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let m = &r.metrics;
    writeln!(
        out,
        "== {} ({}, {} texts, threshold {})",
        r.path, r.mode, m.n, m.threshold
    )?;
    if let Some(errors) = r.errors.as_ref().filter(|e| !e.is_empty()) {
        writeln!(
            out,
            "errors    {} left out of these figures:",
            rows(errors.len())
        )?;
        for e in errors.iter().take(ERRORS_SHOWN) {
            writeln!(out, "  {}", satire::io::printable(e))?;
        }
        if errors.len() > ERRORS_SHOWN {
            writeln!(
                out,
                "  ... and {} more (--format json lists them all)",
                errors.len() - ERRORS_SHOWN
            )?;
        }
    }
    if let Some(n) = r.twins_left_out {
        writeln!(
            out,
            "twins     {n} training rows left out of a fold that holds out the same text"
        )?;
    }
    writeln!(out, "accuracy  {:.4}", m.accuracy)?;
    for (name, c) in [("satire", &m.satire), ("real", &m.real)] {
        writeln!(
            out,
            "{name:<8}  precision {:.4}  recall {:.4}  f1 {:.4}  support {}",
            c.precision, c.recall, c.f1, c.support
        )?;
    }
    writeln!(
        out,
        "roc_auc   {:.4}  brier {:.4}  log_loss {:.4}",
        m.auc, m.brier, m.log_loss
    )?;
    writeln!(
        out,
        "confusion (rows: truth; columns: predicted real, satire)"
    )?;
    writeln!(
        out,
        "  real    {:>6} {:>6}",
        m.confusion[0][0], m.confusion[0][1]
    )?;
    writeln!(
        out,
        "  satire  {:>6} {:>6}",
        m.confusion[1][0], m.confusion[1][1]
    )?;
    writeln!(out)?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        anyhow::bail!(
            "--threshold must be strictly between 0 and 1, got {}",
            args.threshold
        );
    }
    let cols = args.columns.columns();
    let mut reports = Vec::new();
    match args.folds {
        None => {
            let model = args.model.load()?;
            for path in &args.paths {
                // A bad row costs itself, not the run: it is listed and
                // left out of the figures, and the exit code says so.
                let mut errors = Vec::new();
                let examples = read_labelled_rows(path, &cols, &mut |e| {
                    errors.push(e.to_string());
                    Ok(())
                })?;
                if let Some(first) = errors.first() {
                    eprintln!(
                        "satire: {}: {} in error, left out of its figures; first: {}",
                        path.display(),
                        rows(errors.len()),
                        satire::io::printable(first)
                    );
                    if examples.is_empty() {
                        anyhow::bail!("{}: no rows left to evaluate", path.display());
                    }
                }
                let truth: Vec<Label> = examples.iter().map(|e| e.label).collect();
                let p = train::predict(&model, &examples);
                reports.push(Report {
                    path: path.display().to_string(),
                    mode: "model".into(),
                    twins_left_out: None,
                    errors: Some(errors),
                    metrics: evaluate(&truth, &p, args.threshold),
                });
            }
        }
        Some(k) => {
            if k < 2 {
                anyhow::bail!("--folds must be at least 2");
            }
            let params = args.opts.params().check()?;
            let groups: Vec<Vec<PathBuf>> = if args.together {
                vec![args.paths.clone()]
            } else {
                args.paths.iter().map(|p| vec![p.clone()]).collect()
            };
            for paths in groups {
                let set = train::load(&paths, &[], &cols)?;
                let truth: Vec<Label> = set.examples.iter().map(|e| e.label).collect();
                let cv = train::cross_validate(&params, &set, k)?;
                for (si, path) in paths.iter().enumerate() {
                    let idx: Vec<usize> = (0..truth.len())
                        .filter(|&i| set.source_of[i] == si)
                        .collect();
                    let t: Vec<Label> = idx.iter().map(|&i| truth[i]).collect();
                    let q: Vec<f64> = idx.iter().map(|&i| cv.p[i]).collect();
                    reports.push(Report {
                        path: path.display().to_string(),
                        mode: if paths.len() > 1 {
                            format!(
                                "{k}-fold cross-validation, trained with all {} paths",
                                paths.len()
                            )
                        } else {
                            format!("{k}-fold cross-validation")
                        },
                        twins_left_out: Some(cv.twins_left_out[si]),
                        errors: None,
                        metrics: evaluate(&t, &q, args.threshold),
                    });
                }
            }
        }
    }
    match args.format {
        Format::Text => {
            let mut out = std::io::stdout().lock();
            for r in &reports {
                print_text(&mut out, r)?;
            }
        }
        Format::Json => writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string_pretty(&reports)?
        )?,
    }
    let in_error = reports
        .iter()
        .any(|r| r.errors.as_ref().is_some_and(|e| !e.is_empty()));
    Ok(if in_error {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
