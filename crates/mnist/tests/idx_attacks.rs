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

/// The attacker's memory bomb: a 1 MB gzip declaring 1,369,000 x 28 x 28
/// zero pixels, just under the old 1 GiB cap, aborted training on
/// allocation. The cap is now what the MNIST family needs with a margin,
/// and the header alone refuses it.
#[test]
fn the_1369000_image_bomb_is_too_large_and_the_cap_still_fits_mnist() {
    const FULL_MNIST_TRAIN_IMAGES: u64 = 47_040_016;
    let cap = MAX_DATA_BYTES;
    assert!(
        (FULL_MNIST_TRAIN_IMAGES..=256 << 20).contains(&cap),
        "{cap}"
    );
    let dims = [1_369_000, 28, 28];
    let mut file = gz(&header(8, &dims));
    file.extend(zeros_bomb(16 << 20));
    let mut input = Counting {
        inner: &file,
        read: 0,
    };
    expect_too_large(idx::read_from(&mut input, Path::new("bomb.gz")), &dims);
    assert!(input.read < 64 * 1024, "read {} bytes", input.read);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte.gz");
    std::fs::write(&path, &file).unwrap();
    expect_too_large(idx::read_images(&path), &dims);
}

/// Images and labels whose counts disagree fail at the images' header:
/// the labels are read first, and the images' pixels never are.
#[test]
fn a_count_mismatch_fails_before_the_images_payload_is_read() {
    let mut labels = header(8, &[10]);
    labels.extend([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    let labels = gz(&labels);
    // 300,000 images of 28 x 28 (235 MB) of zeros, in about 230 KB.
    let mut images = gz(&header(8, &[300_000, 28, 28]));
    images.extend(zeros_bomb(235 << 20));
    let mut input = Counting {
        inner: &images,
        read: 0,
    };
    let r = mnist::read_split_from(
        &mut input,
        Path::new("images.gz"),
        labels.as_slice(),
        Path::new("labels.gz"),
    );
    assert!(matches!(r, Err(MnistError::Mismatch { .. })), "{r:?}");
    assert!(input.read < 64 * 1024, "read {} bytes", input.read);

    // Through load_dir: the images file holds only its header, so reading
    // its pixels first would report it truncated, not the mismatch.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte"),
        header(8, &[60_000, 28, 28]),
    )
    .unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), &labels).unwrap();
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        std::fs::write(dir.path().join(name), header(8, &[0])).unwrap();
    }
    match mnist::load_dir(dir.path()) {
        Err(MnistError::Mismatch { path, .. }) => {
            assert!(path.ends_with("train-labels-idx1-ubyte.gz"), "{path:?}")
        }
        other => panic!("{other:?}"),
    }
}

/// The magic number is checked before any size: a labels header or a
/// float type in an images file is a wrong magic, not "trailing bytes".
#[test]
fn a_wrong_magic_is_reported_before_the_data_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images");
    for (magic, dims) in [
        ([0, 0, 0x08, 1], &[3][..]),
        ([0, 0, 0x0d, 3], &[2, 2, 2][..]),
        ([0, 0, 0x08, 2], &[2, 2][..]),
    ] {
        let mut file = header(magic[2], dims);
        file[3] = magic[3];
        // Data that fits no reading of the header's sizes.
        file.extend([0u8; 37]);
        for bytes in [file.clone(), gz(&file)] {
            std::fs::write(&path, &bytes).unwrap();
            for r in [
                idx::read_images(&path).map(|_| ()),
                idx::parse_images(&file, &path).map(|_| ()),
            ] {
                match r {
                    Err(MnistError::Magic {
                        expected, found, ..
                    }) => assert_eq!((expected, found), ([0, 0, 8, 3], magic)),
                    other => panic!("{magic:?}: {other:?}"),
                }
            }
        }
    }
    // An images file read as labels.
    std::fs::write(&path, header(8, &[1, 1, 1])).unwrap();
    assert!(matches!(
        idx::read_labels(&path),
        Err(MnistError::Magic {
            expected: [0, 0, 8, 1],
            found: [0, 0, 8, 3],
            ..
        })
    ));
    // Even a header too short for its sizes is a wrong magic first.
    assert!(matches!(
        idx::parse_images(&[0, 0, 0x0d, 1, 0], Path::new("x")),
        Err(MnistError::Magic { .. })
    ));
}

