//! MNIST for First MLP: read the four IDX files (raw or gzip) from a folder,
//! verify them against the canonical checksums, download them when asked,
//! and fall back to the small real sample bundled with the project.

#[cfg(feature = "download")]
pub mod download;
pub mod idx;

use std::path::{Path, PathBuf};

pub use idx::Images;
use sha2::{Digest, Sha256};

/// The mean and standard deviation of the training set's pixels scaled to
/// [0, 1], the usual normalisation: x ↦ (x − mean) / std.
pub const STANDARD_NORMALIZATION: (f32, f32) = (0.1307, 0.3081);

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a valid gzip stream: {reason}", path.display())]
    Gzip { path: PathBuf, reason: String },
    #[error("{}, offset {offset}: expected {expected}, found {found}", path.display())]
    Format {
        path: PathBuf,
        offset: u64,
        expected: String,
        found: String,
    },
    #[error("{}: {what}: expected {expected}, found {found}", path.display())]
    Mismatch {
        path: PathBuf,
        what: String,
        expected: String,
        found: String,
    },
    /// The header declares more data than a file may hold (or than fits
    /// 64 bits at all): the declared dimensions, not a wrapped product.
    #[error(
        "{}: the IDX header declares dimensions {}, more than the limit of {max_bytes} bytes ({} MiB, \
         mnist::idx::MAX_DATA_BYTES) of data an IDX file may hold",
        path.display(),
        dims_text(dims),
        max_bytes >> 20
    )]
    TooLarge {
        path: PathBuf,
        dims: Vec<u32>,
        max_bytes: u64,
    },
    /// A file of the wrong kind, or no IDX file at all: its magic number,
    /// checked before any size it declares.
    #[error(
        "{}: expected the IDX magic number of {kind}, {}, found {}",
        path.display(),
        idx::magic_text(expected),
        idx::magic_text(found)
    )]
    Magic {
        path: PathBuf,
        kind: idx::Kind,
        expected: [u8; 4],
        found: [u8; 4],
    },
    /// Image files must declare at least 1 row and 1 column.
    #[error(
        "{}: the images are {rows} x {cols} pixels: expected at least 1 x 1",
        path.display()
    )]
    EmptyImages { path: PathBuf, rows: u32, cols: u32 },
    /// Bytes other than zero padding after the last gzip member, at this
    /// offset of the (compressed) file.
    #[error(
        "{}, offset {offset}: data after the end of the gzip stream (only zero bytes may follow it)",
        path.display()
    )]
    GzipTrailingData { path: PathBuf, offset: u64 },
    /// A FIFO, folder, device or socket where a data file should be (a FIFO
    /// would make the reader wait forever).
    #[error("{}: expected a regular file, found {found}", path.display())]
    NotRegularFile { path: PathBuf, found: &'static str },
    /// The system refused the memory for a file's data.
    #[error("{}: could not allocate the {bytes} bytes of its data", path.display())]
    OutOfMemory { path: PathBuf, bytes: u64 },
    #[error("{}: no {name} (or {name}.gz) there", dir.display())]
    Missing { dir: PathBuf, name: String },
    /// A readable file whose content is not the one expected (a damaged
    /// download, or other data under the canonical name).
    #[error("{}: sha256 of the decompressed content: expected {expected}, found {found}", path.display())]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("downloading {name} failed from every mirror:\n{attempts}")]
    Download { name: String, attempts: String },
}

/// Dimensions as written in messages: "60000 x 28 x 28".
fn dims_text(dims: &[u32]) -> String {
    dims.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" x ")
}

/// One of the four files, with the sha256 and size of its decompressed content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpec {
    pub name: &'static str,
    pub sha256: &'static str,
    /// Bytes once decompressed; bounds what a download may send.
    pub size: u64,
}

/// The canonical MNIST files. The checksums are of the decompressed bytes, so
/// they hold for any faithful copy, however it was compressed.
pub const FULL: [FileSpec; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        size: 47040016,
    },
    FileSpec {
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        size: 60008,
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        size: 7840016,
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        size: 10008,
    },
];

/// The bundled sample in `data/mnist-sample` (5000 training, 1000 test images).
pub const SAMPLE: [FileSpec; 4] = [
    FileSpec {
        name: "train-images-idx3-ubyte",
        sha256: "1e3ffdb2f57e22d9e5363dde25c2d057542c2e72baa312f0f3b03948bb3802b7",
        size: 3920016,
    },
    FileSpec {
        name: "train-labels-idx1-ubyte",
        sha256: "685aeb7baef68233efa643639a5e9c15bb48be09a628f96fb7f606ca2a1ea7bc",
        size: 5008,
    },
    FileSpec {
        name: "t10k-images-idx3-ubyte",
        sha256: "de7c252b04f05e1f8309634180ccdf286dc6dbac8c579b74e76e02ae0331ca52",
        size: 784016,
    },
    FileSpec {
        name: "t10k-labels-idx1-ubyte",
        sha256: "832c0d20f0dc42e575488c75a83a970787d4c8d4d05831b2ef03701b4a478a90",
        size: 1008,
    },
];

