//! Stage 3: weight initialisation (reference solution).
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
        let (fan_in, fan_out) = (fan_in as f32, fan_out as f32);
        match self {
            Self::XavierUniform => (6.0 / (fan_in + fan_out)).sqrt(),
            Self::XavierNormal => (2.0 / (fan_in + fan_out)).sqrt(),
            Self::KaimingUniform => (6.0 / fan_in).sqrt(),
            Self::KaimingNormal => (2.0 / fan_in).sqrt(),
        }
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
    let scale = init.scale(fan_in, fan_out);
    if init.is_uniform() {
        let uniform = Uniform::new_inclusive(-scale, scale).expect("a finite, positive bound");
        DMatrix::from_fn(fan_out, fan_in, |_, _| uniform.sample(rng))
    } else {
        let normal = Normal::new(0.0, scale).expect("a finite, positive deviation");
        DMatrix::from_fn(fan_out, fan_in, |_, _| normal.sample(rng))
    }
}
// ANCHOR_END: init_weights
