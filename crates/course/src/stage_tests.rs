//! Running a stage's tests the way a learner needs them: every test binary
//! of the stage (cargo stops at the first failing one otherwise),
//! backtraces off unless asked for, and a count at the end.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// What a stage's tests gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub passed: usize,
    /// The failing tests' names.
    pub failed: Vec<String>,
    /// Whether cargo got as far as running tests (the stage compiled).
    pub ran: bool,
    /// Tests that panicked inside nalgebra rather than in your file or an
    /// assertion: the test's name and the panic's message.
    pub library_panics: Vec<(String, String)>,
    /// A test whose nalgebra panic's message is the next line.
    awaiting_message: Option<String>,
}

impl Outcome {
    pub fn total(&self) -> usize {
        self.passed + self.failed.len()
    }

    /// Counts the `test NAME ... ok` and `... FAILED` lines of libtest's
    /// output, and notes panics raised inside nalgebra.
    pub fn read_line(&mut self, line: &str) {
        if let Some(test) = self.awaiting_message.take() {
            self.library_panics.push((test, line.trim().to_owned()));
            return;
        }
        if let Some(rest) = line.strip_prefix("thread '") {
            let in_nalgebra = line.contains("panicked at") && line.contains("/nalgebra-");
            if let (true, Some((test, _))) = (in_nalgebra, rest.split_once('\'')) {
                self.awaiting_message = Some(test.to_owned());
            }
            return;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            return;
        };
        if rest.ends_with(" ... ok") {
            self.passed += 1;
            self.ran = true;
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            self.failed.push(name.to_owned());
            self.ran = true;
        }
    }
}

/// How much of the run to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// Everything cargo and the tests print, as they print it.
    All,
    /// Nothing: only the outcome.
    Nothing,
}

/// Runs `cargo test -p PACKAGE --no-fail-fast` in the workspace at `root`.
pub fn run(root: &Path, package: &str, show: Show, backtrace: bool) -> Result<Outcome> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["test", "--package", package, "--no-fail-fast"])
        .env("RUST_BACKTRACE", if backtrace { "1" } else { "0" })
        .stdout(Stdio::piped())
        .stderr(match show {
            Show::All => Stdio::inherit(),
            Show::Nothing => Stdio::null(),
        });
    let mut child = command
        .spawn()
        .with_context(|| format!("starting cargo test -p {package}"))?;
    let stdout = child.stdout.take().context("cargo's output")?;
    let mut outcome = Outcome::default();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        if show == Show::All {
            println!("{line}");
        }
        outcome.read_line(&line);
    }
    child.wait().context("waiting for cargo test")?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_and_failing_tests_are_counted_from_libtests_lines() {
        let output = "\nrunning 3 tests\ntest a ... ok\ntest b::c ... FAILED\n\
                      test d ... ignored\ntest e ... ok\n\nfailures:\n\n---- b::c stdout ----\n\
                      test result: FAILED. 2 passed; 1 failed; 1 ignored\n";
        let mut outcome = Outcome::default();
        output.lines().for_each(|l| outcome.read_line(l));
        assert_eq!(
            (outcome.passed, outcome.failed.clone()),
            (2, vec!["b::c".to_owned()])
        );
        assert!(outcome.ran && outcome.library_panics.is_empty());
        assert_eq!(outcome.total(), 3);
    }

    #[test]
    fn a_panic_inside_nalgebra_is_noted_with_its_message() {
        let output = "thread 'linear_forward_by_hand' (77) panicked at \
                      /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/nalgebra-0.33.2/src/base/ops.rs:644:9:\n\
                      Matrix multiplication dimensions mismatch (3, 2) and (3, 2).\n\
                      thread 'other' (78) panicked at exercises/stage-3/layers.rs:26:5:\n\
                      not yet implemented: linear_forward\n";
        let mut outcome = Outcome::default();
        output.lines().for_each(|l| outcome.read_line(l));
        assert_eq!(
            outcome.library_panics,
            [(
                "linear_forward_by_hand".to_owned(),
                "Matrix multiplication dimensions mismatch (3, 2) and (3, 2).".to_owned()
            )]
        );
    }
}
