//! `satire train`: labelled data in, model file out.

use std::path::PathBuf;
use std::process::ExitCode;

use satire::io::{printable, AtomicFile};
use satire::model::{Counting, Label, Model};
use satire::tokenize::TokenizerConfig;
use satire::train::{self, TrainParams};

use super::ColumnArgs;

/// Training settings shared by `train` and `eval --folds`.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainOpts {
    /// Additive smoothing (> 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub alpha: f64,
    /// Keep tokens found in at least this many documents.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2)]
    pub min_df: u32,
    /// Keep at most this many tokens (the most frequent by document count).
    #[arg(long, allow_negative_numbers = true, default_value_t = 200_000)]
    pub max_features: usize,
    /// Memory budget of each dense chunk handed to linfa, in MiB.
    #[arg(long, allow_negative_numbers = true, default_value_t = satire::train::DEFAULT_CHUNK_MB)]
    pub chunk_mb: usize,
    /// Class prior of satire, in (0, 1) [default: the training balance].
    #[arg(long, allow_negative_numbers = true)]
    pub prior_satire: Option<f64>,
    /// Do not calibrate: scores are the raw naive-Bayes posterior.
    #[arg(long)]
    pub no_calibrate: bool,
    /// Folds used to fit the calibration.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5)]
    pub calibration_folds: usize,
    /// Pool all training files into one component (default: one component
    /// per training file, mixed by a router).
    #[arg(long)]
    pub one_component: bool,
    /// Each component starts from the other components' counts, scaled to
    /// this share of its own token total (0: no borrowing).
    #[arg(long, allow_negative_numbers = true, default_value_t = train::DEFAULT_BORROW)]
    pub borrow: f64,
    /// `--borrow` for one component (repeatable): NAME is its training
    /// path as given, as `satire inspect` lists it.
    #[arg(long, value_name = "NAME=SHARE", value_parser = parse_borrow_for)]
    pub borrow_for: Vec<(String, f64)>,
    /// Fold words to lower case (default: keep case; word shape carries tone).
    #[arg(long)]
    pub lowercase: bool,
    /// Keep digits (default: every digit folds to 0).
    #[arg(long)]
    pub no_number_shapes: bool,
    /// No word-pair tokens.
    #[arg(long)]
    pub no_bigrams: bool,
    /// No cue tokens for quotes, `!` and `?`.
    #[arg(long)]
    pub no_cues: bool,
    /// No cue tokens for Title-case and ALL-CAPS words.
    #[arg(long)]
    pub no_case_cues: bool,
    /// How often a token counts in a text, in training and in scoring.
    #[arg(long, value_enum, default_value_t = Counting::Presence)]
    pub counts: Counting,
}

impl TrainOpts {
    pub fn params(&self) -> TrainParams {
        TrainParams {
            tokenizer: TokenizerConfig {
                lowercase: self.lowercase,
                number_shapes: !self.no_number_shapes,
                bigrams: !self.no_bigrams,
                cues: !self.no_cues,
                case_cues: !self.no_case_cues,
            },
            counting: self.counts,
            alpha: self.alpha,
            min_df: self.min_df,
            max_features: self.max_features,
            chunk_mb: self.chunk_mb,
            prior_satire: self.prior_satire,
            calibrate: !self.no_calibrate,
            folds: self.calibration_folds,
            one_component: self.one_component,
            borrow: self.borrow,
            borrow_for: self.borrow_for.clone(),
            updatable: false,
        }
    }
}

/// `NAME=SHARE` of `--borrow-for`; NAME may itself hold `=`, SHARE not.
fn parse_borrow_for(arg: &str) -> Result<(String, f64), String> {
    let (name, share) = arg
        .rsplit_once('=')
        .ok_or_else(|| format!("expected NAME=SHARE, got `{arg}`"))?;
    let share: f64 = share
        .parse()
        .map_err(|_| format!("`{share}` is not a number (in `{arg}`)"))?;
    Ok((name.to_string(), share))
}

