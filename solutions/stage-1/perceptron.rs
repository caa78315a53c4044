//! Stage 1: the perceptron (reference solution).
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
    weights.dot(x) + bias
}
// ANCHOR_END: weighted_sum

// ANCHOR: step
/// The threshold (Heaviside step) activation: 1 if z >= 0, else 0.
pub fn step(z: f32) -> f32 {
    if z >= 0.0 { 1.0 } else { 0.0 }
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
        step(weighted_sum(&self.weights, self.bias, x))
    }
    // ANCHOR_END: predict

    // ANCHOR: predict_batch
    /// Outputs for a whole batch at once: step(X w + b) applied to every row.
    ///
    /// Shapes: `inputs` is (n, d), one example per row; the result has length n.
    pub fn predict_batch(&self, inputs: &DMatrix<f32>) -> DVector<f32> {
        let sums = inputs * &self.weights;
        sums.map(|z| step(z + self.bias))
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
        let error = target - self.predict(x);
        if error == 0.0 {
            return false;
        }
        self.weights.axpy(learning_rate * error, x, 1.0);
        self.bias += learning_rate * error;
        true
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
        let mut mistakes_per_epoch = Vec::new();
        for _ in 0..max_epochs {
            let mut mistakes = 0;
            for (x, &target) in data.inputs.iter().zip(&data.labels) {
                if self.update(x, target, learning_rate) {
                    mistakes += 1;
                }
            }
            mistakes_per_epoch.push(mistakes);
            if mistakes == 0 {
                break;
            }
        }
        let converged = mistakes_per_epoch.last() == Some(&0);
        TrainingReport {
            mistakes_per_epoch,
            converged,
        }
    }
    // ANCHOR_END: train
}
