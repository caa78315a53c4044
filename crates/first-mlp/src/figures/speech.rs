//! Stage 6's figure: the speech front end on one utterance of the bundled
//! corpus.

use std::fs;

use anyhow::Result;
use plotters::prelude::*;
use speech::mfcc::{MfccConfig, mfcc, read_wav};

use crate::plots::{CLASS_COLOURS, FONT, PixelArea, plot_error};

/// One utterance of the bundled corpus, step by step: the waveform, its
/// spectrogram, its MFCCs, and the phoneme of each stretch underneath.
pub(super) fn draw_speech_front_end(root: &PixelArea<'_>) -> Result<()> {
    let example = crate::files::workspace_root().join("data/speech-corpus/example");
    let config = MfccConfig::default();
    let samples = read_wav(&example.join("us1-000.wav"), config.sample_rate)?;
    let pho = fs::read_to_string(example.join("us1-000.pho"))?;
    let phones = crate::speech_corpus::parse_pho(&pho)?;
    let filters = reference::features::mel_filter_bank(
        config.mel_filters,
        config.fft_size,
        config.sample_rate as f32,
    )?;
    let coefficients = mfcc(&samples, &config, &filters)?;
    let frames = coefficients.nrows();
    let sentence = fs::read_to_string(example.join("sentence.txt"))?;
    let root = root
        .titled(sentence.trim(), (FONT, 18))
        .map_err(plot_error)?;
    let (top, rest) = root.split_vertically(150);
    let (middle, rest) = rest.split_vertically(180);
    let (bottom, labels) = rest.split_vertically(200);

    draw_waveform(&top, &samples, config.sample_rate)?;
    heat_map(
        &middle,
        "spectrogram (0-8 kHz, log power)",
        &spectrogram(&samples, &config, frames),
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
    let seconds = samples.len() as f32 / config.sample_rate as f32;
    draw_phonemes(&labels, &phones, seconds)
}

/// The samples as a line, thinned to about 2000 points.
fn draw_waveform(area: &PixelArea<'_>, samples: &[f32], sample_rate: u32) -> Result<()> {
    let seconds = samples.len() as f32 / sample_rate as f32;
    let mut wave = ChartBuilder::on(area)
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
            .map(|(i, &v)| (i as f32 / sample_rate as f32, v)),
        CLASS_COLOURS[0],
    ))
    .map_err(plot_error)?;
    Ok(())
}

/// The log power of each of `frames` 25 ms frames, 0-8 kHz, by the same
/// framing, window and FFT as the MFCC front end.
fn spectrogram(samples: &[f32], config: &MfccConfig, frames: usize) -> Vec<Vec<f32>> {
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
    spectrogram
}

/// The phonemes (`(phone, milliseconds)` in order), each written at the
/// middle of its stretch of an utterance of `seconds`; silences left blank.
fn draw_phonemes(area: &PixelArea<'_>, phones: &[(String, f32)], seconds: f32) -> Result<()> {
    let mut t = 0.0;
    let (width, _) = area.dim_in_pixel();
    let plot_width = width as f32 - 80.0;
    for (phone, ms) in phones {
        let class = crate::speech_corpus::class_of(phone).unwrap_or("?");
        let centre = (t + ms / 2.0) / 1000.0 / seconds;
        t += ms;
        if class != "[SIL]" {
            let x = 70 + (centre * plot_width) as i32;
            area.draw(&Text::new(class.to_owned(), (x - 6, 8), (FONT, 11)))
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
