//! VTLP on the cepstra: the map measured against the front end run on
//! tones at the warped frequency, and against VTLP on the waveform.

use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use speech::augment::{AugmentError, Perturbation, warp_frequency};
use speech::cepstral_warp::cepstral_warp;
use speech::mfcc::{MfccConfig, mfcc};

const RATE: u32 = 16_000;

fn filters(config: &MfccConfig) -> DMatrix<f32> {
    reference::features::mel_filter_bank(config.mel_filters, config.fft_size, RATE as f32).unwrap()
}

fn tone(hz: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| {
            (0.3 * (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(RATE)).sin()) as f32
        })
        .collect()
}

/// The mean MFCC frame of `samples` by the default front end.
fn mean_frame(samples: &[f32], config: &MfccConfig) -> DVector<f32> {
    let frames = mfcc(samples, config, &filters(config)).unwrap();
    frames.row_mean().transpose()
}

/// The mel filter where the log mel spectrum a frame smooths to peaks: Tᵀ c
/// with T the front end's DCT.
fn peak_filter(frame: &DVector<f32>, config: &MfccConfig) -> usize {
    let (m, d) = (config.mel_filters, frame.len());
    let log_mel = DVector::from_fn(m, |i, _| {
        (0..d)
            .map(|j| {
                let scale = if j == 0 { 1.0 } else { 2.0 } / m as f32;
                scale.sqrt()
                    * (std::f32::consts::PI * j as f32 * (i as f32 + 0.5) / m as f32).cos()
                    * frame[j]
            })
            .sum::<f32>()
    });
    log_mel.argmax().0
}

#[test]
fn a_factor_of_one_is_the_identity() {
    let map = cepstral_warp(1.0, &MfccConfig::default()).unwrap();
    assert_eq!(map.shape(), (28, 28));
    let worst = (&map - DMatrix::identity(28, 28)).abs().max();
    assert!(worst < 1e-5, "largest difference from I: {worst}");
}

#[test]
fn a_warped_tone_peaks_where_the_front_end_puts_the_warped_frequency() {
    let config = MfccConfig::default();
    for hz in [400.0, 900.0, 1500.0, 2500.0, 3500.0] {
        for warp in [0.85f32, 0.9, 1.1, 1.15] {
            let moved = warp_frequency(hz, f64::from(warp), RATE);
            let expected = peak_filter(&mean_frame(&tone(moved, 8000), &config), &config);
            let map = cepstral_warp(warp, &config).unwrap();
            let warped = &map * mean_frame(&tone(hz, 8000), &config);
            let got = peak_filter(&warped, &config);
            assert!(
                got.abs_diff(expected) <= 1,
                "a {hz} Hz tone warped by {warp}: peak at filter {got}, but a tone at \
                 {moved:.0} Hz peaks at filter {expected}"
            );
        }
    }
}

/// A speech-like signal: harmonics of 130 Hz shaped by three formants.
fn vowel(len: usize) -> Vec<f32> {
    let formants = [(700.0, 1.0), (1200.0, 0.6), (2600.0, 0.3)];
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(RATE);
            let sum: f64 = (1..=40)
                .map(|h| {
                    let f = 130.0 * f64::from(h);
                    let gain: f64 = formants
                        .iter()
                        .map(|&(centre, height)| height / (1.0 + ((f - centre) / 120.0).powi(2)))
                        .sum();
                    gain * (2.0 * std::f64::consts::PI * f * t).sin()
                })
                .sum();
            (0.05 * sum) as f32
        })
        .collect()
}

#[test]
fn the_map_moves_frames_most_of_the_way_to_vtlp_on_the_waveform() {
    let config = MfccConfig::default();
    let signal = vowel(16_000);
    let plain = mean_frame(&signal, &config);
    for warp in [0.88f32, 1.12] {
        let on_waveform = Perturbation {
            warp,
            ..Perturbation::NONE
        }
        .apply(&signal, RATE)
        .unwrap();
        let target = mean_frame(&on_waveform, &config);
        let mapped = cepstral_warp(warp, &config).unwrap() * &plain;
        // c0 is the loudness, which the phase vocoder changes a little; the
        // shape is in the rest.
        let shape = |v: &DVector<f32>| v.rows(1, v.len() - 1).into_owned();
        let before = (shape(&plain) - shape(&target)).norm();
        let after = (shape(&mapped) - shape(&target)).norm();
        assert!(
            after < 0.5 * before,
            "warp {warp}: the map left the frame {after:.3} from the waveform's warp, \
             unwarped it was {before:.3}"
        );
    }
}

#[test]
fn bad_factors_and_shapes_are_refused() {
    let config = MfccConfig::default();
    for warp in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            cepstral_warp(warp, &config),
            Err(AugmentError::Warp { .. })
        ));
    }
    let too_many = MfccConfig {
        coefficients: 41,
        ..MfccConfig::default()
    };
    assert!(matches!(
        cepstral_warp(1.1, &too_many),
        Err(AugmentError::Settings { .. })
    ));
    let silent = MfccConfig {
        sample_rate: 0,
        ..MfccConfig::default()
    };
    assert_eq!(
        cepstral_warp(1.1, &silent),
        Err(AugmentError::ZeroSampleRate)
    );
}

proptest! {
    /// A flat spectrum stays flat (each warped filter interpolates between
    /// two with weights summing to 1), and every entry is finite.
    #[test]
    fn a_flat_spectrum_stays_flat(warp in 0.5f32..1.5, d in 1usize..=40) {
        let config = MfccConfig { coefficients: d, ..MfccConfig::default() };
        let map = cepstral_warp(warp, &config).unwrap();
        prop_assert!(map.iter().all(|v| v.is_finite()));
        prop_assert!((map[(0, 0)] - 1.0).abs() < 1e-4);
        for j in 1..d {
            prop_assert!(map[(j, 0)].abs() < 1e-4, "row {} of column 0: {}", j, map[(j, 0)]);
        }
    }
}
