//! Cross-stage and book tests for First MLP (see `book.rs` and `course.rs`).
//!
//! Under `cargo test` (doctest mode) every chapter of the book becomes the
//! documentation of an item here, so each Rust snippet in the prose that is
//! not an `{{#include}}` is compiled and run against the reference crates.

#[cfg(doctest)]
pub mod book_chapters {
    include!(concat!(env!("OUT_DIR"), "/book_chapters.rs"));
}
