//! The MNIST pipeline: data, normalisation, a validation split, training
//! with a progress bar, evaluation, plots, checkpoints and a JSON record.
//!
//! The training loop itself is stage 5's `train_epoch` and `evaluate`, run on
//! the reference implementation.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use course_support::batches::BatchLoader;
use engine::{BlockCopy, Trainer};
use indicatif::{ProgressBar, ProgressStyle};
use mnist::{Mnist, Provenance};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use reference::given::{Adam, Optimizer, Sgd};
use reference::init::Init;
use reference::stats::EpochStats;
use reference::training::{evaluate, predict_classes, train_epoch};
use reference::{Activation, Mlp};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Checkpoint};
use crate::report::{Evaluation, summary};

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivationArg {
    Relu,
    LeakyRelu,
    Elu,
    Gelu,
    Tanh,
    Sigmoid,
}

impl ActivationArg {
    pub fn activation(self) -> Activation {
        match self {
            Self::Relu => Activation::Relu,
            Self::LeakyRelu => Activation::LEAKY_RELU,
            Self::Elu => Activation::ELU,
            Self::Gelu => Activation::Gelu,
            Self::Tanh => Activation::Tanh,
            Self::Sigmoid => Activation::Sigmoid,
        }
    }
}

/// The optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerArg {
    Sgd,
    Momentum,
    Nesterov,
    Adam,
    Adamw,
}

/// How the learning rate changes over the epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// Cosine decay from the rate to 0 over the epochs.
    Cosine,
    /// Divided by 10 after half and after three quarters of the epochs.
    Step,
}

/// The weight initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitArg {
    KaimingUniform,
    KaimingNormal,
    XavierUniform,
    XavierNormal,
}

impl InitArg {
    fn init(self) -> Init {
        match self {
            Self::KaimingUniform => Init::KaimingUniform,
            Self::KaimingNormal => Init::KaimingNormal,
            Self::XavierUniform => Init::XavierUniform,
            Self::XavierNormal => Init::XavierNormal,
        }
    }
}

/// Pixel normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalization {
    /// (x − 0.1307) / 0.3081, MNIST's well-known mean and deviation.
    Standard,
    /// The mean and deviation of this run's training split.
    Computed,
}

/// Everything that defines a training run. The defaults are the
/// recitation's model, 784 → 256 ReLU → 10 trained by Adam at 1e-3 on
/// cross-entropy, with the rate decayed to 0 along a cosine over 10 epochs
/// (which takes the full set past 98% test accuracy; a constant rate stays
/// just under).
#[derive(Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Folder with the four MNIST files (raw or .gz). Default: the download
    /// cache if it holds the full set, else the bundled sample.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Download the full set into the cache first (if it is not there).
    #[arg(long)]
    #[serde(skip)]
    pub download: bool,
    /// The download cache (default: $FIRST_MLP_DATA/mnist, else ~/.cache/first-mlp/mnist).
    #[arg(long)]
    #[serde(skip)]
    pub cache: Option<PathBuf>,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256")]
    pub hidden: Vec<usize>,
    #[arg(long, value_enum, default_value = "relu")]
    pub activation: ActivationArg,
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptimizerArg,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    #[arg(long, value_enum, default_value = "cosine")]
    pub schedule: Schedule,
    /// Weight decay (L2 for SGD and Adam, decoupled for AdamW).
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f32,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seeds the initial weights, the validation split and every shuffle.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The fraction of the training set held out for validation.
    #[arg(long, default_value_t = 0.1)]
    pub validation: f32,
    #[arg(long, value_enum, default_value = "kaiming-uniform")]
    pub init: InitArg,
    #[arg(long, value_enum, default_value = "standard")]
    pub normalization: Normalization,
    /// Output folder for the plots, checkpoints and run.json.
    #[arg(long, default_value = "out/mnist")]
    pub out: PathBuf,
    /// Continue from a checkpoint (its configuration is used).
    #[arg(long)]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    /// No progress bar (for logs).
    #[arg(long)]
    #[serde(skip)]
    pub quiet: bool,
    /// Train with the teaching code (stage 4's `train_step`) instead of the
    /// fast path (`engine`): the same arithmetic, about 2.5x slower.
    #[arg(long)]
    #[serde(default)]
    pub teaching: bool,
}

