//! Whose code a pipeline runs: the reference's (`solutions/`), or yours
//! (`exercises/`, through the `yours` crate, where every stage builds on your
//! earlier stages). Both work on the same given types, so everything around
//! them (data, checkpoints, plots, reports) is shared.
//!
//! Your code may still hold a `todo!()`, or panic, or make the loss blow
//! up; [`Code::run`] turns each of these into an error that says which stage
//! to look at, instead of a panic and a backtrace through the pipeline.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use anyhow::Context;

use course_support::activation::Activation;
use course_support::augmentation::Augmentation;
use course_support::batches::{BatchLoader, Order, Shuffle};
use course_support::gradients::{Loss, Step, Targets};
use course_support::network::{Init, Mlp};
use course_support::optim::Optimizer;
use course_support::regularise::Network;
use course_support::shape::ShapeError;
use course_support::speech::Phone;
use course_support::stats::{EpochStats, Standardization};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Whose implementation of the stages runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Whose {
    /// The reference solutions, `solutions/`.
    #[default]
    Reference,
    /// The learner's exercises, `exercises/`.
    Yours,
}

impl fmt::Display for Whose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reference => write!(f, "the reference"),
            Self::Yours => write!(f, "yours"),
        }
    }
}

/// Stage 5's `train_epoch`.
pub type TrainEpoch = fn(
    &mut Mlp,
    &mut Optimizer,
    &mut BatchLoader,
    &mut dyn FnMut(&EpochStats),
) -> Result<EpochStats, ShapeError>;
/// Stage 5's `evaluate`.
pub type Evaluate = fn(&Mlp, &mut BatchLoader) -> Result<EpochStats, ShapeError>;
/// Stage 5's `training_statistics`.
pub type TrainingStatistics = fn(&DMatrix<f32>) -> Result<Standardization, ShapeError>;
/// Stage 5's `best_epoch`.
pub type BestEpoch = fn(&[EpochStats]) -> Option<usize>;
/// Stage 6's `cmvn`.
pub type Cmvn = fn(&mut DMatrix<f32>);
/// Stage 6's `mel_filter_bank`.
pub type MelFilterBank = fn(usize, usize, f32) -> Result<DMatrix<f32>, ShapeError>;
/// Stage 6's `frame_labels`.
pub type FrameLabels = fn(&[Phone], usize, f32, f32) -> Result<Vec<usize>, ShapeError>;
/// Stage 3's `forward`.
pub type Forward = fn(&Mlp, &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError>;
/// Stage 3's `init_weights`, as `Mlp::new` calls it.
pub type DrawWeights = fn(Init, usize, usize, &mut ChaCha8Rng) -> DMatrix<f32>;
/// Stage 7's `train_step`: one step in training mode, masks drawn from the
/// generator.
pub type RegularisedStep = fn(
    &mut Network,
    &mut Optimizer,
    &DMatrix<f32>,
    &[usize],
    &mut ChaCha8Rng,
) -> Result<Step, ShapeError>;
/// Stage 7's `augment`: an image (row-major, rows × columns) distorted by
/// draws from the generator, outside pixels being the background value.
pub type Augment = fn(&[f32], usize, usize, &Augmentation, f32, &mut ChaCha8Rng) -> Vec<f32>;

/// The functions of the stages a pipeline calls, from one implementation.
#[derive(Clone, Copy)]
pub struct Code {
    pub whose: Whose,
    pub train_epoch: TrainEpoch,
    pub evaluate: Evaluate,
    /// Stage 5's `shuffle`: each epoch's order, and the validation split.
    pub shuffle: Shuffle,
    pub training_statistics: TrainingStatistics,
    pub best_epoch: BestEpoch,
    pub cmvn: Cmvn,
    pub mel_filter_bank: MelFilterBank,
    pub frame_labels: FrameLabels,
    pub forward: Forward,
    pub init_weights: DrawWeights,
    pub regularised_step: RegularisedStep,
    pub augment: Augment,
    /// Whose stage 6 cuts the speech pipeline's windows of context: its
    /// `ContextFrames` is a type with methods, which no fn pointer holds.
    pub windows: Whose,
    /// Finds the lowest unfinished stage before a run starts (yours only).
    pub probe: Option<Probe>,
}

/// Calls each stage's functions once on a tiny network, in stage order, up
/// to a last stage, with the run's hidden activation and optimiser.
pub type Probe = fn(Activation, &Optimizer, u8) -> anyhow::Result<()>;

impl Code {
    pub const REFERENCE: Self = Self {
        whose: Whose::Reference,
        train_epoch: reference::training::train_epoch,
        evaluate: reference::training::evaluate,
        shuffle: reference::data::shuffle,
        training_statistics: reference::data::training_statistics,
        best_epoch: reference::training::best_epoch,
        cmvn: reference::features::cmvn,
        mel_filter_bank: reference::features::mel_filter_bank,
        frame_labels: reference::features::frame_labels,
        forward: reference::mlp::forward,
        init_weights: reference::init::init_weights,
        regularised_step: reference::network::train_step,
        augment: reference::augment::augment,
        windows: Whose::Reference,
        probe: None,
    };

    pub const YOURS: Self = Self {
        whose: Whose::Yours,
        train_epoch: yours::training::train_epoch,
        evaluate: yours::training::evaluate,
        shuffle: yours::data::shuffle,
        training_statistics: yours::data::training_statistics,
        best_epoch: yours::training::best_epoch,
        cmvn: yours::features::cmvn,
        mel_filter_bank: yours::features::mel_filter_bank,
        frame_labels: yours::features::frame_labels,
        forward: yours::mlp::forward,
        init_weights: yours::init::init_weights,
        regularised_step: yours::network::train_step,
        augment: yours::augment::augment,
        windows: Whose::Yours,
        probe: Some(probe_yours),
    };

    /// A training loader's order: a new one every epoch, from this code's
    /// shuffle.
    pub fn shuffled(&self) -> Order {
        Order::Shuffled(self.shuffle)
    }

    /// Yours when the run's `--yours` flag is set, else the reference.
    pub fn chosen(yours: bool) -> Self {
        if yours { Self::YOURS } else { Self::REFERENCE }
    }

    /// Stops with [`Unfinished`] naming the lowest stage, up to
    /// `last_stage`, that still holds a `todo!()` on the way a run goes
    /// (with `activation` in its hidden layers and `optimizer`). A pipeline
    /// meets the stages in another order: it draws the weights (stage 3)
    /// before it applies an activation (stage 2), and calls `train_epoch`
    /// (stage 5) before `train_step` (stage 4).
    pub fn check_finished(
        &self,
        activation: Activation,
        optimizer: &Optimizer,
        last_stage: u8,
    ) -> anyhow::Result<()> {
        match self.probe {
            Some(probe) => probe(activation, optimizer, last_stage),
            None => Ok(()),
        }
    }

    /// The line a run prints first: whose code runs, and where. `last_stage`
    /// is the last stage the pipeline uses; `teaching` keeps the reference
    /// off the fast path.
    pub fn describe(&self, last_stage: u8, teaching: bool) -> String {
        match (self.whose, teaching) {
            (Whose::Yours, _) => format!(
                "Code: yours, exercises/stage-2 to stage-{last_stage}, each stage on your earlier ones"
            ),
            (Whose::Reference, true) => {
                "Code: the reference's teaching code, solutions/".to_owned()
            }
            (Whose::Reference, false) => {
                "Code: the reference, on the fast path (crates/engine) where it can run the model"
                    .to_owned()
            }
        }
    }

    /// [`Code::run`] of `f`, which returns a `Result`: its error too becomes
    /// the run's, and when the code is yours it says what the run was doing
    /// and where to look.
    pub fn call<T, E>(&self, doing: &str, f: impl FnOnce() -> Result<T, E>) -> anyhow::Result<T>
    where
        E: Into<anyhow::Error>,
    {
        let result = self.run(doing, f)?.map_err(Into::into);
        match self.whose {
            Whose::Yours => result.with_context(|| {
                format!(
                    "your code returned an error while {doing}; the stages' tests find which \
                     function (`cargo test -p stage-N --no-fail-fast`, stages 3 to 6)"
                )
            }),
            Whose::Reference => result,
        }
    }

    /// Runs `f`, which calls this code. A [`Diverged`] raised inside it (by
    /// a training loop's batch callback) becomes that error. When the code
    /// is yours, so does any panic: an unfinished function
    /// ([`Unfinished`]) or another panic ([`YourCodePanicked`]), printed
    /// without a backtrace. The reference's other panics stay panics: they
    /// are bugs of the course.
    pub fn run<R>(&self, doing: &str, f: impl FnOnce() -> R) -> anyhow::Result<R> {
        install_quiet_hook();
        let yours = self.whose == Whose::Yours;
        let outer = QUIET.replace(if yours { Quiet::All } else { Quiet::Divergence });
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        QUIET.set(outer);
        let payload = match result {
            Ok(value) => return Ok(value),
            Err(payload) => payload,
        };
        let payload = match payload.downcast::<Diverged>() {
            Ok(diverged) => return Err((*diverged).into()),
            Err(payload) => payload,
        };
        if !yours {
            panic::resume_unwind(payload);
        }
        let location = LAST_PANIC.take().unwrap_or_default();
        let message = panic_message(payload.as_ref());
        Err(match Unfinished::from_panic(&message, &location) {
            Some(unfinished) => unfinished.into(),
            None => YourCodePanicked {
                doing: doing.to_owned(),
                location,
                message,
            }
            .into(),
        })
    }
}

/// [`Probe`] of your stages. Only a `todo!()` stops it: any other failure
/// is left for the run itself to meet and report where it happens.
fn probe_yours(
    activation: Activation,
    optimizer: &Optimizer,
    last_stage: u8,
) -> anyhow::Result<()> {
    let code = Code::YOURS;
    let unfinished = |result: anyhow::Result<()>| match result {
        Err(error) if error.is::<Unfinished>() => Err(error),
        _ => Ok(()),
    };
    let input = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 1.5, 0.25]);
    unfinished(code.run("checking stage 2", || {
        yours::activations::apply(activation, 0.5);
        yours::activations::derivative(activation, 0.5);
    }))?;
    let mut mlp = None;
    unfinished(code.run("checking stage 3", || {
        let built = Mlp::new(
            &[2, 3, 2],
            &[activation, Activation::Identity],
            Init::KaimingUniform,
            0,
            yours::init::init_weights,
        );
        if let Ok(built) = built {
            let _ = yours::mlp::forward_trace(&built, &input);
            let _ = yours::mlp::forward(&built, &input);
            mlp = Some(built);
        }
    }))?;
    let Some(mut mlp) = mlp else { return Ok(()) };
    // A copy: the run's optimiser must start fresh.
    let mut optimizer = optimizer.clone();
    let labels = vec![0, 1];
    unfinished(code.run("checking stage 4", || {
        let targets = Targets::Classes(labels.clone());
        let _ = yours::train::train_step(
            &mut mlp,
            &mut optimizer,
            &input,
            &targets,
            Loss::CrossEntropy,
        );
    }))?;
    unfinished(code.run("checking stage 5", || {
        let _ = yours::data::training_statistics(&input);
        yours::data::shuffle(&mut [0, 1, 2], &mut ChaCha8Rng::seed_from_u64(0));
    }))?;
    let loader = BatchLoader::new(&input, labels, 2, Order::AsGiven, 0);
    if let Ok(mut loader) = loader {
        unfinished(code.run("checking stage 5", || {
            let _ =
                yours::training::train_epoch(&mut mlp, &mut optimizer, &mut loader, &mut |_| {});
            let _ = yours::training::evaluate(&mlp, &mut loader);
            yours::training::best_epoch(&[EpochStats::default()]);
        }))?;
    }
    if last_stage >= 6 {
        unfinished(code.run("checking stage 6", || {
            let _ = yours::features::mel_filter_bank(4, 16, 8000.0);
            let phones = [Phone {
                class: 0,
                milliseconds: 30.0,
            }];
            let _ = yours::features::frame_labels(&phones, 2, 10.0, 25.0);
            yours::features::cmvn(&mut input.clone());
            let frames = yours::context::ContextFrames {
                frames: vec![0.5; 6],
                frame_size: 2,
                context: 1,
            };
            let _ = frames.window(1, &mut [0.0; 6]);
        }))?;
    }
    Ok(())
}

