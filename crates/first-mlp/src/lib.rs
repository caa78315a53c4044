//! The First MLP command line's library: the course's runs and figures, on
//! the reference implementation.

pub mod checkpoint;
pub mod figures;
pub mod mnist_plots;
pub mod mnist_train;
pub mod report;
pub mod speech_corpus;
pub mod speech_train;

use std::path::{Path, PathBuf};

/// The root of the First MLP workspace (this crate lives in `crates/first-mlp`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Where `first-mlp figures` writes by default: the book's figure folder.
pub fn book_figures_dir() -> PathBuf {
    workspace_root().join("book/src/figures")
}
