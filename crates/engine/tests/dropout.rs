//! Dropout on the fast path: the same masks as stage 7's protocol, the
//! same updates as an independent f64 computation with those masks,
//! gradients that pass the numerical check with the masks held fixed, and
//! nothing changed when the rate is 0.

use course_support::activation::Activation;
use course_support::batches::{BatchLoader, Order};
use course_support::network::{Init, Layer, Mlp};
use course_support::optim::Adam;
use engine::{Trainer, input};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn batch(rows: usize, features: usize, classes: usize, seed: u64) -> (DMatrix<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(rows, features, |_, _| rng.random_range(-2.0..2.0));
    let y = (0..rows).map(|_| rng.random_range(0..classes)).collect();
    (x, y)
}

/// `batch` with every third column one value in every row (MNIST's
/// background), which the first layer's products leave out; also returns
/// how many columns are constant.
fn batch_with_constant_columns(
    rows: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> (DMatrix<f32>, Vec<usize>, usize) {
    let (mut x, y) = batch(rows, features, classes, seed);
    let mut constant = 0;
    for j in (0..features).step_by(3) {
        x.column_mut(j).fill(if j % 2 == 0 { 0.0 } else { -0.4242 });
        constant += 1;
    }
    (x, y, constant)
}

fn network(widths: &[usize], activations: &[Activation], seed: u64) -> Mlp {
    Mlp::new(
        widths,
        activations,
        Init::KaimingUniform,
        seed,
        reference::init::init_weights,
    )
    .unwrap()
}

/// Stage 7's masks, drawn here by its protocol: for each hidden layer in
/// order, (rows, units) entries in column-major order, one
/// `random::<f32>()` each, 0 when below p, else 1/(1 − p).
fn draw_masks(rng: &mut ChaCha8Rng, rows: usize, hidden: &[usize], p: f32) -> Vec<DMatrix<f32>> {
    let keep = 1.0 / (1.0 - p);
    hidden
        .iter()
        .map(|&units| {
            let mut mask = DMatrix::zeros(rows, units);
            for entry in mask.iter_mut() {
                *entry = if rng.random::<f32>() < p { 0.0 } else { keep };
            }
            mask
        })
        .collect()
}

/// The widths of the hidden layers of `mlp` (every linear layer but the last).
fn hidden_widths(mlp: &Mlp) -> Vec<usize> {
    let mut widths: Vec<usize> = mlp
        .layers
        .iter()
        .filter_map(|l| match l {
            Layer::Linear(linear) => Some(linear.out_features()),
            _ => None,
        })
        .collect();
    widths.pop();
    widths
}

fn bits(mlp: &Mlp) -> Vec<u32> {
    mlp.parameters()
        .iter()
        .flat_map(|p| p.values.iter().map(|v| v.to_bits()))
        .collect()
}

// ---------------------------------------------------------------------------
// The oracle: the training step in f64, written from the formulas.

fn f(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Identity => z,
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Softplus => z.max(0.0) + (-z.abs()).exp().ln_1p(),
        other => unimplemented!("the oracle's {other}"),
    }
}

fn f_prime(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Relu => f64::from(u8::from(z > 0.0)),
        Activation::Tanh => 1.0 - z.tanh().powi(2),
        Activation::Sigmoid => {
            let s = f(Activation::Sigmoid, z);
            s * (1.0 - s)
        }
        Activation::Softplus => f(Activation::Sigmoid, z),
        other => unimplemented!("the oracle's {other}"),
    }
}

/// dL/dW and dL/db of each layer.
type Gradients = Vec<(DMatrix<f64>, DVector<f64>)>;

/// A network in f64 and Adam's state, stepped by the formulas.
struct Oracle {
    /// (W (out, in), b, the activation after the layer).
    layers: Vec<(DMatrix<f64>, DVector<f64>, Activation)>,
    adam: Adam,
    /// m and v per tensor (W, b of each layer), in f64.
    moments: Vec<(Vec<f64>, Vec<f64>)>,
    steps: i32,
}

