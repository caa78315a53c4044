//! The benchmark's workload, as every runner runs it (and as
//! `peers/workload.py` writes it for the Python peers): full MNIST, MLP
//! 784 → 512 ReLU → 256 ReLU → 10 (the hidden widths can change), softmax
//! cross-entropy, Adam at 1e-3, batch 128, shuffled, one epoch of full
//! batches after a 20-step warm-up; then inference, one forward pass over
//! the 10,000 test images in one batch (median of 5).

use std::path::Path;

use anyhow::Result;
use course_support::activation::Activation;
use course_support::network::{Init, Mlp};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

pub const BATCH: usize = 128;
pub const LEARNING_RATE: f32 = 1e-3;
pub const WARMUP_STEPS: usize = 20;
pub const INFERENCE_REPEATS: usize = 5;

/// What one runner measured in one process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measurement {
    pub peer: String,
    pub version: String,
    pub epoch_s: f64,
    pub inference_s: f64,
    pub epoch_loss: f64,
    pub test_accuracy: f64,
    pub peak_rss_mb: f64,
}

/// The layer widths of the benchmark's network with these hidden widths.
pub fn widths(hidden: &[usize]) -> Vec<usize> {
    let mut widths = vec![784];
    widths.extend(hidden);
    widths.push(10);
    widths
}

/// The benchmark network: Kaiming-uniform weights, ReLU between layers.
pub fn network(hidden: &[usize], seed: u64) -> Result<Mlp> {
    let widths = widths(hidden);
    let mut activations = vec![Activation::Relu; hidden.len()];
    activations.push(Activation::Identity);
    Ok(Mlp::new(
        &widths,
        &activations,
        Init::KaimingUniform,
        seed,
        reference::init::init_weights,
    )?)
}

/// The workload's data: the images normalised, one example per column
/// (each example contiguous), and their labels.
pub struct WorkloadData {
    pub train_x: DMatrix<f32>,
    pub train_y: Vec<usize>,
    pub test_x: DMatrix<f32>,
    pub test_y: Vec<usize>,
}

impl WorkloadData {
    /// Reads the four MNIST files in `dir`; the raw bytes are dropped once
    /// converted.
    pub fn load(dir: &Path) -> Result<Self> {
        let data = mnist::load_dir(dir)?;
        let (mean, std) = mnist::STANDARD_NORMALIZATION;
        let examples = |images: &mnist::Images| {
            let size = images.rows * images.cols;
            DMatrix::from_fn(size, images.count, |pixel, example| {
                (f32::from(images.image(example)[pixel]) / 255.0 - mean) / std
            })
        };
        let labels = |all: &[u8]| all.iter().map(|&l| usize::from(l)).collect::<Vec<_>>();
        Ok(Self {
            train_x: examples(&data.train.images),
            train_y: labels(&data.train.labels),
            test_x: examples(&data.test.images),
            test_y: labels(&data.test.labels),
        })
    }
}

/// The peak resident memory of this process so far, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The median of `values` (sorted in place); NaN when there are none.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}
