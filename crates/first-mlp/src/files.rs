//! Files: where the workspace is, and writing output all-or-nothing (a
//! temporary file beside the target, renamed into place once complete, so a
//! failure never leaves half a file).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// renamed into place once complete: never a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // Readable by everyone, like any file cargo or an editor writes
    // (a temporary file starts private).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Ends a run: adds `run.json` in `out` to the files the run wrote, builds
/// the run's record from that list, writes it there, and lists the files.
pub fn write_run_record<R: Serialize>(
    out: &Path,
    mut files: Vec<PathBuf>,
    record: impl FnOnce(Vec<PathBuf>) -> R,
) -> Result<R> {
    let record_path = out.join("run.json");
    files.push(record_path.clone());
    let record = record(files.clone());
    write_atomically(
        &record_path,
        serde_json::to_string_pretty(&record)?.as_bytes(),
    )?;
    println!("Wrote to {}:", out.display());
    for f in &files {
        println!("  {}", f.display());
    }
    Ok(record)
}

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
