//! Tests for exercises/stage-7/network.rs. Run with `cargo test -p stage-7 --test network`.
//!
//! The training step is checked against a forward pass written here, in
//! f64, with the masks drawn by the protocol from the same seed: its loss
//! and logits, and its gradients by central differences (batch norm makes
//! the loss depend on the whole batch, which the differences see too). The
//! gradients are read back from one SGD step at learning rate 1:
//! θ_new = θ − g.

use course_support::check::{
    assert_close, assert_exact, assert_matrix_close, assert_value_error, to_f64,
};
use course_support::data::two_moons;
use course_support::gradcheck::{Tolerance, check_gradients};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stage_7::init::init_weights;
use stage_7::network::{forward_eval, train_step};
use stage_7::{
    Activation, Adam, Init, Layer, Linear, Loss, Maxout, Mlp, Network, Optimizer, Sgd, Targets,
};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

const ACTIVATIONS: [Activation; 2] = [Activation::Tanh, Activation::Sigmoid];
const LABELS: [usize; 6] = [0, 2, 1, 1, 0, 2];

/// 3 → 5 (tanh) → 4 (sigmoid) → 3 logits, with batch norm and dropout on
/// both hidden layers, γ and β away from 1 and 0.
fn network(dropout: f32, batch_norm: bool) -> Network {
    let mlp = Mlp::new(
        &[3, 5, 4, 3],
        &[ACTIVATIONS[0], ACTIVATIONS[1], Activation::Identity],
        Init::XavierNormal,
        3,
        init_weights,
    )
    .unwrap();
    let mut network = Network::new(mlp, dropout, batch_norm).unwrap();
    for (h, bn) in network.batch_norms.iter_mut().enumerate() {
        let n = bn.features();
        bn.gamma = DVector::from_fn(n, |j, _| 0.8 + 0.15 * (j + h) as f32);
        bn.beta = DVector::from_fn(n, |j, _| 0.1 * j as f32 - 0.2 * h as f32);
    }
    network
}

fn batch() -> DMatrix<f32> {
    DMatrix::from_fn(6, 3, |i, j| (1.1 * i as f32 + 0.7 * j as f32).sin() * 1.5)
}

/// The protocol's mask, drawn here: one draw per entry, column after
/// column, dropped below the rate, kept as 1/(1 − p).
fn mask(rows: usize, columns: usize, rate: f32, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(rows, columns);
    for c in 0..columns {
        for r in 0..rows {
            if rng.random::<f32>() >= rate {
                m[(r, c)] = 1.0 / (1.0 - f64::from(rate));
            }
        }
    }
    m
}

fn activate(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        other => panic!("the test network has no {other:?}"),
    }
}

/// The training-mode forward pass, in f64, from the parameters in
/// `Network::parameters` order (W, b, γ, β per hidden layer; W, b last):
/// the logits, the loss, and each batch norm's batch mean and unbiased
/// variance. Masks come from `rng`, in the order the batch meets them.
struct Forward {
    logits: DMatrix<f64>,
    loss: f64,
    batch_stats: Vec<(Vec<f64>, Vec<f64>)>,
}

