//! The speech pipeline end to end: a small folder in the real HW1P2 layout
//! (built here), the bundled corpus, predict --wav, and clear errors.

use std::fs;
use std::path::Path;

mod common;

use common::reference_as_yours;
use first_mlp::speech_pipeline::{SWITCH_PENALTY, SpeechConfig, predict_wav, run, run_with};
use nalgebra::DMatrix;
use speech::hw1p2::{LayoutError, Precision, write_utterance};

/// A small, quiet run of 3 epochs on `data` into `out`, without dropout
/// (which a run of yours only takes when asked).
fn config(data: &Path, out: &Path) -> SpeechConfig {
    SpeechConfig {
        quiet: true,
        data: data.to_owned(),
        out: out.to_owned(),
        hidden: vec![16],
        epochs: 3,
        dropout: 0.0,
        ..SpeechConfig::default()
    }
}

/// Three splits of two utterances; each frame's coefficients encode its
/// phoneme (AA, IY or [SIL]) plus a little noise, so it can be learned.
fn tiny_layout(dir: &Path) {
    let classes = ["[SIL]", "AA", "IY"];
    for (split, seed) in [
        ("train-clean-100", 1u32),
        ("dev-clean", 2),
        ("test-clean", 3),
    ] {
        for utterance in 0..2 {
            let frames = 30;
            let labels: Vec<&str> = (0..frames)
                .map(|t| classes[(t / 10 + utterance) % 3])
                .collect();
            let m = DMatrix::from_fn(frames, 4, |t, c| {
                let class = classes.iter().position(|&k| k == labels[t]).unwrap();
                let noise = ((t * 7 + c * 13 + seed as usize * 17) % 11) as f32 / 50.0;
                if c == class { 1.0 + noise } else { noise }
            });
            write_utterance(
                &dir.join(split),
                &format!("u{utterance}.npy"),
                &m,
                Some(&labels),
                Precision::Half,
            )
            .unwrap();
        }
    }
}

#[test]
fn a_small_hw1p2_folder_is_read_unchanged_and_learned() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    tiny_layout(data.path());
    let record = run(SpeechConfig {
        context: 2,
        epochs: 30,
        lr: 0.01,
        batch_size: 8,
        ..config(data.path(), out.path())
    })
    .expect("a run");
    assert!(
        record.dev_accuracy > 0.9,
        "dev frame accuracy {}",
        record.dev_accuracy
    );
    assert!(
        record.test_accuracy.unwrap() > 0.9,
        "test frame accuracy {:?}",
        record.test_accuracy
    );
    let csv = fs::read_to_string(out.path().join("submission.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,label");
    assert_eq!(lines.len(), 1 + 60, "one line per test frame");
    assert!(lines[1].starts_with("0,"), "{}", lines[1]);
    for name in [
        "best.safetensors",
        "confusion.svg",
        "curves.svg",
        "run.json",
    ] {
        assert!(out.path().join(name).is_file(), "{name} missing");
    }
}

#[test]
fn a_test_split_without_transcripts_still_gets_a_submission() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    tiny_layout(data.path());
    fs::remove_dir_all(data.path().join("test-clean/transcript")).unwrap();
    let record = run(config(data.path(), out.path())).expect("a run");
    assert_eq!(record.test_accuracy, None);
    assert_eq!(
        fs::read_to_string(out.path().join("submission.csv"))
            .unwrap()
            .lines()
            .count(),
        61
    );
}

