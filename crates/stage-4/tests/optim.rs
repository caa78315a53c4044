//! Tests for exercises/stage-4/optim.rs. Run with `cargo test -p stage-4 --test optim`.
//!
//! Three steps of each optimiser on fixed gradients, against
//! fixtures/backprop_fixtures.py, which follows the update rules in
//! PyTorch's documentation of torch.optim in plain Python.

use course_support::check::{assert_close, assert_close_naming, assert_exact, assert_value_error};
use stage_4::ShapeError;
use stage_4::optim::{adam_step, sgd_step, step};
use stage_4::{Adam, Optimizer, Sgd};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

// The fixture table is shared by several test files; each uses part of it.
#[allow(dead_code)]
mod fixtures {
    include!("fixtures/backprop_values.rs");
}

/// The optimiser's step as a function of the parameters and gradients.
type TakeStep<'a> = &'a mut dyn FnMut(&mut [&mut [f32]], &[&[f32]]) -> Result<(), ShapeError>;

fn replay(name: &str, take_step: TakeStep, expected: &[&[&[f64]]]) {
    let mut params: Vec<Vec<f32>> = fixtures::PARAMS
        .iter()
        .map(|t| t.iter().map(|&v| v as f32).collect())
        .collect();
    for (step, (grads, want)) in fixtures::GRADS.iter().zip(expected).enumerate() {
        let grads: Vec<Vec<f32>> = grads
            .iter()
            .map(|t| t.iter().map(|&v| v as f32).collect())
            .collect();
        let grad_slices: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let mut param_slices: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
        take_step(&mut param_slices, &grad_slices).expect("matching shapes");
        for (t, (have, want)) in params.iter().zip(want.iter()).enumerate() {
            for (i, (&h, &w)) in have.iter().zip(want.iter()).enumerate() {
                assert_close(
                    &format!("{name}: tensor {t}[{i}] after step {}", step + 1),
                    w,
                    h,
                    1e-5,
                );
            }
        }
    }
}

#[test]
fn sgd_matches_the_reference_steps() {
    let mut sgd = Sgd::new(0.1);
    replay(
        "SGD (η 0.1)",
        &mut |p, g| sgd_step(&mut sgd, p, g),
        fixtures::SGD,
    );
}

#[test]
fn sgd_with_momentum_matches_the_reference_steps() {
    let mut sgd = Sgd::with_momentum(0.1, 0.9, false);
    replay(
        "SGD (η 0.1, μ 0.9)",
        &mut |p, g| sgd_step(&mut sgd, p, g),
        fixtures::SGD_MOMENTUM,
    );
}

#[test]
fn sgd_with_nesterov_and_weight_decay_matches_the_reference_steps() {
    let mut sgd = Sgd::with_momentum(0.1, 0.9, true);
    sgd.weight_decay = 0.01;
    replay(
        "SGD (η 0.1, Nesterov μ 0.9, λ 0.01)",
        &mut |p, g| sgd_step(&mut sgd, p, g),
        fixtures::SGD_NESTEROV_DECAY,
    );
}

#[test]
fn adam_matches_the_reference_steps() {
    let mut adam = Adam::new(0.01);
    replay(
        "Adam (η 0.01)",
        &mut |p, g| adam_step(&mut adam, p, g),
        fixtures::ADAM,
    );
}

#[test]
fn adams_epsilon_sits_outside_the_square_root() {
    // A gradient as small as ε shows where ε goes. Step 1 with g = 1e−8:
    // m̂ = g and v̂ = g², so √v̂ + ε = 2e−8 and the step is η/2 = 0.05.
    // Inside the root, √(v̂ + ε) ≈ 1e−4, and the step shrinks to about 1e−5.
    let mut adam = Adam::new(0.1);
    let mut param = [0.0f32];
    adam_step(&mut adam, &mut [&mut param], &[&[1e-8]]).expect("one tensor each");
    let inside = -0.1 * 1e-8 / (1e-16f64 + 1e-8).sqrt();
    assert_close_naming(
        "the parameter after one Adam step (η 0.1) with gradient 1e−8",
        -0.05,
        param[0],
        1e-4,
        &[("ε inside the square root, √(v̂ + ε)", inside)],
    );
}

