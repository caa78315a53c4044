//! The activation functions' figures: each function with its derivative,
//! maxout and softmax, and how the initialisation's scale carries the
//! signal through ten layers.

use anyhow::Result;
use course_support::activation::Activation;
use course_support::network::{Init, Layer, Linear, Mlp};
use nalgebra::dmatrix;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reference::activations::{Maxout, softmax};
use reference::init::{init_scale, init_weights};

use crate::plots::{
    Area, CLASS_COLOURS, DASH, FONT, TITLE_SIZE, X_LABEL_AREA, axes, draw_legend,
    draw_line_with_dots, legend_dashes, legend_line, plot_error, power_of_ten, tick,
};

/// An activation function (or any function of one variable) and its
/// derivative over [−4, 4].
pub(super) fn draw_curve(
    root: &Area<'_>,
    title: &str,
    function: &dyn Fn(f32) -> f32,
    derivative: &dyn Fn(f32) -> f32,
) -> Result<()> {
    let xs: Vec<f32> = (0..=400).map(|i| -4.0 + 8.0 * i as f32 / 400.0).collect();
    let values: Vec<(f32, f32)> = xs.iter().map(|&x| (x, function(x))).collect();
    let slopes: Vec<(f32, f32)> = xs.iter().map(|&x| (x, derivative(x))).collect();
    let (lo, hi) = values
        .iter()
        .chain(&slopes)
        .fold((f32::MAX, f32::MIN), |(lo, hi), &(_, y)| {
            (lo.min(y), hi.max(y))
        });
    let pad = 0.08 * (hi - lo).max(1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, TITLE_SIZE))
        .margin(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(60)
        .build_cartesian_2d(-4f32..4f32, (lo - pad)..(hi + pad))
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("x")
        .y_desc("f(x), f′(x)")
        .y_labels(6)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error)?;
    let blue = CLASS_COLOURS[0].stroke_width(2);
    let red = CLASS_COLOURS[1].stroke_width(2);
    chart
        .draw_series(LineSeries::new(values, blue))
        .map_err(plot_error)?
        .label("f(x)")
        .legend(legend_line(blue));
    chart
        .draw_series(DashedLineSeries::new(slopes, DASH.0, DASH.1, red))
        .map_err(plot_error)?
        .label("f′(x)")
        .legend(legend_dashes(red));
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Maxout over one input with three pieces, max(−x − 1, 0.5x, 2x − 2): a
/// convex, piecewise-linear curve whose slope is the winning piece's.
pub(super) fn draw_maxout(root: &Area<'_>) -> Result<()> {
    let unit = Maxout {
        weights: dmatrix![-1.0; 0.5; 2.0],
        biases: nalgebra::dvector![-1.0, 0.0, -2.0],
    };
    let at = |x: f32| nalgebra::dvector![x];
    draw_curve(
        root,
        "maxout: max(−x − 1, 0.5x, 2x − 2)",
        &|x| unit.forward(&at(x)),
        &|x| unit.input_gradient(&at(x))[0],
    )
}

/// The first output of softmax over the logits (x, 0), which is exactly σ(x).
pub(super) fn draw_softmax(root: &Area<'_>) -> Result<()> {
    let first = |x: f32| softmax(&dmatrix![x, 0.0])[(0, 0)];
    let jacobian_00 = |x: f32| {
        let s = softmax(&dmatrix![x, 0.0]).row(0).transpose();
        reference::activations::softmax_jacobian(&s)[(0, 0)]
    };
    draw_curve(root, "softmax(x, 0)₀ = σ(x)", &first, &jacobian_00)
}

/// The spread (standard deviation) of the activations after each of ten
/// 256-wide layers, for 512 standard-normal inputs, under several
/// initialisations: the right scale keeps the signal alive through depth.
pub fn init_spread() -> Result<Vec<(String, Vec<f32>)>> {
    const WIDTH: usize = 256;
    const DEPTH: usize = 10;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let input =
        init_weights(Init::KaimingNormal, 512, WIDTH, &mut rng) * (WIDTH as f32 / 2.0).sqrt();
    let schemes: [(&str, Activation, Option<Init>); 4] = [
        ("ReLU, Kaiming", Activation::Relu, Some(Init::KaimingNormal)),
        ("ReLU, Xavier", Activation::Relu, Some(Init::XavierNormal)),
        ("tanh, Xavier", Activation::Tanh, Some(Init::XavierNormal)),
        ("tanh, N(0, 0.01²)", Activation::Tanh, None),
    ];
    schemes
        .into_iter()
        .map(|(name, activation, init)| {
            let mut layers = Vec::new();
            for _ in 0..DEPTH {
                let weights = match init {
                    Some(init) => init_weights(init, WIDTH, WIDTH, &mut rng),
                    None => {
                        init_weights(Init::KaimingNormal, WIDTH, WIDTH, &mut rng)
                            * (0.01 / init_scale(Init::KaimingNormal, WIDTH, WIDTH))
                    }
                };
                layers.push(Layer::Linear(Linear::new(
                    weights,
                    nalgebra::DVector::zeros(WIDTH),
                )?));
                layers.push(Layer::Activation(activation));
            }
            let trace = reference::mlp::forward_trace(&Mlp::from_layers(layers)?, &input)?;
            // After every activation: trace[2], trace[4], …
            let spread = trace
                .iter()
                .skip(2)
                .step_by(2)
                .map(|a| {
                    let mean = a.mean();
                    (a.map(|v| (v - mean).powi(2)).mean()).sqrt()
                })
                .collect();
            Ok((name.to_owned(), spread))
        })
        .collect()
}

/// The spread of `init_spread` per layer, on a log scale.
pub(super) fn draw_init_spread(root: &Area<'_>) -> Result<()> {
    let runs = init_spread()?;
    let mut chart = ChartBuilder::on(root)
        .caption("Spread of activations, layer by layer", (FONT, TITLE_SIZE))
        .margin(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(70)
        .build_cartesian_2d(1usize..10, (1e-9f32..3.0).log_scale())
        .map_err(plot_error)?;
    axes(&mut chart)
        .x_desc("layer")
        .y_desc("standard deviation")
        .y_label_formatter(&power_of_ten)
        .draw()
        .map_err(plot_error)?;
    let palette = [
        CLASS_COLOURS[0],
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        CLASS_COLOURS[1],
    ];
    for ((name, spread), colour) in runs.iter().zip(palette) {
        let points: Vec<(usize, f32)> = spread
            .iter()
            .enumerate()
            .map(|(i, &s)| (i + 1, s.max(1e-9)))
            .collect();
        draw_line_with_dots(&mut chart, points, colour, name)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)
}
