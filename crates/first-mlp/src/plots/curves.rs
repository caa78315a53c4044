//! Learning curves: loss and accuracy per epoch, training and validation.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{Area, CLASS_COLOURS, FONT, draw_legend, draw_line_with_dots, plot_error};
use crate::report::EpochRecord;

/// A series: its label, its value in an epoch (if recorded), its colour.
type Series<'a> = (&'a str, Box<dyn Fn(&EpochRecord) -> Option<f32>>, RGBColor);

/// Two panels, loss and accuracy (%) per epoch; a run without validation
/// figures shows the training series alone.
pub fn draw_curves(root: &Area<'_>, epochs: &[EpochRecord]) -> Result<()> {
    let panels = root.split_evenly((1, 2));
    let last = epochs.last().map_or(1, |e| e.epoch).max(2);
    let first = epochs.first().map_or(1, |e| e.epoch);
    let panels_spec: [(&str, SeriesLabelPosition, [Series; 2]); 2] = [
        (
            "loss",
            SeriesLabelPosition::UpperRight,
            [
                (
                    "train",
                    Box::new(|e: &EpochRecord| Some(e.train_loss)),
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
                    Box::new(|e: &EpochRecord| Some(100.0 * e.train_accuracy)),
                    CLASS_COLOURS[0],
                ),
                (
                    "validation",
                    Box::new(|e: &EpochRecord| e.validation_accuracy.map(|a| 100.0 * a)),
                    CLASS_COLOURS[1],
                ),
            ],
        ),
    ];
    for (panel, (name, legend, series)) in panels.iter().zip(panels_spec) {
        let values: Vec<f32> = series
            .iter()
            .flat_map(|(_, f, _)| epochs.iter().filter_map(f))
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
            let points: Vec<(usize, f32)> = epochs
                .iter()
                .filter_map(|e| Some((e.epoch, f(e)?)))
                .collect();
            if !points.is_empty() {
                draw_line_with_dots(&mut chart, points, *colour, label)?;
            }
        }
        draw_legend(&mut chart, legend)?;
    }
    Ok(())
}
