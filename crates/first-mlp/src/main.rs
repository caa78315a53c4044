//! `first-mlp`: run the course's main job, or regenerate the book's figures.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use course_support::data::accuracy;
use first_mlp::figures;

// mimalloc keeps freed blocks for reuse where glibc's malloc hands large ones
// back to the kernel: the matrix products' packing space then costs no page
// faults per training step (crates/engine/tests/allocations.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "First MLP: neural networks from scratch, on the reference implementation"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train an MLP on MNIST (the default): the bundled sample, the download
    /// cache, or --data DIR.
    Train(Box<first_mlp::mnist_train::TrainConfig>),
    /// Classify digits with a saved model.
    Predict {
        /// A checkpoint written by `train` (best.safetensors or last.safetensors).
        #[arg(long)]
        model: PathBuf,
        /// An IDX image file (raw or .gz).
        #[arg(long)]
        idx: Option<PathBuf>,
        /// The IDX labels of --idx, to report the accuracy.
        #[arg(long, requires = "idx")]
        labels: Option<PathBuf>,
        /// A PNG or PGM picture of one digit.
        #[arg(long, conflicts_with = "idx")]
        image: Option<PathBuf>,
        /// A 16 kHz WAV file, for a speech model: every 10 ms frame's phoneme
        /// as `id,label` CSV, and the collapsed phoneme sequence.
        #[arg(long, conflicts_with_all = ["idx", "image"])]
        wav: Option<PathBuf>,
        /// Where to write the CSV for --wav (default: standard output).
        #[arg(long, requires = "wav")]
        csv: Option<PathBuf>,
    },
    /// Train the phoneme classifier on speech in the HW1P2 layout (the
    /// bundled corpus by default).
    SpeechTrain(Box<first_mlp::speech_train::SpeechConfig>),
    /// Make the bundled speech corpus (needs espeak-ng and the MBROLA US voices).
    SpeechCorpus {
        #[arg(long, default_value = "data/speech-corpus/sentences.txt")]
        sentences: PathBuf,
        #[arg(long, default_value = "data/speech-corpus")]
        out: PathBuf,
    },
    /// Train the stage-1 perceptrons and stage-4 MLPs and draw every figure of the book.
    Demo {
        /// Folder for the figures.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Regenerate the figures the book shows, in book/src/figures.
    Figures {
        /// Folder for the figures (default: the book's figure folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // No subcommand means `train` with every default.
    let command = match cli.command {
        Some(command) => command,
        None => Cli::parse_from(["first-mlp", "train"])
            .command
            .expect("`train` is a subcommand"),
    };
    match command {
        Command::Train(config) => first_mlp::mnist_train::run(*config).map(|_| ()),
        Command::SpeechCorpus { sentences, out } => {
            first_mlp::speech_corpus::make(&sentences, &out)
        }
        Command::SpeechTrain(config) => first_mlp::speech_train::run(*config).map(|_| ()),
        Command::Predict {
            wav: Some(wav),
            model,
            csv,
            ..
        } => first_mlp::speech_train::predict_wav(&model, &wav, csv.as_deref()),
        Command::Predict {
            model,
            idx,
            labels,
            image,
            ..
        } => first_mlp::mnist_train::predict(
            &model,
            idx.as_deref(),
            labels.as_deref(),
            image.as_deref(),
        ),
        Command::Demo { out } => {
            report_perceptrons();
            report_mlps()?;
            write_figures(&out)
        }
        Command::Figures { out } => write_figures(&out.unwrap_or_else(first_mlp::book_figures_dir)),
    }
}

fn report_perceptrons() {
    println!("Stage 1: perceptrons trained from zero weights with the perceptron rule\n");
    println!(
        "{:<14} {:>6} {:>10} {:>9}  {:<24} mistakes per epoch",
        "data", "epochs", "separated", "accuracy", "w, b"
    );
    for run in figures::train_stage_1_perceptrons() {
        let predictions = run.perceptron.predict_batch(&run.data.input_matrix());
        let acc = accuracy(predictions.as_slice(), &run.data.labels);
        let mistakes = &run.report.mistakes_per_epoch;
        let shown: Vec<String> = mistakes.iter().take(12).map(|m| m.to_string()).collect();
        let more = if mistakes.len() > 12 { " …" } else { "" };
        let w = &run.perceptron.weights;
        println!(
            "{:<14} {:>6} {:>10} {:>8.1}%  {:<24} {}{more}",
            run.name,
            mistakes.len(),
            if run.report.converged { "yes" } else { "no" },
            100.0 * acc,
            format!("({:.2}, {:.2}), {:.2}", w[0], w[1], run.perceptron.bias),
            shown.join(" "),
        );
    }
    println!(
        "\nXOR is never separated: no straight line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other."
    );
}

fn report_mlps() -> Result<()> {
    println!("\nStage 4: MLPs trained by backpropagation (full-batch Adam, cross-entropy)\n");
    println!(
        "{:<10} {:>6} {:>12} {:>11} {:>9}",
        "data", "steps", "first loss", "last loss", "accuracy"
    );
    for run in figures::train_stage_4_mlps()? {
        println!(
            "{:<10} {:>6} {:>12.4} {:>11.5} {:>8.1}%",
            run.name,
            run.losses.len(),
            run.losses.first().copied().unwrap_or(f32::NAN),
            run.losses.last().copied().unwrap_or(f32::NAN),
            100.0 * run.accuracy
        );
    }
    println!("\nThe hidden layer is what the perceptron lacked: XOR is learned.");
    Ok(())
}

fn write_figures(dir: &std::path::Path) -> Result<()> {
    let rendered = figures::all()?;
    let paths = figures::write_all(&rendered, dir)?;
    println!("\nWrote {} figures to {}:", paths.len(), dir.display());
    for path in paths {
        println!("  {}", path.display());
    }
    Ok(())
}
