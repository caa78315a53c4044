//! Stage 3: the multilayer forward pass. Your exercise: fill in every `// TODO`.
//!
//! An [`Mlp`] is a list of layers (given in `crates/support/src/network.rs`):
//! linear layers, element-wise activations and maxout layers. Its forward
//! pass feeds a batch through them in order.

use course_support::network::{Layer, Mlp};
use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::activations::apply;
use crate::layers::{linear_forward, linear_parameter_count, maxout_forward};

// ANCHOR: layer_forward
/// One layer's output for a batch: a linear or maxout layer's forward pass,
/// or the activation applied to every entry. Shapes: (batch, in) →
/// (batch, out); an activation keeps the shape.
pub fn layer_forward(layer: &Layer, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: each kind of `Layer`: the linear and maxout layers' forward
    // passes (layers.rs), and for an activation its value (stage 2's
    // `apply`) at every entry.
    todo!("layer_forward")
}
// ANCHOR_END: layer_forward

// ANCHOR: mlp_forward
/// The network's output for a batch: each layer's output is the next
/// layer's input. Shapes: (batch, in) → (batch, out).
pub fn forward(mlp: &Mlp, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: the output of the last layer; a shape error of any layer is
    // returned as it is.
    todo!("forward")
}
// ANCHOR_END: mlp_forward

// ANCHOR: mlp_forward_trace
/// Every intermediate value of the forward pass, which backpropagation
/// needs: element i is the input of layer i, and the last element is the
/// network's output (so there are `layers.len() + 1` of them).
pub fn forward_trace(mlp: &Mlp, input: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, ShapeError> {
    // TODO: the input, then every layer's output, in order.
    todo!("forward_trace")
}
// ANCHOR_END: mlp_forward_trace

// ANCHOR: mlp_parameter_count
/// The number of trainable numbers in the whole network.
pub fn parameter_count(mlp: &Mlp) -> usize {
    // TODO: the count over every layer (activations have no parameters).
    todo!("parameter_count")
}
// ANCHOR_END: mlp_parameter_count
