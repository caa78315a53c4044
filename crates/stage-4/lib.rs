//! Stage 4: backpropagation, losses, optimisers and gradient checks.
//!
//! `cargo test -p stage-4` tests your code in `exercises/stage-4/`;
//! `cargo test -p stage-4 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-4/`. Layers, networks and
//! activations come from the reference solutions of stages 2 and 3.

pub use course_support::shape::{self, ShapeError};
pub use reference::{Activation, Layer, Mlp, activations, init, layers, network};

pub mod given;
pub use given::{Adam, LinearGradients, Loss, MlpGradients, Optimizer, Sgd, Targets};

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-4/backward.rs"]
pub mod backward;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-4/backward.rs"]
pub mod backward;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-4/losses.rs"]
pub mod losses;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-4/losses.rs"]
pub mod losses;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-4/optim.rs"]
pub mod optim;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-4/optim.rs"]
pub mod optim;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-4/train.rs"]
pub mod train;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-4/train.rs"]
pub mod train;

pub mod gradcheck;
