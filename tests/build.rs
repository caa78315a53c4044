//! Turns every chapter of the book into a doctest item, so `cargo test`
//! compiles and runs each Rust snippet written in the prose.

use std::fmt::Write;
use std::path::Path;
use std::{env, fs};

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let book = Path::new(&manifest).join("../book/src");
    println!("cargo::rerun-if-changed={}", book.display());
    let mut chapters = Vec::new();
    collect_markdown(&book, &mut chapters);
    chapters.sort();
    let mut out = String::new();
    for (i, chapter) in chapters.iter().enumerate() {
        println!("cargo::rerun-if-changed={}", chapter.display());
        writeln!(
            out,
            "#[doc = include_str!({:?})]\npub struct Chapter{i};",
            chapter.display().to_string()
        )
        .unwrap();
    }
    let target = Path::new(&env::var("OUT_DIR").unwrap()).join("book_chapters.rs");
    fs::write(target, out).expect("writing book_chapters.rs");
}

fn collect_markdown(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo::rerun-if-changed={}", path.display());
            collect_markdown(&path, found);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
}
