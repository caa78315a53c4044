//! The fast path computes what the teaching code computes.

use course_support::activation::Activation;
use course_support::gradients::{Loss, Targets};
use course_support::network::{Init, Layer, Linear, Mlp};
use course_support::optim::{Adam, Optimizer};
use course_support::shape::{Expected, Found, ShapeError};
use engine::{Trainer, input};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reference::train::train_step;

fn batch(rows: usize, features: usize, classes: usize, seed: u64) -> (DMatrix<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(rows, features, |_, _| rng.random_range(-2.0..2.0));
    let y = (0..rows).map(|_| rng.random_range(0..classes)).collect();
    (x, y)
}

/// A batch in which every third column holds one value in every row, as
/// MNIST's background pixels do: 0 in some of them, the normalised
/// background value in others, and in one column a value that changes from
/// batch to batch. Also returns how many columns are constant.
fn batch_with_constant_columns(
    rows: usize,
    features: usize,
    classes: usize,
    seed: u64,
) -> (DMatrix<f32>, Vec<usize>, usize) {
    let (mut x, y) = batch(rows, features, classes, seed);
    let mut constant = 0;
    for j in (0..features).step_by(3) {
        let value = if j == 3 {
            seed as f32 * 0.25 - 1.0
        } else if j % 2 == 0 {
            0.0
        } else {
            -0.4242
        };
        x.column_mut(j).fill(value);
        constant += 1;
    }
    (x, y, constant)
}

/// The largest |a − b| / (1e-6 + |b|) over two networks' parameters.
fn largest_relative_difference(a: &Mlp, b: &Mlp) -> f32 {
    let mut worst = 0.0f32;
    for (pa, pb) in a.parameters().iter().zip(b.parameters()) {
        for (&x, &y) in pa.values.iter().zip(pb.values) {
            worst = worst.max((x - y).abs() / (1e-3 + y.abs()));
        }
    }
    worst
}

/// Runs `steps` steps of Adam both ways from the same network and batches,
/// and checks losses, outputs and parameters agree.
fn agree(mlp: &Mlp, adam: &Adam, rows: usize, steps: usize) {
    let features = mlp.in_features().unwrap();
    let classes = mlp.out_features().unwrap();
    let make_batch = |seed| batch(rows, features, classes, seed);
    agree_on(mlp, adam, rows, steps, make_batch, (true, &|_, _| ()));
}

/// A look at the trainer after a step on a batch.
type AfterStep<'a> = dyn Fn(&Trainer, &DMatrix<f32>) + 'a;

