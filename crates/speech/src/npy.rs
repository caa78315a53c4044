//! NumPy's `.npy` files, as HW1P2 ships them: 2-D float arrays (MFCC
//! frames, in single, double or half precision) and 1-D arrays of short
//! strings (one phoneme per frame).
//!
//! Format: the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the length of
//! a header, and the header itself, a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (312, 28), }`, then
//! the raw values.

use std::io::Read;
use std::path::{Path, PathBuf};

use half::f16;

use crate::{OpenError, open_regular, short_float};

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
    /// The file ends inside a part its first bytes announce.
    #[error(
        "{}: the file ends inside {what}: it needs {needed} bytes, the file has {found}",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        what: &'static str,
        needed: usize,
        found: usize,
    },
    /// The shape declares more bytes than fit in 64 bits: no file holds them.
    #[error(
        "{}: shape {shape:?} of {item_size}-byte values declares more data than any file can hold",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        shape: Vec<usize>,
        item_size: usize,
    },
    /// The data is not the size that the shape and dtype declare.
    #[error(
        "{}, offset {offset}: expected {expected} bytes of data for shape {shape:?}, found {found}",
        path.display()
    )]
    DataLength {
        path: PathBuf,
        offset: usize,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },
    /// A FIFO, folder, device or socket where a data file should be (a
    /// FIFO would make the reader wait forever).
    #[error("{}: expected a regular file, found {found}", path.display())]
    NotRegularFile { path: PathBuf, found: &'static str },
    /// A NaN or infinity, or an f8 too large for f32, among the values.
    #[error(
        "{}: value {index} (at {position:?}) is {}: expected finite numbers{}",
        path.display(),
        short_float(*value),
        if value.is_finite() { " within the range of f32" } else { "" }
    )]
    NonFinite {
        path: PathBuf,
        /// The value's index in row-major order.
        index: usize,
        /// Its index per dimension: [frame, coefficient] for MFCCs.
        position: Vec<usize>,
        value: f64,
    },
    /// A UTF-32 code unit that is no Unicode scalar value (a surrogate, or
    /// above 0x10FFFF).
    #[error(
        "{}, offset {offset}: string {string} holds 0x{code:x}, which is not a Unicode character",
        path.display()
    )]
    InvalidChar {
        path: PathBuf,
        offset: usize,
        /// The string's index in row-major order.
        string: usize,
        code: u32,
    },
}

/// The values of an `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// Floats (stored as f2, f4 or f8, all finite), row-major, with their shape.
    Float { shape: Vec<usize>, data: Vec<f32> },
    /// Strings (stored as fixed-width unicode, `<U…`), with their shape.
    Text {
        shape: Vec<usize>,
        data: Vec<String>,
    },
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads an `.npy` file; it must be a regular file (or a link to one).
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let io = |source| NpyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = open_regular(path).map_err(|e| match e {
        OpenError::Io(source) => io(source),
        OpenError::NotRegular(found) => NpyError::NotRegularFile {
            path: path.to_owned(),
            found,
        },
    })?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    parse(&bytes, path)
}

