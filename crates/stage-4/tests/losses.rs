//! Tests for exercises/stage-4/losses.rs. Run with `cargo test -p stage-4 --test losses`.

use course_support::check::{
    assert_close, assert_close_naming, assert_matrix_close, assert_shape_error, assert_value_error,
    show_first_panic_only, to_f64,
};
use nalgebra::{DMatrix, dmatrix};
use proptest::prelude::*;
use stage_4::Targets;
use stage_4::gradcheck::{Tolerance, check_gradients};
use stage_4::losses::*;

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

#[test]
fn mse_by_hand() {
    // Differences 0, 2, 3, 0: (0 + 4 + 9 + 0) / 4 = 3.25; gradient 2·diff / 4.
    let y = dmatrix![1.0, 2.0; 3.0, 4.0];
    let t = dmatrix![1.0, 0.0; 0.0, 4.0];
    assert_close("mse", 3.25, mse(&y, &t).expect("same shapes"), 1e-6);
    let g = mse_gradient(&y, &t).expect("same shapes");
    assert_matrix_close(
        "mse_gradient",
        &dmatrix![0.0, 1.0; 1.5, 0.0],
        &to_f64(&g),
        1e-6,
    );
}

#[test]
fn cross_entropy_by_hand() {
    // Row 1: −log softmax(1, 2, 3)₂ = ln(e + e² + e³) − 3 = 0.40760596444;
    // row 2: −log(1/3) = ln 3 = 1.09861228867. Mean 0.75310912656.
    let logits = dmatrix![1.0, 2.0, 3.0; 0.0, 0.0, 0.0];
    let classes = Targets::Classes(vec![2, 0]);
    assert_close_naming(
        "cross_entropy, classes [2, 0]",
        0.75310912656,
        cross_entropy(&logits, &classes).expect("fits"),
        1e-6,
        &[
            (
                "the loss averaged over rows and classes (N · C entries) instead of rows",
                0.75310912656 / 3.0,
            ),
            (
                "the loss summed over the rows, not averaged",
                0.75310912656 * 2.0,
            ),
        ],
    );
    // One-hot rows give the same loss as class indices.
    let one_hot = Targets::Dense(dmatrix![0.0, 0.0, 1.0; 1.0, 0.0, 0.0]);
    assert_close(
        "cross_entropy, one-hot",
        0.75310912656,
        cross_entropy(&logits, &one_hot).expect("fits"),
        1e-6,
    );
    // Soft targets (0.2, 0.3, 0.5) on (1, 2, 3): 0.2·2.40760596 + 0.3·1.40760596 + 0.5·0.40760596.
    let soft = Targets::Dense(dmatrix![0.2, 0.3, 0.5]);
    assert_close(
        "cross_entropy, soft targets",
        1.10760596444,
        cross_entropy(&dmatrix![1.0, 2.0, 3.0], &soft).expect("fits"),
        1e-6,
    );
}

#[test]
fn cross_entropy_gradient_by_hand() {
    // softmax(0, 0) = (0.5, 0.5); with class 1 and N = 2 rows: (0.5 − 0, 0.5 − 1) / 2.
    // softmax(ln 3, 0) = (0.75, 0.25); class 0: (0.75 − 1, 0.25) / 2.
    let logits = dmatrix![0.0, 0.0; 3f32.ln(), 0.0];
    let g = cross_entropy_gradient(&logits, &Targets::Classes(vec![1, 0])).expect("fits");
    assert_matrix_close(
        "cross_entropy_gradient",
        &dmatrix![0.25, -0.25; -0.125, 0.125],
        &to_f64(&g),
        1e-6,
    );
}

