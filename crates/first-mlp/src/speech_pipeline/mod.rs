//! The speech pipeline (HW1P2): MFCC frames with context to 40 phonemes.
//!
//! Reads a folder in the HW1P2 layout, trains with the same loop as the
//! MNIST pipeline (dev-clean choosing the kept model), then labels every
//! frame of test-clean: the submission CSV, and with transcripts the
//! accuracy and the confusion matrix. Also `predict_wav` with a saved model.

mod config;
mod predict;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use course_support::batches::Order;
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use course_support::regularise::Network;
use course_support::stats::EpochStats;
use reference::context::ContextFrames;
use serde::Serialize;
use speech::decode::MAX_SWITCH_PENALTY;
use speech::hw1p2::PHONEMES;

use crate::checkpoint::{self, ModelKind};
use crate::code::{Code, Whose};
use crate::comparison::{self, Comparison, RunFigures};
use crate::datasets::speech::{
    SpeechData, Split, TrainSplit, TrainWindows, loader, open_corpus, read_stored, source_loader,
    warpable,
};
use crate::files::{write_atomically, write_run_record};
use crate::plots::{self, draw_confusion_named, draw_curves, render};
use crate::report::{EpochRecord, Evaluation, summary};
use crate::training::{
    self, FitSettings, Fitted, InvalidSetting, Kept, NoTrainingData, OptimizerArg, Progress, Role,
    Schedule,
};

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
    /// Frame accuracy on test-other (the held-out synthesiser family), when
    /// the data has that split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_accuracy: Option<f32>,
    /// Frame accuracy once each utterance is decoded (every change of
    /// phoneme costing [`SWITCH_PENALTY`] nats).
    pub decoded: Accuracies,
    /// Frame accuracy after VTLN: each utterance warped by the factor the
    /// model is surest of ([`speech::vtln`]), frame by frame and decoded.
    pub vtln: VtlnAccuracy,
    /// A run of yours against the reference's run of the same configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    pub files: Vec<PathBuf>,
}

/// What a change of phoneme costs in decoding, in nats: chosen on
/// dev-clean, among 0.5 to 3 (book: "Voices never heard").
pub const SWITCH_PENALTY: f32 = 2.0;

/// `text` as a switch penalty for `predict --wav`, if it is one
/// [`speech::decode::smooth`] takes.
pub fn parse_switch_penalty(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    if (0.0..=MAX_SWITCH_PENALTY).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{value}: expected a penalty in nats within [0, {MAX_SWITCH_PENALTY}]"
        ))
    }
}

/// The kept model's frame accuracy on each split with transcripts; None
/// where a split has no transcripts or no frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Accuracies {
    pub dev: Option<f32>,
    pub test: Option<f32>,
    pub other: Option<f32>,
}

impl Accuracies {
    /// "77.14% on dev-clean, 52.26% on test-clean", for the splits measured.
    fn describe(&self) -> String {
        let figures: Vec<String> = [
            (self.dev, "dev-clean"),
            (self.test, "test-clean"),
            (self.other, "test-other"),
        ]
        .iter()
        .filter_map(|(a, split)| a.map(|a| format!("{:.2}% on {split}", 100.0 * a)))
        .collect();
        figures.join(", ")
    }
}

/// The kept model's accuracies after VTLN, frame by frame and decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct VtlnAccuracy {
    pub frames: Accuracies,
    pub decoded: Accuracies,
}

/// Trains and evaluates; writes checkpoints, plots, the submission CSV and
/// run.json. A run of yours ends compared with the reference's run of the
/// same configuration and seed (unless `no_compare`).
pub fn run(config: SpeechConfig) -> Result<SpeechRecord> {
    let code = config.code();
    run_with(config, code)
}

