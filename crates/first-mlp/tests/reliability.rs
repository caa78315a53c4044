//! Issue 18's training-side defects, each held by a test: bad settings,
//! divergence, the normalisation at predict time, empty data, `--epochs 0`,
//! absurd checkpoints and huge sizes.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::reference_as_yours;
use course_support::regularise::Network;
use first_mlp::checkpoint::{self, CheckpointError, ModelKind};
use first_mlp::code::{Code, Diverged};
use first_mlp::datasets::mnist::Normalization;
use first_mlp::mnist_pipeline::{TrainConfig, classify_idx, run, run_with};
use first_mlp::report::Evaluation;
use first_mlp::speech_pipeline::{self, SpeechConfig};
use first_mlp::training::{InvalidSetting, NoTrainingData, OptimizerArg, ResumeConflict};
use mnist::idx::Images;
use nalgebra::DMatrix;
use speech::hw1p2::{Precision, write_utterance};

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
                    checkpoint::read_config(&path, ModelKind::Mnist).unwrap();
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
                Precision::Single,
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
    let (config, _): (TrainConfig, usize) =
        checkpoint::read_config(from, ModelKind::Mnist).unwrap();
    let mut mlp: Network = config.build(784, 10).unwrap();
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
        // A configured epoch count past the cap (round 3, item 5) is
        // refused as a setting from the checkpoint, before its epoch.
        let capped = error
            .downcast_ref::<first_mlp::training::SettingFromCheckpoint>()
            .is_some_and(|s| s.setting.flag == "--epochs")
            && configured.is_some_and(|c| c > first_mlp::training::MAX_EPOCHS);
        assert!(
            capped
                || matches!(
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
    let (config_16, _): (TrainConfig, usize) =
        checkpoint::read_config(&last, ModelKind::Mnist).unwrap();
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
            // --hidden not given (a given one that disagrees is refused).
            hidden: TrainConfig::default().hidden,
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

/// A run of 1 epoch whose learning rate is too small to change any weight:
/// every later epoch ties with the first, so the best stays epoch 1.
fn frozen(data: &Path, out: &Path) -> TrainConfig {
    TrainConfig {
        lr: 1e-30,
        epochs: 1,
        ..config(data, out)
    }
}

fn epoch_of(path: &Path) -> usize {
    let (_, epoch): (TrainConfig, usize) = checkpoint::read_config(path, ModelKind::Mnist).unwrap();
    epoch
}

// Item 15: a resume whose later epochs do not beat the recorded best ends
// with a test result and run.json, even when best.safetensors is missing
// (a kill during its first write), is another run's, or when the best
// epoch's model is in no checkpoint at all.
#[test]
fn resume_ends_with_a_test_result_whatever_became_of_best() {
    let data = small_mnist();
    let scratch = tempfile::tempdir().unwrap();
    // Another run's best of the same epoch, under the same name.
    let other = scratch.path().join("other");
    run(TrainConfig {
        seed: 5,
        ..frozen(data.path(), &other)
    })
    .unwrap();
    let foreign = other.join("best.safetensors");
    // (case, epochs before the damage, the best epoch expected after)
    for (case, trained, kept) in [("missing", 1, 1), ("foreign", 1, 1), ("lost", 2, 2)] {
        let out = scratch.path().join(case);
        run(TrainConfig {
            epochs: trained,
            ..frozen(data.path(), &out)
        })
        .unwrap();
        let (best, last) = (out.join("best.safetensors"), out.join("last.safetensors"));
        let epoch_1 = common::checkpoint_tensors(&best);
        assert_eq!(epoch_of(&best), 1);
        match case {
            "foreign" => {
                fs::copy(&foreign, &best).unwrap();
            }
            _ => fs::remove_file(&best).unwrap(),
        }
        fs::remove_file(out.join("run.json")).unwrap();
        let record = run(TrainConfig {
            epochs: 3,
            resume: Some(last.clone()),
            ..frozen(data.path(), &out)
        })
        .unwrap_or_else(|e| panic!("{case}: {e:?}"));
        assert_eq!(record.best_epoch, Some(kept), "{case}");
        assert_eq!(record.epochs.len(), 3, "{case}");
        assert!(out.join("run.json").is_file(), "{case}");
        // best.safetensors holds the tested model: the kept epoch's of
        // this run, never the other run's.
        assert_eq!(epoch_of(&best), kept, "{case}");
        if kept == 1 {
            assert!(common::checkpoint_tensors(&best) == epoch_1, "{case}");
        }
    }
}

/// Temporary files as a kill inside a checkpoint's and an output's write
/// leaves them: a partial copy of a checkpoint under each prefix.
fn leave_orphans(dir: &Path, like: &Path) -> Vec<PathBuf> {
    let bytes = fs::read(like).unwrap();
    let orphans: Vec<PathBuf> = [".checkpoint-Ab12Cd", ".checkpoint-zz9", ".partial-X1y2Z3"]
        .iter()
        .map(|name| dir.join(name))
        .collect();
    for orphan in &orphans {
        fs::write(orphan, &bytes[..bytes.len() / 2]).unwrap();
    }
    orphans
}

// Item 16: a run clears the temporary files an interrupted one left (only
// its own kind), and refuses a folder another run holds.
#[test]
fn a_run_removes_orphaned_temporary_files_and_refuses_a_folder_in_use() {
    let data = small_mnist();
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("run");
    run(frozen(data.path(), &out)).unwrap();
    let orphans = leave_orphans(&out, &out.join("last.safetensors"));
    let mine = out.join("notes.txt");
    fs::write(&mine, "not a temporary file").unwrap();
    run(frozen(data.path(), &out)).unwrap();
    for orphan in &orphans {
        assert!(!orphan.exists(), "{} is left", orphan.display());
    }
    assert!(mine.exists());

    #[cfg(unix)]
    {
        use first_mlp::files::OutputFolderError;
        let orphans = leave_orphans(&out, &out.join("last.safetensors"));
        // Another run holding the folder, as a live process would.
        let holder = fs::File::open(&out).unwrap();
        holder.try_lock().unwrap();
        let error = run(frozen(data.path(), &out)).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<OutputFolderError>(),
                Some(OutputFolderError::InUse { .. })
            ),
            "{error:?}"
        );
        // Its temporary files may be live ones: left alone.
        assert!(orphans.iter().all(|p| p.exists()));
        drop(holder);
        run(frozen(data.path(), &out)).unwrap();
        assert!(orphans.iter().all(|p| !p.exists()));
    }
}

