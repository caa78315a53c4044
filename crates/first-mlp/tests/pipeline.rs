//! The MNIST pipeline end to end on the bundled sample: outputs, seeded
//! reproducibility, resuming, prediction and clear errors.

use std::fs;
use std::path::Path;

use std::process::Command;

mod common;

use common::reference_as_yours;
use course_support::batches::BatchLoader;
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use course_support::shape::ShapeError;
use course_support::stats::EpochStats;
use first_mlp::code::{Code, Diverged};
use first_mlp::comparison::{Far, LookFirst};
use first_mlp::mnist_pipeline::{RunRecord, TrainConfig, predict, run, run_with};
use first_mlp::regularisation::AugmentArg;
use first_mlp::training::OptimizerArg;

/// A small, quiet run of 2 epochs into `out`.
fn config(out: &Path) -> TrainConfig {
    TrainConfig {
        quiet: true,
        hidden: vec![32],
        out: out.to_owned(),
        epochs: 2,
        ..TrainConfig::default()
    }
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn weights(path: &Path) -> Vec<(String, Vec<u8>)> {
    common::checkpoint_tensors(path)
}

#[test]
fn a_run_writes_everything_it_promises() {
    let dir = tempfile::tempdir().unwrap();
    let record = run(config(dir.path())).expect("a run on the bundled sample");
    assert_eq!(record.data.provenance, "sample");
    assert_eq!(
        (record.data.train, record.data.validation, record.data.test),
        (4500, 500, 1000)
    );
    assert_eq!(record.epochs.len(), 2);
    assert!(
        record.test.accuracy > 0.8,
        "test accuracy {}",
        record.test.accuracy
    );
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "best.safetensors",
            "confusion.svg",
            "curves.svg",
            "last.safetensors",
            "misclassified.png",
            "run.json",
            "samples.png"
        ],
        "exactly these files, no temporary leftovers"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("run.json"))).unwrap();
    assert_eq!(json["config"]["hidden"], serde_json::json!([32]));
    assert_eq!(json["epochs"][1]["epoch"], 2);
    for key in [
        "train_loss",
        "train_accuracy",
        "validation_loss",
        "validation_accuracy",
        "learning_rate",
        "seconds",
    ] {
        assert!(
            json["epochs"][0][key].is_number(),
            "run.json epochs lack {key}"
        );
    }
    assert_eq!(json["test"]["confusion"].as_array().unwrap().len(), 10);
}

#[test]
fn the_same_seed_gives_bit_identical_results() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let seeded = |dir: &Path, seed| TrainConfig {
        seed,
        ..config(dir)
    };
    let first = run(seeded(a.path(), 3)).unwrap();
    let second = run(seeded(b.path(), 3)).unwrap();
    let other = run(seeded(c.path(), 4)).unwrap();
    assert_eq!(
        weights(&a.path().join("last.safetensors")),
        weights(&b.path().join("last.safetensors"))
    );
    let losses = |r: &RunRecord| {
        r.epochs
            .iter()
            .map(|e| (e.train_loss, e.validation_accuracy))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&first), losses(&second));
    assert_ne!(
        weights(&a.path().join("last.safetensors")),
        weights(&c.path().join("last.safetensors"))
    );
    assert_ne!(losses(&first), losses(&other));
}

#[test]
fn resuming_gives_the_same_model_as_training_straight_through() {
    let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(TrainConfig {
        epochs: 3,
        ..config(straight.path())
    })
    .unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(split.path())
    })
    .unwrap();
    let resumed_dir = split.path().join("resumed");
    let record = run(TrainConfig {
        epochs: 3,
        resume: Some(split.path().join("last.safetensors")),
        ..config(&resumed_dir)
    })
    .unwrap();
    assert_eq!(
        record.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        weights(&straight.path().join("last.safetensors"))
            == weights(&resumed_dir.join("last.safetensors")),
        "1 epoch + resume to 3 differs from 3 epochs"
    );
}

/// Stage 7's ingredients: dropout and distorted digits on the fast path,
/// and with batch norm on the teaching code.
fn regularised(out: &Path, batch_norm: bool) -> TrainConfig {
    TrainConfig {
        dropout: 0.3,
        batch_norm,
        augment: AugmentArg::Elastic,
        ..config(out)
    }
}

