//! The course's figures, drawn with plotters from the reference implementation.
//!
//! Every figure is rendered in memory first (SVG text, or PNG for the
//! decision regions, which are a grid of thousands of cells): writing is then
//! all-or-nothing (a temporary file renamed into place), and a test can check
//! that the figures committed under `book/src/figures/` are not stale by
//! comparing bytes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use course_support::data::{self, Dataset};
use nalgebra::DMatrix;
use nalgebra::dmatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reference::Layer;
use reference::activations::{Maxout, softmax};
use reference::given::{Adam, Loss, Targets};
use reference::init::{Init, init_weights};
use reference::perceptron::{Perceptron, TrainingReport};
use reference::train::train_step;
use reference::{Activation, Mlp};

/// One rendered figure: its file name and its bytes (SVG or PNG).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

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

/// Every figure of the book, in a fixed order.
pub fn all() -> Result<Vec<Figure>> {
    let runs = train_stage_1_perceptrons();
    let mut figures = vec![
        render("perceptron-gates.svg", (960, 340), |root| {
            draw_gates(root, &runs[..3])
        })?,
        render("perceptron-clouds.svg", (640, 480), |root| {
            draw_boundary(root, &runs[3], (-3.0, 3.0), (-2.5, 3.0))
        })?,
        render("perceptron-mistakes.svg", (640, 400), |root| {
            draw_mistakes(root, &runs)
        })?,
    ];
    for activation in Activation::ALL {
        let name = format!("activation-{}.svg", activation.slug());
        figures.push(render(&name, (560, 360), |root| {
            draw_curve(
                root,
                &activation.to_string(),
                &|x| activation.apply(x),
                &|x| activation.derivative(x),
            )
        })?);
    }
    figures.push(render("activation-maxout.svg", (560, 360), draw_maxout)?);
    figures.push(render("activation-softmax.svg", (560, 360), draw_softmax)?);
    figures.push(render("init-spread.svg", (640, 400), draw_init_spread)?);
    let mlps = train_stage_4_mlps()?;
    figures.push(render("training-loss.svg", (640, 400), |root| {
        draw_losses(root, &mlps)
    })?);
    figures.push(render_png("training-regions.png", (960, 420), |root| {
        let panels = root.split_evenly((1, mlps.len()));
        for (panel, run) in panels.iter().zip(&mlps) {
            draw_regions(panel, run)?;
        }
        Ok(())
    })?);
    figures.extend(mnist_sample_figures()?);
    figures.push(render_png(
        "speech-frontend.png",
        (960, 640),
        draw_speech_front_end,
    )?);
    Ok(figures)
}

/// One utterance of the bundled corpus, step by step: the waveform, its
/// spectrogram, its MFCCs, and the phoneme of each stretch underneath.
fn draw_speech_front_end(root: &PixelArea<'_>) -> Result<()> {
    use speech::mfcc::{MfccConfig, mfcc, read_wav};
    let example = crate::workspace_root().join("data/speech-corpus/example");
    let config = MfccConfig::default();
    let samples = read_wav(&example.join("us1-000.wav"), config.sample_rate)?;
    let pho = fs::read_to_string(example.join("us1-000.pho"))?;
    let phones = crate::speech_corpus::parse_pho(&pho)?;
    let coefficients = mfcc(&samples, &config);
    let frames = coefficients.nrows();
    let seconds = samples.len() as f32 / config.sample_rate as f32;
    let sentence = fs::read_to_string(example.join("sentence.txt"))?;
    let root = root
        .titled(sentence.trim(), (FONT, 18))
        .map_err(plot_error)?;
    let (top, rest) = root.split_vertically(150);
    let (middle, rest) = rest.split_vertically(180);
    let (bottom, labels) = rest.split_vertically(200);

    let mut wave = ChartBuilder::on(&top)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(60)
        .caption("waveform", (FONT, 14))
        .build_cartesian_2d(0f32..seconds, -1f32..1f32)
        .map_err(plot_error)?;
    wave.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(3)
        .draw()
        .map_err(plot_error)?;
    let step = (samples.len() / 2000).max(1);
    wave.draw_series(LineSeries::new(
        samples
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, &v)| (i as f32 / config.sample_rate as f32, v)),
        CLASS_COLOURS[0],
    ))
    .map_err(plot_error)?;

    // Spectrogram: log power of each 25 ms frame, 0-8 kHz, by the same FFT.
    let mut planner = rustfft::FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(config.fft_size);
    let bins = config.fft_size / 2 + 1;
    let mut spectrogram = vec![vec![0f32; bins]; frames];
    for (f, column) in spectrogram.iter_mut().enumerate() {
        let mut buffer: Vec<rustfft::num_complex::Complex<f32>> = (0..config.fft_size)
            .map(|n| {
                let v = if n < config.frame_length {
                    samples[f * config.hop + n]
                } else {
                    0.0
                };
                let w = 0.54
                    - 0.46
                        * (2.0 * std::f32::consts::PI * n as f32
                            / (config.frame_length - 1) as f32)
                            .cos();
                rustfft::num_complex::Complex::new(v * w, 0.0)
            })
            .collect();
        fft.process(&mut buffer);
        for (k, slot) in column.iter_mut().enumerate() {
            *slot = (buffer[k].norm_sqr() + 1e-10).ln();
        }
    }
    heat_map(
        &middle,
        "spectrogram (0-8 kHz, log power)",
        &spectrogram,
        frames,
        false,
    )?;
    let rows: Vec<Vec<f32>> = (0..frames)
        .map(|f| coefficients.row(f).iter().copied().collect())
        .collect();
    heat_map(
        &bottom,
        "MFCCs (28 per 10 ms frame, each scaled to its own range)",
        &rows,
        frames,
        true,
    )?;

    // The phonemes, each written at the middle of its stretch.
    let mut t = 0.0;
    let (width, _) = labels.dim_in_pixel();
    let plot_width = width as f32 - 80.0;
    for (phone, ms) in &phones {
        let class = crate::speech_corpus::class_of(phone).unwrap_or("?");
        let centre = (t + ms / 2.0) / 1000.0 / seconds;
        t += ms;
        if class != "[SIL]" {
            let x = 70 + (centre * plot_width) as i32;
            labels
                .draw(&Text::new(class.to_owned(), (x - 6, 8), (FONT, 11)))
                .map_err(plot_error)?;
        }
    }
    Ok(())
}

