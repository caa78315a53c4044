//! The First MLP command line's library: the course's runs and figures, on
//! the reference implementation.

pub mod figures;

use std::path::PathBuf;

/// Where `first-mlp figures` writes by default: the book's figure folder.
pub fn book_figures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/figures")
}