fn never_trains(
    _: &mut course_support::network::Mlp,
    _: &mut course_support::optim::Optimizer,
    _: &mut course_support::batches::BatchLoader,
    _: &mut dyn FnMut(&course_support::stats::EpochStats),
) -> Result<course_support::stats::EpochStats, course_support::shape::ShapeError> {
    panic!("an epoch was trained before the output folder was checked");
}

/// A folder that exists but where no file can be created, even by root
/// (whom permissions do not stop): a read-only folder, else /proc/self on
/// Linux.
fn unwritable_folder(scratch: &Path) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch.join("read-only");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
        if fs::File::create(dir.join("probe")).is_err() {
            return Some(dir);
        }
    }
    cfg!(target_os = "linux").then(|| PathBuf::from("/proc/self"))
}

// Item 18 (part): an output folder that cannot be written fails before any
// training.
#[test]
fn an_unwritable_output_folder_fails_before_training() {
    let data = small_mnist();
    let scratch = tempfile::tempdir().unwrap();
    let Some(out) = unwritable_folder(scratch.path()) else {
        eprintln!("no unwritable folder on this system: skipped");
        return;
    };
    let code = Code {
        train_epoch: never_trains,
        ..Code::REFERENCE
    };
    let error = run_with(
        TrainConfig {
            teaching: true,
            ..config(data.path(), &out)
        },
        code,
    )
    .unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<first_mlp::files::OutputFolderError>(),
            Some(first_mlp::files::OutputFolderError::NotWritable { .. })
        ),
        "{error:?}"
    );
}

// Item 17: flags given with --resume that disagree with the checkpoint are
// refused by name, not silently overridden; the same flags are accepted.
#[test]
fn resume_refuses_flags_that_disagree_with_the_checkpoint() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    let resumed = out.path().join("resumed");
    let resume = TrainConfig {
        resume: Some(out.path().join("last.safetensors")),
        ..config(data.path(), &resumed)
    };
    let error = run(TrainConfig {
        hidden: vec![64],
        lr: 0.5,
        ..resume.clone()
    })
    .unwrap_err();
    let conflict = error
        .downcast_ref::<ResumeConflict>()
        .unwrap_or_else(|| panic!("expected ResumeConflict, got: {error:?}"));
    let flags: Vec<&str> = conflict.flags.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(flags, ["--hidden", "--lr"]);
    assert!(!resumed.join("run.json").exists());
    // The same settings, and those a resume may change, are accepted.
    let record = run(TrainConfig {
        teaching: true,
        ..resume
    })
    .unwrap();
    assert_eq!(record.epochs.len(), 2);
}

/// `path` as a relative path from the current folder.
fn relative(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let up = cwd.components().count() - 1;
    let mut relative: PathBuf = std::iter::repeat_n("..", up).collect();
    relative.push(path.strip_prefix("/").unwrap());
    relative
}

// Item 17: speech-train stores an absolute data path, and --data given with
// --resume is used (the data may have moved).
#[test]
fn speech_resume_finds_its_data_from_anywhere_and_takes_data_given() {
    let (scratch, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let data = scratch.path().join("corpus");
    speech_layout(&data, 20);
    let given = relative(&data);
    assert!(given.is_relative());
    speech_pipeline::run(speech_config(&given, out.path())).unwrap();
    let last = out.path().join("last.safetensors");
    let (saved, _): (SpeechConfig, usize) =
        checkpoint::read_config(&last, ModelKind::Speech).unwrap();
    assert!(saved.data.is_absolute(), "{}", saved.data.display());
    assert_eq!(fs::canonicalize(&data).unwrap(), saved.data);
    // The data moves; the resume says where it is now.
    let moved = scratch.path().join("moved");
    fs::rename(&data, &moved).unwrap();
    let record = speech_pipeline::run(SpeechConfig {
        epochs: 2,
        resume: Some(last),
        ..speech_config(&moved, &out.path().join("resumed"))
    })
    .unwrap();
    assert_eq!(record.epochs.len(), 2);
    assert_eq!(record.config.data, fs::canonicalize(&moved).unwrap());
}

/// The temporary files in `dir` (those a write in progress, or a killed
/// one, leaves).
fn temporary_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".checkpoint-") || n.starts_with(".partial-"))
        .collect()
}

