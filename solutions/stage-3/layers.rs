//! Stage 3: the linear layer and the maxout layer (reference solution).
//!
//! Shapes follow PyTorch and CMU's MyTorch: a batch of inputs A is
//! (batch, in), one example per row; a layer's weights W are (out, in); its
//! bias b has length out; and its output Z = A Wᵀ + b is (batch, out).
//!
//! The layers themselves, [`Linear`] and [`Maxout`], are given in
//! `crates/support/src/network.rs`; here is what they compute.

use course_support::network::{Linear, Maxout};
use course_support::shape::ShapeError;
use nalgebra::DMatrix;

// ANCHOR: linear_forward
/// Z = A Wᵀ + b for a whole batch: `input` A is (batch, in), the result
/// is (batch, out), and b is added to every row.
///
/// An input with the wrong number of columns is a [`ShapeError`] that
/// names the expected and found shapes.
pub fn linear_forward(linear: &Linear, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    if input.ncols() != linear.in_features() {
        return Err(ShapeError::new(
            "linear_forward input",
            (None, Some(linear.in_features())),
            input.shape(),
        ));
    }
    let mut z = input * linear.weights.transpose();
    for mut row in z.row_iter_mut() {
        row += linear.bias.transpose();
    }
    Ok(z)
}
// ANCHOR_END: linear_forward

// ANCHOR: linear_parameter_count
/// The number of trainable numbers of a linear layer: every weight and
/// every bias.
pub fn linear_parameter_count(linear: &Linear) -> usize {
    linear.weights.len() + linear.bias.len()
}
// ANCHOR_END: linear_parameter_count

// ANCHOR: maxout_forward
/// Shapes: `input` (batch, in) → (batch, out). Output (r, o) is the largest
/// of the linear part's outputs (r, o·k), …, (r, o·k + k − 1).
pub fn maxout_forward(maxout: &Maxout, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    let z = linear_forward(&maxout.linear, input)?;
    let k = maxout.pieces;
    Ok(DMatrix::from_fn(
        z.nrows(),
        maxout.out_features(),
        |r, o| z.view((r, o * k), (1, k)).max(),
    ))
}
// ANCHOR_END: maxout_forward
