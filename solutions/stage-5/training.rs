//! Stage 5: training on mini-batches and measuring accuracy (reference solution).
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
    logits
        .row_iter()
        .map(|row| {
            let mut best = 0;
            for (class, &value) in row.iter().enumerate() {
                if value > row[best] {
                    best = class;
                }
            }
            best
        })
        .collect()
}

/// How many rows' predicted class equals their label.
pub fn count_correct(logits: &DMatrix<f32>, labels: &[usize]) -> usize {
    predict_classes(logits)
        .iter()
        .zip(labels)
        .filter(|(predicted, label)| predicted == label)
        .count()
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
    let mut total_loss = 0.0f64;
    let mut correct = 0usize;
    let mut stats = EpochStats::default();
    loader.start_epoch();
    while let Some((inputs, labels)) = loader.next_batch() {
        let targets = Targets::Classes(labels.to_vec());
        let step = train_step(mlp, optimizer, inputs, &targets, Loss::CrossEntropy)?;
        // The batch loss is a mean: weigh it by the batch size.
        total_loss += f64::from(step.loss) * labels.len() as f64;
        correct += count_correct(&step.output, labels);
        stats.examples += labels.len();
        stats.loss = (total_loss / stats.examples as f64) as f32;
        stats.accuracy = correct as f32 / stats.examples as f32;
        on_batch(&stats);
    }
    Ok(stats)
}
// ANCHOR_END: train_epoch

// ANCHOR: evaluate
/// The mean cross-entropy per example and the accuracy of `mlp` over every
/// batch of `loader`, without changing the network.
pub fn evaluate(mlp: &Mlp, loader: &mut BatchLoader) -> Result<EpochStats, ShapeError> {
    let mut total_loss = 0.0f64;
    let mut correct = 0usize;
    let mut examples = 0usize;
    loader.start_epoch();
    while let Some((inputs, labels)) = loader.next_batch() {
        let logits = forward(mlp, inputs)?;
        let loss = cross_entropy(&logits, &Targets::Classes(labels.to_vec()))?;
        total_loss += f64::from(loss) * labels.len() as f64;
        correct += count_correct(&logits, labels);
        examples += labels.len();
    }
    let n = examples.max(1);
    Ok(EpochStats {
        loss: (total_loss / n as f64) as f32,
        accuracy: correct as f32 / n as f32,
        examples,
    })
}
// ANCHOR_END: evaluate

// ANCHOR: best_epoch
/// The position in `held_out` (one entry per epoch, in order) of the epoch
/// whose model to keep: the most accurate on the held-out set, the earliest
/// of equally accurate ones. None when there are no epochs.
pub fn best_epoch(held_out: &[EpochStats]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (epoch, stats) in held_out.iter().enumerate() {
        if best.is_none_or(|kept| stats.accuracy > held_out[kept].accuracy) {
            best = Some(epoch);
        }
    }
    best
}
// ANCHOR_END: best_epoch