impl Oracle {
    fn new(mlp: &Mlp, adam: &Adam) -> Self {
        let mut layers: Vec<(DMatrix<f64>, DVector<f64>, Activation)> = Vec::new();
        for layer in &mlp.layers {
            match layer {
                Layer::Linear(linear) => layers.push((
                    linear.weights.map(f64::from),
                    linear.bias.map(f64::from),
                    Activation::Identity,
                )),
                Layer::Activation(a) => layers.last_mut().unwrap().2 = *a,
                Layer::Maxout(_) => unreachable!(),
            }
        }
        let moments = layers
            .iter()
            .flat_map(|(w, b, _)| [w.len(), b.len()])
            .map(|n| (vec![0.0; n], vec![0.0; n]))
            .collect();
        Self {
            layers,
            adam: adam.clone(),
            moments,
            steps: 0,
        }
    }

    /// The loss and the gradients (dW, db per layer) of a batch with these
    /// masks on the hidden layers' outputs.
    fn gradients(
        &self,
        x: &DMatrix<f32>,
        labels: &[usize],
        masks: &[DMatrix<f32>],
    ) -> (f64, Gradients) {
        let last = self.layers.len() - 1;
        let rows = x.nrows();
        let mut a = x.map(f64::from);
        // (the layer's input, its Z)
        let mut trace = Vec::new();
        for (l, (w, b, activation)) in self.layers.iter().enumerate() {
            let mut z = &a * w.transpose();
            for mut row in z.row_iter_mut() {
                row += b.transpose();
            }
            let mut out = z.map(|v| f(*activation, v));
            if l < last {
                out.component_mul_assign(&masks[l].map(f64::from));
            }
            trace.push((a, z));
            a = out;
        }
        let logits = a;
        let mut loss = 0.0;
        let mut dz = DMatrix::zeros(rows, logits.ncols());
        for (r, &label) in labels.iter().enumerate() {
            let row = logits.row(r);
            let max = row.max();
            let sum: f64 = row.iter().map(|&v| (v - max).exp()).sum();
            loss += sum.ln() + max - row[label];
            for c in 0..row.len() {
                let target = f64::from(u8::from(c == label));
                dz[(r, c)] = ((row[c] - max).exp() / sum - target) / rows as f64;
            }
        }
        let activation = self.layers[last].2;
        dz.zip_apply(&trace[last].1, |g, z| *g *= f_prime(activation, z));
        let mut grads = vec![(DMatrix::zeros(0, 0), DVector::zeros(0)); self.layers.len()];
        for l in (0..=last).rev() {
            let (a_in, _) = &trace[l];
            let gw = dz.transpose() * a_in;
            let gb = DVector::from_iterator(dz.ncols(), dz.column_iter().map(|c| c.sum()));
            if l > 0 {
                let mut da = &dz * &self.layers[l].0;
                da.component_mul_assign(&masks[l - 1].map(f64::from));
                let activation = self.layers[l - 1].2;
                da.zip_apply(&trace[l - 1].1, |g, z| *g *= f_prime(activation, z));
                dz = da;
            }
            grads[l] = (gw, gb);
        }
        (loss / rows as f64, grads)
    }

    /// One Adam step (as `optim.rs`, in f64); returns the loss before it
    /// and the gradients it stepped with.
    fn step(
        &mut self,
        x: &DMatrix<f32>,
        labels: &[usize],
        masks: &[DMatrix<f32>],
    ) -> (f64, Gradients) {
        let (loss, grads) = self.gradients(x, labels, masks);
        self.steps += 1;
        let adam = &self.adam;
        let (lr, beta1, beta2) = (
            f64::from(adam.learning_rate),
            f64::from(adam.beta1),
            f64::from(adam.beta2),
        );
        let (epsilon, decay) = (f64::from(adam.epsilon), f64::from(adam.weight_decay));
        let c1 = 1.0 - beta1.powi(self.steps);
        let c2 = 1.0 - beta2.powi(self.steps);
        let tensors = self
            .layers
            .iter_mut()
            .zip(&grads)
            .flat_map(|((w, b, _), (gw, gb))| {
                [
                    (w.as_mut_slice(), gw.as_slice()),
                    (b.as_mut_slice(), gb.as_slice()),
                ]
            });
        for ((p, g), (m, v)) in tensors.zip(&mut self.moments) {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                let g = if adam.decoupled_weight_decay {
                    *p -= lr * decay * *p;
                    g
                } else {
                    g + decay * *p
                };
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                *p -= lr * (*m / c1) / ((*v / c2).sqrt() + epsilon);
            }
        }
        (loss, grads)
    }

    /// Every parameter of the fast path's network beside the oracle's.
    fn pairs(&self, mlp: &Mlp) -> Vec<(f32, f64)> {
        let oracle = self
            .layers
            .iter()
            .flat_map(|(w, b, _)| w.iter().chain(b.iter()).copied());
        let fast = mlp.parameters().into_iter().flat_map(|p| p.values.to_vec());
        fast.zip(oracle).collect()
    }
}

