//! Tests for exercises/stage-7/dropout.rs. Run with `cargo test -p stage-7 --test dropout`.
//!
//! The mask is checked draw by draw against the protocol (one
//! `random::<f32>()` per entry, column after column, dropped below the
//! rate), so a mask that only looks random enough still fails; then its
//! statistics, and the forward and backward passes by hand.

use course_support::check::{
    assert_close, assert_exact, assert_matrix_close, assert_matrix_close_naming,
    assert_shape_error, show_first_panic_only, to_f64,
};
use course_support::shape::Expected;
use nalgebra::{DMatrix, dmatrix};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stage_7::dropout::{dropout_backward, dropout_forward, dropout_mask};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

/// The mask the protocol gives, and the masks of the classic mistakes,
/// from a fresh generator seeded with `seed`.
fn expected_masks(
    rows: usize,
    columns: usize,
    rate: f32,
    seed: u64,
) -> (DMatrix<f64>, Vec<(&'static str, DMatrix<f64>)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draws: Vec<f32> = (0..rows * columns).map(|_| rng.random::<f32>()).collect();
    let keep = 1.0 / (1.0 - f64::from(rate));
    let build = |row_major: bool, kept: f64, drop_below: bool| {
        let mut m = DMatrix::zeros(rows, columns);
        for (k, &d) in draws.iter().enumerate() {
            let at = if row_major {
                (k / columns, k % columns)
            } else {
                (k % rows, k / rows)
            };
            let dropped = if drop_below { d < rate } else { d >= rate };
            m[at] = if dropped { 0.0 } else { kept };
        }
        m
    };
    let mistakes = vec![
        (
            "plain dropout: survivors kept at 1, not scaled by 1/(1 − p)",
            build(false, 1.0, true),
        ),
        (
            "survivors scaled by (1 − p) instead of 1/(1 − p)",
            build(false, 1.0 - f64::from(rate), true),
        ),
        (
            "an entry dropped when its draw is at or above the rate (that keeps p, not 1 − p)",
            build(false, keep, false),
        ),
        (
            "the draws taken row by row (the protocol goes column after column, nalgebra's order)",
            build(true, keep, true),
        ),
    ];
    (build(false, keep, true), mistakes)
}

#[test]
fn the_mask_follows_the_protocol_draw_by_draw() {
    for (rows, columns, rate, seed) in [(3, 4, 0.25, 7), (5, 2, 0.5, 1), (4, 6, 0.1, 42)] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mask = dropout_mask(rows, columns, rate, &mut rng).expect("a valid rate");
        let (expected, mistakes) = expected_masks(rows, columns, rate, seed);
        assert_matrix_close_naming(
            &format!("dropout_mask({rows}, {columns}, {rate}) from seed {seed}"),
            &expected,
            &to_f64(&mask),
            1e-6,
            &mistakes,
        );
        // Exactly one draw per entry: the generator is where the protocol
        // leaves it.
        let mut reference = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..rows * columns {
            reference.random::<f32>();
        }
        assert_exact(
            &format!("the next draw after a {rows} x {columns} mask (one draw per entry)"),
            reference.random::<f32>(),
            rng.random::<f32>(),
        );
    }
}

#[test]
fn rate_zero_keeps_everything_and_still_draws() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mask = dropout_mask(4, 3, 0.0, &mut rng).expect("rate 0 is valid");
    assert_exact(
        "dropout_mask at rate 0",
        DMatrix::from_element(4, 3, 1.0f32),
        mask,
    );
    let mut reference = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..12 {
        reference.random::<f32>();
    }
    assert_exact(
        "the next draw after a 4 x 3 mask at rate 0 (every entry still takes its draw, so the \
         stream does not depend on the rate)",
        reference.random::<f32>(),
        rng.random::<f32>(),
    );
}

