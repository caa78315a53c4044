//! Figures over a data set: what one pass measured ([`EpochStats`]), and
//! the statistics inputs are standardised with ([`Standardization`]).
//!
//! Given, not an exercise: stage 5's `training::train_epoch`,
//! `training::evaluate` and `data::training_statistics` fill them in.

use nalgebra::DMatrix;

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

/// Inputs standardised as x ↦ (x − mean) / std, with the mean and the
/// standard deviation of the training inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardization {
    pub mean: f32,
    pub std: f32,
}

impl Standardization {
    /// Standardises every value of `inputs` in place.
    pub fn apply(&self, inputs: &mut DMatrix<f32>) {
        inputs.apply(|x| *x = (*x - self.mean) / self.std);
    }
}