/// The largest |fast − oracle| over a gradient tensor, as a fraction of
/// the tensor's largest |oracle| value.
fn gradient_difference<'a>(fast: &[f32], oracle: impl IntoIterator<Item = &'a f64>) -> f64 {
    let oracle: Vec<f64> = oracle.into_iter().copied().collect();
    assert_eq!(fast.len(), oracle.len());
    let scale = oracle.iter().fold(1e-12, |m: f64, g| m.max(g.abs()));
    fast.iter()
        .zip(&oracle)
        .map(|(&a, &b)| (f64::from(a) - b).abs() / scale)
        .fold(0.0, f64::max)
}

/// Steps the engine (with dropout at `p`, masks from a generator seeded
/// with `seed`) and the oracle (with masks drawn here from the same seed)
/// side by side for `steps` batches, checking after each step the masks
/// bit for bit, the loss, the step's gradients and the parameters; returns
/// the worst difference of the gradients (as a fraction of their tensor's
/// largest) and of the parameters (relative).
///
/// The parameters' tolerance is fast.rs's (1e-3 relative) for all but one
/// in 10,000 of them; those may differ by what Adam's steps could move
/// them in opposite directions (2 lr a step). Adam divides a gradient by
/// its own size, so where one is near 0 by cancellation (a weight's dW
/// against L2's λp: -4.8e-3 + 4.8e-3 = -5.7e-8 for one of the 90,000
/// weights here), f32's rounding of the gradient moves its update by
/// percents of the learning rate. A wrong mask would move whole rows and
/// columns of weights, thousands of them, and the gradients, checked
/// first, to 1e-5 of their tensor's largest (1e-3 after the first step).
fn agree_with_the_oracle(
    mlp: &Mlp,
    adam: &Adam,
    (rows, p, steps): (usize, f32, usize),
    skip: bool,
    make_batch: &dyn Fn(u64) -> (DMatrix<f32>, Vec<usize>),
) -> (f64, f64) {
    let mut fast = mlp.clone();
    let mut adam_fast = adam.clone();
    let mut oracle = Oracle::new(mlp, adam);
    let mut trainer = Trainer::new(mlp, rows).unwrap().with_dropout(p).unwrap();
    trainer.skip_constant_inputs(skip);
    let hidden = hidden_widths(mlp);
    let mut engine_rng = ChaCha8Rng::seed_from_u64(42);
    let mut test_rng = ChaCha8Rng::seed_from_u64(42);
    let mut worst_overall = (0.0f64, 0.0f64);
    for step in 0..steps {
        let (x, y) = make_batch(step as u64);
        let masks = draw_masks(&mut test_rng, rows, &hidden, p);
        let (expected, grads) = oracle.step(&x, &y, &masks);
        let loss = trainer
            .step_with(
                &mut fast,
                &mut adam_fast,
                input(&x),
                &y,
                Some(&mut engine_rng),
            )
            .unwrap();
        let what = format!(
            "step {step} ({:?}, p {p}, {adam:?})",
            mlp.layers
                .iter()
                .map(|l| format!("{:?}", l.widths()))
                .collect::<Vec<_>>()
        );
        for (l, mask) in masks.iter().enumerate() {
            let got = trainer.dropout_mask(l).expect("a hidden layer's mask");
            let expected: Vec<u32> = mask.iter().map(|v| v.to_bits()).collect();
            let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
            assert!(got == expected, "{what}: mask {l} differs");
        }
        assert!(
            trainer.dropout_mask(hidden.len()).is_none(),
            "no mask on the logits"
        );
        assert!(
            (f64::from(loss) - expected).abs() <= 1e-5 * (1.0 + expected.abs()),
            "{what}: loss {loss}, oracle {expected}"
        );
        // The first step's gradients are of the same network; later ones of
        // networks apart by the steps' rounding (see above).
        let tolerance = if step == 0 { 1e-5 } else { 1e-3 };
        for (l, (gw, gb)) in grads.iter().enumerate() {
            // With its constant inputs skipped, the first layer's dW is not kept.
            if l > 0 || trainer.skipped_inputs() == 0 {
                let worst = gradient_difference(trainer.weight_gradient(l).unwrap(), gw.iter());
                assert!(worst <= tolerance, "{what}: dW {l} differs by {worst:e}");
                worst_overall.0 = worst_overall.0.max(worst);
            }
            let worst = gradient_difference(trainer.bias_gradient(l).unwrap(), gb.iter());
            assert!(worst <= tolerance, "{what}: db {l} differs by {worst:e}");
            worst_overall.0 = worst_overall.0.max(worst);
        }
        let pairs = oracle.pairs(&fast);
        let relative = |(a, b): (f32, f64)| (f64::from(a) - b).abs() / (1e-3 + b.abs());
        let outside = pairs.iter().filter(|&&pair| relative(pair) > 1e-3).count();
        assert!(
            outside * 10_000 <= pairs.len(),
            "{what}: {outside} of {} parameters differ from the oracle by over 1e-3 (relative)",
            pairs.len()
        );
        let lr = f64::from(adam.learning_rate);
        for &(a, b) in &pairs {
            let difference = (f64::from(a) - b).abs();
            assert!(
                difference <= 1e-3 * (1e-3 + b.abs()) + 2.0 * lr * (step + 1) as f64,
                "{what}: a parameter is {a}, the oracle's {b}"
            );
        }
        let worst = pairs.iter().map(|&pair| relative(pair)).fold(0.0, f64::max);
        worst_overall.1 = worst_overall.1.max(worst);
    }
    // The generators are in step: the engine drew exactly the masks' entries.
    assert_eq!(engine_rng.random::<u64>(), test_rng.random::<u64>());
    worst_overall
}

