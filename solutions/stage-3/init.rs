//! Stage 3: weight initialisation (reference solution).
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
    let (fan_in, fan_out) = (fan_in as f32, fan_out as f32);
    match init {
        Init::XavierUniform => (6.0 / (fan_in + fan_out)).sqrt(),
        Init::XavierNormal => (2.0 / (fan_in + fan_out)).sqrt(),
        Init::KaimingUniform => (6.0 / fan_in).sqrt(),
        Init::KaimingNormal => (2.0 / fan_in).sqrt(),
    }
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
    let scale = init_scale(init, fan_in, fan_out);
    if init.is_uniform() {
        let uniform = Uniform::new_inclusive(-scale, scale).expect("a finite, positive bound");
        DMatrix::from_fn(fan_out, fan_in, |_, _| uniform.sample(rng))
    } else {
        let normal = Normal::new(0.0, scale).expect("a finite, positive deviation");
        DMatrix::from_fn(fan_out, fan_in, |_, _| normal.sample(rng))
    }
}
// ANCHOR_END: init_weights
