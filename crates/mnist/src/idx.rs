//! The IDX format of the MNIST files, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (0, 0, a type code, the number of
//! dimensions), one big-endian u32 per dimension, then the values. MNIST
//! uses type 0x08 (unsigned bytes): images have 3 dimensions (count, rows,
//! columns), labels 1 (count).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::GzDecoder;

use crate::MnistError;

/// The most data an IDX file may declare: 256 MiB. Every file of the
/// MNIST family fits with a margin: full MNIST's training images are 47 MB,
/// Fashion-MNIST and KMNIST the same, EMNIST's digits 188 MB. (EMNIST
/// byclass/bymerge, 547 MB, do not: split them.) A reader holds the bytes
/// once and a trainer then an f32 copy (4 bytes a pixel), so 256 MiB costs
/// about 1.3 GB at most, which a laptop has; the old 1 GiB cap let a 1 MB
/// gzip ask for 5 GB and abort the program.
pub const MAX_DATA_BYTES: u64 = 256 << 20;

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

/// Which MNIST file an IDX file must be, for the readers that know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned bytes in 3 dimensions: count, rows, columns.
    Images,
    /// Unsigned bytes in 1 dimension: count.
    Labels,
}

impl Kind {
    /// The magic number: 0, 0, type 0x08 (unsigned bytes), dimensions.
    pub fn magic(self) -> [u8; 4] {
        match self {
            Kind::Images => [0, 0, 0x08, 3],
            Kind::Labels => [0, 0, 0x08, 1],
        }
    }

    fn dims(self) -> usize {
        usize::from(self.magic()[3])
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Images => "images",
            Kind::Labels => "labels",
        })
    }
}

/// "00 00 08 03 (unsigned bytes, 3 dimensions)": a magic number in messages.
pub(crate) fn magic_text(magic: &[u8; 4]) -> String {
    let kind = match magic[2] {
        0x08 => "unsigned bytes",
        0x09 => "signed bytes",
        0x0b => "16-bit integers",
        0x0c => "32-bit integers",
        0x0d => "32-bit floats",
        0x0e => "64-bit floats",
        _ => "an unknown type code",
    };
    let dims = match magic[3] {
        1 => "1 dimension".to_owned(),
        n => format!("{n} dimensions"),
    };
    let bytes = magic.map(|b| format!("{b:02x}")).join(" ");
    if magic[..2] == [0, 0] {
        format!("{bytes} ({kind}, {dims})")
    } else {
        format!("{bytes} (not an IDX magic number, which starts 00 00)")
    }
}

/// Opens `path` for reading if it is a regular file (or a link to one):
/// reading a FIFO would wait forever for a writer, and a device or socket is
/// no data file. The type is checked before opening, since opening a FIFO
/// blocks, and again on the opened file, in case it was replaced between.
pub(crate) fn open_regular(path: &Path) -> Result<File, MnistError> {
    let io = |source| MnistError::Io {
        path: path.to_owned(),
        source,
    };
    let not_regular = |kind: std::fs::FileType| MnistError::NotRegularFile {
        path: path.to_owned(),
        found: file_type_text(kind),
    };
    let kind = std::fs::metadata(path).map_err(io)?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    let file = File::open(path).map_err(io)?;
    let kind = file.metadata().map_err(io)?.file_type();
    if !kind.is_file() {
        return Err(not_regular(kind));
    }
    Ok(file)
}

/// What a file that is not a regular one is, in words.
pub(crate) fn file_type_text(kind: std::fs::FileType) -> &'static str {
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

/// The content of an IDX file, decompressed when it is gzip. Reads the
/// header, then exactly the data it declares (at most [`MAX_DATA_BYTES`]),
/// so that neither a forged size nor a gzip bomb makes it read or hold more.
pub fn read_decompressed(path: &Path) -> Result<Vec<u8>, MnistError> {
    read_from(open_regular(path)?, path)
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
    Stream::open(input, path, None)?.read_data()
}

/// Counts the bytes taken from the file, to place trailing data in it.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count = self.count.saturating_add(n as u64);
        Ok(n)
    }
}

/// Non-zero bytes after the last gzip member, at this offset of the file.
#[derive(Debug, thiserror::Error)]
#[error("data after the end of the gzip stream, at offset {offset}")]
struct TrailingData {
    offset: u64,
}

