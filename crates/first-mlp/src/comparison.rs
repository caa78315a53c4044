//! Your run against the reference's: the same configuration and seed trained
//! by the reference's teaching code, read back from a cache beside your
//! output (or trained once to fill it), compared step by step. Says whether
//! the two runs are the same, where they first part, whether yours fell far
//! from the reference, and which stage to look at first.

use std::fmt::{self, Write as _};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::files::write_atomically;
use crate::report::EpochRecord;
use crate::training::StepLosses;

/// Losses closer than this (relative) count as the same: a correct
/// implementation that adds in another order differs by about 1e-7 at
/// first, and the gap grows slowly from there.
const SAME: f32 = 1e-4;
/// A first difference at least this large (relative) did not grow out of
/// rounding: a mistake makes the losses jump apart at once.
const NOT_ROUNDING: f32 = 1e-3;
/// A running loss further than this fraction of the reference's, plus
/// [`FAR_ABSOLUTE`], from the reference's is far from it: two correct runs
/// that round differently stay within a few per cent.
const FAR_RELATIVE: f32 = 0.1;
const FAR_ABSOLUTE: f32 = 0.02;
/// An accuracy further than this (a fraction, so 2 points) from the
/// reference's is far from it.
const FAR_ACCURACY: f32 = 0.02;

/// What a run measured, as compared: every epoch, every step's running
/// training loss, the kept epoch and the test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    pub epochs: Vec<EpochRecord>,
    pub steps: Vec<StepLosses>,
    /// The epoch of the model tested.
    pub kept_epoch: usize,
    /// The test set's loss, where the pipeline measures it.
    pub test_loss: Option<f32>,
    /// The test set's accuracy, where it has labels.
    pub test_accuracy: Option<f32>,
}

/// The reference's run as cached: what it was run for, and what it measured.
#[derive(Serialize, Deserialize)]
struct Cached {
    key: serde_json::Value,
    figures: RunFigures,
}

/// Where the reference's run for comparison lives: `reference/` in your
/// run's output folder (its checkpoints, and `run.json`).
pub fn reference_dir(out: &Path) -> PathBuf {
    out.join("reference")
}

/// The reference's run of `config` on `data` (with the course's version,
/// everything that decides its result): read back from `reference_dir(out)`
/// when it was run for the same, else trained by `train` (which writes its
/// checkpoints into that folder) and cached there.
pub fn reference_run(
    out: &Path,
    config: &impl Serialize,
    data: &impl Serialize,
    train: impl FnOnce(&Path) -> Result<RunFigures>,
) -> Result<RunFigures> {
    let key = serde_json::json!({
        "course": env!("CARGO_PKG_VERSION"),
        "config": config,
        "data": data,
    });
    let dir = reference_dir(out);
    let path = dir.join("run.json");
    let cached = crate::files::read_regular(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
        .filter(|cached| cached.key == key);
    if let Some(cached) = cached {
        println!(
            "\nThe reference's run with the same configuration and seed: read back from {}",
            path.display()
        );
        return Ok(cached.figures);
    }
    println!(
        "\nTraining the reference's teaching code with the same configuration and seed, to \
         compare (kept in {} for later runs with the same configuration and data)",
        dir.display()
    );
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let figures = train(&dir)?;
    let cached = Cached { key, figures };
    write_atomically(&path, serde_json::to_string_pretty(&cached)?.as_bytes())?;
    Ok(cached.figures)
}

/// The reference's run, or none when it failed (with these flags it may
/// diverge where yours did not): your run is complete without it, so a
/// failure here is a note, not an error.
pub fn unless_failed(run: Result<RunFigures>) -> Option<RunFigures> {
    match run {
        Ok(figures) => Some(figures),
        Err(error) => {
            eprintln!("\nNot compared with the reference: its run failed: {error:#}");
            None
        }
    }
}

/// Compares your run with the reference's (when there is one) and prints
/// the table and the verdict; `held_out` names the validation set,
/// `inputs_stage` is your stage that makes the inputs, if any, and
/// `data_differs` what [`data_differences`] found.
pub fn print_beside(
    yours: &RunFigures,
    reference: Option<&RunFigures>,
    held_out: &str,
    inputs_stage: Option<u8>,
    data_differs: Vec<String>,
) -> Option<Comparison> {
    let reference = reference?;
    let comparison = Comparison {
        inputs_stage,
        data_differs,
        ..Comparison::new(yours, reference)
    };
    println!(
        "\nYours against the reference (same configuration and seed):\n\n{}\n\n{comparison}\n",
        Comparison::table(yours, reference, held_out)
    );
    Some(comparison)
}

/// A step at which the two runs' running training losses differ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepGap {
    pub epoch: usize,
    /// 1-based, within the epoch.
    pub step: usize,
    pub yours: f32,
    pub reference: f32,
}