/// The folder of the bundled sample.
pub fn sample_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .join("data/mnist-sample")
}

/// True when `dir` holds a file for `spec` whose decompressed content has
/// the expected checksum.
pub fn is_present(dir: &Path, spec: &FileSpec) -> bool {
    verify(dir, spec).is_ok()
}

/// The file for `spec` in `dir`, once its decompressed content is checked
/// against the expected checksum; else why not (missing, unreadable, not
/// IDX, or other content).
pub fn verify(dir: &Path, spec: &FileSpec) -> Result<PathBuf, MnistError> {
    let path = find_file(dir, spec.name)?;
    let found = sha256_hex(&idx::read_decompressed(&path)?);
    if found != spec.sha256 {
        return Err(MnistError::Checksum {
            path,
            expected: spec.sha256.to_owned(),
            found,
        });
    }
    Ok(path)
}

/// What a download cache holds.
#[derive(Debug)]
pub enum CacheState {
    /// None of the files (or no folder at all): nothing was downloaded.
    Empty,
    /// Every file, verified.
    Complete,
    /// Some file is there but wrong, or some are there and others missing
    /// (a download that stopped): why, file by file.
    Damaged(Vec<MnistError>),
}

/// Checks every file of `specs` in the cache folder `dir`.
pub fn check_cache(dir: &Path, specs: &[FileSpec]) -> CacheState {
    let mut missing = Vec::new();
    let mut problems = Vec::new();
    for spec in specs {
        match verify(dir, spec) {
            Ok(_) => {}
            Err(e @ MnistError::Missing { .. }) => missing.push(e),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() && missing.len() == specs.len() {
        CacheState::Empty
    } else if problems.is_empty() && missing.is_empty() {
        CacheState::Complete
    } else {
        problems.extend(missing);
        CacheState::Damaged(problems)
    }
}

/// Where downloads go: `$FIRST_MLP_DATA/mnist` if that variable is set,
/// else the user's cache folder (`~/.cache/first-mlp/mnist` on Linux).
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os("FIRST_MLP_DATA") {
        Some(dir) => PathBuf::from(dir).join("mnist"),
        None => dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("first-mlp/mnist"),
    }
}

/// Images and their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub images: Images,
    pub labels: Vec<u8>,
}

/// Which known data the files are, by their checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// The full, canonical MNIST.
    Full,
    /// The bundled sample.
    Sample,
    /// IDX files of the right shape that are neither (Fashion-MNIST, say).
    Unverified,
}

/// The training and test splits, with where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    pub train: Split,
    pub test: Split,
    pub dir: PathBuf,
    pub provenance: Provenance,
}

/// The sha256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `dir/name.gz` if it exists, else `dir/name`. Either must be a regular
/// file (or a link to one): a FIFO or a folder under the name is an error
/// naming it, not a file that is missing.
pub fn find_file(dir: &Path, name: &str) -> Result<PathBuf, MnistError> {
    for path in [dir.join(format!("{name}.gz")), dir.join(name)] {
        if let Ok(metadata) = std::fs::metadata(&path) {
            if !metadata.is_file() {
                return Err(MnistError::NotRegularFile {
                    found: idx::file_type_text(metadata.file_type()),
                    path,
                });
            }
            return Ok(path);
        }
    }
    Err(MnistError::Missing {
        dir: dir.to_owned(),
        name: name.to_owned(),
    })
}

/// Loads the four MNIST files from `dir` (each raw or `.gz`), checks that
/// images and labels pair up, and tells by checksum whether they are the
/// full set, the sample, or something else of the same shape.
pub fn load_dir(dir: &Path) -> Result<Mnist, MnistError> {
    let paths = FULL
        .iter()
        .map(|spec| find_file(dir, spec.name))
        .collect::<Result<Vec<_>, _>>()?;
    let (train, train_digests) = read_split_hashed(&paths[0], &paths[1])?;
    let (test, test_digests) = read_split_hashed(&paths[2], &paths[3])?;
    let digests = [train_digests, test_digests].concat();
    let matches = |specs: &[FileSpec; 4]| specs.iter().zip(&digests).all(|(s, d)| s.sha256 == d);
    let provenance = if matches(&FULL) {
        Provenance::Full
    } else if matches(&SAMPLE) {
        Provenance::Sample
    } else {
        Provenance::Unverified
    };
    if train.images.rows != test.images.rows || train.images.cols != test.images.cols {
        return Err(MnistError::Mismatch {
            path: paths[2].clone(),
            what: "image size".to_owned(),
            expected: format!(
                "{} x {} like the training images",
                train.images.rows, train.images.cols
            ),
            found: format!("{} x {}", test.images.rows, test.images.cols),
        });
    }
    Ok(Mnist {
        train,
        test,
        dir: dir.to_owned(),
        provenance,
    })
}

