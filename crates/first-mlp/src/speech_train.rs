//! The speech pipeline (HW1P2): MFCC frames with context to 40 phonemes.
//!
//! Reads a folder in the HW1P2 layout, normalises each utterance (CMVN),
//! serves windows of 2K + 1 frames on the fly (stage 6's `ContextFrames`),
//! and trains with the same pieces as the MNIST pipeline: stage 5's
//! `train_epoch` and `evaluate`, the summary table, the progress bar,
//! safetensors checkpoints, the confusion matrix and the curves.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use course_support::batches::{BatchLoader, ExampleSource};
use engine::{BlockCopy, Trainer};
use reference::context::ContextFrames;
use reference::given::Adam;
use reference::init::Init;
use reference::training::{evaluate, predict_classes};
use reference::{Activation, Mlp};
use serde::{Deserialize, Serialize};
use speech::hw1p2::{self, PHONEMES, Utterance};
use speech::mfcc::{MfccConfig, mfcc, read_wav};

use crate::checkpoint::{self, Checkpoint};
use crate::figures::{render, write_atomically};
use crate::mnist_train::{
    AnyOptimizer, EpochRecord, cosine_rate, epoch_record, train_epoch_with_bar,
};
use crate::report::{Evaluation, summary};

/// A speech training run. Defaults follow the HW1P2 starter: context 20,
/// hidden 512, Adam at 1e-3, batch 1024.
#[derive(Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeechConfig {
    /// A folder with the splits train-clean-100, dev-clean and test-clean.
    #[arg(long, default_value = "data/speech-corpus")]
    pub data: PathBuf,
    /// K, the frames of context on each side.
    #[arg(long, default_value_t = 20)]
    pub context: usize,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "512")]
    pub hidden: Vec<usize>,
    /// No hidden layer: a linear (softmax regression) model.
    #[arg(long)]
    pub linear: bool,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Skip per-utterance cepstral mean and variance normalisation.
    #[arg(long)]
    pub no_cmvn: bool,
    #[arg(long, default_value = "out/speech")]
    pub out: PathBuf,
    /// Continue from a checkpoint (its configuration is used; --epochs may grow).
    #[arg(long)]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    #[arg(long)]
    #[serde(skip)]
    pub quiet: bool,
}

impl SpeechConfig {
    fn widths(&self, inputs: usize) -> Vec<usize> {
        let mut widths = vec![inputs];
        if !self.linear {
            widths.extend(&self.hidden);
        }
        widths.push(PHONEMES.len());
        widths
    }

    fn build(&self, inputs: usize) -> Result<Mlp> {
        let widths = self.widths(inputs);
        let mut activations = vec![Activation::Relu; widths.len() - 2];
        activations.push(Activation::Identity);
        Ok(Mlp::new(
            &widths,
            &activations,
            Init::KaimingUniform,
            self.seed,
        )?)
    }
}

/// Stage 6's windows as examples for a `BatchLoader`.
struct Windows(ContextFrames);

impl ExampleSource for Windows {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn features(&self) -> usize {
        self.0.input_size()
    }
    fn write(&self, index: usize, out: &mut [f32]) {
        self.0
            .window(index, out)
            .expect("the loader asks only for frames that exist");
    }
}

/// A split as windows and labels, utterances concatenated in sorted order.
fn windows(
    utterances: &[Utterance],
    context: usize,
    cmvn: bool,
) -> Result<(ContextFrames, Vec<usize>)> {
    let d = utterances.first().map_or(0, |u| u.frames.ncols());
    let mut frames = Vec::new();
    let mut labels = Vec::new();
    for u in utterances {
        if u.frames.ncols() != d {
            bail!(
                "{}: {} coefficients per frame, the others have {d}",
                u.name,
                u.frames.ncols()
            );
        }
        let mut m = u.frames.clone();
        if cmvn {
            hw1p2::normalize_utterance(&mut m);
        }
        frames.extend(m.transpose().iter());
        labels.extend(u.labels.iter().flatten());
    }
    Ok((
        ContextFrames {
            frames,
            frame_size: d,
            context,
        },
        labels,
    ))
}

fn loader(
    frames: ContextFrames,
    labels: Vec<usize>,
    config: &SpeechConfig,
    shuffle: bool,
) -> Result<BatchLoader> {
    Ok(BatchLoader::from_source(
        Arc::new(Windows(frames)),
        labels,
        config.batch_size,
        shuffle,
        config.seed,
    )?
    .with_copier(Arc::new(BlockCopy)))
}

/// What a speech run measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeechRecord {
    pub config: SpeechConfig,
    pub epochs: Vec<EpochRecord>,
    pub best_epoch: usize,
    /// Frame accuracy on dev-clean (held-out sentences of the seen voices).
    pub dev_accuracy: f32,
    /// Frame accuracy on test-clean (the held-out voice), when it has transcripts.
    pub test_accuracy: Option<f32>,
    pub files: Vec<PathBuf>,
}