/// A function of one of your stages that is still `todo!()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfinished {
    pub stage: u8,
    /// What the `todo!` says: the function's name.
    pub function: String,
    /// `file:line` of the `todo!`.
    pub location: String,
}

impl Unfinished {
    /// Recognises `todo!("name")` (whose message is "not yet implemented:
    /// name") in a file of `exercises/stage-N/`.
    fn from_panic(message: &str, location: &str) -> Option<Self> {
        let function = message.strip_prefix("not yet implemented")?;
        let function = function.trim_start_matches(':').trim().to_owned();
        let stage = stage_of(location)?;
        Some(Self {
            stage,
            function,
            location: location.to_owned(),
        })
    }
}

impl fmt::Display for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "your stage {stage} is not finished: `{function}` ({location}) is still todo!().\n\
             Finish it until `cargo test -p stage-{stage}` passes, then run this again \
             (or leave out --yours to train on the reference).",
            stage = self.stage,
            function = self.function,
            location = self.location,
        )
    }
}

impl std::error::Error for Unfinished {}

/// Your code panicked for another reason than a `todo!()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YourCodePanicked {
    /// What the pipeline was doing, such as "training epoch 3".
    pub doing: String,
    /// `file:line` of the panic.
    pub location: String,
    pub message: String,
}

impl fmt::Display for YourCodePanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "your code panicked while {}, at {}: {}",
            self.doing, self.location, self.message
        )?;
        match stage_of(&self.location) {
            Some(stage) => write!(f, "\nRun `cargo test -p stage-{stage}` to find out why."),
            None => write!(
                f,
                "\nThe panic is inside a library your code called; `cargo test -p stage-N` \
                 for stages 3 to 5 finds which of your functions passed it bad input."
            ),
        }
    }
}

