//! Stage 2: activation functions and their derivatives.
//!
//! `cargo test -p stage-2` tests your code in `exercises/stage-2/`;
//! `cargo test -p stage-2 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-2/`.

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-2/activations.rs"]
pub mod activations;

#[cfg(feature = "reference")]
#[path = "../../solutions/stage-2/activations.rs"]
pub mod activations;

pub use course_support::activation::Activation;
