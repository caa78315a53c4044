//! `first-mlp bench`: the reference against JAX, PyTorch, NumPy, burn and
//! candle on one fixed workload, side by side, with the machine's ceiling.
//!
//! The workload (also in `peers/workload.py`): full MNIST, MLP 784 → 512
//! ReLU → 256 ReLU → 10 (`--hidden` changes the hidden widths), softmax
//! cross-entropy, Adam at 1e-3, batch 128, shuffled, one epoch of full
//! batches after a 20-step warm-up; then inference, one forward pass over
//! the 10,000 test images in one batch (median of 5). Every runner is a
//! separate process that prints one JSON line; rounds are interleaved, with
//! the order rotated each round, and the table shows medians.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use course_support::batches::BatchLoader;
use engine::{BlockCopy, Trainer, input};
use nalgebra::DMatrix;
use reference::Activation;
use reference::given::{Adam, Loss, Targets};
use reference::init::Init;
use reference::network::Mlp;
use reference::train::train_step;
use reference::training::count_correct;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::ceiling;
use crate::mnist_train::STANDARD_NORMALIZATION;

pub(crate) const BATCH: usize = 128;
pub(crate) const LEARNING_RATE: f32 = 1e-3;
pub(crate) const WARMUP_STEPS: usize = 20;
pub(crate) const INFERENCE_REPEATS: usize = 5;

/// The runners `first-mlp bench` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Runner {
    /// The reference's fast path (`engine`).
    Rust,
    /// The fast path with every product in full: without leaving the
    /// first layer's constant input columns out (the background pixels).
    RustDense,
    /// The reference's teaching code as written (`train_step`, `Mlp::forward`).
    Teaching,
    /// `peers/numpy_mlp.py`.
    Numpy,
    /// `peers/jax_mlp.py`.
    Jax,
    /// `peers/torch_mlp.py`.
    Torch,
    /// burn 0.22 on its ndarray backend (`src/peers.rs`, the `peers` feature).
    Burn,
    /// candle 0.11 on the CPU (`src/peers.rs`, the `peers` feature).
    Candle,
}

impl Runner {
    fn script(self) -> Option<&'static str> {
        match self {
            Self::Numpy => Some("numpy_mlp.py"),
            Self::Jax => Some("jax_mlp.py"),
            Self::Torch => Some("torch_mlp.py"),
            Self::Rust | Self::RustDense | Self::Teaching | Self::Burn | Self::Candle => None,
        }
    }

    /// The Python modules a peer needs, and how to install them.
    fn requirements(self) -> (&'static str, &'static str) {
        match self {
            Self::Numpy => ("import numpy", "pip install numpy"),
            Self::Jax => ("import jax, optax", "pip install jax optax"),
            Self::Torch => ("import torch", "pip install torch"),
            Self::Rust | Self::RustDense | Self::Teaching | Self::Burn | Self::Candle => ("", ""),
        }
    }

    /// The reference's own runners, which run in this very binary.
    fn is_reference(self) -> bool {
        matches!(self, Self::Rust | Self::RustDense | Self::Teaching)
    }

    /// The Rust frameworks, which need a binary built with `peers`.
    fn is_rust_peer(self) -> bool {
        matches!(self, Self::Burn | Self::Candle)
    }
}

/// Options of `first-mlp bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchConfig {
    /// A folder with the four MNIST IDX files (default: the download cache
    /// if it holds the full set, else the bundled sample).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How many interleaved rounds.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Which runners (the Python peers are skipped when not installed; burn
    /// and candle are built into target/peers on first use).
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

/// What one runner measured in one process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measurement {
    pub peer: String,
    pub version: String,
    pub epoch_s: f64,
    pub inference_s: f64,
    pub epoch_loss: f64,
    pub test_accuracy: f64,
    pub peak_rss_mb: f64,
}

