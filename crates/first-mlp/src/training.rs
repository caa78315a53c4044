//! The training loop both pipelines share: train an epoch (on the fast path
//! when it can run the model, else on the teaching code) behind a progress
//! bar, evaluate on the held-out set, print and record the epoch, save the
//! last and best checkpoints, and resume from a checkpoint exactly. Also the
//! optimiser (with its state in checkpoints) and the learning-rate schedule.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::ValueEnum;
use course_support::batches::BatchLoader;
use course_support::optim::{Adam, Optimizer, Sgd};
use course_support::regularise::Network;
use course_support::stats::EpochStats;
use engine::{EpochError, Trainer};
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Checkpoint, CheckpointError, ModelKind};
use crate::code::{Code, Diverged, Whose, stop_diverged};
use crate::files::{self, Earlier, OutputFolder};
use crate::regularisation;
use crate::report::EpochRecord;

/// A setting no run can train with: a flag's value out of its range, or too
/// large for the data or for the memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSetting {
    /// The flag, such as "--lr".
    pub flag: &'static str,
    /// The value given.
    pub value: String,
    /// What the value must be.
    pub expected: String,
}

impl InvalidSetting {
    pub fn new(flag: &'static str, value: impl fmt::Display, expected: impl Into<String>) -> Self {
        Self {
            flag,
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: expected {}",
            self.flag, self.value, self.expected
        )
    }
}

impl std::error::Error for InvalidSetting {}

/// A data set with nothing to train on: training would "finish" with a loss
/// of 0 and save an untrained model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoTrainingData {
    /// Which data, in words (a folder, a split).
    pub what: String,
}

impl fmt::Display for NoTrainingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: no training examples, so nothing to train on (is the data complete?)",
            self.what
        )
    }
}

impl std::error::Error for NoTrainingData {}

/// A test set with nothing in it: its "accuracy" would be a made-up 0%.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoTestData {
    /// Which data, in words (a file, a split).
    pub what: String,
}

impl fmt::Display for NoTestData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: no examples to test on, so there is no score to report (is the data complete?)",
            self.what
        )
    }
}

impl std::error::Error for NoTestData {}

/// A setting stored in a checkpoint's configuration that no run can use:
/// the checkpoint is damaged or edited, whatever flags were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingFromCheckpoint {
    pub checkpoint: PathBuf,
    /// The setting, named by its flag.
    pub setting: InvalidSetting,
}

impl fmt::Display for SettingFromCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InvalidSetting {
            flag,
            value,
            expected,
        } = &self.setting;
        write!(
            f,
            "{}: the configuration stored in this checkpoint has {flag} {value} (not a flag you \
             gave), expected {expected}: the checkpoint is damaged or was edited",
            self.checkpoint.display()
        )
    }
}

impl std::error::Error for SettingFromCheckpoint {}

/// The flags given on the command line, by their configuration field
/// (clap's argument id), as `ArgMatches::value_source` tells them: a flag
/// given with its default value counts, unlike a comparison with the
/// defaults. Empty (the default) for a configuration built in code.
pub type GivenFlags = std::collections::BTreeSet<String>;

/// Whether `field` was given: on the command line when `given` says which
/// were (`Some`), else (a configuration built in code) when its value
/// differs from the default's.
fn was_given(
    field: &str,
    given: Option<&GivenFlags>,
    value: &serde_json::Value,
    default: &serde_json::Value,
) -> bool {
    match given {
        Some(given) => given.contains(field),
        None => value != default,
    }
}

/// Flags given with `--resume` that disagree with the checkpoint's
/// settings. A resumed run continues the run it resumes, with the same
/// settings, so that it ends as an uninterrupted run would: a flag it would
/// have to ignore is refused, not silently overridden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeConflict {
    pub checkpoint: PathBuf,
    /// Each flag, the value given, and the checkpoint's value.
    pub flags: Vec<(String, String, String)>,
}

impl fmt::Display for ResumeConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags: Vec<String> = self
            .flags
            .iter()
            .map(|(flag, given, saved)| format!("{flag} {given} (the checkpoint's: {saved})"))
            .collect();
        let (verb, them) = if flags.len() == 1 {
            ("disagrees", "it")
        } else {
            ("disagree", "them")
        };
        write!(
            f,
            "--resume {}: {} {verb} with the checkpoint's settings, which a resumed run keeps \
             to continue the same training; leave {them} out, or start a new run without --resume",
            self.checkpoint.display(),
            flags.join(", ")
        )
    }
}

impl std::error::Error for ResumeConflict {}

