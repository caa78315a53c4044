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
use course_support::gradcheck::{GradientReport, Tolerance, check_gradients};
use course_support::gradients::{LinearBackward, LinearGradients, MlpGradients};
use course_support::network::{Layer, Linear, Maxout, Mlp};
use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DVector};

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
    // TODO: the three gradients above. An input that is not (batch, in), or a
    // grad_output that is not (batch, out), is a ShapeError, before any
    // arithmetic.
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
    // TODO: dL/dZ as above, with f′ taken at Z (not at A = f(Z)). A
    // grad_output of another shape than Z is a ShapeError.
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
    // TODO: the linear part's gradients, with the gradient of each unit sent
    // to its winning piece only (the first of tied pieces, as in the forward
    // pass). A grad_output that is not (batch, out) is a ShapeError.
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
    // TODO: every layer's parameter gradients (none for an activation), and
    // dL/d(the network's input). A trace that is not one matrix longer than
    // the list of layers is an error (`ShapeError::count`).
    todo!("mlp_backward")
}
// ANCHOR_END: mlp_backward

// ANCHOR: check_linear_backward
/// Checks a linear layer's backward pass with the course's gradient checker,
/// `course_support::gradcheck::check_gradients`. For the loss L = Σ R ⊙ Z,
/// where Z = A Wᵀ + b is the layer's output for `input` A and `r` is a fixed
/// matrix R of Z's shape, dL/dZ = R; so `backward(layer, input, r)` must
/// match the slopes of L with respect to every weight, every bias and every
/// input. The report lists the tensors "weight", "bias" and "input", in that
/// order, checked with a step of 1e-2 and `Tolerance::F32`. A `backward`
/// that refuses the shapes is its error.
pub fn check_linear_backward(
    backward: LinearBackward,
    layer: &Linear,
    input: &DMatrix<f32>,
    r: &DMatrix<f32>,
) -> Result<GradientReport, ShapeError> {
    // TODO: the analytic gradients from `backward`; the loss as a function of
    // the three tensors' values (each flattened as nalgebra stores it, column
    // after column); and the checker's report.
    todo!("check_linear_backward")
}
// ANCHOR_END: check_linear_backward
