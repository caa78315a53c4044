//! Waveform augmentation: each stage measured on tones and clicks against
//! what it should do, the length rule, seeding, bounds and the draws.

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use speech::augment::{
    AugmentError, AugmentSettings, Perturbation, room_impulse_response, warp_frequency,
};
use speech::resample::resampled_len;

const RATE: u32 = 16_000;

fn tone(hz: f64, amplitude: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| {
            (amplitude * (2.0 * std::f64::consts::PI * hz * n as f64 / RATE as f64).sin()) as f32
        })
        .collect()
}

/// A speech-like test signal: a few harmonics of 150 Hz under a 4 Hz
/// syllable envelope.
fn voice(len: usize, amplitude: f64) -> Vec<f32> {
    (0..len)
        .map(|n| {
            let t = n as f64 / RATE as f64;
            let envelope = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
            let harmonics: f64 = (1..=8)
                .map(|h| (2.0 * std::f64::consts::PI * 150.0 * h as f64 * t).sin() / h as f64)
                .sum();
            (amplitude * envelope * harmonics / 2.8) as f32
        })
        .collect()
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum()
}

/// The frequency of a tone from its upward zero crossings (interpolated
/// between samples), away from the edges.
fn zero_crossing_hz(x: &[f32]) -> f64 {
    let interior = &x[800..x.len() - 800];
    let crossings: Vec<f64> = interior
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, w)| i as f64 + f64::from(w[0]) / f64::from(w[0] - w[1]))
        .collect();
    let cycles = (crossings.len() - 1) as f64;
    cycles / (crossings[crossings.len() - 1] - crossings[0]) * RATE as f64
}

/// The power spectrum of `x` (Hann-windowed, zero-padded to a power of two
/// ≥ 4·len), with the width of a bin in Hz.
fn power_spectrum(x: &[f32]) -> (Vec<f64>, f64) {
    let size = (4 * x.len()).next_power_of_two();
    let n = x.len() as f64;
    let mut buffer: Vec<Complex<f64>> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n).cos();
            Complex::new(f64::from(v) * w, 0.0)
        })
        .collect();
    buffer.resize(size, Complex::new(0.0, 0.0));
    FftPlanner::new()
        .plan_fft_forward(size)
        .process(&mut buffer);
    let power = buffer[..=size / 2].iter().map(|c| c.norm_sqr()).collect();
    (power, RATE as f64 / size as f64)
}

fn peak_hz(x: &[f32]) -> f64 {
    let (power, hz) = power_spectrum(x);
    let k = (0..power.len())
        .max_by(|&a, &b| power[a].total_cmp(&power[b]))
        .unwrap();
    k as f64 * hz
}

/// The share of the energy within `width` Hz of `centre`.
fn share_near(x: &[f32], centre: f64, width: f64) -> f64 {
    let (power, hz) = power_spectrum(x);
    let total: f64 = power.iter().sum();
    let near: f64 = power
        .iter()
        .enumerate()
        .filter(|(k, _)| (*k as f64 * hz - centre).abs() <= width)
        .map(|(_, p)| p)
        .sum();
    near / total
}

#[test]
fn none_returns_the_input_bit_for_bit() {
    let mut input = voice(4_001, 0.9);
    input[7] = 1.5;
    input[8] = -0.0;
    input[9] = f32::MIN_POSITIVE / 4.0;
    let output = Perturbation::NONE.apply(&input, RATE).unwrap();
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&output), bits(&input));
    // A seed alone changes nothing either.
    let seeded = Perturbation {
        seed: 99,
        ..Perturbation::NONE
    };
    assert_eq!(bits(&seeded.apply(&input, RATE).unwrap()), bits(&input));
}

#[test]
fn empty_input_gives_empty_output() {
    let all = Perturbation {
        speed: 1.1,
        warp: 0.9,
        snr_db: Some(10.0),
        rt60: Some(0.3),
        seed: 1,
    };
    assert!(all.apply(&[], RATE).unwrap().is_empty());
}

