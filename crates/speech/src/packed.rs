//! A corpus in the HW1P2 layout packed into one xz-compressed tar, as the
//! bundled corpus is kept: its split folders in one file, which `tar -xJf`
//! unpacks to disk and [`crate::hw1p2::Corpus`] unpacks in memory.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use liblzma::read::XzDecoder;
use liblzma::write::XzEncoder;
use tar::{Archive, Builder, EntryType, Header};

use crate::hw1p2::LayoutError;
use crate::{OpenError, open_regular};

/// The most an archive may unpack to. The bundled corpus unpacks to about
/// 75 MB; a folder is the way to read more.
pub const MAX_UNPACKED: u64 = 4 << 30;

/// xz's preset: the strongest without the much slower "extreme" search.
const XZ_PRESET: u32 = 9;

/// The regular files of an archive, by their path inside it (`./` dropped).
#[derive(Debug)]
pub struct Packed {
    pub path: PathBuf,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Packed {
    /// Unpacks `path` in memory. Folders in it are skipped; links and
    /// other special entries, a path given twice, and more than
    /// [`MAX_UNPACKED`] bytes are refused.
    pub fn read(path: &Path) -> Result<Self, LayoutError> {
        Self::read_at_most(path, MAX_UNPACKED)
    }

    /// [`Packed::read`] with another limit on the unpacked bytes.
    pub fn read_at_most(path: &Path, limit: u64) -> Result<Self, LayoutError> {
        let io = |source| LayoutError::Io {
            path: path.to_owned(),
            source,
        };
        let file = open_regular(path).map_err(|e| match e {
            OpenError::Io(source) => io(source),
            OpenError::NotRegular(found) => LayoutError::Invalid {
                path: path.to_owned(),
                problem: format!("expected an xz-compressed tar file, found {found}"),
            },
        })?;
        let unpacked = Rc::new(Cell::new(0));
        let reader = Counted {
            inner: XzDecoder::new(BufReader::new(file)),
            count: Rc::clone(&unpacked),
            limit,
        };
        let mut archive = Archive::new(reader);
        let mut files = BTreeMap::new();
        // Any read may stop at the limit: that, not the read error it
        // causes, is what went wrong.
        let failed = |source: io::Error, entry: Option<&str>| {
            if unpacked.get() > limit {
                return LayoutError::TooLarge {
                    path: path.to_owned(),
                    limit,
                };
            }
            LayoutError::Packed {
                path: path.to_owned(),
                entry: entry.map(str::to_owned),
                source,
            }
        };
        for entry in archive.entries().map_err(|e| failed(e, None))? {
            let mut entry = entry.map_err(|e| failed(e, None))?;
            let raw = entry.path().map_err(|e| failed(e, None))?.into_owned();
            let invalid = |problem: String| LayoutError::Invalid {
                path: path.join(raw.to_string_lossy().trim_start_matches('/')),
                problem,
            };
            match entry.header().entry_type() {
                // Metadata for the entries after it (git archive writes one).
                EntryType::XGlobalHeader => continue,
                EntryType::Directory => continue,
                EntryType::Regular | EntryType::Continuous => {}
                other => {
                    return Err(invalid(format!(
                        "an entry of type {other:?}: expected regular files and folders only"
                    )));
                }
            }
            let name = entry_name(&raw).map_err(invalid)?;
            let size = entry.size();
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| failed(e, Some(&name)))?;
            if bytes.len() as u64 != size {
                return Err(failed(
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{} of the {size} bytes its header declares", bytes.len()),
                    ),
                    Some(&name),
                ));
            }
            if files.contains_key(&name) {
                return Err(invalid("in the archive twice".to_owned()));
            }
            files.insert(name, bytes);
        }
        // The tar ends before the xz stream does: reading the rest checks
        // the stream's checksum and that nothing was cut off its end.
        io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| failed(e, None))?;
        Ok(Self {
            path: path.to_owned(),
            files,
        })
    }

    /// The names of the archive's top-level folders, sorted, for an error
    /// that a split is not among them.
    pub fn top_level(&self) -> Vec<&str> {
        let mut top: Vec<&str> = self
            .files
            .keys()
            .filter_map(|name| name.split_once('/').map(|(first, _)| first))
            .collect();
        top.dedup();
        top
    }

    /// Whether any file lies under `folder/` (such as `test-other/transcript`).
    pub fn has_folder(&self, folder: &str) -> bool {
        let prefix = format!("{folder}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(&prefix))
    }

    /// The names of the files directly in `folder`, sorted, with their bytes.
    pub fn folder(&self, folder: &str) -> impl Iterator<Item = (&str, &[u8])> {
        let prefix = format!("{folder}/");
        self.files
            .range(prefix.clone()..)
            .take_while(move |(name, _)| name.starts_with(&prefix))
            .filter_map(move |(name, bytes)| {
                let rest = &name[folder.len() + 1..];
                (!rest.contains('/')).then_some((rest, bytes.as_slice()))
            })
    }
}