impl StepGap {
    fn relative(&self) -> f32 {
        relative_gap(self.yours, self.reference)
    }
}

/// A figure measured on a held-out set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    Loss,
    Accuracy,
}

/// Where your run is first far from the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Far {
    /// An epoch in which your loop took another number of steps.
    Steps {
        epoch: usize,
        yours: usize,
        reference: usize,
    },
    /// The running training loss, at a step.
    Training(StepGap),
    /// A held-out figure at the end of an epoch.
    Validation {
        epoch: usize,
        measure: Measure,
        yours: f32,
        reference: f32,
    },
    /// A figure of the kept model on the test set.
    Test {
        measure: Measure,
        yours: f32,
        reference: f32,
    },
}

/// The stage to look at first, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookFirst {
    /// Your loop took another number of steps than the reference's.
    Loop,
    /// The first batch's loss differs, before any update.
    ForwardOrLoss,
    /// The first batch agrees and a later one does not: the updates differ.
    Update,
    /// Training agrees step for step, evaluation does not.
    Evaluation,
}

/// Your run against the reference's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Every step, epoch and test figure equal, bit for bit.
    pub identical: bool,
    /// Every step's running loss equal, bit for bit.
    pub training_identical: bool,
    /// The steps both runs trained.
    pub steps_compared: usize,
    /// The first step whose losses differ by more than rounding's first
    /// steps explain.
    pub first_difference: Option<StepGap>,
    /// Where your run is first far from the reference's, if it is.
    pub far: Option<Far>,
    /// The stage to look at first, when the runs differ by more than
    /// rounding.
    pub look_first: Option<LookFirst>,
    /// The stage of yours that makes the network's inputs, if any (stage
    /// 6's windows, for speech): the first suspect for a first batch that
    /// differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_stage: Option<u8>,
    /// Where your stage 5's data preparation gives another result than the
    /// reference's on this run's data ([`data_differences`]): then the runs
    /// do not see the same examples in the same order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_differs: Vec<String>,
}

