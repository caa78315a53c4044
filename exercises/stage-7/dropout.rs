//! Stage 7: dropout. Your exercise: fill in every `// TODO`.
//!
//! Inverted dropout, as `torch.nn.Dropout` in training: each hidden unit of
//! each example is zeroed with probability p and the survivors are scaled
//! by 1/(1 − p), so a unit's expected value is what it is without dropout,
//! and evaluation can use the network unchanged (dropout is the identity
//! there).
//!
//! Given code it uses, from `crates/support/src/`: `ShapeError` in
//! `shape.rs`.

use course_support::shape::ShapeError;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

// ANCHOR: dropout_mask
/// The mask of inverted dropout at rate p = `rate` for a (rows, columns)
/// batch: each entry is 0 (dropped) with probability p, else 1/(1 − p).
///
/// The draws follow one protocol exactly, because the fast engine draws
/// the same masks: one `rng.random::<f32>()` per entry, uniform in [0, 1),
/// in nalgebra's storage order (column 0 from top to bottom, then column
/// 1, …); the entry is dropped when its draw is below p. Every entry takes
/// its draw even at p = 0 (where none is dropped), so the stream never
/// depends on the rate. A rate outside [0, 1), or not a number, is an
/// error, before any draw.
pub fn dropout_mask(
    rows: usize,
    columns: usize,
    rate: f32,
    rng: &mut ChaCha8Rng,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the mask above. Check the rate first (a ShapeError::value for one
    // outside [0, 1), NaN included), then one draw per entry in storage order.
    todo!("dropout_mask")
}
// ANCHOR_END: dropout_mask

// ANCHOR: dropout_forward
/// Dropout in training: the input times its mask, entry by entry. Both are
/// (batch, units); another shape of mask is an error.
pub fn dropout_forward(
    input: &DMatrix<f32>,
    mask: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the product above, after checking the mask's shape.
    todo!("dropout_forward")
}
// ANCHOR_END: dropout_forward

// ANCHOR: dropout_backward
/// Backward through dropout: y = x ⊙ m, so dL/dx = dL/dy ⊙ m, with the
/// same mask as the forward pass. Another shape of mask is an error.
pub fn dropout_backward(
    grad_output: &DMatrix<f32>,
    mask: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: dL/dx above, after checking the mask's shape.
    todo!("dropout_backward")
}
// ANCHOR_END: dropout_backward
