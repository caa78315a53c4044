//! Stage 6: the speech features' own steps (reference solution): the mel
//! filter bank of the MFCC front end, each frame's phoneme from the
//! phones' timings, and the per-utterance normalisation.
//!
//! The rest of the front end (pre-emphasis, windows, FFT, logarithm, DCT) is
//! given, in `crates/speech/src/mfcc.rs`; it multiplies each frame's power
//! spectrum by your filter bank. `Phone` is given too, in
//! `crates/support/src/speech.rs`.

use course_support::shape::ShapeError;
use course_support::speech::Phone;
use nalgebra::DMatrix;

/// Hertz to mel (the HTK formula): 2595 log10(1 + f / 700).
pub fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Mel to hertz, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

// ANCHOR: mel_filter_bank
/// `filters` triangular filters on the power spectrum of an FFT of
/// `fft_size` samples at `sample_rate` Hz: (filters, fft_size / 2 + 1)
/// weights. Their `filters + 2` edges are evenly spaced in mel from 0 Hz to
/// the Nyquist frequency; filter m rises from 0 at edge m to 1 at edge
/// m + 1 and falls back to 0 at edge m + 2, linearly in frequency.
pub fn mel_filter_bank(
    filters: usize,
    fft_size: usize,
    sample_rate: f32,
) -> Result<DMatrix<f32>, ShapeError> {
    if filters == 0 || fft_size < 2 || !(sample_rate > 0.0 && sample_rate.is_finite()) {
        return Err(ShapeError::value(
            "mel_filter_bank",
            "at least 1 filter, an FFT of at least 2 samples and a finite rate above 0",
            format!("{filters} filters, FFT size {fft_size}, rate {sample_rate}"),
        ));
    }
    let bins = fft_size / 2 + 1;
    let nyquist = sample_rate / 2.0;
    let top = hz_to_mel(nyquist);
    // The edges as fractional FFT bins: bin k is k · rate / fft_size Hz.
    let edges: Vec<f32> = (0..filters + 2)
        .map(|i| mel_to_hz(top * i as f32 / (filters + 1) as f32) / nyquist * (bins - 1) as f32)
        .collect();
    Ok(DMatrix::from_fn(filters, bins, |m, k| {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let k = k as f32;
        if k <= left || k >= right {
            0.0
        } else if k <= centre {
            (k - left) / (centre - left)
        } else {
            (right - k) / (right - centre)
        }
    }))
}
// ANCHOR_END: mel_filter_bank

// ANCHOR: frame_labels
/// The class of each of `frames` frames, frame f covering
/// [f · hop_ms, f · hop_ms + window_ms): the phone sounding at the frame's
/// centre, where the phones follow each other from time 0. A centre on the
/// boundary between two phones belongs to the later one; a centre past the
/// last phone's end takes the last phone.
pub fn frame_labels(
    phones: &[Phone],
    frames: usize,
    hop_ms: f32,
    window_ms: f32,
) -> Result<Vec<usize>, ShapeError> {
    if phones.is_empty() {
        return Err(ShapeError::value(
            "frame_labels phones",
            "at least 1 phone",
            "0",
        ));
    }
    if let Some((i, bad)) = phones
        .iter()
        .enumerate()
        .find(|(_, p)| !(p.milliseconds >= 0.0 && p.milliseconds.is_finite()))
    {
        return Err(ShapeError::value(
            format!("frame_labels phone {i}"),
            "a finite duration of at least 0 ms",
            format!("{} ms", bad.milliseconds),
        ));
    }
    // Phone ends summed in f64: thousands of f32 durations would drift.
    let mut phone = 0;
    let mut end = f64::from(phones[0].milliseconds);
    let mut labels = Vec::with_capacity(frames);
    for f in 0..frames {
        let centre = f as f64 * f64::from(hop_ms) + f64::from(window_ms) / 2.0;
        // Both the frames and the phones move forward only: one pass.
        while centre >= end && phone + 1 < phones.len() {
            phone += 1;
            end += f64::from(phones[phone].milliseconds);
        }
        // Past the last phone's end the loop stops at the last phone.
        labels.push(phones[phone].class);
    }
    Ok(labels)
}
// ANCHOR_END: frame_labels

// ANCHOR: cmvn
/// Cepstral mean and variance normalisation of one utterance (frames,
/// coefficients), in place: each coefficient (column) shifted and scaled to
/// mean 0 and standard deviation 1 (population) over the utterance's
/// frames. A coefficient that does not vary becomes 0 in every frame.
pub fn cmvn(frames: &mut DMatrix<f32>) {
    let n = frames.nrows() as f64;
    for mut column in frames.column_iter_mut() {
        let mean = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let variance = column
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = variance.sqrt();
        column.apply(|v| {
            *v = if std > 0.0 {
                ((f64::from(*v) - mean) / std) as f32
            } else {
                0.0
            };
        });
    }
}
// ANCHOR_END: cmvn