impl Comparison {
    /// Compares your run with the reference's, over the epochs both trained.
    pub fn new(yours: &RunFigures, reference: &RunFigures) -> Self {
        // Everything an epoch records but its time.
        let figures = |run: &RunFigures| -> Vec<EpochRecord> {
            let untimed = |e: &EpochRecord| EpochRecord {
                seconds: 0.0,
                ..e.clone()
            };
            run.epochs.iter().map(untimed).collect()
        };
        let mut identical = figures(yours) == figures(reference)
            && yours.test_loss == reference.test_loss
            && yours.test_accuracy == reference.test_accuracy;
        let mut steps_compared = 0;
        let mut training_identical = true;
        let (mut first_difference, mut far_step, mut far_steps) = (None, None, None);
        for mine in &yours.steps {
            let Some(theirs) = reference.steps.iter().find(|s| s.epoch == mine.epoch) else {
                continue;
            };
            training_identical &= mine.losses == theirs.losses;
            if far_steps.is_none() && mine.losses.len() != theirs.losses.len() {
                far_steps = Some(Far::Steps {
                    epoch: mine.epoch,
                    yours: mine.losses.len(),
                    reference: theirs.losses.len(),
                });
            }
            for (index, (&y, &r)) in mine.losses.iter().zip(&theirs.losses).enumerate() {
                steps_compared += 1;
                let gap = StepGap {
                    epoch: mine.epoch,
                    step: index + 1,
                    yours: y,
                    reference: r,
                };
                if first_difference.is_none() && exceeds(relative_gap(y, r), SAME) {
                    first_difference = Some(gap);
                }
                if far_step.is_none() && far_loss(y, r) {
                    far_step = Some(gap);
                }
            }
        }
        identical &= training_identical;
        let far_figure = |measure: Measure, y: f32, r: f32| match measure {
            Measure::Loss => far_loss(y, r),
            Measure::Accuracy => exceeds((y - r).abs(), FAR_ACCURACY),
        };
        let held_out = |e: &EpochRecord| {
            [
                (Measure::Loss, e.validation_loss),
                (Measure::Accuracy, e.validation_accuracy),
            ]
        };
        let far_validation = yours.epochs.iter().find_map(|mine| {
            let theirs = reference.epochs.iter().find(|e| e.epoch == mine.epoch)?;
            held_out(mine)
                .into_iter()
                .zip(held_out(theirs))
                .find_map(|((measure, y), (_, r))| {
                    let (y, r) = (y?, r?);
                    far_figure(measure, y, r).then_some(Far::Validation {
                        epoch: mine.epoch,
                        measure,
                        yours: y,
                        reference: r,
                    })
                })
        });
        let far_test = [
            (Measure::Loss, yours.test_loss, reference.test_loss),
            (
                Measure::Accuracy,
                yours.test_accuracy,
                reference.test_accuracy,
            ),
        ]
        .into_iter()
        .find_map(|(measure, y, r)| {
            let (y, r) = (y?, r?);
            far_figure(measure, y, r).then_some(Far::Test {
                measure,
                yours: y,
                reference: r,
            })
        });
        let far = far_steps
            .or(far_step.map(Far::Training))
            .or(far_validation)
            .or(far_test);
        let not_rounding = first_difference.filter(|gap| gap.relative() >= NOT_ROUNDING);
        let look_first = match (far, not_rounding) {
            (Some(Far::Steps { .. }), _) => Some(LookFirst::Loop),
            (_, Some(gap)) if gap.epoch == 1 && gap.step == 1 => Some(LookFirst::ForwardOrLoss),
            (_, Some(_)) | (Some(Far::Training(_)), None) => Some(LookFirst::Update),
            (Some(_), None) => Some(LookFirst::Evaluation),
            (None, None) => None,
        };
        Self {
            identical,
            training_identical,
            steps_compared,
            first_difference,
            far,
            look_first,
            inputs_stage: None,
            data_differs: Vec::new(),
        }
    }

    /// The closing table: loss and accuracy in training and validation at
    /// the last epoch both runs trained, then each run's kept model on the
    /// test set.
    pub fn table(yours: &RunFigures, reference: &RunFigures, held_out: &str) -> String {
        let last = |run: &RunFigures| run.epochs.last().map_or(0, |e| e.epoch);
        let epoch = last(yours).min(last(reference));
        let at = |run: &RunFigures| run.epochs.iter().find(|e| e.epoch == epoch).cloned();
        let (mine, theirs) = (at(yours), at(reference));
        type Figure = fn(&EpochRecord) -> Option<f32>;
        let epoch_rows: [(&str, Figure, bool); 4] = [
            ("train loss", |e| Some(e.train_loss), false),
            ("train accuracy", |e| Some(e.train_accuracy), true),
            ("{held} loss", |e| e.validation_loss, false),
            ("{held} accuracy", |e| e.validation_accuracy, true),
        ];
        let figure = |run: &Option<EpochRecord>, f: Figure| run.as_ref().and_then(f);
        let mut rows: Vec<(String, Option<f32>, Option<f32>, bool)> = epoch_rows
            .iter()
            .map(|&(name, f, percent)| {
                let name = format!("{}, epoch {epoch}", name.replace("{held}", held_out));
                (name, figure(&mine, f), figure(&theirs, f), percent)
            })
            .collect();
        rows.push((
            "test loss".into(),
            yours.test_loss,
            reference.test_loss,
            false,
        ));
        rows.push((
            "test accuracy".into(),
            yours.test_accuracy,
            reference.test_accuracy,
            true,
        ));
        let mut out = format!(
            "{:<26} {:>10} {:>10} {:>11}\n",
            "", "yours", "reference", "difference"
        );
        for (name, y, r, percent) in rows {
            if name == "test loss" {
                writeln!(
                    out,
                    "{:<26} {:>10} {:>10}",
                    "kept model (epoch)", yours.kept_epoch, reference.kept_epoch
                )
                .expect("writing to a String");
            }
            let (Some(y), Some(r)) = (y, r) else {
                continue;
            };
            let line = if percent {
                format!(
                    "{name:<26} {:>9.2}% {:>9.2}% {:>+10.2}",
                    100.0 * y,
                    100.0 * r,
                    100.0 * (y - r)
                )
            } else {
                format!("{name:<26} {y:>10.4} {r:>10.4} {:>+11.4}", y - r)
            };
            writeln!(out, "{line}").expect("writing to a String");
        }
        out.pop();
        out
    }
}