/// The folder with the MNIST files, as `train` would pick it.
fn data_dir(config: &BenchConfig) -> PathBuf {
    if let Some(dir) = &config.data {
        return dir.clone();
    }
    let cache = mnist::default_cache_dir();
    if mnist::FULL
        .iter()
        .all(|s| mnist::download::is_present(&cache, s))
    {
        cache
    } else {
        mnist::sample_dir()
    }
}

/// The peak resident memory of this process so far, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The benchmark network: Kaiming-uniform weights, ReLU between layers.
pub fn network(hidden: &[usize], seed: u64) -> Result<Mlp> {
    let mut widths = vec![784];
    widths.extend_from_slice(hidden);
    widths.push(10);
    let mut activations = vec![Activation::Relu; hidden.len()];
    activations.push(Activation::Identity);
    Ok(Mlp::new(&widths, &activations, Init::KaimingUniform, seed)?)
}

/// The workload's data: the images normalised, one example per column
/// (each example contiguous), and their labels.
pub struct WorkloadData {
    pub train_x: DMatrix<f32>,
    pub train_y: Vec<usize>,
    pub test_x: DMatrix<f32>,
    pub test_y: Vec<usize>,
}

impl WorkloadData {
    /// Reads the four MNIST files in `dir`; the raw bytes are dropped once
    /// converted.
    pub fn load(dir: &Path) -> Result<Self> {
        let data = mnist::load_dir(dir)?;
        let (mean, std) = STANDARD_NORMALIZATION;
        let examples = |images: &mnist::Images| {
            let size = images.rows * images.cols;
            DMatrix::from_fn(size, images.count, |pixel, example| {
                (f32::from(images.image(example)[pixel]) / 255.0 - mean) / std
            })
        };
        let labels = |all: &[u8]| all.iter().map(|&l| usize::from(l)).collect::<Vec<_>>();
        Ok(Self {
            train_x: examples(&data.train.images),
            train_y: labels(&data.train.labels),
            test_x: examples(&data.test.images),
            test_y: labels(&data.test.labels),
        })
    }
}

/// Runs the workload once in this process with the fast path or the
/// teaching code.
fn run_rust(runner: Runner, config: &BenchConfig, dir: &Path) -> Result<Measurement> {
    let WorkloadData {
        train_x,
        train_y,
        test_x,
        test_y,
    } = WorkloadData::load(dir)?;
    // Both Rust runners take the test images as one (examples, features)
    // matrix; the (features, examples) one is dropped here, not kept to the
    // end beside it (31 MB).
    let test_x = {
        let by_column = test_x;
        by_column.transpose()
    };
    let mut mlp = network(&config.hidden, config.seed)?;
    let mut adam = Adam::new(LEARNING_RATE);
    let skip_constant_inputs = runner != Runner::RustDense;
    let mut trainer = Trainer::new(&mlp, BATCH)?;
    trainer.skip_constant_inputs(skip_constant_inputs);
    let mut loader = BatchLoader::from_examples(train_x, train_y, BATCH, true, config.seed)?
        .with_copier(Arc::new(BlockCopy));
    let full_batches = loader.len() / BATCH;

    // One step on the next batch.
    let mut step = |mlp: &mut Mlp, loader: &mut BatchLoader| -> Result<f32> {
        let (x, y) = loader.next_batch().context("a batch")?;
        Ok(match runner {
            Runner::Teaching => {
                let targets = Targets::Classes(y.to_vec());
                train_step(mlp, &mut adam, x, &targets, Loss::CrossEntropy)?.loss
            }
            _ => trainer.step(mlp, &mut adam, input(x), y)?,
        })
    };
    loader.start_epoch();
    for _ in 0..WARMUP_STEPS {
        step(&mut mlp, &mut loader)?;
    }
    loader.start_epoch();
    let start = Instant::now();
    // On the thread pool, as `engine::train_epoch` runs (the teaching code
    // does not use it).
    let total_loss = rayon::scope(|_| -> Result<f64> {
        let mut total_loss = 0.0f64;
        for _ in 0..full_batches {
            total_loss += f64::from(step(&mut mlp, &mut loader)?);
        }
        Ok(total_loss)
    })?;
    let epoch_s = start.elapsed().as_secs_f64();

    // Buffers grow to the batch on the first pass (and only the forward ones).
    let mut inference = Trainer::new(&mlp, 0)?;
    inference.skip_constant_inputs(skip_constant_inputs);
    let mut times = Vec::new();
    let mut correct = 0;
    for _ in 0..=INFERENCE_REPEATS {
        // Only the forward pass is timed, for both runners.
        let start = Instant::now();
        let (seconds, logits) = match runner {
            Runner::Teaching => {
                let logits = mlp.forward(&test_x)?;
                (start.elapsed(), logits)
            }
            _ => {
                let logits = inference.forward(&mlp, input(&test_x))?;
                (start.elapsed(), logits.into_owned())
            }
        };
        times.push(seconds.as_secs_f64());
        correct = count_correct(&logits, &test_y);
    }
    // The first pass is the warm-up.
    times.remove(0);
    Ok(Measurement {
        peer: match runner {
            Runner::Teaching => "Rust teaching code".into(),
            Runner::RustDense => "Rust fast path, dense".into(),
            _ => "Rust reference (fast path)".into(),
        },
        version: env!("CARGO_PKG_VERSION").into(),
        epoch_s,
        inference_s: median(&mut times),
        epoch_loss: total_loss / full_batches as f64,
        test_accuracy: correct as f64 / test_y.len() as f64,
        peak_rss_mb: peak_rss_mb(),
    })
}

pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// Where the Python peers live.
pub fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The binaries that run the Rust runners: this one, and one built with the
/// `peers` feature for burn and candle.
struct Executables {
    this: PathBuf,
    peers: Option<PathBuf>,
}

/// A `first-mlp` with the `peers` feature: this one if it has it, else one
/// built (or brought up to date) from the sources into `target/peers`, so
/// that the default build stays free of burn and candle.
fn rust_peers_binary() -> Result<PathBuf, String> {
    if cfg!(feature = "peers") {
        return std::env::current_exe().map_err(|e| e.to_string());
    }
    let root = crate::workspace_root();
    let manifest = root.join("Cargo.toml");
    if !manifest.exists() {
        return Err(format!(
            "building them needs the sources ({} is missing)",
            manifest.display()
        ));
    }
    let target = root.join("target").join("peers");
    println!(
        "Building first-mlp with the burn and candle peers into {} (the first build takes several minutes)...",
        target.display()
    );
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "-p",
            "first-mlp",
            "--features",
            "peers",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .output()
        .map_err(|e| format!("cargo not found ({e})"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!(
            "building them failed: {}",
            last.unwrap_or("(nothing on stderr)")
        ));
    }
    Ok(target
        .join("release")
        .join(format!("first-mlp{}", std::env::consts::EXE_SUFFIX)))
}

/// burn or candle, in this process (built with the `peers` feature).
fn run_rust_peer(runner: Runner, config: &BenchConfig, dir: &Path) -> Result<Measurement> {
    #[cfg(feature = "peers")]
    {
        let data = WorkloadData::load(dir)?;
        let widths = widths_of(config);
        match runner {
            Runner::Burn => crate::peers::burn_peer::run(&data, &widths, config.seed),
            _ => crate::peers::candle_peer::run(&data, &widths, config.seed),
        }
    }
    #[cfg(not(feature = "peers"))]
    {
        let _ = (config, dir);
        bail!("this first-mlp was built without the `peers` feature, which {runner:?} needs")
    }
}

