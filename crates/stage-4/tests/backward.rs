//! Tests for exercises/stage-4/backward.rs. Run with `cargo test -p stage-4 --test backward`.
//!
//! Layers are checked by hand, against fixtures/backprop_fixtures.py (plain
//! Python), and against central differences with the gradient checker: for a
//! layer with output Z, the loss L = Σ R ⊙ Z for a fixed random R has
//! dL/dZ = R, so backward(R) must match the slopes of L.

use course_support::check::{
    assert_error_is, assert_exact, assert_exact_naming, assert_matrix_close,
    assert_matrix_close_naming, assert_shape_error, show_first_panic_only, to_f64,
};
use course_support::shape::{Expected, Found};
use nalgebra::{DMatrix, DVector, dmatrix, dvector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use stage_4::activations::apply;
use stage_4::backward::*;
use stage_4::gradcheck::{GradientReport, Tolerance, check_gradients, check_mlp};
use stage_4::init::init_weights;
use stage_4::layers::linear_forward;
use stage_4::losses::{cross_entropy, cross_entropy_gradient, mse, mse_gradient};
use stage_4::mlp::{forward, forward_trace};
use stage_4::{
    Activation, Init, Layer, Linear, LinearGradients, Loss, Maxout, Mlp, ShapeError, Targets,
};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

// The fixture table is shared by several test files; each uses part of it.
#[allow(dead_code)]
mod fixtures {
    include!("fixtures/backprop_values.rs");
}

fn matrix(rows: &[&[f64]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

fn random(rows: usize, cols: usize, scale: f32, seed: u64) -> DMatrix<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    init_weights(Init::XavierNormal, rows, cols, &mut rng) * scale
}

fn projection(z: &DMatrix<f32>, r: &DMatrix<f32>) -> f32 {
    z.component_mul(r).sum()
}

/// `loss` of `mlp`'s output for `input`, as a training step computes it.
fn loss_of(
    mlp: &Mlp,
    input: &DMatrix<f32>,
    targets: &Targets,
    loss: Loss,
) -> Result<f32, ShapeError> {
    let output = forward(mlp, input)?;
    match loss {
        Loss::CrossEntropy => cross_entropy(&output, targets),
        Loss::MeanSquared => mse(&output, &targets.to_dense(output.nrows(), output.ncols())?),
    }
}

/// Checks the gradients `mlp_backward` gives for every weight, bias and the
/// input of `mlp` on one batch against central differences of the loss.
fn check_network(
    mlp: &Mlp,
    input: &DMatrix<f32>,
    targets: &Targets,
    loss: Loss,
    step: f32,
) -> Result<GradientReport, ShapeError> {
    let trace = forward_trace(mlp, input)?;
    let output = trace.last().expect("a trace holds at least the input");
    let grad_output = match loss {
        Loss::CrossEntropy => cross_entropy_gradient(output, targets)?,
        Loss::MeanSquared => {
            mse_gradient(output, &targets.to_dense(output.nrows(), output.ncols())?)?
        }
    };
    let grads = mlp_backward(mlp, &trace, &grad_output)?;
    check_mlp(
        mlp,
        input,
        &grads,
        |m, x| loss_of(m, x, targets, loss),
        step,
        Tolerance::F32,
    )
}

#[test]
fn linear_backward_by_hand() {
    // W (3, 2), A (2, 2), dL/dZ (2, 3):
    // dL/dA = dZ W = [[1 − 5, 2 − 6], [0.5 + 3, 1 + 4]];
    // dL/dW = dZᵀ A: rows 1·(1, 2) + 0.5·(3, 4), (3, 4), −(1, 2); dL/db = column sums.
    let layer = Linear::new(
        dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0],
        dvector![0.0, 0.0, 0.0],
    )
    .unwrap();
    let input = dmatrix![1.0, 2.0; 3.0, 4.0];
    let grad_z = dmatrix![1.0, 0.0, -1.0; 0.5, 1.0, 0.0];
    let g = linear_backward(&layer, &input, &grad_z).expect("the shapes fit");
    assert_matrix_close(
        "linear_backward dL/dA",
        &dmatrix![-4.0, -4.0; 3.5, 5.0],
        &to_f64(&g.input),
        1e-6,
    );
    assert_matrix_close(
        "linear_backward dL/dW",
        &dmatrix![2.5, 4.0; 3.0, 4.0; -1.0, -2.0],
        &to_f64(&g.weights),
        1e-6,
    );
    // dL/db has one entry per output unit; one per example means the
    // sums were taken the other way.
    assert_exact_naming(
        "the length of linear_backward's dL/db for a 2 → 3 layer on a batch of 2 (one per output)",
        3,
        g.bias.len(),
        &[(
            "the sums of the rows of dL/dZ (one per example), where dL/db adds up each column \
             (one per output)",
            2,
        )],
    );
    assert_matrix_close(
        "linear_backward dL/db",
        &dmatrix![1.5; 1.0; -1.0],
        &to_f64(&DMatrix::from_column_slice(3, 1, g.bias.as_slice())),
        1e-6,
    );
}

#[test]
fn linear_backward_rejects_a_gradient_of_the_wrong_shape() {
    let layer = Linear::new(DMatrix::zeros(3, 2), DVector::zeros(3)).unwrap();
    assert_shape_error(
        "linear_backward with a (4, 2) gradient for a 2 → 3 layer",
        linear_backward(&layer, &DMatrix::zeros(4, 2), &DMatrix::zeros(4, 2)),
        3,
        (4, 2),
    );
    assert_shape_error(
        "linear_backward with a (4, 3) input for a 2 → 3 layer",
        linear_backward(&layer, &DMatrix::zeros(4, 3), &DMatrix::zeros(4, 3)),
        2,
        (4, 3),
    );
}

#[test]
fn every_backward_pass_rejects_inputs_that_do_not_fit() {
    // A mismatch is an error, never a panic inside nalgebra or a silently
    // wrong gradient.
    assert_shape_error(
        "activation_backward with a (4, 2) gradient for a (4, 3) pre-activation",
        activation_backward(
            Activation::Relu,
            &DMatrix::zeros(4, 3),
            &DMatrix::zeros(4, 2),
        ),
        3,
        (4, 2),
    );
    let maxout = Maxout {
        linear: Linear::new(DMatrix::zeros(4, 2), DVector::zeros(4)).unwrap(),
        pieces: 2,
    };
    assert_shape_error(
        "maxout_backward with a (5, 3) gradient for 2 units",
        maxout_backward(&maxout, &DMatrix::zeros(5, 2), &DMatrix::zeros(5, 3)),
        2,
        (5, 3),
    );
    let mlp = Mlp::new(
        &[2, 3, 2],
        &[Activation::Tanh, Activation::Identity],
        Init::XavierUniform,
        0,
        init_weights,
    )
    .unwrap();
    let trace = forward_trace(&mlp, &DMatrix::zeros(4, 2)).unwrap();
    let short = &trace[..trace.len() - 1];
    // A trace holds one more matrix than there are layers.
    assert_error_is(
        &format!(
            "mlp_backward with a trace of {} matrices for {} layers",
            short.len(),
            mlp.layers.len()
        ),
        mlp_backward(&mlp, short, &DMatrix::zeros(4, 2)),
        Expected::Count(mlp.layers.len() + 1),
        Found::Number(short.len()),
    );
}

#[test]
fn maxout_backward_by_hand() {
    // Unit 0 = max(x, −x), unit 1 = max(2x + 1, 0.5) over one input x.
    // At x = −3: unit 0's winner is −x (column 1), unit 1's is 0.5 (column 3).
    // dL/d(out) = (1, 2) → dL/dZ = (0, 1, 0, 2); dL/dx = 1·(−1) + 2·0 = −1;
    // dL/dW = dL/dZ · x = (0, −3, 0, −6) (the 0.5 piece's weight 0 still gets one).
    let layer = Maxout {
        linear: Linear::new(dmatrix![1.0; -1.0; 2.0; 0.0], dvector![0.0, 0.0, 1.0, 0.5]).unwrap(),
        pieces: 2,
    };
    let g = maxout_backward(&layer, &dmatrix![-3.0], &dmatrix![1.0, 2.0]).expect("the shapes fit");
    assert_matrix_close(
        "maxout_backward dL/dx at x = −3",
        &dmatrix![-1.0],
        &to_f64(&g.input),
        1e-6,
    );
    assert_matrix_close(
        "maxout_backward dL/dW at x = −3",
        &dmatrix![0.0; -3.0; 0.0; -6.0],
        &to_f64(&g.weights),
        1e-6,
    );
    assert_exact(
        "maxout_backward dL/db at x = −3",
        vec![0.0, 1.0, 0.0, 2.0],
        g.bias.as_slice().to_vec(),
    );
}

/// A 2 → 3 layer, a batch of 4 and a fixed R for the checker exercise.
fn checked_layer() -> (Linear, DMatrix<f32>, DMatrix<f32>) {
    let layer = Linear::new(
        dmatrix![0.5, -1.0; 2.0, 0.75; -0.3, 0.2],
        dvector![0.1, -0.2, 0.05],
    )
    .unwrap();
    let input = dmatrix![1.0, 2.0; -0.5, 0.25; 0.3, -1.2; 2.0, 0.1];
    let r = dmatrix![1.0, -2.0, 0.5; 0.5, 0.25, -1.0; -0.75, 1.5, 0.2; 0.1, 0.3, -0.4];
    (layer, input, r)
}

#[test]
fn your_checker_passes_a_correct_backward_pass() {
    // The reference's linear_backward, so this tests your checker alone.
    let (layer, input, r) = checked_layer();
    let report = check_linear_backward(reference::backward::linear_backward, &layer, &input, &r)
        .expect("the shapes fit");
    let tensors: Vec<(String, usize)> = report
        .tensors
        .iter()
        .map(|t| (t.name.clone(), t.len))
        .collect();
    assert_exact(
        "the checked tensors and their entries",
        vec![
            ("weight".to_owned(), 6),
            ("bias".to_owned(), 3),
            ("input".to_owned(), 8),
        ],
        tensors,
    );
    assert!(
        report.passed(),
        "check_linear_backward of a correct backward pass should pass:\n{report}"
    );
}

/// The reference's linear_backward with the classic slip of a bias gradient
/// twice too large.
fn bias_twice_too_large(
    layer: &Linear,
    input: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<LinearGradients, ShapeError> {
    let mut grads = reference::backward::linear_backward(layer, input, grad_output)?;
    grads.bias *= 2.0;
    Ok(grads)
}

#[test]
fn your_checker_catches_a_wrong_gradient_where_it_is() {
    let (layer, input, r) = checked_layer();
    let report =
        check_linear_backward(bias_twice_too_large, &layer, &input, &r).expect("the shapes fit");
    let failing: Vec<&str> = report
        .tensors
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.name.as_str())
        .collect();
    assert_exact(
        "the tensors the checker finds wrong when only the bias gradient is",
        vec!["bias"],
        failing,
    );
}

#[test]
fn an_activations_derivative_is_taken_at_its_input() {
    // Through tanh, f′ must be taken at Z, the activation's input (trace[i]),
    // not at its output tanh(Z) (trace[i + 1]). ReLU cannot tell them apart
    // (relu′(relu(z)) = relu′(z)); tanh can.
    let mlp = Mlp::new(
        &[2, 3, 2],
        &[Activation::Tanh, Activation::Identity],
        Init::XavierUniform,
        4,
        init_weights,
    )
    .unwrap();
    let x = dmatrix![0.5_f32, -1.0; 2.0, 0.25];
    let trace = forward_trace(&mlp, &x).unwrap();
    let grad_output = dmatrix![1.0_f32, -0.5; 0.25, 2.0];
    let got = mlp_backward(&mlp, &trace, &grad_output).expect("the shapes fit");
    // The same walk, step by step with the reference, both ways.
    let walk = |at_output: bool| {
        let mut grad = grad_output.clone();
        for (i, layer) in mlp.layers.iter().enumerate().rev() {
            grad = match layer {
                Layer::Linear(l) => {
                    reference::backward::linear_backward(l, &trace[i], &grad)
                        .unwrap()
                        .input
                }
                Layer::Activation(a) => {
                    let z = if at_output { &trace[i + 1] } else { &trace[i] };
                    reference::backward::activation_backward(*a, z, &grad).unwrap()
                }
                Layer::Maxout(_) => unreachable!("no maxout here"),
            };
        }
        grad
    };
    let (right, wrong) = (walk(false), walk(true));
    // Every entry of dL/dX is below 1 here, so the tolerance is absolute.
    assert_matrix_close_naming(
        "mlp_backward's dL/dX through a tanh layer",
        &to_f64(&right),
        &to_f64(&got.input),
        1e-5,
        &[(
            "tanh′ taken at the activation's output, trace[i + 1], instead of its input, trace[i]",
            to_f64(&wrong),
        )],
    );
}

#[test]
fn maxout_backward_sends_a_tie_to_the_first_piece() {
    // Two identical pieces always tie; the forward pass counts the first as
    // the winner, so the backward pass must send the gradient there too.
    let layer = Maxout {
        linear: Linear::new(dmatrix![2.0; 2.0], dvector![1.0, 1.0]).unwrap(),
        pieces: 2,
    };
    let g = maxout_backward(&layer, &dmatrix![3.0], &dmatrix![1.0]).expect("the shapes fit");
    assert_exact_naming(
        "maxout_backward dL/db with two tied pieces",
        vec![1.0, 0.0],
        g.bias.as_slice().to_vec(),
        &[(
            "the last of the tied pieces, where the forward pass takes the first",
            vec![0.0, 1.0],
        )],
    );
}

#[test]
fn mlp_backward_matches_the_python_fixture() {
    let to32 = |m: DMatrix<f64>| m.map(|v| v as f32);
    let layers = vec![
        Layer::Linear(
            Linear::new(
                to32(matrix(fixtures::W1)),
                DVector::from_iterator(3, fixtures::B1.iter().map(|&v| v as f32)),
            )
            .unwrap(),
        ),
        Layer::Activation(Activation::Relu),
        Layer::Linear(
            Linear::new(
                to32(matrix(fixtures::W2)),
                DVector::from_iterator(2, fixtures::B2.iter().map(|&v| v as f32)),
            )
            .unwrap(),
        ),
    ];
    let mlp = Mlp::from_layers(layers).unwrap();
    let input = to32(matrix(fixtures::INPUT));
    let targets = Targets::Classes(fixtures::CLASSES.to_vec());
    let trace = forward_trace(&mlp, &input).unwrap();
    let logits = trace.last().unwrap();
    let loss = stage_4::losses::cross_entropy(logits, &targets).expect("the fixture fits");
    course_support::check::assert_close("fixture loss", fixtures::LOSS, loss, 1e-5);
    let grad = stage_4::losses::cross_entropy_gradient(logits, &targets).unwrap();
    let g = mlp_backward(&mlp, &trace, &grad).expect("the fixture fits");
    assert_exact(
        "mlp_backward: entries per layer (Some for linear, None for ReLU)",
        vec![true, false, true],
        g.layers.iter().map(Option::is_some).collect::<Vec<_>>(),
    );
    let (dw1, db1) = g.layers[0].clone().unwrap();
    let (dw2, db2) = g.layers[2].clone().unwrap();
    let column = |v: &[f64]| DMatrix::from_column_slice(v.len(), 1, v);
    let as_column =
        |v: &DVector<f32>| to_f64(&DMatrix::from_column_slice(v.len(), 1, v.as_slice()));
    assert_matrix_close(
        "dL/dW of layer 0",
        &matrix(fixtures::D_W1),
        &to_f64(&dw1),
        1e-5,
    );
    assert_matrix_close(
        "dL/db of layer 0",
        &column(fixtures::D_B1),
        &as_column(&db1),
        1e-5,
    );
    assert_matrix_close(
        "dL/dW of layer 2",
        &matrix(fixtures::D_W2),
        &to_f64(&dw2),
        1e-5,
    );
    assert_matrix_close(
        "dL/db of layer 2",
        &column(fixtures::D_B2),
        &as_column(&db2),
        1e-5,
    );
    assert_matrix_close("dL/dX", &matrix(fixtures::D_INPUT), &to_f64(&g.input), 1e-5);
}

#[test]
fn every_activation_backward_matches_central_differences() {
    // Pre-activations spread over [−3, 3], none within 0.05 of a kink at 0.
    let z = DMatrix::from_fn(4, 5, |i, j| {
        let v = -3.0 + 6.0 * (i * 5 + j) as f32 / 19.0;
        if v.abs() < 0.05 { 0.3 } else { v }
    });
    let r = random(4, 5, 1.0, 11);
    for activation in Activation::ALL {
        let analytic = activation_backward(activation, &z, &r).expect("the shapes fit");
        let tensors = [("Z".to_owned(), z.as_slice().to_vec())];
        let report = check_gradients(
            &tensors,
            &[analytic.as_slice()],
            |v| {
                projection(
                    &DMatrix::from_column_slice(4, 5, &v[0]).map(|x| apply(activation, x)),
                    &r,
                )
            },
            1e-2,
            Tolerance::F32,
        );
        report.assert_passed(&format!("activation_backward for {activation}"));
    }
}

#[test]
fn a_maxout_network_passes_the_gradient_check() {
    // Seeded so that no two pieces are within the step h of a tie.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mlp = Mlp::from_layers(vec![
        Layer::maxout(init_weights(Init::XavierUniform, 12, 3, &mut rng), 3),
        Layer::linear(init_weights(Init::XavierUniform, 2, 4, &mut rng)),
    ])
    .unwrap();
    let input = random(5, 3, 2.0, 4);
    let report = check_network(
        &mlp,
        &input,
        &Targets::Classes(vec![0, 1, 1, 0, 1]),
        Loss::CrossEntropy,
        1e-3,
    )
    .expect("the shapes fit");
    report.assert_passed("maxout network");
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(32) })]

    #[test]
    fn linear_backward_matches_central_differences(batch in 1usize..5, inputs in 1usize..5, outputs in 1usize..5, seed in 0u64..1000) {
        show_first_panic_only();
        let a = random(batch, inputs, 1.5, seed);
        let layer = Linear::new(random(outputs, inputs, 1.0, seed + 1), DVector::from_iterator(outputs, (0..outputs).map(|i| i as f32 * 0.1))).unwrap();
        let r = random(batch, outputs, 1.0, seed + 2);
        let g = linear_backward(&layer, &a, &r).unwrap();
        let tensors = [
            ("A".to_owned(), a.as_slice().to_vec()),
            ("W".to_owned(), layer.weights.as_slice().to_vec()),
            ("b".to_owned(), layer.bias.as_slice().to_vec()),
        ];
        let report = check_gradients(&tensors, &[g.input.as_slice(), g.weights.as_slice(), g.bias.as_slice()], |v| {
            let l = Linear::new(DMatrix::from_column_slice(outputs, inputs, &v[1]), DVector::from_column_slice(&v[2])).unwrap();
            projection(&linear_forward(&l, &DMatrix::from_column_slice(batch, inputs, &v[0])).unwrap(), &r)
        }, 1e-2, Tolerance::F32);
        prop_assert!(report.passed(), "linear_backward, batch {} in {} out {}:\n{}", batch, inputs, outputs, report);
    }

    /// Whole networks of random widths and smooth activations, both losses:
    /// every weight, bias and input gradient matches central differences.
    #[test]
    fn whole_networks_pass_the_gradient_check(
        widths in proptest::collection::vec(1usize..6, 2..5),
        batch in 1usize..5,
        seed in 0u64..1000,
        cross_entropy in proptest::bool::ANY,
    ) {
        show_first_panic_only();
        let smooth = [Activation::Tanh, Activation::Sigmoid, Activation::Softplus, Activation::Gelu, Activation::ELU];
        let activations: Vec<Activation> = (1..widths.len()).map(|i| smooth[(seed as usize + i) % smooth.len()]).collect();
        let mlp = Mlp::new(&widths, &activations, Init::XavierUniform, seed, init_weights).unwrap();
        let input = random(batch, widths[0], 1.5, seed + 7);
        let outputs = widths[widths.len() - 1];
        let (targets, loss) = if cross_entropy {
            (Targets::Classes((0..batch).map(|i| (i + seed as usize) % outputs).collect()), Loss::CrossEntropy)
        } else {
            (Targets::Dense(random(batch, outputs, 1.0, seed + 9)), Loss::MeanSquared)
        };
        let report = check_network(&mlp, &input, &targets, loss, 1e-2).unwrap();
        prop_assert!(report.passed(), "widths {:?}, {:?}, {:?}:\n{}", widths, activations, loss, report);
    }
}
