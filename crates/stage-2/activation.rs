//! [`Activation`]: every element-wise activation of stage 2 as one value that
//! a layer can hold, with its derivative.
//!
//! This file is given, not an exercise. It is compiled against whichever
//! `activations` module sits beside it: the learner's in `stage-2`, the
//! reference in the `reference` crate, which later stages use.

use std::fmt;

use nalgebra::DMatrix;

use crate::activations as f;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Sigmoid,
    Tanh,
    Relu,
    /// max(slope · x, x); the recitation uses slope 0.1.
    LeakyRelu {
        slope: f32,
    },
    /// x for x > 0, α (e^x − 1) otherwise.
    Elu {
        alpha: f32,
    },
    Softplus,
    Gelu,
}

impl Activation {
    /// Leaky ReLU with the recitation's slope, 0.1.
    pub const LEAKY_RELU: Self = Self::LeakyRelu { slope: 0.1 };
    /// ELU with α = 1.
    pub const ELU: Self = Self::Elu { alpha: 1.0 };

    /// Every activation, with the default parameters above.
    pub const ALL: [Self; 8] = [
        Self::Identity,
        Self::Sigmoid,
        Self::Tanh,
        Self::Relu,
        Self::LEAKY_RELU,
        Self::ELU,
        Self::Softplus,
        Self::Gelu,
    ];

    /// The activation's value at x.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Self::Identity => x,
            Self::Sigmoid => f::sigmoid(x),
            Self::Tanh => f::tanh(x),
            Self::Relu => f::relu(x),
            Self::LeakyRelu { slope } => f::leaky_relu(x, slope),
            Self::Elu { alpha } => f::elu(x, alpha),
            Self::Softplus => f::softplus(x),
            Self::Gelu => f::gelu(x),
        }
    }

    /// The activation's derivative at x.
    pub fn derivative(self, x: f32) -> f32 {
        match self {
            Self::Identity => 1.0,
            Self::Sigmoid => f::sigmoid_derivative(x),
            Self::Tanh => f::tanh_derivative(x),
            Self::Relu => f::relu_derivative(x),
            Self::LeakyRelu { slope } => f::leaky_relu_derivative(x, slope),
            Self::Elu { alpha } => f::elu_derivative(x, alpha),
            Self::Softplus => f::softplus_derivative(x),
            Self::Gelu => f::gelu_derivative(x),
        }
    }

    /// The activation applied to every entry of `z`; any shape.
    pub fn apply_matrix(self, z: &DMatrix<f32>) -> DMatrix<f32> {
        z.map(|x| self.apply(x))
    }

    /// The derivative at every entry of `z`; any shape.
    pub fn derivative_matrix(self, z: &DMatrix<f32>) -> DMatrix<f32> {
        z.map(|x| self.derivative(x))
    }

    /// True where the derivative jumps (a kink), so finite differences taken
    /// across x = 0 mean nothing.
    pub fn has_kink_at_zero(self) -> bool {
        matches!(self, Self::Relu | Self::LeakyRelu { .. } | Self::Elu { .. })
    }

    /// A short name for file names and plot titles, such as `leaky-relu`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::Relu => "relu",
            Self::LeakyRelu { .. } => "leaky-relu",
            Self::Elu { .. } => "elu",
            Self::Softplus => "softplus",
            Self::Gelu => "gelu",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Identity => write!(out, "identity"),
            Self::Sigmoid => write!(out, "sigmoid"),
            Self::Tanh => write!(out, "tanh"),
            Self::Relu => write!(out, "ReLU"),
            Self::LeakyRelu { slope } => write!(out, "leaky ReLU (slope {slope})"),
            Self::Elu { alpha } => write!(out, "ELU (α = {alpha})"),
            Self::Softplus => write!(out, "softplus"),
            Self::Gelu => write!(out, "GELU"),
        }
    }
}
