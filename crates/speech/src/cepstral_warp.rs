//! VTLP on MFCCs instead of on the waveform: VTLP's warp of the frequency
//! axis as a linear map of each frame's coefficients. The map is a D × D
//! matrix, so a loader can draw a new warp for every utterance in every
//! epoch for a small part of what the front end costs.
//!
//! The front end's coefficients are c = T · log(F · |X|²), where T is the
//! first D rows of the orthonormal DCT over the M mel filters. Tᵀ · c is the
//! log mel spectrum smoothed to D coefficients. Reading that spectrum at the
//! unwarped frequency of each filter's centre (linearly between
//! neighbouring centres) and transforming back warps the frame:
//! c' = T · S(α) · Tᵀ · c. With α = 1, S is the identity and so is the map.

use nalgebra::DMatrix;

use crate::augment::{AugmentError, unwarp_frequency, warp_ok};
use crate::mfcc::MfccConfig;

/// Hertz to mel: the HTK formula, the mel scale of stage 6's filter bank.
fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Mel to hertz, the inverse of [`hz_to_mel`].
fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// The D × D map that warps MFCCs of `config`'s front end as VTLP with
/// factor `warp` warps the waveform before it ([`crate::augment::warp_frequency`]):
/// a warped frame is `map * frame` (frames as columns). The filters are
/// stage 6's: M triangles whose edges are evenly spaced in mel from 0 Hz to
/// the Nyquist frequency.
pub fn cepstral_warp(warp: f32, config: &MfccConfig) -> Result<DMatrix<f32>, AugmentError> {
    if !warp_ok(warp) {
        return Err(AugmentError::Warp { warp });
    }
    if config.sample_rate == 0 {
        return Err(AugmentError::ZeroSampleRate);
    }
    let (m, d) = (config.mel_filters, config.coefficients);
    if m < 2 || d == 0 || d > m {
        return Err(AugmentError::Settings {
            problem: "a cepstral warp needs at least 2 mel filters and from 1 to that many \
                      coefficients",
        });
    }
    let top = hz_to_mel(f64::from(config.sample_rate) / 2.0);
    // Filter i's centre is edge i + 1 of M + 2 evenly spaced in mel.
    let steps = (m + 1) as f64;
    let mut select = DMatrix::<f64>::zeros(m, m);
    for i in 0..m {
        let centre = mel_to_hz(top * (i + 1) as f64 / steps);
        let source = unwarp_frequency(centre, f64::from(warp), config.sample_rate);
        // Where the source frequency lies among the centres, in filters.
        let position = (hz_to_mel(source) / top * steps - 1.0).clamp(0.0, (m - 1) as f64);
        let below = (position.floor() as usize).min(m - 2);
        let fraction = position - below as f64;
        select[(i, below)] += 1.0 - fraction;
        select[(i, below + 1)] += fraction;
    }
    // The orthonormal DCT-II's first D rows, as the front end's.
    let dct = DMatrix::<f64>::from_fn(d, m, |j, i| {
        let scale = if j == 0 { 1.0 } else { 2.0 } / m as f64;
        scale.sqrt() * (std::f64::consts::PI * j as f64 * (i as f64 + 0.5) / m as f64).cos()
    });
    Ok((&dct * select * dct.transpose()).map(|v| v as f32))
}
