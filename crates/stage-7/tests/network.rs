//! Tests for exercises/stage-7/network.rs. Run with `cargo test -p stage-7 --test network`.
//!
//! The training step is checked against a forward pass written here, in
//! f64, with the masks drawn by the protocol from the same seed: its loss
//! and logits, and its gradients by central differences (batch norm makes
//! the loss depend on the whole batch, which the differences see too). The
//! gradients are read back from one SGD step at learning rate 1:
//! θ_new = θ − g. The step must draw its masks and nothing else from the
//! rng, and a step that fails must leave the network as it was.

use course_support::check::{
    assert_close_naming, assert_exact, assert_matrix_close, assert_matrix_close_naming,
    assert_value_error, is_close, to_f64,
};
use course_support::data::two_moons;
use course_support::gradcheck::{Tolerance, check_gradients};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stage_7::init::init_weights;
use stage_7::network::{forward_eval, train_step};
use stage_7::{
    Activation, Adam, BatchNorm, BatchNormCache, Init, Layer, Linear, Loss, Maxout, Mlp, Network,
    Optimizer, Part, Sgd, Targets,
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
#[derive(Clone)]
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
    forward_with(
        params, widths, input, labels, dropout, batch_norm, false, rng,
    )
}

/// `forward_here`, or with the classic mistake of normalising with the
/// unbiased variance (÷ (N − 1)) when `unbiased_norm`.
#[allow(clippy::too_many_arguments)]
fn forward_with(
    params: &[Vec<f32>],
    widths: &[usize],
    input: &DMatrix<f32>,
    labels: &[usize],
    dropout: f32,
    batch_norm: bool,
    unbiased_norm: bool,
    rng: &mut ChaCha8Rng,
) -> Forward {
    let n = input.nrows();
    let divisor = if unbiased_norm { n - 1 } else { n } as f64;
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
                let inv = 1.0 / (sq / divisor + 1e-5f32 as f64).sqrt();
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

/// The step's forward pass on this file's network, batch and labels, with
/// seed 11's masks: right, and with the unbiased variance in the
/// normalisation (the mistake a failure can name).
fn forward_pass(network: &Network, unbiased_norm: bool) -> Forward {
    forward_with(
        &values(network),
        &[3, 5, 4, 3],
        &batch(),
        &LABELS,
        network.dropout,
        !network.batch_norms.is_empty(),
        unbiased_norm,
        &mut ChaCha8Rng::seed_from_u64(11),
    )
}

const UNBIASED_NORM: &str = "batch_norm_train normalising with the unbiased variance (÷ (N − 1)); \
                             normalisation uses the biased one (÷ N)";

/// The known mistakes that change the step's logits, with the logits and
/// loss they give (none without batch norm).
fn forward_mistakes(network: &Network) -> Vec<(&'static str, Forward)> {
    if network.batch_norms.is_empty() {
        Vec::new()
    } else {
        vec![(UNBIASED_NORM, forward_pass(network, true))]
    }
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
    let mistakes = forward_mistakes(&net);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let result = train_step(
        &mut net,
        &mut Sgd::new(0.1).into(),
        &batch(),
        &LABELS,
        &mut rng,
    )
    .unwrap_or_else(|e| panic!("train_step: {e}"));
    let draws = rng.get_word_pos();
    let stream = if draws == 54 {
        String::new()
    } else {
        format!(
            "; train_step took {draws} draws from rng where its two masks take 54 (6 x 5, then 6 \
             x 4): train_step_draws_its_masks_and_nothing_else says more"
        )
    };
    assert_matrix_close_naming(
        &format!(
            "train_step's logits (batch statistics, one mask per dropout part drawn in the order \
             the batch meets them: hidden layer 0's first){stream}"
        ),
        &expected.logits,
        &to_f64(&result.output),
        1e-4,
        &mistakes
            .iter()
            .map(|(name, f)| (*name, f.logits.clone()))
            .collect::<Vec<_>>(),
    );
    assert_close_naming(
        "train_step's loss",
        expected.loss,
        result.loss,
        1e-5,
        &mistakes
            .iter()
            .map(|(name, f)| (*name, f.loss))
            .collect::<Vec<_>>(),
    );
}

#[test]
fn train_step_gradients_match_central_differences() {
    for (dropout, batch_norm) in [(0.4, true), (0.0, true), (0.3, false)] {
        let before = network(dropout, batch_norm);
        let mut after = before.clone();
        let result = step(&mut after, &mut Sgd::new(1.0).into(), &batch(), &LABELS, 11);
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
        if !report.passed() {
            report.assert_passed(&format!(
                "train_step's gradients (read back from one SGD step at rate 1) with dropout \
                 {dropout} and batch norm {batch_norm}, in Network::parameters order: W, b, then \
                 that hidden layer's γ, β{}",
                gradient_diagnosis(&before, &after, &result.output, &analytic)
            ));
        }
    }
}

/// The gradients (in `Network::parameters` order) of a training step whose
/// forward pass multiplies by the masks `forward` and whose backward pass by
/// the masks `backward` (each one per dropout part, in the order the batch
/// meets them), built from the reference's parts. With the same masks they
/// are the step's right gradients; with others, what a backward pass that
/// draws masks of its own computes.
fn gradients_with_masks(
    network: &Network,
    forward: &[DMatrix<f32>],
    backward: &[DMatrix<f32>],
) -> Vec<Vec<f32>> {
    use reference::backward::{activation_backward, linear_backward};
    use reference::batch_norm::{batch_norm_backward, batch_norm_train};
    enum Kept {
        Input(DMatrix<f32>),
        Cache(BatchNormCache),
        Mask,
    }
    let parts = network.parts();
    let (mut kept, mut current, mut masks) = (Vec::new(), batch(), forward.iter());
    for part in &parts {
        current = match *part {
            Part::Layer(_, layer) => {
                let output = reference::mlp::layer_forward(layer, &current).unwrap();
                kept.push(Kept::Input(current));
                output
            }
            Part::BatchNorm(_, bn) => {
                let (output, cache) = batch_norm_train(&mut bn.clone(), &current).unwrap();
                kept.push(Kept::Cache(cache));
                output
            }
            Part::Dropout(_) => {
                kept.push(Kept::Mask);
                current.component_mul(masks.next().expect("a mask per dropout part"))
            }
        };
    }
    let targets = Targets::Classes(LABELS.to_vec());
    let mut grad = reference::losses::cross_entropy_gradient(&current, &targets).unwrap();
    let (mut pairs, mut masks) = (Vec::new(), backward.iter().rev());
    for (part, kept) in parts.iter().zip(&kept).rev() {
        grad = match (*part, kept) {
            (Part::Layer(_, Layer::Activation(activation)), Kept::Input(z)) => {
                activation_backward(*activation, z, &grad).unwrap()
            }
            (Part::Layer(_, Layer::Linear(linear)), Kept::Input(a)) => {
                let g = linear_backward(linear, a, &grad).unwrap();
                pairs.push((g.weights.as_slice().to_vec(), g.bias.as_slice().to_vec()));
                g.input
            }
            (Part::BatchNorm(_, bn), Kept::Cache(cache)) => {
                let g = batch_norm_backward(bn, cache, &grad).unwrap();
                pairs.push((g.gamma.as_slice().to_vec(), g.beta.as_slice().to_vec()));
                g.input
            }
            (Part::Dropout(_), Kept::Mask) => {
                grad.component_mul(masks.next().expect("a mask per dropout part"))
            }
            _ => {
                unreachable!("the test network has linear layers, activations, batch norm, dropout")
            }
        };
    }
    pairs
        .into_iter()
        .rev()
        .flat_map(|(first, second)| [first, second])
        .collect()
}

/// Why the step's gradients are wrong, where the evidence says: its logits
/// already differ from the test's forward pass; its gradients are those of
/// a backward pass with other masks than the forward pass's (fresh ones
/// drawn after them, or none); or γ and β did not move.
fn gradient_diagnosis(
    before: &Network,
    after: &Network,
    logits: &DMatrix<f32>,
    analytic: &[Vec<f32>],
) -> String {
    let close = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
        a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(&x, &y)| is_close(x, y, 1e-4))
    };
    let logits = to_f64(logits);
    if !close(&forward_pass(before, false).logits, &logits) {
        let named = forward_mistakes(before)
            .into_iter()
            .find(|(_, f)| close(&f.logits, &logits))
            .map_or_else(String::new, |(name, _)| format!(" (they match {name})"));
        return format!(
            "; the step's logits already differ from the test's forward pass{named}, so fix the \
             forward pass first: train_step_loss_and_logits_match_a_forward_pass_with_the_same_masks \
             says more"
        );
    }
    let gradients_match = |gradients: &[Vec<f32>]| {
        gradients.len() == analytic.len()
            && gradients.iter().zip(analytic).all(|(g, a)| {
                g.len() == a.len()
                    && g.iter()
                        .zip(a)
                        .all(|(&g, &a)| Tolerance::F32.accepts(f64::from(a), f64::from(g)))
            })
    };
    if before.dropout > 0.0 {
        // Seed 11's masks, then what the same rng draws next: a fresh mask
        // for each dropout part, in the backward pass's order (the last
        // part's first) or the forward pass's.
        let units = [5, 4];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut draw =
            |u: usize| reference::dropout::dropout_mask(6, u, before.dropout, &mut rng).unwrap();
        let masks: Vec<DMatrix<f32>> = units.iter().map(|&u| draw(u)).collect();
        let mut fresh_reversed: Vec<DMatrix<f32>> = units.iter().rev().map(|&u| draw(u)).collect();
        fresh_reversed.reverse();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for &u in &units {
            reference::dropout::dropout_mask(6, u, before.dropout, &mut rng).unwrap();
        }
        let fresh_in_order: Vec<DMatrix<f32>> = units
            .iter()
            .map(|&u| reference::dropout::dropout_mask(6, u, before.dropout, &mut rng).unwrap())
            .collect();
        if [fresh_reversed, fresh_in_order]
            .iter()
            .any(|fresh| gradients_match(&gradients_with_masks(before, &masks, fresh)))
        {
            return "; this looks like a different mask in the backward pass: your gradients are \
                    what fresh masks drawn there give, and dropout_backward must multiply by the \
                    mask its own forward pass drew"
                .to_owned();
        }
        let ones: Vec<DMatrix<f32>> = units
            .iter()
            .map(|&u| DMatrix::from_element(6, u, 1.0))
            .collect();
        if gradients_match(&gradients_with_masks(before, &masks, &ones)) {
            return "; this looks like dropout left out of the backward pass: dL/dx = dL/dy ⊙ m, \
                    with the forward pass's mask m"
                .to_owned();
        }
    }
    let unmoved = |bn: (&BatchNorm, &BatchNorm)| bn.0.gamma == bn.1.gamma && bn.0.beta == bn.1.beta;
    if !before.batch_norms.is_empty()
        && before
            .batch_norms
            .iter()
            .zip(&after.batch_norms)
            .all(unmoved)
    {
        return "; no γ or β moved in the step, as if each batch-norm layer had been put back \
                whole after the optimiser's update"
            .to_owned();
    }
    String::new()
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
    let unbiased_norm = forward_pass(&net, true);
    step(&mut net, &mut Sgd::new(0.1).into(), &batch(), &LABELS, 11);
    // The running estimates from 0 and 1 after one batch whose mean and
    // unbiased variance are `means` and `vars`, with the momentum m = 0.1
    // (or m ↔ 1 − m).
    let column = |values: &[f64], f: &dyn Fn(f64) -> f64| {
        DMatrix::from_iterator(values.len(), 1, values.iter().map(|&v| f(v)))
    };
    let n = batch().nrows() as f64;
    let swapped = "the momentum applied the wrong way round: (1 − m)·batch + m·running, where \
                   PyTorch moves by m: (1 − m)·running + m·batch";
    let unmoved = "the running estimates left where they started: the step's batch norms must \
                   move them, in the network itself";
    for (h, (means, vars)) in expected.batch_stats.iter().enumerate() {
        let bn = &net.batch_norms[h];
        let (means_u, vars_u) = &unbiased_norm.batch_stats[h];
        assert_matrix_close_naming(
            &format!("batch norm {h}'s running_mean after one step (from 0, momentum 0.1)"),
            &column(means, &|m| 0.1 * m),
            &to_f64(&DMatrix::from_column_slice(
                means.len(),
                1,
                bn.running_mean.as_slice(),
            )),
            1e-5,
            &[
                (swapped, column(means, &|m| 0.9 * m)),
                (UNBIASED_NORM, column(means_u, &|m| 0.1 * m)),
                (unmoved, column(means, &|_| 0.0)),
            ],
        );
        assert_matrix_close_naming(
            &format!("batch norm {h}'s running_var after one step (from 1, unbiased)"),
            &column(vars, &|v| 0.9 + 0.1 * v),
            &to_f64(&DMatrix::from_column_slice(
                vars.len(),
                1,
                bn.running_var.as_slice(),
            )),
            1e-5,
            &[
                (swapped, column(vars, &|v| 0.1 + 0.9 * v)),
                (
                    "the biased variance (÷ N) in the running estimate; PyTorch keeps the \
                     unbiased one (÷ (N − 1)) there",
                    column(vars, &|v| 0.9 + 0.1 * v * (n - 1.0) / n),
                ),
                (UNBIASED_NORM, column(vars_u, &|v| 0.9 + 0.1 * v)),
                (unmoved, column(vars, &|_| 1.0)),
            ],
        );
    }
}

