//! Tests for exercises/stage-2/activations.rs. Run with `cargo test -p stage-2`.
//!
//! Hand values come from fixtures/activation_values.py (Python's math module);
//! derivatives are checked against central finite differences.

use course_support::check::{
    assert_close, assert_close_naming, assert_exact, assert_matrix_close,
    assert_matrix_close_naming, central_difference, is_close, show_first_panic_only, to_f64,
};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use proptest::prelude::*;
use stage_2::Activation;
use stage_2::activations::*;

// Generated values such as ln 2 = 0.693… are data here, not hand-typed constants.
#[allow(clippy::approx_constant)]
mod fixtures {
    include!("fixtures/activation_values.rs");
}
use fixtures::*;

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

/// f32 results against f64 reference values: a few units in the last place.
const VALUE_TOLERANCE: f64 = 2e-6;

#[track_caller]
fn check_table(name: &str, f: impl Fn(f32) -> f32, expected: &[f64]) {
    for (&x, &want) in POINTS.iter().zip(expected) {
        assert_close(&format!("{name}({x})"), want, f(x as f32), VALUE_TOLERANCE);
    }
}

#[test]
fn sigmoid_by_hand() {
    assert_close("sigmoid(0.0)", 0.5, sigmoid(0.0), VALUE_TOLERANCE);
    check_table("sigmoid", sigmoid, &SIGMOID);
    check_table(
        "sigmoid_derivative",
        sigmoid_derivative,
        &SIGMOID_DERIVATIVE,
    );
}

#[test]
fn tanh_by_hand() {
    check_table("tanh", tanh, &TANH);
    check_table("tanh_derivative", tanh_derivative, &TANH_DERIVATIVE);
}

#[test]
fn relu_by_hand() {
    check_table("relu", relu, &RELU);
    check_table("relu_derivative", relu_derivative, &RELU_DERIVATIVE);
}

#[test]
fn leaky_relu_by_hand() {
    check_table(
        "leaky_relu(·, 0.1)",
        |x| leaky_relu(x, LEAKY_SLOPE),
        &LEAKY_RELU,
    );
    check_table(
        "leaky_relu_derivative(·, 0.1)",
        |x| leaky_relu_derivative(x, LEAKY_SLOPE),
        &LEAKY_RELU_DERIVATIVE,
    );
    // The slope is a parameter, not a constant.
    assert_close(
        "leaky_relu(-2, 0.3)",
        -0.6,
        leaky_relu(-2.0, 0.3),
        VALUE_TOLERANCE,
    );
    assert_close(
        "leaky_relu_derivative(-2, 0.3)",
        0.3,
        leaky_relu_derivative(-2.0, 0.3),
        1e-7,
    );
}

#[test]
fn elu_by_hand() {
    check_table("elu(·, 1)", |x| elu(x, ELU_ALPHA), &ELU);
    check_table(
        "elu_derivative(·, 1)",
        |x| elu_derivative(x, ELU_ALPHA),
        &ELU_DERIVATIVE,
    );
    // α scales the negative side: 0.5 (e^−1 − 1) = −0.31606027941427883.
    assert_close(
        "elu(-1, 0.5)",
        -0.31606027941427883,
        elu(-1.0, 0.5),
        VALUE_TOLERANCE,
    );
    assert_close("elu(2, 0.5)", 2.0, elu(2.0, 0.5), VALUE_TOLERANCE);
}

#[test]
fn softplus_by_hand() {
    check_table("softplus", softplus, &SOFTPLUS);
    check_table(
        "softplus_derivative",
        softplus_derivative,
        &SOFTPLUS_DERIVATIVE,
    );
}

#[test]
fn gelu_by_hand() {
    check_table("gelu", gelu, &GELU);
    check_table("gelu_derivative", gelu_derivative, &GELU_DERIVATIVE);
}

#[test]
fn softmax_by_hand() {
    let logits = DMatrix::from_fn(SOFTMAX_IN.len(), 3, |i, j| SOFTMAX_IN[i][j] as f32);
    let expected = DMatrix::from_fn(SOFTMAX_OUT.len(), 3, |i, j| SOFTMAX_OUT[i][j]);
    let got = softmax(&logits);
    assert_matrix_close(
        "softmax of the fixture rows",
        &expected,
        &to_f64(&got),
        VALUE_TOLERANCE,
    );
}