#[test]
fn the_same_draw_repeats_and_other_seeds_differ() {
    let input = voice(8_000, 0.5);
    let p = Perturbation {
        speed: 0.9,
        warp: 1.07,
        snr_db: Some(10.0),
        rt60: Some(0.4),
        seed: 5,
    };
    let a = p.apply(&input, RATE).unwrap();
    let b = p.apply(&input, RATE).unwrap();
    assert_eq!(a, b);
    let noisy = |seed| {
        Perturbation {
            snr_db: Some(10.0),
            seed,
            ..Perturbation::NONE
        }
        .apply(&input, RATE)
        .unwrap()
    };
    let (one, two) = (noisy(1), noisy(2));
    let differing = one.iter().zip(&two).filter(|(x, y)| x != y).count();
    assert!(differing > 7_900, "only {differing} samples differ");
    // The noises themselves are unrelated: correlation near 0.
    let n1: Vec<f64> = one
        .iter()
        .zip(&input)
        .map(|(o, i)| f64::from(o - i))
        .collect();
    let n2: Vec<f64> = two
        .iter()
        .zip(&input)
        .map(|(o, i)| f64::from(o - i))
        .collect();
    let dot: f64 = n1.iter().zip(&n2).map(|(a, b)| a * b).sum();
    let norms =
        (n1.iter().map(|v| v * v).sum::<f64>() * n2.iter().map(|v| v * v).sum::<f64>()).sqrt();
    assert!((dot / norms).abs() < 0.5, "correlation {}", dot / norms);
}

#[test]
fn only_speed_changes_the_length() {
    for len in [1, 2, 159, 1_001, 16_000, 16_001, 48_000] {
        let input = voice(len, 0.5);
        for speed in [0.9, 1.0, 1.1] {
            let p = Perturbation {
                speed,
                ..Perturbation::NONE
            };
            let to = p.resampled_rate(RATE);
            assert_eq!(to, (RATE as f64 / speed as f64).round() as u32);
            let out = p.apply(&input, RATE).unwrap();
            assert_eq!(
                out.len(),
                resampled_len(len, RATE, to),
                "len {len} speed {speed}"
            );
            assert_eq!(p.duration_factor(RATE), to as f64 / RATE as f64);
        }
        for p in [
            Perturbation {
                warp: 1.12,
                ..Perturbation::NONE
            },
            Perturbation {
                warp: 0.88,
                ..Perturbation::NONE
            },
            Perturbation {
                snr_db: Some(5.0),
                seed: 3,
                ..Perturbation::NONE
            },
            Perturbation {
                rt60: Some(0.6),
                seed: 3,
                ..Perturbation::NONE
            },
        ] {
            assert_eq!(p.apply(&input, RATE).unwrap().len(), len, "{p:?} len {len}");
        }
    }
    // Speed 1.1 → 14,545 Hz: 10/11 as long; 0.9 → 17,778 Hz.
    let fast = Perturbation {
        speed: 1.1,
        ..Perturbation::NONE
    };
    assert_eq!(fast.resampled_rate(RATE), 14_545);
    assert_eq!(fast.apply(&voice(16_000, 0.5), RATE).unwrap().len(), 14_545);
    let slow = Perturbation {
        speed: 0.9,
        ..Perturbation::NONE
    };
    assert_eq!(slow.resampled_rate(RATE), 17_778);
    assert!((slow.duration_factor(RATE) - 1.111_125).abs() < 1e-9);
}

#[test]
fn speed_moves_a_tone_by_the_rate_ratio() {
    // Resampled to r Hz and read at 16 kHz, a tone of f Hz plays at
    // f · 16000 / r: faster is higher (speed 1.1 takes 440 Hz to 484 Hz,
    // as sox's `speed 1.1` does; 0.9 takes it to 396 Hz).
    let input = tone(440.0, 0.5, 32_000);
    for (speed, rate) in [(1.1f32, 14_545.0), (0.9, 17_778.0)] {
        let p = Perturbation {
            speed,
            ..Perturbation::NONE
        };
        let out = p.apply(&input, RATE).unwrap();
        let expected = 440.0 * RATE as f64 / rate;
        let measured = zero_crossing_hz(&out);
        assert!(
            (measured - expected).abs() < 0.2,
            "speed {speed}: {measured} Hz, expected {expected}"
        );
    }
}

