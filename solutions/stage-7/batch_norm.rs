//! Stage 7: batch normalisation (reference solution).
//!
//! A batch-norm layer standardises each feature (column) of its input: in
//! training with the batch's own mean and variance, which it also folds
//! into running estimates; in evaluation with those running estimates, so
//! an example's output no longer depends on the rest of its batch. Then it
//! scales by γ and shifts by β, both learnt.
//!
//! Given code it uses, from `crates/support/src/`: `BatchNorm`,
//! `BatchNormCache`, `BatchNormGradients` and `BatchNormBackward` in
//! `regularise.rs`; `check_gradients` and `Tolerance` in `gradcheck.rs`.

use course_support::gradcheck::{GradientReport, Tolerance, check_gradients};
use course_support::regularise::{
    BatchNorm, BatchNormBackward, BatchNormCache, BatchNormGradients,
};
use course_support::shape::{Expected, Found, ShapeError};
use nalgebra::{DMatrix, DVector};

// ANCHOR: batch_norm_train
/// Batch normalisation in training, on a batch X of shape (N, F), F =
/// `bn.features()`. For each feature j, over the batch's N rows:
///
/// - μ_j = (1/N) Σ_n x_nj and σ²_j = (1/N) Σ_n (x_nj − μ_j)², the biased
///   variance (divided by N);
/// - x̂_nj = (x_nj − μ_j) / √(σ²_j + ε), and y_nj = γ_j x̂_nj + β_j.
///
/// Then, as PyTorch, the running estimates move towards the batch's by the
/// momentum m: running_mean ← (1 − m) running_mean + m μ, and
/// running_var ← (1 − m) running_var + m σ²_unbiased, where the unbiased
/// variance divides by N − 1.
///
/// Returns Y (N, F) and the cache the backward pass needs (x̂ and
/// 1/√(σ² + ε)). Compute the statistics in two passes (the mean, then the
/// squared deviations from it), accumulating in f64: one pass of
/// E[x²] − E[x]² loses every digit when the values sit far from zero. A
/// constant column has σ² = 0, so x̂ = 0 there (ε keeps it finite).
/// Errors, before any change to `bn`: an input that is not F wide (a shape
/// error), and a batch of fewer than 2 rows (an error with
/// `Expected::Described` and `Found::Shape(rows, columns)`): one row has no
/// variance to estimate, and PyTorch refuses it too.
pub fn batch_norm_train(
    bn: &mut BatchNorm,
    input: &DMatrix<f32>,
) -> Result<(DMatrix<f32>, BatchNormCache), ShapeError> {
    let (n, features) = input.shape();
    if features != bn.features() {
        return Err(ShapeError::new(
            "batch_norm_train input",
            (None, Some(bn.features())),
            input.shape(),
        ));
    }
    if n < 2 {
        return Err(ShapeError {
            what: "batch_norm_train batch".to_owned(),
            expected: Expected::Described("a batch of at least 2 rows".to_owned()),
            found: Found::Shape(n, features),
        });
    }
    let mut normalized = DMatrix::zeros(n, features);
    let mut inverse_std = DVector::zeros(features);
    let m = bn.momentum;
    for j in 0..features {
        let column = input.column(j);
        let mean = column.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
        let squares: f64 = column.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum();
        let variance = squares / n as f64;
        let inv_std = 1.0 / (variance + f64::from(bn.epsilon)).sqrt();
        for (x_hat, &x) in normalized.column_mut(j).iter_mut().zip(column.iter()) {
            *x_hat = ((f64::from(x) - mean) * inv_std) as f32;
        }
        inverse_std[j] = inv_std as f32;
        let unbiased = squares / (n - 1) as f64;
        bn.running_mean[j] = (1.0 - m) * bn.running_mean[j] + m * mean as f32;
        bn.running_var[j] = (1.0 - m) * bn.running_var[j] + m * unbiased as f32;
    }
    let mut output = normalized.clone();
    for (j, mut column) in output.column_iter_mut().enumerate() {
        column.apply(|y| *y = bn.gamma[j] * *y + bn.beta[j]);
    }
    let cache = BatchNormCache {
        normalized,
        inverse_std,
    };
    Ok((output, cache))
}
// ANCHOR_END: batch_norm_train

// ANCHOR: batch_norm_eval
/// Batch normalisation in evaluation: each feature j standardised with the
/// running estimates, y_nj = γ_j (x_nj − running_mean_j) /
/// √(running_var_j + ε) + β_j. Each row on its own, so any batch size
/// works, 1 included; `bn` does not change. An input that is not F wide is
/// a shape error.
pub fn batch_norm_eval(bn: &BatchNorm, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    ShapeError::check(
        "batch_norm_eval input",
        (input.nrows(), bn.features()),
        input.shape(),
    )?;
    let mut output = input.clone();
    for (j, mut column) in output.column_iter_mut().enumerate() {
        let scale = bn.gamma[j] / (bn.running_var[j] + bn.epsilon).sqrt();
        let (mean, beta) = (bn.running_mean[j], bn.beta[j]);
        column.apply(|y| *y = scale * (*y - mean) + beta);
    }
    Ok(output)
}
// ANCHOR_END: batch_norm_eval

