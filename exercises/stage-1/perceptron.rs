//! Stage 1: the perceptron. Your exercise: fill in every `// TODO`.
//!
//! A perceptron computes a weighted sum of its inputs plus a bias,
//! z = w · x + b, and fires (outputs 1) when z >= 0. The perceptron learning
//! rule nudges w and b towards every example it gets wrong.

use course_support::data::Dataset;
use nalgebra::{DMatrix, DVector};

// ANCHOR: weighted_sum
/// The weighted sum z = w · x + b = w₁x₁ + … + w_d x_d + b.
///
/// Shapes: `weights` and `x` both have length d; the result is a scalar.
pub fn weighted_sum(weights: &DVector<f32>, bias: f32, x: &DVector<f32>) -> f32 {
    // TODO: z = w · x + b.
    todo!("weighted_sum")
}
// ANCHOR_END: weighted_sum

// ANCHOR: step
/// The threshold (Heaviside step) activation: 1 if z >= 0, else 0.
pub fn step(z: f32) -> f32 {
    // TODO: the step, with 0 counting as firing.
    todo!("step")
}
// ANCHOR_END: step

// ANCHOR: perceptron
/// A perceptron over d inputs: weights w (length d) and a bias b.
#[derive(Clone, Debug, PartialEq)]
pub struct Perceptron {
    pub weights: DVector<f32>,
    pub bias: f32,
}
// ANCHOR_END: perceptron

/// What happened during training.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingReport {
    /// Mistakes made in each epoch, in order; the last entry is the final epoch.
    pub mistakes_per_epoch: Vec<usize>,
    /// True when the last epoch made no mistake: every example is classified correctly.
    pub converged: bool,
}

impl Perceptron {
    /// A perceptron with all weights and the bias at zero.
    pub fn zeros(inputs: usize) -> Self {
        Self::new(DVector::zeros(inputs), 0.0)
    }

    /// A perceptron with the given weights (length d) and bias.
    pub fn new(weights: DVector<f32>, bias: f32) -> Self {
        Self { weights, bias }
    }

    // ANCHOR: predict
    /// The perceptron's output for one input x (length d): step(w · x + b), 0 or 1.
    pub fn predict(&self, x: &DVector<f32>) -> f32 {
        // TODO: combine `weighted_sum` and `step`.
        todo!("Perceptron::predict")
    }
    // ANCHOR_END: predict

    // ANCHOR: predict_batch
    /// Outputs for a whole batch at once: step(X w + b) applied to every row.
    ///
    /// Shapes: `inputs` is (n, d), one example per row; the result has length n.
    pub fn predict_batch(&self, inputs: &DMatrix<f32>) -> DVector<f32> {
        // TODO: every row's output at once, without a loop over the rows.
        todo!("Perceptron::predict_batch")
    }
    // ANCHOR_END: predict_batch

    // ANCHOR: update
    /// One step of the perceptron learning rule on one example (x, target):
    ///
    ///   y = predict(x);  w ← w + η (target − y) x;  b ← b + η (target − y)
    ///
    /// `target` is 0 or 1, η is `learning_rate`. Returns true when the example
    /// was misclassified (and the weights therefore changed).
    pub fn update(&mut self, x: &DVector<f32>, target: f32, learning_rate: f32) -> bool {
        // TODO: the rule above; a correct prediction changes nothing.
        todo!("Perceptron::update")
    }
    // ANCHOR_END: update

    // ANCHOR: train
    /// Train with the perceptron rule: each epoch visits every example once, in
    /// order, and calls `update`. Stop after the first epoch with no mistake,
    /// or after `max_epochs` epochs, whichever comes first.
    pub fn train(
        &mut self,
        data: &Dataset,
        learning_rate: f32,
        max_epochs: usize,
    ) -> TrainingReport {
        // TODO: for each epoch, call `update` on every (input, label) pair of
        // `data` in order and count the mistakes; record the count in
        // `mistakes_per_epoch`; stop early after an epoch with no mistake.
        // `converged` says whether the last recorded epoch had zero mistakes.
        todo!("Perceptron::train")
    }
    // ANCHOR_END: train
}
