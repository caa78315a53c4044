//! Tests for exercises/stage-3. Run with `cargo test -p stage-3`.
//!
//! The MyTorch-style fixtures come from fixtures/mytorch_fixtures.py (plain
//! Python); the rest are worked out by hand or are properties.

use course_support::check::{
    assert_close, assert_close_naming, assert_error_is, assert_exact, assert_matrix_close,
    assert_matrix_close_naming, show_first_panic_only, to_f64,
};
use course_support::shape::{Expected, Found};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use stage_3::init::{init_scale, init_weights};
use stage_3::layers::{linear_forward, linear_parameter_count, maxout_forward};
use stage_3::mlp::{forward, forward_trace, parameter_count};
use stage_3::{Activation, Init, Layer, Linear, Maxout, Mlp};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

mod fixtures {
    include!("fixtures/mytorch_values.rs");
}

fn matrix(rows: &[&[f64]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

fn fixture_network(layers: &[fixtures::LayerValues]) -> Mlp {
    let mut built = Vec::new();
    for layer in layers {
        let weights = matrix(layer.weights).map(|v| v as f32);
        let bias = DVector::from_iterator(layer.bias.len(), layer.bias.iter().map(|&v| v as f32));
        built.push(Layer::Linear(Linear::new(weights, bias).unwrap()));
        built.push(Layer::Activation(Activation::Relu));
    }
    Mlp::from_layers(built).unwrap()
}

#[test]
fn linear_forward_by_hand() {
    // W (3, 2), b (3), A (3, 2): Z = A Wᵀ + b.
    // Row (1, 0) → (1, 3, 5) + b; row (0, 1) → (2, 4, 6) + b; row (1, 1) → (3, 7, 11) + b.
    let layer = Linear::new(
        dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0],
        dvector![0.5, -1.0, 0.0],
    )
    .unwrap();
    let input = dmatrix![1.0, 0.0; 0.0, 1.0; 1.0, 1.0];
    let got = linear_forward(&layer, &input).expect("a (3, 2) input fits a 2 → 3 layer");
    let expected = dmatrix![1.5, 2.0, 5.0; 2.5, 3.0, 6.0; 3.5, 6.0, 11.0];
    let without_bias = dmatrix![1.0, 3.0, 5.0; 2.0, 4.0, 6.0; 3.0, 7.0, 11.0];
    assert_matrix_close_naming(
        "linear_forward, 2 → 3 on a (3, 2) batch",
        &expected,
        &to_f64(&got),
        1e-6,
        &[("A Wᵀ with the bias left out", without_bias)],
    );
}

#[test]
fn linear_forward_rejects_the_wrong_width() {
    let layer = Linear::new(DMatrix::zeros(3, 2), DVector::zeros(3)).unwrap();
    // Any number of rows (None), 2 columns.
    assert_error_is(
        "linear_forward of a (4, 3) input on a 2 → 3 layer",
        linear_forward(&layer, &DMatrix::zeros(4, 3)),
        Expected::Shape(None, Some(2)),
        Found::Shape(4, 3),
    );
}

#[test]
fn parameter_counts() {
    let layer = Linear::new(DMatrix::zeros(3, 2), DVector::zeros(3)).unwrap();
    assert_exact(
        "linear_parameter_count of a 2 → 3 layer",
        9,
        linear_parameter_count(&layer),
    );
    // The stage-5 default: 784·256 + 256 + 256·10 + 10.
    let mlp = Mlp::new(
        &[784, 256, 10],
        &[Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        0,
        init_weights,
    )
    .unwrap();
    assert_exact(
        "784 → 256 → 10 parameter_count",
        203_530,
        parameter_count(&mlp),
    );
    // Maxout 4 → 3 with 2 pieces has a 4 → 6 linear part: 24 + 6.
    let maxout = Mlp::from_layers(vec![Layer::maxout(DMatrix::zeros(6, 4), 2)]).unwrap();
    assert_exact(
        "maxout 4 → 3, k = 2, parameter_count",
        30,
        parameter_count(&maxout),
    );
}

fn check_fixture(name: &str, layers: &[fixtures::LayerValues], trace: &[&[&[f64]]]) {
    let mlp = fixture_network(layers);
    let input = matrix(fixtures::INPUT).map(|v| v as f32);
    let output = forward(&mlp, &input).expect("the fixture's shapes fit");
    let expected = matrix(trace[trace.len() - 1]);
    assert_matrix_close(
        &format!("{name} forward output"),
        &expected,
        &to_f64(&output),
        1e-5,
    );

    let got = forward_trace(&mlp, &input).expect("the fixture's shapes fit");
    assert_exact(
        &format!("{name} forward_trace length"),
        trace.len(),
        got.len(),
    );
    for (i, (want, have)) in trace.iter().zip(&got).enumerate() {
        assert_matrix_close(
            &format!("{name} forward_trace[{i}]"),
            &matrix(want),
            &to_f64(have),
            1e-5,
        );
    }
}

#[test]
fn mytorch_mlp0_matches_the_fixture() {
    check_fixture("MLP0 (2 → 3)", fixtures::MLP0_LAYERS, fixtures::MLP0_TRACE);
}

#[test]
fn mytorch_mlp1_matches_the_fixture() {
    check_fixture(
        "MLP1 (2 → 3 → 2)",
        fixtures::MLP1_LAYERS,
        fixtures::MLP1_TRACE,
    );
}

#[test]
fn mytorch_mlp4_matches_the_fixture() {
    check_fixture(
        "MLP4 (2 → 4 → 8 → 8 → 4 → 2)",
        fixtures::MLP4_LAYERS,
        fixtures::MLP4_TRACE,
    );
}

#[test]
fn mlp_passes_shape_errors_up() {
    let mlp = Mlp::new(
        &[3, 4, 2],
        &[Activation::Tanh, Activation::Identity],
        Init::XavierNormal,
        1,
        init_weights,
    )
    .unwrap();
    assert_error_is(
        "forward of a (5, 2) input to a 3-input MLP",
        forward(&mlp, &DMatrix::zeros(5, 2)),
        Expected::Shape(None, Some(3)),
        Found::Shape(5, 2),
    );
}

#[test]
fn maxout_forward_by_hand() {
    // One input x, two units with two pieces each: unit 0 = max(x, −x) = |x|,
    // unit 1 = max(2x + 1, 0.5).
    let layer = Maxout {
        linear: Linear::new(dmatrix![1.0; -1.0; 2.0; 0.0], dvector![0.0, 0.0, 1.0, 0.5]).unwrap(),
        pieces: 2,
    };
    let input = dmatrix![-3.0; 0.25; 2.0];
    let got = maxout_forward(&layer, &input).expect("a (3, 1) input fits");
    let expected = dmatrix![3.0, 0.5; 0.25, 1.5; 2.0, 5.0];
    assert_matrix_close(
        "maxout_forward (|x|, max(2x + 1, 0.5))",
        &expected,
        &to_f64(&got),
        1e-6,
    );
}

#[test]
fn maxout_with_pieces_x_and_zero_is_relu() {
    let layer = Maxout {
        linear: Linear::new(dmatrix![1.0; 0.0], dvector![0.0, 0.0]).unwrap(),
        pieces: 2,
    };
    let input = dmatrix![-2.0; -0.5; 0.0; 0.5; 3.0];
    let got = maxout_forward(&layer, &input).unwrap();
    let expected = to_f64(&input.map(|x| x.max(0.0)));
    assert_matrix_close("maxout(x, 0) vs ReLU", &expected, &to_f64(&got), 0.0);
}

#[test]
fn init_scales_by_hand() {
    // √(6 / (3 + 5)) = 0.8660254, √(2 / 8) = 0.5, √(6 / 3) = √2, √(2 / 50) = 0.2.
    assert_close_naming(
        "init_scale(Init::XavierUniform, 3, 5)",
        0.8660254037844386,
        init_scale(Init::XavierUniform, 3, 5),
        1e-6,
        &[
            (
                "the normal scheme's σ = √(2 / (in + out)), not the uniform bound a = √(6 / (in + out))",
                0.5,
            ),
            ("6 / (in + out) without the square root", 0.75),
        ],
    );
    assert_close(
        "init_scale(Init::XavierNormal, 3, 5)",
        0.5,
        init_scale(Init::XavierNormal, 3, 5),
        1e-6,
    );
    assert_close_naming(
        "init_scale(Init::KaimingUniform, 3, 5)",
        std::f64::consts::SQRT_2,
        init_scale(Init::KaimingUniform, 3, 5),
        1e-6,
        &[
            (
                "the normal scheme's σ = √(2 / in), not the uniform bound a = √(6 / in)",
                (2.0f64 / 3.0).sqrt(),
            ),
            ("6 / in without the square root", 2.0),
            ("fan_out in place of fan_in", (6.0f64 / 5.0).sqrt()),
        ],
    );
    assert_close(
        "init_scale(Init::KaimingNormal, 50, 7)",
        0.2,
        init_scale(Init::KaimingNormal, 50, 7),
        1e-6,
    );
}

#[test]
fn init_weights_have_the_right_shape_and_spread() {
    for init in Init::ALL {
        let (fan_out, fan_in) = (300, 400);
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let w = init_weights(init, fan_out, fan_in, &mut rng);
        assert_exact(&format!("{init:?} shape"), (fan_out, fan_in), w.shape());
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (w
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let scale = f64::from(init_scale(init, fan_in, fan_out));
        // A uniform U(−a, a) has standard deviation a / √3.
        let expected_std = if init.is_uniform() {
            scale / 3f64.sqrt()
        } else {
            scale
        };
        // The sample mean of 120 000 draws is within 0.003 σ of 0 one time in three.
        assert!(
            mean.abs() < 0.02 * expected_std,
            "{init:?}: mean {mean}, expected about 0"
        );
        assert_close(
            &format!("{init:?} standard deviation (2% tolerance)"),
            expected_std,
            std,
            0.02 * expected_std,
        );
        if init.is_uniform() {
            let largest = w.iter().fold(0f32, |m, &v| m.max(v.abs()));
            assert!(
                f64::from(largest) <= scale * (1.0 + 1e-6),
                "{init:?}: |w| up to {largest}, bound {scale}"
            );
            assert!(
                f64::from(largest) > 0.99 * scale,
                "{init:?}: |w| only reaches {largest} of {scale}"
            );
        }
        // A layer without inputs or without outputs has an empty weight
        // matrix, and nothing to draw: no scale is needed (with fan_in = 0
        // there is none), and the generator is left as it was.
        for (fan_out, fan_in) in [(3, 0), (0, 3), (0, 0)] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let w = init_weights(init, fan_out, fan_in, &mut rng);
            assert_exact(
                &format!("{init:?} init_weights shape for {fan_out} × {fan_in}"),
                (fan_out, fan_in),
                w.shape(),
            );
            let mut untouched = ChaCha8Rng::seed_from_u64(7);
            assert!(
                rng.random::<u32>() == untouched.random::<u32>(),
                "{init:?}: init_weights drew from the generator for an empty {fan_out} × {fan_in} matrix"
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_network() {
    let widths = [5, 16, 8, 3];
    let activations = [Activation::Relu, Activation::Tanh, Activation::Identity];
    for init in Init::ALL {
        let a = Mlp::new(&widths, &activations, init, 7, init_weights).unwrap();
        let b = Mlp::new(&widths, &activations, init, 7, init_weights).unwrap();
        let c = Mlp::new(&widths, &activations, init, 8, init_weights).unwrap();
        assert!(a == b, "{init:?}: seed 7 gave two different networks");
        assert!(a != c, "{init:?}: seeds 7 and 8 gave the same network");
        assert!(
            a.parameters()[0].values.iter().any(|&w| w != 0.0),
            "{init:?}: all weights are zero"
        );
    }
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(48) })]

    /// A batch is just its rows side by side: the network never mixes examples,
    /// and forward agrees with the last value of forward_trace.
    #[test]
    fn batches_are_independent_rows(
        widths in proptest::collection::vec(1usize..7, 2..5),
        batch in 1usize..6,
        seed in 0u64..1000,
    ) {
        show_first_panic_only();
        let activations: Vec<Activation> = (1..widths.len()).map(|i| Activation::ALL[(i + seed as usize) % Activation::ALL.len()]).collect();
        let mlp = Mlp::new(&widths, &activations, Init::XavierUniform, seed, init_weights).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
        let input = init_weights(Init::XavierNormal, batch, widths[0], &mut rng) * 3.0;
        let output = forward(&mlp, &input).unwrap();
        let expected = (batch, widths[widths.len() - 1]);
        prop_assert!(output.shape() == expected, "forward's output shape for widths {:?}, batch {}: expected {:?}, got {:?}", widths, batch, expected, output.shape());
        let trace = forward_trace(&mlp, &input).unwrap();
        prop_assert!(trace.len() == mlp.layers.len() + 1, "forward_trace's length for {} layers: expected {} (the input, then each layer's output), got {}", mlp.layers.len(), mlp.layers.len() + 1, trace.len());
        prop_assert!(trace.last() == Some(&output), "forward_trace's last matrix should be forward's output");
        for r in 0..batch {
            let alone = forward(&mlp, &input.rows(r, 1).into_owned()).unwrap();
            for c in 0..output.ncols() {
                prop_assert!((alone[(0, c)] - output[(r, c)]).abs() <= 1e-5 * output[(r, c)].abs().max(1.0), "row {}, column {}", r, c);
            }
        }
    }
}