/// gzip(1) ignores zero bytes after the last member (tape padding); other
/// bytes there are data after the end of the stream, at their offset.
#[test]
fn zero_padding_after_gzip_is_accepted_and_garbage_is_named() {
    let mut labels = header(8, &[3]);
    labels.extend([7, 8, 9]);
    let whole = gz(&labels);
    let p = Path::new("padded.gz");
    for pad in [1, 7, 512, 10240] {
        let mut file = whole.clone();
        file.resize(whole.len() + pad, 0);
        assert_eq!(idx::read_from(file.as_slice(), p).unwrap(), labels);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.gz");
        std::fs::write(&path, &file).unwrap();
        assert_eq!(idx::read_labels(&path).unwrap(), [7, 8, 9]);
    }
    for (garbage, at) in [
        (&b"junk\n"[..], 0),
        (b"\0\0\0x", 3),
        (b"\x8b", 0),
        (
            &[0u8; 9000].iter().chain(b"!").copied().collect::<Vec<_>>(),
            9000,
        ),
    ] {
        let mut file = whole.clone();
        file.extend(garbage);
        match idx::read_from(file.as_slice(), p) {
            Err(MnistError::GzipTrailingData { offset, .. }) => {
                assert_eq!(offset, (whole.len() + at) as u64)
            }
            other => panic!("{garbage:?}: {other:?}"),
        }
    }
    // A second member after padding is not read as one (gzip stops too).
    let mut file = whole.clone();
    file.extend([0, 0]);
    file.extend(gz(&[1]));
    assert!(matches!(
        idx::read_from(file.as_slice(), p),
        Err(MnistError::GzipTrailingData { .. })
    ));
}

/// Images of 0 rows or 0 columns are refused by the reader, naming the
/// file (they failed later, inside training, naming none).
#[test]
fn images_without_pixels_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte");
    for dims in [[270, 0, 28], [270, 28, 0], [0, 0, 0], [5, 0, u32::MAX]] {
        let file = header(8, &dims);
        std::fs::write(&path, &file).unwrap();
        for r in [
            idx::read_images(&path).map(|_| ()),
            idx::parse_images(&file, &path).map(|_| ()),
        ] {
            match r {
                Err(MnistError::EmptyImages {
                    path: named,
                    rows,
                    cols,
                }) => {
                    assert_eq!(named, path);
                    assert_eq!([rows, cols], [dims[1], dims[2]]);
                }
                other => panic!("{dims:?}: {other:?}"),
            }
        }
    }
}

/// Makes a FIFO at `path`, or returns false (with a note) where mkfifo is
/// missing. A writer thread waits on it: if a reader opened it after all,
/// it would get a few bytes and an end of file, an error to assert on,
/// rather than hang the test.
fn fifo(path: &Path) -> Option<std::thread::JoinHandle<()>> {
    match std::process::Command::new("mkfifo").arg(path).status() {
        Ok(status) if status.success() => {}
        other => {
            eprintln!("skipped: mkfifo is not available ({other:?})");
            return None;
        }
    }
    let path = path.to_owned();
    Some(std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(b"\x1f\x8bnot data");
        }
    }))
}

/// Releases the writer of a FIFO no reader opened.
fn release(path: &Path, writer: std::thread::JoinHandle<()>) {
    let _ = std::fs::read(path);
    writer.join().unwrap();
}

/// A FIFO named like a data file made every reader wait forever for a
/// writer. Each refuses it, and anything else not a regular file, by its
/// type, before opening it.
#[test]
fn a_fifo_or_folder_named_like_a_data_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte.gz");
    let Some(writer) = fifo(&path) else { return };
    let not_regular = |r: Result<(), MnistError>| match r {
        Err(MnistError::NotRegularFile { path: named, found }) => {
            assert_eq!(named, path);
            assert!(found.contains("FIFO"), "{found}");
        }
        other => panic!("{other:?}"),
    };
    not_regular(idx::read_decompressed(&path).map(|_| ()));
    not_regular(idx::read_images(&path).map(|_| ()));
    not_regular(idx::read_labels(&path).map(|_| ()));
    not_regular(mnist::find_file(dir.path(), "train-images-idx3-ubyte").map(|_| ()));
    not_regular(mnist::load_dir(dir.path()).map(|_| ()));
    not_regular(mnist::verify(dir.path(), &mnist::FULL[0]).map(|_| ()));
    assert!(matches!(
        mnist::check_cache(dir.path(), &mnist::FULL),
        mnist::CacheState::Damaged(_)
    ));
    // A link to the FIFO is refused too; a link to a regular file is read.
    #[cfg(unix)]
    {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(
            idx::read_decompressed(&link),
            Err(MnistError::NotRegularFile { .. })
        ));
        let real = dir.path().join("labels");
        std::fs::write(&real, header(8, &[0])).unwrap();
        let link = dir.path().join("link-to-labels");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(idx::read_labels(&link).unwrap(), []);
    }
    release(&path, writer);
    // A folder under a data file's name.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    assert!(matches!(
        idx::read_labels(&folder),
        Err(MnistError::NotRegularFile { .. })
    ));
}