/// Runs the pipeline with the stages of `code`, which `config.yours` names
/// for the command line.
pub fn run_with(config: SpeechConfig, code: Code) -> Result<SpeechRecord> {
    let config = settle(config)?;
    let optimizer = training::new_optimizer(OptimizerArg::Adam, config.lr, 0.0);
    code.check_finished(SpeechConfig::HIDDEN_ACTIVATION, &optimizer, 6)?;
    let SpeechData {
        train,
        dev,
        test,
        test_has_labels,
        other,
    } = load(&config, &code)?;
    let inputs = checked_inputs(&config, train.windows.shape())?;
    // A batch never holds more than the training frames: a larger one is
    // the same single batch per epoch, without allocating for the flag.
    let config = SpeechConfig {
        batch_size: config.batch_size.min(train.windows.shape().0),
        ..config
    };
    // A checkpoint to resume must hold the network its configuration
    // describes, checked from its header before anything is allocated.
    if let Some(path) = &config.resume {
        checkpoint::check_widths(path, &config.widths(inputs))?;
    }
    training::check_memory(&config.widths(inputs), config.batch_size)?;
    let sizes = [train.labels.len(), dev.labels.len(), test.frames.len()];
    println!("{}", code.describe(6, false));
    let (mut network, mut optimizer, progress) = build(&config, &code, inputs)?;
    println!("\n{}\n", summary(&network));
    let dev_to_decode = dev.clone();
    let fitted = fit(
        &config,
        &code,
        train,
        dev,
        &mut network,
        &mut optimizer,
        progress,
        Role::Main,
    )?;
    // Only a comparison needs the test loss, a second pass over test-clean.
    let compare = code.whose == Whose::Yours && !config.no_compare;
    let labels = test_has_labels.then_some(test.labels.as_slice());
    let kept = kept_mlp(&config, inputs, &fitted)?;
    let tested = test_kept(
        &config,
        &code,
        &kept,
        &test.frames,
        labels,
        &fitted,
        compare,
    )?;
    let other_accuracy = match &other {
        Some(other) => test_kept(
            &config,
            &code,
            &kept,
            &other.frames,
            Some(&other.labels),
            &fitted,
            false,
        )?
        .evaluation
        .map(|e| e.accuracy),
        None => None,
    };
    print_result(&fitted, &tested, other_accuracy);
    let decoded = decode_kept(
        &config,
        &code,
        &kept,
        &fitted,
        [
            Some(&dev_to_decode),
            test_has_labels.then_some(&test),
            other.as_ref(),
        ],
    )?;
    let vtln = vtln_kept(
        &config,
        &code,
        &kept,
        &fitted,
        [
            (!dev_to_decode.labels.is_empty()).then_some("dev-clean"),
            test_has_labels.then_some("test-clean"),
            other.as_ref().map(|_| "test-other"),
        ],
    )?;
    let reference = compare
        .then(|| comparison::unless_failed(reference_run(&config, sizes)))
        .flatten();
    report(
        &config,
        &code,
        fitted,
        (tested, other_accuracy, decoded, vtln),
        reference,
    )
}

/// The configuration to run: `config`, or with --resume the checkpoint's,
/// where only the output, the length, the progress display and the data
/// folder may change (other flags that disagree with it are refused).
fn settle(mut config: SpeechConfig) -> Result<SpeechConfig> {
    let defaults = SpeechConfig::default();
    if config.yours && config.out == defaults.out {
        config.out = PathBuf::from("out/yours/speech");
    }
    // Dropout is stage 7's: a run of your stages 2 to 6 trains without it
    // unless --dropout asks for it.
    // A linear model has no hidden layer to drop units of.
    if (config.yours || config.linear)
        && !config.was_given("dropout", config.dropout != defaults.dropout)
    {
        config.dropout = 0.0;
    }
    // So is perturbing the training data: your run trains on the frames as
    // your stage 6 makes them unless --vtlp asks for warps.
    if config.yours && !config.was_given("vtlp", config.vtlp != defaults.vtlp) {
        config.vtlp = 0.0;
    }
    // Before anything is read or written: `--epochs 0` must not replace an
    // earlier run's run.json with an empty history.
    config.validate()?;
    // Stored in the checkpoints: a resume from another folder must find it.
    config.data = training::absolute(&config.data);
    let Some(path) = &config.resume else {
        return Ok(config);
    };
    let (mut resumed, epoch) = training::read_resumed(
        path,
        ModelKind::Speech,
        &config,
        &config::RESUMED_FLAGS,
        config.given.as_ref(),
        |c: &SpeechConfig| c.epochs,
        SpeechConfig::validate,
    )?;
    // The data may have moved since: a --data given is where it is now.
    let data_given = config.was_given("data", config.data != training::absolute(&defaults.data));
    resumed.data = if data_given {
        config.data.clone()
    } else {
        // An older checkpoint's may be relative: to where it runs now.
        training::absolute(&resumed.data)
    };
    resumed.epochs = training::resumed_epochs(
        config.epochs,
        config.was_given("epochs", config.epochs != defaults.epochs),
        epoch,
        resumed.epochs,
    );
    resumed.out = training::resumed_out(
        &config.out,
        config.was_given("out", config.out != defaults.out),
        path,
    );
    resumed.given = config.given.clone();
    resumed.quiet = config.quiet;
    resumed.resume = config.resume.clone();
    Ok(resumed)
}