/// Refuses the `flags` (a configuration's field and its flag) of `given`
/// that were given (named in `explicit`, from the command line; without it,
/// those that differ from `defaults`) and disagree with `saved`, the
/// configuration of the `checkpoint` resumed. A batch size larger than the
/// saved one is let through: the saved one is clamped to the training data,
/// so it may be the same batch.
pub fn check_resume_flags<T: Serialize>(
    checkpoint: &Path,
    given: &T,
    defaults: &T,
    saved: &T,
    flags: &[(&str, &str)],
    explicit: Option<&GivenFlags>,
) -> Result<()> {
    let json = |config: &T| serde_json::to_value(config).unwrap_or_default();
    let (given, defaults, saved) = (json(given), json(defaults), json(saved));
    let mut conflicts = Vec::new();
    for &(field, flag) in flags {
        let (g, s) = (&given[field], &saved[field]);
        let larger_batch = field == "batch_size" && g.as_u64() > s.as_u64();
        if was_given(field, explicit, g, &defaults[field]) && g != s && !larger_batch {
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::String(text) => text.clone(),
                // The settings are f32, which JSON carries as f64: print
                // them as the f32 they are (0.001, not 0.0010000000474974513).
                serde_json::Value::Number(n) if n.is_f64() => {
                    (n.as_f64().unwrap_or_default() as f32).to_string()
                }
                other => other.to_string(),
            };
            conflicts.push((flag.to_owned(), text(g), text(s)));
        }
    }
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(ResumeConflict {
            checkpoint: checkpoint.to_owned(),
            flags: conflicts,
        }
        .into())
    }
}

/// The configuration of a resumed run, checked: `saved`'s `validate` error
/// becomes [`SettingFromCheckpoint`], since no flag given set the value.
pub fn check_saved_settings(
    checkpoint: &Path,
    validated: Result<(), InvalidSetting>,
) -> Result<(), SettingFromCheckpoint> {
    validated.map_err(|setting| SettingFromCheckpoint {
        checkpoint: checkpoint.to_owned(),
        setting,
    })
}

/// The configuration a `--resume` continues with, before the flags that may
/// change are applied, and the epochs done: the checkpoint's own, of the
/// `kind` the command needs, its epoch within its own count, its values
/// valid, and no flag of `given` that disagrees with it. Both pipelines
/// resume through it.
pub fn read_resumed<T: Serialize + DeserializeOwned + Default>(
    path: &Path,
    kind: ModelKind,
    given: &T,
    flags: &[(&str, &str)],
    explicit: Option<&GivenFlags>,
    epochs: impl Fn(&T) -> usize,
    validate: impl Fn(&T) -> Result<(), InvalidSetting>,
) -> Result<(T, usize)> {
    let (resumed, epoch): (T, usize) = checkpoint::read_config(path, kind)?;
    checkpoint::check_resumable(path, epoch, epochs(&resumed))?;
    // Its values come from the checkpoint, not from a flag.
    check_saved_settings(path, validate(&resumed))?;
    check_resume_flags(path, given, &T::default(), &resumed, flags, explicit)?;
    Ok((resumed, epoch))
}

/// The last epoch a resumed run trains to: `epochs` when given (checked by
/// [`Progress::resume`] against the epochs done, once the checkpoint's
/// epoch is known to be consistent), else the `saved` run's own length (or
/// `done`, if past it).
pub fn resumed_epochs(epochs: usize, given: bool, done: usize, saved: usize) -> usize {
    if given { epochs } else { saved.max(done) }
}

/// The output folder of a resumed run: `out` when given, else the folder of
/// the checkpoint resumed, so the run continues beside it (not in the
/// default folder, where another run may be). A checkpoint kept in
/// `previous/` or `interrupted/` continues in the folder above, the run's
/// own (no run writes where runs are kept).
pub fn resumed_out(out: &Path, given: bool, checkpoint: &Path) -> PathBuf {
    if given {
        return out.to_owned();
    }
    let folder = folder_of(checkpoint);
    let kept = folder
        .file_name()
        .is_some_and(|name| name == files::PREVIOUS || name == files::INTERRUPTED);
    if kept { folder_of(&folder) } else { folder }
}

/// The folder a file is in ("." for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned()
}

/// Whether two folders are the same one (by their canonical paths; as
/// given when one does not exist yet).
fn same_folder(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Checks hidden layer widths: each at least 1.
pub fn check_widths(hidden: &[usize]) -> Result<(), InvalidSetting> {
    match hidden.iter().position(|&w| w == 0) {
        Some(layer) => Err(InvalidSetting::new(
            "--hidden",
            hidden
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
            format!(
                "every width at least 1, but hidden layer {} has width 0",
                layer + 1
            ),
        )),
        None => Ok(()),
    }
}

/// `path` made absolute and canonical when it exists (a checkpoint stores
/// it, and a relative one breaks a resume from another folder); else as
/// given, for the reader to say it is missing.
pub fn absolute(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

const POSITIVE: &str = "a finite number above 0";
const NON_NEGATIVE: &str = "a finite number, 0 or more";

/// `value` for `flag` if it is finite and above 0 (a learning rate).
pub fn check_positive(flag: &'static str, value: f32) -> Result<f32, InvalidSetting> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(InvalidSetting::new(flag, value, POSITIVE))
    }
}

/// `value` for `flag` if it is finite and not negative (a weight decay).
pub fn check_non_negative(flag: &'static str, value: f32) -> Result<f32, InvalidSetting> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(InvalidSetting::new(flag, value, NON_NEGATIVE))
    }
}

/// The most epochs a run may train: far more than any run needs, and a
/// bound on a typo (or 2^64 - 1) that would otherwise train forever.
pub const MAX_EPOCHS: usize = 100_000;

/// `value` for --epochs if it is from 1 to [`MAX_EPOCHS`].
pub fn check_epochs(value: usize) -> Result<usize, InvalidSetting> {
    if (1..=MAX_EPOCHS).contains(&value) {
        Ok(value)
    } else {
        Err(InvalidSetting::new(
            "--epochs",
            value,
            format!("from 1 to {MAX_EPOCHS}"),
        ))
    }
}

