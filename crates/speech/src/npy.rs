//! NumPy's `.npy` files, as HW1P2 ships them: 2-D float arrays (MFCC
//! frames) and 1-D arrays of short strings (one phoneme per frame).
//!
//! Format: the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the length of
//! a header, and the header itself, a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (312, 28), }`, then
//! the raw values.

use std::fs;
use std::path::{Path, PathBuf};

/// What went wrong reading or writing an `.npy` file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}, offset {offset}: expected {expected}, found {found}", path.display())]
    Format {
        path: PathBuf,
        offset: usize,
        expected: String,
        found: String,
    },
}

/// The values of an `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// Floats (stored as f4 or f8), row-major, with their shape.
    Float { shape: Vec<usize>, data: Vec<f32> },
    /// Strings (stored as fixed-width unicode, `<U…`), with their shape.
    Text {
        shape: Vec<usize>,
        data: Vec<String>,
    },
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads an `.npy` file.
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let bytes = fs::read(path).map_err(|source| NpyError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&bytes, path)
}

/// Parses the bytes of an `.npy` file; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Array, NpyError> {
    let error = |offset: usize, expected: &str, found: String| NpyError::Format {
        path: path.to_owned(),
        offset,
        expected: expected.to_owned(),
        found,
    };
    let header = read_header(bytes, &error)?;
    let data = &bytes[header.data_start..];
    let expect_len = |item: usize| -> Result<(), NpyError> {
        let needed = header.count.checked_mul(item);
        if needed != Some(data.len()) {
            let expected = match needed {
                Some(n) => format!("{n} bytes of data for shape {:?}", header.shape),
                None => format!("a shape whose data fits in memory, not {:?}", header.shape),
            };
            return Err(error(
                header.data_start + data.len().min(needed.unwrap_or(usize::MAX)),
                &expected,
                format!("{}", data.len()),
            ));
        }
        Ok(())
    };
    let (shape, count) = (header.shape.clone(), header.count);
    match header.descr.as_str() {
        "<f4" => {
            expect_len(4)?;
            let values = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            Ok(Array::Float {
                shape,
                data: values.collect(),
            })
        }
        "<f8" => {
            expect_len(8)?;
            let values = data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32);
            Ok(Array::Float {
                shape,
                data: values.collect(),
            })
        }
        d if d.starts_with("<U") => {
            let width: usize = d[2..]
                .parse()
                .map_err(|_| error(header.start, "a unicode width such as <U5", d.to_owned()))?;
            expect_len(4 * width)?;
            Ok(Array::Text {
                shape,
                data: decode_strings(data, width, count),
            })
        }
        other => Err(error(
            header.start,
            "dtype '<f4', '<f8' or '<U…' (strings); pickled objects ('|O') are not read",
            format!("'{other}'"),
        )),
    }
}

/// What the header of an `.npy` file says.
struct Header {
    /// Where the header's text starts, for errors about it.
    start: usize,
    /// Where the values start.
    data_start: usize,
    descr: String,
    shape: Vec<usize>,
    /// The number of values: the product of the shape.
    count: usize,
}

/// Checks the magic and the version, then reads the header's dtype, order
/// and shape.
fn read_header(
    bytes: &[u8],
    error: &impl Fn(usize, &str, String) -> NpyError,
) -> Result<Header, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(error(
            0,
            "the .npy magic \\x93NUMPY",
            format!("{:?}", &bytes[..bytes.len().min(6)]),
        ));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(error(6, "format version 1, 2 or 3", v.to_string())),
    };
    let data_start = start + header_len;
    if bytes.len() < data_start {
        return Err(error(
            bytes.len(),
            &format!("a {header_len}-byte header"),
            "the end of the file".to_owned(),
        ));
    }
    let text = String::from_utf8_lossy(&bytes[start..data_start]);
    let descr = header_field(&text, "descr").ok_or_else(|| {
        error(
            start,
            "a 'descr' entry in the header",
            text.trim().to_owned(),
        )
    })?;
    let order = header_field(&text, "fortran_order");
    if order.as_deref() != Some("False") {
        return Err(error(
            start,
            "C (row-major) order, 'fortran_order': False",
            order.unwrap_or_default(),
        ));
    }
    let shape_text = header_field(&text, "shape")
        .ok_or_else(|| error(start, "a 'shape' entry", text.trim().to_owned()))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| error(start, "a shape of whole numbers", shape_text.clone()))
        })
        .collect::<Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            error(
                start,
                "a shape whose size fits in memory",
                shape_text.clone(),
            )
        })?;
    Ok(Header {
        start,
        data_start,
        descr: descr.trim_matches(['\'', '"']).to_owned(),
        shape,
        count,
    })
}

/// The value of `key` in the header's dict literal, as written: a quoted
/// string, a word, or a parenthesised tuple.
fn header_field(header: &str, key: &str) -> Option<String> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim().to_owned())
}

