//! The IDX format of the MNIST files, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (0, 0, a type code, the number of
//! dimensions), one big-endian u32 per dimension, then the values. MNIST
//! uses type 0x08 (unsigned bytes): images have 3 dimensions (count, rows,
//! columns), labels 1 (count).

use std::fs;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::MnistError;

/// Images, row by row, one byte (0 = white, 255 = black ink) per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// count · rows · cols bytes: image after image, each row by row.
    pub pixels: Vec<u8>,
}

impl Images {
    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.rows * self.cols;
        &self.pixels[index * size..(index + 1) * size]
    }

    /// The first `count` images.
    pub fn take(&self, count: usize) -> Self {
        let count = count.min(self.count);
        Self {
            count,
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[..count * self.rows * self.cols].to_vec(),
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UNSIGNED_BYTE: u8 = 0x08;

/// The bytes of a file, decompressed when they start with gzip's magic.
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>, MnistError> {
    let raw = fs::read(path).map_err(|source| MnistError::Io {
        path: path.to_owned(),
        source,
    })?;
    decompress(raw, path)
}

/// `raw` itself, or its decompressed content if it is gzip.
pub fn decompress(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, MnistError> {
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|e| MnistError::Gzip {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(out)
}

/// Reads an IDX image file (raw or gzip).
pub fn read_images(path: &Path) -> Result<Images, MnistError> {
    parse_images(&read_decompressed(path)?, path)
}

/// Reads an IDX label file (raw or gzip); every label must be a digit 0-9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, MnistError> {
    parse_labels(&read_decompressed(path)?, path)
}

/// Parses the decompressed bytes of an IDX image file; `path` names it in errors.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Images, MnistError> {
    let dims = header(bytes, 3, 0x0803, path)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let pixels = payload(bytes, 16, count * rows * cols, path)?;
    Ok(Images {
        count,
        rows,
        cols,
        pixels: pixels.to_vec(),
    })
}

/// Parses the decompressed bytes of an IDX label file.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, MnistError> {
    let dims = header(bytes, 1, 0x0801, path)?;
    let labels = payload(bytes, 8, dims[0], path)?;
    if let Some(i) = labels.iter().position(|&l| l > 9) {
        return Err(MnistError::Format {
            path: path.to_owned(),
            offset: 8 + i as u64,
            expected: "a digit label 0-9".to_owned(),
            found: labels[i].to_string(),
        });
    }
    Ok(labels.to_vec())
}

/// Checks the magic number and returns the dimensions.
fn header(bytes: &[u8], dims: usize, magic: u32, path: &Path) -> Result<Vec<usize>, MnistError> {
    let format = |offset: u64, expected: String, found: String| MnistError::Format {
        path: path.to_owned(),
        offset,
        expected,
        found,
    };
    let header_len = 4 + 4 * dims;
    if bytes.len() < header_len {
        return Err(format(
            bytes.len() as u64,
            format!("a {header_len}-byte IDX header"),
            format!("a file of {} bytes", bytes.len()),
        ));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        let kind = if dims == 3 { "images" } else { "labels" };
        let detail = if bytes[2] != UNSIGNED_BYTE {
            " (its type code is not 0x08, unsigned bytes)"
        } else {
            ""
        };
        return Err(format(
            0,
            format!("magic number 0x{magic:08x} (IDX {kind})"),
            format!("0x{found:08x}{detail}"),
        ));
    }
    Ok((0..dims)
        .map(|d| {
            let at = 4 + 4 * d;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect())
}

/// The `len` bytes after the header, which must be exactly what is left.
fn payload<'a>(
    bytes: &'a [u8],
    header_len: usize,
    len: usize,
    path: &Path,
) -> Result<&'a [u8], MnistError> {
    let available = bytes.len() - header_len;
    if available != len {
        let (expected, found) = if available < len {
            ("truncated", format!("only {available}"))
        } else {
            ("trailing bytes", format!("{available}"))
        };
        return Err(MnistError::Format {
            path: path.to_owned(),
            offset: bytes.len().min(header_len + len) as u64,
            expected: format!("{len} bytes of data after the {header_len}-byte header"),
            found: format!("{found} ({expected})"),
        });
    }
    Ok(&bytes[header_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_file(labels: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 1];
        b.extend((labels.len() as u32).to_be_bytes());
        b.extend(labels);
        b
    }

    fn images_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3];
        for d in [count, rows, cols] {
            b.extend(d.to_be_bytes());
        }
        b.extend(pixels);
        b
    }

    #[test]
    fn parses_a_hand_made_file() {
        let p = Path::new("hand.idx");
        assert_eq!(
            parse_labels(&labels_file(&[5, 0, 4]), p).unwrap(),
            [5, 0, 4]
        );
        let images = parse_images(&images_file(2, 1, 2, &[1, 2, 3, 4]), p).unwrap();
        assert_eq!((images.count, images.rows, images.cols), (2, 1, 2));
        assert_eq!(images.image(1), [3, 4]);
    }

    #[test]
    fn bad_files_say_what_where_and_why() {
        let p = Path::new("x.idx");
        let err = |r: Result<Vec<u8>, MnistError>| r.unwrap_err().to_string();
        assert_eq!(
            err(parse_labels(&[0, 0, 8], p)),
            "x.idx, offset 3: expected a 8-byte IDX header, found a file of 3 bytes"
        );
        assert_eq!(
            err(parse_labels(&images_file(1, 1, 1, &[0]), p)),
            "x.idx, offset 0: expected magic number 0x00000801 (IDX labels), found 0x00000803"
        );
        assert_eq!(
            err(parse_labels(&labels_file(&[1, 2])[..9], p)),
            "x.idx, offset 9: expected 2 bytes of data after the 8-byte header, found only 1 (truncated)"
        );
        let mut long = labels_file(&[1, 2]);
        long.push(7);
        assert_eq!(
            err(parse_labels(&long, p)),
            "x.idx, offset 10: expected 2 bytes of data after the 8-byte header, found 3 (trailing bytes)"
        );
        assert_eq!(
            err(parse_labels(&labels_file(&[1, 12]), p)),
            "x.idx, offset 9: expected a digit label 0-9, found 12"
        );
        let mut wrong_type = labels_file(&[1]);
        wrong_type[2] = 0x0d;
        assert_eq!(
            err(parse_labels(&wrong_type, p)),
            "x.idx, offset 0: expected magic number 0x00000801 (IDX labels), found 0x00000d01 (its type code is not 0x08, unsigned bytes)"
        );
    }

    #[test]
    fn a_corrupt_gzip_stream_is_an_error_not_a_panic() {
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend([1, 2, 3, 4, 5]);
        let e = decompress(gz, Path::new("bad.gz")).unwrap_err().to_string();
        assert!(e.starts_with("bad.gz: not a valid gzip stream: "), "{e}");
    }
}
