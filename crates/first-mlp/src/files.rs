//! Files: where the workspace is, writing output all-or-nothing (a
//! temporary file beside the target, synced and renamed into place once
//! complete, so a failure never leaves half a file), and the output folder a
//! run writes into.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde::Serialize;

/// The prefix of the temporary files [`write_atomically`] writes beside
/// its targets.
pub const PARTIAL_PREFIX: &str = ".partial-";

/// The prefix of a checkpoint's temporary file.
pub const CHECKPOINT_PREFIX: &str = ".checkpoint-";

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// renamed into place once complete: never a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_durably(path, bytes, PARTIAL_PREFIX)
}

/// Writes `bytes` to `path` through a temporary file named `prefix…` in the
/// same folder: written, synced to the disk, renamed into place, and the
/// folder synced, so that a kill or a power loss leaves the old file or the
/// new one, whole, never a renamed file whose data was still in memory.
pub fn write_durably(path: &Path, bytes: &[u8], prefix: &str) -> Result<()> {
    let dir = parent_of(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    // Readable by everyone, like any file cargo or an editor writes
    // (a temporary file starts private).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    file.as_file()
        .sync_all()
        .with_context(|| format!("syncing {} to the disk", path.display()))?;
    file.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    sync_folder(dir)
}

/// The folder `path` is in ("." for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Syncs a folder's entries (a rename is durable only once its folder is).
/// Unix only: elsewhere a folder cannot be opened as a file.
fn sync_folder(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Err(error) = File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot sync a folder: nothing more can be done.
        if !matches!(
            error.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
        ) {
            return Err(error).with_context(|| format!("syncing the folder {}", dir.display()));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Why a run cannot write its output folder.
#[derive(Debug)]
pub enum OutputFolderError {
    /// The folder cannot be created, or a file cannot be written in it
    /// (read-only, no space left, no permission).
    NotWritable { dir: PathBuf, error: io::Error },
    /// Another run holds the folder: two runs writing the same checkpoints
    /// would mix their models.
    InUse { dir: PathBuf },
    /// The path, or a folder on the way to it, is a file: `path`.
    NotAFolder { dir: PathBuf, path: PathBuf },
}

impl fmt::Display for OutputFolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotWritable { dir, error } => write!(
                f,
                "the output folder {} cannot be written ({error}); choose another with --out, \
                 or free space",
                dir.display()
            ),
            Self::InUse { dir } => write!(
                f,
                "the output folder {} is in use by another run; wait for it to finish, or \
                 choose another with --out",
                dir.display()
            ),
            Self::NotAFolder { dir, path } if dir == path => write!(
                f,
                "the output folder {} is a file, not a folder; choose a folder with --out",
                dir.display()
            ),
            Self::NotAFolder { dir, path } => write!(
                f,
                "the output folder {} cannot be made: {} is a file, not a folder; choose \
                 another with --out",
                dir.display(),
                path.display()
            ),
        }
    }
}

impl std::error::Error for OutputFolderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotWritable { error, .. } => Some(error),
            Self::InUse { .. } | Self::NotAFolder { .. } => None,
        }
    }
}

/// How old a temporary file must be to be taken for an orphan when the
/// folder cannot be locked: no write of a checkpoint takes this long.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// A run's output folder: created, proved writable, held against other
/// runs for as long as this value lives (where the system can lock a
/// folder), and cleared of the temporary files an interrupted run left.
#[derive(Debug)]
pub struct OutputFolder {
    dir: PathBuf,
    /// The folder itself, locked (a lock file would be one more file left
    /// in the folder). None where folders cannot be locked.
    _lock: Option<File>,
}

