//! The concrete attacks of issue 18 on the IDX reader (overflowing
//! dimensions, gzip bombs, multi-member gzip), each a clean, typed error or,
//! for valid files, a full read; and a bound on how much a bomb is read.

use std::io::{self, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use mnist::idx::{self, MAX_DATA_BYTES};
use mnist::{Images, MnistError};

fn header(type_code: u8, dims: &[u32]) -> Vec<u8> {
    let mut b = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        b.extend(d.to_be_bytes());
    }
    b
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Counts the bytes `read_from` takes from its input.
struct Counting<'a> {
    inner: &'a [u8],
    read: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n;
        Ok(n)
    }
}

/// `member` repeated until the whole is about `total` decompressed bytes:
/// a small file (a few hundred bytes per MiB) that inflates enormously.
fn zeros_bomb(total: usize) -> Vec<u8> {
    let member = gz(&vec![0u8; 1 << 20]);
    member.repeat(total >> 20)
}

fn expect_too_large(result: Result<impl std::fmt::Debug, MnistError>, want: &[u32]) {
    match result {
        Err(MnistError::TooLarge {
            dims, max_bytes, ..
        }) => {
            assert_eq!(dims, want);
            assert_eq!(max_bytes, MAX_DATA_BYTES);
        }
        other => panic!("expected TooLarge for {want:?}, got {other:?}"),
    }
}

/// 4 · 2³¹ · 2³¹ = 2⁶⁴ wraps to 0 in u64: it used to panic slicing the data.
#[test]
fn dimensions_whose_product_wraps_are_too_large_not_a_panic() {
    let p = Path::new("wrap.idx");
    for dims in [
        [4, 1 << 31, 1 << 31],
        [u32::MAX, u32::MAX, u32::MAX],
        [1 << 16, 1 << 16, 1 << 16],
        [0x8000_0000, 2, 1 << 31],
    ] {
        let file = header(8, &dims);
        expect_too_large(idx::parse_images(&file, p), &dims);
        expect_too_large(idx::read_from(file.as_slice(), p), &dims);
        expect_too_large(idx::read_from(gz(&file).as_slice(), p), &dims);
    }
    // More than the limit without overflowing, for labels too.
    expect_too_large(idx::parse_labels(&header(8, &[u32::MAX]), p), &[u32::MAX]);
    expect_too_large(
        idx::read_from(header(0x0e, &[1 << 28]).as_slice(), p),
        &[1 << 28],
    );
}

#[test]
fn a_file_from_disk_with_wrapping_dimensions_is_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrap-idx3-ubyte");
    std::fs::write(&path, header(8, &[4, 1 << 31, 1 << 31])).unwrap();
    expect_too_large(idx::read_images(&path), &[4, 1 << 31, 1 << 31]);
    let gz_path = dir.path().join("wrap-idx3-ubyte.gz");
    std::fs::write(&gz_path, gz(&header(8, &[4, 1 << 31, 1 << 31]))).unwrap();
    expect_too_large(idx::read_images(&gz_path), &[4, 1 << 31, 1 << 31]);
}

/// A consistent value whose count · rows alone overflows: `take` used to
/// multiply in that order and panic.
#[test]
fn images_of_zero_width_take_and_index_without_overflow() {
    let images = Images {
        count: 1 << 40,
        rows: 1 << 40,
        cols: 0,
        pixels: Vec::new(),
    };
    let taken = images.take(1 << 40);
    assert_eq!((taken.count, taken.pixels.len()), (1 << 40, 0));
    assert_eq!(images.image((1 << 40) - 1), &[] as &[u8]);
    let small = Images {
        count: 2,
        rows: 1,
        cols: 2,
        pixels: vec![1, 2, 3, 4],
    };
    assert_eq!(small.take(usize::MAX).pixels, [1, 2, 3, 4]);
    assert_eq!(small.image(1), [3, 4]);
}