/// Trains and evaluates; writes checkpoints, plots, the submission CSV and run.json.
pub fn run(config: SpeechConfig) -> Result<SpeechRecord> {
    let config = match &config.resume {
        Some(path) => {
            let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let saved = checkpoint::read_metadata(path, &bytes)?;
            let mut resumed: SpeechConfig =
                serde_json::from_str(&saved.config_json).with_context(|| {
                    format!("{}: not a speech model's configuration", path.display())
                })?;
            resumed.epochs = config.epochs.max(saved.epoch);
            resumed.out = config.out.clone();
            resumed.quiet = config.quiet;
            resumed.resume = config.resume.clone();
            resumed
        }
        None => config,
    };
    let read = |split: &str, transcripts: bool| {
        hw1p2::read_split(&config.data.join(split), transcripts)
            .with_context(|| format!("reading the {split} split of {}", config.data.display()))
    };
    let train_utterances = read("train-clean-100", true)?;
    let dev_utterances = read("dev-clean", true)?;
    let test_dir = config.data.join("test-clean");
    let test_has_labels = test_dir.join("transcript").is_dir();
    let test_utterances = read("test-clean", test_has_labels)?;
    let cmvn = !config.no_cmvn;
    let (train_frames, train_labels) = windows(&train_utterances, config.context, cmvn)?;
    let (dev_frames, dev_labels) = windows(&dev_utterances, config.context, cmvn)?;
    let (test_frames, test_labels) = windows(&test_utterances, config.context, cmvn)?;
    let inputs = train_frames.input_size();
    println!(
        "Data: {} ({} train, {} dev, {} test frames of {} coefficients); context {} → {} inputs",
        config.data.display(),
        train_frames.len(),
        dev_frames.len(),
        test_frames.len(),
        train_frames.frame_size,
        config.context,
        inputs
    );
    let mut mlp = config.build(inputs)?;
    println!("\n{}\n", summary(&mlp));

    let mut train = loader(train_frames, train_labels, &config, true)?;
    let mut dev = loader(dev_frames, dev_labels.clone(), &config, false)?;
    let mut optimizer = AnyOptimizer::Adam(Adam::new(config.lr));
    fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let best_path = config.out.join("best.safetensors");
    let config_json = serde_json::to_string(&config)?;
    let last_path = config.out.join("last.safetensors");
    let mut epochs: Vec<EpochRecord> = Vec::new();
    let mut best: Option<(usize, f32)> = None;
    let mut first_epoch = 1;
    if let Some(path) = &config.resume {
        let saved = checkpoint::load_into(path, &mut mlp)?;
        optimizer.restore(&saved);
        epochs = saved
            .scalars
            .get("history")
            .and_then(|h| serde_json::from_str(h).ok())
            .unwrap_or_default();
        best = saved
            .scalars
            .get("best")
            .and_then(|b| serde_json::from_str(b).ok());
        first_epoch = saved.epoch + 1;
        // Replay the shuffles of the epochs done, so the batches match an uninterrupted run.
        for _ in 1..first_epoch {
            train.start_epoch();
        }
        checkpoint::copy_best_beside(path, &best_path)?;
        println!(
            "Resuming from {} after epoch {}",
            path.display(),
            saved.epoch
        );
    }
    // The fast path, as in the MNIST pipeline (Adam, linear layers and ReLU).
    let mut fast = Trainer::new(&mlp, config.batch_size).ok();
    for epoch in first_epoch..=config.epochs {
        // Cosine decay, as in the MNIST pipeline.
        let lr = cosine_rate(config.lr, epoch, config.epochs);
        optimizer.as_dyn().set_learning_rate(lr);
        let started = Instant::now();
        let stats = train_epoch_with_bar(
            &mut mlp,
            &mut optimizer,
            fast.as_mut(),
            &mut train,
            epoch,
            config.quiet,
        )?;
        let val = evaluate(&mlp, &mut dev)?;
        let seconds = started.elapsed().as_secs_f64();
        epochs.push(epoch_record(
            epoch,
            config.epochs,
            stats,
            val,
            lr,
            seconds,
            "dev",
        ));
        let improved = best.is_none_or(|(_, a)| val.accuracy > a);
        if improved {
            best = Some((epoch, val.accuracy));
        }
        let (state, mut scalars) = optimizer.state();
        scalars.insert("history".to_owned(), serde_json::to_string(&epochs)?);
        scalars.insert("best".to_owned(), serde_json::to_string(&best)?);
        let saved = Checkpoint {
            config_json: config_json.clone(),
            epoch,
            state,
            scalars,
        };
        checkpoint::save(&last_path, &mlp, &saved)?;
        if improved {
            checkpoint::save(&best_path, &mlp, &saved)?;
        }
    }
    let (best_epoch, dev_accuracy) = best.unwrap_or((0, 0.0));
    let mut model = config.build(inputs)?;
    checkpoint::load_into(&best_path, &mut model)?;

    // The held-out voice: predictions for every frame, in sorted utterance order.
    let predicted = predict_all(&model, &test_frames, config.batch_size)?;
    let csv_path = config.out.join("submission.csv");
    write_atomically(&csv_path, submission_csv(&predicted).as_bytes())?;
    let mut files = vec![best_path, last_path, csv_path];
    let test_accuracy = if test_has_labels {
        let evaluation = Evaluation::new(&test_labels, &predicted, PHONEMES.len());
        let confusion = render("confusion.svg", (760, 720), |root| {
            crate::mnist_plots::draw_confusion_named(root, &evaluation, &PHONEMES)
        })?;
        let path = config.out.join(&confusion.file_name);
        write_atomically(&path, &confusion.bytes)?;
        files.push(path);
        Some(evaluation.accuracy)
    } else {
        None
    };
    let curves = render("curves.svg", (900, 360), |root| {
        crate::mnist_plots::draw_curves(root, &epochs)
    })?;
    let curves_path = config.out.join(&curves.file_name);
    write_atomically(&curves_path, &curves.bytes)?;
    files.push(curves_path);
    println!(
        "\nBest model (epoch {best_epoch}): frame accuracy {:.2}% on dev-clean (held-out sentences){}",
        100.0 * dev_accuracy,
        test_accuracy.map_or_else(String::new, |a| format!(
            ", {:.2}% on test-clean (the held-out voice)",
            100.0 * a
        ))
    );
    let record_path = config.out.join("run.json");
    files.push(record_path.clone());
    let record = SpeechRecord {
        config: config.clone(),
        epochs,
        best_epoch,
        dev_accuracy,
        test_accuracy,
        files: files.clone(),
    };
    write_atomically(
        &record_path,
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    println!("Wrote to {}:", config.out.display());
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(record)
}

/// The predicted class of every frame, in order.
fn predict_all(mlp: &Mlp, frames: &ContextFrames, batch_size: usize) -> Result<Vec<usize>> {
    let n = frames.len();
    let mut out = Vec::with_capacity(n);
    let mut loader = BatchLoader::from_source(
        Arc::new(Windows(frames.clone())),
        vec![0; n],
        batch_size.max(1),
        false,
        0,
    )?
    .with_copier(Arc::new(BlockCopy));
    loader.start_epoch();
    while let Some((inputs, _)) = loader.next_batch() {
        out.extend(predict_classes(&mlp.forward(inputs)?));
    }
    Ok(out)
}

/// The homework's submission: `id,label`, one line per frame, 0-based.
pub fn submission_csv(predicted: &[usize]) -> String {
    let mut csv = String::from("id,label\n");
    for (id, &class) in predicted.iter().enumerate() {
        writeln!(csv, "{id},{}", PHONEMES[class]).expect("writing to a String");
    }
    csv
}

/// Runs of the same phoneme collapsed, silences dropped: "DH AH K AE T".
pub fn collapse(predicted: &[usize]) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut previous = None;
    for &class in predicted {
        if Some(class) != previous && class != 0 {
            out.push(PHONEMES[class]);
        }
        previous = Some(class);
    }
    out.join(" ")
}

