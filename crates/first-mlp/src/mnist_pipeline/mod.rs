//! The MNIST pipeline: load and split the data, build the network, train it
//! with the shared loop, then test the kept model and write the plots,
//! checkpoints and run.json. Also `predict` with a saved model.

mod config;
mod predict;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, bail};
use course_support::batches::BatchLoader;
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use course_support::stats::EpochStats;
use engine::BlockCopy;
use mnist::Mnist;
use reference::training::predict_classes;
use serde::Serialize;

use crate::checkpoint;
use crate::code::Code;
use crate::datasets::mnist::{CLASSES, Splits, describe, locate};
use crate::files::write_run_record;
use crate::plots::{self, draw_confusion, draw_curves, draw_digits, render, render_png};
use crate::report::{EpochRecord, Evaluation, summary};
use crate::training::{self, FitSettings, Fitted, Kept, Progress};

pub use config::{ActivationArg, InitArg, TrainConfig};
pub use predict::predict;

/// The batch size of evaluation, which only reads the model.
const EVAL_BATCH: usize = 1000;

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRecord {
    pub config: TrainConfig,
    pub data: DataRecord,
    pub epochs: Vec<EpochRecord>,
    /// The epoch of the model tested, the best by validation accuracy; none
    /// without a validation split (the last epoch's model is tested).
    pub best_epoch: Option<usize>,
    pub test_loss: f32,
    pub test: Evaluation,
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataRecord {
    pub dir: PathBuf,
    pub provenance: String,
    pub train: usize,
    pub validation: usize,
    pub test: usize,
    pub mean: f32,
    pub std: f32,
}

/// Runs the whole pipeline and returns its record.
pub fn run(config: TrainConfig) -> Result<RunRecord> {
    let code = config.code();
    run_with(config, code)
}

/// Runs the whole pipeline with the stages of `code`, which `config.yours`
/// names for the command line.
pub fn run_with(config: TrainConfig, code: Code) -> Result<RunRecord> {
    let config = settle(config)?;
    let (data, splits) = load(&config)?;
    let (mut mlp, mut optimizer, progress) = build(&config, &code, splits.train_x.ncols())?;
    let (fitted, data_record) = fit(
        &config,
        &code,
        &data,
        &splits,
        &mut mlp,
        &mut optimizer,
        progress,
    )?;
    report(&config, &code, &data, &splits, fitted, data_record)
}

/// The configuration to run: `config`, or with --resume the checkpoint's,
/// where only the output, the length, the progress display and the data
/// folder may change. Checks the values no flag parser can.
fn settle(config: TrainConfig) -> Result<TrainConfig> {
    let config = match &config.resume {
        Some(path) => {
            let (mut resumed, epoch): (TrainConfig, usize) =
                checkpoint::read_config(path, "the saved configuration")?;
            resumed.resume = config.resume.clone();
            resumed.epochs = config.epochs.max(epoch);
            resumed.out = config.out.clone();
            resumed.quiet = config.quiet;
            if config.data.is_some() {
                resumed.data = config.data.clone();
            }
            resumed
        }
        None => config,
    };
    let mut config = config;
    if config.yours && config.out == TrainConfig::default().out {
        config.out = PathBuf::from("out/yours/mnist");
    }
    if config.epochs == 0 || config.batch_size == 0 {
        bail!("--epochs and --batch-size must be at least 1");
    }
    if !(0.0..0.9).contains(&config.validation) {
        bail!(
            "--validation must be a fraction in [0, 0.9), got {}",
            config.validation
        );
    }
    Ok(config)
}

/// Reads the data and splits it, saying what it is.
fn load(config: &TrainConfig) -> Result<(Mnist, Splits)> {
    let dir = locate(
        config.data.as_deref(),
        config.cache.as_deref(),
        config.download,
        config.quiet,
    )?;
    let data = mnist::load_dir(&dir)?;
    println!(
        "Data: {} in {}\n      {} training and {} test images of {} x {}",
        describe(data.provenance),
        data.dir.display(),
        data.train.images.count,
        data.test.images.count,
        data.train.images.rows,
        data.train.images.cols
    );
    let splits = Splits::new(&data, config.validation, config.seed, config.normalization);
    println!(
        "      split: {} training, {} validation; pixels normalised with mean {:.4}, std {:.4}",
        splits.train_y.len(),
        splits.validation_y.len(),
        splits.mean,
        splits.std
    );
    Ok((data, splits))
}

/// The network and its optimiser, fresh or from the checkpoint to resume.
fn build(config: &TrainConfig, code: &Code, inputs: usize) -> Result<(Mlp, Optimizer, Progress)> {
    println!("{}", code.describe(5, config.teaching));
    let mut mlp = code.run("building the network", || {
        config.build_with(code, inputs, CLASSES)
    })??;
    let mut optimizer = training::new_optimizer(config.optimizer, config.lr, config.weight_decay);
    let progress = match &config.resume {
        Some(path) => Progress::resume(path, &mut mlp, &mut optimizer)?,
        None => Progress::default(),
    };
    println!("\n{}\n", summary(&mlp));
    Ok((mlp, optimizer, progress))
}

/// Trains on the training split, choosing the kept model by the validation
/// split when there is one.
fn fit(
    config: &TrainConfig,
    code: &Code,
    data: &Mnist,
    splits: &Splits,
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    progress: Progress,
) -> Result<(Fitted, DataRecord)> {
    let loader = |x, y: &[usize], batch_size, shuffle, seed| -> Result<BatchLoader> {
        Ok(BatchLoader::new(x, y.to_vec(), batch_size, shuffle, seed)?
            .with_copier(Arc::new(BlockCopy)))
    };
    let mut train = loader(
        &splits.train_x,
        &splits.train_y,
        config.batch_size,
        true,
        config.seed,
    )?;
    let mut validation = loader(
        &splits.validation_x,
        &splits.validation_y,
        EVAL_BATCH,
        false,
        0,
    )?;
    let settings = FitSettings {
        epochs: config.epochs,
        lr: config.lr,
        schedule: config.schedule,
        batch_size: config.batch_size,
        code: *code,
        teaching: config.teaching,
        quiet: config.quiet,
        held_out: "val",
        out: &config.out,
        config_json: serde_json::to_string(config)?,
    };
    let fitted = training::fit(
        &settings,
        mlp,
        optimizer,
        &mut train,
        Some(&mut validation),
        progress,
    )?;
    let record = DataRecord {
        dir: data.dir.clone(),
        provenance: format!("{:?}", data.provenance).to_lowercase(),
        train: train.len(),
        validation: validation.len(),
        test: splits.test_y.len(),
        mean: splits.mean,
        std: splits.std,
    };
    Ok((fitted, record))
}

/// Tests the kept model, prints the result, writes the plots and run.json.
fn report(
    config: &TrainConfig,
    code: &Code,
    data: &Mnist,
    splits: &Splits,
    fitted: Fitted,
    data_record: DataRecord,
) -> Result<RunRecord> {
    let (test_stats, predicted) = test(config, code, splits, &fitted.best_path)?;
    let evaluation = Evaluation::new(&splits.test_y, &predicted, CLASSES);
    let which = match fitted.kept {
        Kept::Best { epoch, .. } => format!("best model by validation accuracy (epoch {epoch})"),
        Kept::Last { epoch } => {
            format!("the last epoch's model (epoch {epoch}; no validation split to pick a best)")
        }
    };
    println!(
        "\nTest ({} images), {which}: loss {:.4}, accuracy {:.2}%\n\n{}\n",
        splits.test_y.len(),
        test_stats.loss,
        100.0 * evaluation.accuracy,
        evaluation.table()
    );
    let mut files = vec![fitted.best_path, fitted.last_path];
    files.extend(write_plots(
        &config.out,
        data,
        &fitted.epochs,
        &evaluation,
        &predicted,
        &splits.test_y,
    )?);
    write_run_record(&config.out, files, |files| RunRecord {
        config: config.clone(),
        data: data_record,
        epochs: fitted.epochs,
        best_epoch: match fitted.kept {
            Kept::Best { epoch, .. } => Some(epoch),
            Kept::Last { .. } => None,
        },
        test_loss: test_stats.loss,
        test: evaluation,
        files,
    })
}

/// The saved model's loss on the test set, and its predicted classes.
fn test(
    config: &TrainConfig,
    code: &Code,
    splits: &Splits,
    model: &Path,
) -> Result<(EpochStats, Vec<usize>)> {
    // The weights are read back from the checkpoint: no need to draw them.
    let mut mlp = config.build(splits.test_x.ncols(), CLASSES)?;
    checkpoint::load_into(model, &mut mlp)?;
    let mut test = BatchLoader::new(&splits.test_x, splits.test_y.clone(), EVAL_BATCH, false, 0)?
        .with_copier(Arc::new(BlockCopy));
    let stats = code.run("testing", || (code.evaluate)(&mlp, &mut test))??;
    let logits = code.run("predicting the test set", || {
        (code.forward)(&mlp, &splits.test_x)
    })??;
    let predicted = predict_classes(&logits);
    Ok((stats, predicted))
}

/// Draws the run's plots into `dir` and returns the paths written: sample
/// digits, the learning curves, the confusion matrix, and the test digits
/// the model got wrong.
fn write_plots(
    dir: &Path,
    data: &Mnist,
    epochs: &[EpochRecord],
    evaluation: &Evaluation,
    predicted: &[usize],
    truth: &[usize],
) -> Result<Vec<PathBuf>> {
    let samples: Vec<(usize, String)> = (0..32.min(data.train.images.count))
        .map(|i| (i, format!("{}", data.train.labels[i])))
        .collect();
    let wrong: Vec<(usize, String)> = (0..truth.len())
        .filter(|&i| predicted[i] != truth[i])
        .take(32)
        .map(|i| (i, format!("{} not {}", predicted[i], truth[i])))
        .collect();
    let figures = [
        render_png("samples.png", (640, 400), |root| {
            draw_digits(
                root,
                &data.train.images,
                &samples,
                "Training digits and their labels",
            )
        })?,
        render("curves.svg", (900, 360), |root| draw_curves(root, epochs))?,
        render("confusion.svg", (560, 520), |root| {
            draw_confusion(root, evaluation)
        })?,
        render_png("misclassified.png", (640, 400), |root| {
            draw_digits(
                root,
                &data.test.images,
                &wrong,
                "Test digits the model got wrong: predicted not true",
            )
        })?,
    ];
    plots::write_all(&figures, dir)
}