/// The inputs of a window, (2K + 1) frames, with checked arithmetic: K
/// (`--context`) may not exceed the training frames, since a window wider
/// than the data holds only padding beyond it.
fn checked_inputs(config: &SpeechConfig, (frames, frame_size): (usize, usize)) -> Result<usize> {
    let context = config.context;
    let inputs = context
        .checked_mul(2)
        .and_then(|k| k.checked_add(1))
        .and_then(|w| w.checked_mul(frame_size));
    match inputs {
        Some(inputs) if context <= frames => Ok(inputs),
        _ => Err(InvalidSetting::new(
            "--context",
            context,
            format!(
                "at most the {} training frames (a window of 2K + 1 frames)",
                frames
            ),
        )
        .into()),
    }
}

/// Reads the three splits, saying how big they are.
fn load(config: &SpeechConfig, code: &Code) -> Result<SpeechData> {
    let corpus = open_corpus(&config.data)?;
    let data = code.call("reading the speech data and normalising it (cmvn)", || {
        SpeechData::load(&corpus, config.split_settings(code), config.vtlp(code))
    })?;
    drop(corpus);
    let (frames, frame_size) = data.train.windows.shape();
    if frames == 0 {
        return Err(NoTrainingData {
            what: format!("{}/train-clean-100 (0 frames)", config.data.display()),
        }
        .into());
    }
    let inputs = checked_inputs(config, (frames, frame_size))?;
    println!(
        "Data: {} ({} train, {} dev, {} test{} frames of {} coefficients); context {} → {} inputs",
        config.data.display(),
        frames,
        data.dev.frames.len(),
        data.test.frames.len(),
        data.other
            .as_ref()
            .map_or_else(String::new, |o| format!(", {} test-other", o.frames.len())),
        frame_size,
        config.context,
        inputs
    );
    Ok(data)
}

/// The network and its optimiser (Adam), fresh or from the checkpoint to resume.
fn build(
    config: &SpeechConfig,
    code: &Code,
    inputs: usize,
) -> Result<(Network, Optimizer, Progress)> {
    let mut network = code.call("building the network", || config.build_with(code, inputs))?;
    let mut optimizer = training::new_optimizer(OptimizerArg::Adam, config.lr, 0.0);
    let progress = match &config.resume {
        Some(path) => Progress::resume(path, &mut network, &mut optimizer, config.epochs)?,
        None => Progress::default(),
    };
    Ok((network, optimizer, progress))
}