/// `value` for `flag` if it is at least 1 (epochs, a batch size).
pub fn check_at_least_one(flag: &'static str, value: usize) -> Result<usize, InvalidSetting> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(InvalidSetting::new(flag, value, "at least 1"))
    }
}

/// The most memory a run's network may take, in bytes: its parameters with
/// their gradients and Adam's two moments, and a batch's activations.
pub const MEMORY_LIMIT: u64 = 4 << 30;

/// Checks that a network of `widths` trained in batches of `batch` fits in
/// [`MEMORY_LIMIT`], with checked arithmetic (the sizes come from flags and
/// files), before anything is allocated.
pub fn check_memory(widths: &[usize], batch: usize) -> Result<(), InvalidSetting> {
    let too_large = |flag, value: String| {
        InvalidSetting::new(
            flag,
            value,
            format!(
                "a network that fits in {} GiB (parameters, gradients, Adam's moments and a \
                 batch's activations, 4 bytes each)",
                MEMORY_LIMIT >> 30
            ),
        )
    };
    let hidden = || format!("{widths:?} (the layers' widths)");
    let mut parameters = 0u64;
    let mut units = 0u64;
    for pair in widths.windows(2) {
        let (inputs, outputs) = (pair[0] as u64, pair[1] as u64);
        parameters = inputs
            .checked_add(1)
            .and_then(|i| i.checked_mul(outputs))
            .and_then(|p| p.checked_add(parameters))
            .ok_or_else(|| too_large("--hidden", hidden()))?;
        units = units.saturating_add(inputs).saturating_add(outputs);
    }
    // Weights, gradients and two moments.
    if parameters.saturating_mul(16) > MEMORY_LIMIT {
        return Err(too_large("--hidden", hidden()));
    }
    // Each layer's input, pre-activation and gradient, for every example.
    let activations = units.saturating_mul(batch as u64).saturating_mul(12);
    if parameters.saturating_mul(16).saturating_add(activations) > MEMORY_LIMIT {
        return Err(too_large("--batch-size", batch.to_string()));
    }
    Ok(())
}

/// The command line's parser of a value that must be finite and above 0,
/// so that a bad flag fails before any data is read.
pub fn parse_positive(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{value}: expected {POSITIVE}"))
    }
}

/// The command line's parser of a value that must be finite and not negative.
pub fn parse_non_negative(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{value}: expected {NON_NEGATIVE}"))
    }
}

const DROPOUT: &str = "a rate in [0, 1)";

/// `value` for --dropout if it is a rate in [0, 1).
pub fn check_dropout(value: f32) -> Result<f32, InvalidSetting> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(InvalidSetting::new("--dropout", value, DROPOUT))
    }
}

/// With batch normalisation, `batch` for --batch-size if it is at least 2:
/// a batch's variance needs two examples.
pub fn check_batch_norm_batch(batch_norm: bool, batch: usize) -> Result<(), InvalidSetting> {
    if batch_norm && batch < 2 {
        Err(InvalidSetting::new(
            "--batch-size",
            batch,
            "at least 2 with --batch-norm (a batch's variance needs two examples)",
        ))
    } else {
        Ok(())
    }
}

/// The command line's parser of --dropout.
pub fn parse_dropout(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    check_dropout(value).map_err(|_| format!("{value}: expected {DROPOUT}"))
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

impl Schedule {
    /// The rate of `epoch` (1-based) out of `epochs`, starting from `base`.
    pub fn rate(self, base: f32, epoch: usize, epochs: usize) -> f32 {
        let progress = (epoch - 1) as f32 / epochs.max(1) as f32;
        match self {
            Self::Constant => base,
            Self::Cosine => 0.5 * base * (1.0 + (std::f32::consts::PI * progress).cos()),
            Self::Step => {
                let drops = (progress >= 0.5) as i32 + (progress >= 0.75) as i32;
                base * 0.1f32.powi(drops)
            }
        }
    }
}

/// An optimiser's tensors (moments, velocities) and scalars (step count).
type OptimizerState = (Vec<(String, Vec<f32>)>, HashMap<String, String>);

/// `kind` at rate `lr`; the weight decay is L2 for SGD and Adam, decoupled
/// for AdamW.
pub fn new_optimizer(kind: OptimizerArg, lr: f32, weight_decay: f32) -> Optimizer {
    match kind {
        OptimizerArg::Sgd => Optimizer::Sgd(Sgd {
            weight_decay,
            ..Sgd::new(lr)
        }),
        OptimizerArg::Momentum | OptimizerArg::Nesterov => Optimizer::Sgd(Sgd {
            weight_decay,
            ..Sgd::with_momentum(lr, 0.9, kind == OptimizerArg::Nesterov)
        }),
        OptimizerArg::Adam => Optimizer::Adam(Adam {
            weight_decay,
            ..Adam::new(lr)
        }),
        OptimizerArg::Adamw => Optimizer::Adam(Adam::adamw(lr, weight_decay)),
    }
}

/// The optimiser's state, as a checkpoint saves it.
fn optimizer_state(optimizer: &Optimizer) -> OptimizerState {
    let named = |prefix: &str, tensors: &[Vec<f32>]| {
        tensors
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("optimizer.{prefix}.{i:03}"), t.clone()))
            .collect::<Vec<_>>()
    };
    match optimizer {
        Optimizer::Sgd(o) => (named("velocity", &o.velocity), HashMap::new()),
        Optimizer::Adam(o) => {
            let mut state = named("m", &o.first_moment);
            state.extend(named("v", &o.second_moment));
            (
                state,
                HashMap::from([("optimizer.steps".to_owned(), o.steps.to_string())]),
            )
        }
    }
}

