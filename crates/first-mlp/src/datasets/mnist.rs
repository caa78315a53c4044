//! MNIST for the pipeline: where the files are (a given folder, the download
//! cache, or the bundled sample), pixels as rows of f32, a seeded validation
//! split and the normalisation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::ValueEnum;
use course_support::stats::Standardization;
use mnist::{Images, Mnist, Provenance};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::training::NoTrainingData;

/// The ten digits.
pub const CLASSES: usize = 10;

/// Mixed into the run's seed for the validation split's shuffle, so that it
/// draws otherwise than the first epoch's.
pub const SPLIT_SEED: u64 = 0x5eed;

/// Pixel normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalization {
    /// The mean and deviation of this run's training split (stage 5's
    /// `training_statistics`).
    Computed,
    /// (x − 0.1307) / 0.3081, MNIST's well-known mean and deviation, which
    /// were measured on all 60,000 training images, validation split
    /// included.
    Standard,
}

/// The download cache holds MNIST files that are wrong or incomplete. Training
/// stops rather than fall back to the bundled sample: a run on 5,000 images
/// where 60,000 were meant would look like a worse model, not a broken cache.
#[derive(Debug)]
pub struct DamagedCache {
    pub dir: PathBuf,
    /// What is wrong, one entry per file.
    pub problems: Vec<mnist::MnistError>,
}

impl std::fmt::Display for DamagedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "the MNIST download cache {} is damaged or incomplete:",
            self.dir.display()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        write!(
            f,
            "Repair it with `first-mlp train --download` (it fetches the bad or missing files \
             again), or delete the folder {} to train on the bundled sample, or give --data DIR",
            self.dir.display()
        )
    }
}

impl std::error::Error for DamagedCache {}

/// The download cache given is a file: it would hold none of the MNIST
/// files, and training would quietly fall back to the bundled sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheNotAFolder {
    pub path: PathBuf,
}

impl std::fmt::Display for CacheNotAFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the MNIST download cache {} is a file, not a folder; give a folder with --cache",
            self.path.display()
        )
    }
}

impl std::error::Error for CacheNotAFolder {}

/// The folder to read: `data` if given, else the download cache (`cache`,
/// or the default one) if it holds the full set, after fetching it there
/// first with `download`; else, when the cache holds no MNIST file at all,
/// the bundled sample. A cache with a wrong or missing file is an error
/// ([`DamagedCache`]).
pub fn locate(
    data: Option<&Path>,
    cache: Option<&Path>,
    download: bool,
    quiet: bool,
) -> Result<PathBuf> {
    if let Some(dir) = data {
        return Ok(dir.to_owned());
    }
    let cache = cache.map_or_else(mnist::default_cache_dir, Path::to_owned);
    if cache.exists() && !cache.is_dir() {
        return Err(CacheNotAFolder { path: cache }.into());
    }
    if download {
        eprintln!(
            "Fetching the full MNIST into {} (verified by sha256)",
            cache.display()
        );
        mnist::download::ensure(&mnist::FULL, &mnist::download::MIRRORS, &cache, !quiet)
            .context("downloading MNIST (use --data DIR for a local copy, or drop --download for the bundled sample)")?;
    }
    match mnist::check_cache(&cache, &mnist::FULL) {
        mnist::CacheState::Complete => Ok(cache),
        mnist::CacheState::Empty => Ok(mnist::sample_dir()),
        mnist::CacheState::Damaged(problems) => Err(DamagedCache {
            dir: cache,
            problems,
        }
        .into()),
    }
}

/// What the files are, in words.
pub fn describe(provenance: Provenance) -> &'static str {
    match provenance {
        Provenance::Full => "the full MNIST (verified)",
        Provenance::Sample => {
            "the bundled MNIST sample (verified; add --download or --data DIR for the full set)"
        }
        Provenance::Unverified => "IDX files that match no known checksum",
    }
}

/// Pixels as f32 in [0, 1], one image per row.
pub fn pixels(images: &Images, rows: &[usize]) -> DMatrix<f32> {
    let size = images.rows * images.cols;
    let mut m = DMatrix::zeros(rows.len(), size);
    for (r, &i) in rows.iter().enumerate() {
        for (j, &p) in images.image(i).iter().enumerate() {
            m[(r, j)] = f32::from(p) / 255.0;
        }
    }
    m
}