#[test]
fn a_large_mask_drops_about_p_and_keeps_the_mean() {
    let (rows, columns, rate) = (200, 50, 0.3);
    let mask =
        dropout_mask(rows, columns, rate, &mut ChaCha8Rng::seed_from_u64(5)).expect("a valid rate");
    let n = (rows * columns) as f64;
    let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64 / n;
    // The fraction's standard deviation is √(p(1 − p)/n) ≈ 0.0046.
    assert_close(
        "the fraction of a 200 x 50 mask dropped at p = 0.3",
        0.3,
        dropped,
        0.02,
    );
    let mean = mask.iter().map(|&m| f64::from(m)).sum::<f64>() / n;
    assert_close(
        "the mean of a 200 x 50 mask at p = 0.3 (inverted dropout keeps it at 1)",
        1.0,
        mean,
        0.03,
    );
}

#[test]
fn a_rate_outside_0_to_1_is_an_error() {
    for rate in [1.0, 1.5, -0.1, f32::NAN, f32::INFINITY] {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        match dropout_mask(2, 2, rate, &mut rng) {
            Err(e) => assert!(
                matches!(e.expected, Expected::Described(_)),
                "dropout_mask at rate {rate}: expected an error describing the valid rates, got \
                 {e:?}"
            ),
            Ok(mask) => panic!(
                "dropout_mask at rate {rate}: expected an error (the rate must be in [0, 1)), \
                 got Ok({mask})"
            ),
        }
    }
}

#[test]
fn forward_and_backward_by_hand() {
    let input = dmatrix![1.0f32, -2.0, 3.0; 0.5, 4.0, -1.0];
    let mask = dmatrix![2.0f32, 0.0, 2.0; 0.0, 2.0, 2.0];
    let output = dropout_forward(&input, &mask).expect("the shapes fit");
    assert_matrix_close(
        "dropout_forward: the input times its mask",
        &dmatrix![2.0, 0.0, 6.0; 0.0, 8.0, -2.0],
        &to_f64(&output),
        1e-6,
    );
    let grad = dmatrix![0.1f32, 0.2, 0.3; -0.4, 0.5, 0.6];
    let back = dropout_backward(&grad, &mask).expect("the shapes fit");
    assert_matrix_close(
        "dropout_backward: dL/dy times the same mask (a dropped unit passes no gradient, a \
         kept one passes it scaled by 1/(1 − p))",
        &dmatrix![0.2, 0.0, 0.6; 0.0, 1.0, 1.2],
        &to_f64(&back),
        1e-6,
    );
}

#[test]
fn a_mask_of_another_shape_is_an_error() {
    let x = DMatrix::<f32>::zeros(3, 4);
    assert_shape_error(
        "dropout_forward with a (3, 5) mask for a (3, 4) input",
        dropout_forward(&x, &DMatrix::zeros(3, 5)),
        4,
        (3, 5),
    );
    assert_shape_error(
        "dropout_backward with a (2, 4) mask for a (3, 4) gradient",
        dropout_backward(&x, &DMatrix::zeros(2, 4)),
        3,
        (2, 4),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(32) })]

    /// Backward is the adjoint of forward: ⟨forward(x), g⟩ = ⟨x, backward(g)⟩
    /// for any x and g, as for any linear map.
    #[test]
    fn backward_is_the_adjoint_of_forward(
        (rows, columns) in (1usize..6, 1usize..6),
        seed in 0u64..1000,
        rate in 0.0f32..0.9,
    ) {
        show_first_panic_only();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mask = dropout_mask(rows, columns, rate, &mut rng).expect("a valid rate");
        let x = DMatrix::from_fn(rows, columns, |i, j| ((i * 7 + j * 3) as f32).sin());
        let g = DMatrix::from_fn(rows, columns, |i, j| ((i * 5 + j * 11) as f32).cos());
        let forward = dropout_forward(&x, &mask).expect("the shapes fit");
        let backward = dropout_backward(&g, &mask).expect("the shapes fit");
        let left = f64::from(forward.dot(&g));
        let right = f64::from(x.dot(&backward));
        prop_assert!(
            (left - right).abs() <= 1e-4 * (1.0 + left.abs()),
            "⟨forward(x), g⟩ = {left} but ⟨x, backward(g)⟩ = {right}"
        );
    }
}
