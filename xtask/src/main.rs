//! `cargo xtask`: the course's own checks.
//!
//! - `cargo xtask test`: the whole test suite on the reference (the bench's
//!   among them), then `check`, then the book build when mdbook is
//!   installed, then the browser check when Chromium and the check's npm
//!   packages are (both required under CI).
//! - `cargo xtask check`: proves the course is sound, in the spirit of
//!   rustlings' check of its own exercises: every stage passes on the
//!   reference; every untouched exercise compiles and fails, every one of its
//!   tests fails, and the failures name the exercise file; every exercise has
//!   a `// TODO`; rustfmt and `clippy -D warnings` are clean.
//! - `cargo xtask book`: `mdbook build book`, failing on any warning.
//! - `cargo xtask browser`: builds the book, then opens every page in
//!   headless Chromium (`book/browser/check.mjs`): screenshots in
//!   `target/book-screenshots/`, and a failure for anything a reader would
//!   see wrong.
//! - `cargo xtask mutants [STAGE]`: cargo-mutants over the reference files,
//!   against each stage's tests; every survivor must be listed as equivalent.

mod mutants;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "First MLP's course checks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every test on the reference, then the course check, then the book
    /// build and the browser check.
    Test,
    /// Prove the course is sound (see the crate docs).
    Check,
    /// Build the book with mdbook, failing on any warning.
    Book,
    /// Build the book, open every page in headless Chromium, take
    /// screenshots, and fail on what a reader would see wrong.
    Browser,
    /// Mutate every reference file with cargo-mutants and run its stage's
    /// tests; print the totals per file; fail on an unlisted survivor.
    Mutants {
        /// Only this stage, such as `stage-2`.
        stage: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Test => test(),
        Task::Check => check(),
        Task::Book => book(true),
        Task::Browser => book(true).and_then(|()| browser(true)),
        Task::Mutants { stage } => stages().and_then(|all| mutants::run(&all, stage.as_deref())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

/// The stages, from the folders `exercises/stage-N`, in order.
fn stages() -> Result<Vec<String>> {
    let mut stages: Vec<(u32, String)> = fs::read_dir(root().join("exercises"))
        .context("reading exercises/")?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let n = name.strip_prefix("stage-")?.parse().ok()?;
            Some((n, name))
        })
        .collect();
    stages.sort();
    Ok(stages.into_iter().map(|(_, name)| name).collect())
}

fn reference_features() -> Result<String> {
    Ok(stages()?
        .iter()
        .map(|s| format!("{s}/reference"))
        .collect::<Vec<_>>()
        .join(","))
}

/// The `bench` feature of every stage crate that has benchmarks.
fn bench_features() -> Result<String> {
    let mut with_benches = Vec::new();
    for stage in stages()? {
        let manifest = root().join("crates").join(&stage).join("Cargo.toml");
        let text = fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        if text.lines().any(|line| line.starts_with("bench = [")) {
            with_benches.push(format!("{stage}/bench"));
        }
    }
    Ok(with_benches.join(","))
}

/// Runs a command, showing it, and fails if it fails.
fn run(what: &str, command: &mut Command) -> Result<()> {
    println!("\n==> {what}: {}", describe(command));
    let status = command
        .status()
        .with_context(|| format!("starting {}", describe(command)))?;
    if !status.success() {
        bail!("{what} failed: {}", describe(command));
    }
    Ok(())
}

/// Runs a command and captures its output, whatever its exit status.
fn capture(command: &mut Command) -> Result<Output> {
    command
        .output()
        .with_context(|| format!("starting {}", describe(command)))
}

fn describe(command: &Command) -> String {
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().to_string())
        .collect();
    let program = Path::new(command.get_program())
        .file_name()
        .map_or_else(String::new, |p| p.to_string_lossy().to_string());
    format!("{program} {}", args.join(" "))
}

fn test() -> Result<()> {
    let features = reference_features()?;
    run(
        "every test, on the reference",
        cargo().args(["test", "--workspace", "--features", &features]),
    )?;
    check()?;
    book(false)?;
    browser(false)
}

