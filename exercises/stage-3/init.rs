//! Stage 3: weight initialisation. Your exercise: fill in every `// TODO`.
//!
//! Weights start random, so that units differ, and scaled so that signals
//! neither shrink nor blow up from layer to layer. Biases start at zero.

use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// A scheme for drawing a layer's initial weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Glorot & Bengio (2010): U(−a, a), a = √(6 / (fan_in + fan_out)).
    XavierUniform,
    /// Glorot & Bengio (2010): N(0, σ²), σ = √(2 / (fan_in + fan_out)).
    XavierNormal,
    /// He et al. (2015), for ReLU: U(−a, a), a = √(6 / fan_in).
    KaimingUniform,
    /// He et al. (2015), for ReLU: N(0, σ²), σ = √(2 / fan_in).
    KaimingNormal,
}

impl Init {
    /// Every scheme.
    pub const ALL: [Self; 4] = [
        Self::XavierUniform,
        Self::XavierNormal,
        Self::KaimingUniform,
        Self::KaimingNormal,
    ];

    /// True for the schemes that draw from a uniform distribution.
    pub fn is_uniform(self) -> bool {
        matches!(self, Self::XavierUniform | Self::KaimingUniform)
    }

    // ANCHOR: init_scale
    /// The bound a of U(−a, a) for the uniform schemes, the standard deviation
    /// σ for the normal ones, for a layer with `fan_in` inputs and `fan_out`
    /// outputs (see each variant's formula).
    pub fn scale(self, fan_in: usize, fan_out: usize) -> f32 {
        // TODO: one formula per variant (they are in the variants' docs).
        // Convert the fans with `as f32` first; f32 has `.sqrt()`.
        todo!("Init::scale")
    }
    // ANCHOR_END: init_scale
}

// ANCHOR: init_weights
/// A weight matrix of shape (fan_out, fan_in) drawn by `init` from `rng`.
/// The same generator state always gives the same matrix.
pub fn init_weights<R: Rng + ?Sized>(
    init: Init,
    fan_out: usize,
    fan_in: usize,
    rng: &mut R,
) -> DMatrix<f32> {
    if fan_in == 0 || fan_out == 0 {
        return DMatrix::zeros(fan_out, fan_in);
    }
    // TODO: get the scale from `init.scale(fan_in, fan_out)`. For a uniform
    // scheme build `Uniform::new_inclusive(-scale, scale)`, otherwise
    // `Normal::new(0.0, scale)` (both return a Result: `.expect(...)` is fine,
    // the scale is finite and positive here). Then fill a (fan_out, fan_in)
    // matrix with `DMatrix::from_fn(fan_out, fan_in, |_, _| dist.sample(rng))`.
    todo!("init_weights")
}
// ANCHOR_END: init_weights