impl OutputFolder {
    /// Prepares `dir` before anything is trained, so that a read-only
    /// folder or a full disk fails now rather than after an epoch. For a
    /// `fresh` run (not a resumed one), an earlier run's files there are
    /// moved into `previous/` first (see [`set_aside_previous_run`]).
    pub fn prepare(dir: &Path, fresh: bool) -> Result<Self, OutputFolderError> {
        let not_writable = |error| OutputFolderError::NotWritable {
            dir: dir.to_owned(),
            error,
        };
        // create_dir_all's error for a file in the way ("File exists") reads
        // as a full disk: name the file instead.
        if let Some(file) = dir.ancestors().find(|a| a.exists()).filter(|a| !a.is_dir()) {
            return Err(OutputFolderError::NotAFolder {
                dir: dir.to_owned(),
                path: file.to_owned(),
            });
        }
        fs::create_dir_all(dir).map_err(not_writable)?;
        let lock = lock_folder(dir)?;
        remove_orphans(dir, lock.is_some());
        probe(dir).map_err(not_writable)?;
        if fresh {
            set_aside_previous_run(dir).map_err(not_writable)?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// The folder opened and locked; None where it cannot be (not unix, or a
/// file system without locks), when orphans are told by their age instead.
fn lock_folder(dir: &Path) -> Result<Option<File>, OutputFolderError> {
    #[cfg(unix)]
    {
        let Ok(folder) = File::open(dir) else {
            return Ok(None);
        };
        match folder.try_lock() {
            Ok(()) => Ok(Some(folder)),
            Err(fs::TryLockError::WouldBlock) => Err(OutputFolderError::InUse {
                dir: dir.to_owned(),
            }),
            Err(fs::TryLockError::Error(_)) => Ok(None),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// Removes the temporary files of checkpoints and outputs in `dir` that no
/// live writer can own: all of them when `locked` (only the holder of the
/// lock writes there), else those older than [`STALE_AFTER`]. Says how many
/// it removed; one it cannot remove is left (the probe then says why).
fn remove_orphans(dir: &Path, locked: bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let (mut removed, mut bytes) = (0usize, 0u64);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(CHECKPOINT_PREFIX) || name.starts_with(PARTIAL_PREFIX)) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let stale = metadata
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if metadata.is_file() && (locked || stale) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
            bytes += metadata.len();
        }
    }
    if removed > 0 {
        println!(
            "Removed {removed} temporary file(s) ({:.1} MB) that an interrupted run left in {}",
            bytes as f64 / 1e6,
            dir.display()
        );
    }
}

/// The files a run writes in its output folder (checkpoints, the record,
/// the submission and the plots): what [`set_aside_previous_run`] moves.
/// The comparison's cache (`by-the-reference/`) is not a run's output and
/// stays.
pub const RUN_FILES: [&str; 8] = [
    "best.safetensors",
    "last.safetensors",
    "run.json",
    "submission.csv",
    "curves.svg",
    "confusion.svg",
    "samples.png",
    "misclassified.png",
];

/// Where a fresh run puts the files of the run before it.
pub const PREVIOUS: &str = "previous";

/// The folder an interrupted move into `previous/` is finished from.
const PREVIOUS_STAGING: &str = ".previous-moving";

/// Moves the files of an earlier run in `dir` ([`RUN_FILES`]) into
/// `dir/previous/`, replacing an older `previous/`, and says so in a line.
///
/// Why: a new run writes the same names, so without this a fresh run would
/// silently replace the earlier run's checkpoints, and a fresh run that
/// fails partway would leave the two runs mixed (its last.safetensors beside
/// the earlier best.safetensors and run.json). With it, `dir` only ever
/// holds one run's files, and the earlier run is one folder down.
///
/// The files go first into a staging folder, which replaces `previous/`
/// only once complete; a move killed halfway is finished by the next fresh
/// run (the staging folder is reused), so `previous/` never holds a mix.
pub fn set_aside_previous_run(dir: &Path) -> io::Result<()> {
    let staging = dir.join(PREVIOUS_STAGING);
    let present: Vec<&str> = RUN_FILES
        .iter()
        .copied()
        .filter(|name| dir.join(name).is_file())
        .collect();
    if present.is_empty() && !staging.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(&staging)?;
    for name in &present {
        fs::rename(dir.join(name), staging.join(name))?;
    }
    let previous = dir.join(PREVIOUS);
    let replaced = previous.exists();
    if previous.is_dir() {
        fs::remove_dir_all(&previous)?;
    } else if replaced {
        fs::remove_file(&previous)?;
    }
    fs::rename(&staging, &previous)?;
    sync_folder(dir).map_err(io::Error::other)?;
    println!(
        "Moved the earlier run's files in {} to {}{}",
        dir.display(),
        previous.display(),
        if replaced {
            " (replacing an older one there)"
        } else {
            ""
        }
    );
    Ok(())
}

/// An output path that names one of the command's inputs: writing it would
/// destroy the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputIsInput {
    /// The flag of the output, such as "--csv".
    pub flag: &'static str,
    pub output: PathBuf,
    pub input: PathBuf,
}

impl fmt::Display for OutputIsInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is the same file as the input {}; writing it would destroy the input, so \
             choose another path",
            self.flag,
            self.output.display(),
            self.input.display()
        )
    }
}

impl std::error::Error for OutputIsInput {}

/// Refuses an `output` (given as `flag`) that is one of `inputs`: the same
/// canonical path (through `..` or a symbolic link), or the same file
/// under another name (a hard link). A missing output is no input.
pub fn check_output_not_input(
    flag: &'static str,
    output: &Path,
    inputs: &[&Path],
) -> Result<(), OutputIsInput> {
    let Ok(target) = fs::metadata(output) else {
        return Ok(());
    };
    let canonical = fs::canonicalize(output).ok();
    for &input in inputs {
        let same_path = canonical.is_some() && fs::canonicalize(input).ok() == canonical;
        if same_path || fs::metadata(input).is_ok_and(|i| same_file(&i, &target)) {
            return Err(OutputIsInput {
                flag,
                output: output.to_owned(),
                input: input.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether two files' metadata are of the same file (device and inode).
#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false
}

/// Writes, syncs and removes a small file in `dir`.
fn probe(dir: &Path) -> io::Result<()> {
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{PARTIAL_PREFIX}probe-"))
        .tempfile_in(dir)?;
    file.write_all(&[0; 4096])?;
    file.as_file().sync_all()?;
    file.close()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_lock_only_old_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        let named = |name: &str, modified: Option<SystemTime>| {
            let path = dir.path().join(name);
            let file = File::create(&path).unwrap();
            if let Some(time) = modified {
                file.set_modified(time).unwrap();
            }
            path
        };
        let orphans = [
            named(".checkpoint-old", Some(old)),
            named(".partial-old", Some(old)),
        ];
        // A live writer's file, and files that are not temporary ones.
        let kept = [
            named(".checkpoint-live", None),
            named("notes.checkpoint-old", Some(old)),
            named("best.safetensors", Some(old)),
        ];
        remove_orphans(dir.path(), false);
        assert!(orphans.iter().all(|p| !p.exists()));
        assert!(kept.iter().all(|p| p.exists()));
        // With the folder locked, no live writer can own one.
        remove_orphans(dir.path(), true);
        assert!(!kept[0].exists());
        assert!(kept[1].exists() && kept[2].exists());
    }

    #[test]
    fn durable_writes_leave_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_durably(&path, b"one", CHECKPOINT_PREFIX).unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
