//! Tests for exercises/stage-5/training.rs. Run with `cargo test -p stage-5`.

use course_support::check::{assert_close, assert_close_naming, assert_exact, assert_exact_naming};
use course_support::data::two_moons;
use nalgebra::{DMatrix, dmatrix};
use stage_5::init::init_weights;
use stage_5::mlp::forward;
use stage_5::training::{best_epoch, count_correct, evaluate, predict_classes, train_epoch};
use stage_5::{
    Activation, Adam, BatchLoader, EpochStats, Init, Loss, Mlp, Optimizer, Order, Targets,
};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

/// The loaders here shuffle with the reference's shuffle: this file tests
/// the loop, and tests/data.rs tests your shuffle.
fn order(shuffle: bool) -> Order {
    if shuffle {
        Order::Shuffled(reference::data::shuffle)
    } else {
        Order::AsGiven
    }
}

fn moons_loader(batch: usize, shuffle: bool) -> (DMatrix<f32>, Vec<usize>, BatchLoader) {
    let data = two_moons(60, 0.1, 9);
    let inputs = data.input_matrix();
    let labels: Vec<usize> = data.labels.iter().map(|&y| y as usize).collect();
    let loader = BatchLoader::new(&inputs, labels.clone(), batch, order(shuffle), 3).unwrap();
    (inputs, labels, loader)
}

