//! Shared infrastructure for First MLP: the toy data sets of the early stages
//! and the assertion helpers that make a failing test say what it expected.
//!
//! Nothing in here is an exercise; the lessons live in `exercises/`.

pub mod batches;
pub mod check;
pub mod data;
pub mod shape;