#[test]
fn warp_moves_a_tone_below_the_knee_by_the_factor() {
    let input = tone(1_000.0, 0.5, 16_000);
    for warp in [1.1f32, 0.9] {
        let p = Perturbation {
            warp,
            ..Perturbation::NONE
        };
        let out = p.apply(&input, RATE).unwrap();
        let expected = 1_000.0 * warp as f64;
        let peak = peak_hz(&out);
        assert!(
            (peak - expected).abs() < 3.0,
            "warp {warp}: peak at {peak} Hz"
        );
        let near = share_near(&out, expected, 25.0);
        assert!(
            near > 0.9,
            "warp {warp}: {near} of the energy near {expected} Hz"
        );
        let old = share_near(&out, 1_000.0, 25.0);
        assert!(
            old < 0.01,
            "warp {warp}: {old} of the energy still near 1000 Hz"
        );
        // The RMS is kept.
        let ratio = (energy(&out) / energy(&input)).sqrt();
        assert!((ratio - 1.0).abs() < 1e-3, "rms ratio {ratio}");
    }
    // Above the knee the line to the Nyquist applies: 6 kHz under warp 1.1
    // goes to 8000 − (8000 − 4800) / (8000 − 4800 / 1.1) · 2000.
    let expected = warp_frequency(6_000.0, 1.1, RATE);
    assert!((expected - (8_000.0 - 3_200.0 / (8_000.0 - 4_800.0 / 1.1) * 2_000.0)).abs() < 1e-9);
    let out = Perturbation {
        warp: 1.1,
        ..Perturbation::NONE
    }
    .apply(&tone(6_000.0, 0.5, 16_000), RATE)
    .unwrap();
    let peak = peak_hz(&out);
    assert!(
        (peak - expected).abs() < 3.0,
        "peak at {peak} Hz, expected {expected}"
    );
}

#[test]
fn noise_is_added_at_the_snr() {
    let input = voice(24_000, 0.1);
    for snr_db in [5.0f32, 10.0, 20.0, 30.0, 0.0] {
        for seed in 0..6 {
            let p = Perturbation {
                snr_db: Some(snr_db),
                seed,
                ..Perturbation::NONE
            };
            let out = p.apply(&input, RATE).unwrap();
            let noise: Vec<f32> = out.iter().zip(&input).map(|(o, i)| o - i).collect();
            let measured = 10.0 * (energy(&input) / energy(&noise)).log10();
            assert!(
                (measured - snr_db as f64).abs() < 0.5,
                "seed {seed}: {measured} dB, expected {snr_db}"
            );
        }
    }
}

#[test]
fn noise_colours_vary_with_the_seed() {
    // White noise has as much energy above 4 kHz as below; pink and brown
    // far less. Over a dozen seeds both kinds turn up.
    let input = tone(300.0, 0.1, 16_000);
    let (mut white, mut coloured) = (0, 0);
    for seed in 0..12 {
        let p = Perturbation {
            snr_db: Some(0.0),
            seed,
            ..Perturbation::NONE
        };
        let out = p.apply(&input, RATE).unwrap();
        let noise: Vec<f32> = out.iter().zip(&input).map(|(o, i)| o - i).collect();
        let (power, hz) = power_spectrum(&noise);
        let high: f64 = power
            .iter()
            .enumerate()
            .filter(|(k, _)| *k as f64 * hz > 4_000.0)
            .map(|(_, p)| p)
            .sum();
        let total: f64 = power.iter().sum();
        if high / total > 0.4 {
            white += 1;
        } else if high / total < 0.15 {
            coloured += 1;
        }
    }
    assert!(
        white >= 1 && coloured >= 1,
        "white {white}, coloured {coloured}"
    );
    assert_eq!(white + coloured, 12);
}

