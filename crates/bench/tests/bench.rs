//! The bench works end to end on the bundled sample: every runner
//! trains, the table and the JSON hold what was measured, and a peer that is
//! not installed is skipped with the command that installs it. No timing is
//! asserted: the figures of a shared machine are not a test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist-sample")
}

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bench"))
}

/// The standard output of a run that must have succeeded (else both outputs).
fn succeeded(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn both_rust_runners_train_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = bench()
        .args(["--runners", "rust,teaching", "--rounds", "2"])
        .args(["--hidden", "32", "--data"])
        .arg(sample())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = succeeded(&out);
    assert!(stdout.contains("MLP 784-32-10"), "{stdout}");
    assert!(
        stdout.contains("one epoch of 39 batches over 5000 images"),
        "{stdout}"
    );
    for runner in ["Rust reference (fast path)", "Rust teaching code"] {
        assert_eq!(
            stdout
                .lines()
                .filter(|l| l.contains(runner) && l.starts_with("round"))
                .count(),
            2,
            "two rounds of {runner}:\n{stdout}"
        );
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("| {runner} |"))),
            "{stdout}"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let medians = report["medians"].as_array().unwrap();
    assert_eq!(medians.len(), 2);
    for m in medians {
        // One epoch of 39 batches of a 784-32-10 network learns the digits.
        let accuracy = m["test_accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.75, "{m}");
        assert!(m["epoch_s"].as_f64().unwrap() > 0.0 && m["inference_s"].as_f64().unwrap() > 0.0);
        assert!(m["peak_rss_mb"].as_f64().unwrap() > 1.0, "{m}");
    }
    // The epoch's products, by hand: 39 batches of 128 examples through
    // 784-32-10, forward 784·32 + 32·10, the same for dW, 32·10 for dA.
    let gflop = 2.0 * (39.0 * 128.0) * (2.0 * (784.0 * 32.0 + 320.0) + 320.0) / 1e9;
    let ceiling = &report["ceiling"];
    assert!(
        (ceiling["epoch_gflop"].as_f64().unwrap() - gflop).abs() < 1e-9,
        "{ceiling} (expected {gflop} GFLOP)"
    );
    assert!(
        stdout.contains("Ceiling: the epoch's matrix products are 0.5 GFLOP"),
        "{stdout}"
    );
    // The same seed: both rounds of a runner trained the same network.
    let runs = report["runs"].as_array().unwrap();
    for runs in runs {
        let runs = runs.as_array().unwrap();
        assert_eq!(runs[0]["epoch_loss"], runs[1]["epoch_loss"], "{runs:?}");
        assert_eq!(
            runs[0]["test_accuracy"], runs[1]["test_accuracy"],
            "{runs:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_failing_runner_is_reported_and_the_others_go_on() {
    use std::os::unix::fs::PermissionsExt;
    // A "python" whose imports work but whose every script fails.
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("python");
    std::fs::write(
        &python,
        "#!/bin/sh\nif [ \"$1\" = -c ]; then exit 0; fi\necho 'Traceback: broken install' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = bench()
        .args(["--runners", "rust,numpy", "--hidden", "16", "--rounds", "2"])
        .arg("--python")
        .arg(&python)
        .arg("--data")
        .arg(sample())
        .output()
        .unwrap();
    let stdout = succeeded(&out);
    assert!(stdout.contains("Note: not the full MNIST"), "{stdout}");
    let failures = stdout
        .lines()
        .filter(|l| l.contains("Numpy failed") && l.contains("broken install"))
        .count();
    assert_eq!(failures, 2, "one report per round:\n{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("| Rust reference (fast path) |")),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("| numpy |")),
        "{stdout}"
    );
}

#[test]
fn a_missing_peer_is_skipped_with_its_install_command() {
    let out = bench()
        .args(["--runners", "jax,numpy", "--python", "/nonexistent/python3"])
        .arg("--data")
        .arg(sample())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "nothing to run is an error");
    assert!(
        stdout.contains("skipping Jax") && stdout.contains("skipping Numpy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("/nonexistent/python3 not found"),
        "{stdout}"
    );
    assert!(stderr.contains("no runner to run"), "{stderr}");
}

/// The NumPy peer runs the same workload (where NumPy is installed).
#[test]
fn the_numpy_peer_prints_its_measurement() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let has_numpy = Command::new(&python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_numpy {
        eprintln!("skipped: {python} cannot import numpy (pip install numpy)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/numpy_mlp.py");
    let out = Command::new(&python)
        .arg(script)
        .arg("--data")
        .arg(sample())
        .args(["--hidden", "32"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: serde_json::Value =
        serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(line["peer"], "numpy");
    let accuracy = line["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.75, "{line}");
    assert!(line["epoch_loss"].as_f64().unwrap() < 1.5, "{line}");
}
