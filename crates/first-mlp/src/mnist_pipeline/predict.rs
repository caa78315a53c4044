//! Classifying digits with a saved MNIST model: an IDX file of images (with
//! optional labels for the accuracy) or a picture of one digit.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use course_support::network::Mlp;
use course_support::stats::Standardization;
use image::{DynamicImage, GrayImage, Luma};
use nalgebra::DMatrix;
use reference::training::predict_classes;

use super::config::TrainConfig;
use super::{NORMALIZATION_MEAN, NORMALIZATION_STD};
use crate::checkpoint::{self, CheckpointError, ModelKind};
use crate::datasets::mnist::{CLASSES, Normalization, pixels};
use crate::files;
use crate::report::Evaluation;
use crate::training::NoTestData;

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
        (Some(path), None) => predict_idx(&mlp, statistics, path, labels, model),
        (None, Some(path)) => predict_picture(&mlp, statistics, path, model),
        _ => bail!("give either --idx FILE (with optional --labels FILE) or --image FILE"),
    }
}

/// The predicted class of every image of an IDX file, by a saved model,
/// normalised as the model was trained.
pub fn classify_idx(model: &Path, idx: &Path) -> Result<Vec<usize>> {
    let (mlp, statistics) = load_model(model)?;
    let (predicted, _) = classify(&mlp, statistics, idx, model)?;
    Ok(predicted)
}

/// A saved model and the pixel normalisation it was trained with.
fn load_model(model: &Path) -> Result<(Mlp, Standardization)> {
    let (config, _): (TrainConfig, usize) = checkpoint::read_config(model, ModelKind::Mnist)?;
    checkpoint::check_widths(model, &config.widths(PIXELS, CLASSES))?;
    let mut network = config.build(PIXELS, CLASSES)?;
    let saved = checkpoint::load_into(model, &mut network)?;
    let statistics = normalization(model, config.normalization, &saved.scalars)?;
    // Evaluation mode: no dropout, batch norm's running estimates folded
    // into the linear layers.
    Ok((network.to_evaluation_mlp(), statistics))
}

/// The range of a stored deviation: pixels in [0, 1] have one of at most
/// 0.5, and one below 1e-6 would blow the inputs up a million times.
const STD_RANGE: std::ops::RangeInclusive<f32> = 1e-6..=1e6;
/// The range of a stored mean (pixels are in [0, 1]; generous).
const MEAN_RANGE: std::ops::RangeInclusive<f32> = -1e6..=1e6;

