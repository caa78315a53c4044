//! `cargo course`: the learner's command. Where you are in the course, a
//! stage's tests (all of them, without backtraces), the next hint when you
//! ask for it, and a watch mode that reruns the tests on every save.

mod hints;
mod progress;
mod stage_tests;
mod stages;

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer, notify::RecursiveMode};

use progress::Progress;
use stage_tests::{Outcome, Show};
use stages::Stage;

#[derive(Parser)]
#[command(about = "Your way through First MLP: progress, tests, hints, watch mode")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Each stage: not started, k of n tests passing, or done; and what to do next (the default).
    Status,
    /// Run every test of a stage (not stopping at the first failing file), backtraces off.
    Test {
        stage: u8,
        /// Show a backtrace with each panic.
        #[arg(long)]
        backtrace: bool,
    },
    /// The next hint about an exercise of a stage; without ITEM, what there are hints about.
    Hint {
        stage: u8,
        /// An exercise or a symptom, as the list names it (a part of the name will do).
        item: Option<String>,
        /// Show every level at once.
        #[arg(long)]
        all: bool,
    },
    /// Rerun a stage's tests each time you save a file in exercises/.
    Watch {
        stage: u8,
        #[arg(long)]
        backtrace: bool,
    },
}

fn main() -> std::process::ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Status);
    match run(command) {
        Ok(Finished::Fine) => std::process::ExitCode::SUCCESS,
        // The summary has said which tests fail; the status says so too,
        // for scripts and `&&`.
        Ok(Finished::TestsFail) => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How a command that did its job ended.
enum Finished {
    Fine,
    /// `test` ran the stage's tests, and some fail (or it did not compile).
    TestsFail,
}

fn run(command: Command) -> Result<Finished> {
    let root = workspace_root();
    let stages = stages::read(&root)?;
    let done = |result: Result<()>| result.map(|()| Finished::Fine);
    match command {
        Command::Status => done(status(&root, &stages)),
        Command::Test { stage, backtrace } => {
            let outcome = test(&root, find(&stages, stage)?, backtrace)?;
            Ok(if outcome.ran && outcome.failed.is_empty() {
                Finished::Fine
            } else {
                Finished::TestsFail
            })
        }
        Command::Hint { stage, item, all } => done(hint(&root, find(&stages, stage)?, item, all)),
        Command::Watch { stage, backtrace } => done(watch(&root, find(&stages, stage)?, backtrace)),
    }
}

/// The workspace this command belongs to (it lives in `crates/course`).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .to_path_buf()
}

fn find(stages: &[Stage], number: u8) -> Result<&Stage> {
    stages.iter().find(|s| s.number == number).with_context(|| {
        format!(
            "there is no stage {number}; the stages are 1 to {}",
            stages.len()
        )
    })
}

/// Where a stage stands.
fn describe(outcome: &Outcome) -> String {
    match (outcome.ran, outcome.passed, outcome.failed.len()) {
        (false, _, _) => "does not compile, or has no tests yet".to_owned(),
        (true, 0, _) => format!("not started (0 of {} tests pass)", outcome.total()),
        (true, passed, 0) => format!("done ({passed} tests pass)"),
        (true, passed, _) => format!("{passed} of {} tests pass", outcome.total()),
    }
}

fn done(outcome: &Outcome) -> bool {
    outcome.ran && outcome.failed.is_empty()
}

fn status(root: &Path, stages: &[Stage]) -> Result<()> {
    println!("Running each stage's tests (the first time, each stage compiles first)...\n");
    let mut next: Option<&Stage> = None;
    for stage in stages {
        let outcome = stage_tests::run(root, &stage.package(), Show::Nothing, false)?;
        println!(
            "  stage {} ({}): {}",
            stage.number,
            stage.title,
            describe(&outcome)
        );
        if next.is_none() && !done(&outcome) {
            next = Some(stage);
        }
    }
    match next {
        Some(stage) => println!(
            "\nNext: stage {n}, {title}. Read {chapter}, edit exercises/stage-{n}/, and run\n  \
             cargo course watch {n}     (reruns the tests on every save)\n  \
             cargo course hint {n}      (when you want a hint)",
            n = stage.number,
            title = stage.title,
            chapter = stage.chapter.display()
        ),
        None => println!(
            "\nEvery stage is done. Train your own network on MNIST:\n  \
             cargo run --release -p first-mlp -- train --yours"
        ),
    }
    Ok(())
}

