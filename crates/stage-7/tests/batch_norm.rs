//! Tests for exercises/stage-7/batch_norm.rs. Run with `cargo test -p stage-7 --test batch_norm`.
//!
//! Forward passes, running estimates and backward passes are compared with
//! numpy (fixtures/regularise_fixtures.py, which also computes what the
//! classic mistakes give, so a failure can name one), including a constant
//! column and a batch far from zero; the backward pass also meets the
//! gradient checker, yours and the course's. The backward tests take their
//! cache from the fixtures, not from your forward pass, so they test
//! `batch_norm_backward` alone.

use course_support::check::{
    assert_close, assert_matrix_close, assert_matrix_close_naming, assert_shape_error, is_close,
    largest_difference, show_first_panic_only, to_f64,
};
use course_support::shape::{Expected, Found};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use stage_7::batch_norm::*;
use stage_7::gradcheck::GradientReport;
use stage_7::{BatchNorm, BatchNormCache, BatchNormGradients, ShapeError};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

#[allow(dead_code)]
mod fixtures {
    include!("fixtures/regularise_values.rs");
}
use fixtures::*;

fn matrix(rows: &[&[f64]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

fn matrix32(rows: &[&[f64]]) -> DMatrix<f32> {
    matrix(rows).map(|v| v as f32)
}

fn column(values: &[f64]) -> DMatrix<f64> {
    DMatrix::from_column_slice(values.len(), 1, values)
}

fn column_of(v: &DVector<f32>) -> DMatrix<f64> {
    to_f64(&DMatrix::from_column_slice(v.len(), 1, v.as_slice()))
}

fn vector(values: &[f64]) -> DVector<f32> {
    DVector::from_iterator(values.len(), values.iter().map(|&v| v as f32))
}

/// A layer with the fixtures' γ and β, fresh running estimates (0 and 1).
fn layer(gamma: &[f64], beta: &[f64]) -> BatchNorm {
    let mut bn = BatchNorm::new(gamma.len());
    bn.gamma = vector(gamma);
    bn.beta = vector(beta);
    bn
}

fn train(bn: &mut BatchNorm, x: &DMatrix<f32>) -> (DMatrix<f32>, BatchNormCache) {
    batch_norm_train(bn, x).unwrap_or_else(|e| panic!("batch_norm_train: {e}"))
}

/// The cache the fixtures' forward pass keeps: x̂ and 1/√(σ² + ε).
fn fixture_cache(x_hat: &[&[f64]], inverse_std: &[f64]) -> BatchNormCache {
    BatchNormCache {
        normalized: matrix32(x_hat),
        inverse_std: vector(inverse_std),
    }
}

/// Whether `got` is within `tolerance` of `expected` everywhere.
fn all_close(expected: &DMatrix<f64>, got: &DMatrix<f64>, tolerance: f64) -> bool {
    expected.shape() == got.shape()
        && expected
            .iter()
            .zip(got.iter())
            .all(|(&e, &g)| is_close(e, g, tolerance))
}

/// Per column, how many times wider x̂ = (y − β)/γ spreads in `got` than in
/// the fixture's `x_hat`. x̂'s spread depends on σ² alone (it is
/// √(σ²/(σ² + ε)) whatever the batch), so a ratio far from 1 says the
/// batch variance came out wrong.
fn spread_ratios(got: &DMatrix<f32>, x_hat: &[&[f64]], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let spread = |values: &[f64]| {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    };
    (0..gamma.len())
        .map(|j| {
            let yours: Vec<f64> = (0..x_hat.len())
                .map(|i| (f64::from(got[(i, j)]) - beta[j]) / gamma[j])
                .collect();
            let expected: Vec<f64> = x_hat.iter().map(|row| row[j]).collect();
            spread(&yours) / spread(&expected)
        })
        .collect()
}

#[test]
fn training_mode_matches_numpy() {
    let mut bn = layer(GAMMA, BETA);
    let (y, cache) = train(&mut bn, &matrix32(X1));
    assert_matrix_close_naming(
        "batch_norm_train output for X1 (5 x 3; column 1 spreads by about 3e-3 only)",
        &matrix(Y1),
        &to_f64(&y),
        1e-4,
        &[
            (
                "normalising with the unbiased variance (÷ (N − 1)); normalisation uses the biased one (÷ N)",
                matrix(Y1_UNBIASED),
            ),
            (
                "ε added outside the square root, (x − μ)/(√σ² + ε), where it belongs inside: \
                 (x − μ)/√(σ² + ε)",
                matrix(Y1_EPS_OUTSIDE),
            ),
            (
                "no square root: (x − μ)/(σ² + ε), where x̂ = (x − μ)/√(σ² + ε)",
                matrix(Y1_NO_SQRT),
            ),
        ],
    );
    // The cache: x̂ = (y − β)/γ and 1/√(σ² + ε).
    let x_hat = DMatrix::from_fn(5, 3, |i, j| (Y1[i][j] - BETA[j]) / GAMMA[j]);
    assert_matrix_close(
        "BatchNormCache::normalized (x̂) for X1",
        &x_hat,
        &to_f64(&cache.normalized),
        1e-4,
    );
    assert_eq!(
        cache.inverse_std.len(),
        3,
        "BatchNormCache::inverse_std: one value per feature"
    );
    for j in 0..3 {
        // x̂'s column j has a (biased) variance of σ²/(σ² + ε) = 1 − ε s².
        let s = f64::from(cache.inverse_std[j]);
        let var_hat = (0..5).map(|i| x_hat[(i, j)].powi(2)).sum::<f64>() / 5.0;
        assert_close(
            &format!("feature {j}: 1 − ε · inverse_std² (the variance of x̂)"),
            var_hat,
            1.0 - 1e-5 * s * s,
            1e-4,
        );
    }
}

#[test]
fn running_estimates_move_as_pytorchs() {
    let mut bn = layer(GAMMA, BETA);
    train(&mut bn, &matrix32(X1));
    assert_matrix_close_naming(
        "running_mean after one batch (momentum 0.1, from 0)",
        &column(RUNNING_MEAN_1),
        &column_of(&bn.running_mean),
        1e-5,
        &[(
            "the momentum applied the wrong way round: (1 − m)·μ_batch + m·running, where \
             PyTorch moves by m: (1 − m)·running + m·μ_batch",
            column(RUNNING_MEAN_1_SWAPPED),
        )],
    );
    assert_matrix_close_naming(
        "running_var after one batch (momentum 0.1, from 1)",
        &column(RUNNING_VAR_1),
        &column_of(&bn.running_var),
        1e-5,
        &[
            (
                "the biased variance (÷ N) in the running estimate; PyTorch keeps the \
                 unbiased one (÷ (N − 1)) there",
                column(RUNNING_VAR_1_BIASED),
            ),
            (
                "the momentum applied the wrong way round (m ↔ 1 − m)",
                column(RUNNING_VAR_1_SWAPPED),
            ),
        ],
    );
    let (y, _) = train(&mut bn, &matrix32(X2));
    assert_matrix_close_naming(
        "batch_norm_train output for the second batch X2 (its own statistics, not the running ones)",
        &matrix(Y2),
        &to_f64(&y),
        1e-4,
        &[(
            "normalising with the unbiased variance (÷ (N − 1)); normalisation uses the biased \
             one (÷ N), and only the running variance takes the unbiased one",
            matrix(Y2_UNBIASED),
        )],
    );
    assert_matrix_close(
        "running_mean after two batches",
        &column(RUNNING_MEAN_2),
        &column_of(&bn.running_mean),
        1e-5,
    );
    assert_matrix_close(
        "running_var after two batches",
        &column(RUNNING_VAR_2),
        &column_of(&bn.running_var),
        1e-5,
    );
    assert_eq!(
        (bn.gamma.clone(), bn.beta.clone()),
        (vector(GAMMA), vector(BETA)),
        "batch_norm_train changed γ or β: only the running estimates move"
    );
}

#[test]
fn a_constant_column_gives_zero_and_finite_gradients() {
    let mut bn = layer(GAMMA3, BETA3);
    let (y, _) = train(&mut bn, &matrix32(X3));
    assert!(
        y.iter().all(|v| v.is_finite()),
        "batch_norm_train of a batch with a constant column: {y}"
    );
    assert_matrix_close_naming(
        "batch_norm_train output for X3 (column 1 constant: x̂ = 0, so y = β there)",
        &matrix(Y3),
        &to_f64(&y),
        1e-4,
        &[(
            "normalising with the unbiased variance (÷ (N − 1)); normalisation uses the biased \
             one (÷ N)",
            matrix(Y3_UNBIASED),
        )],
    );
    assert_matrix_close_naming(
        "running_var after X3 (the constant column's variance is 0)",
        &column(RUNNING_VAR_3),
        &column_of(&bn.running_var),
        1e-5,
        &[
            (
                "the biased variance (÷ N) in the running estimate; PyTorch keeps the unbiased \
                 one (÷ (N − 1)) there",
                column(RUNNING_VAR_3_BIASED),
            ),
            (
                "the momentum applied the wrong way round: (1 − m)·σ²_batch + m·running, where \
                 PyTorch moves by m: (1 − m)·running + m·σ²_batch",
                column(RUNNING_VAR_3_SWAPPED),
            ),
        ],
    );
    // The fixtures' cache (x̂ = 0 and 1/√ε in column 1), so that this tests
    // batch_norm_backward alone.
    let bn = layer(GAMMA3, BETA3);
    let cache = fixture_cache(XHAT3, INV_STD_3);
    let g = batch_norm_backward(&bn, &cache, &matrix32(DY3))
        .unwrap_or_else(|e| panic!("batch_norm_backward: {e}"));
    assert!(
        g.input.iter().all(|v| v.is_finite()),
        "dL/dx with a constant column must stay finite: {}",
        g.input
    );
    assert_matrix_close("dL/dx for X3", &matrix(DX3), &to_f64(&g.input), 1e-3);
    assert_matrix_close("dL/dγ for X3", &column(DGAMMA3), &column_of(&g.gamma), 1e-4);
    assert_matrix_close("dL/dβ for X3", &column(DBETA3), &column_of(&g.beta), 1e-4);
}

#[test]
fn a_batch_far_from_zero_keeps_its_digits() {
    let mut bn = layer(GAMMA3, BETA3);
    let (y, _) = train(&mut bn, &matrix32(X4));
    let mistakes = [
        (
            "normalising with the unbiased variance (÷ (N − 1)); normalisation uses the biased \
             one (÷ N)",
            matrix(Y4_UNBIASED),
        ),
        (
            "no square root: (x − μ)/(σ² + ε), where x̂ = (x − μ)/√(σ² + ε)",
            matrix(Y4_NO_SQRT),
        ),
    ];
    // Say "one pass" only when the values look like it: a known mistake
    // names itself, and a one-pass variance here is off by a large factor
    // or negative.
    let got = to_f64(&y);
    let named = mistakes
        .iter()
        .any(|(_, wrong)| all_close(wrong, &got, 2e-3));
    let ratios = spread_ratios(&y, XHAT4, GAMMA3, BETA3);
    let one_pass = "as a one-pass E[x²] − E[x]² in f32 gives here: E[x²] ≈ 10⁶ is rounded \
                    to about 0.06, and σ² is about 0.01 (take the mean first, then the \
                    squared deviations from it, in f64)";
    let diagnosis = if named || all_close(&matrix(Y4), &got, 2e-3) {
        String::new()
    } else if y.iter().any(|v| !v.is_finite()) {
        format!("; it is not finite everywhere: a negative or NaN variance, {one_pass}")
    } else if let Some((j, r)) = ratios
        .iter()
        .enumerate()
        .find(|(_, r)| !(0.5..=2.0).contains(*r))
    {
        format!(
            "; column {j} of x̂ = (y − β)/γ spreads {r:.3} times as wide as it should, so σ² \
             came out wrong, {one_pass}"
        )
    } else {
        String::new()
    };
    assert_matrix_close_naming(
        &format!("batch_norm_train output for X4 (values 1000 ± 0.1){diagnosis}"),
        &matrix(Y4),
        &got,
        2e-3,
        &mistakes,
    );
    let swapped = "the momentum applied the wrong way round: (1 − m)·batch + m·running, where \
                   PyTorch moves by m: (1 − m)·running + m·batch";
    assert_matrix_close_naming(
        "running_mean after X4",
        &column(RUNNING_MEAN_4),
        &column_of(&bn.running_mean),
        1e-6,
        &[(swapped, column(RUNNING_MEAN_4_SWAPPED))],
    );
    assert_matrix_close_naming(
        "running_var after X4 (0.9 + 0.1 · a variance near 0.01)",
        &column(RUNNING_VAR_4),
        &column_of(&bn.running_var),
        1e-5,
        &[
            (
                "the biased variance (÷ N) in the running estimate; PyTorch keeps the unbiased \
                 one (÷ (N − 1)) there",
                column(RUNNING_VAR_4_BIASED),
            ),
            (swapped, column(RUNNING_VAR_4_SWAPPED)),
        ],
    );
}

#[test]
fn training_refuses_one_row_and_the_wrong_width() {
    let mut bn = layer(GAMMA, BETA);
    let before = bn.clone();
    match batch_norm_train(&mut bn, &DMatrix::from_element(1, 3, 0.5)) {
        Err(ShapeError {
            expected: Expected::Described(_),
            found: Found::Shape(1, 3),
            ..
        }) => {}
        other => panic!(
            "batch_norm_train of a single row: expected an error with Expected::Described and \
             Found::Shape(1, 3) (one row has no variance; PyTorch refuses it too), got {other:?}"
        ),
    }
    assert_shape_error(
        "batch_norm_train of a (4, 2) input for 3 features",
        batch_norm_train(&mut bn, &DMatrix::zeros(4, 2)),
        3,
        (4, 2),
    );
    assert_eq!(
        bn, before,
        "batch_norm_train changed the layer before returning an error"
    );
}

fn eval_layer() -> BatchNorm {
    let mut bn = layer(GAMMA, BETA);
    bn.running_mean = vector(RUNNING_MEAN);
    bn.running_var = vector(RUNNING_VAR);
    bn
}

#[test]
fn evaluation_mode_uses_the_running_estimates() {
    let bn = eval_layer();
    let y =
        batch_norm_eval(&bn, &matrix32(EVAL_X)).unwrap_or_else(|e| panic!("batch_norm_eval: {e}"));
    assert_matrix_close_naming(
        "batch_norm_eval output (running mean and variance)",
        &matrix(EVAL_Y),
        &to_f64(&y),
        1e-4,
        &[
            (
                "the batch's own statistics: evaluation uses the running estimates",
                matrix(EVAL_Y_BATCH_STATS),
            ),
            (
                "ε added outside the square root",
                matrix(EVAL_Y_EPS_OUTSIDE),
            ),
        ],
    );
    // One row at a time gives the same rows: in evaluation an example's
    // output does not depend on its batch.
    for i in 0..3 {
        let row = matrix32(EVAL_X).rows(i, 1).into_owned();
        let y_row = batch_norm_eval(&bn, &row)
            .unwrap_or_else(|e| panic!("batch_norm_eval of one row: {e}"));
        assert_matrix_close(
            &format!("batch_norm_eval of row {i} alone"),
            &matrix(&EVAL_Y[i..=i]),
            &to_f64(&y_row),
            1e-4,
        );
    }
    assert_shape_error(
        "batch_norm_eval of a (2, 4) input for 3 features",
        batch_norm_eval(&bn, &DMatrix::zeros(2, 4)),
        3,
        (2, 4),
    );
}

#[test]
fn backward_matches_numpy() {
    // The fixtures' cache for X1, so that this tests batch_norm_backward alone.
    let bn = layer(GAMMA, BETA);
    let cache = fixture_cache(XHAT1, INV_STD_1);
    let g: BatchNormGradients = batch_norm_backward(&bn, &cache, &matrix32(DY1))
        .unwrap_or_else(|e| panic!("batch_norm_backward: {e}"));
    assert_matrix_close(
        "dL/dβ for X1 (Σ dy)",
        &column(DBETA1),
        &column_of(&g.beta),
        1e-4,
    );
    assert_matrix_close(
        "dL/dγ for X1 (Σ dy ⊙ x̂)",
        &column(DGAMMA1),
        &column_of(&g.gamma),
        1e-4,
    );
    assert_matrix_close_naming(
        "dL/dx for X1",
        &matrix(DX1),
        &to_f64(&g.input),
        1e-3,
        &[(
            "μ and σ² treated as constants (γ s · dy): they depend on every row, so the \
             gradient flows through them too",
            matrix(DX1_CONSTANT_STATS),
        )],
    );
}

#[test]
fn backward_refuses_a_gradient_of_another_shape() {
    let bn = layer(GAMMA, BETA);
    let cache = fixture_cache(XHAT1, INV_STD_1);
    assert_shape_error(
        "batch_norm_backward with a (5, 2) gradient for (5, 3) outputs",
        batch_norm_backward(&bn, &cache, &DMatrix::zeros(5, 2)),
        3,
        (5, 2),
    );
    assert_shape_error(
        "batch_norm_backward with a (4, 3) gradient for (5, 3) outputs",
        batch_norm_backward(&bn, &cache, &DMatrix::zeros(4, 3)),
        5,
        (4, 3),
    );
}

/// A batch of 6 x 3 and a fixed R for the checker exercise.
fn checked() -> (BatchNorm, DMatrix<f32>, DMatrix<f32>) {
    let mut bn = layer(GAMMA, BETA);
    bn.running_mean = vector(RUNNING_MEAN);
    let input = DMatrix::from_fn(6, 3, |i, j| (1.3 * i as f32 + 0.7 * j as f32).sin() * 2.0);
    let r = DMatrix::from_fn(6, 3, |i, j| (0.9 * i as f32 - 1.7 * j as f32).cos());
    (bn, input, r)
}

fn names(report: &GradientReport) -> Vec<(String, usize)> {
    report
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.len))
        .collect()
}

