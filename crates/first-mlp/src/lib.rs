//! The First MLP command line's library: the course's runs and figures, on
//! the reference implementation.
//!
//! Imports run one way, from the top down:
//!
//! - `demo`, `figures`: what the book shows;
//! - `mnist_pipeline`, `speech_pipeline`: the two pipelines (configuration,
//!   run, predict), on the data sets of the `mnist` and `speech` crates;
//! - `training`: the loop both pipelines share; `datasets`: their data;
//!   `plots`: drawing;
//! - `comparison`: a run of yours against the reference's run of the same
//!   configuration;
//! - `code`: whose stages run, the reference's or yours;
//! - `checkpoint`, `report`, `files`, and `speech_corpus` (the generator of
//!   the bundled corpus, `first-mlp speech-corpus`): leaves.
//!
//! Within a folder module, `mod.rs` uses its files and they use each other
//! only one way too (`plots::canvas` under the other plots; a pipeline's
//! `config` under its `mod.rs`, which runs it, and its `predict`).

pub mod checkpoint;
pub mod code;
pub mod comparison;
pub mod datasets;
pub mod demo;
pub mod figures;
pub mod files;
pub mod mnist_pipeline;
pub mod plots;
pub mod regularisation;
pub mod report;
pub mod speech_corpus;
pub mod speech_pipeline;
pub mod training;

pub use files::{book_figures_dir, workspace_root};
