//! The book's figures, drawn from the reference implementation: every one
//! rendered in memory, so a test can check that the figures committed under
//! `book/src/figures/` are what the code draws today.

mod activations;
mod mlps;
mod perceptrons;
mod regularisation;
mod speech;
mod speech_augmentation;

use std::fs;
use std::path::Path;

use anyhow::Result;
use course_support::activation::Activation;

use crate::mnist_pipeline::TrainConfig;
use crate::plots::{self, Figure, TITLE_SIZE, render, render_png};

pub use activations::init_spread;
pub use mlps::{TrainedMlp, class_accuracy, train_stage_4_mlps};
pub use perceptrons::{CLOUD_SEED, TrainedPerceptron, train_stage_1_perceptrons};

/// Every figure of the book, in a fixed order.
pub fn all() -> Result<Vec<Figure>> {
    let runs = train_stage_1_perceptrons();
    let mut figures = vec![
        render("perceptron-gates.svg", (750, 280), |root| {
            perceptrons::draw_gates(root, &runs[..3])
        })?,
        render("perceptron-clouds.svg", (640, 480), |root| {
            perceptrons::draw_boundary(root, &runs[3], (-3.0, 3.0), (-2.5, 3.0), 7, TITLE_SIZE)
        })?,
        render("perceptron-mistakes.svg", (640, 400), |root| {
            perceptrons::draw_mistakes(root, &runs)
        })?,
    ];
    for activation in Activation::ALL {
        let name = format!("activation-{}.svg", activation.slug());
        figures.push(render(&name, (560, 360), |root| {
            activations::draw_curve(
                root,
                &activation.to_string(),
                &|x| reference::activations::apply(activation, x),
                &|x| reference::activations::derivative(activation, x),
            )
        })?);
    }
    figures.push(render(
        "activation-maxout.svg",
        (560, 360),
        activations::draw_maxout,
    )?);
    figures.push(render(
        "activation-softmax.svg",
        (560, 360),
        activations::draw_softmax,
    )?);
    figures.push(render(
        "init-spread.svg",
        (640, 400),
        activations::draw_init_spread,
    )?);
    let mlps = train_stage_4_mlps()?;
    figures.push(render("training-loss.svg", (640, 400), |root| {
        mlps::draw_losses(root, &mlps)
    })?);
    figures.push(render_png("training-regions.png", (750, 380), |root| {
        let panels = root.split_evenly((1, mlps.len()));
        for (panel, run) in panels.iter().zip(&mlps) {
            mlps::draw_regions(panel, run)?;
        }
        Ok(())
    })?);
    figures.extend(mnist_sample_figures()?);
    figures.push(render_png(
        "speech-frontend.png",
        (750, 590),
        speech::draw_speech_front_end,
    )?);
    figures.push(render_png(
        "speech-augmentation.png",
        (750, 820),
        speech_augmentation::draw_augmentation,
    )?);
    figures.push(render_png(
        "stage7-distortions.png",
        (750, 300),
        regularisation::draw_distortions,
    )?);
    let ablations = stage_7_ablations()?;
    figures.push(render("stage7-ablations.svg", (750, 700), |root| {
        regularisation::draw_ablations(root, &ablations)
    })?);
    Ok(figures)
}

/// Stage 7's ablations: the records of runs on the full MNIST committed
/// beside the chapter, each ingredient against the same network without it.
fn stage_7_ablations() -> Result<Vec<regularisation::Ablation>> {
    let runs = crate::workspace_root().join("book/src/stage-7/runs");
    let read = |name: &str| regularisation::read_epochs(&runs.join(format!("{name}.json")));
    let base = read("base")?;
    [
        ("dropout 0.2", "dropout", "+dropout"),
        ("batch normalisation", "batch-norm", "+batch norm"),
        ("affine distortions", "affine", "+affine"),
        ("affine and elastic", "elastic", "+elastic"),
    ]
    .into_iter()
    .map(|(title, file, label)| {
        Ok(regularisation::Ablation {
            title: title.to_owned(),
            without: ("base".to_owned(), base.clone()),
            with: (label.to_owned(), read(file)?),
        })
    })
    .collect()
}