#[test]
fn bad_layouts_say_what_is_wrong() {
    let (data, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    tiny_layout(data.path());
    // A transcript one phoneme short.
    write_utterance(
        &data.path().join("dev-clean"),
        "u1.npy",
        &DMatrix::zeros(30, 4),
        Some(&["AA"; 29]),
        Precision::Single,
    )
    .unwrap();
    let e = format!("{:#}", run(config(data.path(), out.path())).unwrap_err());
    assert!(
        e.contains("dev-clean") && e.contains("expected 30 phonemes"),
        "{e}"
    );
    // A corpus that is not there: neither a folder nor an archive.
    let missing = data.path().join("missing");
    let e = run(config(&missing, out.path())).unwrap_err();
    match e.chain().find_map(|c| c.downcast_ref::<LayoutError>()) {
        Some(LayoutError::Io { path, source }) => {
            assert_eq!(*path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!(
            "expected an Io error on {}, got {other:?}",
            missing.display()
        ),
    }
}

#[test]
fn the_bundled_corpus_trains_and_predict_wav_labels_any_wav_file() {
    let out = tempfile::tempdir().unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/speech-corpus");
    let record = run(SpeechConfig {
        epochs: 4,
        context: 3,
        batch_size: 128,
        lr: 0.003,
        ..config(&corpus.join("splits.tar.xz"), out.path())
    })
    .expect("the bundled corpus");
    assert!(
        record.dev_accuracy > 0.3,
        "dev frame accuracy after 2 epochs: {}",
        record.dev_accuracy
    );
    // Every split with transcripts is decoded too.
    for (split, decoded) in [
        ("dev-clean", record.decoded.dev),
        ("test-clean", record.decoded.test),
        ("test-other", record.decoded.other),
    ] {
        let decoded = decoded.unwrap_or_else(|| panic!("{split} not decoded"));
        assert!((0.3..=1.0).contains(&decoded), "{split}: {decoded}");
    }
    // And measured after VTLN, frame by frame and decoded.
    for (split, frames, decoded) in [
        ("dev-clean", record.vtln.frames.dev, record.vtln.decoded.dev),
        (
            "test-clean",
            record.vtln.frames.test,
            record.vtln.decoded.test,
        ),
        (
            "test-other",
            record.vtln.frames.other,
            record.vtln.decoded.other,
        ),
    ] {
        for accuracy in [frames, decoded] {
            let accuracy = accuracy.unwrap_or_else(|| panic!("{split} not measured after VTLN"));
            assert!((0.3..=1.0).contains(&accuracy), "{split}: {accuracy}");
        }
    }

    // A second of a 440 Hz tone at 16 kHz, 16-bit.
    let wav = out.path().join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for t in 0..16_000 {
        let v = (2.0 * std::f32::consts::PI * 440.0 * t as f32 / 16_000.0).sin();
        writer.write_sample((v * 10_000.0) as i16).unwrap();
    }
    writer.finalize().unwrap();
    let csv = out.path().join("tone.csv");
    predict_wav(
        &out.path().join("best.safetensors"),
        &wav,
        Some(&csv),
        SWITCH_PENALTY,
        true,
    )
    .expect("predicting a WAV");
    let text = fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text.lines().count(),
        1 + 98,
        "one line per 10 ms frame of a 1 s file"
    );

    // A 44.1 kHz stereo recording: the bundled example (16 kHz mono)
    // resampled to 44.1 kHz, on two channels that differ (left 0.8, right
    // 1.2 of it), in 24-bit integers. Labelled like the original.
    let model = out.path().join("best.safetensors");
    let original = corpus.join("example/us1-000.wav");
    let samples = speech::mfcc::read_wav(&original, 16_000).unwrap();
    let high = speech::resample::resample(&samples, 16_000, 44_100).unwrap();
    let stereo = out.path().join("stereo-44k.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&stereo, spec).unwrap();
    let full_scale = f32::from(1u16 << 15) * 256.0;
    for v in &high {
        for gain in [0.8, 1.2] {
            writer
                .write_sample((v * gain * full_scale).round() as i32)
                .unwrap();
        }
    }
    writer.finalize().unwrap();
    let labels = |csv: &str| -> Vec<String> {
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("id,label"));
        lines
            .enumerate()
            .map(|(i, line)| {
                let (id, label) = line.split_once(',').expect("id,label");
                assert_eq!(id, i.to_string());
                assert!(speech::hw1p2::PHONEMES.contains(&label), "{label}");
                label.to_owned()
            })
            .collect()
    };
    let original_csv = out.path().join("original.csv");
    predict_wav(
        &model,
        &original,
        Some(&original_csv),
        SWITCH_PENALTY,
        false,
    )
    .expect("the 16 kHz original");
    let expected = labels(&fs::read_to_string(&original_csv).unwrap());
    // Decoding only removes changes of phoneme: it never adds one to the
    // frames' own classes (penalty 0), since each change costs.
    let frame_by_frame = out.path().join("frame-by-frame.csv");
    predict_wav(&model, &original, Some(&frame_by_frame), 0.0, false).expect("penalty 0");
    let changes = |labels: &[String]| labels.windows(2).filter(|w| w[0] != w[1]).count();
    let own = labels(&fs::read_to_string(&frame_by_frame).unwrap());
    assert_eq!(own.len(), expected.len());
    assert!(
        changes(&expected) < changes(&own),
        "{} changes decoded, {} frame by frame",
        changes(&expected),
        changes(&own)
    );
    // After VTLN, every frame is still labelled once.
    let normalised = out.path().join("vtln.csv");
    predict_wav(&model, &original, Some(&normalised), SWITCH_PENALTY, true).expect("VTLN");
    assert_eq!(
        labels(&fs::read_to_string(&normalised).unwrap()).len(),
        expected.len()
    );
    // The command line, with the CSV on standard output.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_first-mlp"))
        .args(["predict", "--model"])
        .arg(&model)
        .arg("--wav")
        .arg(&stereo)
        .arg("--no-vtln")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got = labels(&String::from_utf8(output.stdout).unwrap());
    // 16 kHz → 44.1 kHz → 16 kHz gives back the length, up to a sample.
    let frames = speech::mfcc::frame_count(samples.len(), &Default::default());
    assert_eq!(expected.len(), frames);
    assert!(got.len().abs_diff(frames) <= 1, "{} frames", got.len());
    let same = expected.iter().zip(&got).filter(|(a, b)| a == b).count();
    assert!(
        same as f64 >= 0.9 * frames as f64,
        "{same} of {frames} frames labelled alike"
    );
}

#[test]
fn resuming_gives_the_same_model_as_training_straight_through() {
    let data = tempfile::tempdir().unwrap();
    tiny_layout(data.path());
    let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(SpeechConfig {
        epochs: 3,
        batch_size: 16,
        ..config(data.path(), straight.path())
    })
    .unwrap();
    run(SpeechConfig {
        epochs: 1,
        batch_size: 16,
        ..config(data.path(), split.path())
    })
    .unwrap();
    let resumed = split.path().join("resumed");
    let record = run(SpeechConfig {
        epochs: 3,
        resume: Some(split.path().join("last.safetensors")),
        ..config(data.path(), &resumed)
    })
    .unwrap();
    assert_eq!(
        record.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let tensors = common::checkpoint_tensors;
    assert!(
        tensors(&straight.path().join("last.safetensors"))
            == tensors(&resumed.join("last.safetensors")),
        "1 epoch + resume to 3 differs from 3 epochs"
    );
}

#[test]
fn your_code_trains_a_speech_model_and_is_compared_with_the_reference() {
    let data = tempfile::tempdir().unwrap();
    tiny_layout(data.path());
    let out = tempfile::tempdir().unwrap();
    let record = run_with(
        SpeechConfig {
            yours: true,
            batch_size: 16,
            ..config(data.path(), out.path())
        },
        reference_as_yours(),
    )
    .unwrap();
    let comparison = record.comparison.expect("a run of yours is compared");
    assert!(comparison.identical, "{comparison:?}");
    assert!(comparison.steps_compared > 0);
    for file in [
        "submission.csv",
        "curves.svg",
        "confusion.svg",
        "reference/run.json",
    ] {
        assert!(out.path().join(file).exists(), "{file}");
    }
    let submission = fs::read_to_string(out.path().join("submission.csv")).unwrap();
    // A run of yours trains without the default's warps.
    let reference = run(SpeechConfig {
        batch_size: 16,
        vtlp: 0.0,
        ..config(data.path(), &out.path().join("by-the-reference"))
    })
    .unwrap();
    assert_eq!(record.test_accuracy, reference.test_accuracy);
    assert_eq!(
        submission,
        fs::read_to_string(out.path().join("by-the-reference/submission.csv")).unwrap()
    );
}

#[test]
fn a_run_of_yours_trains_without_dropout_or_warps_unless_asked() {
    let data = tempfile::tempdir().unwrap();
    tiny_layout(data.path());
    let out = tempfile::tempdir().unwrap();
    let yours = |dropout: f32, vtlp: f32, out: &Path| {
        run_with(
            SpeechConfig {
                yours: true,
                no_compare: true,
                dropout,
                vtlp,
                ..config(data.path(), out)
            },
            reference_as_yours(),
        )
        .unwrap()
        .config
    };
    // Regularisation is stage 7's: the defaults' dropout and warps are
    // dropped for a run of stages 2 to 6.
    let defaults = SpeechConfig::default();
    assert!(defaults.dropout > 0.0 && defaults.vtlp > 0.0);
    let by_default = yours(defaults.dropout, defaults.vtlp, &out.path().join("a"));
    assert_eq!((by_default.dropout, by_default.vtlp), (0.0, 0.0));
    let asked = yours(0.25, 0.2, &out.path().join("b"));
    assert_eq!((asked.dropout, asked.vtlp), (0.25, 0.2));
}

#[test]
fn vtlp_warps_the_training_frames_each_epoch_and_the_same_way_each_run() {
    let data = tempfile::tempdir().unwrap();
    tiny_layout(data.path());
    let out = tempfile::tempdir().unwrap();
    let losses = |vtlp: f32, name: &str| -> Vec<f32> {
        let record = run(SpeechConfig {
            vtlp,
            batch_size: 16,
            ..config(data.path(), &out.path().join(name))
        })
        .unwrap();
        assert_eq!(record.config.vtlp, vtlp);
        record.epochs.iter().map(|e| e.train_loss).collect()
    };
    let plain = losses(0.0, "plain");
    let warped = losses(0.3, "warped");
    assert_eq!(
        warped,
        losses(0.3, "again"),
        "the same seed, the same warps"
    );
    // Epoch 1 already trains on warped frames (the draws start before it).
    assert_ne!(plain[0], warped[0], "--vtlp 0.3 trained on unwarped frames");
}