/// Trains on train-clean-100 (its windows warped anew each epoch with
/// VTLP) with a cosine schedule, keeping the best model on
/// dev-clean. The reference's run for comparison trains on its teaching
/// code, as yours does.
#[allow(clippy::too_many_arguments)]
fn fit(
    config: &SpeechConfig,
    code: &Code,
    train: TrainSplit,
    dev: Split,
    network: &mut Network,
    optimizer: &mut Optimizer,
    progress: Progress,
    role: Role,
) -> Result<Fitted> {
    let (batch_size, seed) = (config.batch_size, config.seed);
    let warped = match &train.windows {
        TrainWindows::Warped(warped) => Some(warped.clone()),
        TrainWindows::Fixed(_) => None,
    };
    let mut train = match train.windows {
        TrainWindows::Warped(warped) => {
            source_loader(warped, train.labels, (batch_size, code.shuffled(), seed))?
        }
        TrainWindows::Fixed(frames) => loader(
            frames,
            train.labels,
            batch_size,
            code.shuffled(),
            seed,
            code.windows,
        )?,
    };
    let set_epoch = |epoch: usize| match &warped {
        Some(warped) => warped.set_epoch(epoch),
        None => Ok(()),
    };
    let mut dev = loader(
        dev.frames,
        dev.labels,
        batch_size,
        Order::AsGiven,
        seed,
        code.windows,
    )?;
    let settings = FitSettings {
        epochs: config.epochs,
        lr: config.lr,
        schedule: Schedule::Cosine,
        batch_size,
        code: *code,
        teaching: role == Role::Comparison,
        quiet: config.quiet,
        role,
        held_out: "dev",
        out: &config.out,
        config_json: serde_json::to_string(config)?,
        metadata: Vec::new(),
        seed,
        before_epoch: Some(&set_epoch),
    };
    training::fit(
        &settings,
        network,
        optimizer,
        &mut train,
        Some(&mut dev),
        progress,
    )
}

/// The kept model on test-clean: every frame's class, and with transcripts
/// the confusion matrix (and the loss, when a comparison needs it).
struct Tested {
    predicted: Vec<usize>,
    stats: Option<EpochStats>,
    evaluation: Option<Evaluation>,
}

/// Labels test-clean (`test`, with `labels` when it has transcripts) with
/// the kept model (`model`, read from `fitted.best_path`), by `code`; with
/// `loss`, also measures the test loss.
fn test_kept(
    config: &SpeechConfig,
    code: &Code,
    model: &Mlp,
    test: &ContextFrames,
    labels: Option<&[usize]>,
    fitted: &Fitted,
    loss: bool,
) -> Result<Tested> {
    // The held-out voice: predictions for every frame, in sorted utterance order.
    let predicted = predict::predict_all(code, model, test, config.batch_size, &fitted.best_path)?;
    let Some(labels) = labels else {
        return Ok(Tested {
            predicted,
            stats: None,
            evaluation: None,
        });
    };
    let stats = if loss {
        let batch = config.batch_size.max(1);
        let mut loader = loader(
            test.clone(),
            labels.to_vec(),
            batch,
            Order::AsGiven,
            0,
            code.windows,
        )?;
        Some(code.call("testing", || (code.evaluate)(model, &mut loader))?)
    } else {
        None
    };
    Ok(Tested {
        evaluation: Some(Evaluation::new(labels, &predicted, PHONEMES.len())),
        predicted,
        stats,
    })
}

/// The kept model, in evaluation mode: the MLP its network folds into.
fn kept_mlp(config: &SpeechConfig, inputs: usize, fitted: &Fitted) -> Result<Mlp> {
    let mut network = config.build(inputs)?;
    checkpoint::load_into(&fitted.best_path, &mut network)?;
    Ok(network.to_evaluation_mlp())
}

/// The kept model's accuracy on dev-clean, test-clean and test-other (those
/// given, with frames) once each utterance is decoded; printed as well.
fn decode_kept(
    config: &SpeechConfig,
    code: &Code,
    mlp: &Mlp,
    fitted: &Fitted,
    splits: [Option<&Split>; 3],
) -> Result<Accuracies> {
    let accuracy = |split: Option<&Split>| -> Result<Option<f32>> {
        let Some(split) = split.filter(|s| !s.labels.is_empty()) else {
            return Ok(None);
        };
        let log_posteriors = predict::log_posteriors_all(
            code,
            mlp,
            &split.frames,
            config.batch_size,
            &fitted.best_path,
        )?;
        let decoded = predict::decode_all(&log_posteriors, &split.lengths, SWITCH_PENALTY)?;
        Ok(Some(
            Evaluation::new(&split.labels, &decoded, PHONEMES.len()).accuracy,
        ))
    };
    let [dev, test, other] = splits;
    let decoded = Accuracies {
        dev: accuracy(dev)?,
        test: accuracy(test)?,
        other: accuracy(other)?,
    };
    let figures = decoded.describe();
    if !figures.is_empty() {
        println!("Decoded, each change of phoneme costing {SWITCH_PENALTY} nats: {figures}");
    }
    Ok(decoded)
}