// The fault test (issue 18, "Keep it fixed"): the states a kill inside each
// write leaves, made deterministically. A write goes to a temporary file
// renamed into place once whole, so a kill leaves the target as it was
// before (or absent) beside a partial temporary file. From each, --resume
// must clean the orphans and end with a test result, run.json, and a
// best.safetensors holding the epoch it reports.
#[test]
fn a_kill_inside_any_write_leaves_a_resumable_run() {
    let data = small_mnist();
    let scratch = tempfile::tempdir().unwrap();
    let kills = [
        "first write of best (epoch 1)",
        "write of last (epoch 2)",
        "write of best (epoch 2)",
        "write of run.json",
    ];
    for (i, kill) in kills.into_iter().enumerate() {
        let out = scratch.path().join(format!("kill-{i}"));
        let (best, last) = (out.join("best.safetensors"), out.join("last.safetensors"));
        run(TrainConfig {
            epochs: 1,
            ..config(data.path(), &out)
        })
        .unwrap();
        let epoch_1 = (fs::read(&best).unwrap(), fs::read(&last).unwrap());
        let partial = |like: &Path, name: &str| {
            let bytes = fs::read(like).unwrap();
            fs::write(out.join(name), &bytes[..bytes.len() / 3]).unwrap();
        };
        match i {
            0 => {
                partial(&best, ".checkpoint-kill00");
                fs::remove_file(&best).unwrap();
                fs::remove_file(out.join("run.json")).unwrap();
            }
            1 | 2 => {
                run(TrainConfig {
                    epochs: 2,
                    resume: Some(last.clone()),
                    ..config(data.path(), &out)
                })
                .unwrap();
                if i == 1 {
                    // Epoch 2 was trained; its last never landed.
                    partial(&last, ".checkpoint-kill01");
                    fs::write(&last, &epoch_1.1).unwrap();
                    fs::write(&best, &epoch_1.0).unwrap();
                } else {
                    // last of epoch 2 landed; best of epoch 2 did not
                    // (whether or not epoch 2 was the better one).
                    partial(&best, ".checkpoint-kill02");
                    fs::write(&best, &epoch_1.0).unwrap();
                }
            }
            _ => partial(&out.join("run.json"), ".partial-kill03"),
        }
        assert!(!temporary_files(&out).is_empty());
        let record = run(TrainConfig {
            epochs: 3,
            resume: Some(last.clone()),
            ..config(data.path(), &out)
        })
        .unwrap_or_else(|e| panic!("after a kill in the {kill}: {e:?}"));
        assert_eq!(record.epochs.len(), 3, "{kill}");
        assert!(
            (0.0..=1.0).contains(&record.test.accuracy) && record.test_loss.is_finite(),
            "{kill}"
        );
        let run_json: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run_json["best_epoch"], serde_json::json!(record.best_epoch));
        assert_eq!(Some(epoch_of(&best)), record.best_epoch, "{kill}");
        assert_eq!(epoch_of(&last), 3, "{kill}");
        assert_eq!(temporary_files(&out), Vec::<String>::new(), "{kill}");
    }
}

// ---------------------------------------------------------------------------
// The second round of attacks on issue 18's fixes.

// Round 2, item 1: an output that is one of the inputs, by any path, is
// refused before anything is written. Failed before: nothing checked.
#[test]
fn an_output_that_is_an_input_is_refused_by_any_path() {
    use first_mlp::files::{OutputIsInput, check_output_not_input};
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("best.safetensors");
    fs::write(&model, b"model").unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let other_path = dir.path().join("sub/../best.safetensors");
    let hard_link = dir.path().join("link.csv");
    fs::hard_link(&model, &hard_link).unwrap();
    for output in [&model, &other_path, &hard_link] {
        let error = check_output_not_input("--csv", output, &[Path::new("x.wav"), &model]);
        assert!(
            matches!(&error, Err(OutputIsInput { input, .. }) if *input == model),
            "{}: {error:?}",
            output.display()
        );
    }
    // A new file, or another existing one, is fine.
    let fresh = dir.path().join("frames.csv");
    assert_eq!(check_output_not_input("--csv", &fresh, &[&model]), Ok(()));
    fs::write(&fresh, b"old csv").unwrap();
    assert_eq!(check_output_not_input("--csv", &fresh, &[&model]), Ok(()));
}