/// Train a model.
///
/// Inputs are CSV files (`id,label,text`; labels `satire`/`real`), JSONL
/// files with the same fields, or folders holding `satire/` and `real/`
/// subfolders (one text file per article) or a `labels.csv` (`file,label`).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Labelled training data.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where to write the model.
    #[arg(long, short = 'o', value_name = "MODEL")]
    pub out: PathBuf,
    /// Labelled held-out files: training drops every text that also occurs
    /// in one of them (after folding case and punctuation), and the model
    /// records its figures on each. The flag takes every path up to the next
    /// flag, so a shell glob (`--heldout data/*/test.csv`) holds out every
    /// file it names; give the training PATHs before it. It may also repeat.
    /// With `--update`, the model's own held-out files unless given.
    #[arg(long, value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub heldout: Vec<PathBuf>,
    #[command(flatten)]
    pub columns: ColumnArgs,
    #[command(flatten)]
    pub opts: TrainOpts,
    /// Keep every training document's token counts (not its text) in the
    /// model, so that `--update` can add data to it. The file grows with
    /// the training data.
    #[arg(long)]
    pub updatable: bool,
    /// Add the labelled PATHs to this model (trained with `--updatable`)
    /// instead of training from scratch. The result is the model that
    /// training on all the data at once, with the model's own settings,
    /// gives; so the settings flags cannot be given. `-o` may name MODEL.
    #[arg(long, value_name = "MODEL", conflicts_with_all = [
        "alpha", "min_df", "max_features", "chunk_mb", "prior_satire", "no_calibrate",
        "calibration_folds", "one_component", "borrow", "borrow_for", "lowercase", "no_number_shapes",
        "no_bigrams", "no_cues", "no_case_cues", "updatable",
    ])]
    pub update: Option<PathBuf>,
    /// With `--update`: the component the new data joins, by name as
    /// `satire inspect` lists it (needed when the model has several).
    #[arg(long, value_name = "NAME", requires = "update")]
    pub into: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let params = TrainParams {
        updatable: args.updatable,
        ..args.opts.params()
    }
    .check()?;
    let base = match &args.update {
        Some(path) => Some((path, Model::load(path)?)),
        None => None,
    };
    // An update holds out what the model's training held out, unless told
    // otherwise: training on all the data at once would have dropped those
    // texts from the new data too, and the model's figures on them are
    // measured again rather than lost.
    let heldout: Vec<PathBuf> = match &base {
        Some((path, model)) if args.heldout.is_empty() => {
            let recorded: Vec<PathBuf> = model.meta().excluded.iter().map(PathBuf::from).collect();
            for h in &recorded {
                if let Err(e) = std::fs::metadata(h) {
                    anyhow::bail!(
                        "{} was trained holding out the texts of {}, which cannot be read ({e}); \
                         give --heldout with where it is now (or other files to hold out)",
                        path.display(),
                        h.display()
                    );
                }
            }
            recorded
        }
        _ => args.heldout.clone(),
    };
    // A model written over its own training or held-out data would
    // replace the data with the model (`--update M -o M` is meant, and
    // fine: the model is read first).
    super::refuse_output_among(
        &args.out,
        (args.paths.iter().map(|p| (p, "training data")))
            .chain(heldout.iter().map(|p| (p, "a held-out file"))),
        "the model would replace it; write it elsewhere",
    )?;
    // Opened before any data is read, so an output that cannot be written
    // (a folder, a missing folder) stops the run now, not after training.
    let out = AtomicFile::create(&args.out)?;
    let cols = args.columns.columns();
    let started = std::time::Instant::now();
    let set = if base.is_some() {
        train::load_additions(&args.paths, &heldout, &cols)?
    } else {
        train::load(&args.paths, &heldout, &cols)?
    };
    if !args.quiet {
        if let Some((path, _)) = base
            .as_ref()
            .filter(|_| args.heldout.is_empty() && !heldout.is_empty())
        {
            eprintln!(
                "holding out the texts of {}, as {} was trained (--heldout to choose others)",
                heldout
                    .iter()
                    .map(|h| h.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                path.display()
            );
        }
        for s in &set.sources {
            eprintln!(
                "read {}: {} rows, {} dropped as also in a held-out file, {} satire + {} real used",
                s.path, s.rows, s.dropped_overlap, s.satire, s.real
            );
        }
        tell_label_conflicts(&set);
    }
    let mut model = match &base {
        Some((path, base)) => {
            let model = train::update(base, &set, args.into.as_deref())?;
            if !args.quiet {
                let before = base.training_state().map_or(0, |s| s.documents.len());
                eprintln!(
                    "added {} texts to {} documents of {}",
                    set.examples.len(),
                    before,
                    path.display()
                );
            }
            model
        }
        None => train::fit(&params, &set)?,
    };
    let mut figures = Vec::new();
    for h in &heldout {
        figures.push(train::heldout_figures(&model, h, &cols)?);
    }
    model.set_heldout(figures);
    model.save_to(out)?;
    if !args.quiet {
        let documents: usize = model
            .components()
            .iter()
            .map(|c| c.documents(Label::Real) + c.documents(Label::Satire))
            .sum();
        eprintln!(
            "trained on {documents} texts, vocabulary {} tokens",
            model.vocab().len()
        );
        for comp in model.components() {
            let c = &comp.calibration;
            eprintln!(
                "component {}: {} real + {} satire, calibration gamma={} slope={:.4} intercept={:.4}",
                comp.name, comp.documents(Label::Real), comp.documents(Label::Satire), c.gamma, c.slope, c.intercept
            );
        }
        for h in &model.meta().heldout {
            eprintln!(
                "held out {}: n={} accuracy={:.4} f1(satire)={:.4} auc={:.4}",
                h.path, h.n, h.accuracy, h.f1_satire, h.auc
            );
        }
        eprintln!(
            "wrote {} in {:.1}s",
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Says on standard error which training texts occur under both labels
/// (each is trained as both, as given; the user may want to mend the data).
fn tell_label_conflicts(set: &train::TrainingSet) {
    const SHOWN: usize = 5;
    let conflicts = train::label_conflicts(set);
    if conflicts.is_empty() {
        return;
    }
    let n = conflicts.len();
    eprintln!(
        "note: {n} text{} labelled both satire and real (the same after folding case and \
         punctuation, as --heldout compares); each trains both classes:",
        if n == 1 { " is" } else { "s are" }
    );
    let at = |i: usize| {
        let ex = &set.examples[i];
        format!(
            "{} ({}, {})",
            printable(&ex.id),
            set.sources[set.source_of[i]].path,
            ex.label
        )
    };
    for &(a, b) in conflicts.iter().take(SHOWN) {
        eprintln!("  {} and {}", at(a), at(b));
    }
    if n > SHOWN {
        eprintln!("  and {} more", n - SHOWN);
    }
}
