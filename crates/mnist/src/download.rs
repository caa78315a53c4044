//! Downloading the four MNIST files, verified, with a progress bar.
//!
//! Each file is streamed into a temporary file beside its destination. Only
//! when its decompressed content has the expected sha256 is it renamed into
//! place; a failed, cut-short or corrupted download leaves nothing behind,
//! and the next mirror is tried. Timeouts bound a silent or slow server, the
//! body is capped by the file's known size, and temporary files that a killed
//! run left behind are removed by the next.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};

use crate::{FileSpec, MnistError, idx, sha256_hex};

/// The usual public mirrors (those torchvision uses), tried in order.
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// How long a download may wait. A silent server fails after `per_read`,
/// a slow one after `global`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// To open the connection.
    pub connect: Duration,
    /// For any one read (response headers or a piece of the body).
    pub per_read: Duration,
    /// For one file from one mirror, body included. A `.download-*` file
    /// untouched for longer belongs to no live download: it is removed.
    pub global: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            per_read: Duration::from_secs(30),
            // The largest file (9.9 MB) at 20 kB/s.
            global: Duration::from_secs(600),
        }
    }
}

/// The most bytes a gzip of `spec`'s content can take: stored (incompressible)
/// deflate blocks add 5 bytes per 65,535, the gzip header and trailer 18
/// and a file name in the header a little more.
pub fn max_download_size(spec: &FileSpec) -> u64 {
    spec.size + spec.size / 1024 + 4096
}

/// Makes sure every file of `specs` is in `dir`, downloading `NAME.gz` from
/// the first mirror that serves a verified copy. Files already present and
/// verified are left alone. `progress` shows a bar per download.
pub fn ensure(
    specs: &[FileSpec],
    mirrors: &[&str],
    dir: &Path,
    progress: bool,
) -> Result<(), MnistError> {
    ensure_with(specs, mirrors, dir, progress, &Limits::default())
}

/// [`ensure`] with the given time limits.
pub fn ensure_with(
    specs: &[FileSpec],
    mirrors: &[&str],
    dir: &Path,
    progress: bool,
    limits: &Limits,
) -> Result<(), MnistError> {
    fs::create_dir_all(dir).map_err(|source| MnistError::Io {
        path: dir.to_owned(),
        source,
    })?;
    remove_stale_temporaries(dir, limits.global);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(limits.connect))
        .timeout_per_read(Some(limits.per_read))
        .timeout_global(Some(limits.global))
        .build()
        .into();
    for spec in specs {
        if crate::is_present(dir, spec) {
            continue;
        }
        let mut attempts = Vec::new();
        let mut done = false;
        for mirror in mirrors {
            let url = format!("{}{}.gz", mirror, spec.name);
            match fetch_verified(&agent, &url, spec, dir, progress) {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(reason) => attempts.push(format!("  {url}: {reason}")),
            }
        }
        if !done {
            return Err(MnistError::Download {
                name: format!("{}.gz", spec.name),
                attempts: attempts.join("\n"),
            });
        }
    }
    Ok(())
}

/// One attempt: download, verify, rename into place. The error is a reason
/// for the report; the temporary file is deleted on any failure.
fn fetch_verified(
    agent: &ureq::Agent,
    url: &str,
    spec: &FileSpec,
    dir: &Path,
    progress: bool,
) -> Result<(), String> {
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let length: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let limit = max_download_size(spec);
    if let Some(length) = length
        && length > limit
    {
        return Err(format!(
            "the server announces {length} bytes, more than the {limit} a gzip of this file can take"
        ));
    }
    // One byte past the limit tells a body that is too long.
    let mut reader = response.into_body().into_reader().take(limit + 1);
    let mut temp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .map_err(|e| format!("creating a temporary file in {}: {e}", dir.display()))?;

    let bar = if progress {
        let bar = ProgressBar::new(length.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:28} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("{}.gz", spec.name));
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut received: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buffer)
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            break;
        }
        temp.write_all(&buffer[..n])
            .map_err(|e| format!("writing {}: {e}", temp.path().display()))?;
        received += n as u64;
        if received > limit {
            return Err(format!(
                "the body goes past {limit} bytes, more than a gzip of this file can take"
            ));
        }
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(expected) = length
        && received != expected
    {
        return Err(format!("cut short: {received} of {expected} bytes"));
    }

    let raw = fs::read(temp.path()).map_err(|e| format!("reading back: {e}"))?;
    // Decompressed no further than the IDX header declares (no bomb).
    let content = idx::decompress(raw, Path::new(url)).map_err(|e| match e {
        MnistError::Gzip { reason, .. } => format!("not a valid gzip stream: {reason}"),
        other => other.to_string(),
    })?;
    let found = sha256_hex(&content);
    if found != spec.sha256 {
        return Err(format!(
            "sha256 of the decompressed content: expected {}, found {found}",
            spec.sha256
        ));
    }
    let target = dir.join(format!("{}.gz", spec.name));
    temp.persist(&target)
        .map_err(|e| format!("renaming into {}: {e}", target.display()))?;
    Ok(())
}

/// Removes the `.download-*` files in `dir` not modified for longer than
/// `age`: a killed run's leftovers (a live download writes more often).
/// Best effort: a file that cannot be removed is left for the next run.
fn remove_stale_temporaries(dir: &Path, age: Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with(".download-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d > age));
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}