fn forward_here(
    params: &[Vec<f32>],
    widths: &[usize],
    input: &DMatrix<f32>,
    labels: &[usize],
    dropout: f32,
    batch_norm: bool,
    rng: &mut ChaCha8Rng,
) -> Forward {
    let n = input.nrows();
    let mut a = to_f64(input);
    let mut next = params.iter();
    let mut batch_stats = Vec::new();
    let hidden = widths.len() - 2;
    for (layer, pair) in widths.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let w = DMatrix::from_column_slice(outputs, inputs, next.next().unwrap()).map(f64::from);
        let b = next.next().unwrap();
        let mut z = &a * w.transpose();
        for mut row in z.row_iter_mut() {
            for (o, v) in row.iter_mut().enumerate() {
                *v += f64::from(b[o]);
            }
        }
        if layer == hidden {
            a = z;
            break;
        }
        if batch_norm {
            let (gamma, beta) = (next.next().unwrap(), next.next().unwrap());
            let (mut means, mut vars) = (Vec::new(), Vec::new());
            for j in 0..outputs {
                let mean = z.column(j).sum() / n as f64;
                let sq: f64 = z.column(j).iter().map(|v| (v - mean).powi(2)).sum();
                let inv = 1.0 / (sq / n as f64 + 1e-5f32 as f64).sqrt();
                for v in z.column_mut(j).iter_mut() {
                    *v = f64::from(gamma[j]) * (*v - mean) * inv + f64::from(beta[j]);
                }
                means.push(mean);
                vars.push(sq / (n - 1) as f64);
            }
            batch_stats.push((means, vars));
        }
        a = z.map(|v| activate(ACTIVATIONS[layer], v));
        if dropout > 0.0 {
            a = a.component_mul(&mask(n, outputs, dropout, rng));
        }
    }
    let mut loss = 0.0;
    for (r, &label) in labels.iter().enumerate() {
        let row = a.row(r);
        let max = row.max();
        let log_sum = row.iter().map(|v| (v - max).exp()).sum::<f64>().ln() + max;
        loss += log_sum - row[label];
    }
    Forward {
        logits: a,
        loss: loss / n as f64,
        batch_stats,
    }
}

fn values(network: &Network) -> Vec<Vec<f32>> {
    network
        .parameters()
        .into_iter()
        .map(|p| p.values.to_vec())
        .collect()
}

fn step(
    network: &mut Network,
    optimizer: &mut Optimizer,
    input: &DMatrix<f32>,
    labels: &[usize],
    seed: u64,
) -> stage_7::Step {
    train_step(
        network,
        optimizer,
        input,
        labels,
        &mut ChaCha8Rng::seed_from_u64(seed),
    )
    .unwrap_or_else(|e| panic!("train_step: {e}"))
}

#[test]
fn train_step_loss_and_logits_match_a_forward_pass_with_the_same_masks() {
    let mut net = network(0.4, true);
    let params = values(&net);
    let expected = forward_here(
        &params,
        &[3, 5, 4, 3],
        &batch(),
        &LABELS,
        0.4,
        true,
        &mut ChaCha8Rng::seed_from_u64(11),
    );
    let result = step(&mut net, &mut Sgd::new(0.1).into(), &batch(), &LABELS, 11);
    assert_matrix_close(
        "train_step's logits (batch statistics, one mask per dropout part drawn in the order \
         the batch meets them: hidden layer 0's first)",
        &expected.logits,
        &to_f64(&result.output),
        1e-4,
    );
    assert_close("train_step's loss", expected.loss, result.loss, 1e-5);
}

#[test]
fn train_step_gradients_match_central_differences() {
    for (dropout, batch_norm) in [(0.4, true), (0.0, true), (0.3, false)] {
        let before = network(dropout, batch_norm);
        let mut after = before.clone();
        step(&mut after, &mut Sgd::new(1.0).into(), &batch(), &LABELS, 11);
        // One SGD step at learning rate 1 is θ − g.
        let (old, new) = (values(&before), values(&after));
        let analytic: Vec<Vec<f32>> = old
            .iter()
            .zip(&new)
            .map(|(o, n)| o.iter().zip(n).map(|(a, b)| a - b).collect())
            .collect();
        let tensors: Vec<(String, Vec<f32>)> = before
            .parameters()
            .into_iter()
            .map(|p| (p.name, p.values.to_vec()))
            .collect();
        let slices: Vec<&[f32]> = analytic.iter().map(Vec::as_slice).collect();
        let report = check_gradients(
            &tensors,
            &slices,
            |v| {
                forward_here(
                    v,
                    &[3, 5, 4, 3],
                    &batch(),
                    &LABELS,
                    dropout,
                    batch_norm,
                    &mut ChaCha8Rng::seed_from_u64(11),
                )
                .loss as f32
            },
            // Batch norm bends the loss sharply in the first layer's
            // weights; the loss is computed in f64, so a small step is safe.
            1e-3,
            Tolerance::F32,
        );
        report.assert_passed(&format!(
            "train_step's gradients (read back from one SGD step at rate 1) with dropout \
             {dropout} and batch norm {batch_norm}, in Network::parameters order: W, b, then \
             that hidden layer's γ, β"
        ));
    }
}