/// Columns of values (one per frame) as a blue heat map; with `per_row`,
/// each row is scaled to its own range (MFCC 0, the energy, dwarfs the rest).
fn heat_map(
    area: &PixelArea<'_>,
    title: &str,
    columns: &[Vec<f32>],
    frames: usize,
    per_row: bool,
) -> Result<()> {
    let height = columns.first().map_or(1, |c| c.len());
    let range = |row: Option<usize>| {
        columns
            .iter()
            .flat_map(|c| c.iter().enumerate())
            .filter(|(k, _)| row.is_none_or(|r| r == *k))
            .fold((f32::MAX, f32::MIN), |(a, b), (_, &v)| (a.min(v), b.max(v)))
    };
    let ranges: Vec<(f32, f32)> = (0..height)
        .map(|k| range(if per_row { Some(k) } else { None }))
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(60)
        .caption(title, (FONT, 14))
        .build_cartesian_2d(0..frames, 0..height)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(2)
        .draw()
        .map_err(plot_error)?;
    let cells = columns.iter().enumerate().flat_map(|(f, column)| {
        let ranges = &ranges;
        column.iter().enumerate().map(move |(k, &v)| {
            let (lo, hi) = ranges[k];
            let level = f64::from((v - lo) / (hi - lo).max(1e-6));
            Rectangle::new(
                [(f, k), (f + 1, k + 1)],
                CLASS_COLOURS[0].mix(level).filled(),
            )
        })
    });
    chart.draw_series(cells).map_err(plot_error)?;
    Ok(())
}

/// The plots of a default training run on the bundled MNIST sample, for the
/// book: the sample's digits, the learning curves, the confusion matrix.
fn mnist_sample_figures() -> Result<Vec<Figure>> {
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: crate::mnist_train::TrainConfig,
    }
    let dir = tempfile::tempdir()?;
    let out = dir.path().display().to_string();
    let sample = mnist::sample_dir().display().to_string();
    let config = Flags::parse_from(["train", "--quiet", "--data", &sample, "--out", &out]).config;
    crate::mnist_train::run(config)?;
    ["samples.png", "curves.svg", "confusion.svg"]
        .into_iter()
        .map(|name| {
            let bytes = fs::read(dir.path().join(name))?;
            Ok(Figure {
                file_name: format!("mnist-{name}"),
                bytes,
            })
        })
        .collect()
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
                            * (0.01 / Init::KaimingNormal.scale(WIDTH, WIDTH))
                    }
                };
                layers.push(Layer::Linear(reference::layers::Linear::new(
                    weights,
                    nalgebra::DVector::zeros(WIDTH),
                )?));
                layers.push(Layer::Activation(activation));
            }
            let trace = Mlp::from_layers(layers)?.forward_trace(&input)?;
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

