//! Stage 4's figures: small MLPs trained by backpropagation on XOR and two
//! moons, their loss per step and the regions they predict.

use anyhow::Result;
use course_support::activation::Activation;
use course_support::data::{self, Dataset};
use course_support::gradients::{Loss, Targets};
use course_support::network::{Init, Mlp};
use course_support::optim::{Adam, Optimizer};
use nalgebra::DMatrix;
use plotters::prelude::*;
use reference::activations::softmax;
use reference::train::train_step;

use crate::plots::{
    AXIS_SIZE, Area, CLASS_COLOURS, FONT, PixelArea, TITLE_SIZE, X_LABEL_AREA, axes, draw_classes,
    draw_legend, legend_line, plot_error, power_of_ten, tick,
};

/// An MLP trained for the figures, with its loss after every step.
pub struct TrainedMlp {
    pub name: &'static str,
    pub data: Dataset,
    pub mlp: Mlp,
    pub losses: Vec<f32>,
    pub accuracy: f32,
}

/// The stage-4 runs the figures show, full-batch Adam on cross-entropy from
/// seeded initial weights: XOR with 2 → 4 tanh → 2 (η 0.05, 300 steps), and
/// 2 × 100 noisy moons with 2 → 16 ReLU → 16 ReLU → 2 (η 0.02, 400 steps).
/// The stage-4 tests train exactly these.
pub fn train_stage_4_mlps() -> Result<Vec<TrainedMlp>> {
    let runs = [
        (
            "XOR",
            data::xor_gate(),
            &[2, 4, 2][..],
            &[Activation::Tanh, Activation::Identity][..],
            Init::XavierUniform,
            1,
            0.05,
            300,
        ),
        (
            "two moons",
            data::two_moons(100, 0.1, 5),
            &[2, 16, 16, 2][..],
            &[Activation::Relu, Activation::Relu, Activation::Identity][..],
            Init::KaimingUniform,
            2,
            0.02,
            400,
        ),
    ];
    runs.into_iter()
        .map(
            |(name, data, widths, activations, init, seed, learning_rate, steps)| {
                let mut mlp = Mlp::new(
                    widths,
                    activations,
                    init,
                    seed,
                    reference::init::init_weights,
                )?;
                let mut adam = Optimizer::from(Adam::new(learning_rate));
                let input = data.input_matrix();
                let targets = Targets::Classes(data.labels.iter().map(|&y| y as usize).collect());
                let losses = (0..steps)
                    .map(|_| {
                        train_step(&mut mlp, &mut adam, &input, &targets, Loss::CrossEntropy)
                            .map(|step| step.loss)
                    })
                    .collect::<Result<Vec<f32>, _>>()?;
                let accuracy = class_accuracy(&mlp, &data)?;
                Ok(TrainedMlp {
                    name,
                    data,
                    mlp,
                    losses,
                    accuracy,
                })
            },
        )
        .collect()
}

/// The fraction of `data` whose label is the MLP's largest output.
pub fn class_accuracy(mlp: &Mlp, data: &Dataset) -> Result<f32> {
    let output = reference::mlp::forward(mlp, &data.input_matrix())?;
    let right = output
        .row_iter()
        .zip(&data.labels)
        .filter(|(row, label)| row.transpose().argmax().0 == **label as usize)
        .count();
    Ok(right as f32 / data.len().max(1) as f32)
}

/// The loss of every run per step, on a log scale.
pub(super) fn draw_losses(root: &Area<'_>, runs: &[TrainedMlp]) -> Result<()> {
    let steps = runs.iter().map(|r| r.losses.len()).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Cross-entropy per step (full-batch Adam)",
            (FONT, TITLE_SIZE),
        )
        .margin(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(70)
        .build_cartesian_2d(0..steps, (1e-4f32..3.0).log_scale())
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("step")
        .y_desc("loss")
        .y_label_formatter(&power_of_ten)
        .draw()
        .map_err(plot_error)?;
    for (run, colour) in runs.iter().zip([CLASS_COLOURS[1], CLASS_COLOURS[0]]) {
        let points = run
            .losses
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, l.max(1e-4)));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("{} ({:.0}% right)", run.name, 100.0 * run.accuracy))
            .legend(legend_line(colour.stroke_width(2)));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The classes an MLP predicts over the plane, shaded by confidence, with
/// the training points on top.
pub(super) fn draw_regions(root: &PixelArea<'_>, run: &TrainedMlp) -> Result<()> {
    let xs: Vec<f32> = run.data.inputs.iter().map(|p| p[0]).collect();
    let ys: Vec<f32> = run.data.inputs.iter().map(|p| p[1]).collect();
    let range = |v: &[f32]| {
        let (lo, hi) = v
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let pad = 0.25 * (hi - lo).max(0.5);
        (lo - pad, hi + pad)
    };
    let ((x0, x1), (y0, y1)) = (range(&xs), range(&ys));
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: {:.0}% right", run.name, 100.0 * run.accuracy),
            (FONT, AXIS_SIZE),
        )
        .margin(8)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("x1")
        .y_desc("x2")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error)?;

    // One batch through the network for every cell of a 150 × 120 grid.
    let (columns, rows) = (150, 120);
    let (dx, dy) = ((x1 - x0) / columns as f32, (y1 - y0) / rows as f32);
    let grid = DMatrix::from_fn(columns * rows, 2, |i, j| {
        if j == 0 {
            x0 + (i % columns) as f32 * dx + dx / 2.0
        } else {
            y0 + (i / columns) as f32 * dy + dy / 2.0
        }
    });
    let probabilities = softmax(&reference::mlp::forward(&run.mlp, &grid)?);
    let cells = (0..columns * rows).map(|i| {
        let p1 = probabilities[(i, 1)];
        let (colour, confidence) = if p1 >= 0.5 {
            (CLASS_COLOURS[1], p1)
        } else {
            (CLASS_COLOURS[0], 1.0 - p1)
        };
        let (x, y) = (grid[(i, 0)] - dx / 2.0, grid[(i, 1)] - dy / 2.0);
        let shade = 0.08 + 0.3 * f64::from(2.0 * confidence - 1.0);
        Rectangle::new([(x, y), (x + dx, y + dy)], colour.mix(shade).filled())
    });
    chart.draw_series(cells).map_err(plot_error)?;
    draw_classes(&mut chart, &run.data, 4)?;
    Ok(())
}