#[test]
fn the_room_impulse_response_decays_60_db_in_rt60() {
    for (seed, rt60) in [(1u64, 0.15f32), (2, 0.3), (3, 0.6)] {
        let rir = room_impulse_response(rt60, RATE, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(rir.len(), (rt60 as f64 * RATE as f64).ceil() as usize);
        // The direct path comes first and is the loudest; then silence for
        // the 2-8 ms pre-delay.
        assert_eq!(rir[0], 1.0);
        let first = rir[1..].iter().position(|&v| v != 0.0).unwrap() + 1;
        assert!((32..=128).contains(&first), "pre-delay {first} samples");
        assert!(rir[1..].iter().all(|v| v.abs() < 1.0));
        // The tail's energy per 10 ms window, in dB, fitted by a line
        // against time: the slope times rt60 is −60 dB.
        let window = 160;
        let points: Vec<(f64, f64)> = rir[first..]
            .chunks_exact(window)
            .enumerate()
            .map(|(i, w)| {
                let t = (first + i * window) as f64 / RATE as f64;
                (t, 10.0 * energy(w).log10())
            })
            .collect();
        let n = points.len() as f64;
        let (mt, md) = (
            points.iter().map(|p| p.0).sum::<f64>() / n,
            points.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let slope = points.iter().map(|p| (p.0 - mt) * (p.1 - md)).sum::<f64>()
            / points.iter().map(|p| (p.0 - mt).powi(2)).sum::<f64>();
        let drop = slope * rt60 as f64;
        assert!(
            (drop + 60.0).abs() < 3.0,
            "rt60 {rt60}: {drop} dB over rt60"
        );
        // The tail is quieter than the direct path by 0-10 dB in all.
        let drr = 10.0 * (1.0 / energy(&rir[1..])).log10();
        assert!(
            (-0.01..=10.01).contains(&drr),
            "direct-to-reverberant {drr} dB"
        );
    }
}

#[test]
fn reverberation_keeps_timings_length_and_loudness() {
    // A click at 0.5 s: nothing before it, and the loudest sample is still
    // the click.
    let mut click = vec![0.0f32; 16_000];
    click[8_000] = 0.5;
    let p = Perturbation {
        rt60: Some(0.5),
        seed: 4,
        ..Perturbation::NONE
    };
    let out = p.apply(&click, RATE).unwrap();
    assert_eq!(out.len(), click.len());
    assert!(out[..8_000].iter().all(|v| v.abs() < 1e-6));
    let loudest = (0..out.len())
        .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
        .unwrap();
    assert_eq!(loudest, 8_000);
    assert!(out[8_001..].iter().any(|v| v.abs() > 1e-4), "no tail");
    // A voice keeps its RMS, and is changed.
    let input = voice(16_000, 0.3);
    let out = p.apply(&input, RATE).unwrap();
    let ratio = (energy(&out) / energy(&input)).sqrt();
    assert!((ratio - 1.0).abs() < 1e-3, "rms ratio {ratio}");
    let change = out
        .iter()
        .zip(&input)
        .map(|(o, i)| f64::from(o - i).powi(2))
        .sum::<f64>();
    assert!(change > 0.01 * energy(&input));
}

#[test]
fn loud_output_is_scaled_to_the_input_peak_or_1() {
    let loud: Vec<f32> = tone(200.0, 1.0, 8_000);
    let p = Perturbation {
        speed: 1.1,
        warp: 1.1,
        snr_db: Some(0.0),
        rt60: Some(0.3),
        seed: 7,
    };
    let out = p.apply(&loud, RATE).unwrap();
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak <= 1.0 && peak > 0.9, "peak {peak}");
    let louder: Vec<f32> = loud.iter().map(|v| 2.0 * v).collect();
    let out = p.apply(&louder, RATE).unwrap();
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak <= 2.0 && peak > 1.8, "peak {peak}");
}

#[test]
fn bad_input_and_perturbations_are_refused() {
    let ok = [0.1f32, 0.2];
    let mut with_nan = ok.to_vec();
    with_nan[1] = f32::NAN;
    assert!(matches!(
        Perturbation::NONE.apply(&with_nan, RATE),
        Err(AugmentError::Sample { index: 1, .. })
    ));
    assert!(matches!(
        Perturbation::NONE.apply(&[f32::INFINITY], RATE),
        Err(AugmentError::Sample { index: 0, .. })
    ));
    assert_eq!(
        Perturbation::NONE.apply(&[2e3], RATE),
        Err(AugmentError::Sample {
            index: 0,
            value: 2e3
        })
    );
    assert_eq!(
        Perturbation::NONE.apply(&ok, 0),
        Err(AugmentError::ZeroSampleRate)
    );
    for speed in [0.0, -1.0, f32::NAN, 0.05, 20.0] {
        let p = Perturbation {
            speed,
            ..Perturbation::NONE
        };
        assert!(
            matches!(p.apply(&ok, RATE), Err(AugmentError::Speed { .. })),
            "{speed}"
        );
    }
    for warp in [0.0, -0.5, f32::INFINITY, f32::NAN] {
        let p = Perturbation {
            warp,
            ..Perturbation::NONE
        };
        assert!(
            matches!(p.apply(&ok, RATE), Err(AugmentError::Warp { .. })),
            "{warp}"
        );
    }
    for rt60 in [0.0, -0.2, f32::NAN, 11.0] {
        let p = Perturbation {
            rt60: Some(rt60),
            ..Perturbation::NONE
        };
        assert!(
            matches!(p.apply(&ok, RATE), Err(AugmentError::Rt60 { .. })),
            "{rt60}"
        );
    }
    let p = Perturbation {
        snr_db: Some(f32::NAN),
        ..Perturbation::NONE
    };
    assert!(matches!(p.apply(&ok, RATE), Err(AugmentError::Snr { .. })));
    // Errors come before the empty-input shortcut too.
    let p = Perturbation {
        speed: 0.0,
        ..Perturbation::NONE
    };
    assert!(p.apply(&[], RATE).is_err());

    assert_eq!(AugmentSettings::default().check(), Ok(()));
    let bad = [
        AugmentSettings {
            speeds: vec![1.0, 0.0],
            ..Default::default()
        },
        AugmentSettings {
            warp: (1.1, 0.9),
            ..Default::default()
        },
        AugmentSettings {
            warp: (0.0, 1.1),
            ..Default::default()
        },
        AugmentSettings {
            noise_probability: 1.5,
            ..Default::default()
        },
        AugmentSettings {
            reverb_probability: f32::NAN,
            ..Default::default()
        },
        AugmentSettings {
            snrs_db: vec![f32::INFINITY],
            ..Default::default()
        },
        AugmentSettings {
            rt60: (0.0, 0.5),
            ..Default::default()
        },
    ];
    for settings in bad {
        assert!(
            matches!(settings.check(), Err(AugmentError::Settings { .. })),
            "{settings:?}"
        );
    }
}

