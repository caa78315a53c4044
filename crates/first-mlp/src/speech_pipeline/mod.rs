//! The speech pipeline (HW1P2): MFCC frames with context to 40 phonemes.
//!
//! Reads a folder in the HW1P2 layout, trains with the same loop as the
//! MNIST pipeline (dev-clean choosing the kept model), then labels every
//! frame of test-clean: the submission CSV, and with transcripts the
//! accuracy and the confusion matrix. Also `predict_wav` with a saved model.

mod config;
mod predict;

use std::path::PathBuf;

use anyhow::Result;
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use reference::context::ContextFrames;
use serde::Serialize;
use speech::hw1p2::PHONEMES;

use crate::checkpoint;
use crate::datasets::speech::{SpeechData, Split, loader};
use crate::files::{write_atomically, write_run_record};
use crate::plots::{self, draw_confusion_named, draw_curves, render};
use crate::report::{EpochRecord, Evaluation, summary};
use crate::training::{self, FitSettings, Fitted, Kept, OptimizerArg, Progress, Schedule};

pub use config::SpeechConfig;
pub use predict::{collapse, predict_wav, submission_csv};

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
    let config = settle(config)?;
    let SpeechData {
        train,
        dev,
        test,
        test_has_labels,
    } = load(&config)?;
    let inputs = train.frames.input_size();
    let (mut mlp, mut optimizer, progress) = build(&config, inputs)?;
    let fitted = fit(&config, train, dev, &mut mlp, &mut optimizer, progress)?;
    let test_labels = test_has_labels.then_some(test.labels.as_slice());
    report(&config, inputs, &test.frames, test_labels, fitted)
}

/// The configuration to run: `config`, or with --resume the checkpoint's,
/// where only the output, the length and the progress display may change.
fn settle(mut config: SpeechConfig) -> Result<SpeechConfig> {
    if config.yours && config.out == SpeechConfig::default().out {
        config.out = PathBuf::from("out/yours/speech");
    }
    let Some(path) = &config.resume else {
        return Ok(config);
    };
    let (mut resumed, epoch): (SpeechConfig, usize) =
        checkpoint::read_config(path, "not a speech model's configuration")?;
    resumed.epochs = config.epochs.max(epoch);
    resumed.out = config.out.clone();
    resumed.quiet = config.quiet;
    resumed.resume = config.resume.clone();
    Ok(resumed)
}

/// Reads the three splits, saying how big they are.
fn load(config: &SpeechConfig) -> Result<SpeechData> {
    let data = SpeechData::load(&config.data, config.context, !config.no_cmvn)?;
    let train = &data.train.frames;
    println!(
        "Data: {} ({} train, {} dev, {} test frames of {} coefficients); context {} → {} inputs",
        config.data.display(),
        train.len(),
        data.dev.frames.len(),
        data.test.frames.len(),
        train.frame_size,
        config.context,
        train.input_size()
    );
    Ok(data)
}

/// The network and its optimiser (Adam), fresh or from the checkpoint to resume.
fn build(config: &SpeechConfig, inputs: usize) -> Result<(Mlp, Optimizer, Progress)> {
    let code = config.code();
    println!("{}", code.describe(6, false));
    let mut mlp = code.run("building the network", || config.build(inputs))??;
    println!("\n{}\n", summary(&mlp));
    let mut optimizer = training::new_optimizer(OptimizerArg::Adam, config.lr, 0.0);
    let progress = match &config.resume {
        Some(path) => Progress::resume(path, &mut mlp, &mut optimizer)?,
        None => Progress::default(),
    };
    Ok((mlp, optimizer, progress))
}

/// Trains on train-clean-100 with a cosine schedule, keeping the best model
/// on dev-clean.
fn fit(
    config: &SpeechConfig,
    train: Split,
    dev: Split,
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    progress: Progress,
) -> Result<Fitted> {
    let (batch_size, seed) = (config.batch_size, config.seed);
    let whose = config.code().whose;
    let mut train = loader(train.frames, train.labels, batch_size, true, seed, whose)?;
    let mut dev = loader(dev.frames, dev.labels, batch_size, false, seed, whose)?;
    let settings = FitSettings {
        epochs: config.epochs,
        lr: config.lr,
        schedule: Schedule::Cosine,
        batch_size,
        code: config.code(),
        teaching: false,
        quiet: config.quiet,
        held_out: "dev",
        out: &config.out,
        config_json: serde_json::to_string(config)?,
    };
    training::fit(
        &settings,
        mlp,
        optimizer,
        &mut train,
        Some(&mut dev),
        progress,
    )
}

/// Labels test-clean (`test`, with `labels` when it has transcripts) with
/// the kept model; writes the submission, the plots and run.json, and says
/// how the model did.
fn report(
    config: &SpeechConfig,
    inputs: usize,
    test: &ContextFrames,
    labels: Option<&[usize]>,
    fitted: Fitted,
) -> Result<SpeechRecord> {
    let mut model = config.build(inputs)?;
    checkpoint::load_into(&fitted.best_path, &mut model)?;
    // The held-out voice: predictions for every frame, in sorted utterance order.
    let predicted = predict::predict_all(&config.code(), &model, test, config.batch_size)?;
    let csv_path = config.out.join("submission.csv");
    write_atomically(&csv_path, predict::submission_csv(&predicted).as_bytes())?;
    let mut files = vec![fitted.best_path, fitted.last_path, csv_path];
    let mut figures = Vec::new();
    let test_accuracy = if let Some(labels) = labels {
        let evaluation = Evaluation::new(labels, &predicted, PHONEMES.len());
        figures.push(render("confusion.svg", (760, 720), |root| {
            draw_confusion_named(root, &evaluation, &PHONEMES)
        })?);
        Some(evaluation.accuracy)
    } else {
        None
    };
    figures.push(render("curves.svg", (900, 360), |root| {
        draw_curves(root, &fitted.epochs)
    })?);
    files.extend(plots::write_all(&figures, &config.out)?);
    let on_test = test_accuracy.map_or_else(String::new, |a| {
        format!(", {:.2}% on test-clean (the held-out voice)", 100.0 * a)
    });
    let (best_epoch, dev_accuracy) = match fitted.kept {
        Kept::Best { epoch, accuracy } => {
            println!(
                "\nBest model (epoch {epoch}): frame accuracy {:.2}% on dev-clean (held-out sentences){on_test}",
                100.0 * accuracy
            );
            (epoch, accuracy)
        }
        Kept::Last { epoch } => {
            println!("\nThe last epoch's model (epoch {epoch}; dev-clean is empty){on_test}");
            (epoch, 0.0)
        }
    };
    write_run_record(&config.out, files, |files| SpeechRecord {
        config: config.clone(),
        epochs: fitted.epochs,
        best_epoch,
        dev_accuracy,
        test_accuracy,
        files,
    })
}
