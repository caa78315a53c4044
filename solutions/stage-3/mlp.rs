//! Stage 3: the multilayer forward pass (reference solution).
//!
//! An [`Mlp`] is a list of layers (given in `crates/stage-3/network.rs`):
//! linear layers, element-wise activations and maxout layers. Its forward
//! pass feeds a batch through them in order.

use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::network::{Layer, Mlp};

impl Mlp {
    // ANCHOR: mlp_forward
    /// The network's output for a batch: each layer's output is the next
    /// layer's input. Shapes: (batch, in) → (batch, out).
    pub fn forward(&self, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
        let mut current = input.clone();
        for layer in &self.layers {
            current = layer.forward(&current)?;
        }
        Ok(current)
    }
    // ANCHOR_END: mlp_forward

    // ANCHOR: mlp_forward_trace
    /// Every intermediate value of the forward pass, which backpropagation
    /// needs: element i is the input of layer i, and the last element is the
    /// network's output (so there are `layers.len() + 1` of them).
    pub fn forward_trace(&self, input: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, ShapeError> {
        let mut trace = Vec::with_capacity(self.layers.len() + 1);
        trace.push(input.clone());
        for layer in &self.layers {
            let next = layer.forward(trace.last().expect("the trace starts with the input"))?;
            trace.push(next);
        }
        Ok(trace)
    }
    // ANCHOR_END: mlp_forward_trace

    // ANCHOR: mlp_parameter_count
    /// The number of trainable numbers in the whole network.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|layer| match layer {
                Layer::Linear(linear) => linear.parameter_count(),
                Layer::Maxout(maxout) => maxout.linear.parameter_count(),
                Layer::Activation(_) => 0,
            })
            .sum()
    }
    // ANCHOR_END: mlp_parameter_count
}