/// The three sets as normalised pixel rows and class labels.
pub struct Splits {
    pub train_x: DMatrix<f32>,
    pub train_y: Vec<usize>,
    pub validation_x: DMatrix<f32>,
    pub validation_y: Vec<usize>,
    pub test_x: DMatrix<f32>,
    pub test_y: Vec<usize>,
    /// The normalisation applied to all three.
    pub mean: f32,
    pub std: f32,
    /// Each image's (rows, columns); a row of the sets holds its pixels row
    /// by row.
    pub image_shape: (usize, usize),
}

impl Splits {
    /// Holds out the fraction `validation` of the training set (chosen by
    /// `code`'s shuffle, seeded by `seed`) and normalises every set the same
    /// way.
    pub fn new(
        data: &Mnist,
        validation: f32,
        seed: u64,
        normalization: Normalization,
        code: &Code,
    ) -> Result<Self> {
        let mut order: Vec<usize> = (0..data.train.images.count).collect();
        code.run(
            "shuffling the training set for the validation split",
            || {
                (code.shuffle)(
                    &mut order,
                    &mut ChaCha8Rng::seed_from_u64(seed ^ SPLIT_SEED),
                );
            },
        )?;
        let held_out = (validation * order.len() as f32).round() as usize;
        let (validation_rows, train_rows) = order.split_at(held_out);
        // Caught here, before the statistics of no pixels are taken and an
        // untrained model is saved.
        if train_rows.is_empty() {
            return Err(NoTrainingData {
                what: format!(
                    "{}: {} training images, {held_out} of them held out for validation",
                    data.dir.display(),
                    data.train.images.count
                ),
            }
            .into());
        }
        let labels = |rows: &[usize], all: &[u8]| {
            rows.iter()
                .map(|&i| usize::from(all[i]))
                .collect::<Vec<_>>()
        };
        let mut train_x = pixels(&data.train.images, train_rows);
        let mut validation_x = pixels(&data.train.images, validation_rows);
        let test_rows: Vec<usize> = (0..data.test.images.count).collect();
        let mut test_x = pixels(&data.test.images, &test_rows);
        let statistics = match normalization {
            Normalization::Standard => {
                let (mean, std) = mnist::STANDARD_NORMALIZATION;
                Standardization { mean, std }
            }
            Normalization::Computed => code
                .call("computing the training split's statistics", || {
                    (code.training_statistics)(&train_x)
                })?,
        };
        for m in [&mut train_x, &mut validation_x, &mut test_x] {
            statistics.apply(m);
        }
        Ok(Self {
            train_x,
            train_y: labels(train_rows, &data.train.labels),
            validation_x,
            validation_y: labels(validation_rows, &data.train.labels),
            test_x,
            test_y: data.test.labels.iter().map(|&l| usize::from(l)).collect(),
            mean: statistics.mean,
            std: statistics.std,
            image_shape: (data.train.images.rows, data.train.images.cols),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 18, item 12: a corrupt cache used to fall back to the sample
    // without a word (`locate` returned the sample's folder).
    #[test]
    fn a_damaged_cache_is_an_error_and_an_empty_one_means_the_sample() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("mnist");
        assert_eq!(
            locate(None, Some(&cache), false, true).unwrap(),
            mnist::sample_dir()
        );
        std::fs::create_dir(&cache).unwrap();
        assert_eq!(
            locate(None, Some(&cache), false, true).unwrap(),
            mnist::sample_dir()
        );
        std::fs::write(cache.join("t10k-labels-idx1-ubyte.gz"), b"not gzip").unwrap();
        let error = locate(None, Some(&cache), false, true).unwrap_err();
        let damaged = error
            .downcast_ref::<DamagedCache>()
            .unwrap_or_else(|| panic!("expected DamagedCache, got {error:?}"));
        assert_eq!(damaged.dir, cache);
        assert_eq!(damaged.problems.len(), 4);
        // The folder to delete is named.
        assert!(error.to_string().contains(&cache.display().to_string()));
    }
}
