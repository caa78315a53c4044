//! Issue 18's training-side defects, each held by a test: bad settings,
//! divergence, the normalisation at predict time, empty data, `--epochs 0`,
//! absurd checkpoints and huge sizes.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::reference_as_yours;
use course_support::network::Mlp;
use first_mlp::checkpoint::{self, CheckpointError};
use first_mlp::code::{Code, Diverged};
use first_mlp::datasets::mnist::Normalization;
use first_mlp::mnist_pipeline::{TrainConfig, classify_idx, run, run_with};
use first_mlp::report::Evaluation;
use first_mlp::speech_pipeline::{self, SpeechConfig};
use first_mlp::training::{InvalidSetting, NoTrainingData, OptimizerArg};
use mnist::idx::Images;
use nalgebra::DMatrix;
use speech::hw1p2::write_utterance;

/// A small, quiet run of 2 epochs on `data` into `out`.
fn config(data: &Path, out: &Path) -> TrainConfig {
    TrainConfig {
        quiet: true,
        hidden: vec![16],
        data: Some(data.to_owned()),
        out: out.to_owned(),
        epochs: 2,
        ..TrainConfig::default()
    }
}

fn idx_images(images: &Images) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3];
    for n in [images.count, images.rows, images.cols] {
        bytes.extend(u32::try_from(n).unwrap().to_be_bytes());
    }
    bytes.extend(&images.pixels);
    bytes
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend(u32::try_from(labels.len()).unwrap().to_be_bytes());
    bytes.extend(labels);
    bytes
}

/// The first `train` and `test` images of the bundled sample, each pixel
/// mapped by `pixel`, as raw IDX files in `dir`.
fn write_mnist(dir: &Path, train: usize, test: usize, pixel: fn(u8) -> u8) {
    let sample = mnist::load_dir(&mnist::sample_dir()).unwrap();
    for (prefix, split, count) in [
        ("train", &sample.train, train),
        ("t10k", &sample.test, test),
    ] {
        let mut images = split.images.take(count);
        images.pixels.iter_mut().for_each(|p| *p = pixel(*p));
        let labels = &split.labels[..images.count];
        fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            idx_images(&images),
        )
        .unwrap();
        fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            idx_labels(labels),
        )
        .unwrap();
    }
}

/// A folder of 300 training and 100 test images of the sample.
fn small_mnist() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_mnist(dir.path(), 300, 100, |p| p);
    dir
}

fn invalid_flag(error: &anyhow::Error) -> &'static str {
    error
        .downcast_ref::<InvalidSetting>()
        .unwrap_or_else(|| panic!("expected InvalidSetting, got: {error:?}"))
        .flag
}

// Item 9: settings that cannot train are refused before anything runs.
#[test]
fn settings_that_cannot_train_are_refused_before_any_data_is_read() {
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("no-such-data");
    let base = || TrainConfig {
        data: Some(missing.clone()),
        ..config(&missing, &out.path().join("run"))
    };
    let cases = [
        (
            "--lr",
            TrainConfig {
                lr: f32::NAN,
                ..base()
            },
        ),
        (
            "--lr",
            TrainConfig {
                lr: f32::INFINITY,
                ..base()
            },
        ),
        ("--lr", TrainConfig { lr: -1.0, ..base() }),
        ("--lr", TrainConfig { lr: 0.0, ..base() }),
        (
            "--weight-decay",
            TrainConfig {
                weight_decay: f32::NAN,
                ..base()
            },
        ),
        (
            "--weight-decay",
            TrainConfig {
                weight_decay: -1.0,
                ..base()
            },
        ),
        (
            "--validation",
            TrainConfig {
                validation: f32::NAN,
                ..base()
            },
        ),
    ];
    for (flag, config) in cases {
        // The data folder does not exist: the setting is refused first.
        assert_eq!(invalid_flag(&run(config).unwrap_err()), flag);
    }
    assert!(!out.path().join("run").exists(), "nothing written");
    let speech = SpeechConfig {
        lr: f32::NAN,
        data: missing.clone(),
        out: out.path().join("speech"),
        quiet: true,
        ..SpeechConfig::default()
    };
    assert_eq!(
        invalid_flag(&speech_pipeline::run(speech).unwrap_err()),
        "--lr"
    );
}