#[test]
fn train_step_draws_its_masks_and_nothing_else() {
    for (dropout, batch_norm) in [(0.4, true), (0.3, false)] {
        let mut net = network(dropout, batch_norm);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        train_step(
            &mut net,
            &mut Sgd::new(0.1).into(),
            &batch(),
            &LABELS,
            &mut rng,
        )
        .unwrap_or_else(|e| panic!("train_step: {e}"));
        // Where the stream stands after the two masks alone, 6 x 5 then 6 x 4.
        let mut expected = ChaCha8Rng::seed_from_u64(11);
        mask(6, 5, dropout, &mut expected);
        mask(6, 4, dropout, &mut expected);
        let (masks, mask_draws) = (expected.get_word_pos(), [30i128, 24]);
        let extra = rng.get_word_pos() as i128 - masks as i128;
        let why = if extra == masks as i128 {
            ": as many as the masks again, which looks like fresh masks drawn in the backward \
             pass (it must multiply by the forward pass's masks)"
        } else if mask_draws.contains(&extra) {
            ": as many as one mask, which looks like one mask drawn twice"
        } else {
            ""
        };
        let draws = |k: i128| {
            if k == 1 {
                "1 draw".to_owned()
            } else {
                format!("{k} draws")
            }
        };
        assert!(
            extra <= 0,
            "with dropout {dropout} and batch norm {batch_norm}, train_step took {} from rng \
             beyond its two masks' {masks} (one random::<f32>() per entry of the 6 x 5 and 6 x 4 \
             masks){why}. Nothing but dropout_mask may draw from rng, once per dropout part, in \
             the forward pass",
            draws(extra)
        );
        assert!(
            extra == 0,
            "with dropout {dropout} and batch norm {batch_norm}, train_step took {} fewer from \
             rng than its two masks take ({masks}: one random::<f32>() per entry of the 6 x 5 \
             and 6 x 4 masks, at every rate)",
            draws(-extra)
        );
        assert_exact(
            "the next draw from the rng after train_step",
            expected.random::<f32>(),
            rng.random::<f32>(),
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
    let optimizer_before = optimizer.clone();
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
    let changed = changed_fields(&before, &net);
    assert!(
        changed.is_empty(),
        "train_step returned an error (5 labels for 6 rows, found by the loss after the \
         forward pass) but changed the network: {}. After an error the network must be \
         exactly as it was, running estimates included (only the rng may have moved)",
        changed.join("; ")
    );
    assert_exact(
        "the optimiser after a failed step",
        &optimizer_before,
        &optimizer,
    );
}

/// Each field of `after` that differs from `before`, by name, with both
/// values: the dropout rate, every layer's weights and bias, every batch
/// norm's γ, β, running estimates, momentum and ε.
fn changed_fields(before: &Network, after: &Network) -> Vec<String> {
    fn field<T: PartialEq + std::fmt::Debug>(
        changed: &mut Vec<String>,
        name: String,
        b: &T,
        a: &T,
    ) {
        if b != a {
            changed.push(format!("{name} went from {b:?} to {a:?}"));
        }
    }
    let mut changed = Vec::new();
    field(
        &mut changed,
        "the dropout rate".to_owned(),
        &before.dropout,
        &after.dropout,
    );
    let layers = |n: &Network| n.mlp.layers.len();
    field(
        &mut changed,
        "the number of layers".to_owned(),
        &layers(before),
        &layers(after),
    );
    for (i, (b, a)) in before.mlp.layers.iter().zip(&after.mlp.layers).enumerate() {
        let linears = match (b, a) {
            (Layer::Linear(b), Layer::Linear(a)) => Some((b, a)),
            (Layer::Maxout(b), Layer::Maxout(a)) => Some((&b.linear, &a.linear)),
            _ => None,
        };
        match linears {
            Some((b, a)) => {
                field(
                    &mut changed,
                    format!("layer {i}'s weights"),
                    &b.weights.as_slice(),
                    &a.weights.as_slice(),
                );
                field(
                    &mut changed,
                    format!("layer {i}'s bias"),
                    &b.bias.as_slice(),
                    &a.bias.as_slice(),
                );
            }
            None => field(&mut changed, format!("layer {i}"), b, a),
        }
    }
    let norms = |n: &Network| n.batch_norms.len();
    field(
        &mut changed,
        "the number of batch norms".to_owned(),
        &norms(before),
        &norms(after),
    );
    for (h, (b, a)) in before
        .batch_norms
        .iter()
        .zip(&after.batch_norms)
        .enumerate()
    {
        let vectors = [
            ("gamma", &b.gamma, &a.gamma),
            ("beta", &b.beta, &a.beta),
            ("running_mean", &b.running_mean, &a.running_mean),
            ("running_var", &b.running_var, &a.running_var),
        ];
        for (name, b, a) in vectors {
            field(
                &mut changed,
                format!("batch norm {h}'s {name}"),
                &b.as_slice(),
                &a.as_slice(),
            );
        }
        field(
            &mut changed,
            format!("batch norm {h}'s momentum"),
            &b.momentum,
            &a.momentum,
        );
        field(
            &mut changed,
            format!("batch norm {h}'s epsilon"),
            &b.epsilon,
            &a.epsilon,
        );
    }
    changed
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