/// Parses the bytes of an `.npy` file; `path` names it in errors. Every
/// size comes from checked arithmetic and must match the bytes present, so
/// nothing is allocated beyond what the file holds.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Array, NpyError> {
    let error = |offset: usize, expected: &str, found: String| NpyError::Format {
        path: path.to_owned(),
        offset,
        expected: expected.to_owned(),
        found,
    };
    let header = read_header(bytes, path)?;
    let data = &bytes[header.data_start..];
    let expect_len = |item_size: usize| -> Result<(), NpyError> {
        let expected = header
            .count
            .checked_mul(item_size)
            .ok_or_else(|| NpyError::TooLarge {
                path: path.to_owned(),
                shape: header.shape.clone(),
                item_size,
            })?;
        if expected != data.len() {
            return Err(NpyError::DataLength {
                path: path.to_owned(),
                offset: header.data_start + data.len().min(expected),
                shape: header.shape.clone(),
                expected,
                found: data.len(),
            });
        }
        Ok(())
    };
    let shape = header.shape.clone();
    let floats = |values: Vec<f64>| -> Result<Array, NpyError> {
        let data = finite_f32(&values, &shape, path)?;
        Ok(Array::Float {
            shape: shape.clone(),
            data,
        })
    };
    match header.descr.as_str() {
        "<f2" => {
            expect_len(2)?;
            let values = data
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f64());
            floats(values.collect())
        }
        "<f4" => {
            expect_len(4)?;
            let values = data
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
            floats(values.collect())
        }
        "<f8" => {
            expect_len(8)?;
            let values = data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
            floats(values.collect())
        }
        d if d.starts_with("<U") => {
            let width = d[2..]
                .parse::<usize>()
                .ok()
                .filter(|&w| w > 0)
                .ok_or_else(|| {
                    error(
                        header.descr_offset,
                        "a unicode width of at least 1, such as '<U5'",
                        format!("'{d}'"),
                    )
                })?;
            let item_size = width.checked_mul(4).ok_or_else(|| NpyError::TooLarge {
                path: path.to_owned(),
                shape: header.shape.clone(),
                item_size: usize::MAX,
            })?;
            expect_len(item_size)?;
            Ok(Array::Text {
                shape,
                data: decode_strings(data, width, header.data_start, path)?,
            })
        }
        other => Err(error(
            header.descr_offset,
            "dtype '<f2', '<f4', '<f8' or '<U…' (strings); pickled objects ('|O') are not read",
            format!("'{other}'"),
        )),
    }
}

/// The values as f32, each checked finite (an f8 beyond f32's range would
/// become an infinity).
fn finite_f32(values: &[f64], shape: &[usize], path: &Path) -> Result<Vec<f32>, NpyError> {
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let single = value as f32;
            if single.is_finite() {
                Ok(single)
            } else {
                Err(NpyError::NonFinite {
                    path: path.to_owned(),
                    index,
                    position: unravel(index, shape),
                    value,
                })
            }
        })
        .collect()
}

/// The per-dimension index of the `index`-th value in row-major order.
fn unravel(mut index: usize, shape: &[usize]) -> Vec<usize> {
    let mut position = vec![0; shape.len()];
    for (slot, &dim) in position.iter_mut().zip(shape).rev() {
        if dim > 0 {
            *slot = index % dim;
            index /= dim;
        }
    }
    position
}

/// What the header of an `.npy` file says.
struct Header {
    /// Where the 'descr' value is, for errors about it.
    descr_offset: usize,
    /// Where the values start.
    data_start: usize,
    descr: String,
    shape: Vec<usize>,
    /// The number of values: the product of the shape.
    count: usize,
}

/// Checks the magic and the version, then parses the header's dict.
fn read_header(bytes: &[u8], path: &Path) -> Result<Header, NpyError> {
    let truncated = |what, needed| NpyError::Truncated {
        path: path.to_owned(),
        what,
        needed,
        found: bytes.len(),
    };
    let format = |offset: usize, expected: &str, found: String| NpyError::Format {
        path: path.to_owned(),
        offset,
        expected: expected.to_owned(),
        found,
    };
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(format(
            0,
            "the .npy magic \\x93NUMPY",
            format!("{:?}", &bytes[..magic_len]),
        ));
    }
    if bytes.len() < 8 {
        return Err(truncated("the magic and version", 8));
    }
    let (header_len, start) = match bytes[6] {
        1 if bytes.len() < 10 => return Err(truncated("the version 1 preamble", 10)),
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() < 12 => return Err(truncated("the version 2 or 3 preamble", 12)),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format(6, "format version 1, 2 or 3", v.to_string())),
    };
    let data_start = start + header_len;
    if bytes.len() < data_start {
        return Err(truncated("the header", data_start));
    }
    let text = std::str::from_utf8(&bytes[start..data_start]).map_err(|e| {
        format(
            start + e.valid_up_to(),
            "a header of ASCII or UTF-8 text",
            "other bytes".to_owned(),
        )
    })?;
    let fields = DictParser { text, at: 0, start }
        .dict()
        .map_err(|(offset, expected, found)| format(offset, &expected, found))?;
    let mut descr = None;
    let mut order = None;
    let mut shape = None;
    for (key, offset, value) in fields {
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut order,
            "shape" => &mut shape,
            _ => {
                return Err(format(
                    offset,
                    "only the keys 'descr', 'fortran_order' and 'shape'",
                    format!("'{key}'"),
                ));
            }
        };
        if slot.replace((offset, value)).is_some() {
            return Err(format(offset, "each key once", format!("'{key}' again")));
        }
    }
    let missing = |key: &str| {
        format(
            start,
            &format!("a '{key}' entry in the header"),
            text.trim().to_owned(),
        )
    };
    let (descr_offset, descr) = match descr.ok_or_else(|| missing("descr"))? {
        (offset, Value::Str(d)) => (offset, d),
        (offset, other) => {
            return Err(format(
                offset,
                "a dtype string such as '<f4' (structured dtypes are not read)",
                other.describe(),
            ));
        }
    };
    match order.ok_or_else(|| missing("fortran_order"))? {
        (_, Value::Bool(false)) => {}
        (offset, other) => {
            return Err(format(
                offset,
                "C (row-major) order, 'fortran_order': False",
                other.describe(),
            ));
        }
    }
    let shape = match shape.ok_or_else(|| missing("shape"))? {
        (_, Value::Tuple(dims)) => dims,
        (offset, other) => {
            return Err(format(
                offset,
                "a shape tuple such as (312, 28)",
                other.describe(),
            ));
        }
    };
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| NpyError::TooLarge {
            path: path.to_owned(),
            shape: shape.clone(),
            item_size: 1,
        })?;
    Ok(Header {
        descr_offset,
        data_start,
        descr,
        shape,
        count,
    })
}