#[test]
fn train_step_moves_the_running_estimates_by_the_batch_statistics() {
    let mut net = network(0.4, true);
    let params = values(&net);
    let expected = forward_here(
        &params,
        &[3, 5, 4, 3],
        &batch(),
        &LABELS,
        0.4,
        true,
        &mut ChaCha8Rng::seed_from_u64(11),
    );
    step(&mut net, &mut Sgd::new(0.1).into(), &batch(), &LABELS, 11);
    for (h, (means, vars)) in expected.batch_stats.iter().enumerate() {
        let bn = &net.batch_norms[h];
        let expected_mean = DMatrix::from_iterator(means.len(), 1, means.iter().map(|m| 0.1 * m));
        let expected_var =
            DMatrix::from_iterator(vars.len(), 1, vars.iter().map(|v| 0.9 + 0.1 * v));
        assert_matrix_close(
            &format!("batch norm {h}'s running_mean after one step (from 0, momentum 0.1)"),
            &expected_mean,
            &to_f64(&DMatrix::from_column_slice(
                means.len(),
                1,
                bn.running_mean.as_slice(),
            )),
            1e-5,
        );
        assert_matrix_close(
            &format!("batch norm {h}'s running_var after one step (from 1, unbiased)"),
            &expected_var,
            &to_f64(&DMatrix::from_column_slice(
                vars.len(),
                1,
                bn.running_var.as_slice(),
            )),
            1e-5,
        );
    }
}

#[test]
fn a_plain_network_trains_exactly_as_stage_4() {
    let mut plain = network(0.0, false);
    let mut mlp = plain.mlp.clone();
    let mut ours = Optimizer::from(Adam::new(0.05));
    let mut theirs = Optimizer::from(Adam::new(0.05));
    let targets = Targets::Classes(LABELS.to_vec());
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for i in 0..3 {
        let got = train_step(&mut plain, &mut ours, &batch(), &LABELS, &mut rng)
            .unwrap_or_else(|e| panic!("train_step: {e}"));
        let expected = reference::train::train_step(
            &mut mlp,
            &mut theirs,
            &batch(),
            &targets,
            Loss::CrossEntropy,
        )
        .unwrap();
        assert_exact(
            &format!("step {i}: the logits of a network without dropout or batch norm"),
            expected.output,
            got.output,
        );
        assert_exact(&format!("step {i}: its loss"), expected.loss, got.loss);
        assert_exact(
            &format!("step {i}: its parameters after the update"),
            &mlp,
            &plain.mlp,
        );
    }
    assert_exact(
        "the next draw from the rng (without dropout nothing draws)",
        ChaCha8Rng::seed_from_u64(2).random::<f32>(),
        rng.random::<f32>(),
    );
}

