//! Tests for exercises/stage-4/optim.rs. Run with `cargo test -p stage-4 --test optim`.
//!
//! Three steps of each optimiser on fixed gradients, against
//! fixtures/backprop_fixtures.py, which follows the update rules in
//! PyTorch's documentation of torch.optim in plain Python.

use course_support::check::{assert_close, assert_exact};
use stage_4::{Adam, Optimizer, Sgd};

// The fixture table is shared by several test files; each uses part of it.
#[allow(dead_code)]
mod fixtures {
    include!("fixtures/backprop_values.rs");
}

fn replay(name: &str, optimizer: &mut dyn Optimizer, expected: &[&[&[f64]]]) {
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
        optimizer
            .step(&mut param_slices, &grad_slices)
            .expect("matching shapes");
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
    replay("SGD (η 0.1)", &mut Sgd::new(0.1), fixtures::SGD);
}

#[test]
fn sgd_with_momentum_matches_the_reference_steps() {
    replay(
        "SGD (η 0.1, μ 0.9)",
        &mut Sgd::with_momentum(0.1, 0.9, false),
        fixtures::SGD_MOMENTUM,
    );
}

#[test]
fn sgd_with_nesterov_and_weight_decay_matches_the_reference_steps() {
    let mut sgd = Sgd::with_momentum(0.1, 0.9, true);
    sgd.weight_decay = 0.01;
    replay(
        "SGD (η 0.1, Nesterov μ 0.9, λ 0.01)",
        &mut sgd,
        fixtures::SGD_NESTEROV_DECAY,
    );
}

#[test]
fn adam_matches_the_reference_steps() {
    replay("Adam (η 0.01)", &mut Adam::new(0.01), fixtures::ADAM);
}

#[test]
fn adam_with_l2_weight_decay_matches_the_reference_steps() {
    let mut adam = Adam::new(0.01);
    adam.weight_decay = 0.1;
    replay("Adam (η 0.01, L2 λ 0.1)", &mut adam, fixtures::ADAM_L2);
}

#[test]
fn adamw_matches_the_reference_steps() {
    replay(
        "AdamW (η 0.01, λ 0.1)",
        &mut Adam::adamw(0.01, 0.1),
        fixtures::ADAMW,
    );
}

#[test]
fn mismatched_gradients_are_an_error() {
    let mut params = [vec![1.0f32, 2.0]];
    let mut slices: Vec<&mut [f32]> = params.iter_mut().map(Vec::as_mut_slice).collect();
    let grads = [0.5f32];
    for (name, optimizer) in [
        ("Sgd", &mut Sgd::new(0.1) as &mut dyn Optimizer),
        ("Adam", &mut Adam::new(0.1)),
    ] {
        let err = optimizer
            .step(&mut slices, &[&grads])
            .map(|_| "Ok".to_owned())
            .unwrap_or_else(|e| e.to_string());
        assert_exact(
            &format!("{name}::step with 1 gradient value for 2 parameters"),
            "gradient 0: expected 2 values like its parameter, found 1".to_owned(),
            err,
        );
    }
    assert_exact(
        "parameters after a refused step",
        vec![1.0, 2.0],
        params[0].clone(),
    );
}