// Item 9: divergence stops at its step on both paths, and nothing is saved.
#[test]
fn divergence_stops_at_its_step_on_the_fast_and_the_teaching_path() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    let runs = [
        // The fast path (AdamW): the decoupled decay overflows the weights.
        (
            TrainConfig {
                optimizer: OptimizerArg::Adamw,
                weight_decay: 1e30,
                ..config(data.path(), out.path())
            },
            Code::REFERENCE,
        ),
        (
            TrainConfig {
                optimizer: OptimizerArg::Sgd,
                lr: 1e6,
                ..config(data.path(), out.path())
            },
            Code::REFERENCE,
        ),
        (
            TrainConfig {
                optimizer: OptimizerArg::Sgd,
                weight_decay: 1e30,
                teaching: true,
                ..config(data.path(), out.path())
            },
            Code::REFERENCE,
        ),
        (
            TrainConfig {
                optimizer: OptimizerArg::Sgd,
                lr: 1e6,
                yours: true,
                no_compare: true,
                ..config(data.path(), out.path())
            },
            reference_as_yours(),
        ),
    ];
    for (i, (config, code)) in runs.into_iter().enumerate() {
        let whose = code.whose;
        let out = config.out.join(format!("run-{i}"));
        let error = run_with(
            TrainConfig {
                out: out.clone(),
                ..config
            },
            code,
        )
        .unwrap_err();
        let diverged = error
            .downcast_ref::<Diverged>()
            .unwrap_or_else(|| panic!("run {i}: expected Diverged, got: {error:?}"));
        assert_eq!(diverged.whose, whose, "run {i}");
        assert!(diverged.epoch >= 1 && diverged.step >= 1, "run {i}");
        assert!(diverged.parameter.is_some() || !diverged.loss.is_finite());
        assert!(!out.join("run.json").exists(), "run {i}");
        // An earlier, finite epoch may have been saved; the diverged one never.
        for file in ["best.safetensors", "last.safetensors"] {
            let path = out.join(file);
            if path.exists() {
                let (_, epoch): (TrainConfig, usize) =
                    checkpoint::read_config(&path, "config").unwrap();
                assert!(epoch < diverged.epoch, "run {i}: {file} of epoch {epoch}");
                let mut mlp = TrainConfig {
                    hidden: vec![16],
                    ..TrainConfig::default()
                }
                .build(784, 10)
                .unwrap();
                checkpoint::load_into(&path, &mut mlp).expect("a finite model");
            }
        }
    }
}

// Item 10: `predict` normalises as the model was trained.
#[test]
fn predict_uses_the_statistics_the_model_was_trained_with() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Light digits on a dark background: a mean near 0.87, far from
    // MNIST's 0.1307.
    write_mnist(data.path(), 1000, 200, |p| 255 - p);
    let record = run(TrainConfig {
        normalization: Normalization::Computed,
        validation: 0.0,
        lr: 0.01,
        epochs: 3,
        ..config(data.path(), out.path())
    })
    .unwrap();
    assert!(record.data.mean > 0.5, "mean {}", record.data.mean);
    let test = mnist::load_dir(data.path()).unwrap().test;
    let truth: Vec<usize> = test.labels.iter().map(|&l| usize::from(l)).collect();
    let predicted = classify_idx(
        &out.path().join("best.safetensors"),
        &data.path().join("t10k-images-idx3-ubyte"),
    )
    .unwrap();
    let accuracy = Evaluation::new(&truth, &predicted, 10).accuracy;
    assert_eq!(accuracy, record.test.accuracy);
    assert!(accuracy > 0.5, "accuracy {accuracy}");
}

// Item 11: no training examples is an error before training.
#[test]
fn no_training_images_is_an_error_before_training() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_mnist(data.path(), 1, 10, |p| p);
    for normalization in [Normalization::Computed, Normalization::Standard] {
        // The one image is held out for validation.
        let error = run(TrainConfig {
            validation: 0.5,
            normalization,
            ..config(data.path(), out.path())
        })
        .unwrap_err();
        assert!(error.is::<NoTrainingData>(), "{error:?}");
    }
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

/// Three splits in the HW1P2 layout, with `train_frames` frames in each
/// training utterance (0 for an empty split).
fn speech_layout(dir: &Path, train_frames: usize) {
    let classes = ["[SIL]", "AA", "IY"];
    for split in ["train-clean-100", "dev-clean", "test-clean"] {
        let frames = if split == "train-clean-100" {
            train_frames
        } else {
            20
        };
        for utterance in 0..2 {
            let labels: Vec<&str> = (0..frames).map(|t| classes[(t / 5) % 3]).collect();
            let m = DMatrix::from_fn(frames, 4, |t, c| ((t * 7 + c * 13) % 11) as f32 / 10.0);
            write_utterance(
                &dir.join(split),
                &format!("u{utterance}.npy"),
                &m,
                Some(&labels),
            )
            .unwrap();
        }
    }
}

fn speech_config(data: &Path, out: &Path) -> SpeechConfig {
    SpeechConfig {
        quiet: true,
        data: data.to_owned(),
        out: out.to_owned(),
        hidden: vec![8],
        context: 2,
        batch_size: 8,
        epochs: 1,
        ..SpeechConfig::default()
    }
}

// Item 11: no training frames is an error before training.
#[test]
fn no_training_frames_is_an_error_before_training() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    speech_layout(data.path(), 0);
    let error = speech_pipeline::run(speech_config(data.path(), out.path())).unwrap_err();
    // The reader may refuse an empty utterance itself; either way, no run.
    if !error.chain().any(|e| e.to_string().contains("npy")) {
        assert!(error.is::<NoTrainingData>(), "{error:?}");
    }
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

