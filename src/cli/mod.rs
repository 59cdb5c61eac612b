//! Command-line parsing and dispatch. Each verb lives in its own file with
//! its `Args` and `run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use satire::io::{AtomicFile, Columns, ItemReader, StdinFormat, DEFAULT_MAX_BYTES};
use satire::model::Model;
use satire::score::Decision;

mod batch;
mod eval;
mod explain;
mod inspect;
mod score;
mod train;

const EXIT_CODES: &str = "\
Exit codes:
  0  every item was scored (or the command succeeded)
  1  some items could not be scored (each has an error row; see --strict), or eval left
     rows in error out of its figures
  2  usage error, unusable model, or an I/O failure";

/// Tells straight news reporting from satire.
#[derive(Parser, Debug)]
#[command(name = "satire", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model from labelled CSV/JSONL files or labelled folders.
    Train(train::Args),
    /// Score articles: files, folders, CSV rows, JSONL lines, or stdin.
    #[command(after_help = EXIT_CODES)]
    Score(score::Args),
    /// Measure a model on labelled data, or cross-validate training.
    Eval(eval::Args),
    /// Show the cue words and sentences behind each score.
    Explain(explain::Args),
    /// Show a model's metadata and its strongest cue words.
    Inspect(inspect::Args),
}

/// `--model`, shared by the verbs that use a model.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArg {
    /// Model file (default: the model built into this binary).
    #[arg(long, short = 'm', value_name = "MODEL")]
    pub model: Option<PathBuf>,
}

impl ModelArg {
    pub fn load(&self) -> anyhow::Result<Model> {
        match &self.model {
            Some(p) => Ok(Model::load(p)?),
            None => {
                Model::embedded().context("the built-in default model is unusable; pass --model")
            }
        }
    }
}

/// Column names, shared by the verbs that read CSV/JSONL.
#[derive(clap::Args, Debug, Clone)]
pub struct ColumnArgs {
    /// CSV column / JSON field holding the text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_column: String,
    /// CSV column / JSON field holding the id [default: `id` if present, else FILE:LINE].
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// CSV column / JSON field holding the label (`satire` or `real`).
    #[arg(long, default_value = "label", value_name = "NAME")]
    pub label_column: String,
}

impl ColumnArgs {
    pub fn columns(&self) -> Columns {
        Columns {
            text: self.text_column.clone(),
            id: self.id_column.clone(),
            label: self.label_column.clone(),
        }
    }
}

/// How `eval` and `inspect` print their report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Readable text.
    Text,
    /// JSON.
    Json,
}

/// Where a verb writes: standard output, or a file that appears only once
/// complete.
pub enum Output {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
    File(AtomicFile),
}

impl std::io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File(w) => w.flush(),
        }
    }
}

/// `--threshold` and `--unsure`: how `score` and `explain` turn P(satire)
/// into a label, so that the two verbs label the same text alike.
#[derive(clap::Args, Debug, Clone)]
pub struct DecisionArgs {
    /// P(satire) at or above this is labelled `satire`.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub threshold: f64,
    /// Label `unsure` when P(satire) is within this distance of the threshold.
    #[arg(
        long,
        allow_negative_numbers = true,
        default_value_t = 0.0,
        value_name = "WIDTH"
    )]
    pub unsure: f64,
}

impl DecisionArgs {
    /// The decision, once the two settings make sense together: a band
    /// that reaches past 0 or 1 would leave a label that no text can get.
    pub fn decision(&self) -> anyhow::Result<Decision> {
        let (t, u) = (self.threshold, self.unsure);
        if !(t > 0.0 && t < 1.0) {
            anyhow::bail!("--threshold must be strictly between 0 and 1, got {t}");
        }
        if !(0.0..0.5).contains(&u) {
            anyhow::bail!("--unsure must be in [0, 0.5), got {u}");
        }
        if u > 0.0 && (u >= t || t + u > 1.0) {
            anyhow::bail!(
                "--unsure {u} around --threshold {t} labels every P(satire) {} unsure, \
                 so no text could be labelled {}: the band must lie within 0 to 1",
                if u >= t {
                    "below the threshold"
                } else {
                    "from the threshold up"
                },
                if u >= t { "real" } else { "satire" }
            );
        }
        Ok(Decision {
            threshold: t,
            unsure: u,
        })
    }
}

/// How the verbs that read items (`score`, `explain`) read them.
#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// How `-` (standard input) is read [default: `text`, all of it one
    /// article; with `--format jsonl`, `auto`: one item a line, JSON when
    /// the line is a JSON object or string, else plain text].
    #[arg(long, value_enum)]
    pub stdin: Option<StdinFormat>,
    /// Items larger than this many bytes get an error row.
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_MAX_BYTES)]
    pub max_bytes: u64,
    /// Also read the hidden files and folders (names starting with `.`,
    /// such as `.git` or `.DS_Store`) inside the folders given; a path
    /// named on the command line is read whatever its name.
    #[arg(long)]
    pub hidden: bool,
}