#[test]
fn adamws_decay_comes_before_the_update_and_stays_out_of_the_gradient() {
    // AdamW (η 0.1, λ 0.5), p = 1, g = 1, step 1: m̂ = v̂ = 1, so the Adam
    // update is η · 1 / (1 + ε) ≈ 0.1. The decay first: p (1 − ηλ) − 0.1 = 0.85.
    let mut adam = Adam::adamw(0.1, 0.5);
    let mut param = [1.0f32];
    adam_step(&mut adam, &mut [&mut param], &[&[1.0]]).expect("one tensor each");
    assert_close_naming(
        "the parameter after one AdamW step (η 0.1, λ 0.5) from p = 1 with g = 1",
        0.85,
        param[0],
        1e-6,
        &[
            (
                "the decay applied after the update, (p − 0.1)(1 − ηλ)",
                0.855,
            ),
            (
                "Adam's L2 decay, λp added to the gradient, instead of AdamW's decoupled one",
                0.9,
            ),
        ],
    );
}

#[test]
fn adam_with_l2_weight_decay_matches_the_reference_steps() {
    let mut adam = Adam::new(0.01);
    adam.weight_decay = 0.1;
    replay(
        "Adam (η 0.01, L2 λ 0.1)",
        &mut |p, g| adam_step(&mut adam, p, g),
        fixtures::ADAM_L2,
    );
}

#[test]
fn adamw_matches_the_reference_steps() {
    let mut adamw = Adam::adamw(0.01, 0.1);
    replay(
        "AdamW (η 0.01, λ 0.1)",
        &mut |p, g| adam_step(&mut adamw, p, g),
        fixtures::ADAMW,
    );
}

#[test]
fn mismatched_gradients_are_an_error() {
    let mut params = [vec![1.0f32, 2.0]];
    let mut slices: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
    let grads = [0.5f32];
    let (mut sgd, mut adam) = (Sgd::new(0.1), Adam::new(0.1));
    let steps: [(&str, TakeStep); 2] = [
        ("sgd_step", &mut |p, g| sgd_step(&mut sgd, p, g)),
        ("adam_step", &mut |p, g| adam_step(&mut adam, p, g)),
    ];
    for (name, take_step) in steps {
        assert_value_error(
            &format!("{name} with 1 gradient value for 2 parameters"),
            take_step(&mut slices, &[&grads]),
            2,
            1,
        );
    }
    assert_exact(
        "parameters after a refused step",
        vec![1.0, 2.0],
        params[0].clone(),
    );
}

/// `step` must take the step of the optimiser the enum holds, and keep its
/// state in the enum: two steps through `step` equal two direct steps.
#[test]
fn step_takes_the_step_of_the_optimizer_it_holds() {
    let grads: Vec<Vec<f32>> = fixtures::GRADS[0]
        .iter()
        .map(|t| t.iter().map(|&v| v as f32).collect())
        .collect();
    let grad_slices: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
    let start: Vec<Vec<f32>> = fixtures::PARAMS
        .iter()
        .map(|t| t.iter().map(|&v| v as f32).collect())
        .collect();
    let mut direct_sgd = Sgd::with_momentum(0.1, 0.9, false);
    let mut direct_adam = Adam::new(0.01);
    let cases: [(&str, Optimizer, TakeStep); 2] = [
        (
            "Optimizer::Sgd (momentum 0.9)",
            Optimizer::Sgd(Sgd::with_momentum(0.1, 0.9, false)),
            &mut |p, g| sgd_step(&mut direct_sgd, p, g),
        ),
        (
            "Optimizer::Adam",
            Optimizer::Adam(Adam::new(0.01)),
            &mut |p, g| adam_step(&mut direct_adam, p, g),
        ),
    ];
    for (name, mut optimizer, direct) in cases {
        let (mut through_step, mut expected) = (start.clone(), start.clone());
        for _ in 0..2 {
            let mut slices: Vec<&mut [f32]> =
                through_step.iter_mut().map(Vec::as_mut_slice).collect();
            step(&mut optimizer, &mut slices, &grad_slices).expect("matching shapes");
            let mut slices: Vec<&mut [f32]> = expected.iter_mut().map(Vec::as_mut_slice).collect();
            direct(&mut slices, &grad_slices).expect("matching shapes");
        }
        assert_exact(
            &format!("{name}: parameters after two calls of step"),
            expected,
            through_step,
        );
    }
}
