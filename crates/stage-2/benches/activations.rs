//! `cargo bench -p stage-2 --features bench`: every activation and its derivative over a
//! batch of 128 × 256 values (one hidden layer's pre-activations), yours
//! beside the reference in the same run. Your implementation is skipped, with
//! a note, while it still panics (`todo!()`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use nalgebra::DMatrix;
use stage_2::Activation;
use stage_2::activations::{apply, derivative};

fn batch() -> DMatrix<f32> {
    // Deterministic values spread over [-6, 6).
    DMatrix::from_fn(128, 256, |i, j| ((i * 256 + j) % 1200) as f32 / 100.0 - 6.0)
}

fn yours_is_implemented(f: impl Fn() + std::panic::UnwindSafe) -> bool {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = std::panic::catch_unwind(f).is_ok();
    std::panic::set_hook(hook);
    ok
}

fn element_wise(c: &mut Criterion) {
    let z = batch();
    for activation in Activation::ALL {
        let mut group = c.benchmark_group(format!("{}/128x256", activation.slug()));
        group.bench_function(BenchmarkId::new("forward", "reference"), |b| {
            b.iter(|| black_box(&z).map(|x| reference::activations::apply(activation, x)))
        });
        group.bench_function(BenchmarkId::new("derivative", "reference"), |b| {
            b.iter(|| black_box(&z).map(|x| reference::activations::derivative(activation, x)))
        });
        if yours_is_implemented(|| {
            apply(activation, 0.5);
            derivative(activation, 0.5);
        }) {
            group.bench_function(BenchmarkId::new("forward", "yours"), |b| {
                b.iter(|| black_box(&z).map(|x| apply(activation, x)))
            });
            group.bench_function(BenchmarkId::new("derivative", "yours"), |b| {
                b.iter(|| black_box(&z).map(|x| derivative(activation, x)))
            });
        } else {
            eprintln!(
                "{activation}: your version is not implemented yet, benchmarking the reference only"
            );
        }
        group.finish();
    }
}

fn softmax(c: &mut Criterion) {
    // 128 rows of 10 logits: the output layer of an MNIST classifier.
    let logits = DMatrix::from_fn(128, 10, |i, j| ((i * 10 + j) % 37) as f32 - 18.0);
    let mut group = c.benchmark_group("softmax/128x10");
    group.bench_function("reference", |b| {
        b.iter(|| reference::activations::softmax(black_box(&logits)))
    });
    let probe = logits.clone();
    if yours_is_implemented(move || {
        stage_2::activations::softmax(&probe);
    }) {
        group.bench_function("yours", |b| {
            b.iter(|| stage_2::activations::softmax(black_box(&logits)))
        });
    } else {
        eprintln!("softmax: your version is not implemented yet, benchmarking the reference only");
    }
    group.finish();
}

criterion_group!(benches, element_wise, softmax);
criterion_main!(benches);