/// What a failing check may owe to the forward pass: your checker's loss
/// runs your `batch_norm_train`, so the check can only pass once that is
/// right. Compares yours with the reference's on the checker's batch.
fn forward_pass_note(bn: &BatchNorm, input: &DMatrix<f32>) -> String {
    let theirs = reference::batch_norm::batch_norm_train(&mut bn.clone(), input)
        .expect("the reference's forward pass takes this batch")
        .0;
    match batch_norm_train(&mut bn.clone(), input) {
        Err(e) => format!(
            "; your batch_norm_train refuses this batch ({e}), and your checker's loss runs it"
        ),
        Ok((yours, _)) if !all_close(&to_f64(&theirs), &to_f64(&yours), 1e-4) => {
            let worst = largest_difference(&to_f64(&theirs), &to_f64(&yours));
            format!(
                "; your checker's loss runs your batch_norm_train, and on this batch it differs \
                 from the reference's (at row {}, column {}: {} where {} is right), so this \
                 failure may come from your forward pass rather than your checker: make \
                 training_mode_matches_numpy pass first",
                worst.at.0, worst.at.1, worst.got, worst.expected
            )
        }
        Ok(_) => "; your batch_norm_train agrees with the reference's on this batch, so look at \
                  the checker: the tensors and their order, the loss closure, the step"
            .to_owned(),
    }
}