impl std::error::Error for YourCodePanicked {}

/// Training stopped being finite: the loss of a step, or (with a finite
/// loss) a parameter after the epoch's last step.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    pub whose: Whose,
    pub epoch: usize,
    /// The 1-based batch of the epoch after which the running loss (or a
    /// parameter) was first not finite.
    pub step: usize,
    /// The running loss at that step (finite when `parameter` says what
    /// was not).
    pub loss: f32,
    /// The first parameter tensor holding a NaN or an infinity, when the
    /// loss was still finite.
    pub parameter: Option<String>,
    pub learning_rate: f32,
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.parameter {
            Some(tensor) => format!("the parameters became non-finite (tensor {tensor})"),
            None => format!("the loss became {}", self.loss),
        };
        writeln!(
            f,
            "training diverged in epoch {}, at step {}: {what} (learning rate {}). \
             Training stopped there; nothing was saved from this epoch.",
            self.epoch, self.step, self.learning_rate
        )?;
        match self.whose {
            Whose::Yours => write!(
                f,
                "If the reference trains with the same flags (run them without --yours), look \
                 first at stage 4 (the losses' stability at large logits, then backward and the \
                 optimiser's step: `cargo test -p stage-4`); otherwise lower --lr."
            ),
            Whose::Reference => write!(
                f,
                "Likely causes: a learning rate too high (lower --lr) or too much weight decay, \
                 or bad input data (huge or non-finite values in the features)."
            ),
        }
    }
}