/// An entry's path inside the archive, as `tar -x` would place it: `./`
/// and empty parts dropped, parts joined by `/`. Paths that climb out
/// (`..`) or start at the root are refused, as are names that are not
/// UTF-8, so that two names cannot read as one.
fn entry_name(raw: &Path) -> Result<String, String> {
    let mut parts = Vec::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .ok_or_else(|| "a name that is not UTF-8".to_owned())?,
            ),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err("a path outside the archive's top folder: expected a \
                            relative path without .."
                    .to_owned());
            }
        }
    }
    Ok(parts.join("/"))
}

/// Counts the bytes read through it, and fails once they pass `limit`.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        if self.count.get() > self.limit {
            return Err(io::Error::other("past the limit on unpacked bytes"));
        }
        Ok(n)
    }
}

/// Packs the files under `root`'s folders `parts` (recursively, in sorted
/// order) into the xz-compressed tar `out`, the same bytes every time:
/// headers carry no time, owner or mode of the machine. It is written
/// beside `out` and renamed, so a failure leaves no half-written archive.
pub fn pack(root: &Path, parts: &[&str], out: &Path) -> Result<(), LayoutError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| LayoutError::Io { path, source }
    };
    let folder = out.parent().unwrap_or(Path::new("."));
    let staging = tempfile::NamedTempFile::new_in(folder).map_err(io(folder))?;
    let encoder = XzEncoder::new(BufWriter::new(staging.as_file()), XZ_PRESET);
    let mut builder = Builder::new(encoder);
    for part in parts {
        let mut files = Vec::new();
        collect_files(&root.join(part), Path::new(part), &mut files)?;
        for relative in files {
            let source = root.join(&relative);
            let bytes = fs::read(&source).map_err(io(&source))?;
            let mut header = Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_entry_type(EntryType::Regular);
            builder
                .append_data(&mut header, &relative, bytes.as_slice())
                .map_err(io(&source))?;
        }
    }
    let mut writer = builder
        .into_inner()
        .and_then(XzEncoder::finish)
        .map_err(io(out))?;
    writer.flush().map_err(io(out))?;
    drop(writer);
    // A temporary file is private to its owner; the archive is not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o644)).map_err(io(out))?;
    }
    staging.as_file().sync_all().map_err(io(out))?;
    staging.persist(out).map_err(|e| LayoutError::Io {
        path: out.to_owned(),
        source: e.error,
    })?;
    Ok(())
}

/// The regular files under `dir`, as paths starting at `relative`, sorted.
fn collect_files(dir: &Path, relative: &Path, out: &mut Vec<PathBuf>) -> Result<(), LayoutError> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
        .map_err(|source| LayoutError::Io {
            path: dir.to_owned(),
            source,
        })?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let kind = entry.file_type().map_err(|source| LayoutError::Io {
            path: entry.path(),
            source,
        })?;
        if kind.is_dir() {
            collect_files(&entry.path(), &relative.join(&name), out)?;
        } else if kind.is_file() {
            out.push(relative.join(&name));
        } else {
            return Err(LayoutError::Invalid {
                path: entry.path(),
                problem: "neither a regular file nor a folder: not packed".to_owned(),
            });
        }
    }
    Ok(())
}
