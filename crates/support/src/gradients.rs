//! What training compares and computes: [`Targets`], the [`Loss`] to
//! minimise, the gradients of a layer and of a network, and what one
//! training step saw.
//!
//! Given, not an exercise: computing the gradients is stage 4's exercise
//! (`backward`, `losses`, `train`).

use nalgebra::{DMatrix, DVector};

use crate::network::Linear;
use crate::shape::ShapeError;

/// What a network's outputs are compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// One class index per row of the batch, each below the number of classes.
    Classes(Vec<usize>),
    /// A full (batch, outputs) matrix: one-hot rows, soft probabilities (rows
    /// that sum to 1) for cross-entropy, or any values for mean squared error.
    Dense(DMatrix<f32>),
}

impl Targets {
    /// The targets as a (batch, outputs) matrix: class indices become one-hot
    /// rows. Fails when the batch size differs, or a class is out of range.
    pub fn to_dense(&self, batch: usize, outputs: usize) -> Result<DMatrix<f32>, ShapeError> {
        match self {
            Self::Dense(m) => {
                ShapeError::check("targets", (batch, outputs), m.shape())?;
                Ok(m.clone())
            }
            Self::Classes(classes) => {
                if classes.len() != batch {
                    return Err(ShapeError::count(
                        "class targets (one label per row)",
                        batch,
                        classes.len(),
                    ));
                }
                let mut one_hot = DMatrix::zeros(batch, outputs);
                for (row, &class) in classes.iter().enumerate() {
                    if class >= outputs {
                        return Err(ShapeError::below(
                            format!("class target of row {row}"),
                            outputs,
                            class,
                        ));
                    }
                    one_hot[(row, class)] = 1.0;
                }
                Ok(one_hot)
            }
        }
    }
}

/// A linear layer's backward pass, as stage 4's `linear_backward`: the
/// layer, its input A and dL/dZ give the gradients.
pub type LinearBackward =
    fn(&Linear, &DMatrix<f32>, &DMatrix<f32>) -> Result<LinearGradients, ShapeError>;

/// The gradients of a linear layer (or of a maxout layer's linear part) for
/// one batch: dL/dA for its input, dL/dW and dL/db for its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearGradients {
    /// dL/dA, the shape of the input: (batch, in).
    pub input: DMatrix<f32>,
    /// dL/dW, the shape of the weights: (out, in).
    pub weights: DMatrix<f32>,
    /// dL/db, the shape of the bias: (out).
    pub bias: DVector<f32>,
}

/// The gradients of a whole network for one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpGradients {
    /// dL/dX for the network's input: (batch, in).
    pub input: DMatrix<f32>,
    /// One entry per layer of the network, in order: `Some((dL/dW, dL/db))`
    /// for linear and maxout layers, `None` for activations.
    pub layers: Vec<Option<(DMatrix<f32>, DVector<f32>)>>,
}

impl MlpGradients {
    /// Every gradient as a flat slice, in the order of `Mlp::parameters_mut`
    /// (weights then bias, layer by layer, in nalgebra's column order).
    pub fn flat(&self) -> Vec<&[f32]> {
        self.layers
            .iter()
            .flatten()
            .flat_map(|(w, b)| [w.as_slice(), b.as_slice()])
            .collect()
    }
}

/// What one training step saw: the loss before the update, and the
/// network's output for the batch (to count right answers, say).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub loss: f32,
    /// The network's output before the update: (batch, outputs).
    pub output: DMatrix<f32>,
}

/// Which loss a training step minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy on the logits, averaged over the batch.
    CrossEntropy,
    /// Mean squared error, averaged over every entry.
    MeanSquared,
}