// Round 2, item 2: a fresh run moves the earlier run's files into
// previous/, so the folder never mixes two runs; a failed run leaves only
// its own files beside previous/. Failed before: the files were replaced.
#[test]
fn a_fresh_run_sets_the_earlier_one_aside_in_previous() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    let one = TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    };
    run(one.clone()).unwrap();
    let first_best = fs::read(out.path().join("best.safetensors")).unwrap();
    let first_record = fs::read(out.path().join("run.json")).unwrap();
    run(TrainConfig {
        seed: 1,
        ..one.clone()
    })
    .unwrap();
    let previous = out.path().join("previous");
    assert_eq!(
        fs::read(previous.join("best.safetensors")).unwrap(),
        first_best
    );
    assert_eq!(fs::read(previous.join("run.json")).unwrap(), first_record);
    assert_ne!(
        fs::read(out.path().join("best.safetensors")).unwrap(),
        first_best
    );
    let second_best = fs::read(out.path().join("best.safetensors")).unwrap();
    // A run that fails (diverges) in its first epoch: the second run is
    // now previous/, and nothing of it is left beside.
    let error = run(TrainConfig {
        weight_decay: 1e30,
        optimizer: OptimizerArg::Sgd,
        ..one
    })
    .unwrap_err();
    assert!(error.is::<Diverged>(), "{error:?}");
    assert_eq!(
        fs::read(previous.join("best.safetensors")).unwrap(),
        second_best
    );
    for name in first_mlp::files::RUN_FILES {
        assert!(
            !out.path().join(name).exists(),
            "{name} left beside previous/"
        );
    }
}

// Round 2, item 2: a resume without --out continues in the checkpoint's
// folder. Failed before: it went to the default out/mnist (or out/speech).
#[test]
fn a_resume_without_out_continues_in_the_checkpoints_folder() {
    use first_mlp::training::GivenFlags;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    // As the command line gives it: --data, --epochs and --resume only.
    let given: GivenFlags = ["data", "epochs", "resume", "quiet"]
        .map(String::from)
        .into();
    let record = run(TrainConfig {
        data: Some(data.path().to_owned()),
        epochs: 2,
        quiet: true,
        resume: Some(out.path().join("last.safetensors")),
        given: Some(given),
        ..TrainConfig::default()
    })
    .unwrap();
    assert_eq!(record.config.out, out.path());
    assert_eq!(
        epoch_of(&out.path().join("last.safetensors")),
        2,
        "resumed into another folder"
    );
}

/// `from` rewritten into `to` with the optimiser state tensor `name`'s
/// values changed by `edit`.
fn with_optimizer_state(from: &Path, to: &Path, name: &str, edit: fn(&mut [f32])) {
    let (config, _): (TrainConfig, usize) =
        checkpoint::read_config(from, ModelKind::Mnist).unwrap();
    let mut mlp: Network = config.build(784, 10).unwrap();
    let mut saved = checkpoint::load_into(from, &mut mlp).unwrap();
    let (_, values) = saved
        .state
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name}"));
    edit(values);
    checkpoint::save(to, &mlp, &saved).unwrap();
}

// Round 2, item 5: --epochs below the checkpoint's, a damaged optimiser
// state, and a flag given with its default value that disagrees with the
// checkpoint are refused. Each failed before: nothing trained and exit 0;
// the NaN surfaced later as divergence; the flag was ignored.
#[test]
fn resume_refuses_fewer_epochs_damaged_optimizer_state_and_default_valued_flags() {
    use first_mlp::training::GivenFlags;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(config(data.path(), out.path())).unwrap();
    let last = out.path().join("last.safetensors");
    let resumed = out.path().join("resumed");
    let resume = |from: &Path, given: &[&str]| TrainConfig {
        resume: Some(from.to_owned()),
        given: Some(given.iter().map(|f| f.to_string()).collect::<GivenFlags>()),
        ..config(data.path(), &resumed)
    };
    let error = run(TrainConfig {
        epochs: 1,
        ..resume(&last, &["epochs", "out"])
    })
    .unwrap_err();
    assert_eq!(invalid_flag(&error), "--epochs");
    // --hidden 256 is the default, but given: it disagrees with 16.
    let error = run(TrainConfig {
        hidden: vec![256],
        ..resume(&last, &["hidden", "out"])
    })
    .unwrap_err();
    let conflict = error
        .downcast_ref::<ResumeConflict>()
        .unwrap_or_else(|| panic!("expected ResumeConflict, got: {error:?}"));
    assert_eq!(conflict.flags[0].0, "--hidden");
    let damaged = out.path().join("damaged.safetensors");
    for (name, edit) in [
        (
            "optimizer.m.000",
            (|v: &mut [f32]| v[3] = f32::NAN) as fn(&mut [f32]),
        ),
        ("optimizer.v.001", |v: &mut [f32]| v[0] = f32::INFINITY),
        ("optimizer.v.002", |v: &mut [f32]| v[1] = -1.0),
    ] {
        with_optimizer_state(&last, &damaged, name, edit);
        let error = run(TrainConfig {
            epochs: 3,
            ..resume(&damaged, &["epochs", "out"])
        })
        .unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::BadOptimizerState { tensor, path, .. })
                    if tensor == name && *path == damaged
            ),
            "{name}: {error:?}"
        );
    }
    assert!(!resumed.join("last.safetensors").exists());
}

