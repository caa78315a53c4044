//! `cargo xtask mutants`: cargo-mutants over every reference file of the
//! stages, each against its own stage's tests (`--features reference`).
//! Every mutant the tests miss must be equivalent to the reference, and
//! listed with the reason in `crates/stage-N/tests/equivalent-mutants.txt`;
//! an unlisted survivor fails the run.

use std::fs;

use anyhow::{Context, Result, bail};

use crate::{cargo, root};

/// What cargo-mutants found in one file.
#[derive(Default)]
struct Totals {
    caught: usize,
    missed: Vec<String>,
    unviable: usize,
    timeout: usize,
}

/// Runs the mutants of every stage, or of `only`, and prints the totals per file.
pub fn run(stages: &[String], only: Option<&str>) -> Result<()> {
    let installed = cargo()
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        bail!("cargo-mutants is not installed: `cargo install cargo-mutants --locked`");
    }
    let mut unexplained = Vec::new();
    println!(
        "{:<34} {:>7} {:>7} {:>7} {:>11} {:>9} {:>8}",
        "file", "mutants", "caught", "missed", "equivalent", "unviable", "timeout"
    );
    for stage in stages
        .iter()
        .filter(|s| only.is_none_or(|o| o == s.as_str()))
    {
        let equivalent = listed_equivalents(stage)?;
        let mut files: Vec<String> = fs::read_dir(root().join("solutions").join(stage))
            .with_context(|| format!("reading solutions/{stage}"))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|name| name.ends_with(".rs"))
            .collect();
        files.sort();
        for file in files {
            let totals = mutate(stage, &file)?;
            let explained = totals
                .missed
                .iter()
                .filter(|m| equivalent.contains(*m))
                .count();
            unexplained.extend(
                totals
                    .missed
                    .iter()
                    .filter(|m| !equivalent.contains(*m))
                    .map(|m| format!("solutions/{stage}/{file}: {m}")),
            );
            println!(
                "{:<34} {:>7} {:>7} {:>7} {:>11} {:>9} {:>8}",
                format!("solutions/{stage}/{file}"),
                totals.caught + totals.missed.len() + totals.unviable + totals.timeout,
                totals.caught,
                totals.missed.len(),
                explained,
                totals.unviable,
                totals.timeout
            );
        }
    }
    if !unexplained.is_empty() {
        bail!(
            "{} mutants survive the tests and are not listed as equivalent:\n  {}\n\
             Add a test that catches each, or, if it cannot change any result, list it with \
             the reason in crates/stage-N/tests/equivalent-mutants.txt.",
            unexplained.len(),
            unexplained.join("\n  ")
        );
    }
    Ok(())
}

/// One file's mutants, against its stage's tests on the reference.
fn mutate(stage: &str, file: &str) -> Result<Totals> {
    let output = root()
        .join("target/mutants")
        .join(stage)
        .join(file.trim_end_matches(".rs"));
    fs::create_dir_all(&output)?;
    // The stage crate reaches the file through `#[path]`, so name it the
    // same way; --in-place because the baseline build needs the workspace.
    let status = cargo()
        .args(["mutants", "--in-place", "--no-shuffle", "--package", stage])
        .arg("--file")
        .arg(format!("crates/{stage}/../../solutions/{stage}/{file}"))
        .args(["--features", "reference", "--timeout", "120", "--output"])
        .arg(&output)
        .status()
        .context("running cargo mutants")?;
    // cargo-mutants exits 2 when mutants were missed, 3 on timeouts: both
    // are results to read; anything else is a failure of the run itself.
    if !matches!(status.code(), Some(0..=3)) {
        bail!("cargo mutants on solutions/{stage}/{file} failed: {status}");
    }
    let read = |name: &str| -> Vec<String> {
        fs::read_to_string(output.join("mutants.out").join(name))
            .unwrap_or_default()
            .lines()
            .map(without_location)
            .collect()
    };
    Ok(Totals {
        caught: read("caught.txt").len(),
        missed: read("missed.txt"),
        unviable: read("unviable.txt").len(),
        timeout: read("timeout.txt").len(),
    })
}

/// A mutant as cargo-mutants names it, without its `file:line:column: `,
/// which moves whenever the file is edited.
fn without_location(line: &str) -> String {
    let mut rest = line.trim();
    // file:line:column: description
    for _ in 0..3 {
        if let Some((_, after)) = rest.split_once(':') {
            rest = after;
        }
    }
    rest.trim().to_owned()
}

/// The mutants of `stage` listed as equivalent: each line is a mutant's
/// description, then `#` and why it cannot change any result.
fn listed_equivalents(stage: &str) -> Result<Vec<String>> {
    let path = root()
        .join("crates")
        .join(stage)
        .join("tests/equivalent-mutants.txt");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if !path.exists() => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut listed = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(" # ") {
            Some((mutant, reason)) if !reason.trim().is_empty() => {
                listed.push(mutant.trim().to_owned())
            }
            _ => bail!(
                "{}:{}: each equivalent mutant needs ` # ` and the reason it changes nothing",
                path.display(),
                number + 1
            ),
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutant_is_named_without_where_it_is() {
        assert_eq!(
            without_location(
                "crates/stage-2/../../solutions/stage-2/activations.rs:19:5: replace * with / in sigmoid_derivative"
            ),
            "replace * with / in sigmoid_derivative"
        );
    }
}