/// A bomb: a valid 10-label file followed by 1 GiB of zeros in further gzip
/// members (about 1 MB compressed). The reader stops one byte past the
/// declared data: it takes only the first few KiB of the compressed input.
#[test]
fn a_gzip_bomb_after_a_valid_header_stops_at_the_declared_size() {
    let mut labels = header(8, &[10]);
    labels.extend([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    let mut file = gz(&labels);
    file.extend(zeros_bomb(1 << 30));
    let mut input = Counting {
        inner: &file,
        read: 0,
    };
    match idx::read_from(&mut input, Path::new("bomb.gz")) {
        Err(MnistError::Format { offset, .. }) => assert_eq!(offset, 18),
        other => panic!("expected trailing bytes, got {other:?}"),
    }
    assert!(
        input.read < 64 * 1024,
        "read {} of {} compressed bytes",
        input.read,
        file.len()
    );
}

/// The other bomb: a wrong magic number in front of a huge stream
/// is reported after 4 bytes, not after decompressing everything.
#[test]
fn a_gzip_bomb_with_a_wrong_magic_fails_at_the_magic() {
    let mut file = gz(b"PK\x03\x04");
    file.extend(zeros_bomb(1 << 30));
    let mut input = Counting {
        inner: &file,
        read: 0,
    };
    match idx::read_from(&mut input, Path::new("bomb.gz")) {
        Err(MnistError::Format { offset, .. }) => assert_eq!(offset, 0),
        other => panic!("expected a magic-number error, got {other:?}"),
    }
    assert!(input.read < 64 * 1024, "read {} bytes", input.read);
}

/// A header that declares the most the reader allows, followed by a stream
/// of zeros: reading stops at the declared size (here 8 MiB of a 1 GiB bomb).
#[test]
fn a_bomb_declaring_its_size_is_read_no_further() {
    let mut file = gz(&header(8, &[8, 1024, 1024]));
    file.extend(zeros_bomb(1 << 30));
    let mut input = Counting {
        inner: &file,
        read: 0,
    };
    match idx::read_from(&mut input, Path::new("bomb.gz")) {
        Err(MnistError::Format { offset, .. }) => assert_eq!(offset, 16 + (8 << 20)),
        other => panic!("expected trailing bytes, got {other:?}"),
    }
    assert!(input.read < file.len() / 16, "read {} bytes", input.read);
}

/// `cat a.gz b.gz` is one valid gzip file (RFC 1952): every member is read.
#[test]
fn a_multi_member_gzip_is_read_in_full() {
    let mut labels = header(8, &[4]);
    labels.extend([1, 2, 3, 4]);
    let mut file = gz(&labels[..6]);
    file.extend(gz(&labels[6..10]));
    file.extend(gz(&labels[10..]));
    let p = Path::new("multi.gz");
    assert_eq!(idx::read_from(file.as_slice(), p).unwrap(), labels);
    assert_eq!(idx::decompress(file.clone(), p).unwrap(), labels);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.gz");
    std::fs::write(&path, &file).unwrap();
    assert_eq!(idx::read_labels(&path).unwrap(), [1, 2, 3, 4]);
}

/// Cut short, with trailing garbage, or with a bad CRC: clean errors.
#[test]
fn truncated_trailing_and_corrupt_gzip_are_clean_errors() {
    let p = Path::new("x.gz");
    let mut images = header(8, &[2, 2, 2]);
    images.extend([0; 8]);
    let whole = gz(&images);
    for cut in [1, 5, 10, whole.len() / 2, whole.len() - 4, whole.len() - 1] {
        let r = idx::read_from(&whole[..cut], p);
        assert!(
            matches!(r, Err(MnistError::Gzip { .. } | MnistError::Format { .. })),
            "cut at {cut}: {r:?}"
        );
    }
    let mut bad_crc = whole.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 1;
    assert!(matches!(
        idx::read_from(bad_crc.as_slice(), p),
        Err(MnistError::Gzip { .. })
    ));
    let mut trailing = whole;
    trailing.extend(gz(&[7]));
    assert!(matches!(
        idx::read_from(trailing.as_slice(), p),
        Err(MnistError::Format { offset: 24, .. })
    ));
    // Truncated raw data names the declared dimensions' size, not a wrapped one.
    match idx::parse_images(&header(8, &[60000, 28, 28]), p) {
        Err(MnistError::Format { offset, .. }) => assert_eq!(offset, 16),
        other => panic!("{other:?}"),
    }
}