// ANCHOR: batch_norm_backward
/// Backward through batch normalisation in training, given the forward
/// pass's cache and dL/dY (N, F). μ and σ² depend on every row of the
/// batch, so the gradient flows through them too; per feature j, with
/// s = 1/√(σ²_j + ε) and sums over the batch's rows n:
///
/// - dL/dβ_j = Σ_n dy_nj;
/// - dL/dγ_j = Σ_n dy_nj x̂_nj;
/// - dL/dx_nj = (γ_j s / N) (N dy_nj − Σ_n dy_nj − x̂_nj Σ_n dy_nj x̂_nj).
///
/// A dL/dY of another shape than the cache's x̂, or a cache of another
/// width than the layer, is a shape error.
pub fn batch_norm_backward(
    bn: &BatchNorm,
    cache: &BatchNormCache,
    grad_output: &DMatrix<f32>,
) -> Result<BatchNormGradients, ShapeError> {
    let (n, features) = cache.normalized.shape();
    ShapeError::check(
        "batch_norm_backward cache",
        (n, bn.features()),
        (n, features),
    )?;
    ShapeError::check(
        "batch_norm_backward grad_output",
        (n, features),
        grad_output.shape(),
    )?;
    let mut input = DMatrix::zeros(n, features);
    let mut gamma = DVector::zeros(features);
    let mut beta = DVector::zeros(features);
    for j in 0..features {
        let (dy, x_hat) = (grad_output.column(j), cache.normalized.column(j));
        let sum_dy: f32 = dy.sum();
        let sum_dy_x_hat: f32 = dy.dot(&x_hat);
        let scale = bn.gamma[j] * cache.inverse_std[j] / n as f32;
        for i in 0..n {
            input[(i, j)] = scale * (n as f32 * dy[i] - sum_dy - x_hat[i] * sum_dy_x_hat);
        }
        gamma[j] = sum_dy_x_hat;
        beta[j] = sum_dy;
    }
    Ok(BatchNormGradients { input, gamma, beta })
}
// ANCHOR_END: batch_norm_backward

// ANCHOR: check_batch_norm_backward
/// Checks a batch-norm layer's backward pass with the course's gradient
/// checker, as stage 4's `check_linear_backward` does a linear layer's. For
/// the loss L = Σ R ⊙ Y, where Y is the layer's training-mode output for
/// `input` (the batch's own statistics) and `r` a fixed matrix R of Y's
/// shape, dL/dY = R; so `backward(bn, cache, r)` must match the slopes of L
/// with respect to every γ, every β and every input.
///
/// The report is what `check_gradients` gives for three tensors, in this
/// order: "gamma" (F values), "beta" (F values) and "input" (N · F values,
/// in nalgebra's storage order), with a step of 1e-2 and `Tolerance::F32`.
/// The loss the checker takes returns an f32: accumulate L in f64 (each
/// y_nj · r_nj in f64, summed in f64) and round it to f32 once, at the end.
/// One field of the report is yours to fill: `check_gradients` cannot know
/// that the input is a matrix, so set the input's `rows`
/// (`tensors[2].rows`) to Some(N), the batch size, for a failure to name
/// its (row, column); gamma's and beta's stay `None`.
///
/// Every forward pass runs on a copy of `bn`: the check must not move the
/// layer's running estimates. The input's columns should vary by about 1 or
/// more (x̂ bends on the scale of σ). Errors: one from the forward pass or
/// from `backward` (a batch of one row, a width other than F) is returned
/// as it is, and an `r` of another shape than the input is a shape error.
pub fn check_batch_norm_backward(
    backward: BatchNormBackward,
    bn: &BatchNorm,
    input: &DMatrix<f32>,
    r: &DMatrix<f32>,
) -> Result<GradientReport, ShapeError> {
    let (_, cache) = batch_norm_train(&mut bn.clone(), input)?;
    ShapeError::check("check_batch_norm_backward r", input.shape(), r.shape())?;
    let analytic = backward(bn, &cache, r)?;
    let (rows, columns) = input.shape();
    let tensors = [
        ("gamma", bn.gamma.as_slice()),
        ("beta", bn.beta.as_slice()),
        ("input", input.as_slice()),
    ]
    .map(|(name, values)| (name.to_owned(), values.to_vec()));
    // L as a function of the three tensors' values, on a fresh copy each time.
    let loss = |values: &[Vec<f32>]| {
        let mut probe = bn.clone();
        probe.gamma.copy_from_slice(&values[0]);
        probe.beta.copy_from_slice(&values[1]);
        let x = DMatrix::from_column_slice(rows, columns, &values[2]);
        batch_norm_train(&mut probe, &x).map_or(f32::NAN, |(y, _)| {
            y.iter()
                .zip(r.iter())
                .map(|(&y, &r)| f64::from(y) * f64::from(r))
                .sum::<f64>() as f32
        })
    };
    let gradients = [
        analytic.gamma.as_slice(),
        analytic.beta.as_slice(),
        analytic.input.as_slice(),
    ];
    let mut report = check_gradients(&tensors, &gradients, loss, 1e-2, Tolerance::F32);
    report.tensors[2].rows = Some(rows);
    Ok(report)
}
// ANCHOR_END: check_batch_norm_backward
