//! [`Activation`]: every element-wise activation of stage 2 as one value that
//! a layer can hold.
//!
//! Given, not an exercise. Its values and derivatives are stage 2's
//! exercise: `activations::apply` and `activations::derivative`.

use std::fmt;

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