#[test]
fn a_maxout_layer_trains_as_in_stage_4() {
    // `Network::new` refuses maxout layers, but a network built by hand may
    // hold one, and train_step backs through it as stage 4 does.
    let linear = |out: usize, inp: usize, start: usize| {
        Linear::new(
            DMatrix::from_fn(out, inp, |r, c| {
                ((start + r * inp + c) as f32 * 0.7).sin() * 0.5
            }),
            DVector::from_fn(out, |r, _| 0.1 * r as f32 - 0.05),
        )
        .unwrap()
    };
    let mlp = Mlp {
        layers: vec![
            Layer::Maxout(Maxout {
                linear: linear(8, 3, 0),
                pieces: 2,
            }),
            Layer::Linear(linear(3, 4, 30)),
        ],
    };
    let mut net = Network {
        mlp: mlp.clone(),
        dropout: 0.0,
        batch_norms: Vec::new(),
    };
    let mut mlp = mlp;
    let (mut ours, mut theirs) = (
        Optimizer::from(Sgd::new(0.1)),
        Optimizer::from(Sgd::new(0.1)),
    );
    let got = train_step(
        &mut net,
        &mut ours,
        &batch(),
        &LABELS,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap_or_else(|e| panic!("train_step: {e}"));
    let expected = reference::train::train_step(
        &mut mlp,
        &mut theirs,
        &batch(),
        &Targets::Classes(LABELS.to_vec()),
        Loss::CrossEntropy,
    )
    .unwrap();
    assert_exact(
        "the logits of a maxout network",
        expected.output,
        got.output,
    );
    assert_exact(
        "a maxout network's parameters after one step",
        &mlp,
        &net.mlp,
    );
}

#[test]
fn evaluation_mode_is_the_folded_mlp() {
    let mut net = network(0.5, true);
    let mut optimizer = Optimizer::from(Adam::new(0.05));
    for seed in 0..5 {
        step(&mut net, &mut optimizer, &batch(), &LABELS, seed);
    }
    let before = net.clone();
    let input = DMatrix::from_fn(4, 3, |i, j| (0.4 * i as f32 - 0.9 * j as f32).cos());
    let got = forward_eval(&net, &input).unwrap_or_else(|e| panic!("forward_eval: {e}"));
    let folded = reference::mlp::forward(&net.to_evaluation_mlp(), &input).unwrap();
    assert_matrix_close(
        "forward_eval (dropout the identity, batch norm with the running estimates) against \
         the same network folded into a plain MLP",
        &to_f64(&folded),
        &to_f64(&got),
        1e-4,
    );
    for i in 0..4 {
        let row = input.rows(i, 1).into_owned();
        let one = forward_eval(&net, &row).unwrap_or_else(|e| panic!("forward_eval: {e}"));
        assert_matrix_close(
            &format!("forward_eval of row {i} alone (in evaluation a row depends on itself only)"),
            &to_f64(&folded.rows(i, 1).into_owned()),
            &to_f64(&one),
            1e-4,
        );
    }
    assert_exact("the network after forward_eval", &before, &net);
}

#[test]
fn a_failed_step_changes_nothing() {
    let mut net = network(0.4, true);
    let before = net.clone();
    let mut optimizer = Optimizer::from(Adam::new(0.05));
    let result = train_step(
        &mut net,
        &mut optimizer,
        &batch(),
        &LABELS[..5],
        &mut ChaCha8Rng::seed_from_u64(0),
    );
    assert_value_error(
        "train_step with 5 labels for 6 rows",
        result.map(|s| s.loss),
        6,
        5,
    );
    assert_exact(
        "the network after a failed step (running estimates included)",
        &before,
        &net,
    );
}

#[test]
fn batch_norm_and_dropout_learn_the_two_moons() {
    let data = two_moons(100, 0.1, 5);
    let input = data.input_matrix();
    let labels: Vec<usize> = data.labels.iter().map(|&y| y as usize).collect();
    let mlp = Mlp::new(
        &[2, 32, 32, 2],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        2,
        init_weights,
    )
    .unwrap();
    let mut net = Network::new(mlp, 0.1, true).unwrap();
    let mut optimizer = Optimizer::from(Adam::new(0.02));
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut losses = Vec::new();
    for _ in 0..300 {
        let s = train_step(&mut net, &mut optimizer, &input, &labels, &mut rng)
            .unwrap_or_else(|e| panic!("train_step: {e}"));
        losses.push(s.loss);
    }
    let output = forward_eval(&net, &input).unwrap_or_else(|e| panic!("forward_eval: {e}"));
    let right = output
        .row_iter()
        .zip(&labels)
        .filter(|(row, c)| row.transpose().argmax().0 == **c)
        .count();
    let accuracy = right as f32 / labels.len() as f32;
    assert!(
        accuracy >= 0.95,
        "two moons accuracy in evaluation mode after 300 steps with batch norm and dropout 0.1: \
         {accuracy} (training loss {} → {}); a low one with a low training loss points at \
         evaluation mode (running estimates) or at running estimates that never moved",
        losses[0],
        losses[299]
    );
}