fn small_mlp(seed: u64) -> Mlp {
    Mlp::new(
        &[2, 16, 2],
        &[Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        seed,
        init_weights,
    )
    .unwrap()
}

#[test]
fn predict_classes_by_hand() {
    let logits = dmatrix![0.1, 2.0, -1.0; 3.0, 3.0, 1.0; -5.0, -4.0, -4.5; 0.0, 0.0, 0.0];
    // Row 2 ties classes 0 and 1, row 4 ties all three: the first one wins.
    assert_exact_naming(
        &format!("predict_classes of{logits}"),
        vec![1, 0, 1, 0],
        predict_classes(&logits),
        &[(
            "the last of equal logits winning (>= where > keeps the first)",
            vec![1, 1, 1, 2],
        )],
    );
    assert_exact(
        "count_correct against [1, 1, 1, 0]",
        3,
        count_correct(&logits, &[1, 1, 1, 0]),
    );
    assert_exact(
        "count_correct against [2, 2, 2, 2]",
        0,
        count_correct(&logits, &[2, 2, 2, 2]),
    );
}

#[test]
fn predict_classes_handles_huge_and_negative_logits() {
    let logits = dmatrix![-1e4, -2e4, -1e4 + 1.0; 1e4, -1e4, 0.0];
    assert_exact(
        "predict_classes of ±1e4 logits",
        vec![2, 0],
        predict_classes(&logits),
    );
}

#[test]
fn train_epoch_takes_one_step_per_batch_and_weighs_the_losses() {
    // 120 examples in batches of 50: 50, 50 and 20.
    let (_, _, mut loader) = moons_loader(50, true);
    let mut mlp = small_mlp(1);
    let mut adam = Optimizer::from(Adam::new(0.01));

    // The same epoch, step by step, with the stage-4 reference: the expected figures.
    let (mut expected_mlp, mut expected_adam, mut expected_loader) =
        (mlp.clone(), adam.clone(), loader.clone());
    expected_loader.start_epoch();
    let (mut loss_sum, mut correct, mut seen, mut running) = (0.0f64, 0usize, 0usize, Vec::new());
    let (mut running_loss, mut batch_loss) = (Vec::new(), Vec::new());
    while let Some((x, y)) = expected_loader.next_batch() {
        let step = stage_5::train::train_step(
            &mut expected_mlp,
            &mut expected_adam,
            x,
            &Targets::Classes(y.to_vec()),
            Loss::CrossEntropy,
        )
        .unwrap();
        loss_sum += f64::from(step.loss) * y.len() as f64;
        correct += step
            .output
            .row_iter()
            .zip(y)
            .filter(|(r, l)| r.transpose().argmax().0 == **l)
            .count();
        seen += y.len();
        running.push(seen);
        running_loss.push(loss_sum / seen as f64);
        batch_loss.push(f64::from(step.loss));
    }

    let mut calls = Vec::new();
    let stats = train_epoch(&mut mlp, &mut adam, &mut loader, &mut |s: &EpochStats| {
        calls.push((s.examples, s.loss))
    })
    .expect("the shapes fit");
    assert_exact(
        "examples seen after each batch (on_batch calls)",
        running,
        calls.iter().map(|c| c.0).collect::<Vec<_>>(),
    );
    for (index, &(_, got)) in calls.iter().enumerate() {
        assert_close_naming(
            &format!("the loss on_batch sees after batch {}", index + 1),
            running_loss[index],
            got,
            1e-5,
            &[(
                "that batch's own loss, not the running mean",
                batch_loss[index],
            )],
        );
    }
    assert_exact("EpochStats::examples", 120, stats.examples);
    assert_close_naming(
        "EpochStats::loss (mean per example, batches weighted by size)",
        loss_sum / 120.0,
        stats.loss,
        1e-5,
        &[(
            "the batches' mean losses averaged as equals: the last batch holds 20 examples, not 50",
            batch_loss.iter().sum::<f64>() / batch_loss.len() as f64,
        )],
    );
    assert_close(
        "EpochStats::accuracy",
        correct as f64 / 120.0,
        stats.accuracy,
        1e-6,
    );
    assert!(
        mlp == expected_mlp,
        "after train_epoch the network differs from one trained batch by batch"
    );
}

#[test]
fn training_for_a_few_epochs_learns_the_moons() {
    let (inputs, labels, mut loader) = moons_loader(16, true);
    let mut mlp = small_mlp(2);
    let mut adam = Optimizer::from(Adam::new(0.02));
    let mut last = EpochStats::default();
    for _ in 0..40 {
        last = train_epoch(&mut mlp, &mut adam, &mut loader, &mut |_: &EpochStats| {})
            .expect("the shapes fit");
    }
    assert!(
        last.accuracy >= 0.95,
        "training accuracy after 40 epochs: {}",
        last.accuracy
    );
    let right = count_correct(&forward(&mlp, &inputs).unwrap(), &labels);
    assert!(right >= 114, "{right} of 120 right after training");
}

#[test]
fn evaluate_on_an_empty_loader_is_zero_not_nan() {
    let mut empty =
        BatchLoader::new(&DMatrix::zeros(0, 2), Vec::new(), 8, Order::AsGiven, 0).unwrap();
    let stats = evaluate(&small_mlp(3), &mut empty).expect("nothing to mismatch");
    assert_exact("evaluate on an empty loader", EpochStats::default(), stats);
}

#[test]
fn evaluate_matches_one_full_batch_and_changes_nothing() {
    let (inputs, labels, _) = moons_loader(1, false);
    let mlp = small_mlp(3);
    let logits = forward(&mlp, &inputs).unwrap();
    let loss = stage_5::losses::cross_entropy(&logits, &Targets::Classes(labels.clone())).unwrap();
    let right = logits
        .row_iter()
        .zip(&labels)
        .filter(|(r, l)| r.transpose().argmax().0 == **l)
        .count();
    for batch in [7, 32, 120, 500] {
        let mut loader =
            BatchLoader::new(&inputs, labels.clone(), batch, Order::AsGiven, 0).unwrap();
        let before = mlp.clone();
        let stats = evaluate(&mlp, &mut loader).expect("the shapes fit");
        assert_exact(
            &format!("evaluate examples (batch {batch})"),
            120,
            stats.examples,
        );
        assert_close(
            &format!("evaluate loss (batch {batch})"),
            loss,
            stats.loss,
            1e-5,
        );
        assert_close(
            &format!("evaluate accuracy (batch {batch})"),
            right as f64 / 120.0,
            stats.accuracy,
            1e-6,
        );
        assert!(mlp == before);
    }
}

#[test]
fn two_epochs_on_the_bundled_mnist_sample_beat_85_percent() {
    let data = mnist::load_dir(&mnist::sample_dir()).expect("the bundled sample");
    let to_matrix = |images: &mnist::Images| {
        DMatrix::from_fn(images.count, 784, |i, j| {
            (f32::from(images.image(i)[j]) / 255.0 - 0.1307) / 0.3081
        })
    };
    let labels = |l: &[u8]| l.iter().map(|&v| usize::from(v)).collect::<Vec<_>>();
    let mut train = BatchLoader::new(
        &to_matrix(&data.train.images),
        labels(&data.train.labels),
        64,
        order(true),
        0,
    )
    .unwrap();
    let mut test = BatchLoader::new(
        &to_matrix(&data.test.images),
        labels(&data.test.labels),
        500,
        Order::AsGiven,
        0,
    )
    .unwrap();
    let mut mlp = Mlp::new(
        &[784, 64, 10],
        &[Activation::Relu, Activation::Identity],
        Init::KaimingUniform,
        0,
        init_weights,
    )
    .unwrap();
    let mut adam = Optimizer::from(Adam::new(1e-3));
    for _ in 0..2 {
        train_epoch(&mut mlp, &mut adam, &mut train, &mut |_: &EpochStats| {})
            .expect("the shapes fit");
    }
    let stats = evaluate(&mlp, &mut test).expect("the shapes fit");
    assert!(
        stats.accuracy > 0.85,
        "test accuracy after 2 epochs on 5000 images: {}",
        stats.accuracy
    );
}

fn held_out(figures: &[(f32, f32)]) -> Vec<EpochStats> {
    figures
        .iter()
        .map(|&(loss, accuracy)| EpochStats {
            loss,
            accuracy,
            examples: 100,
        })
        .collect()
}

#[test]
fn best_epoch_is_the_first_most_accurate() {
    // (loss, accuracy) per epoch: epochs 1 and 2 (positions) tie on
    // accuracy; the lowest loss is epoch 3's.
    let epochs = held_out(&[(0.9, 0.80), (0.5, 0.91), (0.45, 0.91), (0.3, 0.90)]);
    assert_exact_naming(
        "best_epoch of held-out accuracies [0.80, 0.91, 0.91, 0.90]",
        Some(1),
        best_epoch(&epochs),
        &[
            (
                "the last of equally accurate epochs (>= where > keeps the first; \
                 Iterator::max_by also returns the last of equal elements)",
                Some(2),
            ),
            ("choosing by the lowest held-out loss", Some(3)),
            ("the last epoch, whatever its accuracy", Some(3)),
        ],
    );
    assert_exact(
        "best_epoch when accuracy only falls",
        Some(0),
        best_epoch(&held_out(&[(0.1, 0.9), (0.2, 0.8), (0.3, 0.7)])),
    );
    assert_exact(
        "best_epoch of one epoch",
        Some(0),
        best_epoch(&held_out(&[(2.3, 0.1)])),
    );
    assert_exact("best_epoch of no epochs", None, best_epoch(&[]));
}

#[test]
fn best_epoch_agrees_with_a_sort() {
    // Accuracies from a seeded walk, with many ties (multiples of 1/8).
    let mut state = 7u64;
    for case in 0..200 {
        let epochs: Vec<(f32, f32)> = (0..1 + case % 12)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                ((state >> 40) as f32 / 1e7, ((state >> 61) as f32) / 8.0)
            })
            .collect();
        let mut ranked: Vec<usize> = (0..epochs.len()).collect();
        // Most accurate first; a stable sort keeps equal ones in epoch order.
        ranked.sort_by(|&a, &b| epochs[b].1.total_cmp(&epochs[a].1));
        assert_exact(
            &format!("best_epoch of (loss, accuracy) per epoch {epochs:?}"),
            ranked.first().copied(),
            best_epoch(&held_out(&epochs)),
        );
    }
}
