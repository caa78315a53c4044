//! Stage 5: the data's side of training: the seeded shuffle that gives each
//! epoch its order, and the statistics the inputs are standardised with.
//! Your exercise: fill in every `// TODO`.
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
    // TODO: walk the positions from the last one down to the second. At
    // each, draw one position (a usize) uniformly with `rng.random_range`,
    // among those not yet settled, and swap the two. Every one of the n! orders must be
    // equally likely, and the same generator state must give the same order
    // as the course's shuffle (its runs are compared with yours).
    todo!("shuffle")
}
// ANCHOR_END: shuffle

// ANCHOR: training_statistics
/// The mean and the standard deviation (population: divided by the count)
/// of every value of the training inputs, to standardise all three splits
/// with.
pub fn training_statistics(train: &DMatrix<f32>) -> Result<Standardization, ShapeError> {
    // TODO: one mean and one standard deviation over all the values.
    // Requirements: accurate to 1e-4 relative for data far from 0 (values
    // around 1e7 that differ by 1) and for millions of values (the full
    // MNIST training split is 42 million); a shape error for an empty
    // matrix; a value error when the deviation is 0 or anything is not
    // finite, since nothing could be standardised with it.
    todo!("training_statistics")
}
// ANCHOR_END: training_statistics
