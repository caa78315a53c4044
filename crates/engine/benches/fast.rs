//! `cargo bench -p engine`: the fast path beside the teaching code, at the
//! sizes of the performance benchmark (`crates/bench`): MLP 784 → 512 ReLU
//! → 256 ReLU → 10, batch 128, softmax cross-entropy, Adam; and inference
//! over 10,000 rows in one batch.
//!
//! Groups: `forward` (one batch), `backward` (the teaching code's
//! `mlp_backward` from a stored trace; the fast path's forward + backward,
//! its backward being fused with the loss), `optimizer` (the teaching
//! `Adam::step` over all 535,818 parameters; the fast path's Adam runs inside
//! its backward pass, so it shows as `train_step` minus `gradients`),
//! `train_step` (one whole step, on a synthetic batch in which every pixel
//! varies and on the first 128 images of the bundled MNIST sample, whose
//! background pixels the fast path leaves out of the first layer's
//! products unless told not to; and with dropout at 0.2 after both hidden
//! layers, its masks drawn each step) and `inference` (10,000 rows).

use std::hint::black_box;

use course_support::activation::Activation;
use course_support::gradients::{Loss, Targets};
use course_support::network::{Init, Mlp};
use course_support::optim::{Adam, Optimizer};
use criterion::{Criterion, criterion_group, criterion_main};
use engine::{Trainer, input};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reference::backward::mlp_backward;
use reference::losses::cross_entropy_gradient;
use reference::optim::adam_step;
use reference::train::train_step;

const BATCH: usize = 128;

fn network() -> Mlp {
    Mlp::new(
        &[784, 512, 256, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        0,
        reference::init::init_weights,
    )
    .expect("a valid network")
}

fn data(rows: usize) -> (DMatrix<f32>, Vec<usize>) {
    let x = DMatrix::from_fn(rows, 784, |i, j| ((i * 784 + j) % 255) as f32 / 127.5 - 1.0);
    let labels = (0..rows).map(|i| i % 10).collect();
    (x, labels)
}

fn forward(c: &mut Criterion) {
    let mlp = network();
    let (x, _) = data(BATCH);
    let mut trainer = Trainer::new(&mlp, BATCH).expect("a supported network");
    let mut group = c.benchmark_group("forward");
    group.bench_function("teaching", |b| {
        b.iter(|| black_box(reference::mlp::forward(&mlp, black_box(&x)).expect("shapes fit")))
    });
    group.bench_function("fast", |b| {
        b.iter(|| {
            trainer
                .forward(&mlp, input(black_box(&x)))
                .expect("shapes fit");
        })
    });
    group.finish();
}

fn backward(c: &mut Criterion) {
    let mlp = network();
    let (x, labels) = data(BATCH);
    let trace = reference::mlp::forward_trace(&mlp, &x).expect("shapes fit");
    let targets = Targets::Classes(labels.clone());
    let grad = cross_entropy_gradient(trace.last().expect("a trace"), &targets).expect("fits");
    let mut trainer = Trainer::new(&mlp, BATCH).expect("a supported network");
    let mut group = c.benchmark_group("backward");
    group.bench_function("teaching (backward only)", |b| {
        b.iter(|| black_box(mlp_backward(&mlp, black_box(&trace), &grad).expect("fits")))
    });
    group.bench_function("fast (forward + loss + backward)", |b| {
        b.iter(|| {
            black_box(trainer.gradients(&mlp, input(&x), &labels).expect("fits"));
        })
    });
    group.finish();
}

fn optimizer(c: &mut Criterion) {
    let mut mlp = network();
    let (x, labels) = data(BATCH);
    let trace = reference::mlp::forward_trace(&mlp, &x).expect("shapes fit");
    let targets = Targets::Classes(labels);
    let grad = cross_entropy_gradient(trace.last().expect("a trace"), &targets).expect("fits");
    let grads = mlp_backward(&mlp, &trace, &grad).expect("fits");
    let mut adam = Adam::new(1e-3);
    c.bench_function("optimizer/teaching adam_step (535,818 parameters)", |b| {
        b.iter(|| adam_step(&mut adam, &mut mlp.parameters_mut(), &grads.flat()).expect("pairs"))
    });
}

/// The first `rows` images of the bundled MNIST sample, normalised as the
/// pipeline does (a real batch: about a third of its pixels are background
/// in every image).
fn mnist_batch(rows: usize) -> (DMatrix<f32>, Vec<usize>) {
    let data = mnist::load_dir(&mnist::sample_dir()).expect("the bundled MNIST sample");
    let images = &data.train.images;
    let x = DMatrix::from_fn(rows, 784, |r, j| {
        (f32::from(images.image(r)[j]) / 255.0 - 0.1307) / 0.3081
    });
    let labels = data.train.labels[..rows]
        .iter()
        .map(|&l| usize::from(l))
        .collect();
    (x, labels)
}

fn step(c: &mut Criterion) {
    let (x, labels) = data(BATCH);
    let targets = Targets::Classes(labels.clone());
    let mut group = c.benchmark_group("train_step");
    let (mut mlp, mut adam) = (network(), Optimizer::from(Adam::new(1e-3)));
    group.bench_function("teaching", |b| {
        b.iter(|| {
            black_box(train_step(
                &mut mlp,
                &mut adam,
                &x,
                &targets,
                Loss::CrossEntropy,
            ))
        })
    });
    let (mut mlp, mut adam) = (network(), Adam::new(1e-3));
    let mut trainer = Trainer::new(&mlp, BATCH).expect("a supported network");
    group.bench_function("fast", |b| {
        b.iter(|| black_box(trainer.step(&mut mlp, &mut adam, input(&x), &labels)))
    });
    let (mut mlp, mut adam) = (network(), Adam::new(1e-3));
    let mut trainer = Trainer::new(&mlp, BATCH)
        .and_then(|trainer| trainer.with_dropout(0.2))
        .expect("a supported network");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    group.bench_function("fast, dropout 0.2", |b| {
        b.iter(|| {
            black_box(trainer.step_with(&mut mlp, &mut adam, input(&x), &labels, Some(&mut rng)))
        })
    });
    let (x, labels) = mnist_batch(BATCH);
    for (name, skip) in [
        ("fast, MNIST batch", true),
        ("fast, MNIST batch, dense", false),
    ] {
        let (mut mlp, mut adam) = (network(), Adam::new(1e-3));
        let mut trainer = Trainer::new(&mlp, BATCH).expect("a supported network");
        trainer.skip_constant_inputs(skip);
        group.bench_function(name, |b| {
            b.iter(|| black_box(trainer.step(&mut mlp, &mut adam, input(&x), &labels)))
        });
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let mlp = network();
    let (x, _) = data(10_000);
    let mut trainer = Trainer::new(&mlp, 0).expect("a supported network");
    let mut group = c.benchmark_group("inference 10000 rows");
    group.sample_size(20);
    group.bench_function("teaching", |b| {
        b.iter(|| black_box(reference::mlp::forward(&mlp, &x).expect("fits")))
    });
    group.bench_function("fast", |b| {
        b.iter(|| {
            trainer.forward(&mlp, input(&x)).expect("fits");
        })
    });
    group.finish();
}

criterion_group!(benches, forward, backward, optimizer, step, inference);
criterion_main!(benches);