/// A value of the header's dict: NumPy writes only these.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Value::Str(s) => format!("'{s}'"),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
            Value::Tuple(t) => format!("{t:?}"),
        }
    }
}

/// An error in the header: file offset, what was expected, what was found.
type DictError = (usize, String, String);

/// A parser for the Python dict literal of an `.npy` header, such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (312, 28), }`: keys are
/// read as keys and values as values, so a key's name inside another value
/// is only text.
struct DictParser<'a> {
    text: &'a str,
    /// The position in `text`.
    at: usize,
    /// Where `text` starts in the file, for offsets in errors.
    start: usize,
}

impl DictParser<'_> {
    fn error(&self, expected: &str) -> DictError {
        let found: String = self.rest().chars().take(20).collect();
        let found = if found.is_empty() {
            "the end of the header".to_owned()
        } else {
            format!("{found:?}")
        };
        (self.start + self.at, expected.to_owned(), found)
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Skips spaces, then consumes `token` if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    /// The entries, each with the file offset of its key.
    fn dict(mut self) -> Result<Vec<(String, usize, Value)>, DictError> {
        if !self.eat("{") {
            return Err(self.error("a dict literal starting with '{'"));
        }
        let mut entries = Vec::new();
        loop {
            if self.eat("}") {
                break;
            }
            self.skip_space();
            let offset = self.start + self.at;
            let key = self
                .string()
                .ok_or_else(|| self.error("a quoted key or '}'"))?;
            if !self.eat(":") {
                return Err(self.error("':' after the key"));
            }
            let value = self.value()?;
            entries.push((key, offset, value));
            if self.eat("}") {
                break;
            }
            if !self.eat(",") {
                return Err(self.error("',' or '}' after a value"));
            }
        }
        self.skip_space();
        if !self.rest().is_empty() {
            return Err(self.error("only spaces and a newline after the dict"));
        }
        Ok(entries)
    }

    /// A quoted string without escapes (NumPy writes none).
    fn string(&mut self) -> Option<String> {
        self.skip_space();
        let quote = self
            .rest()
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"'))?;
        let body = &self.rest()[1..];
        let end = body.find(quote)?;
        let s = body[..end].to_owned();
        if s.contains('\\') {
            return None;
        }
        self.at += end + 2;
        Some(s)
    }

    fn value(&mut self) -> Result<Value, DictError> {
        self.skip_space();
        if let Some(s) = self.string() {
            return Ok(Value::Str(s));
        }
        if self.eat("True") {
            return Ok(Value::Bool(true));
        }
        if self.eat("False") {
            return Ok(Value::Bool(false));
        }
        if self.eat("(") {
            let mut dims = Vec::new();
            loop {
                if self.eat(")") {
                    return Ok(Value::Tuple(dims));
                }
                dims.push(self.dimension()?);
                if self.eat(")") {
                    return Ok(Value::Tuple(dims));
                }
                if !self.eat(",") {
                    return Err(self.error("',' or ')' in the shape"));
                }
            }
        }
        Err(self.error("a string, True, False or a tuple"))
    }

    /// A whole number in a shape (Python 2's NumPy wrote `3L`).
    fn dimension(&mut self) -> Result<usize, DictError> {
        self.skip_space();
        let digits = self.rest().len()
            - self
                .rest()
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits == 0 {
            return Err(self.error("a whole number in the shape"));
        }
        let n = self.rest()[..digits]
            .parse()
            .map_err(|_| self.error("a dimension below 2^64"))?;
        self.at += digits;
        let _ = self.eat("L");
        Ok(n)
    }
}

