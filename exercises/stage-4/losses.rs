//! Stage 4: losses and their gradients. Your exercise: fill in every `// TODO`.
//!
//! Every loss is a mean over the batch, so its size does not change the
//! scale of the gradients: mean squared error averages over every entry (as
//! PyTorch's `MSELoss`), cross-entropy over the rows (as `CrossEntropyLoss`).
//!
//! Given code it uses: `Targets` in `crates/support/src/gradients.rs`; `softmax`
//! from the reference of stage 2.

use course_support::gradients::Targets;
use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::activations::softmax;

// ANCHOR: mse
/// L = (1 / (N·C)) Σ (y − t)² over every entry of the (N, C) outputs y.
pub fn mse(outputs: &DMatrix<f32>, targets: &DMatrix<f32>) -> Result<f32, ShapeError> {
    // TODO: the mean over all N·C entries. Targets of another shape than the
    // outputs are a ShapeError.
    todo!("mse")
}

/// dL/dy = 2 (y − t) / (N·C), the shape of the outputs.
pub fn mse_gradient(
    outputs: &DMatrix<f32>,
    targets: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the gradient above, with the same shape check.
    todo!("mse_gradient")
}
// ANCHOR_END: mse

// ANCHOR: log_softmax
/// log softmax(z) row by row, computed as z − max − ln Σ e^(z − max) (the
/// log-sum-exp trick), which stays exact and finite for logits of ±1e4.
pub fn log_softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    // TODO: log softmax of each row, exact and finite for logits of ±1e4
    // (where softmax itself underflows to 0 and its logarithm to −∞).
    todo!("log_softmax")
}
// ANCHOR_END: log_softmax

// ANCHOR: cross_entropy
/// Softmax cross-entropy on logits z (N, C) against targets t (one-hot or
/// soft rows): L = −(1/N) Σ_n Σ_c t_nc · log softmax(z_n)_c.
pub fn cross_entropy(logits: &DMatrix<f32>, targets: &Targets) -> Result<f32, ShapeError> {
    // TODO: L as above, averaged over the rows (not over rows and classes),
    // finite at logits of ±1e4. Bad targets are the error `Targets` gives.
    todo!("cross_entropy")
}

/// dL/dz = (softmax(z) − t) / N.
pub fn cross_entropy_gradient(
    logits: &DMatrix<f32>,
    targets: &Targets,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the gradient above, (N, C).
    todo!("cross_entropy_gradient")
}
// ANCHOR_END: cross_entropy