/// One epoch's figures, as recorded in run.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub validation_loss: f32,
    pub validation_accuracy: f32,
    pub learning_rate: f32,
    pub seconds: f64,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRecord {
    pub config: TrainConfig,
    pub data: DataRecord,
    pub epochs: Vec<EpochRecord>,
    pub best_epoch: usize,
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

/// Where the data comes from, following the config and what is on disk.
pub fn locate_data(config: &TrainConfig) -> Result<PathBuf> {
    if let Some(dir) = &config.data {
        return Ok(dir.clone());
    }
    let cache = config
        .cache
        .clone()
        .unwrap_or_else(mnist::default_cache_dir);
    if config.download {
        eprintln!(
            "Fetching the full MNIST into {} (verified by sha256)",
            cache.display()
        );
        mnist::download::ensure(&mnist::FULL, &mnist::download::MIRRORS, &cache, !config.quiet)
            .context("downloading MNIST (use --data DIR for a local copy, or drop --download for the bundled sample)")?;
    }
    if mnist::FULL
        .iter()
        .all(|s| mnist::download::is_present(&cache, s))
    {
        return Ok(cache);
    }
    Ok(mnist::sample_dir())
}

/// Pixels as f32 in [0, 1], one image per row.
pub fn pixels(images: &mnist::Images, rows: &[usize]) -> DMatrix<f32> {
    let size = images.rows * images.cols;
    let mut m = DMatrix::zeros(rows.len(), size);
    for (r, &i) in rows.iter().enumerate() {
        for (j, &p) in images.image(i).iter().enumerate() {
            m[(r, j)] = f32::from(p) / 255.0;
        }
    }
    m
}

fn normalize(m: &mut DMatrix<f32>, mean: f32, std: f32) {
    m.apply(|v| *v = (*v - mean) / std);
}

/// `base` decayed to 0 along a cosine over `epochs` (1-based `epoch`).
pub(crate) fn cosine_rate(base: f32, epoch: usize, epochs: usize) -> f32 {
    let progress = (epoch - 1) as f32 / epochs.max(1) as f32;
    0.5 * base * (1.0 + (std::f32::consts::PI * progress).cos())
}

fn learning_rate(config: &TrainConfig, epoch: usize) -> f32 {
    let progress = (epoch - 1) as f32 / config.epochs.max(1) as f32;
    match config.schedule {
        Schedule::Constant => config.lr,
        Schedule::Cosine => cosine_rate(config.lr, epoch, config.epochs),
        Schedule::Step => {
            let drops = (progress >= 0.5) as i32 + (progress >= 0.75) as i32;
            config.lr * 0.1f32.powi(drops)
        }
    }
}

/// An optimiser's tensors (moments, velocities) and scalars (step count).
pub(crate) type OptimizerState = (Vec<(String, Vec<f32>)>, HashMap<String, String>);

/// The optimiser, with its state saved to and restored from checkpoints.
pub(crate) enum AnyOptimizer {
    Sgd(Sgd),
    Adam(Adam),
}

impl AnyOptimizer {
    fn new(config: &TrainConfig) -> Self {
        match config.optimizer {
            OptimizerArg::Sgd => Self::Sgd(Sgd {
                weight_decay: config.weight_decay,
                ..Sgd::new(config.lr)
            }),
            OptimizerArg::Momentum | OptimizerArg::Nesterov => Self::Sgd(Sgd {
                weight_decay: config.weight_decay,
                ..Sgd::with_momentum(config.lr, 0.9, config.optimizer == OptimizerArg::Nesterov)
            }),
            OptimizerArg::Adam => Self::Adam(Adam {
                weight_decay: config.weight_decay,
                ..Adam::new(config.lr)
            }),
            OptimizerArg::Adamw => Self::Adam(Adam::adamw(config.lr, config.weight_decay)),
        }
    }

    pub(crate) fn as_dyn(&mut self) -> &mut dyn Optimizer {
        match self {
            Self::Sgd(o) => o,
            Self::Adam(o) => o,
        }
    }

    pub(crate) fn state(&self) -> OptimizerState {
        let named = |prefix: &str, tensors: &[Vec<f32>]| {
            tensors
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("optimizer.{prefix}.{i:03}"), t.clone()))
                .collect::<Vec<_>>()
        };
        match self {
            Self::Sgd(o) => (named("velocity", &o.velocity), HashMap::new()),
            Self::Adam(o) => {
                let mut state = named("m", &o.first_moment);
                state.extend(named("v", &o.second_moment));
                (
                    state,
                    HashMap::from([("optimizer.steps".to_owned(), o.steps.to_string())]),
                )
            }
        }
    }

    pub(crate) fn restore(&mut self, checkpoint: &Checkpoint) {
        let take = |prefix: &str| -> Vec<Vec<f32>> {
            checkpoint
                .state
                .iter()
                .filter(|(name, _)| name.starts_with(&format!("optimizer.{prefix}.")))
                .map(|(_, values)| values.clone())
                .collect()
        };
        match self {
            Self::Sgd(o) => o.velocity = take("velocity"),
            Self::Adam(o) => {
                o.first_moment = take("m");
                o.second_moment = take("v");
                o.steps = checkpoint
                    .scalars
                    .get("optimizer.steps")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            }
        }
    }
}

