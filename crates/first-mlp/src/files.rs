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
    check_output_file(path)?;
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

/// A path the command would read or replace that is not a regular file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRegularFile {
    /// An input (a checkpoint, a picture, a text) that is a FIFO, a device,
    /// a folder or a socket: reading a FIFO waits forever for a writer, and
    /// a device such as /dev/zero never ends. Checked before opening.
    Input { path: PathBuf, found: &'static str },
    /// An output file that exists as something else than a regular file (a
    /// symbolic link, even a dangling one, a FIFO, a device, a socket or a
    /// folder): the write's rename would replace it with a regular file
    /// (a device node among them).
    Output { path: PathBuf, found: &'static str },
}

impl fmt::Display for NotRegularFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input { path, found } => {
                write!(
                    f,
                    "{} is {found}, not a regular file; give a file",
                    path.display()
                )?;
                // The reason to refuse it, where it is not plain.
                if found.contains("FIFO") || found.contains("device") {
                    write!(f, " (reading it could wait or run forever)")?;
                }
                Ok(())
            }
            Self::Output { path, found } => write!(
                f,
                "{} is {found}, not a regular file, and writing there would replace it; \
                 choose another path (a new file, or a regular file to overwrite)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for NotRegularFile {}

/// What a file that is not a regular one is, in words.
fn file_type_text(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading if it is a regular file (or a symbolic link to
/// one), checked before opening (opening a FIFO blocks) and again on the
/// opened file, in case it was replaced in between.
pub fn open_regular(path: &Path) -> Result<File> {
    let not_regular = |kind| NotRegularFile::Input {
        path: path.to_owned(),
        found: file_type_text(kind),
    };
    let reading = || format!("reading {}", path.display());
    let kind = fs::metadata(path).with_context(reading)?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind).into());
    }
    let file = File::open(path).with_context(reading)?;
    let kind = file.metadata().with_context(reading)?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind).into());
    }
    Ok(file)
}

/// The bytes of `path`, a regular file (see [`open_regular`]).
pub fn read_regular(path: &Path) -> Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}

/// Refuses an output `path` that exists and is not a regular file, by its
/// own type (a symbolic link is refused, not followed): writing it through
/// a temporary file renamed into place would replace it.
pub fn check_output_file(path: &Path) -> Result<(), NotRegularFile> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.file_type().is_file() => Err(NotRegularFile::Output {
            path: path.to_owned(),
            found: file_type_text(metadata.file_type()),
        }),
        // Missing (or unreadable: the write then says why).
        _ => Ok(()),
    }
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
    /// The path goes through a folder where a run keeps earlier runs
    /// (`previous`, `interrupted`, or the staging folder of a move): a run
    /// writing there races with the move and both runs are lost.
    Reserved { dir: PathBuf, component: String },
    /// `previous/`, `interrupted/` or the staging folder is there but is not
    /// a real folder (a file, a symbolic link…): it is neither deleted nor
    /// followed.
    KeptRunNotAFolder { path: PathBuf, found: &'static str },
    /// One of the run's own files ([`RUN_FILES`]) is a symbolic link or a
    /// special file, which writing it would replace.
    RunFile(NotRegularFile),
    /// Setting the earlier run aside would replace the folder that holds
    /// the checkpoint being resumed.
    WouldReplaceResumed { checkpoint: PathBuf, kept: PathBuf },
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
            Self::Reserved { dir, component } => write!(
                f,
                "the output folder {} is inside a folder named {component:?}, where a run keeps \
                 the runs before it; a run writing there would be lost in the next move. Choose \
                 another with --out (to resume a run kept there, give its checkpoint to --resume)",
                dir.display()
            ),
            Self::KeptRunNotAFolder { path, found } => write!(
                f,
                "{} is {found}, not a folder; a run keeps the runs before it there, so move it \
                 away (it is neither deleted nor followed)",
                path.display()
            ),
            Self::RunFile(error) => write!(f, "{error}"),
            Self::WouldReplaceResumed { checkpoint, kept } => write!(
                f,
                "the output folder's earlier run would be set aside in {}, replacing the \
                 checkpoint being resumed, {}; copy that checkpoint elsewhere first, or choose \
                 another --out",
                kept.display(),
                checkpoint.display()
            ),
        }
    }
}

impl std::error::Error for OutputFolderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotWritable { error, .. } => Some(error),
            Self::InUse { .. }
            | Self::NotAFolder { .. }
            | Self::Reserved { .. }
            | Self::KeptRunNotAFolder { .. }
            | Self::RunFile(_)
            | Self::WouldReplaceResumed { .. } => None,
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

/// What a run does with an earlier run's files in its output folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Earlier<'a> {
    /// Keeps them: a resumed run continuing in its checkpoint's folder, or
    /// the reference's run in its cache.
    Keep,
    /// Sets them aside ([`set_aside_earlier_run`]): a fresh run, or one
    /// resumed from the checkpoint `resumed` into another folder.
    SetAside { resumed: Option<&'a Path> },
}

