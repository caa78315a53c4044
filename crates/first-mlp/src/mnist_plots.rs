//! The plots of an MNIST run: sample digits, learning curves, the confusion
//! matrix as a heat map, and the test digits the model got wrong.

use std::path::{Path, PathBuf};

use anyhow::Result;
use mnist::{Images, Mnist};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::figures::{
    Area, CLASS_COLOURS, FONT, PixelArea, draw_legend, draw_line_with_dots, plot_error, render,
    render_png,
};
use crate::mnist_train::EpochRecord;
use crate::report::Evaluation;

/// Draws every plot into `dir` and returns the paths written.
pub fn write_all(
    dir: &Path,
    data: &Mnist,
    epochs: &[EpochRecord],
    evaluation: &Evaluation,
    predicted: &[usize],
    truth: &[usize],
) -> Result<Vec<PathBuf>> {
    let samples: Vec<(usize, String)> = (0..32.min(data.train.images.count))
        .map(|i| (i, format!("{}", data.train.labels[i])))
        .collect();
    let wrong: Vec<(usize, String)> = (0..truth.len())
        .filter(|&i| predicted[i] != truth[i])
        .take(32)
        .map(|i| (i, format!("{} not {}", predicted[i], truth[i])))
        .collect();
    let figures = [
        render_png("samples.png", (640, 400), |root| {
            draw_digits(
                root,
                &data.train.images,
                &samples,
                "Training digits and their labels",
            )
        })?,
        render("curves.svg", (900, 360), |root| draw_curves(root, epochs))?,
        render("confusion.svg", (560, 520), |root| {
            draw_confusion(root, evaluation)
        })?,
        render_png("misclassified.png", (640, 400), |root| {
            draw_digits(
                root,
                &data.test.images,
                &wrong,
                "Test digits the model got wrong: predicted not true",
            )
        })?,
    ];
    crate::figures::write_all(&figures, dir)
}

/// A grid of 4 × 8 digits, each with a caption.
fn draw_digits(
    root: &PixelArea<'_>,
    images: &Images,
    picks: &[(usize, String)],
    title: &str,
) -> Result<()> {
    let root = root.titled(title, (FONT, 18)).map_err(plot_error)?;
    let cells = root.split_evenly((4, 8));
    for (cell, (index, caption)) in cells.iter().zip(picks) {
        let (w, h) = cell.dim_in_pixel();
        let scale = ((w.min(h) as i32 - 18) / 28).max(1);
        let left = (w as i32 - 28 * scale) / 2;
        for (k, &p) in images.image(*index).iter().enumerate() {
            let (r, c) = ((k / 28) as i32, (k % 28) as i32);
            // Ink is dark on white, as digits are written.
            let v = 255 - p;
            let x = left + c * scale;
            let y = r * scale;
            cell.draw(&Rectangle::new(
                [(x, y), (x + scale, y + scale)],
                RGBColor(v, v, v).filled(),
            ))
            .map_err(plot_error)?;
        }
        cell.draw(&Text::new(
            caption.clone(),
            (left, 28 * scale + 2),
            (FONT, 12),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}

pub(crate) fn draw_curves(root: &Area<'_>, epochs: &[EpochRecord]) -> Result<()> {
    let panels = root.split_evenly((1, 2));
    let last = epochs.last().map_or(1, |e| e.epoch).max(2);
    let first = epochs.first().map_or(1, |e| e.epoch);
    type Series<'a> = (&'a str, Box<dyn Fn(&EpochRecord) -> f32>, RGBColor);
    let panels_spec: [(&str, SeriesLabelPosition, [Series; 2]); 2] = [
        (
            "loss",
            SeriesLabelPosition::UpperRight,
            [
                (
                    "train",
                    Box::new(|e: &EpochRecord| e.train_loss),
                    CLASS_COLOURS[0],
                ),
                (
                    "validation",
                    Box::new(|e: &EpochRecord| e.validation_loss),
                    CLASS_COLOURS[1],
                ),
            ],
        ),
        (
            "accuracy (%)",
            SeriesLabelPosition::LowerRight,
            [
                (
                    "train",
                    Box::new(|e: &EpochRecord| 100.0 * e.train_accuracy),
                    CLASS_COLOURS[0],
                ),
                (
                    "validation",
                    Box::new(|e: &EpochRecord| 100.0 * e.validation_accuracy),
                    CLASS_COLOURS[1],
                ),
            ],
        ),
    ];
    for (panel, (name, legend, series)) in panels.iter().zip(panels_spec) {
        let values: Vec<f32> = series
            .iter()
            .flat_map(|(_, f, _)| epochs.iter().map(f))
            .collect();
        let (lo, hi) = values
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = 0.05 * (hi - lo).max(1e-3);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} per epoch"), (FONT, 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(first..last, (lo - pad)..(hi + pad))
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc("epoch")
            .draw()
            .map_err(plot_error)?;
        for (label, f, colour) in &series {
            let points: Vec<(usize, f32)> = epochs.iter().map(|e| (e.epoch, f(e))).collect();
            draw_line_with_dots(&mut chart, points, *colour, label)?;
        }
        draw_legend(&mut chart, legend)?;
    }
    Ok(())
}

pub(crate) fn draw_confusion(root: &Area<'_>, evaluation: &Evaluation) -> Result<()> {
    draw_confusion_named(root, evaluation, &[])
}

/// The confusion matrix as a heat map; `names` label the classes (their
/// indices when empty). With more than 12 classes the counts are left out.
pub(crate) fn draw_confusion_named(
    root: &Area<'_>,
    evaluation: &Evaluation,
    names: &[&str],
) -> Result<()> {
    let classes = evaluation.confusion.len();
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Confusion matrix (test accuracy {:.2}%)",
                100.0 * evaluation.accuracy
            ),
            (FONT, 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(40)
        // Cells span c ± 0.5, so the integer ticks fall at their centres.
        .build_cartesian_2d(-0.5f32..classes as f32 - 0.5, -0.5f32..classes as f32 - 0.5)
        .map_err(plot_error)?;
    let label = |v: &f32, flip: bool| {
        let c = v.round();
        if (v - c).abs() > 1e-3 || c < 0.0 || c >= classes as f32 {
            return String::new();
        }
        let c = if flip {
            classes - 1 - c as usize
        } else {
            c as usize
        };
        names
            .get(c)
            .map_or_else(|| c.to_string(), |n| (*n).to_owned())
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted")
        .y_desc("true")
        .x_labels(classes)
        .y_labels(classes)
        .x_label_formatter(&|v| label(v, false))
        .y_label_formatter(&|v| label(v, true))
        .draw()
        .map_err(plot_error)?;
    let most = evaluation
        .confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (t, row) in evaluation.confusion.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            // Square-root shading keeps the off-diagonal mistakes visible.
            let shade = (n as f64 / most).sqrt();
            let (x, y) = (p as f32, (classes - 1 - t) as f32);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    CLASS_COLOURS[0].mix(0.05 + 0.95 * shade).filled(),
                )))
                .map_err(plot_error)?;
            if n > 0 && classes <= 12 {
                let colour = if shade > 0.5 { WHITE } else { BLACK };
                let style = (FONT, 11)
                    .into_font()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart
                    .draw_series(std::iter::once(Text::new(n.to_string(), (x, y), style)))
                    .map_err(plot_error)?;
            }
        }
    }
    Ok(())
}
