//! Stage 5: the data's side of training (reference solution): the seeded
//! shuffle that gives each epoch its order, and the statistics the inputs
//! are standardised with.
//!
//! Given code it uses, from `crates/support/src/`: `Standardization` in
//! `stats.rs` and `ShapeError` in `shape.rs`. The loader (`BatchLoader` in
//! `batches.rs`) calls your shuffle at the start of every epoch.

use course_support::shape::ShapeError;
use course_support::stats::Standardization;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

// ANCHOR: shuffle
/// Puts `order` in a uniformly random order (every permutation equally
/// likely), drawing from `rng`: the Fisher–Yates shuffle, from the last
/// position down, with one draw per position.
pub fn shuffle(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}
// ANCHOR_END: shuffle

// ANCHOR: training_statistics
/// The mean and the standard deviation (population: divided by the count)
/// of every value of the training inputs, to standardise all three splits
/// with.
pub fn training_statistics(train: &DMatrix<f32>) -> Result<Standardization, ShapeError> {
    if train.is_empty() {
        return Err(ShapeError::value(
            "training_statistics input",
            "at least one value",
            format!("a matrix of shape {:?}", train.shape()),
        ));
    }
    // Two passes, summed in f64: one pass (the mean of squares minus the
    // squared mean) cancels catastrophically, and f32 sums of millions of
    // pixels drift.
    let n = train.len() as f64;
    let mean = train.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let variance = train
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = variance.sqrt() as f32;
    if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
        return Err(ShapeError::value(
            "training_statistics",
            "finite values that are not all equal (a standard deviation above 0)",
            format!("mean {mean}, standard deviation {std}"),
        ));
    }
    Ok(Standardization {
        mean: mean as f32,
        std,
    })
}
// ANCHOR_END: training_statistics
