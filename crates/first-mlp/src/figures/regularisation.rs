//! Stage 7's figures: one digit and its random distortions, and learning
//! curves with and without each ingredient, from the records of real runs
//! on the full MNIST committed beside the chapter (`book/src/stage-7/runs/`).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use course_support::augmentation::Augmentation;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::plots::{
    AXIS_SIZE, Area, CLASS_COLOURS, DASH, FONT, PixelArea, TICK_SIZE, TITLE_SIZE, X_LABEL_AREA,
    axes, draw_legend, legend_dashes, legend_line, plot_error,
};
use crate::report::EpochRecord;

/// The digit the distortions figure shows: the first training image of the
/// bundled sample (a 5).
const DIGIT: usize = 0;

/// One digit, then rows of its affine and elastic distortions, drawn by the
/// reference's `augment` with seeds 1, 2, ….
pub fn draw_distortions(root: &PixelArea<'_>) -> Result<()> {
    let data = mnist::load_dir(&mnist::sample_dir())?;
    let images = &data.train.images;
    let (rows, columns) = (images.rows, images.cols);
    let pixels: Vec<f32> = images
        .image(DIGIT)
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    let root = root
        .titled(
            "One training digit, distorted anew every epoch",
            (FONT, TITLE_SIZE),
        )
        .map_err(plot_error)?;
    let lines = root.split_evenly((2, 1));
    let kinds = [
        ("affine", Augmentation::AFFINE),
        ("elastic", Augmentation::ELASTIC),
    ];
    for ((line, (kind, settings)), first_seed) in lines.iter().zip(kinds).zip([1u64, 101]) {
        let cells = line.split_evenly((1, 6));
        for (k, cell) in cells.iter().enumerate() {
            let (image, caption) = if k == 0 {
                (pixels.clone(), "original".to_owned())
            } else {
                let seed = first_seed + k as u64;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let image =
                    reference::augment::augment(&pixels, rows, columns, &settings, 0.0, &mut rng);
                (image, format!("{kind}, seed {seed}"))
            };
            draw_image(cell, &image, rows, columns, &caption)?;
        }
    }
    Ok(())
}

/// A grey-scale image (values in [0, 1], ink dark on white) with a caption
/// under it.
fn draw_image(
    cell: &PixelArea<'_>,
    image: &[f32],
    rows: usize,
    columns: usize,
    caption: &str,
) -> Result<()> {
    let (w, h) = cell.dim_in_pixel();
    let scale = ((w.min(h) as i32 - 26) / rows.max(columns) as i32).max(1);
    let left = (w as i32 - columns as i32 * scale) / 2;
    for (k, &value) in image.iter().enumerate() {
        let (r, c) = ((k / columns) as i32, (k % columns) as i32);
        let v = 255 - (value.clamp(0.0, 1.0) * 255.0).round() as u8;
        let (x, y) = (left + c * scale, r * scale);
        cell.draw(&Rectangle::new(
            [(x, y), (x + scale, y + scale)],
            RGBColor(v, v, v).filled(),
        ))
        .map_err(plot_error)?;
    }
    let (text_width, _) = cell
        .estimate_text_size(caption, &(FONT, TICK_SIZE).into_text_style(cell))
        .map_err(plot_error)?;
    cell.draw(&Text::new(
        caption.to_owned(),
        ((w as i32 - text_width as i32) / 2, rows as i32 * scale + 4),
        (FONT, TICK_SIZE),
    ))
    .map_err(plot_error)?;
    Ok(())
}

/// What the curves need of a run's run.json.
#[derive(Deserialize)]
struct RunEpochs {
    epochs: Vec<EpochRecord>,
}

/// The epochs recorded in the run.json at `path`.
pub fn read_epochs(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let run: RunEpochs =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(run.epochs)
}

/// A panel of the ablation figure: its title and the two runs it sets side
/// by side (without the ingredient, then with it).
pub struct Ablation {
    pub title: String,
    pub without: (String, Vec<EpochRecord>),
    pub with: (String, Vec<EpochRecord>),
}

/// One panel per ingredient: the training and validation error (%) per
/// epoch, on a log axis, of the run with it (solid) and without it
/// (dashed). The training error is measured on the batches as trained on:
/// with dropout's units dropped, and on the distorted digits.
pub fn draw_ablations(root: &Area<'_>, panels: &[Ablation]) -> Result<()> {
    let areas = root.split_evenly((2, panels.len().div_ceil(2)));
    for (area, panel) in areas.iter().zip(panels) {
        let runs = [&panel.without.1, &panel.with.1];
        let last = runs
            .iter()
            .flat_map(|r| r.iter().map(|e| e.epoch))
            .max()
            .unwrap_or(1);
        let errors = |e: &EpochRecord| {
            [
                Some(100.0 * (1.0 - e.train_accuracy)),
                e.validation_accuracy.map(|a| 100.0 * (1.0 - a)),
            ]
        };
        let values: Vec<f32> = runs
            .iter()
            .flat_map(|r| r.iter().flat_map(errors))
            .flatten()
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values.iter().copied().fold(f32::MAX, f32::min).max(1e-3);
        let hi = values.iter().copied().fold(0.0, f32::max).max(lo * 10.0);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, AXIS_SIZE))
            .margin(10)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(50)
            .build_cartesian_2d(1..last, (lo * 0.8..hi * 1.25).log_scale())
            .map_err(plot_error)?;
        axes(&mut chart)
            .x_desc("epoch")
            .y_desc("error (%)")
            .x_labels(5)
            .y_label_formatter(&|v| format!("{v}"))
            .draw()
            .map_err(plot_error)?;
        for (set, colour) in [0usize, 1].into_iter().zip(CLASS_COLOURS) {
            let name = ["train", "val"][set];
            for (dashed, (label, run)) in [(true, &panel.without), (false, &panel.with)] {
                let points: Vec<(usize, f32)> = run
                    .iter()
                    .filter_map(|e| Some((e.epoch, errors(e)[set]?)))
                    .filter(|&(_, v)| v > 0.0)
                    .collect();
                let label = format!("{name}, {label}");
                if dashed {
                    let style = colour.mix(0.6).stroke_width(2);
                    chart
                        .draw_series(DashedLineSeries::new(points, DASH.0, DASH.1, style))
                        .map_err(plot_error)?
                        .label(label)
                        .legend(legend_dashes(style));
                } else {
                    let style = colour.stroke_width(2);
                    chart
                        .draw_series(LineSeries::new(points, style))
                        .map_err(plot_error)?
                        .label(label)
                        .legend(legend_line(style));
                }
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
    }
    Ok(())
}
