//! Stage 4: backpropagation. Your exercise: fill in every `// TODO`.
//!
//! Each function takes what its layer saw in the forward pass and dL/d(its
//! output), and returns dL/d(its input), plus the gradients of its own
//! parameters. Shapes follow stage 3: A is (batch, in), W is (out, in),
//! Z = A Wᵀ + b is (batch, out).
//!
//! Given code it uses, from `crates/support/src/`: `LinearGradients` and
//! `MlpGradients` in `gradients.rs`; `Mlp`, `Layer`, `Linear` and `Maxout`
//! in `network.rs`; `Activation` in `activation.rs`. From the reference of
//! stages 2 and 3: `derivative` and `linear_forward`.

use course_support::activation::Activation;
use course_support::gradients::{LinearGradients, MlpGradients};
use course_support::network::{Layer, Linear, Maxout, Mlp};
use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::activations::derivative;
use crate::layers::linear_forward;

// ANCHOR: linear_backward
/// Backward through Z = A Wᵀ + b, given the layer's input A (batch, in) and
/// dL/dZ (batch, out):
///
/// - dL/dA = dL/dZ · W, shape (batch, in);
/// - dL/dW = (dL/dZ)ᵀ · A, shape (out, in);
/// - dL/db = the column sums of dL/dZ, length out.
pub fn linear_backward(
    layer: &Linear,
    input: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<LinearGradients, ShapeError> {
    // TODO: first check the shapes, so a mismatch is an error and not a panic:
    //   ShapeError::check("linear_backward input", (input.nrows(), layer.in_features()), input.shape())?;
    //   ShapeError::check("linear_backward grad_output", (input.nrows(), layer.out_features()), grad_output.shape())?;
    // Then the three formulas above. Hints: `m.transpose()`, `&a * &b`, and
    // `m.row_sum()` adds up the rows into one (1, out) row (transpose it).
    todo!("linear_backward")
}
// ANCHOR_END: linear_backward

// ANCHOR: activation_backward
/// Backward through an element-wise activation A = f(Z): given Z and dL/dA
/// (same shape), dL/dZ = dL/dA ⊙ f′(Z), entry by entry.
pub fn activation_backward(
    activation: Activation,
    pre_activation: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: check that grad_output has the shape of pre_activation (as in
    // `linear_backward`), then multiply entry by entry. Hints:
    // `derivative(activation, z)` is f′(z); `a.zip_map(&b, |x, y| ...)` combines
    // two matrices entry by entry.
    todo!("activation_backward")
}
// ANCHOR_END: activation_backward

// ANCHOR: maxout_backward
/// Backward through a maxout layer: only the winning piece of each unit
/// passes the gradient on. Route dL/d(output) (batch, out) to the winners'
/// columns of the linear part's output (batch, out · k), zeros elsewhere,
/// then go back through the linear part.
pub fn maxout_backward(
    layer: &Maxout,
    input: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<LinearGradients, ShapeError> {
    // TODO: recompute z = linear_forward(&layer.linear, input)?, check grad_output is
    // (batch, out). Make a zero matrix of z's shape; for every row r and unit o
    // find the column of the largest of z(r, o·k .. o·k + k) (the first one on
    // a tie, as in the forward pass) and put grad_output(r, o) there. Then
    // return `linear_backward(&layer.linear, input, &that_matrix)`.
    todo!("maxout_backward")
}
// ANCHOR_END: maxout_backward

// ANCHOR: mlp_backward
/// Backward through a whole network. `trace` is `forward_trace(mlp, input)`:
/// trace[i] is the input of layer i. Walk the layers from last to first,
/// passing each one's input gradient to the layer before it.
pub fn mlp_backward(
    mlp: &Mlp,
    trace: &[DMatrix<f32>],
    grad_output: &DMatrix<f32>,
) -> Result<MlpGradients, ShapeError> {
    // TODO: if trace.len() is not mlp.layers.len() + 1, return
    //   Err(ShapeError::value("mlp_backward trace", format!("{} matrices (forward_trace's output)", mlp.layers.len() + 1), format!("{}", trace.len())))
    // Start from grad = grad_output and `layers = vec![None; mlp.layers.len()]`.
    // For i from the last layer down to 0 (`mlp.layers.iter().enumerate().rev()`),
    // match on the layer: an activation maps grad through `activation_backward`
    // with Z = trace[i]; a linear or maxout layer stores Some((dW, db)) in
    // layers[i] and passes its input gradient on. End with
    // `Ok(MlpGradients { input: grad, layers })`.
    todo!("mlp_backward")
}
// ANCHOR_END: mlp_backward
