//! Stage 7: beyond the first MLP. Dropout, batch normalisation, a network
//! that has both in its training and evaluation modes, and data
//! augmentation for digits.
//!
//! `cargo test -p stage-7` tests your code in `exercises/stage-7/`;
//! `cargo test -p stage-7 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-7/`. Layers, activations,
//! backward passes, losses and optimisers come from the reference solutions
//! of stages 2 to 4. The network's types (`Network`, `BatchNorm`, …) and
//! the augmentation settings are given, in `crates/support/src/regularise.rs`
//! and `crates/support/src/augmentation.rs`.

pub use course_support::activation::Activation;
pub use course_support::augmentation::{Affine, Augmentation, Elastic};
pub use course_support::gradcheck;
pub use course_support::gradients::{Loss, Step, Targets};
pub use course_support::network::{Init, Layer, Linear, Maxout, Mlp};
pub use course_support::optim::{Adam, Optimizer, Sgd};
pub use course_support::regularise::{
    BatchNorm, BatchNormBackward, BatchNormCache, BatchNormGradients, Network, NetworkError, Part,
};
pub use course_support::shape::{self, ShapeError};
pub use reference::{activations, backward, init, layers, losses, mlp, optim};

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-7/dropout.rs"]
pub mod dropout;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-7/dropout.rs"]
pub mod dropout;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-7/batch_norm.rs"]
pub mod batch_norm;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-7/batch_norm.rs"]
pub mod batch_norm;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-7/network.rs"]
pub mod network;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-7/network.rs"]
pub mod network;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-7/augment.rs"]
pub mod augment;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-7/augment.rs"]
pub mod augment;
