//! `satire inspect`: what a model is and what it learned.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use satire::model::{Counting, Label, Model, FORMAT_VERSION};

use super::ReportFormat as Format;

/// Show a model's metadata and its strongest cue words for each class.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model file (default: the built-in model).
    #[arg(value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// The model file as the other verbs take it: `inspect -m M` is
    /// `inspect M`.
    #[arg(
        long = "model",
        short = 'm',
        value_name = "MODEL",
        conflicts_with = "model"
    )]
    pub model_flag: Option<PathBuf>,
    /// Cue words to list per class.
    #[arg(long, allow_negative_numbers = true, default_value_t = 20)]
    pub top: usize,
    /// Only list tokens seen at least this many times in training, so that
    /// rare names do not dominate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 20)]
    pub min_count: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    if args.model.is_none() {
        args.model = args.model_flag.take();
    }
    let model = super::ModelArg {
        model: args.model.clone(),
    }
    .load()?;
    let mut out = std::io::stdout().lock();
    let (sat, real) = strongest(&model, args.top, args.min_count);
    let meta = model.meta();
    if args.json || args.format == Format::Json {
        let v = serde_json::json!({
            "format_version": model.format_version(),
            "metadata": meta,
            "vocabulary": model.vocab().len(),
            "updatable": model.training_state().map(|st| serde_json::json!({
                "documents": st.documents.len(), "tokens": st.tokens.len(),
                "chunk_mb": st.chunk_mb, "calibrate": st.calibrate, "folds": st.folds,
                "one_component": st.one_component })),
            "components": model.components().iter().map(|c| serde_json::json!({
                "name": c.name, "real": c.documents(Label::Real), "satire": c.documents(Label::Satire), "borrow": c.borrow, "borrowed": c.borrowed,
                "calibration": c.calibration })).collect::<Vec<_>>(),
            "satire_cues": sat.iter().map(|(t, w, n)| serde_json::json!({"token": t, "weight": w, "count": n})).collect::<Vec<_>>(),
            "real_cues": real.iter().map(|(t, w, n)| serde_json::json!({"token": t, "weight": w, "count": n})).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "model          {}",
        args.model
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<built-in default>".into())
    )?;
    writeln!(
        out,
        "format         version {}{}, written by {}",
        model.format_version(),
        if model.format_version() == FORMAT_VERSION {
            String::new()
        } else {
            format!(" (scoring table rebuilt on load; retraining saves version {FORMAT_VERSION})")
        },
        meta.created_by
    )?;
    writeln!(
        out,
        "vocabulary     {} tokens (min_df {}, max_features {})",
        model.vocab().len(),
        meta.min_df,
        meta.max_features
    )?;
    let t = &meta.tokenizer;
    writeln!(
        out,
        "tokenizer      lowercase={} number_shapes={} bigrams={} cues={} case_cues={}",
        t.lowercase, t.number_shapes, t.bigrams, t.cues, t.case_cues
    )?;
    writeln!(
        out,
        "counts         {} ({})",
        meta.counting.as_str(),
        match meta.counting {
            Counting::Presence => "a token counts once per text",
            Counting::Frequency => "a token counts at every occurrence",
        }
    )?;
    writeln!(out, "alpha          {}", meta.alpha)?;
    match model.training_state() {
        Some(st) => writeln!(
            out,
            "updatable      yes: {} documents' token counts over {} tokens kept (train --update adds to it)",
            st.documents.len(),
            st.tokens.len()
        )?,
        None => writeln!(
            out,
            "updatable      no (train --updatable keeps what train --update needs)"
        )?,
    }
    if model.components().len() > 1 {
        writeln!(
        out,
            "router         Gaussian naive Bayes over {} components on text shape (ln(1+bytes), share of capitalised words)",
            model.components().len(),
        )?;
    }
    for comp in model.components() {
        let c = &comp.calibration;
        writeln!(
        out,
            "component      {}: {} real + {} satire documents; log_odds = {:.4} * evidence / n^{} + {:.4}",
            comp.name, comp.documents(Label::Real), comp.documents(Label::Satire), c.slope, c.gamma, c.intercept
        )?;
        if model.components().len() > 1 {
            writeln!(
                out,
                "  borrows      {}",
                if comp.borrowed {
                    format!(
                        "a prior of {} times its own token total from the other components",
                        comp.borrow
                    )
                } else {
                    "nothing (--borrow 0 for it)".to_string()
                }
            )?;
            let s = &comp.shape;
            writeln!(
                out,
                "  routed by    ln(1+bytes) {:.2} ± {:.2}, capitalised {:.3} ± {:.3}",
                s.mean[0],
                s.var[0].sqrt(),
                s.mean[1],
                s.var[1].sqrt()
            )?;
        }
    }
    for s in &meta.sources {
        writeln!(
            out,
            "trained on     {} ({} rows, {} dropped as held-out overlap, {} satire, {} real)",
            s.path, s.rows, s.dropped_overlap, s.satire, s.real
        )?;
    }
    for h in &meta.heldout {
        writeln!(
            out,
            "held out       {}: n={} accuracy={:.4} f1(satire)={:.4} auc={:.4}",
            h.path, h.n, h.accuracy, h.f1_satire, h.auc
        )?;
    }
    for (name, list) in [("satire", &sat), ("real", &real)] {
        writeln!(
            out,
            "\nstrongest {name} cues (count >= {}):",
            args.min_count
        )?;
        for (tok, w, n) in list {
            writeln!(out, "  {w:>+8.3}  {n:>7}  {tok}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

type Cue = (String, f64, u64);

fn strongest(model: &Model, top: usize, min_count: u64) -> (Vec<Cue>, Vec<Cue>) {
    // Across components, a token's weight is the count-weighted mean of its
    // per-component weights: what it says on average where it was seen.
    let comps = model.components();
    let mut all: Vec<Cue> = (0..model.vocab().len())
        .filter_map(|i| {
            let per: Vec<f64> = (0..comps.len()).map(|k| model.count(k, i as u32)).collect();
            let n: f64 = per.iter().sum();
            let w = per
                .iter()
                .enumerate()
                .map(|(k, m)| m * model.weight(k, i as u32))
                .sum::<f64>()
                / n.max(1.0);
            (n as u64 >= min_count).then(|| (model.vocab().token(i).to_string(), w, n as u64))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let sat = all.iter().take(top).cloned().collect();
    let real = all.iter().rev().take(top).cloned().collect();
    (sat, real)
}