/// The members of a gzip file one after another, as gzip(1) reads them:
/// after the last one, zero bytes (padding, as tape archives add) are
/// ignored and anything else is an error, rather than taken for a broken
/// member header.
struct Members<R: Read> {
    decoder: Option<GzDecoder<BufReader<Counted<R>>>>,
}

impl<R: Read> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(mut decoder) = self.decoder.take() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 {
                self.decoder = Some(decoder);
                return Ok(n);
            }
            // The member ended, its CRC and length checked: what follows?
            let mut input = decoder.into_inner();
            match input.fill_buf()?.first() {
                None => return Ok(0),
                Some(&b) if b == GZIP_MAGIC[0] => self.decoder = Some(GzDecoder::new(input)),
                Some(_) => {
                    skip_zeros(&mut input)?;
                    return Ok(0);
                }
            }
        }
    }
}

/// Reads to the end of `input`, which must hold only zero bytes.
fn skip_zeros<R: Read>(input: &mut BufReader<Counted<R>>) -> io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        let (n, non_zero) = (buf.len(), buf.iter().position(|&b| b != 0));
        if n == 0 {
            return Ok(());
        }
        if let Some(i) = non_zero {
            // `count` is what the buffer took from the file; `n` of it unread.
            let offset = (input.get_ref().count - n as u64).saturating_add(i as u64);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                TrailingData { offset },
            ));
        }
        input.consume(n);
    }
}

/// An IDX file being read: its header read and checked, the stream at the
/// first byte of data. Reading the header alone lets a caller compare it
/// with other files before the data is read and held.
pub(crate) struct Stream<'a> {
    input: Box<dyn Read + 'a>,
    path: &'a Path,
    gzip: bool,
    /// The header's bytes.
    bytes: Vec<u8>,
    dims: Vec<u32>,
    /// The bytes of data the header declares (at most MAX_DATA_BYTES).
    len: u64,
}

impl<'a> Stream<'a> {
    /// Reads and checks the header of the IDX file in `input`: its magic
    /// number (that of `kind` if given) before any size, then the declared
    /// size against [`MAX_DATA_BYTES`], and for images a size of at least
    /// 1 x 1.
    pub(crate) fn open(
        input: impl Read + 'a,
        path: &'a Path,
        kind: Option<Kind>,
    ) -> Result<Self, MnistError> {
        let mut input = BufReader::new(Counted {
            inner: input,
            count: 0,
        });
        let head = input.fill_buf().map_err(|source| MnistError::Io {
            path: path.to_owned(),
            source,
        })?;
        let gzip = head.starts_with(&GZIP_MAGIC);
        let input: Box<dyn Read + 'a> = if gzip {
            Box::new(Members {
                decoder: Some(GzDecoder::new(input)),
            })
        } else {
            Box::new(input)
        };
        let mut stream = Self {
            input,
            path,
            gzip,
            bytes: Vec::new(),
            dims: Vec::new(),
            len: 0,
        };
        stream.read_up_to(4)?;
        let bytes = &stream.bytes;
        let Ok(magic) = <[u8; 4]>::try_from(bytes.as_slice()) else {
            return Err(stream.format(
                bytes.len() as u64,
                "an IDX header (a 4-byte magic number, then 4 bytes per dimension)".to_owned(),
                format!("a file of {} bytes", bytes.len()),
            ));
        };
        let item_size = check_magic(&magic, kind, path)?;
        let header_len = 4 + 4 * usize::from(magic[3]);
        stream.read_up_to(header_len as u64 - 4)?;
        if stream.bytes.len() < header_len {
            return Err(stream.format(
                stream.bytes.len() as u64,
                format!("a {header_len}-byte IDX header"),
                format!("a file of {} bytes", stream.bytes.len()),
            ));
        }
        stream.dims = dimensions(&stream.bytes, header_len);
        stream.len = data_len(&stream.dims, item_size, path)?;
        if kind == Some(Kind::Images) {
            check_image_size(&stream.dims, path)?;
        }
        Ok(stream)
    }

    /// The dimensions the header declares.
    pub(crate) fn dims(&self) -> &[u32] {
        &self.dims
    }

    /// The whole file, header and data, in one allocation of exactly its
    /// size; an error if the data is shorter or longer than declared.
    pub(crate) fn read_data(mut self) -> Result<Vec<u8>, MnistError> {
        let header_len = self.bytes.len();
        let len = self.len;
        let too_large = || MnistError::TooLarge {
            path: self.path.to_owned(),
            dims: self.dims.clone(),
            max_bytes: MAX_DATA_BYTES,
        };
        let reserve = usize::try_from(len).map_err(|_| too_large())?;
        // Exactly once, so that reading never reallocates (and copies);
        // a refused allocation is an error, not an abort.
        self.bytes
            .try_reserve_exact(reserve)
            .map_err(|_| MnistError::OutOfMemory {
                path: self.path.to_owned(),
                bytes: len,
            })?;
        self.read_up_to(len)?;
        let available = (self.bytes.len() - header_len) as u64;
        if available < len {
            return Err(self.format(
                self.bytes.len() as u64,
                data_expected(len, &self.dims, header_len),
                format!("only {available} (truncated)"),
            ));
        }
        // One byte more, into a buffer of its own: none may follow, and
        // reaching the end makes the decoder check gzip's CRC.
        let mut tail = [0u8; 1];
        let more = loop {
            match self.input.read(&mut tail) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        };
        if more > 0 {
            // A corrupt gzip often inflates to too much before its CRC is
            // reached: read on a bounded way, so the corruption is named.
            if self.gzip {
                let sunk = io::copy(&mut (&mut self.input).take(1 << 20), &mut io::sink());
                sunk.map_err(|e| self.read_error(e))?;
            }
            return Err(self.format(
                self.bytes.len() as u64,
                data_expected(len, &self.dims, header_len),
                format!("more than {len} (trailing bytes)"),
            ));
        }
        Ok(self.bytes)
    }

    /// Appends up to `n` more bytes of the stream to `self.bytes`.
    fn read_up_to(&mut self, n: u64) -> Result<(), MnistError> {
        match (&mut self.input).take(n).read_to_end(&mut self.bytes) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.read_error(e)),
        }
    }

    fn read_error(&self, source: io::Error) -> MnistError {
        let path = self.path.to_owned();
        if let Some(trailing) = source
            .get_ref()
            .and_then(|e| e.downcast_ref::<TrailingData>())
        {
            return MnistError::GzipTrailingData {
                path,
                offset: trailing.offset,
            };
        }
        // The decoder reports a corrupt or cut stream as these kinds.
        let corrupt = matches!(
            source.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        );
        if self.gzip && corrupt {
            MnistError::Gzip {
                path,
                reason: source.to_string(),
            }
        } else {
            MnistError::Io { path, source }
        }
    }

    fn format(&self, offset: u64, expected: String, found: String) -> MnistError {
        MnistError::Format {
            path: self.path.to_owned(),
            offset,
            expected,
            found,
        }
    }
}