// Round 2, item 4: a test set of 0 images is an error before training.
// Failed before: "accuracy 0.00%", test_loss 0 in run.json, exit 0.
#[test]
fn an_empty_test_set_is_an_error_before_training() {
    use first_mlp::training::NoTestData;
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_mnist(data.path(), 100, 0, |p| p);
    let error = run(config(data.path(), out.path())).unwrap_err();
    assert!(error.is::<NoTestData>(), "{error:?}");
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    // predict on the empty file, with a model trained elsewhere.
    let model_data = small_mnist();
    run(TrainConfig {
        epochs: 1,
        ..config(model_data.path(), out.path())
    })
    .unwrap();
    let empty = data.path().join("t10k-images-idx3-ubyte");
    let error = classify_idx(&out.path().join("best.safetensors"), &empty).unwrap_err();
    assert!(error.is::<NoTestData>(), "{error:?}");
}

// Round 2, item 7: misleading messages, now typed errors that say what is
// wrong. Each failed before: "missing field `activation`", "width 1 is 0",
// "no epoch in its metadata", "--batch-size 0" blamed on a flag, and "File
// exists … or free space".
#[test]
fn misleading_messages_are_typed_errors_that_say_what_is_wrong() {
    use first_mlp::checkpoint::ModelKind;
    use first_mlp::files::OutputFolderError;
    use first_mlp::training::SettingFromCheckpoint;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    let mnist_model = out.path().join("best.safetensors");
    // A speech model given to an MNIST command, and the other way round.
    let speech_data = tempfile::tempdir().unwrap();
    speech_layout(speech_data.path(), 20);
    let speech_out = out.path().join("speech");
    speech_pipeline::run(speech_config(speech_data.path(), &speech_out)).unwrap();
    let speech_model = speech_out.join("best.safetensors");
    let idx = data.path().join("t10k-images-idx3-ubyte");
    let wrong_kind = |error: anyhow::Error, holds, needs| {
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::WrongKind { holds: h, needs: n, .. }) if *h == holds && *n == needs
            ),
            "{error:?}"
        );
    };
    wrong_kind(
        classify_idx(&speech_model, &idx).unwrap_err(),
        ModelKind::Speech,
        ModelKind::Mnist,
    );
    wrong_kind(
        speech_pipeline::predict_wav(&mnist_model, Path::new("any.wav"), None, 2.0, true)
            .unwrap_err(),
        ModelKind::Mnist,
        ModelKind::Speech,
    );
    // --hidden 0.
    let error = run(TrainConfig {
        hidden: vec![16, 0],
        ..config(data.path(), &out.path().join("zero"))
    })
    .unwrap_err();
    assert_eq!(invalid_flag(&error), "--hidden");
    // An epoch that is not a whole number.
    let negative = out.path().join("negative.safetensors");
    let bytes = fs::read(&mnist_model).unwrap();
    let n = usize::try_from(u64::from_le_bytes(bytes[..8].try_into().unwrap())).unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header["__metadata__"]["epoch"] = "-1".into();
    let mut text = serde_json::to_string(&header).unwrap().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut tampered = (text.len() as u64).to_le_bytes().to_vec();
    tampered.extend(text);
    tampered.extend(&bytes[8 + n..]);
    let error = checkpoint::read_metadata(&negative, &tampered).unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<CheckpointError>(),
            Some(CheckpointError::BadEpoch { value: Some(v), .. }) if v == "-1"
        ),
        "{error:?}"
    );
    // A checkpoint whose stored batch size is 0: not a flag's fault.
    let (config_saved, _): (TrainConfig, usize) =
        checkpoint::read_config(&mnist_model, ModelKind::Mnist).unwrap();
    let mut mlp: Network = config_saved.build(784, 10).unwrap();
    let mut saved = checkpoint::load_into(&mnist_model, &mut mlp).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&saved.config_json).unwrap();
    json["batch_size"] = 0.into();
    saved.config_json = json.to_string();
    let zero_batch = out.path().join("zero-batch.safetensors");
    checkpoint::save(&zero_batch, &mlp, &saved).unwrap();
    let error = run(TrainConfig {
        resume: Some(zero_batch.clone()),
        ..config(data.path(), &out.path().join("resumed"))
    })
    .unwrap_err();
    let from = error
        .downcast_ref::<SettingFromCheckpoint>()
        .unwrap_or_else(|| panic!("expected SettingFromCheckpoint, got: {error:?}"));
    assert_eq!(
        (from.checkpoint.as_path(), from.setting.flag),
        (zero_batch.as_path(), "--batch-size")
    );
    // --out naming a file, or a path through one.
    for (dir, file) in [
        (mnist_model.clone(), mnist_model.clone()),
        (mnist_model.join("sub"), mnist_model.clone()),
    ] {
        let error = run(config(data.path(), &dir)).unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<OutputFolderError>(),
                Some(OutputFolderError::NotAFolder { path, .. }) if *path == file
            ),
            "{error:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The third round of attacks on issue 18's fixes.

