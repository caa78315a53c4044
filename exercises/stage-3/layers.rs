//! Stage 3: the linear layer and the maxout layer. Your exercise: fill in every `// TODO`.
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
    // TODO: if `input.ncols()` is not `linear.in_features()`, return
    // `Err(ShapeError::new("linear_forward input", format!("(batch, {})", linear.in_features()), input.shape()))`.
    // Then compute A Wᵀ (`input * linear.weights.transpose()`), add the bias to
    // every row (`for mut row in z.row_iter_mut()`, `row += linear.bias.transpose()`),
    // and return it in `Ok`.
    todo!("linear_forward")
}
// ANCHOR_END: linear_forward

// ANCHOR: linear_parameter_count
/// The number of trainable numbers of a linear layer: every weight and
/// every bias.
pub fn linear_parameter_count(linear: &Linear) -> usize {
    // TODO: out · in weights plus out biases.
    todo!("linear_parameter_count")
}
// ANCHOR_END: linear_parameter_count

// ANCHOR: maxout_forward
/// Shapes: `input` (batch, in) → (batch, out). Output (r, o) is the largest
/// of the linear part's outputs (r, o·k), …, (r, o·k + k − 1).
pub fn maxout_forward(maxout: &Maxout, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: z = linear_forward(&maxout.linear, input)? is (batch, out · k). Build the
    // (batch, out) result, for example with `DMatrix::from_fn(rows, cols, |r, o| ...)`;
    // `z.view((r, o * k), (1, k))` is the 1 × k block of unit o's pieces, and
    // a view has `.max()`.
    todo!("maxout_forward")
}
// ANCHOR_END: maxout_forward
