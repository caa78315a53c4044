//! Tests for exercises/stage-1/perceptron.rs. Run with `cargo test -p stage-1`.
//!
//! Expected values are worked out by hand in the comments (the AND and OR
//! traces were also replayed with a few lines of plain Python).

use course_support::check::{
    assert_close, assert_close_naming, assert_exact, assert_exact_naming, show_first_panic_only,
};
use course_support::data::{accuracy, and_gate, or_gate, separable_clouds, xor_gate};
use nalgebra::{DMatrix, DVector, dvector};
use proptest::prelude::*;
use stage_1::perceptron::{Perceptron, step, weighted_sum};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

fn accuracy_of(p: &Perceptron, data: &course_support::data::Dataset) -> f32 {
    accuracy(
        p.predict_batch(&data.input_matrix()).as_slice(),
        &data.labels,
    )
}

#[test]
fn weighted_sum_by_hand() {
    // 0.5·1 + (−0.5)·2 + 0.25 = −0.25
    let got = weighted_sum(&dvector![0.5, -0.5], 0.25, &dvector![1.0, 2.0]);
    assert_close("weighted_sum([0.5, -0.5], 0.25, [1, 2])", -0.25, got, 1e-6);
    // 1·3 + 2·(−1) + 4·0.5 − 1 = 2
    let got = weighted_sum(&dvector![1.0, 2.0, 4.0], -1.0, &dvector![3.0, -1.0, 0.5]);
    assert_close("weighted_sum([1, 2, 4], -1, [3, -1, 0.5])", 2.0, got, 1e-6);
    // With zero weights only the bias is left.
    let got = weighted_sum(&dvector![0.0, 0.0], 0.75, &dvector![9.0, -9.0]);
    assert_close("weighted_sum([0, 0], 0.75, [9, -9])", 0.75, got, 1e-6);
}

#[test]
fn step_fires_at_zero_and_above() {
    for (z, expected) in [
        (0.0, 1.0),
        (2.5, 1.0),
        (1e-6, 1.0),
        (-1e-6, 0.0),
        (-3.0, 0.0),
    ] {
        let at_zero: &[(&str, f32)] = if z == 0.0 {
            &[(
                "testing z > 0, which leaves 0 out: z = 0 fires (z ≥ 0)",
                0.0,
            )]
        } else {
            &[]
        };
        assert_exact_naming(&format!("step({z})"), expected, step(z), at_zero);
    }
}

#[test]
fn predict_by_hand() {
    let p = Perceptron::new(dvector![1.0, 1.0], -1.5);
    // An AND gate: only 1 + 1 − 1.5 = 0.5 reaches the threshold.
    for (x, expected) in [
        ([0.0, 0.0], 0.0),
        ([0.0, 1.0], 0.0),
        ([1.0, 0.0], 0.0),
        ([1.0, 1.0], 1.0),
    ] {
        let got = p.predict(&DVector::from_row_slice(&x));
        assert_exact(&format!("AND perceptron predict({x:?})"), expected, got);
    }
}

#[test]
fn predict_batch_by_hand() {
    let p = Perceptron::new(dvector![2.0, -1.0], 0.5);
    // Rows: 2·1 − 1·3 + 0.5 = −0.5 → 0;  2·0 − 1·0 + 0.5 → 1;  2·−1 − 1·−2 + 0.5 = 0.5 → 1;
    // 2·0 − 1·0.25 + 0.5 = 0.25 → 1, where without the bias −0.25 → 0.
    let inputs = DMatrix::from_row_slice(4, 2, &[1.0, 3.0, 0.0, 0.0, -1.0, -2.0, 0.0, 0.25]);
    let got = p.predict_batch(&inputs);
    assert_exact("predict_batch output length", 4, got.len());
    assert_exact_naming(
        "predict_batch",
        vec![0.0, 1.0, 1.0, 1.0],
        got.as_slice().to_vec(),
        &[("the bias left out", vec![0.0, 1.0, 1.0, 0.0])],
    );
}