/// A FIFO at `path` (made by mkfifo, only ever inside a temporary folder).
fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A character device node at `path` (inside a temporary folder only) with
/// the numbers of /dev/zero (1, 5); false when it cannot be made (not root).
fn zero_device(path: &Path) -> bool {
    std::process::Command::new("mknod")
        .arg(path)
        .args(["c", "1", "5"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `read`, which must not block on the FIFO `fifo`: should it block
/// (the defect), the FIFO is opened for writing and closed after a while,
/// so the read ends (with another error than the one expected) instead of
/// hanging the test.
fn without_hanging<T>(fifo: &Path, read: impl FnOnce() -> T) -> T {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let guard = {
        let (done, fifo) = (done.clone(), fifo.to_owned());
        std::thread::spawn(move || {
            for _ in 0..600 {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            // Unblocks a reader that opened it: it reads end of file.
            let _ = fs::OpenOptions::new().write(true).open(&fifo);
        })
    };
    let result = read();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    guard.join().unwrap();
    result
}

fn not_regular_input(error: &anyhow::Error, expected: &Path) {
    use first_mlp::files::NotRegularFile;
    assert!(
        matches!(
            error.downcast_ref::<NotRegularFile>(),
            Some(NotRegularFile::Input { path, .. }) if path == expected
        ),
        "{}: {error:?}",
        expected.display()
    );
}

// Round 3, item 2: a checkpoint or a picture that is a FIFO hung forever,
// and a device like /dev/zero as a checkpoint grew memory without bound.
// Every input the crate opens itself must be a regular file (a link to one
// is fine), checked before opening. Failed before (by reasoning: fs::read
// and image's Reader::open open the FIFO and block; /dev/zero reads
// forever).
#[test]
fn inputs_that_are_not_regular_files_are_refused_before_opening() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    let model = out.path().join("best.safetensors");
    let idx = data.path().join("t10k-images-idx3-ubyte");
    let special = tempfile::tempdir().unwrap();
    let pipe = special.path().join("model.safetensors");
    fifo(&pipe);
    let error = without_hanging(&pipe, || classify_idx(&pipe, &idx)).unwrap_err();
    not_regular_input(&error, &pipe);
    let error = without_hanging(&pipe, || {
        checkpoint::read_config::<TrainConfig>(&pipe, ModelKind::Mnist)
    })
    .unwrap_err();
    not_regular_input(&error, &pipe);
    let error = without_hanging(&pipe, || {
        run(TrainConfig {
            resume: Some(pipe.clone()),
            ..config(data.path(), &out.path().join("resumed"))
        })
    })
    .unwrap_err();
    not_regular_input(&error, &pipe);
    let error = without_hanging(&pipe, || {
        speech_pipeline::predict_wav(&pipe, Path::new("any.wav"), None, 2.0, true)
    })
    .unwrap_err();
    not_regular_input(&error, &pipe);
    // A picture that is a FIFO.
    let picture = special.path().join("digit.png");
    fifo(&picture);
    let error = without_hanging(&picture, || {
        first_mlp::mnist_pipeline::predict(&model, None, None, Some(&picture))
    })
    .unwrap_err();
    not_regular_input(&error, &picture);
    // A folder, and a device that never ends (where one can be made).
    let error = classify_idx(special.path(), &idx).unwrap_err();
    not_regular_input(&error, special.path());
    let zero = special.path().join("zero.safetensors");
    if zero_device(&zero) {
        let error = classify_idx(&zero, &idx).unwrap_err();
        not_regular_input(&error, &zero);
    }
    // A symbolic link to a regular checkpoint is fine.
    let link = special.path().join("link.safetensors");
    std::os::unix::fs::symlink(&model, &link).unwrap();
    assert_eq!(classify_idx(&link, &idx).unwrap().len(), 100);
}

fn output_folder_error(error: &anyhow::Error) -> &first_mlp::files::OutputFolderError {
    error
        .downcast_ref()
        .unwrap_or_else(|| panic!("expected OutputFolderError, got: {error:?}"))
}

// Round 3, item 1: the run's own files in --out that are symbolic links
// (even dangling) or special files are refused, not replaced. Failed before
// (by reasoning: the fresh run moved a link to a regular file into
// previous/ but wrote over a dangling one through a rename, and
// write_durably renamed over anything).
#[test]
fn run_files_that_are_links_or_special_files_are_refused() {
    use first_mlp::files::{NotRegularFile, OutputFolderError};
    let data = small_mnist();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("kept.json");
    fs::write(&target, b"not the program's").unwrap();
    for (name, dangling) in [("run.json", false), ("best.safetensors", true)] {
        let out = tempfile::tempdir().unwrap();
        let link = out.path().join(name);
        let to = if dangling {
            outside.path().join("missing")
        } else {
            target.clone()
        };
        std::os::unix::fs::symlink(&to, &link).unwrap();
        let error = run(config(data.path(), out.path())).unwrap_err();
        assert!(
            matches!(
                output_folder_error(&error),
                OutputFolderError::RunFile(NotRegularFile::Output { path, .. }) if *path == link
            ),
            "{error:?}"
        );
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!out.path().join("last.safetensors").exists());
    }
    assert_eq!(fs::read(&target).unwrap(), b"not the program's");
    let out = tempfile::tempdir().unwrap();
    let pipe = out.path().join("last.safetensors");
    fifo(&pipe);
    let error = run(config(data.path(), out.path())).unwrap_err();
    assert!(
        matches!(
            output_folder_error(&error),
            OutputFolderError::RunFile(NotRegularFile::Output { path, .. }) if *path == pipe
        ),
        "{error:?}"
    );
    assert!(!fs::symlink_metadata(&pipe).unwrap().file_type().is_file());
}

// Round 3, item 3a: a resume into an --out holding another complete run
// overwrote that run; it is now set aside in previous/ as a fresh run
// does. Failed before (by reasoning: a resumed run never moved anything,
// and wrote best, last and run.json over the other run's).
#[test]
fn a_resume_into_another_runs_folder_sets_that_run_aside() {
    let data = small_mnist();
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), one.path())
    })
    .unwrap();
    run(TrainConfig {
        epochs: 1,
        seed: 7,
        ..config(data.path(), two.path())
    })
    .unwrap();
    let other = [
        fs::read(two.path().join("best.safetensors")).unwrap(),
        fs::read(two.path().join("run.json")).unwrap(),
    ];
    run(TrainConfig {
        resume: Some(one.path().join("last.safetensors")),
        ..config(data.path(), two.path())
    })
    .unwrap();
    let previous = two.path().join("previous");
    assert_eq!(
        [
            fs::read(previous.join("best.safetensors")).unwrap(),
            fs::read(previous.join("run.json")).unwrap(),
        ],
        other
    );
    assert_eq!(epoch_of(&two.path().join("last.safetensors")), 2);
    // The checkpoint's own folder is continued, not set aside.
    run(TrainConfig {
        epochs: 3,
        resume: Some(two.path().join("last.safetensors")),
        ..config(data.path(), two.path())
    })
    .unwrap();
    assert_eq!(fs::read(previous.join("run.json")).unwrap(), other[1]);
    assert_eq!(epoch_of(&two.path().join("last.safetensors")), 3);
}

