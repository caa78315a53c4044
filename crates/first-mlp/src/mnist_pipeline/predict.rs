//! Classifying digits with a saved MNIST model: an IDX file of images (with
//! optional labels for the accuracy) or a picture of one digit.

use std::path::Path;

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};
use course_support::network::Mlp;
use course_support::stats::Standardization;
use nalgebra::DMatrix;
use reference::training::predict_classes;

use super::config::TrainConfig;
use super::{NORMALIZATION_MEAN, NORMALIZATION_STD};
use crate::checkpoint;
use crate::datasets::mnist::{CLASSES, Normalization, pixels};
use crate::report::Evaluation;

/// The pixels of a digit.
const PIXELS: usize = 28 * 28;

/// Classifies images with a saved model: an IDX file (with optional labels
/// for the accuracy) or a PNG/PGM picture of one digit.
pub fn predict(
    model: &Path,
    idx: Option<&Path>,
    labels: Option<&Path>,
    image: Option<&Path>,
) -> Result<()> {
    let (mlp, statistics) = load_model(model)?;
    match (idx, image) {
        (Some(path), None) => predict_idx(&mlp, statistics, path, labels),
        (None, Some(path)) => predict_picture(&mlp, statistics, path),
        _ => bail!("give either --idx FILE (with optional --labels FILE) or --image FILE"),
    }
}

/// The predicted class of every image of an IDX file, by a saved model,
/// normalised as the model was trained.
pub fn classify_idx(model: &Path, idx: &Path) -> Result<Vec<usize>> {
    let (mlp, statistics) = load_model(model)?;
    let (predicted, _) = classify(&mlp, statistics, idx)?;
    Ok(predicted)
}

/// A saved model and the pixel normalisation it was trained with.
fn load_model(model: &Path) -> Result<(Mlp, Standardization)> {
    let (config, _): (TrainConfig, usize) =
        checkpoint::read_config(model, "the saved configuration")?;
    checkpoint::check_widths(model, &config.widths(PIXELS, CLASSES))?;
    let mut mlp = config.build(PIXELS, CLASSES)?;
    let saved = checkpoint::load_into(model, &mut mlp)?;
    let statistics = normalization(model, config.normalization, &saved.scalars)?;
    Ok((mlp, statistics))
}

/// The normalisation stored in a checkpoint's metadata. Checkpoints written
/// before it was stored fall back to MNIST's standard statistics, with a
/// warning when the run computed its own (they differ little on MNIST's
/// training set, a lot on other data).
fn normalization(
    model: &Path,
    normalization: Normalization,
    scalars: &HashMap<String, String>,
) -> Result<Standardization> {
    let stored = |key: &str| {
        scalars.get(key).map(|text| {
            text.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    anyhow!("{}: {key} {text:?} is not a finite number", model.display())
                })
        })
    };
    match (stored(NORMALIZATION_MEAN), stored(NORMALIZATION_STD)) {
        (Some(mean), Some(std)) => {
            let (mean, std) = (mean?, std?);
            if std <= 0.0 {
                bail!(
                    "{}: {NORMALIZATION_STD} {std} is not above 0",
                    model.display()
                );
            }
            Ok(Standardization { mean, std })
        }
        (None, None) => {
            let (mean, std) = mnist::STANDARD_NORMALIZATION;
            if normalization == Normalization::Computed {
                eprintln!(
                    "warning: {} was saved without its normalisation statistics (an older \
                     version); using MNIST's standard mean {mean} and std {std}, which may \
                     differ from those it was trained with",
                    model.display()
                );
            }
            Ok(Standardization { mean, std })
        }
        _ => bail!(
            "{}: only one of {NORMALIZATION_MEAN} and {NORMALIZATION_STD} in its metadata",
            model.display()
        ),
    }
}

/// The predicted classes of an IDX file's images, and how many there are.
fn classify(mlp: &Mlp, statistics: Standardization, path: &Path) -> Result<(Vec<usize>, usize)> {
    let images = mnist::idx::read_images(path)?;
    if images.rows * images.cols != PIXELS {
        bail!(
            "{}: {} x {} images, the model takes 28 x 28",
            path.display(),
            images.rows,
            images.cols
        );
    }
    let rows: Vec<usize> = (0..images.count).collect();
    let mut x = pixels(&images, &rows);
    statistics.apply(&mut x);
    let predicted = predict_classes(&reference::mlp::forward(mlp, &x)?);
    Ok((predicted, images.count))
}

/// The first predictions for an IDX file, and the accuracy with `labels`.
fn predict_idx(
    mlp: &Mlp,
    statistics: Standardization,
    path: &Path,
    labels: Option<&Path>,
) -> Result<()> {
    let (predicted, count) = classify(mlp, statistics, path)?;
    let shown: Vec<String> = predicted.iter().take(20).map(|p| p.to_string()).collect();
    println!(
        "{} images; the first predictions: {}",
        count,
        shown.join(" ")
    );
    if let Some(labels) = labels {
        let truth: Vec<usize> = mnist::idx::read_labels(labels)?
            .iter()
            .map(|&l| usize::from(l))
            .collect();
        if truth.len() != predicted.len() {
            bail!(
                "{}: {} labels for {} images",
                labels.display(),
                truth.len(),
                predicted.len()
            );
        }
        let e = Evaluation::new(&truth, &predicted, CLASSES);
        println!("accuracy {:.2}%\n\n{}", 100.0 * e.accuracy, e.table());
    }
    Ok(())
}

/// The class of the digit in a picture, scaled to 28 x 28, with its
/// probability.
fn predict_picture(mlp: &Mlp, statistics: Standardization, path: &Path) -> Result<()> {
    let picture =
        image::open(path).with_context(|| format!("reading the image {}", path.display()))?;
    let gray = picture.to_luma8();
    let gray = if gray.dimensions() == (28, 28) {
        gray
    } else {
        image::imageops::resize(&gray, 28, 28, image::imageops::FilterType::Triangle)
    };
    // MNIST digits are light on dark; a dark digit on white paper is inverted.
    let mean_pixel = gray.pixels().map(|p| f32::from(p.0[0])).sum::<f32>() / PIXELS as f32;
    let invert = mean_pixel > 127.0;
    let mut x = DMatrix::from_fn(1, PIXELS, |_, j| {
        let v = f32::from(gray.as_raw()[j]) / 255.0;
        if invert { 1.0 - v } else { v }
    });
    statistics.apply(&mut x);
    let logits = reference::mlp::forward(mlp, &x)?;
    let probabilities = reference::activations::softmax(&logits);
    let class = predict_classes(&logits)[0];
    println!(
        "{}: {class} ({:.1}%){}",
        path.display(),
        100.0 * probabilities[(0, class)],
        if invert {
            " [inverted: dark digit on a light background]"
        } else {
            ""
        }
    );
    Ok(())
}
