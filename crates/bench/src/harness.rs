//! The bench itself: every runner in its own process, in interleaved
//! rounds (the order rotated each round), then a table of medians, their
//! ratios to the fastest peer, and the machine's ceiling. Each process
//! prints one JSON line: this binary with `--worker` for the Rust runners,
//! the scripts in `peers/` for the Python ones.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::ceiling;
use crate::runners::{Runner, run_in_process};
use crate::workload::{BATCH, Measurement, median, widths};

/// What to run: the bench's command-line options.
#[derive(Args, Clone, Debug)]
pub struct BenchConfig {
    /// A folder with the four MNIST IDX files (default: the download cache
    /// if it holds the full set, else the bundled sample).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How many interleaved rounds.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Which runners (the Python peers are skipped when not installed).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rust,rust-dense,teaching,numpy,jax,torch,burn,candle"
    )]
    pub runners: Vec<Runner>,
    /// The hidden widths: 512,256 is the benchmark's network, 256 the stage-5 default.
    #[arg(long, value_delimiter = ',', default_values_t = [512, 256])]
    pub hidden: Vec<usize>,
    /// The Python interpreter for the peers.
    #[arg(long, default_value = "python3")]
    pub python: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run one Rust runner once and print its JSON line (what each round
    /// does in a child process).
    #[arg(long, hide = true)]
    pub worker: Option<Runner>,
    /// Also write every measurement and the medians here, as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            data: None,
            rounds: 5,
            runners: vec![
                Runner::Rust,
                Runner::RustDense,
                Runner::Teaching,
                Runner::Numpy,
                Runner::Jax,
                Runner::Torch,
                Runner::Burn,
                Runner::Candle,
            ],
            hidden: vec![512, 256],
            python: "python3".into(),
            seed: 0,
            worker: None,
            json: None,
        }
    }
}

/// The folder with the MNIST files, as `train` would pick it: a damaged
/// download cache is an error, never a quiet fall back to the sample.
fn data_dir(config: &BenchConfig) -> Result<PathBuf> {
    if let Some(dir) = &config.data {
        return Ok(dir.clone());
    }
    let cache = mnist::default_cache_dir();
    match mnist::check_cache(&cache, &mnist::FULL) {
        mnist::CacheState::Complete => Ok(cache),
        mnist::CacheState::Empty => Ok(mnist::sample_dir()),
        mnist::CacheState::Damaged(problems) => {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            bail!(
                "the MNIST download cache {} is damaged ({}): repair it with \
                 `first-mlp train --download`, or delete it to use the bundled sample",
                cache.display(),
                problems.join("; ")
            )
        }
    }
}

/// Where the Python peers live.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// Runs one runner in a child process and reads its JSON line.
fn run_child(runner: Runner, config: &BenchConfig, dir: &Path) -> Result<Measurement> {
    let hidden = config
        .hidden
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut command = match runner.script() {
        Some(script) => {
            let mut c = Command::new(&config.python);
            c.arg(peers_dir().join(script));
            c
        }
        None => {
            let mut c = Command::new(std::env::current_exe()?);
            let name = runner
                .to_possible_value()
                .context("every runner has a name")?;
            c.args(["--worker", name.get_name()]);
            c
        }
    };
    command
        .arg("--data")
        .arg(dir)
        .args(["--hidden", &hidden, "--seed", &config.seed.to_string()]);
    let output = command
        .output()
        .with_context(|| format!("starting {runner:?}"))?;
    if !output.status.success() {
        // A Python traceback ends with the error itself.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        bail!(
            "{}: {}",
            output.status,
            last.unwrap_or("(nothing on stderr)")
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("{runner:?} printed no JSON line:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("{runner:?}'s line {line}"))
}

/// Whether a Python peer's modules import; if not, why.
fn peer_available(runner: Runner, python: &str) -> Result<(), String> {
    let (import, install) = runner.requirements();
    match Command::new(python).args(["-c", import]).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(_) => Err(format!(
            "`{import}` fails with {python}; install with `{install}`"
        )),
        Err(e) => Err(format!("{python} not found ({e})")),
    }
}

/// Medians of one runner over the rounds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub peer: String,
    pub version: String,
    pub rounds: usize,
    pub epoch_s: f64,
    pub epoch_min_s: f64,
    pub epoch_max_s: f64,
    pub inference_s: f64,
    pub test_accuracy: f64,
    pub peak_rss_mb: f64,
}