/// One epoch behind a progress bar (hidden when `quiet`) that shows the
/// running loss and accuracy: on the fast path when there is one (`fast`,
/// with Adam or AdamW), else with stage 5's `train_epoch` on the teaching code.
pub(crate) fn train_epoch_with_bar(
    mlp: &mut Mlp,
    optimizer: &mut AnyOptimizer,
    fast: Option<&mut Trainer>,
    loader: &mut BatchLoader,
    epoch: usize,
    quiet: bool,
) -> Result<EpochStats> {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(loader.batches_per_epoch() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix:>3} [{bar:30}] {pos:>4}/{len} {msg} {elapsed_precise}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(epoch.to_string());
    let mut on_batch = |s: &EpochStats| {
        bar.inc(1);
        bar.set_message(format!(
            "loss {:.4} acc {:>6.2}%",
            s.loss,
            100.0 * s.accuracy
        ));
    };
    let stats = match (fast, optimizer) {
        (Some(trainer), AnyOptimizer::Adam(adam)) => {
            engine::train_epoch(trainer, mlp, adam, loader, &mut on_batch)?
        }
        (_, optimizer) => train_epoch(mlp, optimizer.as_dyn(), loader, &mut on_batch)?,
    };
    bar.finish_and_clear();
    Ok(stats)
}

/// Prints an epoch's line (`held_out` names the evaluation set) and returns
/// its record.
pub(crate) fn epoch_record(
    epoch: usize,
    epochs: usize,
    train: EpochStats,
    held_out_stats: EpochStats,
    learning_rate: f32,
    seconds: f64,
    held_out: &str,
) -> EpochRecord {
    println!(
        "epoch {epoch:>3}/{epochs}  train loss {:.4} acc {:>6.2}%  {held_out} loss {:.4} acc {:>6.2}%  lr {learning_rate:.2e}  {seconds:.1} s",
        train.loss,
        100.0 * train.accuracy,
        held_out_stats.loss,
        100.0 * held_out_stats.accuracy
    );
    EpochRecord {
        epoch,
        train_loss: train.loss,
        train_accuracy: train.accuracy,
        validation_loss: held_out_stats.loss,
        validation_accuracy: held_out_stats.accuracy,
        learning_rate,
        seconds,
    }
}

