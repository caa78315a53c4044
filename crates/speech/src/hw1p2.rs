//! The HW1P2 data layout, read unchanged, and its 40 phoneme classes.
//!
//! A split (`train-clean-100`, `dev-clean`, `test-clean`) is a folder with
//! `mfcc/*.npy` (one float array of frames × D per utterance) and, except for
//! the test split, `transcript/*.npy` (one phoneme per frame, framed by
//! `[SOS]` and `[EOS]`, which are dropped). Utterances are taken in sorted
//! file-name order, as the homework's submission expects.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;

use crate::npy::{self, Array, NpyError};
use crate::packed::Packed;

/// The 40 classes, in the homework's order.
pub const PHONEMES: [&str; 40] = [
    "[SIL]", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
    "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH",
    "UH", "UW", "V", "W", "Y", "Z", "ZH",
];

/// The class index of a phoneme label; older terms wrote `SIL` for `[SIL]`.
pub fn phoneme_index(label: &str) -> Option<usize> {
    let label = if label == "SIL" { "[SIL]" } else { label };
    PHONEMES.iter().position(|&p| p == label)
}

/// What went wrong reading a split.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
    /// A packed corpus that could not be unpacked: `entry` is the file
    /// inside it being read, if any.
    #[error("{}{}: not a readable xz-compressed tar: {source}", path.display(), entry.as_deref().map(|e| format!(" at {e}")).unwrap_or_default())]
    Packed {
        path: PathBuf,
        entry: Option<String>,
        source: std::io::Error,
    },
    /// A packed corpus that unpacks to more than `limit` bytes.
    #[error("{}: unpacks to more than {limit} bytes; unpack it and read the folder", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    /// An utterance whose frames have another number of coefficients than
    /// the rest of its split: `path` is the odd file.
    #[error(
        "{}: {found} coefficients per frame, expected {expected} like {}",
        path.display(),
        reference
    )]
    Coefficients {
        path: PathBuf,
        found: usize,
        expected: usize,
        reference: Reference,
    },
}

/// What an odd utterance was compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Most files of the split: `agreeing` of its `files` have `expected`.
    Majority { agreeing: usize, files: usize },
    /// No number is in most files: the split's first file.
    First { path: PathBuf },
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Majority { agreeing, files } => {
                write!(f, "{agreeing} of the split's {files} files")
            }
            Reference::First { path } => {
                write!(f, "the split's first file, {}", path.display())
            }
        }
    }
}

/// One utterance: its frames and, where known, one class per frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Utterance {
    /// The file name, such as `103-1240-0000.npy`.
    pub name: String,
    /// (frames, D), one row per 10 ms frame.
    pub frames: DMatrix<f32>,
    pub labels: Option<Vec<usize>>,
}

/// The file name of a corpus's packed splits, as the bundled corpus keeps them.
pub const PACKED: &str = "splits.tar.xz";

/// Where a corpus's splits are: a folder with one folder per split, or an
/// xz-compressed tar of such a folder ([`crate::packed`]), unpacked in
/// memory.
#[derive(Debug)]
pub enum Corpus {
    Folder(PathBuf),
    Packed(Packed),
}

impl Corpus {
    /// A folder is read as one, unless it holds no training split but a
    /// [`PACKED`] archive (the bundled corpus's folder), which is read
    /// instead; anything else is read as a packed corpus.
    pub fn open(path: &Path) -> Result<Self, LayoutError> {
        if !path.is_dir() {
            return Packed::read(path).map(Self::Packed);
        }
        let packed = path.join(PACKED);
        if !path.join("train-clean-100").exists() && packed.is_file() {
            return Packed::read(&packed).map(Self::Packed);
        }
        Ok(Self::Folder(path.to_owned()))
    }

    /// The folder or the archive.
    pub fn path(&self) -> &Path {
        match self {
            Self::Folder(dir) => dir,
            Self::Packed(packed) => &packed.path,
        }
    }

    /// Reads the split `split` as [`read_split`] reads a folder.
    pub fn read_split(
        &self,
        split: &str,
        transcripts: bool,
    ) -> Result<Vec<Utterance>, LayoutError> {
        match self {
            Self::Folder(dir) => read_split(&dir.join(split), transcripts),
            Self::Packed(packed) => read_packed_split(packed, split, transcripts),
        }
    }