impl InputArgs {
    /// The reader for `paths`, once the settings are valid and every CSV or
    /// JSONL input has the columns asked for (checked before any output).
    pub fn reader(
        &self,
        paths: &[PathBuf],
        stdin_default: StdinFormat,
    ) -> anyhow::Result<ItemReader> {
        if self.max_bytes == 0 {
            anyhow::bail!("--max-bytes must be at least 1");
        }
        if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            anyhow::bail!("`-` (standard input) is given twice: it can be read once");
        }
        let mut reader = ItemReader::new(
            self.columns.columns(),
            self.stdin.unwrap_or(stdin_default),
            self.max_bytes,
        );
        // `watch_stdout` and `own_output` are set by the verb once it
        // knows where its rows go.
        reader.hidden = self.hidden;
        reader.check_headers(paths)?;
        Ok(reader)
    }
}

/// Says on standard error how many hidden entries the folder walks passed
/// over, if any: a folder's row count falls short of its file count
/// otherwise without a word.
pub fn tell_hidden_passed(n: &std::sync::atomic::AtomicU64) {
    let n = n.load(std::sync::atomic::Ordering::Relaxed);
    if n > 0 {
        eprintln!(
            "satire: passed over {n} hidden entr{} (names starting with `.`) in the folders read; --hidden reads them",
            if n == 1 { "y" } else { "ies" }
        );
    }
}

/// Refuses an output file (`-o`) that is one of `inputs` (each with what
/// it is to the verb), however spelt: writing it would replace the input
/// with what was made from it.
pub fn refuse_output_among<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = (&'a PathBuf, &'a str)>,
    replaced: &str,
) -> anyhow::Result<()> {
    for (input, role) in inputs {
        if satire::io::same_file(input, out) {
            anyhow::bail!(
                "{} is both {role} and the output (-o): {replaced}",
                input.display()
            );
        }
    }
    Ok(())
}

impl Output {
    /// Standard output, or `path` written atomically; with the name to use
    /// in errors. A `path` that is also one of the `inputs` is refused: the
    /// rows would replace the very articles they score.
    pub fn open(path: Option<&PathBuf>, inputs: &[PathBuf]) -> anyhow::Result<(Output, PathBuf)> {
        if let Some(out) = path {
            refuse_output_among(
                out,
                inputs.iter().map(|i| (i, "an input")),
                "its rows would replace it; write them elsewhere",
            )?;
        }
        Ok(match path {
            Some(p) => (Output::File(AtomicFile::create(p)?), p.clone()),
            None => (
                Output::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
                PathBuf::from("<stdout>"),
            ),
        })
    }

    /// The temporary file the rows go to until they are complete, if any:
    /// not an input, though it may be found in a folder being read.
    pub fn temp_path(&self) -> Option<PathBuf> {
        match self {
            Output::File(f) => f.temp_path().map(Path::to_path_buf),
            Output::Stdout(_) => None,
        }
    }

    /// Flushes standard output, or puts the file in place.
    pub fn finish(self) -> satire::Result<()> {
        match self {
            Output::Stdout(mut w) => std::io::Write::flush(&mut w).map_err(|e| satire::Error::Io {
                path: PathBuf::from("<stdout>"),
                source: e,
            }),
            Output::File(f) => f.commit(),
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::BrokenPipe;
        }
        if let Some(satire::Error::Io { source, .. }) = e.downcast_ref::<satire::Error>() {
            return source.kind() == std::io::ErrorKind::BrokenPipe;
        }
        false
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => train::run(a),
        Command::Score(a) => score::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Inspect(a) => inspect::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("satire: {}", satire::io::printable(&message(&e)));
            ExitCode::from(2)
        }
    }
}

/// `e` and its causes, each said once: the library's errors already end
/// with what the OS said (`out.csv: Is a directory (os error 21)`), and
/// also give it as their source, which `{e:#}` would print a second time.
fn message(e: &anyhow::Error) -> String {
    let mut said = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !said.ends_with(&cause) {
            said.push_str(": ");
            said.push_str(&cause);
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;
    use std::any::TypeId;

    #[test]
    fn every_numeric_option_takes_a_negative_value_to_its_own_check() {
        // Without `allow_negative_numbers`, clap reads `--threshold -0.5`
        // as an unknown flag `-0` and suggests `-- -0.5`, which would make
        // the value a path: an option added later gets the same.
        let numeric = [
            TypeId::of::<f64>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<usize>(),
        ];
        let cli = Cli::command();
        let mut checked = 0;
        for verb in cli.get_subcommands() {
            for arg in verb.get_arguments() {
                let parses = arg.get_value_parser().type_id();
                if numeric.iter().any(|t| parses == *t) {
                    assert!(
                        arg.is_allow_negative_numbers_set(),
                        "satire {} --{}",
                        verb.get_name(),
                        arg.get_id()
                    );
                    checked += 1;
                }
            }
        }
        // Not a walk over nothing: 26 today (train's settings counted in
        // `train` and in `eval`, `--max-bytes` in `score` and `explain`).
        assert!(checked >= 20, "{checked} numeric options found");
    }
}
