//! The reference solution of First MLP: one module per stage.
//!
//! Each file here mirrors a learner's file in `exercises/` with the same
//! items and anchors. The stage crates compile the learner's file by default
//! and this file under `--features reference`; later stages import earlier
//! ones from this crate, so an unfinished stage never blocks the next one.

#![forbid(unsafe_code)]

#[path = "stage-1/perceptron.rs"]
pub mod perceptron;

#[path = "stage-2/activations.rs"]
pub mod activations;

/// Given code of stage 2 (not an exercise), compiled here against the reference.
#[path = "../crates/stage-2/activation.rs"]
pub mod activation;
pub use activation::Activation;

#[path = "stage-3/layers.rs"]
pub mod layers;

#[path = "stage-3/init.rs"]
pub mod init;

#[path = "stage-3/mlp.rs"]
pub mod mlp;

/// Given code of stage 3 (not an exercise), compiled here against the reference.
#[path = "../crates/stage-3/network.rs"]
pub mod network;
pub use network::{Layer, Mlp, Parameter};

/// Given code of stage 4 (not an exercise), compiled here against the reference.
#[path = "../crates/stage-4/given.rs"]
pub mod given;

#[path = "stage-4/backward.rs"]
pub mod backward;

#[path = "stage-4/losses.rs"]
pub mod losses;

#[path = "stage-4/optim.rs"]
pub mod optim;

#[path = "stage-4/train.rs"]
pub mod train;

/// The numerical gradient checker of stage 4 (given), on the reference.
#[path = "../crates/stage-4/gradcheck.rs"]
pub mod gradcheck;

/// Given code of stage 5 (not an exercise), compiled here against the reference.
#[path = "../crates/stage-5/stats.rs"]
pub mod stats;

#[path = "stage-5/training.rs"]
pub mod training;

#[path = "stage-6/context.rs"]
pub mod context;