/// The kept model's accuracy on the splits of `config.data` named in
/// `splits` (those with transcripts and frames) after VTLN, frame by frame
/// and decoded; printed as well. The splits are read again: VTLN warps
/// every stored coefficient, which the windows of the run no longer hold.
/// Frames the warp cannot take (more than 40 coefficients) are not
/// measured.
fn vtln_kept(
    config: &SpeechConfig,
    code: &Code,
    mlp: &Mlp,
    fitted: &Fitted,
    splits: [Option<&str>; 3],
) -> Result<VtlnAccuracy> {
    let corpus = open_corpus(&config.data)?;
    let mut accuracy = |split: Option<&str>| -> Result<(Option<f32>, Option<f32>)> {
        let Some(split) = split else {
            return Ok((None, None));
        };
        let (utterances, labels) = read_stored(&corpus, split)?;
        let stored = utterances.first().map_or(0, |u| u.ncols());
        if labels.is_empty() || !warpable(stored) {
            return Ok((None, None));
        }
        let (log_posteriors, _) = predict::vtln_log_posteriors(
            code,
            mlp,
            &utterances,
            config.split_settings(code),
            config.batch_size,
            &fitted.best_path,
        )
        .with_context(|| format!("VTLN on {split}"))?;
        let frame_by_frame: Vec<usize> = log_posteriors
            .chunks(PHONEMES.len())
            .map(|row| (0..row.len()).fold(0, |b, c| if row[c] > row[b] { c } else { b }))
            .collect();
        let lengths: Vec<usize> = utterances.iter().map(|u| u.nrows()).collect();
        let decoded = predict::decode_all(&log_posteriors, &lengths, SWITCH_PENALTY)?;
        let score =
            |predicted: &[usize]| Evaluation::new(&labels, predicted, PHONEMES.len()).accuracy;
        Ok((Some(score(&frame_by_frame)), Some(score(&decoded))))
    };
    let [dev, test, other] = splits.map(&mut accuracy);
    let (dev, test, other) = (dev?, test?, other?);
    let vtln = VtlnAccuracy {
        frames: Accuracies {
            dev: dev.0,
            test: test.0,
            other: other.0,
        },
        decoded: Accuracies {
            dev: dev.1,
            test: test.1,
            other: other.1,
        },
    };
    let (frames, decoded) = (vtln.frames.describe(), vtln.decoded.describe());
    if !frames.is_empty() {
        println!(
            "After VTLN (each utterance warped by the factor of {} the model is surest of): \
             frame by frame {frames}; decoded {decoded}",
            predict::describe_warps()
        );
    }
    Ok(vtln)
}

/// The reference's teaching code run with your run's configuration and
/// seed: read back from the cache in your output folder, or trained now
/// (on the data read again) to fill it. `sizes` are the frames of the
/// three splits your run read.
fn reference_run(config: &SpeechConfig, sizes: [usize; 3]) -> Result<RunFigures> {
    let theirs = SpeechConfig {
        yours: false,
        out: PathBuf::new(),
        resume: None,
        ..config.clone()
    };
    comparison::reference_run(&config.out, &theirs, &sizes, |dir| {
        let theirs = SpeechConfig {
            out: dir.to_owned(),
            ..theirs.clone()
        };
        let code = Code::REFERENCE;
        let data = SpeechData::load(
            &open_corpus(&theirs.data)?,
            theirs.split_settings(&code),
            theirs.vtlp(&code),
        )?;
        let inputs = checked_inputs(&theirs, data.train.windows.shape())?;
        let (mut network, mut optimizer, progress) = build(&theirs, &code, inputs)?;
        let fitted = fit(
            &theirs,
            &code,
            data.train,
            data.dev,
            &mut network,
            &mut optimizer,
            progress,
            Role::Comparison,
        )?;
        let labels = data.test_has_labels.then_some(data.test.labels.as_slice());
        let kept = kept_mlp(&theirs, inputs, &fitted)?;
        let tested = test_kept(
            &theirs,
            &code,
            &kept,
            &data.test.frames,
            labels,
            &fitted,
            true,
        )?;
        Ok(figures_of(&fitted, &tested))
    })
}