fn check() -> Result<()> {
    let stages = stages()?;
    let features = reference_features()?;
    let mut problems = Vec::new();

    run("rustfmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    // `cargo fmt` follows `#[path]` modules, but check every course file
    // directly too, so none can slip through a `cfg`.
    let mut course_files = Vec::new();
    for dir in ["exercises", "solutions"] {
        collect_rust_files(&root().join(dir), &mut course_files)?;
    }
    let mut rustfmt = Command::new("rustfmt");
    rustfmt
        .current_dir(root())
        .args(["--check", "--edition", "2024"])
        .args(&course_files);
    run("rustfmt on exercises/ and solutions/", &mut rustfmt)?;

    // The stages' criterion benchmarks build only with their `bench` feature.
    let benches = bench_features()?;
    run(
        "clippy on the learner build",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            &benches,
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "clippy on the reference build",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--features",
            &format!("{features},{benches}"),
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    println!();
    let mut table = Vec::new();
    for stage in &stages {
        let (line, mut found) = check_stage(stage)?;
        table.push(line);
        problems.append(&mut found);
    }
    table.push(check_yours(&mut problems)?);
    println!("\nCourse check:");
    for line in &table {
        println!("  {line}");
    }
    if problems.is_empty() {
        println!("\nThe course is sound.");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("  problem: {p}");
        }
        bail!("{} problem(s) in the course", problems.len())
    }
}

/// A stage's line in the summary, and its problems.
fn check_stage(stage: &str) -> Result<(String, Vec<String>)> {
    let mut problems = Vec::new();

    println!("==> {stage}: the tests on the reference");
    let reference = capture(cargo().args(["test", "-p", stage, "--features", "reference"]))?;
    let passed = results(&reference, "ok");
    if !reference.status.success() {
        print_output(&reference);
        problems.push(format!("{stage}: tests fail on the reference"));
    }
    if passed.is_empty() {
        problems.push(format!("{stage}: no tests ran on the reference"));
    }

    let pristine = is_pristine(&format!("exercises/{stage}"))?;
    if !pristine {
        let line = format!(
            "{stage}: {} tests pass on the reference; exercises/{stage} is edited, so the untouched-stub check is skipped",
            passed.len()
        );
        return Ok((line, problems));
    }

    let mut files = Vec::new();
    collect_rust_files(&root().join("exercises").join(stage), &mut files)?;
    for file in &files {
        if !fs::read_to_string(file)?.contains("// TODO") {
            problems.push(format!("{} has no `// TODO`", rel(file)));
        }
    }

    println!("==> {stage}: the untouched exercise must compile and fail");
    let build = capture(cargo().args(["test", "-p", stage, "--no-run"]))?;
    if !build.status.success() {
        print_output(&build);
        problems.push(format!("{stage}: the untouched exercise does not compile"));
        return Ok((format!("{stage}: does not compile untouched"), problems));
    }
    let learner = capture(cargo().args(["test", "-p", stage, "--no-fail-fast"]))?;
    let failed = results(&learner, "FAILED");
    let vacuous = results(&learner, "ok");
    if learner.status.success() {
        problems.push(format!("{stage}: the untouched exercise passes its tests"));
    }
    for name in &vacuous {
        problems.push(format!(
            "{stage}: test `{name}` passes on the untouched stub, so it cannot catch a missing implementation"
        ));
    }
    let text = String::from_utf8_lossy(&learner.stderr).to_string()
        + &String::from_utf8_lossy(&learner.stdout);
    let pointer = format!("exercises/{stage}/");
    if !text.contains(&pointer) {
        problems.push(format!(
            "{stage}: the failures never name a file under {pointer}"
        ));
    }
    let line = format!(
        "{stage}: {} tests pass on the reference; untouched, {} fail and {} pass",
        passed.len(),
        failed.len(),
        vacuous.len()
    );
    Ok((line, problems))
}

/// Names of the tests whose result line ends in `outcome` ("ok", "FAILED").
/// With every exercise untouched, training on the learner's code must stop
/// with the status that means "a stage is unfinished", not run or crash.
fn check_yours(problems: &mut Vec<String>) -> Result<String> {
    if !is_pristine("exercises")? {
        return Ok(
            "--yours: exercises/ is edited, so the unfinished-stage check is skipped".into(),
        );
    }
    println!(
        "==> --yours: training on the untouched exercises must stop at the first unfinished stage"
    );
    let out = std::env::temp_dir().join(format!("first-mlp-yours-check-{}", std::process::id()));
    let output = capture(
        cargo()
            .args(["run", "-q", "-p", "first-mlp", "--", "train", "--yours"])
            .args(["--quiet", "--epochs", "1", "--out"])
            .arg(&out),
    )?;
    let _ = fs::remove_dir_all(&out);
    // first-mlp's exit status for an unfinished stage.
    const UNFINISHED_STAGE: i32 = 3;
    // Every stage is a stub, so the lowest unfinished one is stage 2, though
    // the pipeline would meet stage 3's weights and stage 5's loop first.
    let names_stage_2 = String::from_utf8_lossy(&output.stderr).contains("your stage 2 ");
    if output.status.code() == Some(UNFINISHED_STAGE) && names_stage_2 {
        Ok(
            "--yours: on the untouched exercises, training stops and names stage 2, the lowest unfinished"
                .into(),
        )
    } else {
        print_output(&output);
        problems.push(format!(
            "--yours on the untouched exercises exited with {:?} (expected {UNFINISHED_STAGE}, a stage is unfinished), naming stage 2: {names_stage_2}",
            output.status.code()
        ));
        Ok("--yours: does not stop at an unfinished stage".into())
    }
}

fn results(output: &Output, outcome: &str) -> Vec<String> {
    let suffix = format!(" ... {outcome}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(&suffix))
        .map(str::to_owned)
        .collect()
}

fn print_output(output: &Output) {
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
}

/// True when git says nothing under `path` differs from HEAD. Without git
/// (an unpacked archive, say) the files are taken as they are.
fn is_pristine(path: &str) -> Result<bool> {
    let status = Command::new("git")
        .current_dir(root())
        .args(["status", "--porcelain", "--", path])
        .output();
    match status {
        Ok(out) if out.status.success() => Ok(out.stdout.is_empty()),
        _ => Ok(true),
    }
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Builds the book. Any warning or error fails it. Without mdbook the build
/// is skipped with a note, unless `required`.
fn book(required: bool) -> Result<()> {
    let mut mdbook = Command::new("mdbook");
    mdbook.current_dir(root()).args(["build", "book"]);
    println!("\n==> the book: mdbook build book");
    let output = match mdbook.output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            println!(
                "skipped: mdbook is not installed (`cargo install mdbook@0.5.3 mdbook-katex@0.10.0 --locked`)"
            );
            return Ok(());
        }
        Err(e) => return Err(e).context("starting mdbook"),
    };
    let log = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    print!("{log}");
    if !output.status.success() {
        bail!("mdbook build failed");
    }
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    if !warnings.is_empty() {
        bail!("mdbook build gave {} warning(s)", warnings.len());
    }
    println!("book built in book/book/index.html");
    Ok(())
}

/// Opens the built book in headless Chromium (`book/browser/check.mjs`).
/// Without Node.js, Chromium or the check's npm packages it is skipped with
/// a note, unless `required` or under CI, where `.ci/run` installs them.
fn browser(required: bool) -> Result<()> {
    let required = required || std::env::var_os("CI").is_some();
    let dir = root().join("book/browser");
    let chromium = std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into());
    let missing = if !Path::new(&chromium).exists() {
        Some(format!(
            "Chromium is not at {} (`apt-get install chromium`, or set CHROMIUM)",
            Path::new(&chromium).display()
        ))
    } else if !dir.join("node_modules/playwright-core").is_dir() {
        Some("the check's npm packages are not installed (`npm ci --prefix book/browser`)".into())
    } else {
        None
    };
    if let Some(missing) = missing {
        if required {
            bail!("{missing}");
        }
        println!("\n==> the book in a browser\nskipped: {missing}");
        return Ok(());
    }
    let mut node = Command::new("node");
    node.current_dir(root()).arg(dir.join("check.mjs"));
    run("the browser check", &mut node)
}