#[test]
fn update_moves_weights_on_a_mistake() {
    // w = [0.5, −0.5], b = 0, x = [1, 2]: z = −0.5 → y = 0, but target 1.
    // error = 1, so w += 0.1·[1, 2] = [0.6, −0.3] and b += 0.1.
    let mut p = Perceptron::new(dvector![0.5, -0.5], 0.0);
    let changed = p.update(&dvector![1.0, 2.0], 1.0, 0.1);
    assert_exact("update(...) returned (was it a mistake?)", true, changed);
    assert_close("weight 0 after the update", 0.6, p.weights[0], 1e-6);
    assert_close("weight 1 after the update", -0.3, p.weights[1], 1e-6);
    assert_close_naming(
        "bias after the update",
        0.1,
        p.bias,
        1e-6,
        &[("the bias left alone: it moves by η · error too", 0.0)],
    );

    // The other direction: w = [1, 1], b = 0, x = [1, 1]: y = 1, target 0.
    // error = −1, so w −= 0.5·[1, 1] = [0.5, 0.5] and b = −0.5.
    let mut p = Perceptron::new(dvector![1.0, 1.0], 0.0);
    assert_exact(
        "update returned",
        true,
        p.update(&dvector![1.0, 1.0], 0.0, 0.5),
    );
    assert_close("weight 0", 0.5, p.weights[0], 1e-6);
    assert_close("weight 1", 0.5, p.weights[1], 1e-6);
    assert_close("bias", -0.5, p.bias, 1e-6);
}

#[test]
fn update_leaves_a_correct_prediction_alone() {
    let mut p = Perceptron::new(dvector![1.0, -2.0], 0.5);
    let before = p.clone();
    // z = 3 − 2 + 0.5 = 1.5 → y = 1 = target.
    let changed = p.update(&dvector![3.0, 1.0], 1.0, 0.1);
    assert_exact("update(...) returned (was it a mistake?)", false, changed);
    assert_exact("perceptron after a correct prediction", before, p);
}

#[test]
fn train_and_follows_the_hand_trace() {
    // From zero weights with η = 1, visiting (0,0), (0,1), (1,0), (1,1) in order,
    // the rule makes 2, 3, 3, 2, 1 and then 0 mistakes and ends at w = [2, 1], b = −3.
    let data = and_gate();
    let mut p = Perceptron::zeros(2);
    let report = p.train(&data, 1.0, 100);
    assert_exact(
        "AND mistakes per epoch",
        vec![2, 3, 3, 2, 1, 0],
        report.mistakes_per_epoch,
    );
    assert_exact("AND converged", true, report.converged);
    assert_exact(
        "AND final weights",
        vec![2.0, 1.0],
        p.weights.as_slice().to_vec(),
    );
    assert_exact("AND final bias", -3.0, p.bias);
    assert_exact("AND accuracy after training", 1.0, accuracy_of(&p, &data));
}

#[test]
fn train_or_follows_the_hand_trace() {
    // Same procedure on OR: 2, 2, 1, 0 mistakes, ending at w = [1, 1], b = −1.
    let data = or_gate();
    let mut p = Perceptron::zeros(2);
    let report = p.train(&data, 1.0, 100);
    assert_exact(
        "OR mistakes per epoch",
        vec![2, 2, 1, 0],
        report.mistakes_per_epoch,
    );
    assert_exact("OR converged", true, report.converged);
    assert_exact(
        "OR final weights",
        vec![1.0, 1.0],
        p.weights.as_slice().to_vec(),
    );
    assert_exact("OR final bias", -1.0, p.bias);
    assert_exact("OR accuracy after training", 1.0, accuracy_of(&p, &data));
}