// Round 3, item 3b: a run killed after the move left partial files, which
// the next fresh run moved into previous/, deleting the complete run kept
// there. Now an incomplete run goes to interrupted/, previous/ is left
// alone, and interrupted/last.safetensors resumes (without --out, in the
// folder above). Failed before (by reasoning: any run files went to
// previous/, replacing it).
#[test]
fn an_interrupted_runs_files_go_to_interrupted_and_stay_resumable() {
    use first_mlp::files::{INTERRUPTED, PREVIOUS};
    use first_mlp::training::GivenFlags;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    let one = TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    };
    run(one.clone()).unwrap();
    let complete = fs::read(out.path().join("run.json")).unwrap();
    run(TrainConfig {
        seed: 1,
        ..one.clone()
    })
    .unwrap();
    let kept = fs::read(out.path().join(PREVIOUS).join("best.safetensors")).unwrap();
    assert_eq!(
        fs::read(out.path().join(PREVIOUS).join("run.json")).unwrap(),
        complete
    );
    // The state a run killed after its first epoch leaves: checkpoints
    // without run.json.
    fs::remove_file(out.path().join("run.json")).unwrap();
    let interrupted_last = fs::read(out.path().join("last.safetensors")).unwrap();
    run(TrainConfig {
        seed: 2,
        ..one.clone()
    })
    .unwrap();
    let interrupted = out.path().join(INTERRUPTED);
    assert_eq!(
        fs::read(interrupted.join("last.safetensors")).unwrap(),
        interrupted_last
    );
    assert!(!interrupted.join("run.json").exists());
    assert_eq!(
        fs::read(out.path().join(PREVIOUS).join("best.safetensors")).unwrap(),
        kept,
        "previous/ was touched"
    );
    // Resumable from there; without --out it continues in the folder
    // above, whose (complete) run is set aside in previous/.
    let latest = fs::read(out.path().join("run.json")).unwrap();
    let given: GivenFlags = ["data", "epochs", "resume", "quiet"]
        .map(String::from)
        .into();
    let record = run(TrainConfig {
        data: Some(data.path().to_owned()),
        epochs: 2,
        quiet: true,
        resume: Some(interrupted.join("last.safetensors")),
        given: Some(given),
        ..TrainConfig::default()
    })
    .unwrap();
    assert_eq!(record.config.out, out.path());
    assert_eq!(epoch_of(&out.path().join("last.safetensors")), 2);
    assert_eq!(
        fs::read(out.path().join(PREVIOUS).join("run.json")).unwrap(),
        latest
    );
    assert!(interrupted.join("last.safetensors").exists());
}