/// Checks a checkpoint's optimiser state against the model's parameter
/// `sizes` before it is used: each kind of tensor (velocity, first or second
/// moment) absent or one per parameter tensor of its size, finite, and the
/// second moments not negative. Unchecked, a NaN would surface epochs later
/// as "learning rate too high", and a wrong size as a panic.
fn check_optimizer_state(path: &Path, checkpoint: &Checkpoint, sizes: &[usize]) -> Result<()> {
    let bad = |tensor: &str, problem: String| CheckpointError::BadOptimizerState {
        path: path.to_owned(),
        tensor: tensor.to_owned(),
        problem,
    };
    for prefix in ["velocity", "m", "v"] {
        let start = format!("optimizer.{prefix}.");
        let tensors: Vec<&(String, Vec<f32>)> = checkpoint
            .state
            .iter()
            .filter(|(name, _)| name.starts_with(&start))
            .collect();
        if !tensors.is_empty() && tensors.len() != sizes.len() {
            return Err(bad(
                &format!("{start}*"),
                format!(
                    "has {} tensors for the model's {}",
                    tensors.len(),
                    sizes.len()
                ),
            )
            .into());
        }
        for ((name, values), &size) in tensors.into_iter().zip(sizes) {
            if values.len() != size {
                return Err(bad(
                    name,
                    format!("holds {} values for a parameter of {size}", values.len()),
                )
                .into());
            }
            if values.iter().any(|v| !v.is_finite()) {
                return Err(bad(name, "holds NaN or infinite values".to_owned()).into());
            }
            if prefix == "v" && values.iter().any(|&v| v < 0.0) {
                return Err(bad(
                    name,
                    "holds negative second moments (squares cannot be)".to_owned(),
                )
                .into());
            }
        }
    }
    Ok(())
}

/// The most steps Adam's state may have taken: its bias corrections raise
/// β to the step count as an `i32` (`powi`).
pub const MAX_ADAM_STEPS: u32 = i32::MAX as u32;

/// The step count of Adam's state in a checkpoint of `epoch` epochs,
/// checked: a whole number written as the checkpoint writes it (decimal, no
/// sign, no leading zero), at most [`MAX_ADAM_STEPS`], and consistent with
/// the state: at least one step per epoch done when there are moments, and
/// none without. The number of steps an epoch takes is not known for sure
/// here (a resumed run may be given other data), so no more is checked.
/// Silently read as 0 before, it gave other weights with exit 0.
fn adam_steps(path: &Path, checkpoint: &Checkpoint) -> Result<u32, CheckpointError> {
    let bad = |problem: String| CheckpointError::BadOptimizerState {
        path: path.to_owned(),
        tensor: "optimizer.steps".to_owned(),
        problem,
    };
    let text = checkpoint
        .scalars
        .get("optimizer.steps")
        .ok_or_else(|| bad("is missing from its metadata".to_owned()))?;
    let steps = checkpoint::whole_number(text)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n <= MAX_ADAM_STEPS)
        .ok_or_else(|| {
            bad(format!(
                "is {text:?}, not a whole number from 0 to {MAX_ADAM_STEPS}"
            ))
        })?;
    let moments = checkpoint
        .state
        .iter()
        .any(|(name, _)| name.starts_with("optimizer.m."));
    if moments && (steps as usize) < checkpoint.epoch.max(1) {
        return Err(bad(format!(
            "is {steps}, fewer than the {} epoch(s) done (each takes at least one step)",
            checkpoint.epoch
        )));
    }
    if !moments && steps != 0 {
        return Err(bad(format!(
            "is {steps}, but the checkpoint holds no moments (none after a step)"
        )));
    }
    Ok(steps)
}

/// Puts a checkpoint's optimiser state back into `optimizer`, with Adam's
/// step count checked by [`adam_steps`].
fn restore_optimizer(
    optimizer: &mut Optimizer,
    path: &Path,
    checkpoint: &Checkpoint,
) -> Result<(), CheckpointError> {
    let take = |prefix: &str| -> Vec<Vec<f32>> {
        checkpoint
            .state
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("optimizer.{prefix}.")))
            .map(|(_, values)| values.clone())
            .collect()
    };
    match optimizer {
        Optimizer::Sgd(o) => o.velocity = take("velocity"),
        Optimizer::Adam(o) => {
            o.steps = adam_steps(path, checkpoint)?;
            o.first_moment = take("m");
            o.second_moment = take("v");
        }
    }
    Ok(())
}

/// Where a run starts: from scratch, or after the epochs of a checkpoint.
#[derive(Debug, Default)]
pub struct Progress {
    /// The epochs already trained, as recorded.
    pub epochs: Vec<EpochRecord>,
    /// The checkpoint the run continues from.
    pub resumed_from: Option<PathBuf>,
    /// The last epoch the checkpoint completed (0 from scratch).
    pub done: usize,
}