    /// Whether `split` has a `transcript` folder (test splits may not).
    pub fn has_transcripts(&self, split: &str) -> bool {
        match self {
            Self::Folder(dir) => dir.join(split).join("transcript").is_dir(),
            Self::Packed(packed) => packed.has_folder(&format!("{split}/transcript")),
        }
    }
}

/// Reads a split folder. With `transcripts`, every `mfcc/X.npy` needs a
/// `transcript/X.npy` with one phoneme per frame (plus `[SOS]`/`[EOS]`).
pub fn read_split(dir: &Path, transcripts: bool) -> Result<Vec<Utterance>, LayoutError> {
    let mfcc_dir = dir.join("mfcc");
    let mut names: Vec<String> = fs::read_dir(&mfcc_dir)
        .map_err(|source| LayoutError::Io {
            path: mfcc_dir.clone(),
            source,
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    names.sort();
    let utterances = names
        .iter()
        .map(|name| {
            // Anything there that is not a file is refused when read.
            let transcript = |path: &Path| match path.exists() {
                true => npy::read(path).map(Some).map_err(LayoutError::from),
                false => Ok(None),
            };
            let frames = npy::read(&mfcc_dir.join(name))?;
            utterance(dir, name, frames, transcripts.then_some(transcript))
        })
        .collect::<Result<Vec<_>, _>>()?;
    checked(utterances, mfcc_dir)
}

/// [`read_split`] on the files of a packed corpus, with paths inside the
/// archive (`splits.tar.xz/dev-clean/mfcc/X.npy`). The checks on each
/// file are the folder's; a split the archive lacks is named with the
/// folders it has, and files in folders below `mfcc` are not utterances.
fn read_packed_split(
    packed: &Packed,
    split: &str,
    transcripts: bool,
) -> Result<Vec<Utterance>, LayoutError> {
    let dir = packed.path.join(split);
    if !packed.has_folder(split) {
        return Err(LayoutError::Invalid {
            path: dir,
            problem: format!(
                "not in the archive, whose top-level folders are {:?}: expected one folder \
                 per split at its top",
                packed.top_level()
            ),
        });
    }
    let mfcc_dir = dir.join("mfcc");
    let transcript_files: BTreeMap<&str, &[u8]> =
        packed.folder(&format!("{split}/transcript")).collect();
    let utterances = packed
        .folder(&format!("{split}/mfcc"))
        .filter(|(name, _)| name.ends_with(".npy"))
        .map(|(name, bytes)| {
            let transcript = |path: &Path| {
                let bytes = transcript_files.get(name);
                bytes
                    .map(|b| npy::parse(b, path))
                    .transpose()
                    .map_err(LayoutError::from)
            };
            let frames = npy::parse(bytes, &mfcc_dir.join(name))?;
            utterance(&dir, name, frames, transcripts.then_some(transcript))
        })
        .collect::<Result<Vec<_>, _>>()?;
    checked(utterances, mfcc_dir)
}

/// The utterance `name` of the split at `dir`, from the array of its
/// `mfcc` file and, when transcripts are wanted, a reader of its
/// transcript's (`None` when there is none), called once the frames pass.
fn utterance(
    dir: &Path,
    name: &str,
    frames: Array,
    transcript: Option<impl FnOnce(&Path) -> Result<Option<Array>, LayoutError>>,
) -> Result<Utterance, LayoutError> {
    let frames = frames_of(frames, &dir.join("mfcc").join(name))?;
    let labels = match transcript {
        None => None,
        Some(read) => {
            let path = dir.join("transcript").join(name);
            let Some(array) = read(&path)? else {
                return Err(LayoutError::Invalid {
                    path,
                    problem: format!("missing: every mfcc/{name} needs a transcript"),
                });
            };
            Some(labels_of(array, &path, frames.nrows())?)
        }
    };
    Ok(Utterance {
        name: name.to_owned(),
        frames,
        labels,
    })
}

/// A split's utterances once read: at least one, all as wide.
fn checked(utterances: Vec<Utterance>, mfcc_dir: PathBuf) -> Result<Vec<Utterance>, LayoutError> {
    if utterances.is_empty() {
        return Err(LayoutError::Invalid {
            path: mfcc_dir,
            problem: "no .npy files: expected one per utterance".to_owned(),
        });
    }
    check_coefficients(&utterances, &mfcc_dir)?;
    Ok(utterances)
}

/// Every utterance of a split must have as many coefficients per frame as
/// the others. The odd file is the first that disagrees with the number
/// most files have, or, when no number is in most files, with the first.
fn check_coefficients(utterances: &[Utterance], mfcc_dir: &Path) -> Result<(), LayoutError> {
    let Some(first) = utterances.first() else {
        return Ok(());
    };
    let count = |d: usize| utterances.iter().filter(|u| u.frames.ncols() == d).count();
    // A number in more than half the files, if any (Boyer-Moore's vote).
    let mut candidate = first.frames.ncols();
    let mut votes = 0usize;
    for u in utterances {
        let d = u.frames.ncols();
        if votes == 0 {
            candidate = d;
        }
        votes = if d == candidate { votes + 1 } else { votes - 1 };
    }
    let files = utterances.len();
    let agreeing = count(candidate);
    let (expected, reference) = if 2 * agreeing > files {
        (candidate, Reference::Majority { agreeing, files })
    } else {
        let path = mfcc_dir.join(&first.name);
        (first.frames.ncols(), Reference::First { path })
    };
    match utterances.iter().find(|u| u.frames.ncols() != expected) {
        None => Ok(()),
        Some(odd) => Err(LayoutError::Coefficients {
            path: mfcc_dir.join(&odd.name),
            found: odd.frames.ncols(),
            expected,
            reference,
        }),
    }
}

fn frames_of(array: Array, path: &Path) -> Result<DMatrix<f32>, LayoutError> {
    match array {
        // Frames of no coefficient hold nothing to learn from.
        Array::Float { shape, .. } if shape.len() == 2 && shape[1] == 0 => {
            Err(LayoutError::Invalid {
                path: path.to_owned(),
                problem: format!(
                    "expected at least 1 coefficient per frame, found shape {shape:?}"
                ),
            })
        }
        Array::Float { shape, data } if shape.len() == 2 => {
            Ok(DMatrix::from_row_slice(shape[0], shape[1], &data))
        }
        Array::Float { shape, .. } => Err(LayoutError::Invalid {
            path: path.to_owned(),
            problem: format!("expected a 2-D array (frames, coefficients), found shape {shape:?}"),
        }),
        Array::Text { .. } => Err(LayoutError::Invalid {
            path: path.to_owned(),
            problem: "expected MFCC floats, found strings".to_owned(),
        }),
    }
}

fn labels_of(array: Array, path: &Path, frames: usize) -> Result<Vec<usize>, LayoutError> {
    let invalid = |problem: String| LayoutError::Invalid {
        path: path.to_owned(),
        problem,
    };
    let Array::Text { data, shape } = array else {
        return Err(invalid(
            "expected phoneme strings, found numbers".to_owned(),
        ));
    };
    if shape.len() != 1 {
        return Err(invalid(format!(
            "expected a 1-D array of phonemes, found shape {shape:?}"
        )));
    }
    let mut labels: &[String] = &data;
    if labels.first().map(String::as_str) == Some("[SOS]") {
        labels = &labels[1..];
    }
    if labels.last().map(String::as_str) == Some("[EOS]") {
        labels = &labels[..labels.len() - 1];
    }
    if labels.len() != frames {
        return Err(invalid(format!(
            "expected {frames} phonemes (one per MFCC frame, besides [SOS] and [EOS]), found {}",
            labels.len()
        )));
    }
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            phoneme_index(l).ok_or_else(|| {
                invalid(format!(
                    "phoneme {i}: expected one of the 40 classes, found {l:?}"
                ))
            })
        })
        .collect()
}