fn draw_init_spread(root: &Area<'_>) -> Result<()> {
    let runs = init_spread()?;
    let mut chart = ChartBuilder::on(root)
        .caption("Spread of activations, layer by layer", (FONT, 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(1usize..10, (1e-9f32..3.0).log_scale())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("layer")
        .y_desc("standard deviation")
        .y_label_formatter(&|v| format!("{v:.0e}"))
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
                let mut mlp = Mlp::new(widths, activations, init, seed)?;
                let mut adam = Adam::new(learning_rate);
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
    let output = mlp.forward(&data.input_matrix())?;
    let right = output
        .row_iter()
        .zip(&data.labels)
        .filter(|(row, label)| row.transpose().argmax().0 == **label as usize)
        .count();
    Ok(right as f32 / data.len().max(1) as f32)
}

fn draw_losses(root: &Area<'_>, runs: &[TrainedMlp]) -> Result<()> {
    let steps = runs.iter().map(|r| r.losses.len()).max().unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption("Cross-entropy per step (full-batch Adam)", (FONT, 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0..steps, (1e-4f32..3.0).log_scale())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("step")
        .y_desc("loss")
        .y_label_formatter(&|v| format!("{v:.0e}"))
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
            .legend(legend_line(colour));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// The classes an MLP predicts over the plane, shaded by confidence, with
/// the training points on top.
fn draw_regions(root: &PixelArea<'_>, run: &TrainedMlp) -> Result<()> {
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
            (FONT, 18),
        )
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
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
    let probabilities = softmax(&run.mlp.forward(&grid)?);
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
    for (class, colour) in CLASS_COLOURS.iter().enumerate() {
        let points = run
            .data
            .inputs
            .iter()
            .zip(&run.data.labels)
            .filter(|&(_, &label)| label == class as f32)
            .map(|(x, _)| Circle::new((x[0], x[1]), 4, colour.filled()));
        chart.draw_series(points).map_err(plot_error)?;
    }
    Ok(())
}

/// Writes `figures` into `dir` (created if missing). Each file is written to
/// a temporary file beside it and renamed into place, so a failure never
/// leaves a half-written figure.
pub fn write_all(figures: &[Figure], dir: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    figures
        .iter()
        .map(|figure| {
            let path = dir.join(&figure.file_name);
            write_atomically(&path, &figure.bytes)?;
            Ok(path)
        })
        .collect()
}

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// renamed into place once complete: never a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    // Readable by everyone, like any file cargo or an editor writes
    // (a temporary file starts private).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(crate) fn render(
    file_name: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<()>,
) -> Result<Figure> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root).with_context(|| format!("drawing {file_name}"))?;
        root.present().map_err(plot_error)?;
    }
    Ok(Figure {
        file_name: file_name.to_owned(),
        bytes: svg.into_bytes(),
    })
}

pub(crate) type PixelArea<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Renders a PNG figure in memory.
pub(crate) fn render_png(
    file_name: &str,
    size: (u32, u32),
    draw: impl FnOnce(&PixelArea<'_>) -> Result<()>,
) -> Result<Figure> {
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root).with_context(|| format!("drawing {file_name}"))?;
        root.present().map_err(plot_error)?;
    }
    let image = image::RgbImage::from_raw(size.0, size.1, pixels)
        .ok_or_else(|| anyhow!("{file_name}: the pixel buffer does not match {size:?}"))?;
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .with_context(|| format!("encoding {file_name} as PNG"))?;
    Ok(Figure {
        file_name: file_name.to_owned(),
        bytes,
    })
}

/// The legend of every figure: a light box in one corner.
pub(crate) fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 15))
        .draw()
        .map_err(plot_error)
}

/// A labelled line through `points` with a dot at each one.
pub(crate) fn draw_line_with_dots<'a, X, Y, CT>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    points: Vec<(X, Y)>,
    colour: RGBColor,
    label: &str,
) -> Result<()>
where
    X: Clone + 'static,
    Y: Clone + 'static,
    CT: plotters::coord::CoordTranslate<From = (X, Y)>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
        .map_err(plot_error)?
        .label(label)
        .legend(legend_line(colour));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )
        .map_err(plot_error)?;
    Ok(())
}

/// A short line in `colour`, the legend's sample of a series.
pub(crate) fn legend_line(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
}

/// A tick label with one decimal, never "-0.0".
pub(crate) fn tick(v: &f32) -> String {
    // Round first: a tick at -1e-8 would otherwise print as "-0.0"; adding
    // 0.0 turns an exact -0.0 into 0.0.
    let rounded = (v * 10.0).round() / 10.0;
    format!("{:.1}", rounded + 0.0)
}

