//! `first-mlp`: run the course's main job, or regenerate the book's figures.
//! Parses the command line and hands each subcommand to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use first_mlp::code::{Code, Unfinished};
use first_mlp::{demo, figures, mnist_pipeline, speech_corpus, speech_pipeline};

// mimalloc keeps freed blocks for reuse where glibc's malloc hands large ones
// back to the kernel: the matrix products' packing space then costs no page
// faults per training step (crates/engine/tests/allocations.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "First MLP: neural networks from scratch, trained on the reference implementation or, with --yours, on your own"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train an MLP on MNIST (the default): the bundled sample, the download
    /// cache, or --data DIR.
    Train(Box<mnist_pipeline::TrainConfig>),
    /// Classify with a saved model: digits (--idx or --image) with an MNIST
    /// model, or every frame of a recording (--wav) with a speech model.
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
        /// A WAV file, for a speech model: every 10 ms frame's phoneme as
        /// `id,label` CSV, and the collapsed phoneme sequence. Any rate from
        /// 4 to 768 kHz, any number of channels, 8- to 32-bit integer or
        /// 32-bit float samples: mixed down to mono and resampled to 16 kHz.
        #[arg(long, conflicts_with_all = ["idx", "image"])]
        wav: Option<PathBuf>,
        /// Where to write the CSV for --wav (default: standard output); not
        /// the model or the WAV file.
        #[arg(long, requires = "wav", conflicts_with_all = ["idx", "image"])]
        csv: Option<PathBuf>,
        /// For --wav: what each change of phoneme costs when the frames are
        /// decoded, in nats (0 to 10000; 0 labels each frame on its own).
        #[arg(
            long,
            requires = "wav",
            default_value_t = speech_pipeline::SWITCH_PENALTY,
            value_parser = speech_pipeline::parse_switch_penalty,
        )]
        switch_penalty: f32,
        /// For --wav: label the recording as it is, without first warping
        /// it by the factor (1 down to 0.8) the model is surest of (VTLN).
        #[arg(long, requires = "wav")]
        no_vtln: bool,
    },
    /// Train the phoneme classifier on speech in the HW1P2 layout (the
    /// bundled corpus by default).
    SpeechTrain(Box<speech_pipeline::SpeechConfig>),
    /// Make the bundled speech corpus (needs the synthesisers that
    /// data/speech-corpus/make_corpus.sh installs): its splits, packed into
    /// splits.tar.xz, and utterances.tsv. MFCCs are rounded to a grid and
    /// stored in half precision (NumPy's float16), so that seven voices a
    /// sentence fit in the budget.
    SpeechCorpus {
        #[arg(long, default_value = "data/speech-corpus/sentences.txt")]
        sentences: PathBuf,
        #[arg(long, default_value = "data/speech-corpus")]
        out: PathBuf,
        /// How many voices speak each sentence: 7 for the bundled corpus
        /// (about 17 MB packed), fewer for a smaller one.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=7))]
        voices_per_sentence: u16,
        /// Perturb the training utterances on the waveform (speed, vocal
        /// tract length, room, noise) before their MFCCs; the bundled corpus
        /// is made without (see the book's "Voices never heard").
        #[arg(long)]
        augment: bool,
        /// Store the MFCCs in single precision (float32), as HW1P2's files
        /// are: the same corpus takes about 1.7 times the space.
        #[arg(long)]
        float32: bool,
        /// Seeds the augmentation.
        #[arg(long, default_value_t = 11785)]
        seed: u64,
        /// Compute the MFCCs' filter bank and the frames' labels with your
        /// stage 6 (exercises/) instead of the reference's.
        #[arg(long)]
        yours: bool,
    },
    /// Train the stage-1 perceptrons and stage-4 MLPs, print their runs, and
    /// draw every figure of the book into a folder of your choice.
    Demo {
        /// Folder for the figures.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Redraw the figures the book shows, in book/src/figures (what the
    /// book's staleness test compares with).
    Figures {
        /// Folder for the figures (default: the book's figure folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The exit status when `--yours` meets an unfinished stage.
const UNFINISHED_STAGE: u8 = 3;

/// The flags given on the command line in `matches` (clap's argument ids,
/// which are the configuration's field names): a resumed run refuses those
/// that disagree with its checkpoint, even when given with their default
/// value, and takes the rest from the checkpoint.
fn given_flags(matches: &ArgMatches) -> first_mlp::training::GivenFlags {
    matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_owned())
        .collect()
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    // No subcommand means `train` with every default.
    let mut command = cli
        .command
        .unwrap_or_else(|| Command::Train(Box::default()));
    match (&mut command, matches.subcommand()) {
        (Command::Train(config), Some((_, flags))) => config.given = Some(given_flags(flags)),
        (Command::Train(config), None) => config.given = Some(Default::default()),
        (Command::SpeechTrain(config), Some((_, flags))) => config.given = Some(given_flags(flags)),
        _ => {}
    }
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error and its causes, without a backtrace even when
            // RUST_BACKTRACE is set: the message says where to look.
            eprintln!("Error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if error.downcast_ref::<Unfinished>().is_some() {
                ExitCode::from(UNFINISHED_STAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Train(config) => mnist_pipeline::run(*config).map(|_| ()),
        Command::SpeechCorpus {
            sentences,
            out,
            voices_per_sentence,
            augment,
            float32,
            seed,
            yours,
        } => speech_corpus::make(
            &speech_corpus::CorpusSettings {
                sentences,
                out,
                voices_per_sentence: usize::from(voices_per_sentence),
                augment,
                precision: if float32 {
                    speech_corpus::Precision::Single
                } else {
                    speech_corpus::Precision::Half
                },
                seed,
            },
            &Code::chosen(yours),
        ),
        Command::SpeechTrain(config) => speech_pipeline::run(*config).map(|_| ()),
        Command::Predict {
            wav: Some(wav),
            model,
            csv,
            switch_penalty,
            no_vtln,
            ..
        } => speech_pipeline::predict_wav(&model, &wav, csv.as_deref(), switch_penalty, !no_vtln),
        Command::Predict {
            model,
            idx,
            labels,
            image,
            ..
        } => mnist_pipeline::predict(&model, idx.as_deref(), labels.as_deref(), image.as_deref()),
        Command::Demo { out } => demo::run(&out),
        Command::Figures { out } => {
            figures::write(&out.unwrap_or_else(first_mlp::book_figures_dir))
        }
    }
}
