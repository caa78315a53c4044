//! `cargo bench -p bench --bench augment`: what waveform augmentation
//! (`speech::augment`) costs beside the MFCC front end it feeds, on 3 s of
//! a synthetic 16 kHz voice, in one run so that the ratio can be quoted.
//!
//! Group `augment`: `mfcc front end` (`speech::mfcc::mfcc`, default
//! settings, the reference's mel filter bank); each stage alone (speed 0.9
//! and 1.1, VTLP warp 1.1, reverberation at RT60 0.15 and 0.6 s, noise at
//! 10 dB); every stage at once (speed 0.9, warp 1.1, RT60 0.6 s, 10 dB);
//! and `default draws`, one utterance per iteration through 64 perturbations
//! drawn from `AugmentSettings::default()`: the average cost per utterance
//! of the corpus generator's chain. Last, `cepstral warp 1.1`: VTLP on the
//! same utterance's MFCCs instead (`speech::cepstral_warp`), the map built
//! and applied to its 298 frames, as `speech-train` does each epoch.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use speech::augment::{AugmentSettings, Perturbation};
use speech::cepstral_warp::cepstral_warp;
use speech::mfcc::mfcc;

const RATE: u32 = 16_000;

/// 3 s of a voice-like signal: eight harmonics of a pitch gliding from
/// 120 to 180 Hz, under a 4 Hz syllable envelope, at a peak near 0.5.
fn voice() -> Vec<f32> {
    let len = 3 * RATE as usize;
    let mut phase = 0.0f64;
    (0..len)
        .map(|n| {
            let t = n as f64 / RATE as f64;
            let pitch = 120.0 + 20.0 * t;
            phase += 2.0 * std::f64::consts::PI * pitch / RATE as f64;
            let envelope = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
            let harmonics: f64 = (1..=8).map(|h| (h as f64 * phase).sin() / h as f64).sum();
            (0.5 * envelope * harmonics / 2.8) as f32
        })
        .collect()
}

fn augment(c: &mut Criterion) {
    let signal = voice();
    let (config, filters) = common::front_end();
    let none = Perturbation::NONE;
    let stages = [
        ("speed 0.9", Perturbation { speed: 0.9, ..none }),
        ("speed 1.1", Perturbation { speed: 1.1, ..none }),
        ("warp 1.1", Perturbation { warp: 1.1, ..none }),
        (
            "reverb rt60 0.15",
            Perturbation {
                rt60: Some(0.15),
                seed: 1,
                ..none
            },
        ),
        (
            "reverb rt60 0.6",
            Perturbation {
                rt60: Some(0.6),
                seed: 1,
                ..none
            },
        ),
        (
            "noise 10 dB",
            Perturbation {
                snr_db: Some(10.0),
                seed: 1,
                ..none
            },
        ),
        (
            "every stage",
            Perturbation {
                speed: 0.9,
                warp: 1.1,
                snr_db: Some(10.0),
                rt60: Some(0.6),
                seed: 1,
            },
        ),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let settings = AugmentSettings::default();
    let draws: Vec<Perturbation> = (0..64)
        .map(|_| Perturbation::draw(&settings, &mut rng))
        .collect();

    let mut group = c.benchmark_group("augment");
    group.sample_size(20);
    group.bench_function("mfcc front end", |b| {
        b.iter(|| black_box(mfcc(black_box(&signal), &config, &filters).expect("valid")))
    });
    for (name, p) in &stages {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(p.apply(black_box(&signal), RATE).expect("valid")))
        });
    }
    let mut next = 0;
    group.bench_function("default draws", |b| {
        b.iter(|| {
            let p = &draws[next % draws.len()];
            next += 1;
            black_box(p.apply(black_box(&signal), RATE).expect("valid"))
        })
    });
    let frames = mfcc(&signal, &config, &filters).expect("valid");
    group.bench_function("cepstral warp 1.1", |b| {
        b.iter(|| {
            let map = cepstral_warp(black_box(1.1), &config).expect("valid");
            black_box(black_box(&frames) * map.transpose())
        })
    });
    group.finish();
}

criterion_group!(benches, augment);
criterion_main!(benches);