/// `count` strings of `width` UTF-32 code units each, cut at their first NUL.
fn decode_strings(data: &[u8], width: usize, count: usize) -> Vec<String> {
    if width == 0 {
        return vec![String::new(); count];
    }
    data.chunks_exact(4 * width)
        .take(count)
        .map(|item| {
            item.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .take_while(|&c| c != 0)
                .filter_map(char::from_u32)
                .collect::<String>()
        })
        .collect()
}

fn header_bytes(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad with spaces so the data starts on a 64-byte boundary, ending in '\n'.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend([1, 0]);
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out
}

/// The bytes of a row-major f32 array of the given shape.
pub fn to_bytes_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let mut out = header_bytes("<f4", shape);
    out.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    out
}

/// The bytes of a 1-D array of strings, as NumPy stores `np.array([...])`.
pub fn to_bytes_text(data: &[&str]) -> Vec<u8> {
    let width = data
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = header_bytes(&format!("<U{width}"), &[data.len()]);
    for s in data {
        let mut chars: Vec<u32> = s.chars().map(u32::from).collect();
        chars.resize(width, 0);
        out.extend(chars.iter().flat_map(|c| c.to_le_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_floats_and_strings() {
        let p = Path::new("x.npy");
        let bytes = to_bytes_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!(
            bytes.len(),
            128 + 24,
            "a 128-byte header (64-byte aligned), then 6 floats"
        );
        assert_eq!(
            parse(&bytes, p).unwrap(),
            Array::Float {
                shape: vec![2, 3],
                data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.5]
            }
        );
        let bytes = to_bytes_text(&["[SOS]", "AA", "[EOS]"]);
        assert_eq!(
            parse(&bytes, p).unwrap(),
            Array::Text {
                shape: vec![3],
                data: vec!["[SOS]".into(), "AA".into(), "[EOS]".into()]
            }
        );
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Files written by NumPy itself (tests/fixtures/make_npy.py).
    #[test]
    fn reads_what_numpy_writes() {
        assert_eq!(
            read(&fixture("mfcc_f32.npy")).unwrap(),
            Array::Float {
                shape: vec![3, 2],
                data: vec![1.5, -2.0, 0.25, 3.0, -1.0, 0.0]
            }
        );
        assert_eq!(
            read(&fixture("mfcc_f64.npy")).unwrap(),
            Array::Float {
                shape: vec![1, 2],
                data: vec![1.5, -2.0]
            }
        );
        assert_eq!(
            read(&fixture("transcript.npy")).unwrap(),
            Array::Text {
                shape: vec![4],
                data: vec!["[SOS]".into(), "AA".into(), "[SIL]".into(), "[EOS]".into()]
            }
        );
        // Our writer gives NumPy's bytes for the same arrays.
        assert_eq!(
            to_bytes_f32(&[3, 2], &[1.5, -2.0, 0.25, 3.0, -1.0, 0.0]),
            fs::read(fixture("mfcc_f32.npy")).unwrap()
        );
        assert_eq!(
            to_bytes_text(&["[SOS]", "AA", "[SIL]", "[EOS]"]),
            fs::read(fixture("transcript.npy")).unwrap()
        );
        let e = |name: &str| read(&fixture(name)).unwrap_err().to_string();
        assert!(
            e("fortran.npy").contains("expected C (row-major) order"),
            "{}",
            e("fortran.npy")
        );
        assert!(
            e("objects.npy").contains("pickled objects ('|O') are not read, found '|O'"),
            "{}",
            e("objects.npy")
        );
        assert!(e("ints.npy").contains("found '<i8'"), "{}", e("ints.npy"));
    }

    #[test]
    fn unsupported_files_say_why() {
        let p = Path::new("u.npy");
        let err = |b: &[u8]| parse(b, p).unwrap_err().to_string();
        assert!(err(b"PK\x03\x04 not npy").starts_with("u.npy, offset 0: expected the .npy magic"));
        let mut fortran = to_bytes_f32(&[1, 1], &[0.0]);
        let at = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran[at..at + 5].copy_from_slice(b"True ");
        assert!(
            err(&fortran).contains("expected C (row-major) order"),
            "{}",
            err(&fortran)
        );
        let short = to_bytes_f32(&[2, 2], &[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            err(&short[..short.len() - 2]),
            "u.npy, offset 142: expected 16 bytes of data for shape [2, 2], found 14"
        );
    }

    /// A shape whose size wraps around is an error naming it, not a panic
    /// (2⁶² · 4 · 4 bytes would wrap to 0 and match an empty file).
    #[test]
    fn a_shape_too_large_to_hold_is_an_error() {
        let p = Path::new("big.npy");
        let wraps = header_bytes("<f4", &[1 << 62, 4]);
        let e = parse(&wraps, p).unwrap_err().to_string();
        assert!(e.contains("fits in memory"), "{e}");
        let product_fits = header_bytes("<f8", &[1 << 62, 2]);
        let e = parse(&product_fits, p).unwrap_err().to_string();
        assert!(e.contains("fits in memory"), "{e}");
    }
}