#[test]
fn train_respects_max_epochs() {
    let mut p = Perceptron::zeros(2);
    let report = p.train(&xor_gate(), 1.0, 7);
    assert_exact(
        "epochs recorded with max_epochs = 7 on XOR",
        7,
        report.mistakes_per_epoch.len(),
    );
    assert_exact("converged", false, report.converged);

    let mut p = Perceptron::zeros(2);
    let report = p.train(&and_gate(), 1.0, 0);
    assert_exact(
        "epochs recorded with max_epochs = 0",
        0,
        report.mistakes_per_epoch.len(),
    );
    assert_exact("converged with no training", false, report.converged);
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(64) })]

    /// Perceptron convergence theorem (Novikoff): from zero weights, on data
    /// separable with margin γ by a unit vector u in the space of (x, 1), the
    /// rule makes at most (R / γ)² mistakes, R = max ‖(x, 1)‖.
    #[test]
    fn separable_clouds_are_learned_within_the_novikoff_bound(seed in 0u64..10_000, rate in 0.01f32..2.0) {
        show_first_panic_only();
        let margin = 0.1;
        let data = separable_clouds(40, margin, seed);
        let mut p = Perceptron::zeros(2);
        let report = p.train(&data, rate, 10_000);
        prop_assert!(report.converged, "seed {seed}, η {rate}: the report says not converged, with mistakes per epoch {:?} (converged means the last recorded epoch had none)", report.mistakes_per_epoch);
        let accuracy = accuracy_of(&p, &data);
        prop_assert!(accuracy == 1.0, "seed {}: training accuracy after convergence: expected 1, got {}", seed, accuracy);

        // The clouds are separated by the bisector of (−1, −0.5) and (1, 0.75):
        // n·x − n·m ≥ γ with n the unit normal and m the midpoint (0, 0.125).
        let n = [2.0f64, 1.25];
        let norm = (n[0] * n[0] + n[1] * n[1]).sqrt();
        let offset = 0.125 * n[1] / norm;
        let gamma = f64::from(margin) / (1.0 + offset * offset).sqrt();
        let r2 = data.inputs.iter().map(|x| f64::from(x.norm_squared()) + 1.0).fold(0.0, f64::max);
        let mistakes: usize = report.mistakes_per_epoch.iter().sum();
        prop_assert!(mistakes as f64 <= r2 / (gamma * gamma), "{} mistakes exceed the bound {}", mistakes, r2 / (gamma * gamma));
    }

    /// No straight line separates XOR, so the rule never finishes an epoch
    /// without a mistake, and any line gets at most 3 of the 4 points right,
    /// wherever it starts and however long it runs.
    #[test]
    fn xor_is_never_learned(w0 in -2.0f32..2.0, w1 in -2.0f32..2.0, b in -2.0f32..2.0, rate in 0.01f32..2.0, epochs in 1usize..500) {
        show_first_panic_only();
        let data = xor_gate();
        let mut p = Perceptron::new(dvector![w0, w1], b);
        let report = p.train(&data, rate, epochs);
        prop_assert!(report.mistakes_per_epoch.len() == epochs, "epochs recorded on XOR with max_epochs = {}: expected {}, got {}", epochs, epochs, report.mistakes_per_epoch.len());
        prop_assert!(!report.converged, "converged on XOR, which no line separates");
        prop_assert!(report.mistakes_per_epoch.iter().all(|&m| m >= 1), "an epoch without mistakes on XOR: {:?}", report.mistakes_per_epoch);
        prop_assert!(accuracy_of(&p, &data) <= 0.75, "accuracy {} on XOR: no line gets more than 3 of 4", accuracy_of(&p, &data));
    }

    /// The batch form agrees with predicting one row at a time.
    #[test]
    fn predict_batch_matches_predict(
        (rows, values) in (1usize..12).prop_flat_map(|rows| {
            (Just(rows), proptest::collection::vec(-3.0f32..3.0, rows * 3))
        }),
        weights in proptest::collection::vec(-3.0f32..3.0, 3),
        bias in -3.0f32..3.0,
    ) {
        show_first_panic_only();
        let p = Perceptron::new(DVector::from_vec(weights), bias);
        let inputs = DMatrix::from_row_slice(rows, 3, &values);
        let batch = p.predict_batch(&inputs);
        prop_assert!(batch.len() == rows, "predict_batch's length for {} rows: expected {}, got {}", rows, rows, batch.len());
        for i in 0..rows {
            let one = p.predict(&inputs.row(i).transpose());
            prop_assert!(one == batch[i], "row {}: predict gives {}, predict_batch {}", i, one, batch[i]);
        }
    }
}
