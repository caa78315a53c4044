//! Tests for exercises/stage-4/train.rs. Run with `cargo test -p stage-4 --test train`.
//!
//! Gradient descent put together: the MLPs learn XOR, which no perceptron
//! can (stage 1), and the two moons.

use course_support::check::assert_exact;
use course_support::data::{Dataset, two_moons, xor_gate};
use nalgebra::DMatrix;
use stage_4::init::init_weights;
use stage_4::mlp::forward;
use stage_4::train::train_step;
use stage_4::{Activation, Adam, Init, Loss, Mlp, Optimizer, Sgd, Targets};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

fn classes(data: &Dataset) -> Vec<usize> {
    data.labels.iter().map(|&y| y as usize).collect()
}

fn accuracy(mlp: &Mlp, data: &Dataset) -> f32 {
    let output = forward(mlp, &data.input_matrix()).unwrap();
    let right = output
        .row_iter()
        .zip(classes(data))
        .filter(|(row, c)| row.transpose().argmax().0 == *c)
        .count();
    right as f32 / data.len() as f32
}

fn train(mlp: &mut Mlp, optimizer: impl Into<Optimizer>, data: &Dataset, steps: usize) -> Vec<f32> {
    let mut optimizer = optimizer.into();
    let (input, targets) = (data.input_matrix(), Targets::Classes(classes(data)));
    (0..steps)
        .map(|_| {
            train_step(mlp, &mut optimizer, &input, &targets, Loss::CrossEntropy)
                .expect("the shapes fit")
                .loss
        })
        .collect()
}

#[test]
fn an_mlp_learns_xor() {
    let data = xor_gate();
    let mut mlp = Mlp::new(
        &[2, 4, 2],
        &[Activation::Tanh, Activation::Identity],
        Init::XavierUniform,
        1,
        init_weights,
    )
    .unwrap();
    let losses = train(&mut mlp, Adam::new(0.05), &data, 300);
    assert!(
        losses[299] < 0.05,
        "XOR cross-entropy after 300 Adam steps: {} (started at {})",
        losses[299],
        losses[0]
    );
    assert_exact("XOR accuracy after 300 steps", 1.0, accuracy(&mlp, &data));
}

#[test]
fn an_mlp_learns_the_two_moons() {
    let data = two_moons(100, 0.1, 5);
    let mut mlp = Mlp::new(
        &[2, 16, 16, 2],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        2,
        init_weights,
    )
    .unwrap();
    let losses = train(&mut mlp, Adam::new(0.02), &data, 400);
    let acc = accuracy(&mlp, &data);
    assert!(
        acc >= 0.97,
        "moons accuracy after 400 Adam steps: {acc} (loss {} → {})",
        losses[0],
        losses[399]
    );
}

#[test]
fn sgd_with_mse_fits_a_linear_map() {
    // y = 2x₁ − x₂ + 0.5 from 8 points: one linear layer, mean squared error,
    // SGD with momentum reaches (almost) zero loss.
    let input = DMatrix::from_fn(8, 2, |i, j| ((i * 2 + j) as f32 * 0.37).sin());
    let target = DMatrix::from_fn(8, 1, |i, _| 2.0 * input[(i, 0)] - input[(i, 1)] + 0.5);
    let mut mlp = Mlp::new(
        &[2, 1],
        &[Activation::Identity],
        Init::XavierUniform,
        0,
        init_weights,
    )
    .unwrap();
    let mut sgd = Optimizer::from(Sgd::with_momentum(0.1, 0.9, false));
    let targets = Targets::Dense(target);
    let mut last = f32::INFINITY;
    for _ in 0..300 {
        last = train_step(&mut mlp, &mut sgd, &input, &targets, Loss::MeanSquared)
            .expect("the shapes fit")
            .loss;
    }
    assert!(
        last < 1e-6,
        "mean squared error after 300 SGD steps: {last}"
    );
}

#[test]
fn train_step_returns_the_loss_and_output_from_before_the_update() {
    let data = xor_gate();
    let mut mlp = Mlp::new(
        &[2, 3, 2],
        &[Activation::Tanh, Activation::Identity],
        Init::XavierUniform,
        4,
        init_weights,
    )
    .unwrap();
    let before = forward(&mlp, &data.input_matrix()).unwrap();
    let targets = Targets::Classes(classes(&data));
    let expected_loss = stage_4::losses::cross_entropy(&before, &targets).unwrap();
    let step = train_step(
        &mut mlp,
        &mut Optimizer::from(Adam::new(0.1)),
        &data.input_matrix(),
        &targets,
        Loss::CrossEntropy,
    )
    .expect("the shapes fit");
    assert_exact(
        "Step::output (the logits before the update)",
        before.clone(),
        step.output,
    );
    course_support::check::assert_close("Step::loss", expected_loss, step.loss, 1e-6);
    assert!(
        forward(&mlp, &data.input_matrix()).unwrap() != before,
        "train_step did not change the network"
    );
}