/// Builds the network a config describes (weights from the seed).
pub fn build_mlp(config: &TrainConfig, inputs: usize, classes: usize) -> Result<Mlp> {
    let mut widths = vec![inputs];
    widths.extend(&config.hidden);
    widths.push(classes);
    let mut activations = vec![config.activation.activation(); config.hidden.len()];
    activations.push(Activation::Identity);
    Ok(Mlp::new(
        &widths,
        &activations,
        config.init.init(),
        config.seed,
    )?)
}

/// Runs the whole pipeline and returns its record.
pub fn run(config: TrainConfig) -> Result<RunRecord> {
    let (config, resume) = match &config.resume {
        Some(path) => {
            let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let saved = checkpoint::read_metadata(path, &bytes)?;
            let mut resumed: TrainConfig = serde_json::from_str(&saved.config_json)
                .with_context(|| format!("{}: the saved configuration", path.display()))?;
            // Where to write, how long to train and how to show progress may change.
            resumed.resume = config.resume.clone();
            resumed.epochs = config.epochs.max(saved.epoch);
            resumed.out = config.out.clone();
            resumed.quiet = config.quiet;
            if config.data.is_some() {
                resumed.data = config.data.clone();
            }
            (resumed, Some(path.clone()))
        }
        None => (config, None),
    };
    if config.epochs == 0 || config.batch_size == 0 {
        bail!("--epochs and --batch-size must be at least 1");
    }
    if !(0.0..0.9).contains(&config.validation) {
        bail!(
            "--validation must be a fraction in [0, 0.9), got {}",
            config.validation
        );
    }

    let dir = locate_data(&config)?;
    let data: Mnist = mnist::load_dir(&dir)?;
    let provenance = match data.provenance {
        Provenance::Full => "the full MNIST (verified)",
        Provenance::Sample => {
            "the bundled MNIST sample (verified; add --download or --data DIR for the full set)"
        }
        Provenance::Unverified => "IDX files that match no known checksum",
    };
    println!(
        "Data: {} in {}\n      {} training and {} test images of {} x {}",
        provenance,
        data.dir.display(),
        data.train.images.count,
        data.test.images.count,
        data.train.images.rows,
        data.train.images.cols
    );

    // A seeded split of the training set into training and validation.
    let mut order: Vec<usize> = (0..data.train.images.count).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed));
    let held_out = (config.validation * order.len() as f32).round() as usize;
    let (validation_rows, train_rows) = order.split_at(held_out);
    let labels = |rows: &[usize], all: &[u8]| {
        rows.iter()
            .map(|&i| usize::from(all[i]))
            .collect::<Vec<_>>()
    };
    let mut train_x = pixels(&data.train.images, train_rows);
    let mut validation_x = pixels(&data.train.images, validation_rows);
    let test_rows: Vec<usize> = (0..data.test.images.count).collect();
    let mut test_x = pixels(&data.test.images, &test_rows);
    let (mean, std) = match config.normalization {
        Normalization::Standard => mnist::STANDARD_NORMALIZATION,
        Normalization::Computed => {
            let n = train_x.len() as f64;
            let mean = train_x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = train_x
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n;
            (mean as f32, var.sqrt() as f32)
        }
    };
    for m in [&mut train_x, &mut validation_x, &mut test_x] {
        normalize(m, mean, std);
    }
    let train_y = labels(train_rows, &data.train.labels);
    let validation_y = labels(validation_rows, &data.train.labels);
    let test_y: Vec<usize> = data.test.labels.iter().map(|&l| usize::from(l)).collect();
    println!(
        "      split: {} training, {} validation; pixels normalised with mean {mean:.4}, std {std:.4}",
        train_y.len(),
        validation_y.len()
    );

    let classes = 10;
    let mut mlp = build_mlp(&config, train_x.ncols(), classes)?;
    let mut optimizer = AnyOptimizer::new(&config);
    let mut first_epoch = 1;
    let mut epochs: Vec<EpochRecord> = Vec::new();
    let mut best: Option<(usize, f32)> = None;
    if let Some(path) = &resume {
        let saved = checkpoint::load_into(path, &mut mlp)?;
        optimizer.restore(&saved);
        first_epoch = saved.epoch + 1;
        if let Some(history) = saved.scalars.get("history") {
            epochs = serde_json::from_str(history).unwrap_or_default();
        }
        best = epochs
            .iter()
            .map(|e| (e.epoch, e.validation_accuracy))
            .fold(None, |b, e| {
                if b.is_none_or(|(_, a)| e.1 > a) {
                    Some(e)
                } else {
                    b
                }
            });
        println!(
            "Resuming from {} after epoch {}",
            path.display(),
            saved.epoch
        );
    }
    println!("\n{}\n", summary(&mlp));

    let mut train = BatchLoader::new(&train_x, train_y, config.batch_size, true, config.seed)?
        .with_copier(Arc::new(BlockCopy));
    // Replay the shuffles of the epochs already done, so a resumed run sees
    // exactly the batches an uninterrupted one would.
    for _ in 1..first_epoch {
        train.start_epoch();
    }
    let eval_batch = 1000;
    let mut validation = BatchLoader::new(&validation_x, validation_y, eval_batch, false, 0)?
        .with_copier(Arc::new(BlockCopy));
    fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let config_json = serde_json::to_string(&config)?;
    let best_path = config.out.join("best.safetensors");
    let last_path = config.out.join("last.safetensors");
    if let Some(path) = &resume {
        checkpoint::copy_best_beside(path, &best_path)?;
    }

    // The fast path runs every network this pipeline builds (linear layers and
    // activations) under Adam or AdamW; SGD and --teaching use the teaching code.
    let mut fast = match config.teaching {
        true => None,
        false => Trainer::new(&mlp, config.batch_size).ok(),
    };
    for epoch in first_epoch..=config.epochs {
        let lr = learning_rate(&config, epoch);
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
        let val = if validation.is_empty() {
            EpochStats::default()
        } else {
            evaluate(&mlp, &mut validation)?
        };
        let seconds = started.elapsed().as_secs_f64();
        epochs.push(epoch_record(
            epoch,
            config.epochs,
            stats,
            val,
            lr,
            seconds,
            "val",
        ));
        let (state, mut scalars) = optimizer.state();
        scalars.insert("history".to_owned(), serde_json::to_string(&epochs)?);
        let saved = Checkpoint {
            config_json: config_json.clone(),
            epoch,
            state,
            scalars,
        };
        checkpoint::save(&last_path, &mlp, &saved)?;
        // Without a validation split, the latest model is the one kept.
        if validation.is_empty() || best.is_none_or(|(_, a)| val.accuracy > a) {
            best = Some((epoch, val.accuracy));
            checkpoint::save(&best_path, &mlp, &saved)?;
        }
    }

    // Test the best model by validation accuracy.
    let (best_epoch, _) = best.unwrap_or((config.epochs, 0.0));
    let mut best_mlp = build_mlp(&config, train_x.ncols(), classes)?;
    checkpoint::load_into(&best_path, &mut best_mlp)?;
    let mut test = BatchLoader::new(&test_x, test_y.clone(), eval_batch, false, 0)?
        .with_copier(Arc::new(BlockCopy));
    let test_stats = evaluate(&best_mlp, &mut test)?;
    let logits = best_mlp.forward(&test_x)?;
    let predicted = predict_classes(&logits);
    let evaluation = Evaluation::new(&test_y, &predicted, classes);
    println!(
        "\nTest ({} images), best model by validation accuracy (epoch {best_epoch}): loss {:.4}, accuracy {:.2}%\n\n{}\n",
        test_y.len(),
        test_stats.loss,
        100.0 * evaluation.accuracy,
        evaluation.table()
    );

    let mut files = vec![best_path, last_path];
    files.extend(crate::mnist_plots::write_all(
        &config.out,
        &data,
        &epochs,
        &evaluation,
        &predicted,
        &test_y,
    )?);
    let record_path = config.out.join("run.json");
    files.push(record_path.clone());
    let record = RunRecord {
        config: config.clone(),
        data: DataRecord {
            dir: data.dir.clone(),
            provenance: format!("{:?}", data.provenance).to_lowercase(),
            train: train.len(),
            validation: validation.len(),
            test: test_y.len(),
            mean,
            std,
        },
        epochs,
        best_epoch,
        test_loss: test_stats.loss,
        test: evaluation,
        files: files.clone(),
    };
    crate::figures::write_atomically(
        &record_path,
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    println!("Wrote to {}:", config.out.display());
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(record)
}