fn summarize(runs: &[Measurement]) -> Summary {
    let mut epochs: Vec<f64> = runs.iter().map(|r| r.epoch_s).collect();
    let mut inference: Vec<f64> = runs.iter().map(|r| r.inference_s).collect();
    let mut accuracy: Vec<f64> = runs.iter().map(|r| r.test_accuracy).collect();
    Summary {
        peer: runs[0].peer.clone(),
        version: runs[0].version.clone(),
        rounds: runs.len(),
        epoch_s: median(&mut epochs),
        epoch_min_s: epochs[0],
        epoch_max_s: epochs[epochs.len() - 1],
        inference_s: median(&mut inference),
        test_accuracy: median(&mut accuracy),
        peak_rss_mb: runs.iter().map(|r| r.peak_rss_mb).fold(0.0, f64::max),
    }
}

/// Runs the bench (or, with `--worker`, one Rust runner once).
pub fn run(config: &BenchConfig) -> Result<()> {
    if config.hidden.contains(&0) {
        bail!("--hidden widths must be at least 1");
    }
    let dir = data_dir(config)?;
    if let Some(runner) = config.worker {
        if !runner.in_process() {
            bail!("--worker runs the Rust runners only");
        }
        let m = run_in_process(runner, &config.hidden, config.seed, &dir)?;
        println!("{}", serde_json::to_string(&m)?);
        return Ok(());
    }
    let runners = available_runners(config)?;
    let ceiling = describe_workload(config, &dir)?;
    let results = rounds(config, &runners, &dir);
    let (runners, summaries): (Vec<Runner>, Vec<Summary>) = runners
        .iter()
        .zip(&results)
        .filter(|(_, runs)| !runs.is_empty())
        .map(|(&runner, runs)| (runner, summarize(runs)))
        .unzip();
    if summaries.is_empty() {
        bail!("every runner failed");
    }
    print_table(&runners, &summaries, &ceiling);
    if let Some(path) = &config.json {
        let json = serde_json::json!({ "runs": results, "medians": summaries, "ceiling": ceiling });
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The runners asked for that can run here; the others are named, with why.
fn available_runners(config: &BenchConfig) -> Result<Vec<Runner>> {
    let mut runners = Vec::new();
    for &runner in &config.runners {
        let available = if runner.in_process() {
            Ok(())
        } else {
            peer_available(runner, &config.python)
        };
        match available {
            Ok(()) => runners.push(runner),
            Err(why) => println!("skipping {runner:?}: {why}"),
        }
    }
    if runners.is_empty() {
        bail!("no runner to run");
    }
    Ok(runners)
}

/// Prints the workload, the data and the machine, and measures the ceiling.
fn describe_workload(config: &BenchConfig, dir: &Path) -> Result<Ceiling> {
    let data = mnist::load_dir(dir)?;
    let batches = data.train.images.count / BATCH;
    let names: Vec<String> = widths(&config.hidden)
        .iter()
        .map(usize::to_string)
        .collect();
    println!(
        "Workload: MLP {}, Adam 1e-3, batch {BATCH}, one epoch of {batches} batches over {} images in {} ({:?}); inference over {} images in one batch.",
        names.join("-"),
        data.train.images.count,
        dir.display(),
        data.provenance,
        data.test.images.count,
    );
    if data.provenance != mnist::Provenance::Full {
        println!(
            "Note: not the full MNIST, so the epoch is not the benchmark's 468 batches; the figures compare the runners with each other only."
        );
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "Machine: {} ({threads} threads); {} {}, interleaved.",
        cpu_name(),
        config.rounds,
        if config.rounds == 1 {
            "round"
        } else {
            "rounds"
        }
    );
    let ceiling = Ceiling::measure(&widths(&config.hidden), batches * BATCH, threads);
    println!("{}", ceiling.describe(threads));
    Ok(ceiling)
}

/// Every runner once per round, each in its own process, the order rotated
/// each round so that no runner always goes first; the measurements by
/// runner. A runner that fails is reported and left out of that round, so
/// one broken install does not cost the run.
fn rounds(config: &BenchConfig, runners: &[Runner], dir: &Path) -> Vec<Vec<Measurement>> {
    let mut results: Vec<Vec<Measurement>> = vec![Vec::new(); runners.len()];
    for round in 0..config.rounds {
        for k in 0..runners.len() {
            let i = (k + round) % runners.len();
            let label = format!("round {}/{}", round + 1, config.rounds);
            match run_child(runners[i], config, dir) {
                Ok(m) => {
                    println!(
                        "{label}  {:<28} epoch {:>7.3} s  inference {:>7.4} s  test acc {:>6.2}%  peak {:>6.0} MB",
                        m.peer,
                        m.epoch_s,
                        m.inference_s,
                        100.0 * m.test_accuracy,
                        m.peak_rss_mb
                    );
                    results[i].push(m);
                }
                Err(e) => println!("{label}  {:?} failed: {e:#}", runners[i]),
            }
        }
    }
    results
}

/// What bounds every runner on this machine: the epoch's products and the
/// processor's measured FMA rate (see `ceiling`).
#[derive(Clone, Debug, Serialize)]
pub struct Ceiling {
    /// Floating-point operations of the epoch's matrix products.
    pub epoch_gflop: f64,
    /// FMA rate of one core, and of all threads at once, in GFLOP/s (None
    /// where not measured).
    pub fma_one_core_gflops: Option<f64>,
    pub fma_all_threads_gflops: Option<f64>,
}

impl Ceiling {
    fn measure(widths: &[usize], examples: usize, threads: usize) -> Self {
        Self {
            epoch_gflop: ceiling::training_flop(widths, examples) / 1e9,
            fma_one_core_gflops: ceiling::fma_peak_gflops(1),
            fma_all_threads_gflops: ceiling::fma_peak_gflops(threads),
        }
    }

    fn describe(&self, threads: usize) -> String {
        match (self.fma_one_core_gflops, self.fma_all_threads_gflops) {
            (Some(one), Some(all)) => format!(
                "Ceiling: the epoch's matrix products are {:.1} GFLOP; this processor's fused multiply-adds peak at {one:.1} GFLOP/s on one core, {all:.1} on {threads} threads at once (measured), so computing these products in full in f32 takes at least {:.3} s here, whatever the code.",
                self.epoch_gflop,
                self.epoch_gflop / all,
            ),
            _ => format!(
                "Ceiling: the epoch's matrix products are {:.1} GFLOP (the FMA peak is measured on x86-64 with AVX2 and FMA only).",
                self.epoch_gflop
            ),
        }
    }

    /// A runner's epoch as a rate, and as a share of the FMA peak.
    fn epoch_rate(&self, epoch_s: f64) -> String {
        let rate = self.epoch_gflop / epoch_s;
        match self.fma_all_threads_gflops {
            Some(all) => format!("{rate:.0} ({:.0}%)", 100.0 * rate / all),
            None => format!("{rate:.0}"),
        }
    }
}

fn print_table(runners: &[Runner], summaries: &[Summary], ceiling: &Ceiling) {
    let best = |f: &dyn Fn(&Summary) -> f64| {
        runners
            .iter()
            .zip(summaries)
            .filter(|(r, _)| !r.is_reference())
            .map(|(_, s)| f(s))
            .fold(f64::INFINITY, f64::min)
    };
    let best_epoch = best(&|s| s.epoch_s);
    let best_inference = best(&|s| s.inference_s);
    println!();
    println!(
        "| runner | version | epoch s (median, min-max) | x best peer | GFLOP/s (of FMA peak) | inference s | x best peer | test acc | peak MB |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let ratio = |value: f64, best: f64| {
        if best.is_finite() {
            format!("{:.2}", value / best)
        } else {
            "-".into()
        }
    };
    for s in summaries {
        println!(
            "| {} | {} | {:.3} ({:.3}-{:.3}) | {} | {} | {:.4} | {} | {:.2}% | {:.0} |",
            s.peer,
            s.version,
            s.epoch_s,
            s.epoch_min_s,
            s.epoch_max_s,
            ratio(s.epoch_s, best_epoch),
            ceiling.epoch_rate(s.epoch_s),
            s.inference_s,
            ratio(s.inference_s, best_inference),
            100.0 * s.test_accuracy,
            s.peak_rss_mb
        );
    }
    let dense = if runners.contains(&Runner::RustDense) {
        "; the dense row, which computes every product in full, is the one to compare with the peak"
    } else {
        " (the rust-dense runner computes every product in full)"
    };
    println!(
        "(x best peer: the runner's median over the fastest peer's median; below 1 is faster. GFLOP/s: the epoch's matrix products, counted in full, over the median epoch, and as a share of the FMA peak of all threads; the fast path leaves the first layer's constant input columns out of its products, so its figure counts work it did not do{dense}.)"
    );
}

/// The processor's name, from /proc/cpuinfo where there is one.
fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown processor".into())
}