// Item 14: `speech-train --epochs 0` is refused and leaves an earlier run.
#[test]
fn speech_epochs_0_is_refused_and_keeps_the_earlier_run() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    speech_layout(data.path(), 20);
    speech_pipeline::run(speech_config(data.path(), out.path())).unwrap();
    let run_json = out.path().join("run.json");
    let before = fs::read(&run_json).unwrap();
    let error = speech_pipeline::run(SpeechConfig {
        epochs: 0,
        ..speech_config(data.path(), out.path())
    })
    .unwrap_err();
    assert_eq!(invalid_flag(&error), "--epochs");
    assert_eq!(fs::read(&run_json).unwrap(), before);
}

/// `from` rewritten into `to` with its epoch (and, if given, its
/// configuration's epoch count) replaced.
fn with_epoch(from: &Path, to: &Path, epoch: usize, configured: Option<usize>) {
    let (config, _): (TrainConfig, usize) = checkpoint::read_config(from, "config").unwrap();
    let mut mlp: Mlp = config.build(784, 10).unwrap();
    let mut saved = checkpoint::load_into(from, &mut mlp).unwrap();
    saved.epoch = epoch;
    if let Some(epochs) = configured {
        let mut json: serde_json::Value = serde_json::from_str(&saved.config_json).unwrap();
        json["epochs"] = epochs.into();
        saved.config_json = json.to_string();
    }
    // Only the weights go through `save`; the optimiser's state rides along.
    checkpoint::save(to, &mlp, &saved).unwrap();
}

// Item 6: an absurd epoch in a checkpoint is refused, not wrapped or replayed.
#[test]
fn resuming_from_an_absurd_epoch_is_refused() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    let last = out.path().join("last.safetensors");
    let cases: [(usize, Option<usize>); 3] = [
        (usize::MAX, None),
        (usize::MAX, Some(usize::MAX)),
        (100_000_000, Some(100_000_000)),
    ];
    for (i, (epoch, configured)) in cases.into_iter().enumerate() {
        let crafted: PathBuf = out.path().join(format!("crafted-{i}.safetensors"));
        with_epoch(&last, &crafted, epoch, configured);
        let error = run(TrainConfig {
            epochs: 3,
            resume: Some(crafted),
            ..config(data.path(), &out.path().join("resumed"))
        })
        .unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::EpochOutOfRange { epoch: e, .. }) if *e == epoch
            ),
            "{error:?}"
        );
    }
}

// Item 5: a checkpoint whose configuration describes a huge network is
// refused from its header, before that network is built.
#[test]
fn a_checkpoint_describing_a_huge_network_is_refused_before_building_it() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    let last = out.path().join("last.safetensors");
    let (config_16, _): (TrainConfig, usize) = checkpoint::read_config(&last, "config").unwrap();
    let mut mlp = config_16.build(784, 10).unwrap();
    let mut saved = checkpoint::load_into(&last, &mut mlp).unwrap();
    for hidden in [1_000_000usize, 100_000_000_000] {
        let mut json: serde_json::Value = serde_json::from_str(&saved.config_json).unwrap();
        json["hidden"] = serde_json::json!([hidden]);
        saved.config_json = json.to_string();
        let crafted = out.path().join(format!("huge-{hidden}.safetensors"));
        checkpoint::save(&crafted, &mlp, &saved).unwrap();
        let is_mismatch = |error: &anyhow::Error| {
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::Mismatch { expected, .. }) if expected == &[hidden, 784]
            )
        };
        let error =
            classify_idx(&crafted, &data.path().join("t10k-images-idx3-ubyte")).unwrap_err();
        assert!(is_mismatch(&error), "{error:?}");
        let error = run(TrainConfig {
            epochs: 2,
            resume: Some(crafted),
            ..config(data.path(), &out.path().join("resumed"))
        })
        .unwrap_err();
        assert!(is_mismatch(&error), "{error:?}");
    }
}

// Item 4: sizes from flags are checked against the data and the memory
// before anything is allocated.
#[test]
fn huge_sizes_are_refused_or_clamped_before_allocating() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    for hidden in [100_000_000_000usize, 2_000_000] {
        let error = run(TrainConfig {
            hidden: vec![hidden],
            ..config(data.path(), out.path())
        })
        .unwrap_err();
        assert_eq!(invalid_flag(&error), "--hidden");
    }
    // A batch larger than the training split is that split, one batch.
    let record = run(TrainConfig {
        batch_size: 100_000_000_000,
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    assert_eq!(record.config.batch_size, record.data.train);

    let (speech_data, speech_out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    speech_layout(speech_data.path(), 20);
    for context in [1_000_000_000_000usize, 5000, usize::MAX / 2] {
        let error = speech_pipeline::run(SpeechConfig {
            context,
            ..speech_config(speech_data.path(), speech_out.path())
        })
        .unwrap_err();
        assert_eq!(invalid_flag(&error), "--context");
    }
    let record = speech_pipeline::run(SpeechConfig {
        batch_size: 100_000_000_000,
        ..speech_config(speech_data.path(), speech_out.path())
    })
    .unwrap();
    assert_eq!(record.config.batch_size, 40);
}
