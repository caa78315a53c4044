//! Stage 2: activation functions and their derivatives. Your exercise: fill in every `// TODO`.
//!
//! Every function here works on one f32 at a time unless it says otherwise,
//! and must stay finite and correct for inputs as large as ±1e4.

use course_support::activation::Activation;
use nalgebra::{DMatrix, DVector};

// ANCHOR: sigmoid
/// σ(x) = 1 / (1 + e^(−x)).
pub fn sigmoid(x: f32) -> f32 {
    // TODO: the formula above; f32 has `.exp()`. Check what happens at x = -1e4.
    todo!("sigmoid")
}

/// σ'(x) = σ(x) (1 − σ(x)).
pub fn sigmoid_derivative(x: f32) -> f32 {
    // TODO: reuse `sigmoid`. Writing e^(-x) / (1 + e^(-x))² instead gives ∞/∞ = NaN at -1e4.
    todo!("sigmoid_derivative")
}
// ANCHOR_END: sigmoid

// ANCHOR: tanh
/// tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x)).
pub fn tanh(x: f32) -> f32 {
    // TODO: f32 has a `.tanh()` method; you may also write it from `.exp()`.
    todo!("tanh")
}

/// tanh'(x) = 1 − tanh²(x).
pub fn tanh_derivative(x: f32) -> f32 {
    // TODO: 1 − tanh²(x).
    todo!("tanh_derivative")
}
// ANCHOR_END: tanh

// ANCHOR: relu
/// ReLU(x) = max(0, x).
pub fn relu(x: f32) -> f32 {
    // TODO: max(0, x).
    todo!("relu")
}

/// ReLU'(x) = 1 for x > 0, else 0 (we take 0 at the kink, as PyTorch does).
pub fn relu_derivative(x: f32) -> f32 {
    // TODO: 1.0 for x > 0.0, otherwise 0.0.
    todo!("relu_derivative")
}
// ANCHOR_END: relu

// ANCHOR: leaky_relu
/// Leaky ReLU(x) = max(slope · x, x) for 0 < slope < 1 (the recitation uses 0.1):
/// x for x > 0, slope · x otherwise.
pub fn leaky_relu(x: f32, slope: f32) -> f32 {
    // TODO: x when x > 0, slope · x otherwise.
    todo!("leaky_relu")
}

/// 1 for x > 0, else `slope` (the value at the kink is `slope`).
pub fn leaky_relu_derivative(x: f32, slope: f32) -> f32 {
    // TODO: 1.0 for x > 0.0, otherwise slope.
    todo!("leaky_relu_derivative")
}
// ANCHOR_END: leaky_relu

// ANCHOR: elu
/// ELU(x) = x for x > 0, α (e^x − 1) otherwise.
pub fn elu(x: f32, alpha: f32) -> f32 {
    // TODO: x when x > 0, α (e^x − 1) otherwise. Hint: `x.exp_m1()` is e^x − 1,
    // computed accurately even for x near 0.
    todo!("elu")
}

/// 1 for x > 0, α e^x otherwise.
pub fn elu_derivative(x: f32, alpha: f32) -> f32 {
    // TODO: 1.0 for x > 0.0, otherwise α e^x.
    todo!("elu_derivative")
}
// ANCHOR_END: elu

// ANCHOR: softplus
/// softplus(x) = ln(1 + e^x), a smooth ReLU.
pub fn softplus(x: f32) -> f32 {
    // TODO: ln(1 + e^x) overflows to ∞ at x = 1e4. Rewrite it so the exponent
    // is never positive: ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)).
    // `y.ln_1p()` is ln(1 + y), accurate for small y.
    todo!("softplus")
}

/// softplus'(x) = e^x / (1 + e^x) = σ(x).
pub fn softplus_derivative(x: f32) -> f32 {
    // TODO: differentiate ln(1 + e^x); you have met the result before.
    todo!("softplus_derivative")
}
// ANCHOR_END: softplus

