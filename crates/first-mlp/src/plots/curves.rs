//! Learning curves: loss and accuracy per epoch, training and validation,
//! and dashed beside them the same curves of a run to compare with.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{
    AXIS_SIZE, Area, CLASS_COLOURS, DASH, FONT, X_LABEL_AREA, axes, draw_legend,
    draw_line_with_dots, legend_dashes, plot_error,
};
use crate::report::EpochRecord;

/// A figure of an epoch: the training one, or the held-out one (if recorded).
type Figure = fn(&EpochRecord) -> Option<f32>;

/// A panel: its name, where its legend goes, and its training and held-out
/// figures.
type Panel = (
    &'static str,
    SeriesLabelPosition,
    [(&'static str, Figure); 2],
);

const PANELS: [Panel; 2] = [
    (
        "loss",
        SeriesLabelPosition::UpperRight,
        [
            ("train", |e| Some(e.train_loss)),
            ("{held}", |e| e.validation_loss),
        ],
    ),
    (
        "accuracy (%)",
        SeriesLabelPosition::LowerRight,
        [
            ("train", |e| Some(100.0 * e.train_accuracy)),
            ("{held}", |e| e.validation_accuracy.map(|a| 100.0 * a)),
        ],
    ),
];

/// Two panels, loss and accuracy (%) per epoch; a run without validation
/// figures shows the training series alone. With `reference` (a run of the
/// same configuration to compare with), its series are drawn dashed in the
/// same colours, and the legend tells "yours" from "reference". `held_out`
/// names the held-out set ("validation", "dev").
pub fn draw_curves(
    root: &Area<'_>,
    epochs: &[EpochRecord],
    reference: Option<&[EpochRecord]>,
    held_out: &str,
) -> Result<()> {
    let panels = root.split_evenly((1, 2));
    let all = || epochs.iter().chain(reference.into_iter().flatten());
    let last = all().map(|e| e.epoch).max().unwrap_or(1).max(2);
    let first = all().map(|e| e.epoch).min().unwrap_or(1);
    for (panel, (name, legend, series)) in panels.iter().zip(PANELS) {
        let values: Vec<f32> = series
            .iter()
            .flat_map(|(_, f)| all().filter_map(f))
            .collect();
        let (lo, hi) = values
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = 0.05 * (hi - lo).max(1e-3);
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} per epoch"), (FONT, AXIS_SIZE))
            .margin(12)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(70)
            .build_cartesian_2d(first..last, (lo - pad)..(hi + pad))
            .map_err(plot_error)?;
        axes(&mut chart)
            .x_desc("epoch")
            .y_desc(name)
            .draw()
            .map_err(plot_error)?;
        let points = |run: &[EpochRecord], f: Figure| -> Vec<(usize, f32)> {
            run.iter().filter_map(|e| Some((e.epoch, f(e)?))).collect()
        };
        for ((label, f), colour) in series.iter().zip(CLASS_COLOURS) {
            let label = label.replace("{held}", held_out);
            let mine = points(epochs, *f);
            if !mine.is_empty() {
                let label = match reference {
                    Some(_) => format!("{label}, yours"),
                    None => label.clone(),
                };
                draw_line_with_dots(&mut chart, mine, colour, &label)?;
            }
            let theirs = points(reference.unwrap_or_default(), *f);
            if !theirs.is_empty() {
                // Lighter and on top: where the runs agree, the line shows
                // both.
                let style = colour.mix(0.5).stroke_width(2);
                chart
                    .draw_series(DashedLineSeries::new(theirs, DASH.0, DASH.1, style))
                    .map_err(plot_error)?
                    .label(format!("{label}, reference"))
                    .legend(legend_dashes(style));
            }
        }
        draw_legend(&mut chart, legend)?;
    }
    Ok(())
}