#[test]
fn steps_with_dropout_match_an_f64_oracle_after_one_and_three_steps() {
    let cases: Vec<(Vec<usize>, Vec<Activation>, usize)> = vec![
        // Big enough that every layer is split between the cores.
        (
            vec![100, 300, 200, 10],
            vec![Activation::Relu, Activation::Relu, Activation::Identity],
            64,
        ),
        (
            vec![7, 9, 11, 4],
            vec![Activation::Tanh, Activation::Sigmoid, Activation::Identity],
            13,
        ),
        // A hidden layer with no activation (dropout on Z itself), and an
        // activation after the last layer (not dropped).
        (
            vec![6, 12, 8, 5],
            vec![
                Activation::Identity,
                Activation::Softplus,
                Activation::Sigmoid,
            ],
            9,
        ),
    ];
    for (widths, activations, rows) in cases {
        let mlp = network(&widths, &activations, 3);
        let (features, classes) = (widths[0], widths[widths.len() - 1]);
        let make_batch = |seed| batch(rows, features, classes, seed);
        let mut decayed = Adam::new(1e-2);
        decayed.weight_decay = 0.1;
        for adam in [Adam::new(1e-3), decayed, Adam::adamw(1e-2, 0.05)] {
            for (p, steps) in [(0.5, 1), (0.2, 3)] {
                let (gradients, parameters) =
                    agree_with_the_oracle(&mlp, &adam, (rows, p, steps), true, &make_batch);
                eprintln!(
                    "{widths:?}, p {p}, {steps} steps, decay {} ({}): gradients within \
                     {gradients:.1e} of their largest, parameters {parameters:.1e} (relative)",
                    adam.weight_decay, adam.decoupled_weight_decay
                );
            }
        }
    }
}