#[test]
fn your_checker_passes_a_correct_backward_pass() {
    // The reference's batch_norm_backward, so a failure is your checker's, or
    // your batch_norm_train's: the checker's loss runs it.
    let (bn, input, r) = checked();
    let before = bn.clone();
    let report =
        check_batch_norm_backward(reference::batch_norm::batch_norm_backward, &bn, &input, &r)
            .unwrap_or_else(|e| panic!("check_batch_norm_backward: {e}"));
    assert_eq!(
        names(&report),
        [
            ("gamma".to_owned(), 3),
            ("beta".to_owned(), 3),
            ("input".to_owned(), 18)
        ],
        "the report's tensors: gamma, beta, input, in that order"
    );
    assert_eq!(
        report.tensors[2].rows,
        Some(6),
        "the report's rows for the input: the batch size, so that a failure names (row, \
         column); check_gradients leaves it None"
    );
    if !report.passed() {
        report.assert_passed(&format!(
            "check_batch_norm_backward on the reference's backward pass{}",
            forward_pass_note(&bn, &input)
        ));
    }
    assert_eq!(bn, before, "the check changed the layer");
}

fn constant_statistics_backward(
    bn: &BatchNorm,
    cache: &BatchNormCache,
    grad_output: &DMatrix<f32>,
) -> Result<BatchNormGradients, ShapeError> {
    let mut g = reference::batch_norm::batch_norm_backward(bn, cache, grad_output)?;
    for j in 0..grad_output.ncols() {
        let scale = bn.gamma[j] * cache.inverse_std[j];
        g.input
            .column_mut(j)
            .copy_from(&(grad_output.column(j) * scale));
    }
    Ok(g)
}

