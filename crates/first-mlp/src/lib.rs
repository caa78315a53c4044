//! The First MLP command line's library: the course's runs and figures, on
//! the reference implementation.
//!
//! Imports run one way, from the top down:
//!
//! - `demo`, `figures`: what the book shows;
//! - `mnist`, `speech`: the two pipelines (configuration, run, predict);
//! - `training`: the loop both pipelines share; `datasets`: their data;
//!   `plots`: drawing;
//! - `checkpoint`, `report`, `files`, `speech_corpus`: leaves.
//!
//! Within a folder module, `mod.rs` uses its files and they use each other
//! only one way too (`plots::canvas` under the plots, `config` under `run`
//! and `predict`).

pub mod checkpoint;
pub mod datasets;
pub mod demo;
pub mod figures;
pub mod files;
pub mod mnist;
pub mod plots;
pub mod report;
pub mod speech;
pub mod speech_corpus;
pub mod training;

pub use files::{book_figures_dir, workspace_root};
