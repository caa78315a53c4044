//! Stage 2: activation functions and their derivatives. Your exercise: fill in every `// TODO`.
//!
//! Every function here works on one f32 at a time unless it says otherwise,
//! and must stay finite and correct for inputs as large as ±1e4.

use course_support::activation::Activation;
use nalgebra::{DMatrix, DVector};

// ANCHOR: sigmoid
/// σ(x) = 1 / (1 + e^(−x)).
pub fn sigmoid(x: f32) -> f32 {
    // TODO: σ(x) for every x, finite and correct at x = ±1e4 too.
    todo!("sigmoid")
}

/// σ'(x) = σ(x) (1 − σ(x)).
pub fn sigmoid_derivative(x: f32) -> f32 {
    // TODO: σ'(x), finite and correct at x = ±1e4 too, and keeping its digits
    // where it is tiny: σ'(20) is 2.0611536e−9, not 0.
    todo!("sigmoid_derivative")
}
// ANCHOR_END: sigmoid

// ANCHOR: tanh
/// tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x)).
pub fn tanh(x: f32) -> f32 {
    // TODO: tanh(x), finite and correct at x = ±1e4 too (the quotient as
    // written is ∞/∞ there).
    todo!("tanh")
}

/// tanh'(x) = 1 − tanh²(x).
pub fn tanh_derivative(x: f32) -> f32 {
    // TODO: tanh'(x), finite at x = ±1e4.
    todo!("tanh_derivative")
}
// ANCHOR_END: tanh

// ANCHOR: relu
/// ReLU(x) = max(0, x).
pub fn relu(x: f32) -> f32 {
    // TODO: ReLU(x).
    todo!("relu")
}

/// ReLU'(x) = 1 for x > 0, else 0 (we take 0 at the kink, as PyTorch does).
pub fn relu_derivative(x: f32) -> f32 {
    // TODO: ReLU'(x), with the value above at the kink x = 0.
    todo!("relu_derivative")
}
// ANCHOR_END: relu

// ANCHOR: leaky_relu
/// Leaky ReLU(x) = max(slope · x, x) for 0 < slope < 1 (the recitation uses 0.1):
/// x for x > 0, slope · x otherwise.
pub fn leaky_relu(x: f32, slope: f32) -> f32 {
    // TODO: leaky ReLU(x) for this `slope`.
    todo!("leaky_relu")
}

/// 1 for x > 0, else `slope` (the value at the kink is `slope`).
pub fn leaky_relu_derivative(x: f32, slope: f32) -> f32 {
    // TODO: its derivative, with the value above at the kink.
    todo!("leaky_relu_derivative")
}
// ANCHOR_END: leaky_relu

// ANCHOR: elu
/// ELU(x) = x for x > 0, α (e^x − 1) otherwise.
pub fn elu(x: f32, alpha: f32) -> f32 {
    // TODO: ELU(x) for this α. Near 0 it must keep its digits: at x = −1e−7
    // the answer is −9.99999950e−8 α, to 7 significant digits.
    todo!("elu")
}

/// 1 for x > 0, α e^x otherwise.
pub fn elu_derivative(x: f32, alpha: f32) -> f32 {
    // TODO: ELU'(x); at the kink x = 0 take the left side's value.
    todo!("elu_derivative")
}
// ANCHOR_END: elu

// ANCHOR: softplus
/// softplus(x) = ln(1 + e^x), a smooth ReLU.
pub fn softplus(x: f32) -> f32 {
    // TODO: softplus(x), finite and correct at x = ±1e4 (softplus(1e4) is
    // 1e4), and keeping its digits far to the left: softplus(−20) is
    // 2.0611536e−9, not 0.
    todo!("softplus")
}

/// softplus'(x) = e^x / (1 + e^x) = σ(x).
pub fn softplus_derivative(x: f32) -> f32 {
    // TODO: softplus'(x), finite at x = ±1e4.
    todo!("softplus_derivative")
}
// ANCHOR_END: softplus

// ANCHOR: gelu
/// GELU(x) = x Φ(x), where Φ(x) = (1 + erf(x / √2)) / 2 is the standard
/// normal CDF (the exact form PyTorch uses by default).
pub fn gelu(x: f32) -> f32 {
    // TODO: GELU(x), finite at x = ±1e4.
    todo!("gelu")
}

/// GELU'(x) = Φ(x) + x φ(x), where φ(x) = e^(−x²/2) / √(2π).
pub fn gelu_derivative(x: f32) -> f32 {
    // TODO: GELU'(x), finite at x = ±1e4.
    todo!("gelu_derivative")
}

fn normal_cdf(x: f32) -> f32 {
    // TODO: Φ(x) = (1 + erf(x / √2)) / 2. The standard library has no erf;
    // the `libm` crate, a dependency of this stage, has it for f32.
    todo!("normal_cdf")
}
// ANCHOR_END: gelu

// ANCHOR: activation
/// The value at x of the activation `activation` names: the function above
/// that matches it, with the variant's own parameter (the slope of
/// `LeakyRelu`, the α of `Elu`). `Identity` is x itself.
pub fn apply(activation: Activation, x: f32) -> f32 {
    // TODO: every variant of `Activation`, each with its own parameter.
    todo!("apply")
}

/// The derivative at x of the activation `activation` names; the identity's
/// derivative is 1.
pub fn derivative(activation: Activation, x: f32) -> f32 {
    // TODO: every variant, as in `apply`.
    todo!("derivative")
}
// ANCHOR_END: activation

// ANCHOR: softmax
/// Row-wise softmax: for each row z of `logits`, softmax(z)_i = e^(z_i) / Σ_j e^(z_j).
///
/// Shapes: `logits` is (batch, classes); the result has the same shape and
/// each of its rows sums to 1.
pub fn softmax(logits: &DMatrix<f32>) -> DMatrix<f32> {
    // TODO: softmax of each row. Exact and finite for logits as large as
    // ±1e4: the row [1e4, 0, −1e4] gives [1, 0, 0], and a row of equal
    // logits gives equal probabilities, however large they are.
    todo!("softmax")
}

/// The Jacobian of softmax at one row, given that row's output s = softmax(z):
/// J_ij = ∂s_i/∂z_j = s_i (δ_ij − s_j), i.e. J = diag(s) − s sᵀ.
///
/// Shapes: `s` has length C; the result is (C, C).
pub fn softmax_jacobian(s: &DVector<f32>) -> DMatrix<f32> {
    // TODO: the (C, C) Jacobian above.
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
        // TODO: every piece's value, W x + b.
        todo!("Maxout::pieces")
    }

    /// The index of the largest piece (the first one on a tie).
    pub fn winner(&self, x: &DVector<f32>) -> usize {
        // TODO: the index of the largest piece; on a tie, the first of them.
        todo!("Maxout::winner")
    }

    /// The unit's output: the largest piece.
    pub fn forward(&self, x: &DVector<f32>) -> f32 {
        // TODO: the largest piece's value.
        todo!("Maxout::forward")
    }

    /// ∂out/∂x: only the winning piece j* is active, so the gradient is its
    /// weights w_j*. Shapes: `x` (d) → (d).
    pub fn input_gradient(&self, x: &DVector<f32>) -> DVector<f32> {
        // TODO: the winning piece's weights, as a vector of length d.
        todo!("Maxout::input_gradient")
    }
}
// ANCHOR_END: maxout
