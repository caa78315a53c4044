//! Stage 1: the perceptron.
//!
//! `cargo test -p stage-1` tests your code in `exercises/stage-1/`;
//! `cargo test -p stage-1 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-1/`.

pub use course_support::data;

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-1/perceptron.rs"]
pub mod perceptron;

#[cfg(feature = "reference")]
#[path = "../../solutions/stage-1/perceptron.rs"]
pub mod perceptron;