/// The logits of `x` by `mlp`, read from `model`: finite, or
/// [`CheckpointError::NonFiniteOutputs`] (a class picked among NaNs would be
/// a made-up answer).
fn logits(mlp: &Mlp, x: &DMatrix<f32>, model: &Path) -> Result<DMatrix<f32>> {
    let logits = reference::mlp::forward(mlp, x)?;
    if logits.iter().any(|v| !v.is_finite()) {
        return Err(CheckpointError::NonFiniteOutputs {
            path: model.to_owned(),
        }
        .into());
    }
    Ok(logits)
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
    // Finite and within its range, else the inputs (and so the logits)
    // would be extreme or not finite.
    let stored = |key: &str, range: &std::ops::RangeInclusive<f32>, expected: &'static str| {
        scalars.get(key).map(|text| {
            text.parse::<f32>()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| CheckpointError::BadStatistic {
                    path: model.to_owned(),
                    key: key.to_owned(),
                    value: text.clone(),
                    expected,
                })
        })
    };
    let mean = stored(
        NORMALIZATION_MEAN,
        &MEAN_RANGE,
        "a finite number between -1e6 and 1e6",
    );
    let std = stored(
        NORMALIZATION_STD,
        &STD_RANGE,
        "a number between 1e-6 and 1e6",
    );
    match (mean, std) {
        (Some(mean), Some(std)) => Ok(Standardization {
            mean: mean?,
            std: std?,
        }),
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

/// The predicted classes of an IDX file's images by the model read from
/// `model`, and how many there are (at least 1: none is [`NoTestData`]).
fn classify(
    mlp: &Mlp,
    statistics: Standardization,
    path: &Path,
    model: &Path,
) -> Result<(Vec<usize>, usize)> {
    let images = mnist::idx::read_images(path)?;
    if images.count == 0 {
        return Err(NoTestData {
            what: format!("{} (0 images)", path.display()),
        }
        .into());
    }
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
    let predicted = predict_classes(&logits(mlp, &x, model)?);
    Ok((predicted, images.count))
}

/// The first predictions for an IDX file, and the accuracy with `labels`.
fn predict_idx(
    mlp: &Mlp,
    statistics: Standardization,
    path: &Path,
    labels: Option<&Path>,
    model: &Path,
) -> Result<()> {
    let (predicted, count) = classify(mlp, statistics, path, model)?;
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

/// A picture that holds no digit to classify.
#[derive(Debug)]
pub enum PictureError {
    /// No pixels at all (a 0 x 0 PGM, say): resizing would invent some.
    Empty {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    /// Every pixel fully transparent.
    Invisible { path: PathBuf },
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty {
                path,
                width,
                height,
            } => write!(
                f,
                "{}: the image is {width} x {height} pixels; a digit needs at least 1 x 1 (28 x 28 is best)",
                path.display()
            ),
            Self::Invisible { path } => write!(
                f,
                "{}: every pixel is fully transparent, so there is no digit to classify",
                path.display()
            ),
        }
    }
}

impl std::error::Error for PictureError {}

/// Reads a picture, its format told by its content (a PNG named `.pgm`,
/// or with no extension, is still read as PNG).
fn read_picture(path: &Path) -> Result<DynamicImage> {
    let context = || format!("reading the image {}", path.display());
    // The reader's default limits (512 MiB) bound what a header may claim.
    // A regular file, checked before opening: a FIFO would block forever.
    let file = std::io::BufReader::new(files::open_regular(path)?);
    let picture = image::io::Reader::new(file)
        .with_guessed_format()
        .with_context(context)?
        .decode()
        .with_context(context)?;
    let (width, height) = (picture.width(), picture.height());
    if width == 0 || height == 0 {
        return Err(PictureError::Empty {
            path: path.to_owned(),
            width,
            height,
        }
        .into());
    }
    Ok(picture)
}

/// Grey levels, the transparent parts filled with the background's shade.
/// Opaque pixels over most of the picture are paper, and the transparent
/// parts are more of it; over less, they are the strokes, drawn on a
/// transparent canvas, and the paper around them is of the other shade.
/// Either way the digit then stands out, and the inversion below makes it
/// light on dark like MNIST's.
fn flatten(picture: &DynamicImage, path: &Path) -> Result<GrayImage> {
    if !picture.color().has_alpha() {
        return Ok(picture.to_luma8());
    }
    let grey = picture.to_luma_alpha8();
    let (mut covered, mut shade) = (0.0f64, 0.0f64);
    for pixel in grey.pixels() {
        let [luma, alpha] = pixel.0;
        covered += f64::from(alpha) / 255.0;
        shade += f64::from(alpha) / 255.0 * f64::from(luma);
    }
    if covered == 0.0 {
        return Err(PictureError::Invisible {
            path: path.to_owned(),
        }
        .into());
    }
    let light = shade / covered > 127.5;
    let mostly_opaque = covered > 0.5 * f64::from(grey.width()) * f64::from(grey.height());
    let background = if light == mostly_opaque { 255.0 } else { 0.0 };
    Ok(GrayImage::from_fn(grey.width(), grey.height(), |x, y| {
        let [luma, alpha] = grey.get_pixel(x, y).0;
        let alpha = f32::from(alpha) / 255.0;
        Luma([(f32::from(luma) * alpha + background * (1.0 - alpha)).round() as u8])
    }))
}

/// The digit in a picture as 28 x 28 pixels in [0, 1], light on dark like
/// MNIST's, and whether it had to be inverted (a dark digit on light paper).
fn picture_pixels(picture: &DynamicImage, path: &Path) -> Result<(Vec<f32>, bool)> {
    let gray = flatten(picture, path)?;
    let gray = if gray.dimensions() == (28, 28) {
        gray
    } else {
        image::imageops::resize(&gray, 28, 28, image::imageops::FilterType::Triangle)
    };
    // MNIST digits are light on dark; a dark digit on white paper is inverted.
    let mean_pixel = gray.pixels().map(|p| f32::from(p.0[0])).sum::<f32>() / PIXELS as f32;
    let invert = mean_pixel > 127.0;
    let pixels = gray
        .as_raw()
        .iter()
        .map(|&p| {
            let v = f32::from(p) / 255.0;
            if invert { 1.0 - v } else { v }
        })
        .collect();
    Ok((pixels, invert))
}

/// The class of the digit in a picture, its probability, and whether the
/// picture was inverted.
fn classify_one(
    mlp: &Mlp,
    statistics: Standardization,
    path: &Path,
    model: &Path,
) -> Result<(usize, f32, bool)> {
    let picture = read_picture(path)?;
    let (pixels, invert) = picture_pixels(&picture, path)?;
    let mut x = DMatrix::from_row_slice(1, PIXELS, &pixels);
    statistics.apply(&mut x);
    let logits = logits(mlp, &x, model)?;
    let probabilities = reference::activations::softmax(&logits);
    let class = predict_classes(&logits)[0];
    Ok((class, probabilities[(0, class)], invert))
}

/// The class of the digit in a picture, scaled to 28 x 28, with its
/// probability.
fn predict_picture(
    mlp: &Mlp,
    statistics: Standardization,
    path: &Path,
    model: &Path,
) -> Result<()> {
    let (class, probability, invert) = classify_one(mlp, statistics, path, model)?;
    println!(
        "{}: {class} ({:.1}%){}",
        path.display(),
        100.0 * probability,
        if invert {
            " [inverted: dark digit on a light background]"
        } else {
            ""
        }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    /// A 28 x 28 "digit": a vertical bar, `ink` on `paper`.
    fn bar(ink: Rgba<u8>, paper: Rgba<u8>) -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_fn(28, 28, |x, _| {
            if (12..16).contains(&x) { ink } else { paper }
        }))
    }

    fn png_bytes(picture: &DynamicImage) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut bytes, image::ImageOutputFormat::Png)
            .unwrap();
        bytes.into_inner()
    }

    // Issue 18, item 13: a 0 x 0 PGM was classified ("1 (59.2%)").
    #[test]
    fn a_picture_without_pixels_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("empty.pgm", &b"P5\n0 0\n255\n"[..]),
            ("flat.pgm", &b"P5\n5 0\n255\n"[..]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let error = read_picture(&path).unwrap_err();
            assert!(
                matches!(
                    error.downcast_ref::<PictureError>(),
                    Some(PictureError::Empty { .. })
                ),
                "{error:?}"
            );
        }
    }

    // Issue 18, item 13: the format came from the extension alone, so a PNG
    // named .pgm, or with no extension, could not be read.
    #[test]
    fn the_format_is_told_by_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let black = Rgba([0, 0, 0, 255]);
        let white = Rgba([255, 255, 255, 255]);
        let png = png_bytes(&bar(white, black));
        for name in ["digit.pgm", "digit", "digit.jpg"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &png).unwrap();
            let picture = read_picture(&path).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!((picture.width(), picture.height()), (28, 28));
        }
        // Neither content nor extension: an error, not a guess.
        let path = dir.path().join("digit.png");
        std::fs::write(&path, b"not an image at all").unwrap();
        assert!(read_picture(&path).is_err());
    }

    // Issue 18, item 13: transparency was ignored, so black strokes on a
    // transparent canvas (stored as transparent black) came out all black.
    #[test]
    fn transparent_parts_are_background() {
        let path = Path::new("test.png");
        let pixels = |picture: &DynamicImage| picture_pixels(picture, path).unwrap().0;
        let (black, white) = (Rgba([0, 0, 0, 255]), Rgba([255, 255, 255, 255]));
        let clear_black = Rgba([0, 0, 0, 0]);
        let clear_white = Rgba([255, 255, 255, 0]);
        let light_on_dark = pixels(&bar(white, black));
        assert_eq!(pixels(&bar(black, white)), light_on_dark);
        // Strokes on a transparent canvas, whatever colour it stores.
        for clear in [clear_black, clear_white] {
            assert_eq!(pixels(&bar(black, clear)), light_on_dark);
            assert_eq!(pixels(&bar(white, clear)), light_on_dark);
        }
        // Opaque paper with a transparent stroke-shaped hole: the hole is
        // more paper, leaving nothing but paper.
        let blank = pixels(&bar(clear_black, white));
        assert!(blank.iter().all(|&v| v == 0.0), "{blank:?}");
        // Nothing visible at all.
        let error = picture_pixels(&bar(clear_black, clear_white), path).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<PictureError>(),
                Some(PictureError::Invisible { .. })
            ),
            "{error:?}"
        );
    }
}