#[test]
fn your_checker_catches_a_backward_pass_that_ignores_the_statistics() {
    let (bn, input, r) = checked();
    let report = check_batch_norm_backward(constant_statistics_backward, &bn, &input, &r)
        .unwrap_or_else(|e| panic!("check_batch_norm_backward: {e}"));
    let failing: Vec<&str> = report
        .tensors
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.name.as_str())
        .collect();
    if failing != ["input"] {
        panic!(
            "a backward pass that treats μ and σ² as constants gets dL/dx wrong and nothing \
             else, but your checker failed {failing:?}{}; the report said\n{report}",
            forward_pass_note(&bn, &input)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(24) })]

    /// Your backward pass against central differences of your forward
    /// pass, on random batches whose columns spread enough for a step of 1e-2.
    #[test]
    fn backward_passes_the_gradient_check(
        (rows, features) in (2usize..7, 1usize..4),
        seed in 0u32..10_000,
    ) {
        show_first_panic_only();
        let value = |k: u32, scale: f32| ((seed * 31 + k) as f32 * 0.618).sin() * scale;
        let input = DMatrix::from_fn(rows, features, |i, j| value((i * 7 + j) as u32, 3.0));
        let spread = (0..features).all(|j| {
            let c = input.column(j);
            let mean = c.mean();
            (c.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / rows as f32).sqrt() > 0.5
        });
        prop_assume!(spread);
        let r = DMatrix::from_fn(rows, features, |i, j| value((i * 5 + j + 100) as u32, 1.0));
        let mut bn = BatchNorm::new(features);
        bn.gamma = DVector::from_fn(features, |j, _| 0.5 + value(j as u32 + 200, 1.0).abs());
        bn.beta = DVector::from_fn(features, |j, _| value(j as u32 + 300, 1.0));
        let report = reference::batch_norm::check_batch_norm_backward(
            batch_norm_backward,
            &bn,
            &input,
            &r,
        );
        let report = report.map_err(|e| TestCaseError::fail(format!("batch_norm_backward: {e}")))?;
        prop_assert!(
            report.passed(),
            "your batch_norm_backward on a {rows} x {features} batch:\n{report}"
        );
    }
}
