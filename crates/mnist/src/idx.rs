//! The IDX format of the MNIST files, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (0, 0, a type code, the number of
//! dimensions), one big-endian u32 per dimension, then the values. MNIST
//! uses type 0x08 (unsigned bytes): images have 3 dimensions (count, rows,
//! columns), labels 1 (count).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::MnistError;

/// The most data an IDX file may declare. Larger than any MNIST-family file
/// (EMNIST's largest holds 547 MB), small enough that a forged header cannot
/// make a reader ask for more memory than a laptop has.
pub const MAX_DATA_BYTES: u64 = 1 << 30;

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
    /// The pixels of image `index`; panics if there is no such image.
    pub fn image(&self, index: usize) -> &[u8] {
        assert!(
            index < self.count,
            "image {index} asked of {} images",
            self.count
        );
        // No overflow when pixels.len() = count · rows · cols, as the
        // readers guarantee; saturating keeps a hand-made value from wrapping.
        let size = self.rows.saturating_mul(self.cols);
        let start = index.saturating_mul(size);
        &self.pixels[start..start.saturating_add(size)]
    }

    /// The first `count` images.
    pub fn take(&self, count: usize) -> Self {
        let count = count.min(self.count);
        // rows · cols first: with 0 columns, count · rows alone may overflow.
        let len = count
            .saturating_mul(self.rows.saturating_mul(self.cols))
            .min(self.pixels.len());
        Self {
            count,
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[..len].to_vec(),
        }
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UNSIGNED_BYTE: u8 = 0x08;

/// The content of an IDX file, decompressed when it is gzip. Reads the
/// header, then exactly the data it declares (at most [`MAX_DATA_BYTES`]),
/// so that neither a forged size nor a gzip bomb makes it read or hold more.
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>, MnistError> {
    let file = File::open(path).map_err(|source| MnistError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_from(file, path)
}

/// `raw` itself, or, if it is gzip, the IDX file it holds, decompressed no
/// further than its header declares (see [`read_from`]).
pub fn decompress(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, MnistError> {
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    read_from(raw.as_slice(), path)
}

/// Reads an IDX file (raw, or gzip of any number of members) from `input`
/// as a stream: the header, then exactly the data it declares, then a check
/// that nothing follows. Memory and reading stop at what the header
/// declares, never at what the stream would produce.
pub fn read_from(input: impl Read, path: &Path) -> Result<Vec<u8>, MnistError> {
    let mut input = BufReader::new(input);
    let head = input.fill_buf().map_err(|source| MnistError::Io {
        path: path.to_owned(),
        source,
    })?;
    if head.starts_with(&GZIP_MAGIC) {
        // Multi-member: gzip allows concatenated members (`cat a.gz b.gz`).
        read_idx(MultiGzDecoder::new(input), path, true)
    } else {
        read_idx(input, path, false)
    }
}

/// The bytes of one IDX file from a (decompressed) stream.
fn read_idx(mut input: impl Read, path: &Path, gzip: bool) -> Result<Vec<u8>, MnistError> {
    let read_error = |source: io::Error| {
        // The decoder reports a corrupt or cut stream as these kinds.
        let corrupt = matches!(
            source.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        );
        if gzip && corrupt {
            MnistError::Gzip {
                path: path.to_owned(),
                reason: source.to_string(),
            }
        } else {
            MnistError::Io {
                path: path.to_owned(),
                source,
            }
        }
    };
    let format = |offset: u64, expected: String, found: String| MnistError::Format {
        path: path.to_owned(),
        offset,
        expected,
        found,
    };
    let mut bytes = Vec::new();
    let read_up_to = |input: &mut dyn Read, bytes: &mut Vec<u8>, n: u64| {
        input.take(n).read_to_end(bytes).map_err(read_error)
    };
    read_up_to(&mut input, &mut bytes, 4)?;
    if bytes.len() < 4 {
        return Err(format(
            bytes.len() as u64,
            "an IDX header (a 4-byte magic number, then 4 bytes per dimension)".to_owned(),
            format!("a file of {} bytes", bytes.len()),
        ));
    }
    let item_size: u64 = match (bytes[0], bytes[1], bytes[2]) {
        (0, 0, 0x08 | 0x09) => 1,
        (0, 0, 0x0b) => 2,
        (0, 0, 0x0c | 0x0d) => 4,
        (0, 0, 0x0e) => 8,
        _ => {
            return Err(format(
                0,
                "an IDX magic number: 0, 0, a type code (0x08, 0x09, 0x0b-0x0e), \
                 the number of dimensions"
                    .to_owned(),
                format!(
                    "0x{:08x}",
                    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
                ),
            ));
        }
    };
    let header_len = 4 + 4 * usize::from(bytes[3]);
    read_up_to(&mut input, &mut bytes, header_len as u64 - 4)?;
    if bytes.len() < header_len {
        return Err(format(
            bytes.len() as u64,
            format!("a {header_len}-byte IDX header"),
            format!("a file of {} bytes", bytes.len()),
        ));
    }
    let dims = dimensions(&bytes, header_len);
    let len = data_len(&dims, item_size, path)?;
    read_up_to(&mut input, &mut bytes, len)?;
    let available = (bytes.len() - header_len) as u64;
    if available < len {
        return Err(format(
            bytes.len() as u64,
            data_expected(len, &dims, header_len),
            format!("only {available} (truncated)"),
        ));
    }
    // One byte more: none may follow, and reaching the end makes the
    // decoder check gzip's CRC.
    let mut tail = Vec::new();
    read_up_to(&mut input, &mut tail, 1)?;
    if !tail.is_empty() {
        // A corrupt gzip often inflates to too much before its CRC is
        // reached: read on a bounded way, so the corruption is named.
        if gzip {
            read_up_to_sink(&mut input, 1 << 20).map_err(read_error)?;
        }
        return Err(format(
            bytes.len() as u64,
            data_expected(len, &dims, header_len),
            format!("more than {len} (trailing bytes)"),
        ));
    }
    Ok(bytes)
}

/// Reads and drops up to `n` bytes.
fn read_up_to_sink(input: &mut impl Read, n: u64) -> io::Result<u64> {
    io::copy(&mut input.take(n), &mut io::sink())
}

/// The dimensions written after the magic number, up to `header_len`.
fn dimensions(bytes: &[u8], header_len: usize) -> Vec<u32> {
    bytes[4..header_len]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
        .collect()
}

/// The bytes of data the dimensions declare, checked: a product that
/// overflows or exceeds [`MAX_DATA_BYTES`] is an error naming the dimensions.
fn data_len(dims: &[u32], item_size: u64, path: &Path) -> Result<u64, MnistError> {
    dims.iter()
        .try_fold(item_size, |n, &d| n.checked_mul(u64::from(d)))
        .filter(|&n| n <= MAX_DATA_BYTES)
        .ok_or_else(|| MnistError::TooLarge {
            path: path.to_owned(),
            dims: dims.to_vec(),
            max_bytes: MAX_DATA_BYTES,
        })
}

/// "N bytes of data (a x b x c) after the H-byte header".
fn data_expected(len: u64, dims: &[u32], header_len: usize) -> String {
    let shape = if dims.len() > 1 {
        format!(" ({})", crate::dims_text(dims))
    } else {
        String::new()
    };
    format!("{len} bytes of data{shape} after the {header_len}-byte header")
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
    let pixels = payload(bytes, &dims, path)?;
    // Each dimension is at most the data's length, so these fit a usize.
    let [count, rows, cols] = [dims[0], dims[1], dims[2]].map(|d| d as usize);
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
    let labels = payload(bytes, &dims, path)?;
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
fn header(bytes: &[u8], dims: usize, magic: u32, path: &Path) -> Result<Vec<u32>, MnistError> {
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
    Ok(dimensions(bytes, header_len))
}

/// The bytes after the header, which must be exactly what `dims` declare.
fn payload<'a>(bytes: &'a [u8], dims: &[u32], path: &Path) -> Result<&'a [u8], MnistError> {
    let header_len = 4 + 4 * dims.len();
    let len = data_len(dims, 1, path)?;
    let available = (bytes.len() - header_len) as u64;
    if available != len {
        let found = if available < len {
            format!("only {available} (truncated)")
        } else {
            format!("{available} (trailing bytes)")
        };
        return Err(MnistError::Format {
            path: path.to_owned(),
            offset: (bytes.len() as u64).min(header_len as u64 + len),
            expected: data_expected(len, dims, header_len),
            found,
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
