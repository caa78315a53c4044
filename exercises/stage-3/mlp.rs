//! Stage 3: the multilayer forward pass. Your exercise: fill in every `// TODO`.
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
        // TODO: start from a copy of the input and replace it by
        // `layer.forward(&current)?` for each layer in `self.layers`.
        todo!("Mlp::forward")
    }
    // ANCHOR_END: mlp_forward

    // ANCHOR: mlp_forward_trace
    /// Every intermediate value of the forward pass, which backpropagation
    /// needs: element i is the input of layer i, and the last element is the
    /// network's output (so there are `layers.len() + 1` of them).
    pub fn forward_trace(&self, input: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, ShapeError> {
        // TODO: like `forward`, but keep every value: push the input, then the
        // output of each layer in turn.
        todo!("Mlp::forward_trace")
    }
    // ANCHOR_END: mlp_forward_trace

    // ANCHOR: mlp_parameter_count
    /// The number of trainable numbers in the whole network.
    pub fn parameter_count(&self) -> usize {
        // TODO: add up `parameter_count()` of every linear layer, and of the
        // `linear` part of every maxout layer; activations have none.
        todo!("Mlp::parameter_count")
    }
    // ANCHOR_END: mlp_parameter_count
}