impl fmt::Display for Comparison {
    /// The verdict: the same, close, or far, and where to look.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.identical {
            return write!(
                f,
                "Your run and the reference's are the same, bit for bit, at all {} steps and on \
                 the test set.",
                self.steps_compared
            );
        }
        let far_at_first = matches!(
            (self.far, self.first_difference),
            (Some(Far::Training(far)), Some(first)) if far == first
        );
        match self.first_difference {
            Some(gap) if far_at_first => writeln!(
                f,
                "Your run first differs from the reference's, and at once by far, at epoch {}, \
                 step {}: running loss {:.4} against {:.4}.",
                gap.epoch, gap.step, gap.yours, gap.reference
            )?,
            Some(gap) => writeln!(
                f,
                "Your run first differs from the reference's at epoch {}, step {}: running loss \
                 {:.6} against {:.6}.",
                gap.epoch, gap.step, gap.yours, gap.reference
            )?,
            None if matches!(self.far, Some(Far::Steps { .. })) => {}
            None if self.training_identical => writeln!(
                f,
                "Your training is the same as the reference's, bit for bit, at all {} steps.",
                self.steps_compared
            )?,
            None => writeln!(
                f,
                "Your training losses stay within rounding of the reference's at all {} steps.",
                self.steps_compared
            )?,
        }
        let measure = |m: Measure, value: f32| match m {
            Measure::Loss => format!("{value:.4}"),
            Measure::Accuracy => format!("{:.2}%", 100.0 * value),
        };
        let name = |m: Measure| match m {
            Measure::Loss => "loss",
            Measure::Accuracy => "accuracy",
        };
        match self.far {
            None => write!(f, "Your results stay close to the reference's.")?,
            Some(Far::Training(_)) if far_at_first => {}
            Some(Far::Steps {
                epoch,
                yours,
                reference,
            }) => write!(
                f,
                "In epoch {epoch} your training loop took {yours} steps, the reference's \
                 {reference}."
            )?,
            Some(Far::Training(gap)) => write!(
                f,
                "It moved far from the reference's at epoch {}, step {}: running loss {:.4} \
                 against {:.4}.",
                gap.epoch, gap.step, gap.yours, gap.reference
            )?,
            Some(Far::Validation {
                epoch,
                measure: m,
                yours,
                reference,
            }) => write!(
                f,
                "It moved far from the reference's at the end of epoch {epoch}: held-out {} {} \
                 against {}.",
                name(m),
                measure(m, yours),
                measure(m, reference)
            )?,
            Some(Far::Test {
                measure: m,
                yours,
                reference,
            }) => write!(
                f,
                "Your model is far from the reference's on the test set: {} {} against {}.",
                name(m),
                measure(m, yours),
                measure(m, reference)
            )?,
        }
        if self.far.is_none() && self.look_first.is_some() {
            write!(
                f,
                " But the first gap is too large to be rounding, so something differs."
            )?;
        }
        if !far_at_first {
            writeln!(f)?;
        }
        if self.look_first.is_some() && !self.data_differs.is_empty() {
            return write!(
                f,
                "Look first at stage 5's data preparation, which differs from the reference's \
                 on this data: {}. The two runs do not see the same examples in the same order, \
                 so no later step can agree (`cargo test -p stage-5`).",
                self.data_differs.join("; ")
            );
        }
        if let (Some(LookFirst::ForwardOrLoss), Some(stage)) = (self.look_first, self.inputs_stage)
        {
            write!(
                f,
                "The first batch's loss is computed before any update, so look first at what it \
                 goes through: its inputs, from your stage {stage} (`cargo test -p \
                 stage-{stage}`), then "
            )?;
            return write!(f, "{FORWARD_STAGES}");
        }
        let look = match self.look_first {
            None if self.first_difference.is_some() => {
                "A gap that starts this small and grows slowly is most likely rounding: your \
                 code adds in another order than the reference's. A mistake that the optimiser \
                 hides (Adam undoes any constant scale of a gradient) can look the same, so \
                 call it rounding only while every stage's tests pass."
            }
            None => return Ok(()),
            Some(LookFirst::Loop) => {
                "Look first at stage 5's train_epoch: it should take one step per batch of the \
                 loader's epoch (`cargo test -p stage-5`)."
            }
            Some(LookFirst::ForwardOrLoss) => {
                write!(
                    f,
                    "The first batch's loss is computed before any update, so look first at "
                )?;
                FORWARD_STAGES
            }
            Some(LookFirst::Update) => {
                "The first batch agrees, so your forward pass and loss do; the updates differ, by \
                 more than rounding would. Look first at stage 4: the loss's gradient, backward, \
                 then the optimiser's step (`cargo test -p stage-4 --no-fail-fast` runs all of \
                 its tests); then stage 5's train_epoch."
            }
            Some(LookFirst::Evaluation) => {
                "Training agrees step for step and evaluation does not: look first at stage 5's \
                 evaluate (`cargo test -p stage-5`)."
            }
        };
        write!(f, "{look}")
    }
}