pub(crate) fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plotters: {e}")
}

pub(crate) const FONT: &str = "sans-serif";
pub(crate) const CLASS_COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

fn draw_curve(
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
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(-4f32..4f32, (lo - pad)..(hi + pad))
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("x")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(plot_error)?;
    let blue = CLASS_COLOURS[0];
    let red = CLASS_COLOURS[1];
    chart
        .draw_series(LineSeries::new(values, blue.stroke_width(2)))
        .map_err(plot_error)?
        .label("f(x)")
        .legend(legend_line(blue));
    chart
        .draw_series(DashedLineSeries::new(slopes, 6, 4, red.stroke_width(2)))
        .map_err(plot_error)?
        .label("f′(x)")
        .legend(legend_line(red));
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Maxout over one input with three pieces, max(−x − 1, 0.5x, 2x − 2): a
/// convex, piecewise-linear curve whose slope is the winning piece's.
fn draw_maxout(root: &Area<'_>) -> Result<()> {
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
fn draw_softmax(root: &Area<'_>) -> Result<()> {
    let first = |x: f32| softmax(&dmatrix![x, 0.0])[(0, 0)];
    let jacobian_00 = |x: f32| {
        let s = softmax(&dmatrix![x, 0.0]).row(0).transpose();
        reference::activations::softmax_jacobian(&s)[(0, 0)]
    };
    draw_curve(root, "softmax(x, 0)₀ = σ(x)", &first, &jacobian_00)
}

fn draw_gates(root: &Area<'_>, runs: &[TrainedPerceptron]) -> Result<()> {
    let panels = root.split_evenly((1, runs.len()));
    for (panel, run) in panels.iter().zip(runs) {
        draw_boundary(panel, run, (-0.5, 1.5), (-0.5, 1.5))?;
    }
    Ok(())
}

/// The examples of one run over the two half-planes its perceptron predicts.
fn draw_boundary(
    root: &Area<'_>,
    run: &TrainedPerceptron,
    x_range: (f32, f32),
    y_range: (f32, f32),
) -> Result<()> {
    let accuracy = data::accuracy(
        run.perceptron
            .predict_batch(&run.data.input_matrix())
            .as_slice(),
        &run.data.labels,
    );
    let epochs = run.report.mistakes_per_epoch.len();
    let title = if run.report.converged {
        format!("{}: separated after {epochs} epochs", run.name)
    } else {
        format!(
            "{}: {:.0}% after {epochs} epochs",
            run.name,
            100.0 * accuracy
        )
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 18))
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("x1")
        .y_desc("x2")
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
    for (class, colour) in CLASS_COLOURS.iter().enumerate() {
        let points = run
            .data
            .inputs
            .iter()
            .zip(&run.data.labels)
            .filter(|&(_, &label)| label == class as f32)
            .map(|(x, _)| (x[0], x[1]));
        chart
            .draw_series(points.map(|p| Circle::new(p, 5, colour.filled())))
            .map_err(plot_error)?;
    }
    Ok(())
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

fn draw_mistakes(root: &Area<'_>, runs: &[TrainedPerceptron]) -> Result<()> {
    const EPOCHS: usize = 30;
    let most = runs
        .iter()
        .flat_map(|r| r.report.mistakes_per_epoch.iter().take(EPOCHS))
        .copied()
        .max()
        .unwrap_or(1);
    let mut chart = ChartBuilder::on(root)
        .caption("Perceptron mistakes per epoch", (FONT, 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(1usize..EPOCHS, 0usize..most + 1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc("epoch")
        .y_desc("mistakes")
        .draw()
        .map_err(plot_error)?;
    let palette = [
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        CLASS_COLOURS[1],
        CLASS_COLOURS[0],
    ];
    for (run, colour) in runs.iter().zip(palette) {
        let points: Vec<(usize, usize)> = run
            .report
            .mistakes_per_epoch
            .iter()
            .take(EPOCHS)
            .enumerate()
            .map(|(i, &m)| (i + 1, m))
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

    #[test]
    fn figures_render_to_svg_and_write_atomically() {
        let figures = all().unwrap();
        assert_eq!(figures.len(), 3 + Activation::ALL.len() + 2 + 3 + 3 + 1);
        assert!(
            figures
                .iter()
                .all(|f| f.bytes.starts_with(b"<svg") || f.bytes.starts_with(b"\x89PNG"))
        );
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(&figures[..1], dir.path()).unwrap();
        assert_eq!(fs::read(&written[0]).unwrap(), figures[0].bytes);
        // Only the figure is left behind: no temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
