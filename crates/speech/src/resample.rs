//! Changing a mono signal's sample rate, with rubato's FFT resampler (a
//! band-limited, anti-aliased conversion between any two integer rates).
//! Used to bring recordings at 44.1 or 48 kHz to the front end's 16 kHz,
//! and by speed perturbation, which plays a signal resampled to a nearby
//! rate back at the original one.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Why a signal could not be resampled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResampleError {
    #[error("cannot resample from {from} Hz to {to} Hz: both rates must be above 0")]
    ZeroRate { from: u32, to: u32 },
    #[error("the resampler failed from {from} Hz to {to} Hz: {reason}")]
    Resampler { from: u32, to: u32, reason: String },
}

/// The number of samples `len` samples at `from` Hz become at `to` Hz:
/// ⌈len · to / from⌉, as rubato's `process_all` returns them.
pub fn resampled_len(len: usize, from: u32, to: u32) -> usize {
    (len as u128 * to as u128).div_ceil(from.max(1) as u128) as usize
}

/// `samples` at `from` Hz, resampled to `to` Hz: [`resampled_len`] samples,
/// aligned with the input (the filter's delay is trimmed). The same rate
/// returns the input unchanged.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    if from == 0 || to == 0 {
        return Err(ResampleError::ZeroRate { from, to });
    }
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let failed = |reason: String| ResampleError::Resampler { from, to, reason };
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| failed(e.to_string()))?;
    let input =
        InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| failed(e.to_string()))?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| failed(e.to_string()))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f32, rate: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (2.0 * std::f32::consts::PI * hz * n as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn a_tone_keeps_its_frequency_and_the_length_follows_the_rates() {
        let input = sine(440.0, 44_100, 44_100);
        let output = resample(&input, 44_100, 16_000).unwrap();
        assert_eq!(output.len(), resampled_len(44_100, 44_100, 16_000));
        assert_eq!(output.len(), 16_000);
        // A 440 Hz tone of amplitude 1, up to a phase (rubato trims its
        // filter's delay to whole samples): fit a·sin + b·cos at 440 Hz
        // away from the edges and look at the amplitude and the residual.
        let (mut a, mut b, mut count) = (0.0f64, 0.0f64, 0.0f64);
        let phase = |n: usize| 2.0 * std::f64::consts::PI * 440.0 * n as f64 / 16_000.0;
        for (n, &v) in output.iter().enumerate().take(15_500).skip(500) {
            a += v as f64 * phase(n).sin();
            b += v as f64 * phase(n).cos();
            count += 1.0;
        }
        let (a, b) = (2.0 * a / count, 2.0 * b / count);
        assert!(
            ((a * a + b * b).sqrt() - 1.0).abs() < 2e-3,
            "amplitude {a} {b}"
        );
        let worst = (500..15_500)
            .map(|n| (output[n] as f64 - a * phase(n).sin() - b * phase(n).cos()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2e-3, "largest residual {worst}");
    }

    #[test]
    fn content_above_the_new_nyquist_is_removed_not_folded() {
        // 10 kHz is above 8 kHz, the Nyquist frequency of 16 kHz: it must
        // vanish, not come back as a 6 kHz alias.
        let output = resample(&sine(10_000.0, 48_000, 48_000), 48_000, 16_000).unwrap();
        let rms = (output[500..15_500].iter().map(|v| v * v).sum::<f32>() / 15_000.0).sqrt();
        assert!(rms < 1e-3, "rms {rms}");
    }

    #[test]
    fn the_same_rate_and_bad_rates() {
        assert_eq!(resample(&[0.5, -0.5], 16_000, 16_000).unwrap(), [0.5, -0.5]);
        assert_eq!(
            resample(&[0.5], 0, 16_000),
            Err(ResampleError::ZeroRate {
                from: 0,
                to: 16_000
            })
        );
        assert!(resample(&[], 8_000, 16_000).unwrap().is_empty());
    }
}
