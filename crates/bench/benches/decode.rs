//! `cargo bench -p bench --bench decode`: what decoding
//! (`speech::decode::smooth`) costs beside the MFCC front end, for the same
//! 3 s utterance (298 frames of 40 classes), in one run so that the ratio
//! can be quoted. The log probabilities are drawn from a seeded generator
//! and normalised per frame; their values do not change the work done.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use speech::decode::smooth;
use speech::mfcc::{frame_count, mfcc};

const CLASSES: usize = 40;

fn decode(c: &mut Criterion) {
    let (config, filters) = common::front_end();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let samples = 3 * config.sample_rate as usize;
    let signal: Vec<f32> = (0..samples).map(|_| rng.random_range(-0.3..0.3)).collect();
    let frames = frame_count(signal.len(), &config);
    let log_probs: Vec<f32> = (0..frames)
        .flat_map(|_| {
            let row: Vec<f32> = (0..CLASSES).map(|_| rng.random_range(-6.0..6.0)).collect();
            let log_sum = row.iter().map(|v| v.exp()).sum::<f32>().ln();
            row.into_iter().map(move |v| v - log_sum)
        })
        .collect();

    let mut group = c.benchmark_group("decode");
    group.sample_size(20);
    group.bench_function("mfcc front end", |b| {
        b.iter(|| black_box(mfcc(black_box(&signal), &config, &filters).expect("valid")))
    });
    group.bench_function("smooth, penalty 2", |b| {
        b.iter(|| black_box(smooth(black_box(&log_probs), CLASSES, 2.0).expect("valid")))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
