//! The bench's Rust peers (burn and candle) train on the bundled sample and report what they measured, as
//! the reference's own runners do. No timing is asserted.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist-sample")
}

/// One worker run: its JSON line.
fn worker(runner: &str, seed: u64) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--worker", runner, "--hidden", "32"])
        .args(["--seed", &seed.to_string(), "--data"])
        .arg(sample())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    serde_json::from_str(line).unwrap()
}

#[test]
fn burn_and_candle_train_the_workload() {
    for (runner, name) in [("burn", "burn (ndarray)"), ("candle", "candle")] {
        let m = worker(runner, 0);
        assert_eq!(m["peer"], name, "{m}");
        // One epoch of 39 batches of a 784-32-10 network learns the digits
        // (the reference's runners reach about 81% on it).
        let accuracy = m["test_accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.75, "{runner}: {m}");
        // Softmax cross-entropy over 10 classes starts near ln 10 = 2.30
        // and falls within the epoch.
        let loss = m["epoch_loss"].as_f64().unwrap();
        assert!(loss > 0.05 && loss < 2.3, "{runner}: {m}");
        assert!(m["epoch_s"].as_f64().unwrap() > 0.0, "{m}");
        assert!(m["inference_s"].as_f64().unwrap() > 0.0, "{m}");
        assert!(m["peak_rss_mb"].as_f64().unwrap() > 1.0, "{m}");
    }
}

#[test]
fn candle_is_seeded_here() {
    // candle cannot seed its CPU generator; the peer draws its weights
    // from a seeded generator itself, so a seed gives one result.
    let (a, b) = (worker("candle", 3), worker("candle", 3));
    assert_eq!(a["epoch_loss"], b["epoch_loss"], "{a}\n{b}");
}
