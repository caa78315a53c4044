//! The types stage 4 works with: targets, gradients, losses and optimisers.
//!
//! This file is given, not an exercise. It is compiled with the stage-4
//! files beside it: the learner's in `stage-4`, the reference in the
//! `reference` crate.

use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DVector};

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
                    return Err(ShapeError::value(
                        "class targets",
                        format!("{batch} labels, one per row"),
                        format!("{} labels", classes.len()),
                    ));
                }
                let mut one_hot = DMatrix::zeros(batch, outputs);
                for (row, &class) in classes.iter().enumerate() {
                    if class >= outputs {
                        return Err(ShapeError::value(
                            format!("class target of row {row}"),
                            format!("a class below {outputs}"),
                            format!("{class}"),
                        ));
                    }
                    one_hot[(row, class)] = 1.0;
                }
                Ok(one_hot)
            }
        }
    }
}

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

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every tensor in `params` from the gradient in `grads`
    /// at the same index; both must have the same lengths, tensor by tensor.
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<(), ShapeError>;

    /// The current learning rate.
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate (for a schedule).
    fn set_learning_rate(&mut self, learning_rate: f32);
}

/// Stochastic gradient descent, with optional momentum (plain or Nesterov)
/// and L2 weight decay, as `torch.optim.SGD` (dampening 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    pub learning_rate: f32,
    pub momentum: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    /// The momentum buffer of each tensor, empty until the first step.
    pub velocity: Vec<Vec<f32>>,
}

impl Sgd {
    /// Plain gradient descent: p ← p − η g.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            velocity: Vec::new(),
        }
    }

    /// With momentum μ, Nesterov's or the classical kind.
    pub fn with_momentum(learning_rate: f32, momentum: f32, nesterov: bool) -> Self {
        Self {
            momentum,
            nesterov,
            ..Self::new(learning_rate)
        }
    }
}

/// Adam (Kingma & Ba, 2015) as `torch.optim.Adam`, and AdamW (Loshchilov &
/// Hutter, 2019) as `torch.optim.AdamW` when `decoupled_weight_decay` is set.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
    /// AdamW: decay the weights directly instead of adding λp to the gradient.
    pub decoupled_weight_decay: bool,
    /// How many steps have been taken, t.
    pub steps: u32,
    /// m, the running mean of the gradients, per tensor; empty until the first step.
    pub first_moment: Vec<Vec<f32>>,
    /// v, the running mean of the squared gradients, per tensor.
    pub second_moment: Vec<Vec<f32>>,
}

impl Adam {
    /// Adam with PyTorch's defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, no decay.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            steps: 0,
            first_moment: Vec::new(),
            second_moment: Vec::new(),
        }
    }

    /// AdamW: Adam with decoupled weight decay λ (PyTorch's default is 0.01).
    pub fn adamw(learning_rate: f32, weight_decay: f32) -> Self {
        Self {
            weight_decay,
            decoupled_weight_decay: true,
            ..Self::new(learning_rate)
        }
    }
}

/// Checks that `params` and `grads` pair up, tensor by tensor.
pub fn check_pairs(params: &[&mut [f32]], grads: &[&[f32]]) -> Result<(), ShapeError> {
    if params.len() != grads.len() {
        return Err(ShapeError::value(
            "optimizer step",
            format!("{} gradients, one per parameter tensor", params.len()),
            format!("{}", grads.len()),
        ));
    }
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        if p.len() != g.len() {
            return Err(ShapeError::value(
                format!("gradient {i}"),
                format!("{} values like its parameter", p.len()),
                format!("{}", g.len()),
            ));
        }
    }
    Ok(())
}