/// Checks a magic number, against `kind`'s if given, and returns the size
/// of one value of its type.
fn check_magic(magic: &[u8; 4], kind: Option<Kind>, path: &Path) -> Result<u64, MnistError> {
    if let Some(kind) = kind
        && *magic != kind.magic()
    {
        return Err(MnistError::Magic {
            path: path.to_owned(),
            kind,
            expected: kind.magic(),
            found: *magic,
        });
    }
    match magic {
        [0, 0, 0x08 | 0x09, _] => Ok(1),
        [0, 0, 0x0b, _] => Ok(2),
        [0, 0, 0x0c | 0x0d, _] => Ok(4),
        [0, 0, 0x0e, _] => Ok(8),
        _ => Err(MnistError::Format {
            path: path.to_owned(),
            offset: 0,
            expected: "an IDX magic number: 0, 0, a type code (0x08, 0x09, 0x0b-0x0e), \
                 the number of dimensions"
                .to_owned(),
            found: format!("0x{:08x}", u32::from_be_bytes(*magic)),
        }),
    }
}

/// Images must have at least one row and one column: an image of no pixel
/// is no digit, and would fail later with a message naming no file.
fn check_image_size(dims: &[u32], path: &Path) -> Result<(), MnistError> {
    match dims {
        [_, rows, cols] if *rows > 0 && *cols > 0 => Ok(()),
        [_, rows, cols] => Err(MnistError::EmptyImages {
            path: path.to_owned(),
            rows: *rows,
            cols: *cols,
        }),
        // check_magic ensured 3 dimensions.
        _ => Ok(()),
    }
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

/// Reads an IDX image file (raw or gzip). The magic number and the size
/// are checked before any pixel is read, and the pixels are read once, into
/// the vector returned.
pub fn read_images(path: &Path) -> Result<Images, MnistError> {
    let bytes = Stream::open(open_regular(path)?, path, Some(Kind::Images))?.read_data()?;
    images_from_vec(bytes, path)
}

/// Reads an IDX label file (raw or gzip); every label must be a digit 0-9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, MnistError> {
    let bytes = Stream::open(open_regular(path)?, path, Some(Kind::Labels))?.read_data()?;
    labels_from_vec(bytes, path)
}