#[test]
fn regularised_runs_resume_exactly_and_are_reproducible() {
    for batch_norm in [false, true] {
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let (straight, again, split) = (dirs[0].path(), dirs[1].path(), dirs[2].path());
        let two = |out: &Path| TrainConfig {
            epochs: 2,
            ..regularised(out, batch_norm)
        };
        let record = run(two(straight)).unwrap();
        run(two(again)).unwrap();
        let last = |dir: &Path| weights(&dir.join("last.safetensors"));
        // Same seed, same masks and distortions: the same bits.
        assert!(last(straight) == last(again), "batch norm {batch_norm}");
        run(TrainConfig {
            epochs: 1,
            ..regularised(split, batch_norm)
        })
        .unwrap();
        let resumed = split.join("resumed");
        run(TrainConfig {
            resume: Some(split.join("last.safetensors")),
            ..two(&resumed)
        })
        .unwrap();
        assert!(
            last(straight) == last(&resumed),
            "batch norm {batch_norm}: 1 epoch + resume to 2 differs from 2 epochs"
        );
        // The checkpoint holds batch norm's running estimates, and the
        // tested model is the network in evaluation mode.
        let names: Vec<String> = last(straight).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names.iter().any(|n| n.ends_with("running_var")),
            batch_norm,
            "{names:?}"
        );
        // It learnt (hard distortions for 32 units, in 2 epochs).
        assert!(record.test.accuracy > 0.5, "{}", record.test.accuracy);
        let sample = mnist::sample_dir();
        predict(
            &straight.join("best.safetensors"),
            Some(&sample.join("t10k-images-idx3-ubyte.gz")),
            Some(&sample.join("t10k-labels-idx1-ubyte.gz")),
            None,
        )
        .expect("predicting with a regularised model");
    }
}

#[test]
fn distortions_change_the_run_and_dropout_too() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let plain = run(config(dirs[0].path())).unwrap();
    let distorted = run(TrainConfig {
        augment: AugmentArg::Affine,
        ..config(dirs[1].path())
    })
    .unwrap();
    let dropped = run(TrainConfig {
        dropout: 0.5,
        ..config(dirs[2].path())
    })
    .unwrap();
    // The digits a model trains on are harder to fit when distorted, and
    // units dropped make the training batches harder too.
    let train = |r: &RunRecord| r.epochs[1].train_accuracy;
    assert!(
        train(&distorted) < train(&plain),
        "{} {}",
        train(&distorted),
        train(&plain)
    );
    assert!(
        train(&dropped) < train(&plain),
        "{} {}",
        train(&dropped),
        train(&plain)
    );
}

#[test]
fn a_saved_model_predicts_idx_files_and_pictures() {
    let dir = tempfile::tempdir().unwrap();
    run(config(dir.path())).unwrap();
    let model = dir.path().join("best.safetensors");
    let sample = mnist::sample_dir();
    predict(
        &model,
        Some(&sample.join("t10k-images-idx3-ubyte.gz")),
        Some(&sample.join("t10k-labels-idx1-ubyte.gz")),
        None,
    )
    .expect("predicting the sample's test set");
    // The first test digit (a 7) as a dark-on-white PNG, as someone would draw it.
    let data = mnist::load_dir(&sample).unwrap();
    let pixels: Vec<u8> = data.test.images.image(0).iter().map(|p| 255 - p).collect();
    let png = dir.path().join("seven.png");
    image::GrayImage::from_raw(28, 28, pixels)
        .unwrap()
        .save(&png)
        .unwrap();
    predict(&model, None, None, Some(&png)).expect("predicting a PNG");
    let e = predict(&model, None, None, Some(&dir.path().join("missing.png"))).unwrap_err();
    assert!(format!("{e:#}").contains("missing.png"), "{e:#}");
    let e = predict(&dir.path().join("run.json"), None, None, Some(&png)).unwrap_err();
    assert!(format!("{e:#}").contains("not a safetensors file"), "{e:#}");
}