/// Strings of `width` UTF-32 code units each; NumPy pads with NULs, which
/// are dropped from the end. An invalid code unit is an error, not skipped.
fn decode_strings(
    data: &[u8],
    width: usize,
    data_start: usize,
    path: &Path,
) -> Result<Vec<String>, NpyError> {
    data.chunks_exact(4 * width)
        .enumerate()
        .map(|(string, item)| {
            let mut text = item
                .chunks_exact(4)
                .enumerate()
                .map(|(k, c)| {
                    let code = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    char::from_u32(code).ok_or_else(|| NpyError::InvalidChar {
                        path: path.to_owned(),
                        offset: data_start + 4 * (string * width + k),
                        string,
                        code,
                    })
                })
                .collect::<Result<String, _>>()?;
            text.truncate(text.trim_end_matches('\0').len());
            Ok(text)
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

/// A value that half precision cannot hold: its index in row-major order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotHalf {
    pub index: usize,
    pub value: f32,
}

/// The bytes of a row-major array of the given shape stored as f2 (each
/// value rounded to the nearest half, as NumPy's `astype(np.float16)`
/// does), or the first value that is not finite in half precision (a NaN,
/// an infinity, or a magnitude that rounds past 65504).
pub fn to_bytes_f16(shape: &[usize], data: &[f32]) -> Result<Vec<u8>, NotHalf> {
    let mut out = header_bytes("<f2", shape);
    out.reserve(2 * data.len());
    for (index, &value) in data.iter().enumerate() {
        let half = f16::from_f32(value);
        if !half.is_finite() {
            return Err(NotHalf { index, value });
        }
        out.extend(half.to_le_bytes());
    }
    Ok(out)
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
    use std::fs;

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

    #[test]
    fn half_precision_round_trips_every_finite_half_and_refuses_the_rest() {
        let p = Path::new("x.npy");
        let halves: Vec<f32> = (0..=u16::MAX)
            .map(f16::from_bits)
            .filter(|h| h.is_finite())
            .map(f16::to_f32)
            .collect();
        let bytes = to_bytes_f16(&[halves.len()], &halves).unwrap();
        assert_eq!(
            parse(&bytes, p).unwrap(),
            Array::Float {
                shape: vec![halves.len()],
                data: halves
            }
        );
        // 65519 still rounds to the largest half, 65504; 65520 rounds to
        // infinity.
        assert!(to_bytes_f16(&[2], &[1.0, -65519.0]).is_ok());
        for bad in [65520.0, f32::NAN, f32::NEG_INFINITY] {
            assert_eq!(
                to_bytes_f16(&[3], &[0.5, bad, 1.0]).map_err(|e| e.index),
                Err(1),
                "{bad}"
            );
        }
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
            read(&fixture("mfcc_f16.npy")).unwrap(),
            Array::Float {
                shape: vec![2, 2],
                data: vec![1.5, -2.0, 0.099_975_586, 65504.0]
            }
        );
        assert!(matches!(
            read(&fixture("infinite_f16.npy")),
            Err(NpyError::NonFinite { index: 1, .. })
        ));
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
            to_bytes_f16(&[2, 2], &[1.5, -2.0, 0.1, 65504.0]).unwrap(),
            fs::read(fixture("mfcc_f16.npy")).unwrap()
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
        for (descr, shape) in [
            ("<f2", [1 << 62, 2]),
            ("<f4", [1 << 62, 4]),
            ("<f8", [1 << 62, 2]),
            ("<U1", [1 << 61, 2]),
        ] {
            match parse(&header_bytes(descr, &shape), p) {
                Err(NpyError::TooLarge { shape: found, .. }) => assert_eq!(found, shape),
                other => panic!("{descr} {shape:?}: {other:?}"),
            }
        }
    }
}
