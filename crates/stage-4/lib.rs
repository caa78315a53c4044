//! Stage 4: backpropagation, losses, optimisers and gradient checks.
//!
//! `cargo test -p stage-4` tests your code in `exercises/stage-4/`;
//! `cargo test -p stage-4 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-4/`. Activations, layers and the
//! forward pass come from the reference solutions of stages 2 and 3. The
//! types a network, its gradients and its optimisers are made of are given,
//! in `crates/support/src/`; so is the gradient checker, `gradcheck`.

pub use course_support::activation::Activation;
pub use course_support::gradients::{LinearGradients, Loss, MlpGradients, Step, Targets};
pub use course_support::network::{self, Init, Layer, Linear, Maxout, Mlp};
pub use course_support::optim::{Adam, Optimizer, Sgd};
pub use course_support::shape::{self, ShapeError};
pub use course_support::{gradcheck, gradients};
pub use reference::{activations, init, layers, mlp};

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