/// Runs the stage's tests, showing everything, then a count and the failing tests.
fn test(root: &Path, stage: &Stage, backtrace: bool) -> Result<Outcome> {
    let outcome = stage_tests::run(root, &stage.package(), Show::All, backtrace)?;
    println!("\nStage {}: {}", stage.number, describe(&outcome));
    if !outcome.failed.is_empty() {
        println!("Failing:");
        for name in &outcome.failed {
            println!("  {name}");
        }
        for (test, message) in &outcome.library_panics {
            println!(
                "\n{test} panicked inside nalgebra: {message}\nThe shapes of a product, a sum or \
                 a view in your code do not fit. Print them (`.shape()`) just before the line, or \
                 rerun with `cargo course test {} --backtrace` and look for the first line in \
                 exercises/: that is the call.",
                stage.number
            );
        }
        println!(
            "Stuck? `cargo course hint {}` lists what there are hints about.",
            stage.number
        );
    }
    Ok(outcome)
}

fn hint(root: &Path, stage: &Stage, item: Option<String>, all: bool) -> Result<()> {
    let items = hints::read(&root.join(stage.hints()))?;
    let mut progress = Progress::load(root)?;
    let Some(query) = item else {
        println!(
            "Hints for stage {n} ({}). Ask for the next level of one with `cargo course hint {n} \
             ITEM`, where ITEM is a word of its name (`cargo course hint {n} {example}`) or the \
             whole name in quotes:\n",
            stage.title,
            n = stage.number,
            example = items
                .first()
                .and_then(|i| i.name.split_whitespace().next())
                .unwrap_or("ITEM")
                .to_lowercase(),
        );
        for item in &items {
            let seen = progress.seen(stage.number, &item.name);
            println!("  {}  ({seen} of {} seen)", item.name, item.levels.len());
        }
        return Ok(());
    };
    let item = hints::find(&items, &query)?;
    let levels = item.levels.len();
    let seen = progress.seen(stage.number, &item.name);
    // The next level; once all are seen, the last again.
    let upto = if all { levels } else { (seen + 1).min(levels) };
    let from = if all { 0 } else { upto - 1 };
    for (index, level) in item.levels.iter().enumerate().take(upto).skip(from) {
        println!(
            "{} — {} ({} of {levels})\n\n{}\n",
            item.name,
            level.summary,
            index + 1,
            level.text
        );
    }
    if upto < levels {
        println!("(Run it again for hint {} of {levels}.)", upto + 1);
    }
    progress.set_seen(stage.number, &item.name, upto.max(seen))
}

/// The contents of every Rust file under `dir`, hashed.
fn fingerprint(dir: &Path) -> u64 {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for path in files {
        path.hash(&mut hasher);
        fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn watch(root: &Path, stage: &Stage, backtrace: bool) -> Result<()> {
    let exercises = root.join("exercises");
    if !exercises.is_dir() {
        bail!("{} is missing", exercises.display());
    }
    let (sender, receiver) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer =
        new_debouncer(Duration::from_millis(300), sender).context("starting to watch files")?;
    debouncer
        .watcher()
        .watch(&exercises, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", exercises.display()))?;
    loop {
        let outcome = test(root, stage, backtrace)?;
        if done(&outcome) {
            println!(
                "\nStage {} is done. Compare with the solution page of its chapter, then go on to the next stage.",
                stage.number
            );
        }
        println!("\nWatching exercises/ for changes (Ctrl-C to stop)...");
        // Wait until a Rust file's contents change: compiling reads the
        // files, and reading is an event too.
        let before = fingerprint(&exercises);
        loop {
            if let Err(error) = receiver.recv().context("the file watcher stopped")? {
                bail!("watching {}: {error}", exercises.display());
            }
            std::thread::sleep(Duration::from_millis(200));
            while receiver.try_recv().is_ok() {}
            if fingerprint(&exercises) != before {
                break;
            }
        }
        println!("\n{}\n", "=".repeat(72));
    }
}