#[test]
fn cross_entropy_is_exact_for_huge_logits() {
    // log softmax(1e4, 0, −1e4) = (0, −1e4, −2e4) to within e^−1e4.
    let logits = dmatrix![1e4, 0.0, -1e4; 1e4, 0.0, -1e4; 1e4, 0.0, -1e4];
    let log_p = log_softmax(&logits);
    assert!(
        log_p.iter().all(|v| v.is_finite()),
        "log_softmax of ±1e4 is not finite:{log_p}"
    );
    assert_matrix_close(
        "log_softmax of (1e4, 0, −1e4)",
        &dmatrix![0.0, -1e4, -2e4; 0.0, -1e4, -2e4; 0.0, -1e4, -2e4],
        &to_f64(&log_p),
        1e-6,
    );
    // Classes 0, 1, 2: losses 0, 1e4, 2e4, mean 1e4.
    let targets = Targets::Classes(vec![0, 1, 2]);
    let loss = cross_entropy(&logits, &targets).expect("fits");
    assert_close("cross_entropy of ±1e4 logits", 1e4, loss, 1e-6);
    let g = cross_entropy_gradient(&logits, &targets).expect("fits");
    let third = 1.0 / 3.0;
    assert_matrix_close(
        "cross_entropy_gradient of ±1e4 logits",
        &dmatrix![0.0, 0.0, 0.0; third, -third, 0.0; third, 0.0, -third],
        &to_f64(&g),
        1e-6,
    );
}

#[test]
fn bad_targets_are_errors_that_say_why() {
    let logits = DMatrix::zeros(2, 3);
    // A class below 3 needed, 3 found; then 2 labels needed, 3 found.
    assert_value_error(
        "cross_entropy with class 3 of 3",
        cross_entropy(&logits, &Targets::Classes(vec![0, 3])),
        3,
        3,
    );
    assert_value_error(
        "cross_entropy with 3 labels for 2 rows",
        cross_entropy(&logits, &Targets::Classes(vec![0, 1, 2])),
        2,
        3,
    );
    assert_shape_error(
        "mse with (2, 2) targets for (2, 3) outputs",
        mse(&logits, &DMatrix::zeros(2, 2)),
        3,
        (2, 2),
    );
    assert_shape_error(
        "mse_gradient with (2, 2) targets for (2, 3) outputs",
        mse_gradient(&logits, &DMatrix::zeros(2, 2)),
        3,
        (2, 2),
    );
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(48) })]

    #[test]
    fn log_softmax_is_the_log_of_a_distribution(values in proptest::collection::vec(-20.0f32..20.0, 12)) {
        show_first_panic_only();
        let logits = DMatrix::from_row_slice(3, 4, &values);
        let log_p = log_softmax(&logits);
        for (i, row) in log_p.row_iter().enumerate() {
            let total: f32 = row.iter().map(|v| v.exp()).sum();
            prop_assert!((total - 1.0).abs() < 1e-5, "row {}: Σ exp(log_softmax) = {}", i, total);
        }
    }

    /// Both loss gradients agree with central differences of the losses.
    #[test]
    fn loss_gradients_match_central_differences(
        values in proptest::collection::vec(-3.0f32..3.0, 12),
        soft in proptest::collection::vec(0.01f32..1.0, 12),
        classes in proptest::collection::vec(0usize..4, 3),
    ) {
        show_first_panic_only();
        let logits = DMatrix::from_row_slice(3, 4, &values);
        let mut t = DMatrix::from_row_slice(3, 4, &soft);
        for mut row in t.row_iter_mut() {
            let s = row.sum();
            row /= s;
        }
        let tensors = [("logits".to_owned(), logits.as_slice().to_vec())];
        let rebuild = |v: &[Vec<f32>]| DMatrix::from_column_slice(3, 4, &v[0]);
        for targets in [Targets::Classes(classes.clone()), Targets::Dense(t.clone())] {
            let g = cross_entropy_gradient(&logits, &targets).unwrap();
            let report = check_gradients(&tensors, &[g.as_slice()], |v| cross_entropy(&rebuild(v), &targets).unwrap(), 1e-2, Tolerance::F32);
            prop_assert!(report.passed(), "cross_entropy_gradient ({:?}):\n{}", targets, report);
        }
        let g = mse_gradient(&logits, &t).unwrap();
        let report = check_gradients(&tensors, &[g.as_slice()], |v| mse(&rebuild(v), &t).unwrap(), 1e-2, Tolerance::F32);
        prop_assert!(report.passed(), "mse_gradient:\n{}", report);
    }
}