/// Draws every figure into `dir` and lists what it wrote.
pub fn write(dir: &Path) -> Result<()> {
    let paths = plots::write_all(&all()?, dir)?;
    println!("\nWrote {} figures to {}:", paths.len(), dir.display());
    for path in paths {
        println!("  {}", path.display());
    }
    Ok(())
}

/// Begins the note that a figure from a training run ends with: which kind
/// of processor trained it.
pub const TRAINED_ON: &str = "<!-- trained on ";

/// The kind of processor `svg` says it was trained on, if it says so in a
/// whole note naming a kind the engine knows (an edited note names none).
pub fn trained_on(svg: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(svg).ok()?;
    let start = text.rfind(TRAINED_ON)? + TRAINED_ON.len();
    let (kind, _) = text[start..].split_once(" -->")?;
    (engine::PROCESSOR_KINDS.contains(&kind) || kind == engine::processor_kind()).then_some(kind)
}

/// The plots of a default training run on the bundled MNIST sample, for the
/// book: the sample's digits, the learning curves, the confusion matrix.
/// The plots of the run end with a note of the processor kind that trained
/// them: on another kind, the run drifts and they differ by a few points.
fn mnist_sample_figures() -> Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    crate::mnist_pipeline::run(TrainConfig {
        data: Some(mnist::sample_dir()),
        out: dir.path().to_owned(),
        quiet: true,
        ..TrainConfig::default()
    })?;
    ["samples.png", "curves.svg", "confusion.svg"]
        .into_iter()
        .map(|name| {
            let mut bytes = fs::read(dir.path().join(name))?;
            if name.ends_with(".svg") {
                let note = format!("{TRAINED_ON}{} -->\n", engine::processor_kind());
                bytes.extend(note.as_bytes());
            }
            Ok(Figure {
                file_name: format!("mnist-{name}"),
                bytes,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_says_which_processor_trained_it() {
        let svg = b"<svg></svg>\n<!-- trained on x86-64 with AVX-512 -->\n";
        assert_eq!(trained_on(svg), Some("x86-64 with AVX-512"));
        assert_eq!(trained_on(b"<svg><!-- a comment --></svg>"), None);
        assert_eq!(trained_on(b"<svg></svg><!-- trained on x86-64 with"), None);
        assert_eq!(
            trained_on(b"<svg></svg><!-- trained on my laptop -->"),
            None
        );
    }

    #[test]
    fn figures_render_to_svg_and_write_atomically() {
        let figures = all().unwrap();
        assert_eq!(figures.len(), 3 + Activation::ALL.len() + 2 + 3 + 3 + 2 + 2);
        assert!(
            figures
                .iter()
                .all(|f| f.bytes.starts_with(b"<svg") || f.bytes.starts_with(b"\x89PNG"))
        );
        // The book scales a figure wider than its 750 px column down, text
        // and all: each fits, so the text sizes in `plots` are what a reader
        // sees.
        for figure in &figures {
            let width = width(figure);
            assert!(width <= 750, "{} is {width} px wide", figure.file_name);
        }
        let dir = tempfile::tempdir().unwrap();
        let written = plots::write_all(&figures[..1], dir.path()).unwrap();
        assert_eq!(fs::read(&written[0]).unwrap(), figures[0].bytes);
        // Only the figure is left behind: no temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A figure's width in pixels.
    fn width(figure: &Figure) -> u32 {
        if figure.bytes.starts_with(b"<svg") {
            let svg = String::from_utf8_lossy(&figure.bytes);
            let after = svg.split_once("width=\"").expect("an SVG width").1;
            after[..after.find('"').unwrap()].parse().unwrap()
        } else {
            image::load_from_memory(&figure.bytes).unwrap().width()
        }
    }
}