/// Reads the images and labels of one split from two IDX files (raw or
/// gzip). The labels, small, are read first, and their count is compared
/// with the images' header before any pixel is read: a mismatch costs no
/// large allocation.
pub fn read_split(images: &Path, labels: &Path) -> Result<Split, MnistError> {
    read_split_hashed(images, labels).map(|(split, _)| split)
}

/// [`read_split`] from streams; the paths name them in errors.
pub fn read_split_from(
    images: impl std::io::Read,
    images_path: &Path,
    labels: impl std::io::Read,
    labels_path: &Path,
) -> Result<Split, MnistError> {
    split_from(images, images_path, labels, labels_path).map(|(split, _)| split)
}

/// [`read_split`], with the sha256 of each file's decompressed content
/// (images, then labels).
fn read_split_hashed(images: &Path, labels: &Path) -> Result<(Split, [String; 2]), MnistError> {
    // Both opened first, so that neither is read when the other is no file.
    let labels_file = idx::open_regular(labels)?;
    let images_file = idx::open_regular(images)?;
    split_from(images_file, images, labels_file, labels)
}

fn split_from(
    images: impl std::io::Read,
    images_path: &Path,
    labels: impl std::io::Read,
    labels_path: &Path,
) -> Result<(Split, [String; 2]), MnistError> {
    let label_bytes =
        idx::Stream::open(labels, labels_path, Some(idx::Kind::Labels))?.read_data()?;
    let labels_digest = sha256_hex(&label_bytes);
    let labels = idx::labels_from_vec(label_bytes, labels_path)?;
    let stream = idx::Stream::open(images, images_path, Some(idx::Kind::Images))?;
    let count = stream.dims()[0];
    if u64::from(count) != labels.len() as u64 {
        return Err(MnistError::Mismatch {
            path: labels_path.to_owned(),
            what: format!("labels for the {count} images of {}", images_path.display()),
            expected: format!("{count} labels"),
            found: format!("{}", labels.len()),
        });
    }
    let image_bytes = stream.read_data()?;
    let images_digest = sha256_hex(&image_bytes);
    let images = idx::images_from_vec(image_bytes, images_path)?;
    Ok((Split { images, labels }, [images_digest, labels_digest]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_sample_loads_and_is_verified() {
        let mnist = load_dir(&sample_dir()).unwrap();
        assert_eq!(mnist.provenance, Provenance::Sample);
        assert_eq!(
            (mnist.train.images.count, mnist.test.images.count),
            (5000, 1000)
        );
        assert_eq!((mnist.train.images.rows, mnist.train.images.cols), (28, 28));
        // The first labels of the genuine sets (from the data's README).
        assert_eq!(mnist.train.labels[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
        assert_eq!(mnist.test.labels[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("no train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) there"),
            "{e}"
        );
    }

    // Issue 18, item 12: a damaged cache is told apart from an empty one.
    #[test]
    fn a_cache_is_empty_complete_or_damaged_file_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("mnist");
        assert!(matches!(check_cache(&cache, &FULL), CacheState::Empty));
        std::fs::create_dir(&cache).unwrap();
        assert!(matches!(check_cache(&cache, &FULL), CacheState::Empty));
        assert!(matches!(
            check_cache(&sample_dir(), &SAMPLE),
            CacheState::Complete
        ));

        // A truncated gzip, and a well-formed IDX file of other content.
        std::fs::write(
            cache.join("train-images-idx3-ubyte.gz"),
            [0x1f, 0x8b, 8, 0, 0, 0],
        )
        .unwrap();
        std::fs::write(
            cache.join("train-labels-idx1-ubyte"),
            [0, 0, 8, 1, 0, 0, 0, 1, 7],
        )
        .unwrap();
        let CacheState::Damaged(problems) = check_cache(&cache, &FULL) else {
            panic!("a damaged cache passed");
        };
        assert!(
            matches!(&problems[0], MnistError::Gzip { path, .. } | MnistError::Io { path, .. }
                if path.ends_with("train-images-idx3-ubyte.gz")),
            "{problems:?}"
        );
        assert!(
            matches!(&problems[1], MnistError::Checksum { path, .. }
                if path.ends_with("train-labels-idx1-ubyte")),
            "{problems:?}"
        );
        // The two files not downloaded yet are reported too.
        assert_eq!(problems.len(), 4);
        assert!(
            problems[2..]
                .iter()
                .all(|p| matches!(p, MnistError::Missing { .. }))
        );
    }
}