#[test]
fn constant_input_columns_are_still_left_out_with_dropout() {
    for (widths, rows) in [(vec![784, 200, 100, 10], 64), (vec![6, 9, 7, 4], 13)] {
        let mlp = network(
            &widths,
            &[Activation::Relu, Activation::Relu, Activation::Identity],
            2,
        );
        let (features, classes) = (widths[0], widths[widths.len() - 1]);
        let make_batch = |seed| {
            let (x, y, _) = batch_with_constant_columns(rows, features, classes, seed);
            (x, y)
        };
        for skip in [true, false] {
            agree_with_the_oracle(&mlp, &Adam::new(1e-3), (rows, 0.3, 3), skip, &make_batch);
        }
        // And the columns are left out indeed.
        let (x, y, constant) = batch_with_constant_columns(rows, features, classes, 0);
        let mut trainer = Trainer::new(&mlp, rows).unwrap().with_dropout(0.3).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        trainer
            .step_with(
                &mut mlp.clone(),
                &mut Adam::new(1e-3),
                input(&x),
                &y,
                Some(&mut rng),
            )
            .unwrap();
        assert_eq!(trainer.skipped_inputs(), constant, "{widths:?}");
    }
}

#[test]
fn gradients_with_dropout_pass_the_numerical_check_with_the_masks_held_fixed() {
    use course_support::gradcheck::{Tolerance, check_gradients};
    // Smooth activations (central differences across a ReLU kink are wrong
    // by design), and an identity hidden layer.
    for activations in [
        [Activation::Softplus, Activation::Tanh, Activation::Identity],
        [Activation::Tanh, Activation::Identity, Activation::Sigmoid],
    ] {
        let mlp = network(&[6, 40, 20, 4], &activations, 5);
        for (x, y, constant) in [
            {
                let (x, y) = batch(9, 6, 4, 11);
                (x, y, 0)
            },
            batch_with_constant_columns(9, 6, 4, 11),
        ] {
            let seed = 7;
            let mut trainer = Trainer::new(&mlp, 9).unwrap().with_dropout(0.4).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            trainer
                .gradients_with(&mlp, input(&x), &y, Some(&mut rng))
                .unwrap();
            assert_eq!(trainer.skipped_inputs(), constant, "input columns left out");
            let dropped = trainer
                .dropout_mask(0)
                .unwrap()
                .iter()
                .filter(|&&m| m == 0.0);
            assert!(dropped.count() > 0, "some units dropped");
            let tensors: Vec<(String, Vec<f32>)> = mlp
                .parameters()
                .iter()
                .map(|p| (p.name.clone(), p.values.to_vec()))
                .collect();
            let analytic: Vec<Vec<f32>> = (0..3)
                .flat_map(|layer| {
                    [
                        trainer.weight_gradient(layer).unwrap().to_vec(),
                        trainer.bias_gradient(layer).unwrap().to_vec(),
                    ]
                })
                .collect();
            let analytic: Vec<&[f32]> = analytic.iter().map(Vec::as_slice).collect();
            // The training loss with the same masks: the generator reseeded
            // for every evaluation.
            let mut loss_trainer = trainer.clone();
            let report = check_gradients(
                &tensors,
                &analytic,
                |values| {
                    let mut moved = mlp.clone();
                    for (p, v) in moved.parameters_mut().into_iter().zip(values) {
                        p.copy_from_slice(v);
                    }
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    loss_trainer
                        .gradients_with(&moved, input(&x), &y, Some(&mut rng))
                        .unwrap()
                },
                1e-2,
                Tolerance::F32,
            );
            report.assert_passed(&format!(
                "fast path with dropout, {activations:?}, {constant} constant inputs"
            ));
        }
    }
}