/// How [`write_utterance`] stores the MFCCs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f4, as HW1P2's own files are.
    Single,
    /// f2: half the bytes, about three significant digits, magnitudes up to
    /// 65504.
    Half,
}

/// Writes one utterance in the layout (for building corpora and tests).
pub fn write_utterance(
    split: &Path,
    name: &str,
    frames: &DMatrix<f32>,
    phonemes: Option<&[&str]>,
    precision: Precision,
) -> Result<(), LayoutError> {
    let write = |path: PathBuf, bytes: Vec<u8>| -> Result<(), LayoutError> {
        let dir = path.parent().expect("a file in a folder").to_owned();
        fs::create_dir_all(&dir).map_err(|source| LayoutError::Io { path: dir, source })?;
        fs::write(&path, bytes).map_err(|source| LayoutError::Io { path, source })
    };
    let row_major: Vec<f32> = frames.transpose().as_slice().to_vec();
    let shape = [frames.nrows(), frames.ncols()];
    let mfcc = split.join("mfcc").join(name);
    let bytes = match precision {
        Precision::Single => npy::to_bytes_f32(&shape, &row_major),
        Precision::Half => {
            npy::to_bytes_f16(&shape, &row_major).map_err(|e| LayoutError::Invalid {
                path: mfcc.clone(),
                problem: format!(
                    "frame {}, coefficient {}: expected a value that half precision holds \
                     (finite, at most 65504 in size), found {}",
                    e.index / shape[1],
                    e.index % shape[1],
                    e.value
                ),
            })?
        }
    };
    write(mfcc, bytes)?;
    if let Some(phonemes) = phonemes {
        let mut framed = vec!["[SOS]"];
        framed.extend(phonemes);
        framed.push("[EOS]");
        write(
            split.join("transcript").join(name),
            npy::to_bytes_text(&framed),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_in_order_with_the_old_silence_name() {
        assert_eq!(phoneme_index("[SIL]"), Some(0));
        assert_eq!(phoneme_index("SIL"), Some(0));
        assert_eq!(phoneme_index("ZH"), Some(39));
        assert_eq!(phoneme_index("AX"), None);
    }

    #[test]
    fn reads_a_split_back_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = DMatrix::from_row_slice(1, 3, &[7.0, 8.0, 9.0]);
        write_utterance(dir.path(), "b.npy", &b, Some(&["SIL"]), Precision::Single).unwrap();
        write_utterance(
            dir.path(),
            "a.npy",
            &a,
            Some(&["AA", "ZH"]),
            Precision::Half,
        )
        .unwrap();
        let split = read_split(dir.path(), true).unwrap();
        assert_eq!(
            split.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
            ["a.npy", "b.npy"]
        );
        assert_eq!(split[0].frames, a);
        assert_eq!(split[0].labels, Some(vec![1, 39]));
        assert_eq!(split[1].labels, Some(vec![0]));
        // Without transcripts (the test split), only frames.
        assert_eq!(read_split(dir.path(), false).unwrap()[1].labels, None);
    }

    #[test]
    fn half_precision_refuses_what_it_cannot_hold_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut frames = DMatrix::zeros(2, 3);
        frames[(1, 2)] = 1e5;
        let e = write_utterance(
            dir.path(),
            "x.npy",
            &frames,
            Some(&["AA"; 2]),
            Precision::Half,
        )
        .unwrap_err();
        let LayoutError::Invalid { path, problem } = e else {
            panic!("expected LayoutError::Invalid, found {e:?}");
        };
        assert_eq!(path, dir.path().join("mfcc").join("x.npy"));
        assert!(problem.starts_with("frame 1, coefficient 2:"), "{problem}");
        assert!(!path.exists());
        // Single precision holds it.
        write_utterance(
            dir.path(),
            "x.npy",
            &frames,
            Some(&["AA"; 2]),
            Precision::Single,
        )
        .unwrap();
        assert_eq!(read_split(dir.path(), true).unwrap()[0].frames, frames);
    }

    #[test]
    fn bad_splits_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let frames = DMatrix::zeros(2, 3);
        write_utterance(
            dir.path(),
            "x.npy",
            &frames,
            Some(&["AA", "QQ"]),
            Precision::Single,
        )
        .unwrap();
        let e = read_split(dir.path(), true).unwrap_err().to_string();
        assert!(
            e.ends_with("x.npy: phoneme 1: expected one of the 40 classes, found \"QQ\""),
            "{e}"
        );
        write_utterance(
            dir.path(),
            "x.npy",
            &frames,
            Some(&["AA"]),
            Precision::Single,
        )
        .unwrap();
        let e = read_split(dir.path(), true).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "x.npy: expected 2 phonemes (one per MFCC frame, besides [SOS] and [EOS]), found 1"
            ),
            "{e}"
        );
        fs::remove_file(dir.path().join("transcript/x.npy")).unwrap();
        let e = read_split(dir.path(), true).unwrap_err().to_string();
        assert!(
            e.ends_with("missing: every mfcc/x.npy needs a transcript"),
            "{e}"
        );
        let e = read_split(&dir.path().join("nowhere"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nowhere/mfcc"), "{e}");
    }
}