// ANCHOR: gelu
/// GELU(x) = x Φ(x), where Φ(x) = (1 + erf(x / √2)) / 2 is the standard
/// normal CDF (the exact form PyTorch uses by default).
pub fn gelu(x: f32) -> f32 {
    // TODO: x Φ(x), using `normal_cdf` below.
    todo!("gelu")
}

/// GELU'(x) = Φ(x) + x φ(x), where φ(x) = e^(−x²/2) / √(2π).
pub fn gelu_derivative(x: f32) -> f32 {
    // TODO: Φ(x) + x φ(x). `std::f32::consts::PI` is π.
    todo!("gelu_derivative")
}

fn normal_cdf(x: f32) -> f32 {
    // TODO: (1 + erf(x / √2)) / 2. The standard library has no erf: use
    // `libm::erff`, and `std::f32::consts::SQRT_2` for √2.
    todo!("normal_cdf")
}
// ANCHOR_END: gelu

// ANCHOR: activation
/// The value at x of the activation `activation` names: the function above
/// that matches it, with the variant's own parameter (the slope of
/// `LeakyRelu`, the α of `Elu`). `Identity` is x itself.
pub fn apply(activation: Activation, x: f32) -> f32 {
    // TODO: one arm per variant of `Activation`, each calling a function above.
    todo!("apply")
}

/// The derivative at x of the activation `activation` names; the identity's
/// derivative is 1.
pub fn derivative(activation: Activation, x: f32) -> f32 {
    // TODO: as `apply`, with the derivative functions.
    todo!("derivative")
}
// ANCHOR_END: activation

// ANCHOR: softmax
/// Row-wise softmax: for each row z of `logits`, softmax(z)_i = e^(z_i) / Σ_j e^(z_j).
///
/// Shapes: `logits` is (batch, classes); the result has the same shape and
/// each of its rows sums to 1. Stable for huge logits: subtracting the row's
/// maximum first changes nothing mathematically but keeps every e^(…) ≤ 1.
pub fn softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    // TODO: for each row: subtract the row's max, exponentiate, divide by the sum.
    // Hints: `let mut out = logits.clone();` then `for mut row in out.row_iter_mut()`;
    // a row has `.max()`, `.sum()`, `.apply(|z| *z = ...)` and supports `row /= sum`.
    todo!("softmax")
}

/// The Jacobian of softmax at one row, given that row's output s = softmax(z):
/// J_ij = ∂s_i/∂z_j = s_i (δ_ij − s_j), i.e. J = diag(s) − s sᵀ.
///
/// Shapes: `s` has length C; the result is (C, C).
pub fn softmax_jacobian(s: &DVector<f32>) -> DMatrix<f32> {
    // TODO: diag(s) − s sᵀ. Hints: `DMatrix::from_diagonal(s)`, and `s * s.transpose()`
    // is the (C, C) outer product.
    todo!("softmax_jacobian")
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
        // TODO: W x + b, one matrix-vector product and a vector sum.
        todo!("Maxout::pieces")
    }

    /// The index of the largest piece (the first one on a tie).
    pub fn winner(&self, x: &DVector<f32>) -> usize {
        // TODO: the index of the largest entry of `pieces(x)`, the first one on a tie.
        // nalgebra vectors have `.argmax()`, which returns (index, value).
        todo!("Maxout::winner")
    }

    /// The unit's output: the largest piece.
    pub fn forward(&self, x: &DVector<f32>) -> f32 {
        // TODO: the largest entry of `pieces(x)`.
        todo!("Maxout::forward")
    }

    /// ∂out/∂x: only the winning piece j* is active, so the gradient is its
    /// weights w_j*. Shapes: `x` (d) → (d).
    pub fn input_gradient(&self, x: &DVector<f32>) -> DVector<f32> {
        // TODO: row `winner(x)` of the weights, as a column vector (`.transpose()`).
        todo!("Maxout::input_gradient")
    }
}
// ANCHOR_END: maxout
