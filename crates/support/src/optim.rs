//! The optimisers' settings and state: [`Sgd`] and [`Adam`], and the
//! [`Optimizer`] that is either.
//!
//! Given, not an exercise: taking a step is stage 4's exercise
//! (`optim::sgd_step`, `optim::adam_step`, `optim::step`).

use crate::shape::ShapeError;

/// One of the optimisers, as a training loop holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Optimizer {
    Sgd(Sgd),
    Adam(Adam),
}

impl Optimizer {
    /// The current learning rate.
    pub fn learning_rate(&self) -> f32 {
        match self {
            Self::Sgd(sgd) => sgd.learning_rate,
            Self::Adam(adam) => adam.learning_rate,
        }
    }

    /// Changes the learning rate (for a schedule).
    pub fn set_learning_rate(&mut self, learning_rate: f32) {
        match self {
            Self::Sgd(sgd) => sgd.learning_rate = learning_rate,
            Self::Adam(adam) => adam.learning_rate = learning_rate,
        }
    }
}

impl From<Sgd> for Optimizer {
    fn from(sgd: Sgd) -> Self {
        Self::Sgd(sgd)
    }
}

impl From<Adam> for Optimizer {
    fn from(adam: Adam) -> Self {
        Self::Adam(adam)
    }
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
        return Err(ShapeError::count(
            "optimizer step gradients (one per parameter tensor)",
            params.len(),
            grads.len(),
        ));
    }
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        if p.len() != g.len() {
            return Err(ShapeError::count(
                format!("gradient {i} values (as many as its parameter's)"),
                p.len(),
                g.len(),
            ));
        }
    }
    Ok(())
}
