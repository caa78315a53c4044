//! What one pass over a data set measured.
//!
//! Given, not an exercise: stage 5's `training::train_epoch` and
//! `training::evaluate` fill it in.

/// The mean loss and the accuracy over the examples seen so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpochStats {
    /// The mean loss per example.
    pub loss: f32,
    /// The fraction of examples whose predicted class was right.
    pub accuracy: f32,
    /// How many examples these figures cover.
    pub examples: usize,
}