impl Progress {
    /// Loads a checkpoint's tensors into `network` (same architecture) and its
    /// state into `optimizer`, and reads back the epochs it records. A run
    /// to `last_epoch` cannot resume from a later epoch: refused, rather than
    /// train nothing and report success.
    pub fn resume(
        path: &Path,
        network: &mut Network,
        optimizer: &mut Optimizer,
        last_epoch: usize,
    ) -> Result<Self> {
        let saved = checkpoint::load_into(path, network)?;
        // Every checkpoint records one line per epoch done: an epoch that
        // disagrees with its history would replay that many shuffles (or
        // wrap around `epoch + 1`), so it is refused.
        let epochs: Vec<EpochRecord> = saved
            .scalars
            .get("history")
            .and_then(|h| serde_json::from_str(h).ok())
            .unwrap_or_default();
        let numbered = epochs.iter().enumerate().all(|(i, e)| e.epoch == i + 1);
        if epochs.len() != saved.epoch || !numbered {
            return Err(CheckpointError::EpochOutOfRange {
                path: path.to_owned(),
                epoch: saved.epoch,
                limit: epochs.len(),
            }
            .into());
        }
        if last_epoch < saved.epoch {
            return Err(InvalidSetting::new(
                "--epochs",
                last_epoch,
                format!(
                    "at least the {} epochs {} has already trained",
                    saved.epoch,
                    path.display()
                ),
            )
            .into());
        }
        let sizes: Vec<usize> = network
            .parameters()
            .iter()
            .map(|p| p.values.len())
            .collect();
        check_optimizer_state(path, &saved, &sizes)?;
        restore_optimizer(optimizer, path, &saved)?;
        println!(
            "Resuming from {} after epoch {}",
            path.display(),
            saved.epoch
        );
        Ok(Self {
            epochs,
            resumed_from: Some(path.to_owned()),
            done: saved.epoch,
        })
    }
}

/// The epoch whose model a run keeps (in best.safetensors).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kept {
    /// The most accurate on the held-out set (the first such, on a tie).
    Best { epoch: usize, accuracy: f32 },
    /// The last one trained, when nothing was held out to choose by.
    Last { epoch: usize },
}

impl Kept {
    /// The epoch of the kept model.
    pub fn epoch(self) -> usize {
        match self {
            Self::Best { epoch, .. } | Self::Last { epoch } => epoch,
        }
    }
}

/// The model to keep among the `held_out` figures of the epochs so far
/// (epoch numbers and figures), by `code`'s stage 5 `best_epoch`.
fn best_of(code: &Code, held_out: &[(usize, EpochStats)]) -> Result<Option<Kept>> {
    let figures: Vec<EpochStats> = held_out.iter().map(|&(_, stats)| stats).collect();
    let Some(position) = code.run("choosing the best epoch", || (code.best_epoch)(&figures))?
    else {
        return Ok(None);
    };
    let Some(&(epoch, stats)) = held_out.get(position) else {
        bail!(
            "best_epoch chose position {position} among {} epochs; expected a position below {} \
             (`cargo test -p stage-5`)",
            held_out.len(),
            held_out.len()
        );
    };
    Ok(Some(Kept::Best {
        epoch,
        accuracy: stats.accuracy,
    }))
}

/// What a run is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The run asked for.
    Main,
    /// The reference's run of the same configuration, to compare a run of
    /// yours with.
    Comparison,
}

/// How to train, besides the model, the optimiser and the data.
pub struct FitSettings<'a> {
    /// The last epoch to train (1-based).
    pub epochs: usize,
    /// The learning rate the schedule starts from.
    pub lr: f32,
    pub schedule: Schedule,
    /// The training loader's batch size (the fast path is built for it).
    pub batch_size: usize,
    /// Whose stages train and evaluate: the reference (on the fast path
    /// where it can run the model, unless `teaching`) or yours.
    pub code: Code,
    /// Train with the teaching code even where the fast path could run.
    pub teaching: bool,
    /// No progress bar.
    pub quiet: bool,
    /// The run asked for, or the reference's run to compare yours with
    /// (which shows only its progress bar).
    pub role: Role,
    /// The held-out set's name in the epoch lines ("val", "dev").
    pub held_out: &'a str,
    /// Where last.safetensors and best.safetensors go (created if missing).
    pub out: &'a Path,
    /// The run's configuration, saved in every checkpoint.
    pub config_json: String,
    /// More metadata for every checkpoint: what predicting needs besides
    /// the configuration (the normalisation's statistics, say).
    pub metadata: Vec<(String, String)>,
    /// The run's seed: dropout's masks of each epoch are drawn from it
    /// ([`regularisation::dropout_rng`]).
    pub seed: u64,
    /// Called with each epoch's number before it trains (the distorted
    /// digits draw that epoch's distortions, the speech frames its warps).
    pub before_epoch: Option<&'a (dyn Fn(usize) -> Result<()> + Sync)>,
}

/// The running training loss after each batch of an epoch, as the training
/// loop reports it: what a run of yours is compared with step by step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLosses {
    pub epoch: usize,
    pub losses: Vec<f32>,
}

