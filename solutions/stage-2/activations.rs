//! Stage 2: activation functions and their derivatives (reference solution).
//!
//! Every function here works on one f32 at a time unless it says otherwise,
//! and must stay finite and correct for inputs as large as ±1e4.

use course_support::activation::Activation;
use nalgebra::{DMatrix, DVector};

// ANCHOR: sigmoid
/// σ(x) = 1 / (1 + e^(−x)).
pub fn sigmoid(x: f32) -> f32 {
    // For x ≪ 0, e^(−x) overflows to +∞ and 1 / ∞ = 0, which is the right limit.
    1.0 / (1.0 + (-x).exp())
}

/// σ'(x) = σ(x) (1 − σ(x)).
pub fn sigmoid_derivative(x: f32) -> f32 {
    // 1 − σ(x) = σ(−x), which keeps its digits where σ(x) rounds to 1.
    sigmoid(x) * sigmoid(-x)
}
// ANCHOR_END: sigmoid

// ANCHOR: tanh
/// tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x)).
pub fn tanh(x: f32) -> f32 {
    x.tanh()
}

/// tanh'(x) = 1 − tanh²(x).
pub fn tanh_derivative(x: f32) -> f32 {
    let t = x.tanh();
    1.0 - t * t
}
// ANCHOR_END: tanh

// ANCHOR: relu
/// ReLU(x) = max(0, x).
pub fn relu(x: f32) -> f32 {
    x.max(0.0)
}

/// ReLU'(x) = 1 for x > 0, else 0 (we take 0 at the kink, as PyTorch does).
pub fn relu_derivative(x: f32) -> f32 {
    if x > 0.0 { 1.0 } else { 0.0 }
}
// ANCHOR_END: relu

// ANCHOR: leaky_relu
/// Leaky ReLU(x) = max(slope · x, x) for 0 < slope < 1 (the recitation uses 0.1):
/// x for x > 0, slope · x otherwise.
pub fn leaky_relu(x: f32, slope: f32) -> f32 {
    if x > 0.0 { x } else { slope * x }
}

/// 1 for x > 0, else `slope` (the value at the kink is `slope`).
pub fn leaky_relu_derivative(x: f32, slope: f32) -> f32 {
    if x > 0.0 { 1.0 } else { slope }
}
// ANCHOR_END: leaky_relu

// ANCHOR: elu
/// ELU(x) = x for x > 0, α (e^x − 1) otherwise.
pub fn elu(x: f32, alpha: f32) -> f32 {
    // exp_m1 keeps e^x − 1 accurate for x near 0.
    if x > 0.0 { x } else { alpha * x.exp_m1() }
}

/// 1 for x > 0, α e^x otherwise.
pub fn elu_derivative(x: f32, alpha: f32) -> f32 {
    if x > 0.0 { 1.0 } else { alpha * x.exp() }
}
// ANCHOR_END: elu

// ANCHOR: softplus
/// softplus(x) = ln(1 + e^x), a smooth ReLU.
pub fn softplus(x: f32) -> f32 {
    // ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)): the exponent is never positive,
    // so nothing overflows at x = 1e4.
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// softplus'(x) = e^x / (1 + e^x) = σ(x).
pub fn softplus_derivative(x: f32) -> f32 {
    sigmoid(x)
}
// ANCHOR_END: softplus

// ANCHOR: gelu
/// GELU(x) = x Φ(x), where Φ(x) = (1 + erf(x / √2)) / 2 is the standard
/// normal CDF (the exact form PyTorch uses by default).
pub fn gelu(x: f32) -> f32 {
    x * normal_cdf(x)
}

/// GELU'(x) = Φ(x) + x φ(x), where φ(x) = e^(−x²/2) / √(2π).
pub fn gelu_derivative(x: f32) -> f32 {
    let density = (-0.5 * x * x).exp() / (2.0 * std::f32::consts::PI).sqrt();
    normal_cdf(x) + x * density
}

fn normal_cdf(x: f32) -> f32 {
    0.5 * (1.0 + libm::erff(x / std::f32::consts::SQRT_2))
}
// ANCHOR_END: gelu

// ANCHOR: activation
/// The value at x of the activation `activation` names: the function above
/// that matches it, with the variant's own parameter (the slope of
/// `LeakyRelu`, the α of `Elu`). `Identity` is x itself.
pub fn apply(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Identity => x,
        Activation::Sigmoid => sigmoid(x),
        Activation::Tanh => tanh(x),
        Activation::Relu => relu(x),
        Activation::LeakyRelu { slope } => leaky_relu(x, slope),
        Activation::Elu { alpha } => elu(x, alpha),
        Activation::Softplus => softplus(x),
        Activation::Gelu => gelu(x),
    }
}

/// The derivative at x of the activation `activation` names; the identity's
/// derivative is 1.
pub fn derivative(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Sigmoid => sigmoid_derivative(x),
        Activation::Tanh => tanh_derivative(x),
        Activation::Relu => relu_derivative(x),
        Activation::LeakyRelu { slope } => leaky_relu_derivative(x, slope),
        Activation::Elu { alpha } => elu_derivative(x, alpha),
        Activation::Softplus => softplus_derivative(x),
        Activation::Gelu => gelu_derivative(x),
    }
}
// ANCHOR_END: activation

// ANCHOR: softmax
/// Row-wise softmax: for each row z of `logits`, softmax(z)_i = e^(z_i) / Σ_j e^(z_j).
///
/// Shapes: `logits` is (batch, classes); the result has the same shape and
/// each of its rows sums to 1. Stable for huge logits: subtracting the row's
/// maximum first changes nothing mathematically but keeps every e^(…) ≤ 1.
pub fn softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = logits.clone();
    for mut row in out.row_iter_mut() {
        let max = row.max();
        row.apply(|z| *z = (*z - max).exp());
        let sum = row.sum();
        row /= sum;
    }
    out
}

/// The Jacobian of softmax at one row, given that row's output s = softmax(z):
/// J_ij = ∂s_i/∂z_j = s_i (δ_ij − s_j), i.e. J = diag(s) − s sᵀ.
///
/// Shapes: `s` has length C; the result is (C, C).
pub fn softmax_jacobian(s: &DVector<f32>) -> DMatrix<f32> {
    DMatrix::from_diagonal(s) - s * s.transpose()
}
// ANCHOR_END: softmax

// ANCHOR: maxout
/// A maxout unit over d inputs with k linear pieces:
/// out(x) = max_j (w_j · x + b_j).
#[derive(Clone, Debug, PartialEq)]
pub struct Maxout {
    /// (k, d): row j holds the weights w_j of piece j.
    pub weights: DMatrix<f32>,
    /// (k): b_j for each piece.
    pub biases: DVector<f32>,
}

impl Maxout {
    /// The value of every piece, W x + b. Shapes: `x` (d) → (k).
    pub fn pieces(&self, x: &DVector<f32>) -> DVector<f32> {
        &self.weights * x + &self.biases
    }

    /// The index of the largest piece (the first one on a tie).
    pub fn winner(&self, x: &DVector<f32>) -> usize {
        self.pieces(x).argmax().0
    }

    /// The unit's output: the largest piece.
    pub fn forward(&self, x: &DVector<f32>) -> f32 {
        self.pieces(x).max()
    }

    /// ∂out/∂x: only the winning piece j* is active, so the gradient is its
    /// weights w_j*. Shapes: `x` (d) → (d).
    pub fn input_gradient(&self, x: &DVector<f32>) -> DVector<f32> {
        self.weights.row(self.winner(x)).transpose()
    }
}
// ANCHOR_END: maxout