// Round 3, items 3c and 3d: an --out inside previous/, interrupted/ or the
// staging folder is refused; a file at <out>/previous is refused (it was
// deleted), and a staging folder that is a symbolic link is not followed
// (files were moved outside the output folder). Failed before (by
// reasoning: no check of the path; `remove_file(previous)`; create_dir_all
// and rename followed the link).
#[test]
fn the_folders_of_kept_runs_are_neither_written_nor_followed() {
    use first_mlp::files::OutputFolderError;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(TrainConfig {
        epochs: 1,
        ..config(data.path(), out.path())
    })
    .unwrap();
    for component in ["previous", "interrupted", ".previous-moving"] {
        let inside = out.path().join(component).join("run");
        let error = run(config(data.path(), &inside)).unwrap_err();
        assert!(
            matches!(
                output_folder_error(&error),
                OutputFolderError::Reserved { component: c, .. } if c == component
            ),
            "{component}: {error:?}"
        );
        assert!(!inside.exists());
    }
    // A symbolic link into a kept folder.
    let link = tempfile::tempdir().unwrap();
    fs::create_dir(out.path().join("previous")).unwrap();
    std::os::unix::fs::symlink(out.path().join("previous"), link.path().join("run")).unwrap();
    let error = run(config(data.path(), &link.path().join("run"))).unwrap_err();
    assert!(
        matches!(
            output_folder_error(&error),
            OutputFolderError::Reserved { .. }
        ),
        "{error:?}"
    );
    fs::remove_dir(out.path().join("previous")).unwrap();
    // A file named previous.
    let file = out.path().join("previous");
    fs::write(&file, b"my notes").unwrap();
    let error = run(config(data.path(), out.path())).unwrap_err();
    assert!(
        matches!(
            output_folder_error(&error),
            OutputFolderError::KeptRunNotAFolder { path, .. } if *path == file
        ),
        "{error:?}"
    );
    assert_eq!(fs::read(&file).unwrap(), b"my notes");
    assert!(out.path().join("run.json").exists());
    fs::remove_file(&file).unwrap();
    // A staging folder that links outside.
    let elsewhere = tempfile::tempdir().unwrap();
    let staging = out.path().join(".previous-moving");
    std::os::unix::fs::symlink(elsewhere.path(), &staging).unwrap();
    let error = run(config(data.path(), out.path())).unwrap_err();
    assert!(
        matches!(
            output_folder_error(&error),
            OutputFolderError::KeptRunNotAFolder { path, .. } if *path == staging
        ),
        "{error:?}"
    );
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(out.path().join("run.json").exists());
}

/// `from` rewritten into `to` with the metadata `key` set to `value`, or
/// removed (None).
fn with_scalar(from: &Path, to: &Path, key: &str, value: Option<&str>) {
    let bytes = fs::read(from).unwrap();
    let n = usize::try_from(u64::from_le_bytes(bytes[..8].try_into().unwrap())).unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let metadata = header["__metadata__"].as_object_mut().unwrap();
    match value {
        Some(value) => metadata.insert(key.to_owned(), value.into()),
        None => metadata.remove(key),
    };
    let mut text = serde_json::to_string(&header).unwrap().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut tampered = (text.len() as u64).to_le_bytes().to_vec();
    tampered.extend(text);
    tampered.extend(&bytes[8 + n..]);
    fs::write(to, tampered).unwrap();
}

// Round 3, items 4 and 6: Adam's step count in a checkpoint is parsed
// strictly (it silently became 0, other weights and exit 0; past i32::MAX it
// wrapped into a negative power), and an epoch is canonical decimal ("02"
// gave a self-contradicting message). Failed before (by reasoning:
// `.parse().ok().unwrap_or(0)`, and `usize::from_str` accepts "02" and "+2").
#[test]
fn step_counts_and_epochs_are_parsed_strictly() {
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    run(config(data.path(), out.path())).unwrap();
    let last = out.path().join("last.safetensors");
    let crafted = out.path().join("crafted.safetensors");
    let max = u64::MAX.to_string();
    for steps in [
        Some(""),
        Some("-1"),
        Some("1.5"),
        Some("+3"),
        Some("03"),
        Some(max.as_str()),
        Some("2147483648"),
        Some("1"),
        None,
    ] {
        with_scalar(&last, &crafted, "optimizer.steps", steps);
        let error = run(TrainConfig {
            epochs: 3,
            resume: Some(crafted.clone()),
            ..config(data.path(), &out.path().join("resumed"))
        })
        .unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::BadOptimizerState { tensor, path, .. })
                    if tensor == "optimizer.steps" && *path == crafted
            ),
            "{steps:?}: {error:?}"
        );
    }
    assert!(!out.path().join("resumed/last.safetensors").exists());
    for epoch in ["02", "+2", " 2", ""] {
        with_scalar(&last, &crafted, "epoch", Some(epoch));
        let error = run(TrainConfig {
            epochs: 3,
            resume: Some(crafted.clone()),
            ..config(data.path(), &out.path().join("resumed"))
        })
        .unwrap_err();
        assert!(
            matches!(
                error.downcast_ref::<CheckpointError>(),
                Some(CheckpointError::BadEpoch { value: Some(v), .. }) if v == epoch
            ),
            "{epoch:?}: {error:?}"
        );
    }
}

// Round 3, item 5: `--epochs 18446744073709551615` trained forever; the
// count is capped. Failed before (by reasoning: only "at least 1" was
// checked).
#[test]
fn the_epoch_count_is_capped() {
    use first_mlp::training::MAX_EPOCHS;
    let data = small_mnist();
    let out = tempfile::tempdir().unwrap();
    for epochs in [MAX_EPOCHS + 1, usize::MAX] {
        let error = run(TrainConfig {
            epochs,
            ..config(data.path(), out.path())
        })
        .unwrap_err();
        assert_eq!(invalid_flag(&error), "--epochs");
        let error = speech_pipeline::run(SpeechConfig {
            epochs,
            ..speech_config(data.path(), out.path())
        })
        .unwrap_err();
        assert_eq!(invalid_flag(&error), "--epochs");
    }
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}
