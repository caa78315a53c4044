//! Your code, all stages together: the crate behind `first-mlp train
//! --yours`. Here each stage builds on your earlier stages, not on the
//! reference, so a network trains on nothing but what you wrote (and the
//! given types in `course-support`).
//!
//! You never edit this file. `cargo test -p stage-N` still tests each stage
//! on its own, on top of the reference.

// Untouched stubs leave their parameters unused; that is expected, not a warning.
#![allow(unused_variables, unused_imports, dead_code)]

#[path = "stage-1/perceptron.rs"]
pub mod perceptron;

#[path = "stage-2/activations.rs"]
pub mod activations;

#[path = "stage-3/layers.rs"]
pub mod layers;

#[path = "stage-3/init.rs"]
pub mod init;

#[path = "stage-3/mlp.rs"]
pub mod mlp;

#[path = "stage-4/backward.rs"]
pub mod backward;

#[path = "stage-4/losses.rs"]
pub mod losses;

#[path = "stage-4/optim.rs"]
pub mod optim;

#[path = "stage-4/train.rs"]
pub mod train;

#[path = "stage-5/data.rs"]
pub mod data;

#[path = "stage-5/training.rs"]
pub mod training;

#[path = "stage-6/features.rs"]
pub mod features;

#[path = "stage-6/context.rs"]
pub mod context;

#[path = "stage-7/dropout.rs"]
pub mod dropout;

#[path = "stage-7/batch_norm.rs"]
pub mod batch_norm;

#[path = "stage-7/network.rs"]
pub mod network;

#[path = "stage-7/augment.rs"]
pub mod augment;
