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
}

impl Outcome {
    pub fn total(&self) -> usize {
        self.passed + self.failed.len()
    }

    /// Counts the `test NAME ... ok` and `... FAILED` lines of libtest's output.
    pub fn read_line(&mut self, line: &str) {
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
            outcome,
            Outcome {
                passed: 2,
                failed: vec!["b::c".into()],
                ran: true
            }
        );
        assert_eq!(outcome.total(), 3);
    }
}