/// Runs one runner in a child process and reads its JSON line.
fn run_child(
    runner: Runner,
    config: &BenchConfig,
    dir: &Path,
    executables: &Executables,
) -> Result<Measurement> {
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
            let exe = match (runner.is_rust_peer(), &executables.peers) {
                (false, _) => &executables.this,
                (true, Some(peers)) => peers,
                (true, None) => bail!("no binary with the `peers` feature"),
            };
            let mut c = Command::new(exe);
            let name = runner
                .to_possible_value()
                .context("every runner has a name")?;
            c.args(["bench", "--worker", name.get_name()]);
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

/// `first-mlp bench`.
pub fn run(config: &BenchConfig) -> Result<()> {
    if config.hidden.contains(&0) {
        bail!("--hidden widths must be at least 1");
    }
    let dir = data_dir(config);
    if let Some(runner) = config.worker {
        let m = if runner.is_reference() {
            run_rust(runner, config, &dir)?
        } else if runner.is_rust_peer() {
            run_rust_peer(runner, config, &dir)?
        } else {
            bail!("--worker runs the Rust runners only");
        };
        println!("{}", serde_json::to_string(&m)?);
        return Ok(());
    }
    let mut runners = Vec::new();
    let mut peers_exe = None;
    for &runner in &config.runners {
        let available = if runner.is_reference() {
            Ok(())
        } else if runner.is_rust_peer() {
            if peers_exe.is_none() {
                peers_exe = Some(rust_peers_binary());
            }
            peers_exe.clone().expect("set above").map(|_| ())
        } else {
            peer_available(runner, &config.python)
        };
        match available {
            Ok(()) => runners.push(runner),
            Err(why) => println!("skipping {runner:?}: {why}"),
        }
    }
    let executables = Executables {
        this: std::env::current_exe()?,
        peers: peers_exe.and_then(Result::ok),
    };
    if runners.is_empty() {
        bail!("no runner to run");
    }
    let data = mnist::load_dir(&dir)?;
    let batches = data.train.images.count / BATCH;
    let widths: Vec<String> = widths_of(config).iter().map(usize::to_string).collect();
    println!(
        "Workload: MLP {}, Adam 1e-3, batch {BATCH}, one epoch of {batches} batches over {} images in {} ({:?}); inference over {} images in one batch.",
        widths.join("-"),
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
        "Machine: {} ({threads} threads); {} rounds, interleaved.",
        cpu_name(),
        config.rounds
    );
    let ceiling = Ceiling::measure(&widths_of(config), batches * BATCH, threads);
    println!("{}", ceiling.describe(threads));
    let mut results: Vec<Vec<Measurement>> = vec![Vec::new(); runners.len()];
    for round in 0..config.rounds {
        // Rotate the order so that no runner always goes first.
        for k in 0..runners.len() {
            let i = (k + round) % runners.len();
            // A runner that fails is reported and left out of this round;
            // the others go on, so one broken install does not cost the run.
            let m = match run_child(runners[i], config, &dir, &executables) {
                Ok(m) => m,
                Err(e) => {
                    println!(
                        "round {}/{}  {:?} failed: {e:#}",
                        round + 1,
                        config.rounds,
                        runners[i]
                    );
                    continue;
                }
            };
            println!(
                "round {}/{}  {:<28} epoch {:>7.3} s  inference {:>7.4} s  test acc {:>6.2}%  peak {:>6.0} MB",
                round + 1,
                config.rounds,
                m.peer,
                m.epoch_s,
                m.inference_s,
                100.0 * m.test_accuracy,
                m.peak_rss_mb
            );
            results[i].push(m);
        }
    }
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

/// The layer widths of the benchmark's network.
fn widths_of(config: &BenchConfig) -> Vec<usize> {
    let mut widths = vec![784];
    widths.extend(&config.hidden);
    widths.push(10);
    widths
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
    println!(
        "(x best peer: the runner's median over the fastest peer's median; below 1 is faster. GFLOP/s: the epoch's matrix products, counted in full, over the median epoch, and as a share of the FMA peak of all threads; the fast path leaves the first layer's constant input columns out of its products, so its figure counts work it did not do; the dense row, which computes every product in full, is the one to compare with the peak.)"
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
