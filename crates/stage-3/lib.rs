//! Stage 3: the multilayer forward pass.
//!
//! `cargo test -p stage-3` tests your code in `exercises/stage-3/`;
//! `cargo test -p stage-3 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-3/`. Activations come from the
//! reference solution of stage 2, never from your stage-2 files. The types a
//! network is made of are given, in `crates/support/src/network.rs`.

pub use course_support::activation::Activation;
pub use course_support::network::{self, BuildError, Init, Layer, Linear, Maxout, Mlp, Parameter};
pub use course_support::shape::{self, ShapeError};
pub use reference::activations;

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-3/layers.rs"]
pub mod layers;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-3/layers.rs"]
pub mod layers;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-3/init.rs"]
pub mod init;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-3/init.rs"]
pub mod init;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-3/mlp.rs"]
pub mod mlp;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-3/mlp.rs"]
pub mod mlp;
