//! The reference solution of First MLP: one module per stage.
//!
//! Each file here mirrors a learner's file in `exercises/` with the same
//! items and anchors. The stage crates compile the learner's file by default
//! and this file under `--features reference`; later stages import earlier
//! ones from this crate, so an unfinished stage never blocks the next one.
//! The types the stages work on (networks, gradients, optimisers) are given
//! code, in the `course-support` crate.

#![forbid(unsafe_code)]

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
