//! Downloading the four MNIST files, verified, with a progress bar.
//!
//! Each file is streamed into a temporary file beside its destination. Only
//! when its decompressed content has the expected sha256 is it renamed into
//! place; a failed, cut-short or corrupted download leaves nothing behind,
//! and the next mirror is tried.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::{FileSpec, MnistError, idx, sha256_hex};

/// The usual public mirrors (those torchvision uses), tried in order.
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Makes sure every file of `specs` is in `dir`, downloading `NAME.gz` from
/// the first mirror that serves a verified copy. Files already present and
/// verified are left alone. `progress` shows a bar per download.
pub fn ensure(
    specs: &[FileSpec],
    mirrors: &[&str],
    dir: &Path,
    progress: bool,
) -> Result<(), MnistError> {
    fs::create_dir_all(dir).map_err(|source| MnistError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(600)))
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
    let mut reader = response.into_body().into_reader();
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
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(expected) = length
        && received != expected
    {
        return Err(format!("cut short: {received} of {expected} bytes"));
    }

    let raw = fs::read(temp.path()).map_err(|e| format!("reading back: {e}"))?;
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
