//! What every stage is given rather than asked to write: the types a network
//! is made of, the optimisers' settings, the gradient checker, the toy data
//! sets of the early stages, the batch loader, and the assertion helpers that
//! make a failing test say what it expected.
//!
//! Nothing in here is an exercise; the lessons live in `exercises/`, and they
//! use these types.

pub mod activation;
pub mod augmentation;
pub mod batches;
pub mod check;
pub mod data;
pub mod gradcheck;
pub mod gradients;
pub mod library_panics;
pub mod network;
pub mod optim;
pub mod regularise;
pub mod shape;
pub mod speech;
pub mod stats;

#[doc(hidden)]
pub use ctor;

/// Installs the [`library_panics`] note before a test binary's tests
/// start: one line at the top of each stage's test file.
#[macro_export]
macro_rules! name_library_panics {
    () => {
        #[$crate::ctor::ctor(unsafe, crate_path = $crate::ctor)]
        fn name_library_panics() {
            $crate::library_panics::install();
        }
    };
}