impl OutputFolder {
    /// Prepares `dir` before anything is trained, so that a read-only
    /// folder or a full disk fails now rather than after an epoch. The
    /// run's own files there must be regular files (a symbolic link or a
    /// device would be replaced), and an earlier run's files are set aside
    /// first as `earlier` says.
    pub fn prepare(dir: &Path, earlier: Earlier<'_>) -> Result<Self, OutputFolderError> {
        let not_writable = |error| OutputFolderError::NotWritable {
            dir: dir.to_owned(),
            error,
        };
        check_not_reserved(dir)?;
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
        for name in RUN_FILES {
            check_output_file(&dir.join(name)).map_err(OutputFolderError::RunFile)?;
        }
        if let Earlier::SetAside { resumed } = earlier {
            set_aside_earlier_run(dir, resumed)?;
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

/// Where a fresh run puts the files of the complete run before it (one
/// with its run.json).
pub const PREVIOUS: &str = "previous";

/// Where a fresh run puts the files of an interrupted run before it (its
/// checkpoints without a run.json): `interrupted/last.safetensors` can be
/// resumed from there.
pub const INTERRUPTED: &str = "interrupted";

/// The folder an interrupted move into `previous/` or `interrupted/` is
/// finished from.
const PREVIOUS_STAGING: &str = ".previous-moving";

/// The names of the folders where runs are kept: no output folder may be in
/// one.
pub const RESERVED: [&str; 3] = [PREVIOUS, INTERRUPTED, PREVIOUS_STAGING];

/// Refuses an output folder with a component in [`RESERVED`], as given or
/// once its symbolic links are resolved.
fn check_not_reserved(dir: &Path) -> Result<(), OutputFolderError> {
    let reserved = |path: &Path| {
        path.components().find_map(|c| match c {
            std::path::Component::Normal(name) => RESERVED
                .iter()
                .find(|r| name == std::ffi::OsStr::new(r))
                .map(|r| r.to_string()),
            _ => None,
        })
    };
    let resolved = dir
        .ancestors()
        .find_map(|a| fs::canonicalize(a).ok().map(|c| (a, c)))
        .map(|(a, c)| c.join(dir.strip_prefix(a).unwrap_or(Path::new(""))));
    match reserved(dir).or_else(|| resolved.as_deref().and_then(reserved)) {
        Some(component) => Err(OutputFolderError::Reserved {
            dir: dir.to_owned(),
            component,
        }),
        None => Ok(()),
    }
}

/// Whether `path` is a real folder (not a symbolic link to one): false when
/// missing, [`OutputFolderError::KeptRunNotAFolder`] when something else.
fn real_folder(path: &Path) -> Result<bool, OutputFolderError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_dir() => Ok(true),
        Ok(metadata) => Err(OutputFolderError::KeptRunNotAFolder {
            path: path.to_owned(),
            found: file_type_text(metadata.file_type()),
        }),
        Err(_) => Ok(false),
    }
}

/// Whether `path` is a regular file, by its own type (not a link's target).
fn regular_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// Moves the files of an earlier run in `dir` ([`RUN_FILES`]) aside, and
/// says so in a line: a complete run's (with its run.json) into
/// `dir/previous/`, replacing an older `previous/`; an interrupted run's
/// (checkpoints without run.json) into `dir/interrupted/`, replacing an
/// older `interrupted/` and leaving `previous/` alone, so that a run killed
/// after the move never costs the complete run kept before it.
///
/// Why: a new run writes the same names, so without this a fresh run would
/// silently replace the earlier run's checkpoints, and a fresh run that
/// fails partway would leave the two runs mixed (its last.safetensors beside
/// the earlier best.safetensors and run.json). With it, `dir` only ever
/// holds one run's files, and the earlier run is one folder down.
///
/// The files go first into a staging folder (run.json first, so a staging
/// folder holding it is a complete run's), which replaces its destination
/// only once complete; a move killed halfway is finished by the next run
/// that sets aside (the staging folder is reused). None of these folders
/// is followed if it is a symbolic link, nor deleted if it is not a folder;
/// and the one holding the checkpoint being `resumed` is never replaced.
pub fn set_aside_earlier_run(dir: &Path, resumed: Option<&Path>) -> Result<(), OutputFolderError> {
    let not_writable = |error| OutputFolderError::NotWritable {
        dir: dir.to_owned(),
        error,
    };
    let staging = dir.join(PREVIOUS_STAGING);
    let (previous, interrupted) = (dir.join(PREVIOUS), dir.join(INTERRUPTED));
    let staged = real_folder(&staging)?;
    let (had_previous, had_interrupted) = (real_folder(&previous)?, real_folder(&interrupted)?);
    // run.json first: see above.
    let mut present: Vec<&str> = RUN_FILES
        .iter()
        .copied()
        .filter(|name| regular_file(&dir.join(name)))
        .collect();
    present.sort_by_key(|&name| name != "run.json");
    if present.is_empty() && !staged {
        return Ok(());
    }
    let complete = present.contains(&"run.json") || regular_file(&staging.join("run.json"));
    let (kept, replaced) = if complete {
        (previous, had_previous)
    } else {
        (interrupted, had_interrupted)
    };
    if replaced
        && let Some(checkpoint) = resumed
        && let (Ok(a), Ok(b)) = (fs::canonicalize(checkpoint), fs::canonicalize(&kept))
        && a.starts_with(&b)
    {
        return Err(OutputFolderError::WouldReplaceResumed {
            checkpoint: checkpoint.to_owned(),
            kept,
        });
    }
    if !staged {
        fs::create_dir(&staging).map_err(not_writable)?;
    }
    for name in &present {
        fs::rename(dir.join(name), staging.join(name)).map_err(not_writable)?;
    }
    if replaced {
        fs::remove_dir_all(&kept).map_err(not_writable)?;
    }
    fs::rename(&staging, &kept).map_err(not_writable)?;
    sync_folder(dir).map_err(|e| not_writable(io::Error::other(e)))?;
    println!(
        "Moved the {} in {} to {}{}",
        if complete {
            "earlier run's files"
        } else {
            "files of an interrupted run (checkpoints without run.json; resumable with --resume)"
        },
        dir.display(),
        kept.display(),
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