/// What training left: every epoch's record and the checkpoints.
pub struct Fitted {
    pub epochs: Vec<EpochRecord>,
    /// The step losses of the epochs trained in this run (not those of the
    /// checkpoint it resumed from).
    pub steps: Vec<StepLosses>,
    pub kept: Kept,
    /// The kept model.
    pub best_path: PathBuf,
    /// The model after the last epoch, with the optimiser's state.
    pub last_path: PathBuf,
    /// The number of training examples an epoch visits.
    pub train_examples: usize,
    /// The output folder, held against other runs until the run's record
    /// is written (when this is dropped).
    _folder: OutputFolder,
}

/// Whether the checkpoint at `path` holds the model of `epoch` of the run
/// whose epochs are `history`: its epoch is `epoch` and it records the first
/// `epoch` of them (the same run, not another one's file of the same name).
/// False for a missing or unreadable file.
fn holds_epoch(path: &Path, epoch: usize, history: &[EpochRecord]) -> bool {
    let Ok(bytes) = files::read_regular(path) else {
        return false;
    };
    let Ok(saved) = checkpoint::read_metadata(path, &bytes) else {
        return false;
    };
    let recorded: Option<Vec<EpochRecord>> = saved
        .scalars
        .get("history")
        .and_then(|h| serde_json::from_str(h).ok());
    match (recorded, history.get(..epoch)) {
        (Some(recorded), Some(history)) => {
            saved.epoch == epoch
                && recorded.len() == epoch
                && recorded.iter().zip(history).all(|(a, b)| same_epoch(a, b))
        }
        _ => false,
    }
}

/// Whether two records are of the same epoch of the same run. serde_json
/// may parse a float an ulp away from the one it wrote, so the figures are
/// compared to a millionth; the seconds alone tell two runs apart.
fn same_epoch(a: &EpochRecord, b: &EpochRecord) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-6 * x.abs().max(y.abs());
    let close_32 = |x: Option<f32>, y: Option<f32>| match (x, y) {
        (Some(x), Some(y)) => close(x.into(), y.into()),
        (x, y) => x.is_none() && y.is_none(),
    };
    a.epoch == b.epoch
        && close(a.train_loss.into(), b.train_loss.into())
        && close(a.train_accuracy.into(), b.train_accuracy.into())
        && close_32(a.validation_loss, b.validation_loss)
        && close_32(a.validation_accuracy, b.validation_accuracy)
        && close(a.learning_rate.into(), b.learning_rate.into())
        && close(a.seconds, b.seconds)
}