/// `agree` on the batches `make_batch` makes from the step's number, with
/// the first layer's constant inputs skipped or not; `check` then looks at
/// the trainer after each step.
fn agree_on(
    mlp: &Mlp,
    adam: &Adam,
    rows: usize,
    steps: usize,
    make_batch: impl Fn(u64) -> (DMatrix<f32>, Vec<usize>),
    (skip, check): (bool, &AfterStep<'_>),
) {
    let (mut teaching, mut fast) = (mlp.clone(), mlp.clone());
    let (mut adam_teaching, mut adam_fast) = (Optimizer::from(adam.clone()), adam.clone());
    let mut trainer = Trainer::new(mlp, rows).unwrap();
    trainer.skip_constant_inputs(skip);
    for step in 0..steps {
        let (x, y) = make_batch(step as u64);
        let expected = train_step(
            &mut teaching,
            &mut adam_teaching,
            &x,
            &Targets::Classes(y.clone()),
            Loss::CrossEntropy,
        )
        .unwrap();
        let loss = trainer
            .step(&mut fast, &mut adam_fast, input(&x), &y)
            .unwrap();
        assert!(
            (loss - expected.loss).abs() <= 1e-5 * (1.0 + expected.loss.abs()),
            "{:?}\nstep {step}: loss {loss}, teaching code {}",
            mlp.layers
                .iter()
                .map(|l| format!("{:?}", l.widths()).replace("Some", "")
                    + &match l {
                        Layer::Activation(a) => a.to_string(),
                        _ => String::new(),
                    })
                .collect::<Vec<_>>(),
            expected.loss
        );
        let output = trainer.output().into_owned();
        let worst = (output - &expected.output).abs().max();
        assert!(
            worst <= 1e-4,
            "step {step}: outputs differ by up to {worst}"
        );
        let worst = largest_relative_difference(&fast, &teaching);
        assert!(
            worst <= 1e-3,
            "step {step}: parameters differ by up to {worst} (relative)"
        );
        check(&trainer, &x);
    }
    let Optimizer::Adam(adam_teaching) = adam_teaching else {
        unreachable!("built as Adam")
    };
    assert_eq!(adam_fast.steps, adam_teaching.steps);
}

/// How many columns of `x` hold one value in every row.
fn constant_columns(x: &DMatrix<f32>) -> usize {
    x.column_iter()
        .filter(|column| column.iter().all(|&v| v.to_bits() == column[0].to_bits()))
        .count()
}

#[test]
fn constant_input_columns_are_left_out_of_the_products_without_changing_the_results() {
    for (widths, rows) in [(vec![784, 200, 100, 10], 64), (vec![6, 9, 4], 13)] {
        let activations = [Activation::Relu, Activation::Relu, Activation::Identity];
        let activations = &activations[3 - (widths.len() - 1)..];
        let mlp = Mlp::new(
            &widths,
            activations,
            Init::KaimingUniform,
            2,
            reference::init::init_weights,
        )
        .unwrap();
        let (features, classes) = (widths[0], widths[widths.len() - 1]);
        for skip in [true, false] {
            let make_batch = |seed| {
                let (x, y, constant) = batch_with_constant_columns(rows, features, classes, seed);
                assert_eq!(constant_columns(&x), constant, "the test's own batch");
                (x, y)
            };
            let check = |trainer: &Trainer, x: &DMatrix<f32>| {
                let expected = if skip { constant_columns(x) } else { 0 };
                assert_eq!(
                    trainer.skipped_inputs(),
                    expected,
                    "{widths:?}, skipping {skip}: input columns left out"
                );
            };
            agree_on(&mlp, &Adam::new(1e-3), rows, 3, make_batch, (skip, &check));
            let adamw = Adam::adamw(1e-2, 0.05);
            agree_on(&mlp, &adamw, rows, 2, make_batch, (skip, &check));
        }
    }
}

#[test]
fn small_networks_train_as_the_teaching_code_does() {
    for (widths, activations) in [
        (vec![5, 3], vec![Activation::Identity]),
        (vec![7, 9, 4], vec![Activation::Relu, Activation::Identity]),
        (
            vec![6, 33, 17, 5],
            vec![Activation::Tanh, Activation::Sigmoid, Activation::Identity],
        ),
        (
            vec![4, 8, 3],
            vec![Activation::Gelu, Activation::LEAKY_RELU],
        ),
    ] {
        let mlp = Mlp::new(
            &widths,
            &activations,
            Init::XavierUniform,
            3,
            reference::init::init_weights,
        )
        .unwrap();
        agree(&mlp, &Adam::new(1e-2), 13, 5);
        let mut decayed = Adam::new(1e-2);
        decayed.weight_decay = 0.1;
        agree(&mlp, &decayed, 8, 3);
        agree(&mlp, &Adam::adamw(1e-2, 0.05), 8, 3);
    }
}

#[test]
fn networks_big_enough_to_split_between_cores_agree_too() {
    let mlp = Mlp::new(
        &[784, 200, 100, 10],
        &[Activation::Relu, Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        1,
        reference::init::init_weights,
    )
    .unwrap();
    agree(&mlp, &Adam::new(1e-3), 64, 3);
}

#[test]
fn the_forward_pass_matches_mlp_forward_at_any_batch_size() {
    let mlp = Mlp::new(
        &[30, 50, 10],
        &[Activation::Elu { alpha: 1.0 }, Activation::Identity],
        Init::KaimingNormal,
        4,
        reference::init::init_weights,
    )
    .unwrap();
    let mut trainer = Trainer::new(&mlp, 8).unwrap();
    // Larger than the buffers, then smaller: both reuse or grow them.
    for rows in [8, 300, 1, 17] {
        let (x, _) = batch(rows, 30, 10, rows as u64);
        let expected = reference::mlp::forward(&mlp, &x).unwrap();
        let got = trainer.forward(&mlp, input(&x)).unwrap().into_owned();
        let worst = (got - &expected).abs().max();
        assert!(worst <= 1e-4, "{rows} rows: differs by up to {worst}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bits() {
    let run = || {
        let mut mlp = Mlp::new(
            &[784, 128, 64, 10],
            &[Activation::Relu, Activation::Relu, Activation::Identity],
            Init::KaimingUniform,
            9,
            reference::init::init_weights,
        )
        .unwrap();
        let mut adam = Adam::new(1e-3);
        let mut trainer = Trainer::new(&mlp, 128).unwrap();
        let mut losses = Vec::new();
        for step in 0..4 {
            let (x, y) = batch(128, 784, 10, step);
            losses.push(
                trainer
                    .step(&mut mlp, &mut adam, input(&x), &y)
                    .unwrap()
                    .to_bits(),
            );
        }
        let bits: Vec<u32> = mlp
            .parameters()
            .iter()
            .flat_map(|p| p.values.iter().map(|v| v.to_bits()))
            .collect();
        (losses, bits)
    };
    assert_eq!(run(), run());
}

#[test]
fn extreme_logits_stay_finite() {
    // One linear layer whose outputs are about ±1e4.
    let weights = DMatrix::from_row_slice(3, 2, &[1e4, 0.0, -1e4, 0.0, 0.0, 1e4]);
    let linear = Linear::new(weights, nalgebra::DVector::zeros(3)).unwrap();
    let mut mlp = Mlp::from_layers(vec![Layer::Linear(linear)]).unwrap();
    let mut teaching = mlp.clone();
    let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, -1.0, 1.0]);
    let labels = [1, 0];
    let mut trainer = Trainer::new(&mlp, 2).unwrap();
    let loss = trainer
        .step(&mut mlp, &mut Adam::new(1e-3), input(&x), &labels)
        .unwrap();
    let expected = train_step(
        &mut teaching,
        &mut Optimizer::from(Adam::new(1e-3)),
        &x,
        &Targets::Classes(labels.to_vec()),
        Loss::CrossEntropy,
    )
    .unwrap();
    assert!(loss.is_finite() && loss > 1e4, "loss {loss}");
    assert!(
        (loss - expected.loss).abs() <= 1e-6 * expected.loss,
        "{loss} vs {}",
        expected.loss
    );
    assert!(
        mlp.parameters()
            .iter()
            .all(|p| p.values.iter().all(|v| v.is_finite()))
    );
}

#[test]
fn what_it_cannot_run_is_an_error_that_says_so() {
    let maxout = Mlp::from_layers(vec![Layer::maxout(DMatrix::zeros(6, 4), 2)]).unwrap();
    let err = Trainer::new(&maxout, 8).unwrap_err().to_string();
    assert!(
        err.contains("maxout") && err.contains("train_step"),
        "{err}"
    );
    let leading = Mlp::from_layers(vec![
        Layer::Activation(Activation::Relu),
        Layer::linear(DMatrix::zeros(2, 2)),
    ])
    .unwrap();
    let err = Trainer::new(&leading, 8).unwrap_err().to_string();
    assert!(err.contains("layer 0"), "{err}");
}

#[test]
fn bad_input_is_an_error_and_changes_nothing() {
    let mut mlp = Mlp::new(
        &[4, 6, 3],
        &[Activation::Relu, Activation::Identity],
        Init::XavierUniform,
        0,
        reference::init::init_weights,
    )
    .unwrap();
    let before = mlp.clone();
    let mut adam = Adam::new(1e-2);
    let mut trainer = Trainer::new(&mlp, 5).unwrap();
    let (x, _) = batch(5, 4, 3, 0);
    let (wide, _) = batch(5, 7, 3, 0);
    let sizes = |err: ShapeError| (err.expected, err.found);
    let err = trainer
        .step(&mut mlp, &mut adam, input(&wide), &[0; 5])
        .unwrap_err();
    assert_eq!(
        sizes(err),
        (Expected::Shape(Some(5), Some(4)), Found::Shape(5, 7))
    );
    let err = trainer
        .step(&mut mlp, &mut adam, input(&x), &[0, 1, 2, 3, 0])
        .unwrap_err();
    assert!(err.what.contains("row 3"), "{err}");
    assert_eq!(sizes(err), (Expected::Below(3), Found::Number(3)));
    let err = trainer
        .step(&mut mlp, &mut adam, input(&x), &[0, 1])
        .unwrap_err();
    assert_eq!(sizes(err), (Expected::Count(5), Found::Number(2)));
    let empty = DMatrix::<f32>::zeros(0, 4);
    let err = trainer
        .step(&mut mlp, &mut adam, input(&empty), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("0 rows"), "{err}");
    let mut stale = Adam::new(1e-2);
    stale.first_moment = vec![vec![0.0; 3]];
    stale.second_moment = vec![vec![0.0; 3]];
    let err = trainer
        .step(&mut mlp, &mut stale, input(&x), &[0; 5])
        .unwrap_err()
        .to_string();
    assert!(err.contains("moments"), "{err}");
    let other = Mlp::new(
        &[4, 5, 3],
        &[Activation::Relu, Activation::Identity],
        Init::XavierUniform,
        0,
        reference::init::init_weights,
    )
    .unwrap();
    let err = trainer.forward(&other, input(&x)).unwrap_err().to_string();
    assert!(err.contains("(6, 4)") && err.contains("(5, 4)"), "{err}");
    assert_eq!(mlp, before);
    assert_eq!(adam.steps, 0);
    assert!(adam.first_moment.is_empty());
}

#[test]
fn the_fast_gradients_pass_the_numerical_gradient_check() {
    use course_support::gradcheck::{Tolerance, check_gradients};
    use reference::losses::cross_entropy;
    // Smooth activations: central differences across a ReLU kink are wrong
    // by design (ReLU networks are covered by agreeing with the teaching code).
    for activations in [
        [
            Activation::Softplus,
            Activation::Elu { alpha: 1.0 },
            Activation::Identity,
        ],
        [Activation::Tanh, Activation::Gelu, Activation::Sigmoid],
    ] {
        let mlp = Mlp::new(
            &[6, 40, 20, 4],
            &activations,
            Init::XavierUniform,
            5,
            reference::init::init_weights,
        )
        .unwrap();
        // Also with constant input columns (0 and 1.75), which the first
        // layer's products leave out.
        for (x, y, constant) in [
            {
                let (x, y) = batch(9, 6, 4, 11);
                (x, y, 0)
            },
            batch_with_constant_columns(9, 6, 4, 11),
        ] {
            let mut trainer = Trainer::new(&mlp, 9).unwrap();
            trainer.gradients(&mlp, input(&x), &y).unwrap();
            assert_eq!(trainer.skipped_inputs(), constant, "input columns left out");
            let tensors: Vec<(String, Vec<f32>)> = mlp
                .parameters()
                .iter()
                .map(|p| (p.name.clone(), p.values.to_vec()))
                .collect();
            let analytic: Vec<&[f32]> = (0..3)
                .flat_map(|layer| {
                    [
                        trainer.weight_gradient(layer).unwrap(),
                        trainer.bias_gradient(layer).unwrap(),
                    ]
                })
                .collect();
            let targets = Targets::Classes(y);
            let report = check_gradients(
                &tensors,
                &analytic,
                |values| {
                    let mut moved = mlp.clone();
                    for (p, v) in moved.parameters_mut().into_iter().zip(values) {
                        p.copy_from_slice(v);
                    }
                    let logits = reference::mlp::forward(&moved, &x).unwrap();
                    cross_entropy(&logits, &targets).unwrap()
                },
                1e-2,
                Tolerance::F32,
            );
            report.assert_passed(&format!(
                "fast path with {activations:?}, {constant} constant inputs"
            ));
        }
    }
}

#[test]
fn an_epoch_stops_at_the_first_step_whose_loss_is_not_finite() {
    use course_support::batches::{BatchLoader, Order};
    let mlp = Mlp::new(
        &[4, 8, 3],
        &[Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        0,
        reference::init::init_weights,
    )
    .unwrap();
    let (x, y) = batch(40, 4, 3, 7);
    // A NaN rate leaves step 1's loss finite (computed before the update)
    // and every weight NaN after it: step 2 is the first non-finite loss.
    let mut adam = Adam::new(f32::NAN);
    let mut loader = BatchLoader::new(&x, y, 8, Order::AsGiven, 0).unwrap();
    let mut trainer = Trainer::new(&mlp, 8).unwrap();
    let mut mlp = mlp;
    let mut called = 0;
    let error = engine::train_epoch(&mut trainer, &mut mlp, &mut adam, &mut loader, &mut |_| {
        called += 1
    })
    .unwrap_err();
    let engine::EpochError::NonFiniteLoss { step, loss } = error else {
        panic!("expected NonFiniteLoss, got {error:?}")
    };
    assert_eq!(step, 2);
    assert!(!loss.is_finite());
    // The callback saw only the finite step, and no later batch ran.
    assert_eq!(called, 1);
    assert_eq!(adam.steps, 2);
}
