//! Stage 3: the multilayer forward pass (reference solution).
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
    match layer {
        Layer::Linear(linear) => linear_forward(linear, input),
        Layer::Activation(activation) => Ok(input.map(|x| apply(*activation, x))),
        Layer::Maxout(maxout) => maxout_forward(maxout, input),
    }
}
// ANCHOR_END: layer_forward

// ANCHOR: mlp_forward
/// The network's output for a batch: each layer's output is the next
/// layer's input. Shapes: (batch, in) → (batch, out).
pub fn forward(mlp: &Mlp, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    let mut current = input.clone();
    for layer in &mlp.layers {
        current = layer_forward(layer, &current)?;
    }
    Ok(current)
}
// ANCHOR_END: mlp_forward

// ANCHOR: mlp_forward_trace
/// Every intermediate value of the forward pass, which backpropagation
/// needs: element i is the input of layer i, and the last element is the
/// network's output (so there are `layers.len() + 1` of them).
pub fn forward_trace(mlp: &Mlp, input: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, ShapeError> {
    let mut trace = Vec::with_capacity(mlp.layers.len() + 1);
    trace.push(input.clone());
    for layer in &mlp.layers {
        let next = layer_forward(
            layer,
            trace.last().expect("the trace starts with the input"),
        )?;
        trace.push(next);
    }
    Ok(trace)
}
// ANCHOR_END: mlp_forward_trace

// ANCHOR: mlp_parameter_count
/// The number of trainable numbers in the whole network.
pub fn parameter_count(mlp: &Mlp) -> usize {
    mlp.layers
        .iter()
        .map(|layer| match layer {
            Layer::Linear(linear) => linear_parameter_count(linear),
            Layer::Maxout(maxout) => linear_parameter_count(&maxout.linear),
            Layer::Activation(_) => 0,
        })
        .sum()
}
// ANCHOR_END: mlp_parameter_count
