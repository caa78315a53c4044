//! The MNIST pipeline: load and split the data, build the network, train it
//! with the shared loop, then test the kept model and write the plots,
//! checkpoints and run.json. Also `predict` with a saved model.

mod config;
mod predict;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use course_support::batches::{BatchLoader, Order};
use course_support::optim::Optimizer;
use course_support::regularise::Network;
use course_support::stats::EpochStats;
use engine::BlockCopy;
use mnist::Mnist;
use reference::training::predict_classes;
use serde::Serialize;

use crate::checkpoint::{self, ModelKind};
use crate::code::{Code, Whose};
use crate::comparison::{self, Comparison, RunFigures};
use crate::datasets::mnist::{
    CLASSES, Normalization, SPLIT_SEED, Splits, describe, locate, pixels,
};
use crate::files::write_run_record;
use crate::plots::{self, draw_confusion, draw_curves, draw_digits, render, render_png};
use crate::regularisation::AugmentedImages;
use crate::report::{EpochRecord, Evaluation, summary};
use crate::training::{self, FitSettings, Fitted, Kept, NoTestData, Progress, Role};

pub use config::{ActivationArg, InitArg, TrainConfig};
pub use predict::{PictureError, classify_idx, predict};

/// The checkpoint metadata's keys for the pixel normalisation's mean and
/// standard deviation.
pub const NORMALIZATION_MEAN: &str = "normalization_mean";
pub const NORMALIZATION_STD: &str = "normalization_std";

/// The normalisation as checkpoint metadata (f32's `Display` round-trips).
fn normalization_metadata(mean: f32, std: f32) -> Vec<(String, String)> {
    vec![
        (NORMALIZATION_MEAN.to_owned(), mean.to_string()),
        (NORMALIZATION_STD.to_owned(), std.to_string()),
    ]
}

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
    /// A run of yours against the reference's run of the same configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
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

impl DataRecord {
    fn new(data: &Mnist, splits: &Splits) -> Self {
        Self {
            dir: data.dir.clone(),
            provenance: format!("{:?}", data.provenance).to_lowercase(),
            train: splits.train_y.len(),
            validation: splits.validation_y.len(),
            test: splits.test_y.len(),
            mean: splits.mean,
            std: splits.std,
        }
    }
}

/// Runs the whole pipeline and returns its record.
pub fn run(config: TrainConfig) -> Result<RunRecord> {
    let code = config.code();
    run_with(config, code)
}

/// Runs the whole pipeline with the stages of `code`, which `config.yours`
/// names for the command line. A run of yours ends compared with the
/// reference's run of the same configuration and seed.
pub fn run_with(config: TrainConfig, code: Code) -> Result<RunRecord> {
    let config = settle(config)?;
    let optimizer = training::new_optimizer(config.optimizer, config.lr, config.weight_decay);
    code.check_finished(config.activation.activation(), &optimizer, 5)?;
    let (data, splits) = load(&config, &code)?;
    // A batch never holds more than the training split: a larger one is the
    // same single batch per epoch, without allocating for the flag's size.
    let config = TrainConfig {
        batch_size: config.batch_size.min(splits.train_y.len()),
        ..config
    };
    let widths = config.widths(splits.train_x.ncols(), CLASSES);
    // A checkpoint to resume must hold the network its configuration
    // describes, checked from its header before anything is allocated.
    if let Some(path) = &config.resume {
        checkpoint::check_widths(path, &widths)?;
    }
    training::check_memory(&widths, config.batch_size)?;
    println!("{}", code.describe(5, config.teaching));
    let (mut network, mut optimizer, progress) = build(&config, &code, splits.train_x.ncols())?;
    println!("\n{}\n", summary(&network));
    let fitted = fit(
        &config,
        &code,
        &splits,
        &mut network,
        &mut optimizer,
        progress,
        Role::Main,
    )?;
    let (stats, predicted) = test(&config, &code, &splits, &fitted.best_path)?;
    let tested = Tested {
        evaluation: Evaluation::new(&splits.test_y, &predicted, CLASSES),
        stats,
        predicted,
    };
    print_test(&splits.test_y, &fitted, &tested);
    let data_record = DataRecord::new(&data, &splits);
    let reference = match code.whose {
        Whose::Yours if !config.no_compare => {
            comparison::unless_failed(reference_run(&config, &data, &data_record))
        }
        _ => None,
    };
    // Where your data preparation differs from the reference's, to name in
    // the verdict.
    let reference = reference.map(|figures| {
        let sample: Vec<usize> = (0..data.train.images.count.min(1000)).collect();
        let statistics_of = (config.normalization == Normalization::Computed)
            .then(|| pixels(&data.train.images, &sample));
        let differs = comparison::data_differences(
            &code,
            &[
                (
                    "the validation split",
                    data.train.images.count,
                    config.seed ^ SPLIT_SEED,
                ),
                ("the first epoch", fitted.train_examples, config.seed),
            ],
            statistics_of.as_ref(),
        );
        (figures, differs)
    });
    report(
        &config,
        &data,
        &splits,
        fitted,
        tested,
        data_record,
        reference,
    )
}

