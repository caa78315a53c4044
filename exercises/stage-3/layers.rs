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
    // TODO: Z = A Wᵀ + b, (batch, out). An input that is not (batch, in) is an
    // Err(ShapeError) (built with `ShapeError::new`) naming the shape it
    // needed, with `None` for the free batch size, and the shape it got,
    // before any arithmetic.
    todo!("linear_forward")
}
// ANCHOR_END: linear_forward

// ANCHOR: linear_parameter_count
/// The number of trainable numbers of a linear layer: every weight and
/// every bias.
pub fn linear_parameter_count(linear: &Linear) -> usize {
    // TODO: the count.
    todo!("linear_parameter_count")
}
// ANCHOR_END: linear_parameter_count

// ANCHOR: maxout_forward
/// Shapes: `input` (batch, in) → (batch, out). Output (r, o) is the largest
/// of the linear part's outputs (r, o·k), …, (r, o·k + k − 1).
pub fn maxout_forward(maxout: &Maxout, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the (batch, out) output, from your linear forward pass of the
    // linear part (out · k pieces per row); a wrong input width is its
    // ShapeError.
    todo!("maxout_forward")
}
// ANCHOR_END: maxout_forward
