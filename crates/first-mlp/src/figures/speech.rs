//! Stage 6's figure: the speech front end on one utterance of the bundled
//! corpus.

use std::fs;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use speech::mfcc::{MfccConfig, mfcc, read_wav};

use crate::plots::{
    AXIS_SIZE, CLASS_COLOURS, FONT, PixelArea, TICK_SIZE, TITLE_SIZE, X_LABEL_AREA, axes,
    plot_error, tick,
};

/// The width of every panel's y-axis area, the same in all so that their
/// time axes line up.
const Y_LABEL_AREA: u32 = 70;

/// One utterance of the bundled corpus, step by step: the waveform, its
/// spectrogram, its MFCCs, and the phoneme of each stretch underneath, all
/// on one time axis.
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
    let rate = config.sample_rate as f32;
    // The recording ends in digital silence, whose spectrum and MFCCs are
    // constant: show the utterance up to a tenth of a second after its last
    // spoken phone.
    let spoken_ms: f32 = phones.iter().map(|(_, ms)| ms).sum::<f32>()
        - phones
            .iter()
            .rev()
            .take_while(|(phone, _)| crate::speech_corpus::class_of(phone) == Some("[SIL]"))
            .map(|(_, ms)| ms)
            .sum::<f32>();
    let shown = ((spoken_ms / 1000.0 + 0.1) * rate) as usize;
    let samples = &samples[..shown.min(samples.len())];
    let frames = coefficients
        .nrows()
        .min(samples.len().saturating_sub(config.frame_length) / config.hop + 1);
    let sentence = fs::read_to_string(example.join("sentence.txt"))?;
    let root = root
        .titled(sentence.trim(), (FONT, TITLE_SIZE))
        .map_err(plot_error)?;
    let (top, rest) = root.split_vertically(130);
    let (middle, rest) = rest.split_vertically(160);
    let (bottom, labels) = rest.split_vertically(170);

    let timing = Timing {
        seconds: samples.len() as f32 / rate,
        hop: config.hop as f32 / rate,
        // A frame's cell is centred on the middle of its window.
        start: (config.frame_length - config.hop) as f32 / 2.0 / rate,
    };
    draw_waveform(&top, samples, rate, timing.seconds)?;
    heat_map(
        &middle,
        ("spectrogram (log power)", "kHz"),
        &spectrogram(samples, &config, frames),
        rate / config.fft_size as f32 / 1000.0,
        &timing,
        false,
    )?;
    let rows: Vec<Vec<f32>> = (0..frames)
        .map(|f| coefficients.row(f).iter().copied().collect())
        .collect();
    heat_map(
        &bottom,
        ("MFCCs (each row scaled to its own range)", "coefficient"),
        &rows,
        1.0,
        &timing,
        true,
    )?;
    draw_phonemes(&labels, &phones, timing.seconds)
}

/// Where the frames sit in time: frame f covers `start + f * hop` to
/// `start + (f + 1) * hop` seconds of an utterance of `seconds`.
pub(super) struct Timing {
    pub(super) seconds: f32,
    pub(super) hop: f32,
    pub(super) start: f32,
}

/// The samples as a line, thinned to about 2000 points.
fn draw_waveform(area: &PixelArea<'_>, samples: &[f32], rate: f32, seconds: f32) -> Result<()> {
    let mut wave = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(Y_LABEL_AREA)
        .caption("waveform", (FONT, AXIS_SIZE))
        .build_cartesian_2d(0f32..seconds, -1f32..1f32)
        .map_err(plot_error)?;
    axes(&mut wave)
        .disable_mesh()
        .disable_x_axis()
        .y_labels(3)
        .y_label_formatter(&tick)
        .y_desc("amplitude")
        .draw()
        .map_err(plot_error)?;
    let step = (samples.len() / 2000).max(1);
    wave.draw_series(LineSeries::new(
        samples
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, &v)| (i as f32 / rate, v)),
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
/// middle of its stretch of an utterance of `seconds`, silences left blank,
/// over the time axis. A label that would touch the one before it goes on
/// the next line down.
fn draw_phonemes(area: &PixelArea<'_>, phones: &[(String, f32)], seconds: f32) -> Result<()> {
    const LINES: usize = 2;
    let mut chart = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(10)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(0f32..seconds, 0f32..LINES as f32)
        .map_err(plot_error)?;
    axes(&mut chart)
        .disable_mesh()
        .disable_y_axis()
        .x_label_formatter(&tick)
        .x_desc("time (s)")
        .y_desc("phoneme")
        .draw()
        .map_err(plot_error)?;
    let style = (FONT, TICK_SIZE)
        .into_font()
        .into_text_style(area)
        .pos(Pos::new(HPos::Center, VPos::Center));
    // A light line at each boundary between phones, so that each label's
    // stretch shows.
    let mut boundary = 0.0;
    for (_, ms) in phones {
        boundary += ms / 1000.0;
        if boundary < seconds {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(boundary, 0.0), (boundary, LINES as f32)],
                    BLACK.mix(0.25),
                )))
                .map_err(plot_error)?;
        }
    }
    // Where each line's last label ends, in pixels.
    let mut ends = [i32::MIN; LINES];
    let mut t = 0.0;
    for (phone, ms) in phones {
        let class = crate::speech_corpus::class_of(phone).unwrap_or("?");
        let centre = (t + ms / 2.0) / 1000.0;
        t += ms;
        if class == "[SIL]" {
            continue;
        }
        let (width, _) = area.estimate_text_size(class, &style).map_err(plot_error)?;
        let x = chart.backend_coord(&(centre, 0.0)).0;
        let (left, right) = (x - width as i32 / 2, x + width as i32 / 2);
        // The first line with room, or else the one whose label ends first.
        let line = (0..LINES)
            .find(|&l| ends[l] + 8 <= left)
            .unwrap_or_else(|| (0..LINES).min_by_key(|&l| ends[l]).unwrap_or(0));
        ends[line] = right;
        let y = LINES as f32 - 0.5 - line as f32;
        chart
            .draw_series(std::iter::once(Text::new(
                class.to_owned(),
                (centre, y),
                style.clone(),
            )))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// Columns of values (one per frame) as a blue heat map, titled and with its
/// y axis labelled by `(title, y_desc)`, each row `row_height` high on the
/// y axis; with `per_row`, each row is scaled to its own range (MFCC 0, the
/// energy, dwarfs the rest).
pub(super) fn heat_map(
    area: &PixelArea<'_>,
    (title, y_desc): (&str, &str),
    columns: &[Vec<f32>],
    row_height: f32,
    timing: &Timing,
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
        .margin_top(8)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(Y_LABEL_AREA)
        .caption(title, (FONT, AXIS_SIZE))
        .build_cartesian_2d(0f32..timing.seconds, 0f32..height as f32 * row_height)
        .map_err(plot_error)?;
    axes(&mut chart)
        .disable_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(y_desc)
        .draw()
        .map_err(plot_error)?;
    let cells = columns.iter().enumerate().flat_map(|(f, column)| {
        let ranges = &ranges;
        let t = timing.start + f as f32 * timing.hop;
        column.iter().enumerate().map(move |(k, &v)| {
            let (lo, hi) = ranges[k];
            let level = f64::from((v - lo) / (hi - lo).max(1e-6));
            let y = k as f32 * row_height;
            Rectangle::new(
                [(t, y), (t + timing.hop, y + row_height)],
                CLASS_COLOURS[0].mix(level).filled(),
            )
        })
    });
    chart.draw_series(cells).map_err(plot_error)?;
    Ok(())
}
