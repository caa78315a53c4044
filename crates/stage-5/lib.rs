//! Stage 5: training on mini-batches and evaluating, the loop of the MNIST
//! pipeline.
//!
//! `cargo test -p stage-5` tests your code in `exercises/stage-5/`;
//! `cargo test -p stage-5 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-5/`. Everything from earlier
//! stages comes from the reference solution.

pub use course_support::activation::Activation;
pub use course_support::batches::{BatchLoader, Order, Shuffle};
pub use course_support::gradients::{Loss, Targets};
pub use course_support::network::{Init, Layer, Mlp};
pub use course_support::optim::{Adam, Optimizer, Sgd};
pub use course_support::shape::{self, ShapeError};
pub use course_support::stats::{EpochStats, Standardization};
pub use reference::{activations, init, layers, losses, mlp, train};

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-5/data.rs"]
pub mod data;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-5/data.rs"]
pub mod data;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-5/training.rs"]
pub mod training;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-5/training.rs"]
pub mod training;