/// Makes `best_path` hold the model of `epoch` of a run resumed `from` a
/// checkpoint with `history`: already there, or copied from the
/// best.safetensors beside `from` (a run resumed into another folder) or
/// from `from` itself (the best epoch was the last one, and best's write
/// was killed). False when none of them holds it.
fn recover_kept(
    from: &Path,
    best_path: &Path,
    epoch: usize,
    history: &[EpochRecord],
) -> Result<bool> {
    if holds_epoch(best_path, epoch, history) {
        return Ok(true);
    }
    let beside = from.with_file_name("best.safetensors");
    for source in [beside.as_path(), from] {
        if holds_epoch(source, epoch, history) {
            if source == from || best_path.exists() {
                println!(
                    "Note: {} is missing or holds another epoch; the best model so far \
                     (epoch {epoch}) is copied there from {}.",
                    best_path.display(),
                    source.display()
                );
            }
            checkpoint::copy(source, best_path)?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// Trains `network` from `progress` to `settings.epochs`, checkpointing
/// every epoch. With a `validation` set (not empty) the kept model is the
/// best by its accuracy; without one, the last. Evaluation runs the network
/// in evaluation mode, as the plain MLP it folds into.
pub fn fit(
    settings: &FitSettings<'_>,
    network: &mut Network,
    optimizer: &mut Optimizer,
    train: &mut BatchLoader,
    mut validation: Option<&mut BatchLoader>,
    progress: Progress,
) -> Result<Fitted> {
    if train.is_empty() {
        return Err(NoTrainingData {
            what: "the training split".to_owned(),
        }
        .into());
    }
    // Before any training: a folder that cannot be written fails now, not
    // after an epoch.
    // A fresh run sets an earlier run there aside, and so does a resumed
    // one writing into another folder than its checkpoint's (which would
    // otherwise overwrite that folder's run); a run resumed in its own
    // folder continues it.
    let earlier = match (&progress.resumed_from, settings.role) {
        (_, Role::Comparison) => Earlier::Keep,
        (None, Role::Main) => Earlier::SetAside { resumed: None },
        (Some(from), Role::Main) if same_folder(&folder_of(from), settings.out) => Earlier::Keep,
        (Some(from), Role::Main) => Earlier::SetAside {
            resumed: Some(from),
        },
    };
    let folder = OutputFolder::prepare(settings.out, earlier)?;
    let best_path = folder.path().join("best.safetensors");
    let last_path = folder.path().join("last.safetensors");
    // Replay the shuffles of the epochs already done, so a resumed run sees
    // exactly the batches an uninterrupted one would.
    settings.code.run("replaying the epochs' shuffles", || {
        for _ in 0..progress.done {
            train.start_epoch();
        }
    })?;
    validation = validation.filter(|v| !v.is_empty());
    // The held-out figures of every epoch so far, to choose the best by.
    let mut held_out_so_far: Vec<(usize, EpochStats)> = progress
        .epochs
        .iter()
        .filter_map(|e| e.held_out().map(|stats| (e.epoch, stats)))
        .collect();
    let mut best = match validation {
        Some(_) => best_of(&settings.code, &held_out_so_far)?,
        None => None,
    };
    if let Some(from) = &progress.resumed_from {
        // The model kept so far: the best recorded epoch's or, with nothing
        // held out, the resumed one's.
        let kept = match validation {
            Some(_) => best,
            None => (progress.done > 0).then_some(Kept::Last {
                epoch: progress.done,
            }),
        };
        if let Some(kept) = kept
            && !recover_kept(from, &best_path, kept.epoch(), &progress.epochs)?
        {
            // Its model is in no checkpoint (best.safetensors lost, or
            // killed in its first write): the kept model is chosen among
            // the epochs whose models exist, the resumed one's and later.
            println!(
                "Note: the model of epoch {} (the best so far) is in no checkpoint: {} is \
                 missing or holds another epoch. The best model is chosen from epoch {} on, \
                 starting with {}.",
                kept.epoch(),
                best_path.display(),
                progress.done,
                from.display()
            );
            held_out_so_far.retain(|&(epoch, _)| epoch >= progress.done);
            if validation.is_some() {
                best = best_of(&settings.code, &held_out_so_far)?;
            }
            checkpoint::copy(from, &best_path)?;
        }
    }
    let mut epochs = progress.epochs;
    let mut steps = Vec::new();
    let mut fast = if settings.teaching || settings.code.whose == Whose::Yours {
        None
    } else if !network.batch_norms.is_empty() {
        if settings.role == Role::Main {
            println!(
                "Note: the fast path has no batch normalisation, so this run trains on the \
                 teaching code (stage 7's train_step), about 3 to 4 times slower per epoch."
            );
        }
        None
    } else {
        Trainer::new(&network.mlp, settings.batch_size)
            .and_then(|trainer| trainer.with_dropout(network.dropout))
            .ok()
    };
    let first = progress.done.checked_add(1).ok_or_else(|| {
        anyhow::anyhow!(
            "resuming after epoch {}: no epoch comes after it",
            progress.done
        )
    })?;
    for epoch in first..=settings.epochs {
        let lr = settings.schedule.rate(settings.lr, epoch, settings.epochs);
        optimizer.set_learning_rate(lr);
        let started = Instant::now();
        if let Some(before_epoch) = settings.before_epoch {
            before_epoch(epoch)?;
        }
        let (stats, losses) = settings.code.call(&format!("training epoch {epoch}"), || {
            train_epoch_with_bar(network, optimizer, fast.as_mut(), train, epoch, settings)
        })?;
        // A finite loss does not make finite weights (the last step's update
        // may overflow): no non-finite model is evaluated or saved.
        if let Some(tensor) = checkpoint::first_non_finite(network) {
            return Err(Diverged {
                whose: settings.code.whose,
                epoch,
                step: losses.len(),
                loss: stats.loss,
                parameter: Some(tensor),
                learning_rate: lr,
            }
            .into());
        }
        steps.push(StepLosses { epoch, losses });
        let held_out = match validation.as_deref_mut() {
            Some(loader) => {
                let folded = (!network.is_plain()).then(|| network.to_evaluation_mlp());
                let evaluated = folded.as_ref().unwrap_or(&network.mlp);
                Some(
                    settings
                        .code
                        .call(&format!("evaluating epoch {epoch}"), || {
                            (settings.code.evaluate)(evaluated, loader)
                        })?,
                )
            }
            None => None,
        };
        let record = EpochRecord::new(epoch, stats, held_out, lr, started.elapsed().as_secs_f64());
        if settings.role == Role::Main {
            println!("{}", record.line(settings.epochs, settings.held_out));
        }
        epochs.push(record);
        let saved = checkpoint_of(settings, optimizer, epoch, &epochs)?;
        checkpoint::save(&last_path, network, &saved)?;
        let now = match held_out {
            Some(stats) => {
                held_out_so_far.push((epoch, stats));
                best_of(&settings.code, &held_out_so_far)?
            }
            None => Some(Kept::Last { epoch }),
        };
        if now.is_some_and(|kept| kept.epoch() == epoch) {
            checkpoint::save(&best_path, network, &saved)?;
        }
        best = now.or(best);
    }
    let last_epoch = epochs.last().map_or(settings.epochs, |e| e.epoch);
    let kept = best.unwrap_or(Kept::Last { epoch: last_epoch });
    // What is tested and reported as kept must be what best.safetensors
    // holds, never another epoch's (or another run's) model.
    if !holds_epoch(&best_path, kept.epoch(), &epochs) {
        if holds_epoch(&last_path, kept.epoch(), &epochs) {
            checkpoint::copy(&last_path, &best_path)?;
        } else {
            bail!(
                "{}: expected the model of epoch {} (the kept one), which no checkpoint of this \
                 run holds",
                best_path.display(),
                kept.epoch()
            );
        }
    }
    Ok(Fitted {
        epochs,
        steps,
        kept,
        best_path,
        last_path,
        train_examples: train.len(),
        _folder: folder,
    })
}

/// The checkpoint of `epoch`: the configuration, the optimiser's state and
/// the epochs so far (from which a resumed run recovers its best).
fn checkpoint_of(
    settings: &FitSettings<'_>,
    optimizer: &Optimizer,
    epoch: usize,
    epochs: &[EpochRecord],
) -> Result<Checkpoint> {
    let (state, mut scalars) = optimizer_state(optimizer);
    scalars.extend(settings.metadata.iter().cloned());
    scalars.insert("history".to_owned(), serde_json::to_string(epochs)?);
    Ok(Checkpoint {
        config_json: settings.config_json.clone(),
        epoch,
        state,
        scalars,
    })
}

/// One epoch behind a progress bar (hidden when quiet) showing the running
/// loss and accuracy: on the fast path when there is one (`fast`, with Adam
/// or AdamW), else with stage 5's `train_epoch` of `settings.code`, or
/// stage 7's `train_step` for a network with dropout or batch
/// normalisation. Stops with [`Diverged`] after the first batch whose
/// (running) loss is not finite.
/// Returns the epoch's figures and the running loss after each batch.
fn train_epoch_with_bar(
    network: &mut Network,
    optimizer: &mut Optimizer,
    fast: Option<&mut Trainer>,
    loader: &mut BatchLoader,
    epoch: usize,
    settings: &FitSettings<'_>,
) -> Result<(EpochStats, Vec<f32>)> {
    let bar = if settings.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(loader.batches_per_epoch() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>4}/{len} {msg} {elapsed_precise}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let label = match settings.role {
        Role::Main => "epoch",
        Role::Comparison => "reference epoch",
    };
    bar.set_prefix(format!("{label} {epoch:>3}"));
    let (whose, learning_rate) = (settings.code.whose, optimizer.learning_rate());
    let mut losses = Vec::with_capacity(loader.batches_per_epoch());
    let mut on_batch = |s: &EpochStats| {
        losses.push(s.loss);
        if !s.loss.is_finite() {
            bar.abandon();
            stop_diverged(Diverged {
                whose,
                epoch,
                step: losses.len(),
                loss: s.loss,
                parameter: None,
                learning_rate,
            });
        }
        bar.inc(1);
        bar.set_message(format!(
            "loss {:.4} acc {:>6.2}%",
            s.loss,
            100.0 * s.accuracy
        ));
    };
    let mut masks = regularisation::dropout_rng(settings.seed, epoch);
    let stats = match (fast, optimizer) {
        (Some(trainer), Optimizer::Adam(adam)) => {
            let rng = (network.dropout > 0.0).then_some(&mut masks);
            match engine::train_epoch_with(
                trainer,
                &mut network.mlp,
                adam,
                loader,
                rng,
                &mut on_batch,
            ) {
                Ok(stats) => stats,
                Err(EpochError::NonFiniteLoss { step, loss }) => {
                    bar.abandon();
                    return Err(Diverged {
                        whose,
                        epoch,
                        step,
                        loss,
                        parameter: None,
                        learning_rate,
                    }
                    .into());
                }
                Err(EpochError::Shape(error)) => return Err(error.into()),
            }
        }
        (_, optimizer) if network.is_plain() => {
            (settings.code.train_epoch)(&mut network.mlp, optimizer, loader, &mut on_batch)?
        }
        (_, optimizer) => regularisation::train_epoch(
            settings.code.regularised_step,
            network,
            optimizer,
            loader,
            &mut masks,
            &mut on_batch,
        )?,
    };
    bar.finish_and_clear();
    Ok((stats, losses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_read_back_an_ulp_away_is_the_same_epoch() {
        let stats = EpochStats {
            loss: 0.25,
            accuracy: 0.5,
            examples: 10,
        };
        let a = EpochRecord::new(1, stats, Some(stats), 1e-3, 0.123_456_789);
        let b = EpochRecord {
            seconds: a.seconds.next_up(),
            ..a.clone()
        };
        assert!(same_epoch(&a, &b));
        // Another run's epoch (other timings, other figures) is not.
        assert!(!same_epoch(
            &a,
            &EpochRecord {
                seconds: 0.2,
                ..a.clone()
            }
        ));
        assert!(!same_epoch(
            &a,
            &EpochRecord {
                validation_accuracy: None,
                ..a.clone()
            }
        ));
    }

    #[test]
    fn the_best_epoch_is_the_first_most_accurate() {
        let held_out: Vec<(usize, EpochStats)> = [0.5, 0.7, 0.7, 0.6]
            .iter()
            .enumerate()
            .map(|(i, &accuracy)| {
                let stats = EpochStats {
                    loss: 1.0,
                    accuracy,
                    examples: 10,
                };
                (i + 3, stats)
            })
            .collect();
        assert_eq!(
            best_of(&Code::REFERENCE, &held_out).unwrap(),
            Some(Kept::Best {
                epoch: 4,
                accuracy: 0.7
            })
        );
        assert_eq!(best_of(&Code::REFERENCE, &[]).unwrap(), None);
    }

    #[test]
    fn schedules_follow_their_shapes() {
        assert_eq!(Schedule::Constant.rate(0.1, 7, 10), 0.1);
        assert_eq!(Schedule::Cosine.rate(0.1, 1, 10), 0.1);
        assert!((Schedule::Cosine.rate(0.1, 6, 10) - 0.05).abs() < 1e-7);
        assert_eq!(Schedule::Step.rate(1.0, 5, 10), 1.0);
        assert!((Schedule::Step.rate(1.0, 6, 10) - 0.1).abs() < 1e-7);
        assert!((Schedule::Step.rate(1.0, 9, 10) - 0.01).abs() < 1e-7);
    }
}