#[test]
fn softmax_jacobian_by_hand() {
    // s = (0.5, 0.5): J = diag(s) − s sᵀ = [[0.25, −0.25], [−0.25, 0.25]].
    let got = softmax_jacobian(&dvector![0.5, 0.5]);
    let expected = dmatrix![0.25, -0.25; -0.25, 0.25];
    assert_matrix_close(
        "softmax_jacobian([0.5, 0.5])",
        &expected,
        &to_f64(&got),
        1e-7,
    );
    // s = (0.2, 0.3, 0.5): diagonal s_i (1 − s_i), off-diagonal −s_i s_j.
    let got = softmax_jacobian(&dvector![0.2, 0.3, 0.5]);
    let expected = dmatrix![
        0.16, -0.06, -0.10;
        -0.06, 0.21, -0.15;
        -0.10, -0.15, 0.25
    ];
    assert_matrix_close(
        "softmax_jacobian([0.2, 0.3, 0.5])",
        &expected,
        &to_f64(&got),
        1e-6,
    );
}

fn example_maxout() -> Maxout {
    // Three pieces over two inputs: x₁ + x₂, 2x₁ − 1 and −x₂ + 0.5.
    Maxout {
        weights: dmatrix![1.0, 1.0; 2.0, 0.0; 0.0, -1.0],
        biases: dvector![0.0, -1.0, 0.5],
    }
}

#[test]
fn maxout_by_hand() {
    let unit = example_maxout();
    // x = (1, 2): pieces 3, 1, −1.5 → piece 0 wins with 3.
    let x = dvector![1.0, 2.0];
    let pieces = unit.pieces(&x);
    assert_exact(
        "Maxout::pieces((1, 2))",
        vec![3.0, 1.0, -1.5],
        pieces.as_slice().to_vec(),
    );
    assert_exact("Maxout::winner((1, 2))", 0, unit.winner(&x));
    assert_exact("Maxout::forward((1, 2))", 3.0, unit.forward(&x));
    assert_exact(
        "Maxout::input_gradient((1, 2))",
        vec![1.0, 1.0],
        unit.input_gradient(&x).as_slice().to_vec(),
    );
    // x = (3, −4): pieces −1, 5, 4.5 → piece 1 wins; its gradient is w₁ = (2, 0).
    let x = dvector![3.0, -4.0];
    assert_exact("Maxout::winner((3, -4))", 1, unit.winner(&x));
    assert_exact("Maxout::forward((3, -4))", 5.0, unit.forward(&x));
    assert_exact(
        "Maxout::input_gradient((3, -4))",
        vec![2.0, 0.0],
        unit.input_gradient(&x).as_slice().to_vec(),
    );
    // x = (−2, −3): pieces −5, −5, 3.5 → piece 2 wins; gradient (0, −1).
    let x = dvector![-2.0, -3.0];
    assert_exact("Maxout::winner((-2, -3))", 2, unit.winner(&x));
    assert_exact(
        "Maxout::input_gradient((-2, -3))",
        vec![0.0, -1.0],
        unit.input_gradient(&x).as_slice().to_vec(),
    );
    // A tie goes to the first piece: x = (1, 0) gives pieces 1, 1, 0.5.
    assert_exact(
        "Maxout::winner((1, 0)) on a tie",
        0,
        unit.winner(&dvector![1.0, 0.0]),
    );
}

