//! What every stage is given rather than asked to write: the types a network
//! is made of, the optimisers' settings, the gradient checker, the toy data
//! sets of the early stages, the batch loader, and the assertion helpers that
//! make a failing test say what it expected.
//!
//! Nothing in here is an exercise; the lessons live in `exercises/`, and they
//! use these types.

pub mod activation;
pub mod batches;
pub mod check;
pub mod data;
pub mod gradcheck;
pub mod gradients;
pub mod network;
pub mod optim;
pub mod shape;
pub mod speech;
pub mod stats;
