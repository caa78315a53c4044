//! Stage 5: training on mini-batches and measuring accuracy. Your exercise: fill in every `// TODO`.
//!
//! A classifier's prediction is the class with the largest output (logit).
//! One epoch visits every training example once, a mini-batch at a time,
//! taking one training step (stage 4) per batch.
//!
//! Given code it uses, from `crates/support/src/`: `BatchLoader` in
//! `batches.rs`; `EpochStats` in `stats.rs`; `Loss` and `Targets` in
//! `gradients.rs`; `Optimizer` in `optim.rs`; `Mlp` in `network.rs`. From
//! the reference of stages 3 and 4: `forward`, `train_step` and
//! `cross_entropy`.

use course_support::batches::BatchLoader;
use course_support::gradients::{Loss, Targets};
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use course_support::shape::ShapeError;
use course_support::stats::EpochStats;
use nalgebra::DMatrix;

use crate::losses::cross_entropy;
use crate::mlp::forward;
use crate::train::train_step;

// ANCHOR: predict_classes
/// The predicted class of every row: the index of its largest logit (the
/// first one on a tie). Shapes: (batch, classes) → batch indices.
pub fn predict_classes(logits: &DMatrix<f32>) -> Vec<usize> {
    // TODO: each row's class: the index of its largest logit, the first of
    // equal ones.
    todo!("predict_classes")
}

/// How many rows' predicted class equals their label.
pub fn count_correct(logits: &DMatrix<f32>, labels: &[usize]) -> usize {
    // TODO: the count.
    todo!("count_correct")
}
// ANCHOR_END: predict_classes

// ANCHOR: train_epoch
/// One epoch of mini-batch training with softmax cross-entropy: start the
/// loader's epoch, take one `train_step` per batch, and keep running totals.
/// After every batch, `on_batch` sees the figures so far (for a progress
/// bar). Returns the epoch's mean loss per example and its accuracy, both
/// measured on each batch just before its update.
pub fn train_epoch(
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    loader: &mut BatchLoader,
    on_batch: &mut dyn FnMut(&EpochStats),
) -> Result<EpochStats, ShapeError> {
    // TODO: one pass over the loader's epoch, one training step per batch.
    // The figures are per example over everything seen so far: the last
    // batch may be smaller than the others, and it must not count for more
    // per example. `on_batch` gets the running figures after each batch,
    // not the batch's own.
    todo!("train_epoch")
}
// ANCHOR_END: train_epoch

// ANCHOR: evaluate
/// The mean cross-entropy per example and the accuracy of `mlp` over every
/// batch of `loader`, without changing the network.
pub fn evaluate(mlp: &Mlp, loader: &mut BatchLoader) -> Result<EpochStats, ShapeError> {
    // TODO: the same figures as `train_epoch`, over one pass of the loader,
    // with the network unchanged. An empty loader gives zeros, not NaN.
    todo!("evaluate")
}
// ANCHOR_END: evaluate

// ANCHOR: best_epoch
/// The position in `held_out` (one entry per epoch, in order) of the epoch
/// whose model to keep: the most accurate on the held-out set, the earliest
/// of equally accurate ones. None when there are no epochs.
pub fn best_epoch(held_out: &[EpochStats]) -> Option<usize> {
    // TODO: the position of the highest accuracy. On a tie the earliest
    // epoch wins: it reached that accuracy with less training. The loss
    // does not decide.
    todo!("best_epoch")
}
// ANCHOR_END: best_epoch
