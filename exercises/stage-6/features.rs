//! Stage 6: the speech features' own steps: the mel filter bank of the MFCC
//! front end, each frame's phoneme from the phones' timings, and the
//! per-utterance normalisation. Your exercise: fill in every `// TODO`.
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
    // TODO: the weights. FFT bin k (0 ..= fft_size / 2) is the frequency
    // k · sample_rate / fft_size. Each weight is the triangle's height at its
    // bin's frequency: 0 outside the filter's two outer edges. The result
    // must agree with librosa's `filters.mel(..., htk=True, norm=None)` to
    // 1e-5. A value error when there is no filter, the FFT has fewer than 2
    // samples, or the rate is not a finite number above 0.
    todo!("mel_filter_bank")
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
    // TODO: one class per frame. Requirements: exact for an hour of speech
    // (360,000 frames, about 100,000 phones), both in its timing (phone
    // boundaries add up over the hour) and in its running time (one pass,
    // not a search of every phone for every frame); a value error for no
    // phones, or for a duration that is negative or not finite.
    todo!("frame_labels")
}
// ANCHOR_END: frame_labels

// ANCHOR: cmvn
/// Cepstral mean and variance normalisation of one utterance (frames,
/// coefficients), in place: each coefficient (column) shifted and scaled to
/// mean 0 and standard deviation 1 (population) over the utterance's
/// frames. A coefficient that does not vary becomes 0 in every frame.
pub fn cmvn(frames: &mut DMatrix<f32>) {
    // TODO: per column, over the rows. Requirements: mean 0 and deviation 1
    // to 1e-4 for coefficients that sit 1000 times their spread away from
    // 0, as MFCCs can; finite for every finite input, a constant
    // coefficient, a single frame and an utterance of no frames included.
    todo!("cmvn")
}
// ANCHOR_END: cmvn
