//! Speech for First MLP: NumPy's `.npy` files, the HW1P2 data layout and its
//! 40 phonemes, and an MFCC front end.

pub mod augment;
pub mod cepstral_warp;
pub mod decode;
pub mod hw1p2;
pub mod mfcc;
pub mod npy;
pub mod packed;
pub mod resample;
pub mod vtln;

use std::fs::File;
use std::path::Path;

/// Why a data file could not be opened.
pub(crate) enum OpenError {
    Io(std::io::Error),
    /// Not a regular file (nor a link to one): what it is instead.
    NotRegular(&'static str),
}

/// Opens `path` for reading if it is a regular file (or a link to one):
/// reading a FIFO would wait forever for a writer, and a folder, device or
/// socket is no data file. The type is checked before opening, since
/// opening a FIFO blocks, and again on the opened file, in case it was
/// replaced in between.
pub(crate) fn open_regular(path: &Path) -> Result<File, OpenError> {
    let kind = std::fs::metadata(path).map_err(OpenError::Io)?.file_type();
    if !kind.is_file() {
        return Err(OpenError::NotRegular(file_type_text(kind)));
    }
    let file = File::open(path).map_err(OpenError::Io)?;
    let kind = file.metadata().map_err(OpenError::Io)?.file_type();
    if !kind.is_file() {
        return Err(OpenError::NotRegular(file_type_text(kind)));
    }
    Ok(file)
}

/// What a file that is not a regular one is, in words.
fn file_type_text(kind: std::fs::FileType) -> &'static str {
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
    if kind.is_dir() {
        "a folder"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "neither a regular file nor a folder"
    }
}

/// A float in a message, short: 1e300 as "1e300", not 301 digits.
pub(crate) fn short_float(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() || (1e-4..1e16).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}