#[test]
fn bad_data_is_a_clear_error() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let from_data = || TrainConfig {
        data: Some(data.path().to_owned()),
        ..config(out.path())
    };
    let e = run(from_data()).unwrap_err();
    assert!(
        format!("{e:#}")
            .contains("no train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) there"),
        "{e:#}"
    );
    for spec in mnist::SAMPLE {
        let name = format!("{}.gz", spec.name);
        fs::copy(mnist::sample_dir().join(&name), data.path().join(&name)).unwrap();
    }
    // Cut the training images short.
    let images = data.path().join("train-images-idx3-ubyte.gz");
    let bytes = fs::read(&images).unwrap();
    fs::write(&images, &bytes[..bytes.len() / 3]).unwrap();
    let e = run(from_data()).unwrap_err();
    assert!(
        format!("{e:#}").contains("not a valid gzip stream"),
        "{e:#}"
    );
}

#[test]
fn without_a_validation_split_the_last_epoch_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let record = run(TrainConfig {
        validation: 0.0,
        ..config(dir.path())
    })
    .unwrap();
    assert_eq!(record.data.validation, 0);
    assert_eq!(record.best_epoch, None, "no best by validation");
    assert!(
        record
            .epochs
            .iter()
            .all(|e| e.validation_loss.is_none() && e.validation_accuracy.is_none())
    );
    // The model tested and kept is the last epoch's.
    assert_eq!(
        weights(&dir.path().join("best.safetensors")),
        weights(&dir.path().join("last.safetensors"))
    );
    let json: serde_json::Value =
        serde_json::from_slice(&read(&dir.path().join("run.json"))).unwrap();
    assert!(json["best_epoch"].is_null());
    assert!(json["epochs"][0].get("validation_accuracy").is_none());
}