/// Classifies images with a saved model: an IDX file (with optional labels
/// for the accuracy) or a PNG/PGM picture of one digit.
pub fn predict(
    model: &Path,
    idx: Option<&Path>,
    labels: Option<&Path>,
    image: Option<&Path>,
) -> Result<()> {
    let bytes = fs::read(model).with_context(|| format!("reading {}", model.display()))?;
    let saved = checkpoint::read_metadata(model, &bytes)?;
    let config: TrainConfig = serde_json::from_str(&saved.config_json)
        .with_context(|| format!("{}: the saved configuration", model.display()))?;
    let mut mlp = build_mlp(&config, 784, 10)?;
    checkpoint::load_into(model, &mut mlp)?;
    let (mean, std) = mnist::STANDARD_NORMALIZATION;
    match (idx, image) {
        (Some(path), None) => {
            let images = mnist::idx::read_images(path)?;
            if images.rows * images.cols != 784 {
                bail!(
                    "{}: {} x {} images, the model takes 28 x 28",
                    path.display(),
                    images.rows,
                    images.cols
                );
            }
            let rows: Vec<usize> = (0..images.count).collect();
            let mut x = pixels(&images, &rows);
            normalize(&mut x, mean, std);
            let predicted = predict_classes(&mlp.forward(&x)?);
            let shown: Vec<String> = predicted.iter().take(20).map(|p| p.to_string()).collect();
            println!(
                "{} images; the first predictions: {}",
                images.count,
                shown.join(" ")
            );
            if let Some(labels) = labels {
                let truth: Vec<usize> = mnist::idx::read_labels(labels)?
                    .iter()
                    .map(|&l| usize::from(l))
                    .collect();
                if truth.len() != predicted.len() {
                    bail!(
                        "{}: {} labels for {} images",
                        labels.display(),
                        truth.len(),
                        predicted.len()
                    );
                }
                let e = Evaluation::new(&truth, &predicted, 10);
                println!("accuracy {:.2}%\n\n{}", 100.0 * e.accuracy, e.table());
            }
        }
        (None, Some(path)) => {
            let picture = image::open(path)
                .with_context(|| format!("reading the image {}", path.display()))?;
            let gray = picture.to_luma8();
            let gray = if gray.dimensions() == (28, 28) {
                gray
            } else {
                image::imageops::resize(&gray, 28, 28, image::imageops::FilterType::Triangle)
            };
            // MNIST digits are light on dark; a dark digit on white paper is inverted.
            let mean_pixel = gray.pixels().map(|p| f32::from(p.0[0])).sum::<f32>() / 784.0;
            let invert = mean_pixel > 127.0;
            let mut x = DMatrix::from_fn(1, 784, |_, j| {
                let v = f32::from(gray.as_raw()[j]) / 255.0;
                if invert { 1.0 - v } else { v }
            });
            normalize(&mut x, mean, std);
            let logits = mlp.forward(&x)?;
            let probabilities = reference::activations::softmax(&logits);
            let class = predict_classes(&logits)[0];
            println!(
                "{}: {class} ({:.1}%){}",
                path.display(),
                100.0 * probabilities[(0, class)],
                if invert {
                    " [inverted: dark digit on a light background]"
                } else {
                    ""
                }
            );
        }
        _ => bail!("give either --idx FILE (with optional --labels FILE) or --image FILE"),
    }
    Ok(())
}