#[test]
fn a_zero_rate_is_the_step_without_dropout_bit_for_bit_and_draws_nothing() {
    let mlp = network(
        &[784, 128, 64, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        9,
    );
    let run = |dropout: Option<f32>| {
        let mut mlp = mlp.clone();
        let mut adam = Adam::new(1e-3);
        let mut trainer = Trainer::new(&mlp, 128).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        if let Some(p) = dropout {
            trainer = trainer.with_dropout(p).unwrap();
            assert_eq!(trainer.dropout(), p);
        }
        let mut losses = Vec::new();
        for step in 0..3 {
            let (x, y) = batch(128, 784, 10, step);
            let loss = match dropout {
                Some(_) => trainer.step_with(&mut mlp, &mut adam, input(&x), &y, Some(&mut rng)),
                None => trainer.step(&mut mlp, &mut adam, input(&x), &y),
            };
            losses.push(loss.unwrap().to_bits());
            assert!(trainer.dropout_mask(0).is_none(), "no mask at rate 0");
        }
        // Nothing was drawn.
        let next = rng.random::<u64>();
        assert_eq!(next, ChaCha8Rng::seed_from_u64(5).random::<u64>());
        (losses, bits(&mlp))
    };
    let plain = run(None);
    assert_eq!(run(Some(0.0)), plain);
    assert_eq!(run(Some(-0.0)), plain);
    // A trainer whose rate went back to 0 needs no generator.
    let mut trainer = Trainer::new(&mlp, 128).unwrap().with_dropout(0.5).unwrap();
    trainer.set_dropout(0.0).unwrap();
    let (mut again, mut adam) = (mlp.clone(), Adam::new(1e-3));
    let mut losses = Vec::new();
    for step in 0..3 {
        let (x, y) = batch(128, 784, 10, step);
        let loss = trainer.step(&mut again, &mut adam, input(&x), &y).unwrap();
        losses.push(loss.to_bits());
    }
    assert_eq!((losses, bits(&again)), plain);
}

#[test]
fn the_masks_keep_about_one_minus_p_of_the_units() {
    let mlp = network(
        &[20, 512, 256, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        1,
    );
    let (x, y) = batch(128, 20, 10, 3);
    for p in [0.1f32, 0.2, 0.5, 0.9] {
        let mut trainer = Trainer::new(&mlp, 128).unwrap().with_dropout(p).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(p.to_bits().into());
        trainer
            .step_with(
                &mut mlp.clone(),
                &mut Adam::new(1e-3),
                input(&x),
                &y,
                Some(&mut rng),
            )
            .unwrap();
        let keep = 1.0 / (1.0 - p);
        for (layer, units) in [(0, 512), (1, 256)] {
            let mask = trainer.dropout_mask(layer).unwrap();
            assert_eq!(mask.len(), 128 * units);
            assert!(
                mask.iter().all(|&m| m == 0.0 || m == keep),
                "0 or 1/(1 − p)"
            );
            let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
            // Binomial: the standard deviation is under 0.003 here.
            assert!(
                (kept - f64::from(1.0 - p)).abs() < 0.015,
                "p {p}, layer {layer}: kept {kept}"
            );
        }
        assert!(trainer.dropout_mask(2).is_none());
    }
}

#[test]
fn evaluation_drops_nothing() {
    let widths = [30, 50, 40, 10];
    let activations = [Activation::Relu, Activation::Identity, Activation::Identity];
    let mut mlp = network(&widths, &activations, 4);
    let mut trainer = Trainer::new(&mlp, 16).unwrap().with_dropout(0.5).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut adam = Adam::new(1e-3);
    let (x, y) = batch(16, 30, 10, 1);
    trainer
        .step_with(&mut mlp, &mut adam, input(&x), &y, Some(&mut rng))
        .unwrap();
    let mut plain = Trainer::new(&mlp, 16).unwrap();
    for rows in [16, 5, 100] {
        let (x, _) = batch(rows, 30, 10, rows as u64);
        let expected = reference::mlp::forward(&mlp, &x).unwrap();
        let got = trainer.forward(&mlp, input(&x)).unwrap().into_owned();
        let worst = (&got - &expected).abs().max();
        assert!(worst <= 1e-4, "{rows} rows: differs by up to {worst}");
        let without = plain.forward(&mlp, input(&x)).unwrap().into_owned();
        assert_eq!(got, without, "the same bits as a trainer without dropout");
        assert!(trainer.dropout_mask(0).is_none(), "no mask in evaluation");
    }
    // Training drops units: the same batch's training logits differ.
    trainer
        .step_with(
            &mut mlp.clone(),
            &mut adam.clone(),
            input(&x),
            &y,
            Some(&mut rng),
        )
        .unwrap();
    let trained = trainer.output().into_owned();
    let evaluated = plain.forward(&mlp, input(&x)).unwrap().into_owned();
    assert!((trained - evaluated).abs().max() > 1e-3);
}

#[test]
fn the_same_seed_gives_the_same_bits_and_another_seed_other_masks() {
    let run = |seed: u64| {
        let mut mlp = network(
            &[784, 128, 64, 10],
            &[Activation::Relu, Activation::Relu, Activation::Identity],
            9,
        );
        let mut adam = Adam::new(1e-3);
        let mut trainer = Trainer::new(&mlp, 128).unwrap().with_dropout(0.25).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut losses = Vec::new();
        for step in 0..4 {
            let (x, y) = batch(128, 784, 10, step);
            let loss = trainer
                .step_with(&mut mlp, &mut adam, input(&x), &y, Some(&mut rng))
                .unwrap();
            losses.push(loss.to_bits());
        }
        (losses, bits(&mlp))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn an_epoch_with_dropout_draws_each_steps_masks_in_turn() {
    let mlp = network(
        &[20, 64, 32, 5],
        &[Activation::Relu, Activation::Tanh, Activation::Identity],
        6,
    );
    let (x, y) = batch(100, 20, 5, 8);
    // By hand: the loader's batches in order, one generator throughout.
    let (mut by_hand, mut adam) = (mlp.clone(), Adam::new(1e-3));
    let mut trainer = Trainer::new(&mlp, 16).unwrap().with_dropout(0.3).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut loader = BatchLoader::new(&x, y.clone(), 16, Order::AsGiven, 0).unwrap();
    loader.start_epoch();
    while let Some((inputs, labels)) = loader.next_batch() {
        trainer
            .step_with(
                &mut by_hand,
                &mut adam,
                input(inputs),
                labels,
                Some(&mut rng),
            )
            .unwrap();
    }
    let (mut epoch, mut adam) = (mlp.clone(), Adam::new(1e-3));
    let mut trainer = Trainer::new(&mlp, 16).unwrap().with_dropout(0.3).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut loader = BatchLoader::new(&x, y, 16, Order::AsGiven, 0).unwrap();
    let mut batches = 0;
    let stats = engine::train_epoch_with(
        &mut trainer,
        &mut epoch,
        &mut adam,
        &mut loader,
        Some(&mut rng),
        &mut |_| batches += 1,
    )
    .unwrap();
    assert_eq!((batches, stats.examples), (7, 100));
    assert_eq!(bits(&epoch), bits(&by_hand));
}

#[test]
fn a_bad_rate_is_an_error_and_changes_nothing() {
    let mlp = network(&[4, 6, 3], &[Activation::Relu, Activation::Identity], 0);
    for rate in [1.0, 1.5, -0.1, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = Trainer::new(&mlp, 5)
            .unwrap()
            .with_dropout(rate)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dropout rate"), "{rate}: {err}");
        let mut trainer = Trainer::new(&mlp, 5).unwrap().with_dropout(0.5).unwrap();
        assert!(trainer.set_dropout(rate).is_err());
        assert_eq!(trainer.dropout(), 0.5, "{rate}: the rate is unchanged");
    }
    for rate in [0.0, 0.5, 0.999] {
        assert!(Trainer::new(&mlp, 5).unwrap().with_dropout(rate).is_ok());
    }
}

#[test]
fn dropout_without_a_generator_is_an_error_and_changes_nothing() {
    let mlp = network(&[4, 6, 3], &[Activation::Relu, Activation::Identity], 0);
    let mut trainer = Trainer::new(&mlp, 5).unwrap().with_dropout(0.2).unwrap();
    let (x, y) = batch(5, 4, 3, 0);
    let (mut changed, mut adam) = (mlp.clone(), Adam::new(1e-2));
    let err = trainer
        .step(&mut changed, &mut adam, input(&x), &y)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dropout") && err.contains("ChaCha8Rng"),
        "{err}"
    );
    let err = trainer
        .step_with(&mut changed, &mut adam, input(&x), &y, None)
        .unwrap_err();
    assert!(err.what.contains("dropout"), "{err}");
    assert!(trainer.gradients(&mlp, input(&x), &y).is_err());
    assert_eq!(changed, mlp);
    assert_eq!(adam.steps, 0);
    assert!(adam.first_moment.is_empty());
    let mut loader = BatchLoader::new(&x, y, 5, Order::AsGiven, 0).unwrap();
    let err = engine::train_epoch(
        &mut trainer,
        &mut changed,
        &mut adam,
        &mut loader,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(&err, engine::EpochError::Shape(e) if e.what.contains("dropout")),
        "{err:?}"
    );
    assert_eq!(changed, mlp);
    // Evaluation needs no generator.
    trainer.forward(&mlp, input(&x)).unwrap();
}

/// The cost of dropout on an epoch: `cargo test -p engine --release --test
/// dropout -- --ignored --nocapture`. A 784-1024-1024-10 ReLU network at
/// batch 128 over 60,000 random examples, Adam: two epochs at p = 0, two
/// at p = 0.2, twice over; then single steps in alternating blocks; prints
/// the times.
#[test]
#[ignore = "a timing, not a test: run it with --ignored --nocapture"]
fn epoch_time_with_and_without_dropout() {
    use std::time::Instant;
    let (rows, features, classes) = (60_000, 784, 10);
    let (x, y) = batch(rows, features, classes, 0);
    let mlp = network(
        &[784, 1024, 1024, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        0,
    );
    for p in [0.0f32, 0.2, 0.0, 0.2] {
        let mut mlp = mlp.clone();
        let mut adam = Adam::new(1e-3);
        let mut trainer = Trainer::new(&mlp, 128).unwrap().with_dropout(p).unwrap();
        let mut loader = BatchLoader::new(&x, y.clone(), 128, Order::AsGiven, 0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut times = Vec::new();
        for _ in 0..2 {
            let rng = (p > 0.0).then_some(&mut rng);
            let started = Instant::now();
            let stats = engine::train_epoch_with(
                &mut trainer,
                &mut mlp,
                &mut adam,
                &mut loader,
                rng,
                &mut |_| {},
            )
            .unwrap();
            times.push(started.elapsed().as_secs_f64());
            assert_eq!(stats.examples, rows);
        }
        eprintln!("p = {p}: epochs of {:.3?} s", times);
    }
    // Steps alone, in alternating blocks of 20 (fairer on a busy machine):
    // the median block of each.
    let (x, y) = batch(128, features, classes, 1);
    let mut runs: Vec<_> = [0.0f32, 0.2]
        .into_iter()
        .map(|p| {
            let trainer = Trainer::new(&mlp, 128).unwrap().with_dropout(p).unwrap();
            (p, trainer, mlp.clone(), Adam::new(1e-3), Vec::new())
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    rayon::scope(|_| {
        for _ in 0..25 {
            for (p, trainer, mlp, adam, times) in &mut runs {
                let started = Instant::now();
                for _ in 0..20 {
                    let rng = (*p > 0.0).then_some(&mut rng);
                    trainer.step_with(mlp, adam, input(&x), &y, rng).unwrap();
                }
                times.push(started.elapsed().as_secs_f64() / 20.0);
            }
        }
    });
    for (p, _, _, _, times) in &mut runs {
        times.sort_by(f64::total_cmp);
        eprintln!(
            "p = {p}: a step takes {:.3} ms (median of 25 blocks of 20; fastest block {:.3} ms)",
            1e3 * times[times.len() / 2],
            1e3 * times[0]
        );
    }
    // The masks alone: one step's draws, 2 × 128 × 1024.
    let mut mask = vec![0.0f32; 2 * 128 * 1024];
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let started = Instant::now();
    for _ in 0..469 {
        for m in &mut mask {
            *m = if rng.random::<f32>() < 0.2 { 0.0 } else { 1.25 };
        }
    }
    eprintln!(
        "drawing an epoch's masks (469 steps) entry by entry, alone: {:.3} s",
        started.elapsed().as_secs_f64()
    );
}