#[test]
fn without_a_validation_split_no_validation_figures_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_first-mlp"))
        .args(["train", "--quiet", "--validation", "0", "--epochs", "1"])
        .args(["--hidden", "8", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let epoch = stdout.lines().find(|l| l.starts_with("epoch")).unwrap();
    assert!(
        epoch.contains("train loss") && !epoch.contains("val"),
        "{epoch}"
    );
    assert!(!stdout.contains("by validation"), "{stdout}");
    assert!(
        stdout.contains("the last epoch's model (epoch 1"),
        "{stdout}"
    );
}

/// The full MNIST where it is present (`../shared/data/mnist` beside the
/// checkout): it must load and verify. Skipped with a message otherwise.
#[test]
fn the_full_set_verifies_where_present() {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !full.is_dir() {
        eprintln!("skipped: no full MNIST at {}", full.display());
        return;
    }
    let data = mnist::load_dir(&full).expect("the full MNIST");
    assert_eq!(data.provenance, mnist::Provenance::Full);
    assert_eq!(
        (data.train.images.count, data.test.images.count),
        (60000, 10000)
    );
    assert_eq!(data.train.labels[..10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
}

#[test]
fn your_code_trains_exactly_as_the_reference_teaching_code() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let teaching = run(TrainConfig {
        teaching: true,
        ..config(a.path())
    })
    .unwrap();
    let yours = run_with(
        TrainConfig {
            yours: true,
            ..config(b.path())
        },
        reference_as_yours(),
    )
    .unwrap();
    assert_eq!(
        weights(&a.path().join("best.safetensors")),
        weights(&b.path().join("best.safetensors"))
    );
    assert_eq!(teaching.epochs.len(), yours.epochs.len());
    for (t, y) in teaching.epochs.iter().zip(&yours.epochs) {
        assert_eq!(
            (t.train_loss, t.validation_accuracy),
            (y.train_loss, y.validation_accuracy)
        );
    }
    assert_eq!(teaching.test.accuracy, yours.test.accuracy);
    assert!(yours.config.yours);
    // The reference's run of the same configuration, trained for the
    // comparison into reference/, is the teaching run of `a`.
    let comparison = yours.comparison.expect("a run of yours is compared");
    assert!(comparison.identical, "{comparison:?}");
    assert_eq!(comparison.steps_compared, 2 * 36);
    assert_eq!(
        weights(&a.path().join("best.safetensors")),
        weights(&b.path().join("reference/best.safetensors"))
    );
    let curves = String::from_utf8(read(&b.path().join("curves.svg"))).unwrap();
    assert!(curves.contains("train, reference"), "both runs are drawn");
    assert!(yours.files.contains(&b.path().join("reference/run.json")));
}

/// Stage 5's `train_epoch` of the reference, with a learning rate 30 times
/// too large: the mistake of an optimiser's step that scales the update
/// wrongly.
fn train_epoch_too_fast(
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    loader: &mut BatchLoader,
    on_batch: &mut dyn FnMut(&EpochStats),
) -> Result<EpochStats, ShapeError> {
    optimizer.set_learning_rate(30.0 * optimizer.learning_rate());
    reference::training::train_epoch(mlp, optimizer, loader, on_batch)
}

#[test]
fn a_wrong_update_is_found_at_its_step_and_blamed_on_stage_4() {
    let dir = tempfile::tempdir().unwrap();
    let record = run_with(
        TrainConfig {
            yours: true,
            ..config(dir.path())
        },
        Code {
            train_epoch: train_epoch_too_fast,
            ..reference_as_yours()
        },
    )
    .unwrap();
    let comparison = record.comparison.unwrap();
    assert!(!comparison.identical);
    // The first batch's loss is computed before any update: it agrees.
    let first = comparison.first_difference.unwrap();
    assert_eq!((first.epoch, first.step), (1, 2), "{comparison:?}");
    assert!(
        matches!(comparison.far, Some(Far::Training(gap)) if gap.epoch == 1),
        "{comparison:?}"
    );
    assert_eq!(comparison.look_first, Some(LookFirst::Update));
}

/// Stage 5's `train_epoch` of the reference at a fixed, safe learning rate,
/// whatever the flags say.
fn train_epoch_at_a_safe_rate(
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    loader: &mut BatchLoader,
    on_batch: &mut dyn FnMut(&EpochStats),
) -> Result<EpochStats, ShapeError> {
    optimizer.set_learning_rate(1e-2);
    reference::training::train_epoch(mlp, optimizer, loader, on_batch)
}

#[test]
fn a_reference_run_that_fails_leaves_your_run_whole() {
    let dir = tempfile::tempdir().unwrap();
    // With these flags the reference diverges and yours does not.
    let record = run_with(
        TrainConfig {
            yours: true,
            optimizer: OptimizerArg::Sgd,
            lr: 1e6,
            ..config(dir.path())
        },
        Code {
            train_epoch: train_epoch_at_a_safe_rate,
            ..reference_as_yours()
        },
    )
    .unwrap();
    assert_eq!(record.comparison, None);
    assert!(record.test.accuracy > 0.5);
    for file in ["best.safetensors", "curves.svg", "run.json"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
    assert!(!dir.path().join("reference/run.json").exists());
}

#[test]
fn a_second_run_of_yours_reads_the_reference_back() {
    let dir = tempfile::tempdir().unwrap();
    let yours = || TrainConfig {
        yours: true,
        epochs: 1,
        ..config(dir.path())
    };
    run_with(yours(), reference_as_yours()).unwrap();
    let cached = dir.path().join("reference/run.json");
    let written = fs::metadata(&cached).unwrap().modified().unwrap();
    // Training the reference again would write its checkpoints again: that
    // they stay gone shows the run read the cache instead.
    fs::remove_file(dir.path().join("reference/best.safetensors")).unwrap();
    let again = run_with(yours(), reference_as_yours()).unwrap();
    assert!(again.comparison.unwrap().identical);
    assert_eq!(fs::metadata(&cached).unwrap().modified().unwrap(), written);
    assert!(!dir.path().join("reference/best.safetensors").exists());
    // Another seed is another run: trained again.
    let other = run_with(TrainConfig { seed: 1, ..yours() }, reference_as_yours()).unwrap();
    assert!(other.comparison.unwrap().identical);
    assert!(dir.path().join("reference/best.safetensors").exists());
}

#[test]
fn a_diverging_run_stops_at_the_step_and_saves_no_model() {
    let dir = tempfile::tempdir().unwrap();
    for code in [Code::REFERENCE, reference_as_yours()] {
        let error = run_with(
            TrainConfig {
                optimizer: OptimizerArg::Sgd,
                lr: 1e6,
                teaching: true,
                ..config(dir.path())
            },
            code,
        )
        .unwrap_err();
        let diverged = error
            .downcast_ref::<Diverged>()
            .unwrap_or_else(|| panic!("expected Diverged, got: {error:?}"));
        assert_eq!((diverged.whose, diverged.epoch), (code.whose, 1));
        assert!(!diverged.loss.is_finite());
        // The step is the first whose running loss is not finite: the
        // checkpoints of a diverged epoch are never written.
        assert!(diverged.step >= 1);
        assert!(!dir.path().join("best.safetensors").exists());
        assert!(!dir.path().join("last.safetensors").exists());
    }
}