/// Parses the decompressed bytes of an IDX image file; `path` names it in
/// errors. This copies the pixels: [`images_from_vec`] does not.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Images, MnistError> {
    let (header_len, images) = check_images(bytes, path)?;
    Ok(Images {
        pixels: bytes[header_len..].to_vec(),
        ..images
    })
}

/// The images of a decompressed IDX image file, whose vector becomes the
/// pixels (the header is removed in place): no copy of the data.
pub fn images_from_vec(mut bytes: Vec<u8>, path: &Path) -> Result<Images, MnistError> {
    let (header_len, images) = check_images(&bytes, path)?;
    bytes.drain(..header_len);
    Ok(Images {
        pixels: bytes,
        ..images
    })
}

/// Checks an image file's bytes; returns its header's length and its
/// images without pixels.
fn check_images(bytes: &[u8], path: &Path) -> Result<(usize, Images), MnistError> {
    let dims = header(bytes, Kind::Images, path)?;
    check_image_size(&dims, path)?;
    let header_len = payload(bytes, &dims, path)?;
    // Each dimension is at most the data's length, so these fit a usize.
    let [count, rows, cols] = [dims[0], dims[1], dims[2]].map(|d| d as usize);
    Ok((
        header_len,
        Images {
            count,
            rows,
            cols,
            pixels: Vec::new(),
        },
    ))
}

/// Parses the decompressed bytes of an IDX label file.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, MnistError> {
    let header_len = check_labels(bytes, path)?;
    Ok(bytes[header_len..].to_vec())
}

/// The labels of a decompressed IDX label file, without a copy.
pub fn labels_from_vec(mut bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, MnistError> {
    let header_len = check_labels(&bytes, path)?;
    bytes.drain(..header_len);
    Ok(bytes)
}

/// Checks a label file's bytes; returns its header's length.
fn check_labels(bytes: &[u8], path: &Path) -> Result<usize, MnistError> {
    let dims = header(bytes, Kind::Labels, path)?;
    let header_len = payload(bytes, &dims, path)?;
    if let Some(i) = bytes[header_len..].iter().position(|&l| l > 9) {
        return Err(MnistError::Format {
            path: path.to_owned(),
            offset: (header_len + i) as u64,
            expected: "a digit label 0-9".to_owned(),
            found: bytes[header_len + i].to_string(),
        });
    }
    Ok(header_len)
}

/// Checks the magic number, first, then that the header is whole, and
/// returns the dimensions.
fn header(bytes: &[u8], kind: Kind, path: &Path) -> Result<Vec<u32>, MnistError> {
    let format = |offset: u64, expected: String, found: String| MnistError::Format {
        path: path.to_owned(),
        offset,
        expected,
        found,
    };
    let header_len = 4 + 4 * kind.dims();
    let Some(magic) = bytes.first_chunk::<4>() else {
        return Err(format(
            bytes.len() as u64,
            format!("a {header_len}-byte IDX header"),
            format!("a file of {} bytes", bytes.len()),
        ));
    };
    check_magic(magic, Some(kind), path)?;
    if bytes.len() < header_len {
        return Err(format(
            bytes.len() as u64,
            format!("a {header_len}-byte IDX header"),
            format!("a file of {} bytes", bytes.len()),
        ));
    }
    Ok(dimensions(bytes, header_len))
}

/// Checks that the bytes after the header are exactly what `dims` declare;
/// returns the header's length.
fn payload(bytes: &[u8], dims: &[u32], path: &Path) -> Result<usize, MnistError> {
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
    Ok(header_len)
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
        let owned = images_from_vec(images_file(2, 1, 2, &[1, 2, 3, 4]), p).unwrap();
        assert_eq!(owned, images);
        assert_eq!(
            labels_from_vec(labels_file(&[5, 0, 4]), p).unwrap(),
            [5, 0, 4]
        );
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
            "x.idx: expected the IDX magic number of labels, 00 00 08 01 (unsigned bytes, 1 dimension), found 00 00 08 03 (unsigned bytes, 3 dimensions)"
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
            "x.idx: expected the IDX magic number of labels, 00 00 08 01 (unsigned bytes, 1 dimension), found 00 00 0d 01 (32-bit floats, 1 dimension)"
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
