//! Stage 4: losses and their gradients (reference solution).
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
    ShapeError::check("mse targets", outputs.shape(), targets.shape())?;
    Ok((outputs - targets).norm_squared() / outputs.len() as f32)
}

/// dL/dy = 2 (y − t) / (N·C), the shape of the outputs.
pub fn mse_gradient(
    outputs: &DMatrix<f32>,
    targets: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    ShapeError::check("mse_gradient targets", outputs.shape(), targets.shape())?;
    Ok((outputs - targets) * (2.0 / outputs.len() as f32))
}
// ANCHOR_END: mse

// ANCHOR: log_softmax
/// log softmax(z) row by row, computed as z − max − ln Σ e^(z − max) (the
/// log-sum-exp trick), which stays exact and finite for logits of ±1e4.
pub fn log_softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = logits.clone();
    for mut row in out.row_iter_mut() {
        let max = row.max();
        let log_sum = row.iter().map(|&z| (z - max).exp()).sum::<f32>().ln();
        row.apply(|z| *z = *z - max - log_sum);
    }
    out
}
// ANCHOR_END: log_softmax

// ANCHOR: cross_entropy
/// Softmax cross-entropy on logits z (N, C) against targets t (one-hot or
/// soft rows): L = −(1/N) Σ_n Σ_c t_nc · log softmax(z_n)_c.
pub fn cross_entropy(logits: &DMatrix<f32>, targets: &Targets) -> Result<f32, ShapeError> {
    let t = targets.to_dense(logits.nrows(), logits.ncols())?;
    let log_p = log_softmax(logits);
    Ok(-t.component_mul(&log_p).sum() / logits.nrows() as f32)
}

/// dL/dz = (softmax(z) − t) / N.
pub fn cross_entropy_gradient(
    logits: &DMatrix<f32>,
    targets: &Targets,
) -> Result<DMatrix<f32>, ShapeError> {
    let t = targets.to_dense(logits.nrows(), logits.ncols())?;
    Ok((softmax(logits) - t) / logits.nrows() as f32)
}
// ANCHOR_END: cross_entropy