/// Labels every 10 ms frame of a 16 kHz WAV file with a saved model.
pub fn predict_wav(model: &Path, wav: &Path, csv: Option<&Path>) -> Result<()> {
    let bytes = fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let saved = checkpoint::read_metadata(model, &bytes)?;
    let config: SpeechConfig = serde_json::from_str(&saved.config_json)
        .with_context(|| format!("{}: not a speech model's configuration", model.display()))?;
    let front_end = MfccConfig::default();
    let samples = read_wav(wav, front_end.sample_rate)?;
    let mut frames = mfcc(&samples, &front_end);
    if frames.nrows() == 0 {
        bail!("{}: shorter than one 25 ms frame", wav.display());
    }
    if !config.no_cmvn {
        hw1p2::normalize_utterance(&mut frames);
    }
    let utterance = Utterance {
        name: wav.display().to_string(),
        frames,
        labels: None,
    };
    let (windows, _) = windows(std::slice::from_ref(&utterance), config.context, false)?;
    let mut mlp = config.build(windows.input_size())?;
    checkpoint::load_into(model, &mut mlp)?;
    let predicted = predict_all(&mlp, &windows, config.batch_size)?;
    let text = submission_csv(&predicted);
    match csv {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            println!("{} frames labelled in {}", predicted.len(), path.display());
        }
        None => print!("{text}"),
    }
    eprintln!("{}", collapse(&predicted));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_collapsed_sequence() {
        let predicted = [0, 0, 10, 10, 3, 0, 20, 20, 20, 0];
        assert_eq!(
            submission_csv(&predicted[..3]),
            "id,label\n0,[SIL]\n1,[SIL]\n2,DH\n"
        );
        assert_eq!(collapse(&predicted), "DH AH K");
    }
}
