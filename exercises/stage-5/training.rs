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
    // TODO: for each row (`logits.row_iter()`), the index of its largest value;
    // keep the first one when two are equal (compare with `>`, not `>=`).
    todo!("predict_classes")
}

/// How many rows' predicted class equals their label.
pub fn count_correct(logits: &DMatrix<f32>, labels: &[usize]) -> usize {
    // TODO: compare `predict_classes(logits)` with `labels`, entry by entry.
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
    // TODO: `loader.start_epoch()`, then `while let Some((inputs, labels)) = loader.next_batch()`:
    // one `train_step(mlp, optimizer, inputs, &Targets::Classes(labels.to_vec()), Loss::CrossEntropy)?`
    // per batch. Keep running totals: the loss weighted by the batch size (a batch's
    // loss is a mean), the right answers (`count_correct(&step.output, labels)`) and
    // the examples seen; after each batch update an `EpochStats` and call `on_batch(&stats)`.
    // Return the final figures.
    todo!("train_epoch")
}
// ANCHOR_END: train_epoch

// ANCHOR: evaluate
/// The mean cross-entropy per example and the accuracy of `mlp` over every
/// batch of `loader`, without changing the network.
pub fn evaluate(mlp: &Mlp, loader: &mut BatchLoader) -> Result<EpochStats, ShapeError> {
    // TODO: as `train_epoch`, but with `forward(mlp, inputs)?` and `cross_entropy` instead
    // of a training step: nothing changes the network. Mind an empty loader.
    todo!("evaluate")
}
// ANCHOR_END: evaluate