#[test]
fn draws_follow_the_settings() {
    let settings = AugmentSettings::default();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let draws: Vec<Perturbation> = (0..10_000)
        .map(|_| Perturbation::draw(&settings, &mut rng))
        .collect();
    let n = draws.len() as f64;
    for speed in [0.9, 1.0, 1.1] {
        let share = draws.iter().filter(|p| p.speed == speed).count() as f64 / n;
        assert!((share - 1.0 / 3.0).abs() < 0.02, "speed {speed}: {share}");
    }
    assert!(draws.iter().all(|p| [0.9, 1.0, 1.1].contains(&p.speed)));
    assert!(draws.iter().all(|p| (0.88..=1.12).contains(&p.warp)));
    let mean_warp = draws.iter().map(|p| p.warp as f64).sum::<f64>() / n;
    assert!((mean_warp - 1.0).abs() < 0.005, "mean warp {mean_warp}");
    let noisy = draws.iter().filter(|p| p.snr_db.is_some()).count() as f64 / n;
    assert!((noisy - 0.5).abs() < 0.02, "noise share {noisy}");
    assert!(
        draws
            .iter()
            .filter_map(|p| p.snr_db)
            .all(|s| [5.0, 10.0, 20.0, 30.0].contains(&s))
    );
    let reverberant = draws.iter().filter(|p| p.rt60.is_some()).count() as f64 / n;
    assert!(
        (reverberant - 0.3).abs() < 0.02,
        "reverb share {reverberant}"
    );
    assert!(
        draws
            .iter()
            .filter_map(|p| p.rt60)
            .all(|r| (0.15..=0.6).contains(&r))
    );
    let mut seeds: Vec<u64> = draws.iter().map(|p| p.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    assert_eq!(seeds.len(), draws.len());
    // The same generator state draws the same perturbation.
    let again = Perturbation::draw(&settings, &mut ChaCha8Rng::seed_from_u64(2024));
    assert_eq!(again, draws[0]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_draw_on_any_short_signal_is_finite_bounded_and_the_right_length(
        signal in prop::collection::vec(-1.0f32..=1.0, 0..1_500),
        seed in any::<u64>(),
    ) {
        let p = Perturbation::draw(&AugmentSettings::default(), &mut ChaCha8Rng::seed_from_u64(seed));
        let out = p.apply(&signal, RATE).unwrap();
        prop_assert_eq!(out.len(), resampled_len(signal.len(), RATE, p.resampled_rate(RATE)));
        prop_assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0), "{:?}", p);
    }

    #[test]
    fn every_stage_at_once_is_finite_bounded_and_the_right_length(
        signal in prop::collection::vec(-1.0f32..=1.0, 0..1_500),
        speed in prop::sample::select(vec![0.9f32, 1.0, 1.1]),
        warp in 0.88f32..1.12,
        snr_db in -5.0f32..40.0,
        rt60 in 0.05f32..1.0,
        seed in any::<u64>(),
    ) {
        let p = Perturbation { speed, warp, snr_db: Some(snr_db), rt60: Some(rt60), seed };
        let out = p.apply(&signal, RATE).unwrap();
        prop_assert_eq!(out.len(), resampled_len(signal.len(), RATE, p.resampled_rate(RATE)));
        prop_assert!(out.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    }
}
