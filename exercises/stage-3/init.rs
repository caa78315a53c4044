//! Stage 3: weight initialisation. Your exercise: fill in every `// TODO`.
//!
//! Weights start random, so that units differ, and scaled so that signals
//! neither shrink nor blow up from layer to layer. Biases start at zero.
//!
//! The schemes, [`Init`], are given in `crates/support/src/network.rs`,
//! each with its formula.

use course_support::network::Init;
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

// ANCHOR: init_scale
/// The bound a of U(−a, a) for the uniform schemes, the standard deviation
/// σ for the normal ones, for a layer with `fan_in` inputs and `fan_out`
/// outputs (see each variant's formula).
pub fn init_scale(init: Init, fan_in: usize, fan_out: usize) -> f32 {
    // TODO: one formula per variant (they are in the variants' docs).
    todo!("init_scale")
}
// ANCHOR_END: init_scale

// ANCHOR: init_weights
/// A weight matrix of shape (fan_out, fan_in) drawn by `init` from `rng`.
/// The same generator state always gives the same matrix. An empty shape
/// gives an empty matrix and draws nothing.
pub fn init_weights<R: Rng + ?Sized>(
    init: Init,
    fan_out: usize,
    fan_in: usize,
    rng: &mut R,
) -> DMatrix<f32> {
    if fan_in == 0 || fan_out == 0 {
        return DMatrix::zeros(fan_out, fan_in);
    }
    // TODO: a (fan_out, fan_in) matrix of independent draws from the
    // scheme's distribution, U(−a, a) or N(0, σ²) with the scale of
    // `init_scale`, each from `rng` (the `rand_distr` crate has both
    // distributions). The tests fix the order of the draws: the entries in
    // the order nalgebra stores them, column after column.
    todo!("init_weights")
}
// ANCHOR_END: init_weights