/// The configuration to run: `config`, or with --resume the checkpoint's,
/// where only the output, the length, the progress display, the teaching
/// path and the data folder may change (other flags that disagree with it
/// are refused). Checks the values no flag parser can.
fn settle(config: TrainConfig) -> Result<TrainConfig> {
    let config = match &config.resume {
        Some(path) => {
            let (mut resumed, epoch) = training::read_resumed(
                path,
                ModelKind::Mnist,
                &config,
                &config::RESUMED_FLAGS,
                config.given.as_ref(),
                |c: &TrainConfig| c.epochs,
                TrainConfig::validate,
            )?;
            let defaults = TrainConfig::default();
            resumed.resume = config.resume.clone();
            resumed.teaching = config.teaching;
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
            resumed.quiet = config.quiet;
            resumed.cache = config.cache.clone();
            resumed.given = config.given.clone();
            if config.data.is_some() {
                resumed.data = config.data.clone();
            }
            resumed
        }
        None => config,
    };
    let mut config = config;
    config.data = config.data.as_deref().map(training::absolute);
    if config.yours && config.out == TrainConfig::default().out {
        config.out = PathBuf::from("out/yours/mnist");
    }
    config.validate()?;
    Ok(config)
}

/// Reads the data and splits it, saying what it is.
fn load(config: &TrainConfig, code: &Code) -> Result<(Mnist, Splits)> {
    let dir = locate(
        config.data.as_deref(),
        config.cache.as_deref(),
        config.download,
        config.quiet,
    )?;
    let data = mnist::load_dir(&dir)?;
    // Before training: a test set of 0 images would end the run with a
    // made-up accuracy of 0%.
    if data.test.images.count == 0 {
        return Err(NoTestData {
            what: format!("the test set in {} (0 images)", data.dir.display()),
        }
        .into());
    }
    println!(
        "Data: {} in {}\n      {} training and {} test images of {} x {}",
        describe(data.provenance),
        data.dir.display(),
        data.train.images.count,
        data.test.images.count,
        data.train.images.rows,
        data.train.images.cols
    );
    let splits = Splits::new(
        &data,
        config.validation,
        config.seed,
        config.normalization,
        code,
    )?;
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
fn build(
    config: &TrainConfig,
    code: &Code,
    inputs: usize,
) -> Result<(Network, Optimizer, Progress)> {
    let mut network = code.call("building the network", || {
        config.build_with(code, inputs, CLASSES)
    })?;
    let mut optimizer = training::new_optimizer(config.optimizer, config.lr, config.weight_decay);
    let progress = match &config.resume {
        Some(path) => Progress::resume(path, &mut network, &mut optimizer, config.epochs)?,
        None => Progress::default(),
    };
    Ok((network, optimizer, progress))
}

/// Trains on the training split, choosing the kept model by the validation
/// split when there is one. With `--augment`, the training digits are
/// distorted afresh every epoch as they are copied into the batches.
fn fit(
    config: &TrainConfig,
    code: &Code,
    splits: &Splits,
    network: &mut Network,
    optimizer: &mut Optimizer,
    progress: Progress,
    role: Role,
) -> Result<Fitted> {
    let loader = |x, y: &[usize], batch_size, order, seed| -> Result<BatchLoader> {
        Ok(BatchLoader::new(x, y.to_vec(), batch_size, order, seed)?
            .with_copier(Arc::new(BlockCopy)))
    };
    let augmented = match config.augment.settings() {
        Some(settings) => Some(Arc::new(AugmentedImages::new(
            &splits.train_x,
            splits.image_shape,
            settings,
            // A blank pixel, standardised as every pixel was.
            -splits.mean / splits.std,
            config.seed,
            code.augment,
        )?)),
        None => None,
    };
    let mut train = match &augmented {
        Some(images) => BatchLoader::from_source(
            images.clone(),
            splits.train_y.clone(),
            config.batch_size,
            code.shuffled(),
            config.seed,
        )?
        .with_copier(Arc::new(BlockCopy)),
        None => loader(
            &splits.train_x,
            &splits.train_y,
            config.batch_size,
            code.shuffled(),
            config.seed,
        )?,
    };
    let set_epoch = |epoch: usize| {
        if let Some(images) = &augmented {
            images.set_epoch(epoch);
        }
        Ok(())
    };
    let mut validation = loader(
        &splits.validation_x,
        &splits.validation_y,
        EVAL_BATCH,
        Order::AsGiven,
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
        role,
        held_out: "val",
        out: &config.out,
        config_json: serde_json::to_string(config)?,
        // `predict` normalises with the statistics the model was trained
        // on, which `--normalization computed` takes from the data.
        metadata: normalization_metadata(splits.mean, splits.std),
        seed: config.seed,
        before_epoch: Some(&set_epoch),
    };
    training::fit(
        &settings,
        network,
        optimizer,
        &mut train,
        Some(&mut validation),
        progress,
    )
}

/// The reference's teaching code run with your run's configuration and
/// seed, on the same data: read back from the cache in your output folder,
/// or trained now to fill it.
fn reference_run(
    config: &TrainConfig,
    data: &Mnist,
    data_record: &DataRecord,
) -> Result<RunFigures> {
    let theirs = TrainConfig {
        yours: false,
        teaching: true,
        out: PathBuf::new(),
        resume: None,
        ..config.clone()
    };
    comparison::reference_run(&config.out, &theirs, data_record, |dir| {
        let theirs = TrainConfig {
            out: dir.to_owned(),
            ..theirs.clone()
        };
        let code = Code::REFERENCE;
        // The reference prepares the data its own way: your stage 5's
        // shuffle and statistics are compared, not shared.
        let splits = &Splits::new(
            data,
            theirs.validation,
            theirs.seed,
            theirs.normalization,
            &code,
        )?;
        let (mut network, mut optimizer, progress) = build(&theirs, &code, splits.train_x.ncols())?;
        let fitted = fit(
            &theirs,
            &code,
            splits,
            &mut network,
            &mut optimizer,
            progress,
            Role::Comparison,
        )?;
        let (stats, _) = test(&theirs, &code, splits, &fitted.best_path)?;
        Ok(figures_of(&fitted, &stats))
    })
}

/// A run's figures, as compared with another's.
fn figures_of(fitted: &Fitted, test: &EpochStats) -> RunFigures {
    RunFigures {
        epochs: fitted.epochs.clone(),
        steps: fitted.steps.clone(),
        kept_epoch: fitted.kept.epoch(),
        test_loss: Some(test.loss),
        test_accuracy: Some(test.accuracy),
    }
}

/// The kept model on the test set: its loss and accuracy, its predicted
/// classes, and the confusion matrix they make.
struct Tested {
    stats: EpochStats,
    predicted: Vec<usize>,
    evaluation: Evaluation,
}

/// Says how the kept model did on the test set.
fn print_test(truth: &[usize], fitted: &Fitted, tested: &Tested) {
    let which = match fitted.kept {
        Kept::Best { epoch, .. } => format!("best model by validation accuracy (epoch {epoch})"),
        Kept::Last { epoch } => {
            format!("the last epoch's model (epoch {epoch}; no validation split to pick a best)")
        }
    };
    println!(
        "\nTest ({} images), {which}: loss {:.4}, accuracy {:.2}%\n\n{}",
        truth.len(),
        tested.stats.loss,
        100.0 * tested.evaluation.accuracy,
        tested.evaluation.table()
    );
}

/// Prints a run of yours beside the reference's, writes the plots and
/// run.json.
fn report(
    config: &TrainConfig,
    data: &Mnist,
    splits: &Splits,
    fitted: Fitted,
    tested: Tested,
    data_record: DataRecord,
    reference: Option<(RunFigures, Vec<String>)>,
) -> Result<RunRecord> {
    let mut files = vec![fitted.best_path.clone(), fitted.last_path.clone()];
    let mine = figures_of(&fitted, &tested.stats);
    let (reference, data_differs) = reference.unzip();
    let comparison = comparison::print_beside(
        &mine,
        reference.as_ref(),
        "val",
        None,
        data_differs.unwrap_or_default(),
    );
    if comparison.is_some() {
        files.push(comparison::reference_dir(&config.out).join("run.json"));
    }
    files.extend(write_plots(
        &config.out,
        data,
        &fitted.epochs,
        reference.as_ref().map(|r| r.epochs.as_slice()),
        &tested.evaluation,
        &tested.predicted,
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
        test_loss: tested.stats.loss,
        test: tested.evaluation,
        comparison,
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
    // The network is tested in evaluation mode, as the MLP it folds into.
    let mut network = config.build(splits.test_x.ncols(), CLASSES)?;
    checkpoint::load_into(model, &mut network)?;
    let mlp = network.to_evaluation_mlp();
    let mut test = BatchLoader::new(
        &splits.test_x,
        splits.test_y.clone(),
        EVAL_BATCH,
        Order::AsGiven,
        0,
    )?
    .with_copier(Arc::new(BlockCopy));
    let stats = code.call("testing", || (code.evaluate)(&mlp, &mut test))?;
    let logits = code.call("predicting the test set", || {
        (code.forward)(&mlp, &splits.test_x)
    })?;
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
    reference: Option<&[EpochRecord]>,
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
        render("curves.svg", (750, 360), |root| {
            draw_curves(root, epochs, reference, "validation")
        })?,
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
