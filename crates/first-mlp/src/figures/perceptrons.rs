//! Stage 1's figures: perceptrons trained on the logic gates and on two
//! point clouds, their decision boundaries and their mistakes per epoch.

use anyhow::Result;
use course_support::data::{self, Dataset};
use plotters::prelude::*;
use reference::perceptron::{Perceptron, TrainingReport};

use crate::plots::{
    AXIS_SIZE, Area, CLASS_COLOURS, FONT, TITLE_SIZE, X_LABEL_AREA, axes, draw_classes,
    draw_legend, draw_line_with_dots, plot_error, tick,
};

/// A perceptron trained for the figures, with what its training did.
pub struct TrainedPerceptron {
    pub name: &'static str,
    pub data: Dataset,
    pub perceptron: Perceptron,
    pub report: TrainingReport,
}

/// The stage-1 runs the figures show: AND, OR and XOR (η = 1, at most 100
/// epochs) and 2 × 100 seeded separable points (η = 0.1, at most 1000 epochs),
/// each from zero weights.
pub fn train_stage_1_perceptrons() -> Vec<TrainedPerceptron> {
    let runs = [
        ("AND", data::and_gate(), 1.0, 100),
        ("OR", data::or_gate(), 1.0, 100),
        ("XOR", data::xor_gate(), 1.0, 100),
        (
            "point clouds",
            data::separable_clouds(100, 0.1, CLOUD_SEED),
            0.1,
            1000,
        ),
    ];
    runs.into_iter()
        .map(|(name, data, learning_rate, max_epochs)| {
            let mut perceptron = Perceptron::zeros(2);
            let report = perceptron.train(&data, learning_rate, max_epochs);
            TrainedPerceptron {
                name,
                data,
                perceptron,
                report,
            }
        })
        .collect()
}

/// The seed of the point clouds in the stage-1 figures.
pub const CLOUD_SEED: u64 = 1;

pub(super) fn draw_gates(root: &Area<'_>, runs: &[TrainedPerceptron]) -> Result<()> {
    let panels = root.split_evenly((1, runs.len()));
    for (panel, run) in panels.iter().zip(runs) {
        // Ticks every 0.5, none at the edges: narrow panels have no room
        // for more.
        draw_boundary(panel, run, (-0.4, 1.4), (-0.4, 1.4), 5, AXIS_SIZE)?;
    }
    Ok(())
}

/// The examples of one run over the two half-planes its perceptron predicts,
/// with about `ticks` ticks per axis and the title at `title_size`.
pub(super) fn draw_boundary(
    root: &Area<'_>,
    run: &TrainedPerceptron,
    x_range: (f32, f32),
    y_range: (f32, f32),
    ticks: usize,
    title_size: i32,
) -> Result<()> {
    let accuracy = data::accuracy(
        run.perceptron
            .predict_batch(&run.data.input_matrix())
            .as_slice(),
        &run.data.labels,
    );
    let epochs = run.report.mistakes_per_epoch.len();
    let title = if run.report.converged {
        format!("{}: separated in {epochs} epochs", run.name)
    } else {
        format!(
            "{}: {:.0}% after {epochs} epochs",
            run.name,
            100.0 * accuracy
        )
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, title_size))
        .margin(8)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("x1")
        .y_desc("x2")
        .x_labels(ticks)
        .y_labels(ticks)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error)?;

    let (w, b) = (&run.perceptron.weights, run.perceptron.bias);
    let corners = [
        (x_range.0, y_range.0),
        (x_range.1, y_range.0),
        (x_range.1, y_range.1),
        (x_range.0, y_range.1),
    ];
    for (class, colour) in CLASS_COLOURS.iter().enumerate() {
        let region = half_plane(&corners, |(x, y)| w[0] * x + w[1] * y + b, class == 1);
        if region.len() >= 3 {
            chart
                .draw_series(std::iter::once(Polygon::new(region, colour.mix(0.15))))
                .map_err(plot_error)?;
        }
    }
    draw_classes(&mut chart, &run.data, 5)
}

/// Clips the convex polygon `corners` to the side of the line z(p) = 0 where
/// z ≥ 0 (`positive`) or z < 0: the region the perceptron labels 1 or 0.
fn half_plane(
    corners: &[(f32, f32)],
    z: impl Fn((f32, f32)) -> f32,
    positive: bool,
) -> Vec<(f32, f32)> {
    let inside = |p| (z(p) >= 0.0) == positive;
    let mut out = Vec::new();
    for (i, &p) in corners.iter().enumerate() {
        let q = corners[(i + 1) % corners.len()];
        if inside(p) {
            out.push(p);
        }
        if inside(p) != inside(q) {
            let t = z(p) / (z(p) - z(q));
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

pub(super) fn draw_mistakes(root: &Area<'_>, runs: &[TrainedPerceptron]) -> Result<()> {
    const EPOCHS: usize = 30;
    let most = runs
        .iter()
        .flat_map(|r| r.report.mistakes_per_epoch.iter().take(EPOCHS))
        .copied()
        .max()
        .unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption("Perceptron mistakes per epoch", (FONT, TITLE_SIZE))
        .margin(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(50)
        // Headroom above the highest line for the legend, and half a unit
        // below 0 and before epoch 1, so the dots there sit clear of the axes.
        .build_cartesian_2d(0.5f32..EPOCHS as f32 + 0.5, -0.5f32..(most + 3) as f32)
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("epoch")
        .y_desc("mistakes")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_error)?;
    let palette = [
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        CLASS_COLOURS[1],
        CLASS_COLOURS[0],
    ];
    for (run, colour) in runs.iter().zip(palette) {
        let points: Vec<(f32, f32)> = run
            .report
            .mistakes_per_epoch
            .iter()
            .take(EPOCHS)
            .enumerate()
            .map(|(i, &m)| ((i + 1) as f32, m as f32))
            .collect();
        draw_line_with_dots(&mut chart, points, colour, run.name)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_plane_splits_the_square_along_the_line() {
        let square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
        // x − 0.5 ≥ 0 is the right half.
        let right = half_plane(&square, |(x, _)| x - 0.5, true);
        assert_eq!(right, vec![(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]);
        let left = half_plane(&square, |(x, _)| x - 0.5, false);
        assert_eq!(left, vec![(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]);
        // A line that misses the square leaves one side empty.
        assert!(half_plane(&square, |(x, _)| x + 5.0, false).is_empty());
    }
}