impl std::error::Error for Diverged {}

/// Stops a training loop from inside its batch callback: call it when the
/// running loss is not finite, and [`Code::run`] returns the error.
pub fn stop_diverged(diverged: Diverged) -> ! {
    panic::panic_any(diverged)
}

/// The stage a `file:line` in `exercises/stage-N/` belongs to.
fn stage_of(location: &str) -> Option<u8> {
    let normalized = location.replace('\\', "/");
    let (_, after) = normalized.split_once("exercises/stage-")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// Which panics the hook keeps quiet about on this thread.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quiet {
    Nothing,
    /// Only the [`Diverged`] stop, which is not a failure of the code.
    Divergence,
    /// Every panic: they are reported as errors instead.
    All,
}

thread_local! {
    static QUIET: Cell<Quiet> = const { Cell::new(Quiet::Nothing) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Wraps the panic hook once: inside [`Code::run`] it records where a panic
/// happened and prints nothing, since the error will say it better.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let quiet = match QUIET.get() {
                Quiet::Nothing => false,
                Quiet::Divergence => info.payload().is::<Diverged>(),
                Quiet::All => true,
            };
            if quiet {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LAST_PANIC.set(location);
            } else {
                default(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_todo_in_an_exercise_names_its_stage_and_function() {
        let unfinished = Unfinished::from_panic(
            "not yet implemented: train_step",
            "exercises/stage-4/train.rs:31",
        );
        assert_eq!(
            unfinished,
            Some(Unfinished {
                stage: 4,
                function: "train_step".to_owned(),
                location: "exercises/stage-4/train.rs:31".to_owned(),
            })
        );
        assert_eq!(
            Unfinished::from_panic("index out of bounds", "exercises/stage-3/mlp.rs:9"),
            None
        );
        assert_eq!(
            Unfinished::from_panic("not yet implemented", "src/somewhere.rs:1"),
            None
        );
    }

    #[test]
    fn run_turns_your_panics_into_errors_and_keeps_values() {
        let yours = Code::YOURS;
        assert_eq!(yours.run("adding", || 2 + 2).unwrap(), 4);
        let error = yours
            .run("testing", || -> u8 { panic!("boom") })
            .unwrap_err();
        let panicked = error.downcast_ref::<YourCodePanicked>().unwrap();
        assert_eq!(panicked.message, "boom");
        assert_eq!(panicked.doing, "testing");
        let diverged = Diverged {
            whose: Whose::Reference,
            epoch: 2,
            step: 7,
            loss: f32::NAN,
            parameter: None,
            learning_rate: 1e6,
        };
        let stop = diverged.clone();
        let error = Code::REFERENCE
            .run("training", move || -> u8 { stop_diverged(stop) })
            .unwrap_err();
        let got = error.downcast_ref::<Diverged>().unwrap();
        assert_eq!((got.epoch, got.step), (diverged.epoch, diverged.step));
    }
}