/// Where `code`'s stage 5 prepares this run's data otherwise than the
/// reference's: its shuffle for each of `orders` (what it orders, how many
/// indices, the seed), and its `training_statistics` of `sample` (when the
/// run computes them). Each difference in words; none when `code` is the
/// reference.
pub fn data_differences(
    code: &Code,
    orders: &[(&str, usize, u64)],
    sample: Option<&DMatrix<f32>>,
) -> Vec<String> {
    let reference = Code::REFERENCE;
    if code.whose == reference.whose {
        return Vec::new();
    }
    let mut differences = Vec::new();
    for &(what, examples, seed) in orders {
        let order = |code: &Code| {
            let mut order: Vec<usize> = (0..examples).collect();
            code.run("comparing shuffles", || {
                (code.shuffle)(&mut order, &mut ChaCha8Rng::seed_from_u64(seed));
                order
            })
            .ok()
        };
        if order(code) != order(&reference) {
            differences.push(format!(
                "shuffle gives another order than the reference's for {what} ({examples} \
                 examples)"
            ));
        }
    }
    if let Some(sample) = sample {
        let statistics = |code: &Code| {
            code.run("comparing statistics", || {
                (code.training_statistics)(sample)
            })
            .ok()
            .and_then(Result::ok)
        };
        let agree = match (statistics(code), statistics(&reference)) {
            (Some(y), Some(r)) => {
                let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
                close(y.mean, r.mean) && close(y.std, r.std)
            }
            (y, r) => y == r,
        };
        if !agree {
            differences.push(format!(
                "training_statistics of {} training values gives another mean or deviation",
                sample.len()
            ));
        }
    }
    differences
}

/// What a first batch's loss goes through, in the order to check it.
const FORWARD_STAGES: &str = "the forward pass and the loss: stage 3 (init_weights, forward: \
     `cargo test -p stage-3`), stage 2 (the activation), then stage 4's cross_entropy.";

/// Whether a loss is far from the reference's.
fn far_loss(yours: f32, reference: f32) -> bool {
    exceeds(
        (yours - reference).abs(),
        FAR_RELATIVE * reference.abs() + FAR_ABSOLUTE,
    )
}