/// A run's figures, as compared with another's.
fn figures_of(fitted: &Fitted, tested: &Tested) -> RunFigures {
    RunFigures {
        epochs: fitted.epochs.clone(),
        steps: fitted.steps.clone(),
        kept_epoch: fitted.kept.epoch(),
        test_loss: tested.stats.map(|s| s.loss),
        test_accuracy: tested.evaluation.as_ref().map(|e| e.accuracy),
    }
}

/// Says how the kept model did on dev-clean, test-clean and test-other.
fn print_result(fitted: &Fitted, tested: &Tested, other_accuracy: Option<f32>) {
    let mut on_test = tested.evaluation.as_ref().map_or_else(String::new, |e| {
        format!(
            ", {:.2}% on test-clean (the held-out voice)",
            100.0 * e.accuracy
        )
    });
    if let Some(accuracy) = other_accuracy {
        on_test += &format!(
            ", {:.2}% on test-other (the held-out family)",
            100.0 * accuracy
        );
    }
    match fitted.kept {
        Kept::Best { epoch, accuracy } => println!(
            "\nBest model (epoch {epoch}): frame accuracy {:.2}% on dev-clean (held-out sentences){on_test}",
            100.0 * accuracy
        ),
        Kept::Last { epoch } => {
            println!("\nThe last epoch's model (epoch {epoch}; dev-clean is empty){on_test}")
        }
    }
}

/// Writes the submission, the plots and run.json; for a run of yours, says
/// how it did beside the reference's.
fn report(
    config: &SpeechConfig,
    code: &Code,
    fitted: Fitted,
    (tested, other_accuracy, decoded, vtln): (Tested, Option<f32>, Accuracies, VtlnAccuracy),
    reference: Option<RunFigures>,
) -> Result<SpeechRecord> {
    let csv_path = config.out.join("submission.csv");
    write_atomically(
        &csv_path,
        predict::submission_csv(&tested.predicted).as_bytes(),
    )?;
    let mut files = vec![fitted.best_path.clone(), fitted.last_path.clone(), csv_path];
    let mut figures = Vec::new();
    if let Some(evaluation) = &tested.evaluation {
        figures.push(render("confusion.svg", (760, 720), |root| {
            draw_confusion_named(root, evaluation, &PHONEMES)
        })?);
    }
    figures.push(render("curves.svg", (750, 360), |root| {
        draw_curves(
            root,
            &fitted.epochs,
            reference.as_ref().map(|r| r.epochs.as_slice()),
            "dev",
        )
    })?);
    let test_accuracy = tested.evaluation.as_ref().map(|e| e.accuracy);
    let (best_epoch, dev_accuracy) = match fitted.kept {
        Kept::Best { epoch, accuracy } => (epoch, accuracy),
        Kept::Last { epoch } => (epoch, 0.0),
    };
    let mine = figures_of(&fitted, &tested);
    let data_differs = match &reference {
        Some(_) => comparison::data_differences(
            code,
            &[("the first epoch", fitted.train_examples, config.seed)],
            None,
        ),
        None => Vec::new(),
    };
    let comparison =
        comparison::print_beside(&mine, reference.as_ref(), "dev", Some(6), data_differs);
    if comparison.is_some() {
        files.push(comparison::reference_dir(&config.out).join("run.json"));
    }
    files.extend(plots::write_all(&figures, &config.out)?);
    write_run_record(&config.out, files, |files| SpeechRecord {
        config: config.clone(),
        epochs: fitted.epochs,
        best_epoch,
        dev_accuracy,
        test_accuracy,
        other_accuracy,
        decoded,
        vtln,
        comparison,
        files,
    })
}
