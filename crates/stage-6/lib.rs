//! Stage 6: the speech features (a step of the MFCC front end, the frames'
//! labels, per-utterance normalisation) and frames with context, the input
//! of the HW1P2 phoneme classifier.
//!
//! `cargo test -p stage-6` tests your code in `exercises/stage-6/`;
//! `cargo test -p stage-6 --features reference` runs the same tests on the
//! reference solution in `solutions/stage-6/`.

pub use course_support::shape::{self, ShapeError};
pub use course_support::speech::Phone;

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-6/features.rs"]
pub mod features;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-6/features.rs"]
pub mod features;

#[cfg(not(feature = "reference"))]
#[allow(unused_variables, unused_imports, dead_code)]
#[path = "../../exercises/stage-6/context.rs"]
pub mod context;
#[cfg(feature = "reference")]
#[path = "../../solutions/stage-6/context.rs"]
pub mod context;