/// Whether `value` is above `limit`, or not a number (a loss that blew up).
fn exceeds(value: f32, limit: f32) -> bool {
    value.is_nan() || value > limit
}

/// |a − b| relative to |b|, with 1 as the floor of the scale.
fn relative_gap(a: f32, b: f32) -> f32 {
    (a - b).abs() / b.abs().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, validation_accuracy: f32) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            train_accuracy: 0.8,
            validation_loss: Some(0.6),
            validation_accuracy: Some(validation_accuracy),
            learning_rate: 1e-3,
            seconds: 1.0,
        }
    }

    /// Two epochs of four steps each, losses falling from 2.3.
    fn figures(steps: [[f32; 4]; 2], validation: [f32; 2], test: f32) -> RunFigures {
        RunFigures {
            epochs: vec![epoch(1, validation[0]), epoch(2, validation[1])],
            steps: steps
                .iter()
                .enumerate()
                .map(|(i, losses)| StepLosses {
                    epoch: i + 1,
                    losses: losses.to_vec(),
                })
                .collect(),
            kept_epoch: 2,
            test_loss: Some(0.4),
            test_accuracy: Some(test),
        }
    }

    const STEPS: [[f32; 4]; 2] = [[2.3, 2.0, 1.7, 1.5], [0.9, 0.8, 0.75, 0.7]];

    #[test]
    fn the_same_run_is_identical() {
        let run = figures(STEPS, [0.8, 0.85], 0.84);
        let mut slower = run.clone();
        slower.epochs[1].seconds = 9.0;
        let comparison = Comparison::new(&slower, &run);
        assert!(
            comparison.identical,
            "the time an epoch took is no difference"
        );
        assert_eq!(comparison.steps_compared, 8);
        assert_eq!(
            (
                comparison.first_difference,
                comparison.far,
                comparison.look_first
            ),
            (None, None, None)
        );
    }

    #[test]
    fn rounding_is_close_and_names_no_stage() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut steps = STEPS;
        steps[1][2] *= 1.0 + 3e-4;
        steps[1][3] *= 1.0 + 5e-4;
        let yours = figures(steps, [0.8, 0.85], 0.845);
        let comparison = Comparison::new(&yours, &reference);
        assert!(!comparison.identical);
        let first = comparison.first_difference.unwrap();
        assert_eq!((first.epoch, first.step), (2, 3));
        assert_eq!((comparison.far, comparison.look_first), (None, None));
    }

    #[test]
    fn a_different_first_batch_points_at_the_forward_pass() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut steps = STEPS;
        steps[0][0] = 2.5;
        let comparison = Comparison::new(&figures(steps, [0.8, 0.85], 0.84), &reference);
        let first = comparison.first_difference.unwrap();
        assert_eq!((first.epoch, first.step), (1, 1));
        assert_eq!(comparison.look_first, Some(LookFirst::ForwardOrLoss));
        // 2.5 against 2.3 is within 10% + 0.02.
        assert_eq!(comparison.far, None);
    }

    #[test]
    fn a_run_that_falls_behind_is_found_at_its_step() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let steps = [[2.3, 2.2, 2.1, 2.0], [1.9, 1.8, 1.7, 1.6]];
        let comparison = Comparison::new(&figures(steps, [0.5, 0.6], 0.6), &reference);
        let first = comparison.first_difference.unwrap();
        assert_eq!((first.epoch, first.step), (1, 2));
        assert_eq!(
            comparison.far,
            Some(Far::Training(StepGap {
                epoch: 1,
                step: 3,
                yours: 2.1,
                reference: 1.7
            }))
        );
        assert_eq!(comparison.look_first, Some(LookFirst::Update));
    }

    #[test]
    fn a_lower_loss_is_as_far_as_a_higher_one() {
        // Summing the batch's losses instead of averaging them, say, the
        // other way round: a loss far below the reference's is no better.
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let steps = STEPS.map(|epoch| epoch.map(|loss| loss / 2.0));
        let comparison = Comparison::new(&figures(steps, [0.8, 0.85], 0.84), &reference);
        assert!(matches!(comparison.far, Some(Far::Training(g)) if (g.epoch, g.step) == (1, 1)));
        assert_eq!(comparison.look_first, Some(LookFirst::ForwardOrLoss));
    }

    #[test]
    fn matching_training_with_a_different_evaluation_points_at_evaluate() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let comparison = Comparison::new(&figures(STEPS, [0.1, 0.1], 0.84), &reference);
        assert_eq!(comparison.first_difference, None);
        assert_eq!(
            comparison.far,
            Some(Far::Validation {
                epoch: 1,
                measure: Measure::Accuracy,
                yours: 0.1,
                reference: 0.8
            })
        );
        assert_eq!(comparison.look_first, Some(LookFirst::Evaluation));
        assert!(comparison.training_identical);
    }

    #[test]
    fn a_held_out_loss_far_off_is_found_even_with_the_same_accuracy() {
        // An evaluate that forgets to weight each batch's mean loss by its
        // size: the accuracy is right, the loss is not.
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut yours = reference.clone();
        yours.epochs[1].validation_loss = Some(0.0005);
        yours.test_loss = Some(0.0002);
        let comparison = Comparison::new(&yours, &reference);
        assert_eq!(
            comparison.far,
            Some(Far::Validation {
                epoch: 2,
                measure: Measure::Loss,
                yours: 0.0005,
                reference: 0.6
            })
        );
        assert_eq!(comparison.look_first, Some(LookFirst::Evaluation));
    }

    #[test]
    fn a_loop_that_takes_another_number_of_steps_points_at_it() {
        // A train_epoch that never starts the loader's epoch takes no step.
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut yours = reference.clone();
        for epoch in &mut yours.steps {
            epoch.losses.clear();
        }
        let comparison = Comparison::new(&yours, &reference);
        assert_eq!(
            comparison.far,
            Some(Far::Steps {
                epoch: 1,
                yours: 0,
                reference: 4
            })
        );
        assert_eq!(comparison.look_first, Some(LookFirst::Loop));
        assert!(!comparison.identical);
    }

    #[test]
    fn a_non_finite_loss_is_far() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut steps = STEPS;
        steps[0][1] = f32::NAN;
        let comparison = Comparison::new(&figures(steps, [0.8, 0.85], 0.84), &reference);
        assert!(matches!(comparison.far, Some(Far::Training(g)) if g.step == 2));
    }

    #[test]
    fn epochs_only_one_run_trained_are_not_compared() {
        // A resumed run of yours holds the steps of its last epoch only.
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let mut yours = reference.clone();
        yours.steps.remove(0);
        assert_eq!(Comparison::new(&yours, &reference).steps_compared, 4);
    }

    #[test]
    fn the_table_puts_the_figures_side_by_side() {
        let reference = figures(STEPS, [0.8, 0.85], 0.84);
        let yours = figures(STEPS, [0.8, 0.86], 0.80);
        let table = Comparison::table(&yours, &reference, "val");
        let row = |name: &str| -> Vec<String> {
            let line = table.lines().find(|l| l.starts_with(name)).unwrap();
            line[name.len()..]
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(row("val accuracy, epoch 2"), ["86.00%", "85.00%", "+1.00"]);
        assert_eq!(row("test accuracy"), ["80.00%", "84.00%", "-4.00"]);
        assert_eq!(row("test loss"), ["0.4000", "0.4000", "+0.0000"]);
    }

    #[test]
    fn a_cached_reference_run_is_read_back_only_for_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let run = figures(STEPS, [0.8, 0.85], 0.84);
        let made = reference_run(dir.path(), &0, &"data", |_| Ok(run.clone())).unwrap();
        assert_eq!(made, run);
        let again = reference_run(dir.path(), &0, &"data", |_| panic!("trained again")).unwrap();
        assert_eq!(again, run);
        let mut other = run.clone();
        other.kept_epoch = 1;
        let changed = reference_run(dir.path(), &1, &"data", |_| Ok(other.clone())).unwrap();
        assert_eq!(changed, other);
        let elsewhere = reference_run(dir.path(), &1, &"other data", |_| Ok(run.clone())).unwrap();
        assert_eq!(elsewhere, run);
    }
}