#[test]
fn extreme_inputs_stay_finite_and_correct() {
    // (function, x, expected) at ±1e4: exact limits, no NaN or ∞.
    let big = 1e4_f32;
    type Case = (&'static str, fn(f32) -> f32, f32, f64);
    let cases: [Case; 18] = [
        ("sigmoid", sigmoid, big, 1.0),
        ("sigmoid", sigmoid, -big, 0.0),
        ("sigmoid_derivative", sigmoid_derivative, big, 0.0),
        ("sigmoid_derivative", sigmoid_derivative, -big, 0.0),
        ("tanh", tanh, big, 1.0),
        ("tanh", tanh, -big, -1.0),
        ("tanh_derivative", tanh_derivative, -big, 0.0),
        ("relu", relu, -big, 0.0),
        ("relu", relu, big, 1e4),
        ("elu", |x| elu(x, 1.0), -big, -1.0),
        ("elu_derivative", |x| elu_derivative(x, 1.0), -big, 0.0),
        ("softplus", softplus, big, 1e4),
        ("softplus", softplus, -big, 0.0),
        ("softplus_derivative", softplus_derivative, -big, 0.0),
        ("gelu", gelu, big, 1e4),
        ("gelu", gelu, -big, 0.0),
        ("gelu_derivative", gelu_derivative, big, 1.0),
        ("gelu_derivative", gelu_derivative, -big, 0.0),
    ];
    // Every case is tried, and every failure reported at once: one mistake
    // must not hide another.
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|&(name, f, x, expected)| {
            let got = f(x);
            (!got.is_finite() || !is_close(expected, f64::from(got), 1e-6))
                .then(|| format!("  {name}({x}): expected {expected}, got {got}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "at extreme inputs ({} of {} cases wrong):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert_close("leaky_relu(-1e4, 0.1)", -1e3, leaky_relu(-big, 0.1), 1e-6);
}

#[test]
fn the_elu_kink_takes_the_left_slope() {
    // At x = 0 the course takes the left side's slope, α e^0 = α; with α = 1
    // the two sides agree, so α = 0.5 tells them apart.
    assert_close_naming(
        "elu_derivative(0, 0.5)",
        0.5,
        elu_derivative(0.0, 0.5),
        VALUE_TOLERANCE,
        &[("the right side's slope, 1, taken at the kink", 1.0)],
    );
}

#[test]
fn sigmoid_derivative_keeps_its_digits_where_it_is_tiny() {
    // σ'(20) = σ(20) σ(−20) = 2.061153613941849e−9 (Python's math module).
    // In f32, σ(20) rounds to 1, and σ(x) (1 − σ(x)) to 0.
    let s = 1.0 / (1.0 + (-20.0f32).exp());
    assert_close_naming(
        "sigmoid_derivative(20)",
        2.061153613941849e-9,
        sigmoid_derivative(20.0),
        1e-14,
        &[(
            "σ(x) (1 − σ(x)), whose 1 − σ(x) rounds to 0 where σ(x) rounds to 1",
            f64::from(s * (1.0 - s)),
        )],
    );
}

#[test]
fn inputs_near_zero_keep_their_digits() {
    // ELU at x = −1e−7: α (e^x − 1) = −9.9999995e−8 (Python's math.expm1).
    // In f32, e^x rounds to 0.99999988, and subtracting 1 keeps one digit.
    let x = -1e-7_f32;
    assert_close_naming(
        "elu(-1e-7, 1)",
        -9.999999500000016e-8,
        elu(x, 1.0),
        1e-13,
        &[(
            "e^x − 1 computed as written, which loses the digits near 0",
            f64::from(x.exp() - 1.0),
        )],
    );
    // softplus at x = −20: ln(1 + e^−20) = 2.061153620314381e−9 (math.log1p).
    // In f32, 1 + e^−20 rounds to 1, and ln(1) = 0.
    let x = -20.0_f32;
    assert_close_naming(
        "softplus(-20)",
        2.061153620314381e-9,
        softplus(x),
        1e-14,
        &[(
            "ln(1 + y) computed as written, which rounds 1 + y to 1 for tiny y",
            f64::from((1.0 + x.exp()).ln()),
        )],
    );
}

#[test]
fn softmax_of_huge_logits_is_exact() {
    // e^10000 overflows f32 (and f64): only a shifted form gets these right.
    let logits: DMatrix<f32> = dmatrix![1e4, 0.0, -1e4; 1e4, 1e4, 1e4; -1e4, -1e4, -1e4 + 1.0];
    let e1 = 1.0 / (1.0 + 2.0 * (-1.0f64).exp()); // e^1 / (e^0 + e^0 + e^1)
    let e0 = (1.0 - e1) / 2.0;
    let expected = dmatrix![1.0, 0.0, 0.0; 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0; e0, e0, e1];
    let got = softmax(&logits);
    // The classic mistakes, computed here to name them when they are made.
    let normalise_rows = |mut m: DMatrix<f32>| {
        for mut row in m.row_iter_mut() {
            let sum = row.sum();
            row /= sum;
        }
        m
    };
    let unshifted = normalise_rows(logits.map(f32::exp));
    let largest = logits.max();
    let shifted_by_the_whole_matrix = normalise_rows(logits.map(|z| (z - largest).exp()));
    assert_matrix_close_naming(
        &format!("softmax of the logits{logits}"),
        &expected,
        &to_f64(&got),
        1e-6,
        &[
            (
                "no shift at all: e^10000 is ∞, and ∞/∞ is NaN",
                to_f64(&unshifted),
            ),
            (
                "the largest logit of the whole matrix subtracted, not each row's own: a row far \
                 below it underflows to 0/0",
                to_f64(&shifted_by_the_whole_matrix),
            ),
        ],
    );
}

#[test]
fn maxout_of_x_and_zero_is_relu() {
    // Pieces w = (1, 0), b = (0, 0): max(x, 0) = ReLU(x).
    let unit = Maxout {
        weights: dmatrix![1.0; 0.0],
        biases: dvector![0.0, 0.0],
    };
    for x in [-3.0f32, -0.5, 0.0, 0.25, 7.0] {
        assert_close(
            &format!("Maxout(x, 0) at {x} vs relu"),
            relu(x),
            unit.forward(&dvector![x]),
            0.0,
        );
    }
}

/// `apply` and `derivative` must call the function each variant names, with
/// the variant's own parameter: parameters other than the defaults catch a
/// hard-coded slope or α.
#[test]
fn apply_and_derivative_dispatch_to_the_named_function() {
    type Pair = (Activation, fn(f32) -> f32, fn(f32) -> f32);
    let pairs: [Pair; 8] = [
        (Activation::Identity, |x| x, |_| 1.0),
        (Activation::Sigmoid, sigmoid, sigmoid_derivative),
        (Activation::Tanh, tanh, tanh_derivative),
        (Activation::Relu, relu, relu_derivative),
        (
            Activation::LeakyRelu { slope: 0.3 },
            |x| leaky_relu(x, 0.3),
            |x| leaky_relu_derivative(x, 0.3),
        ),
        (
            Activation::Elu { alpha: 0.5 },
            |x| elu(x, 0.5),
            |x| elu_derivative(x, 0.5),
        ),
        (Activation::Softplus, softplus, softplus_derivative),
        (Activation::Gelu, gelu, gelu_derivative),
    ];
    for (activation, value, slope) in pairs {
        for x in [-2.5f32, -0.5, 0.0, 0.75, 3.0] {
            assert_exact(
                &format!("apply({activation:?}, {x})"),
                value(x),
                apply(activation, x),
            );
            assert_exact(
                &format!("derivative({activation:?}, {x})"),
                slope(x),
                derivative(activation, x),
            );
        }
    }
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    /// Every activation's derivative matches the slope of the function itself.
    #[test]
    fn derivatives_match_central_differences(x in -6.0f32..6.0) {
        show_first_panic_only();
        let h = 1e-2;
        for activation in Activation::ALL {
            if activation.has_kink_at_zero() && x.abs() <= 2.0 * h {
                continue;
            }
            let numeric = central_difference(|t| apply(activation, t), x, h);
            let analytic = f64::from(derivative(activation, x));
            // Central differences are off by about h²·f'''/6 plus f32 rounding/h.
            prop_assert!(
                (numeric - analytic).abs() <= 2e-3,
                "{} derivative at {}: expected about {} (central difference), got {}",
                activation, x, numeric, analytic
            );
        }
    }

    #[test]
    fn leaky_relu_and_elu_parameters_are_used(x in -6.0f32..6.0, slope in 0.01f32..0.5, alpha in 0.1f32..3.0) {
        show_first_panic_only();
        prop_assume!(x.abs() > 0.05);
        let h = 1e-2;
        let numeric = central_difference(|t| leaky_relu(t, slope), x, h);
        let got = leaky_relu_derivative(x, slope);
        prop_assert!((numeric - f64::from(got)).abs() < 1e-3, "leaky_relu_derivative({}, {}): expected about {} (the slope), got {}", x, slope, numeric, got);
        prop_assert!(leaky_relu(x, slope) == (slope * x).max(x), "leaky_relu({}, {}): expected {}, got {}", x, slope, (slope * x).max(x), leaky_relu(x, slope));
        let numeric = central_difference(|t| elu(t, alpha), x, h);
        prop_assert!((numeric - f64::from(elu_derivative(x, alpha))).abs() < 2e-3, "elu_derivative({}, {})", x, alpha);
    }

    #[test]
    fn sigmoid_is_symmetric(x in -30.0f32..30.0) {
        show_first_panic_only();
        // σ(−x) = 1 − σ(x)
        prop_assert!((f64::from(sigmoid(-x)) - (1.0 - f64::from(sigmoid(x)))).abs() < 1e-6, "at {}", x);
    }

    #[test]
    fn tanh_is_a_rescaled_sigmoid(x in -15.0f32..15.0) {
        show_first_panic_only();
        // tanh(x) = 2σ(2x) − 1
        let rescaled = 2.0 * f64::from(sigmoid(2.0 * x)) - 1.0;
        prop_assert!((f64::from(tanh(x)) - rescaled).abs() < 1e-6, "at {}: tanh {} vs 2σ(2x) − 1 = {}", x, tanh(x), rescaled);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_ignore_shifts(
        rows in 1usize..5,
        cols in 1usize..8,
        values in proptest::collection::vec(-50.0f32..50.0, 40),
        shift in -1e3f32..1e3,
    ) {
        show_first_panic_only();
        let logits = DMatrix::from_row_slice(rows, cols, &values[..rows * cols]);
        let s = softmax(&logits);
        prop_assert!(s.shape() == (rows, cols), "softmax of a ({}, {}) matrix: expected that shape, got {:?}", rows, cols, s.shape());
        for (i, row) in s.row_iter().enumerate() {
            prop_assert!((row.sum() - 1.0).abs() < 1e-5, "row {} sums to {}", i, row.sum());
            prop_assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)), "row {}: expected probabilities in [0, 1], got {}", i, row);
        }
        // Adding a constant to a row changes nothing (up to the rounding of z + c).
        let shifted = softmax(&logits.add_scalar(shift));
        for (a, b) in s.iter().zip(shifted.iter()) {
            prop_assert!((a - b).abs() < 2e-3 * a.max(1e-3), "softmax(z + {}) differs: {} vs {}", shift, a, b);
        }
    }

    #[test]
    fn softmax_jacobian_matches_central_differences(values in proptest::collection::vec(-4.0f32..4.0, 4)) {
        show_first_panic_only();
        let z = DMatrix::from_row_slice(1, 4, &values);
        let s: DVector<f32> = softmax(&z).row(0).transpose();
        let jacobian = to_f64(&softmax_jacobian(&s));
        let numeric = DMatrix::from_fn(4, 4, |i, j| {
            central_difference(|t| { let mut z = z.clone(); z[(0, j)] = t; softmax(&z)[(0, i)] }, z[(0, j)], 1e-2)
        });
        let worst = course_support::check::largest_difference(&numeric, &jacobian);
        prop_assert!(worst.max_abs < 1e-3, "softmax_jacobian at z = {:?}: entry {:?} expected about {}, got {}", values, worst.at, worst.expected, worst.got);
    }

    /// The gradient of maxout with respect to x is the winning piece's weights.
    #[test]
    fn maxout_gradient_matches_central_differences(
        w in proptest::collection::vec(-2.0f32..2.0, 6),
        b in proptest::collection::vec(-1.0f32..1.0, 3),
        x in proptest::collection::vec(-3.0f32..3.0, 2),
    ) {
        show_first_panic_only();
        let unit = Maxout { weights: DMatrix::from_row_slice(3, 2, &w), biases: DVector::from_vec(b) };
        let x = DVector::from_vec(x);
        // Skip points near a switch between pieces, where the max has a kink.
        let mut pieces: Vec<f32> = unit.pieces(&x).iter().copied().collect();
        pieces.sort_by(|a, b| b.total_cmp(a));
        prop_assume!(pieces[0] - pieces[1] > 0.1);
        let gradient = unit.input_gradient(&x);
        for k in 0..2 {
            let numeric = central_difference(|t| { let mut y = x.clone(); y[k] = t; unit.forward(&y) }, x[k], 1e-2);
            prop_assert!((numeric - f64::from(gradient[k])).abs() < 1e-3, "∂maxout/∂x{} at {:?}: expected {}, got {}", k, x, numeric, gradient[k]);
        }
    }

    #[test]
    fn maxout_with_pieces_x_and_zero_equals_relu_everywhere(x in -1e4f32..1e4) {
        show_first_panic_only();
        // At exactly 0 the tie goes to piece x (slope 1) while ReLU' takes 0.
        prop_assume!(x != 0.0);
        let unit = Maxout { weights: dmatrix![1.0; 0.0], biases: dvector![0.0, 0.0] };
        prop_assert!(unit.forward(&dvector![x]) == relu(x), "maxout(x, 0) at {}: expected relu = {}, got {}", x, relu(x), unit.forward(&dvector![x]));
        prop_assert!(unit.input_gradient(&dvector![x])[0] == relu_derivative(x), "maxout(x, 0)'s gradient at {}: expected relu_derivative = {}, got {}", x, relu_derivative(x), unit.input_gradient(&dvector![x])[0]);
    }
}
