//! MNIST for the pipeline: where the files are (a given folder, the download
//! cache, or the bundled sample), pixels as rows of f32, a seeded validation
//! split and the normalisation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::ValueEnum;
use mnist::{Images, Mnist, Provenance};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The ten digits.
pub const CLASSES: usize = 10;

/// Pixel normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalization {
    /// (x − 0.1307) / 0.3081, MNIST's well-known mean and deviation.
    Standard,
    /// The mean and deviation of this run's training split.
    Computed,
}

/// The folder to read: `data` if given, else the download cache (`cache`,
/// or the default one) if it holds the full set, after fetching it there
/// first with `download`; else the bundled sample.
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
    if download {
        eprintln!(
            "Fetching the full MNIST into {} (verified by sha256)",
            cache.display()
        );
        mnist::download::ensure(&mnist::FULL, &mnist::download::MIRRORS, &cache, !quiet)
            .context("downloading MNIST (use --data DIR for a local copy, or drop --download for the bundled sample)")?;
    }
    if mnist::FULL.iter().all(|s| mnist::is_present(&cache, s)) {
        return Ok(cache);
    }
    Ok(mnist::sample_dir())
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

/// (x − mean) / std, in place.
pub fn normalize(m: &mut DMatrix<f32>, mean: f32, std: f32) {
    m.apply(|v| *v = (*v - mean) / std);
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
}

impl Splits {
    /// Holds out the fraction `validation` of the training set (chosen by
    /// `seed`) and normalises every set the same way.
    pub fn new(data: &Mnist, validation: f32, seed: u64, normalization: Normalization) -> Self {
        let mut order: Vec<usize> = (0..data.train.images.count).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed));
        let held_out = (validation * order.len() as f32).round() as usize;
        let (validation_rows, train_rows) = order.split_at(held_out);
        let labels = |rows: &[usize], all: &[u8]| {
            rows.iter()
                .map(|&i| usize::from(all[i]))
                .collect::<Vec<_>>()
        };
        let mut train_x = pixels(&data.train.images, train_rows);
        let mut validation_x = pixels(&data.train.images, validation_rows);
        let test_rows: Vec<usize> = (0..data.test.images.count).collect();
        let mut test_x = pixels(&data.test.images, &test_rows);
        let (mean, std) = match normalization {
            Normalization::Standard => mnist::STANDARD_NORMALIZATION,
            Normalization::Computed => mean_and_std(&train_x),
        };
        for m in [&mut train_x, &mut validation_x, &mut test_x] {
            normalize(m, mean, std);
        }
        Self {
            train_x,
            train_y: labels(train_rows, &data.train.labels),
            validation_x,
            validation_y: labels(validation_rows, &data.train.labels),
            test_x,
            test_y: data.test.labels.iter().map(|&l| usize::from(l)).collect(),
            mean,
            std,
        }
    }
}

/// The mean and standard deviation of every value of `m` (summed in f64).
fn mean_and_std(m: &DMatrix<f32>) -> (f32, f32) {
    let n = m.len() as f64;
    let mean = m.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = m
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean as f32, var.sqrt() as f32)
}
