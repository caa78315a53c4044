//! The runners the bench knows, and the Rust ones, which run in this
//! process: the engine's fast path, dense or not, the teaching code, and
//! the burn and candle peers.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use course_support::batches::{BatchLoader, Order};
use course_support::gradients::{Loss, Targets};
use course_support::network::Mlp;
use course_support::optim::{Adam, Optimizer};
use engine::{BlockCopy, Trainer, input};
use rand::seq::SliceRandom;
use reference::train::train_step;
use reference::training::count_correct;

use crate::rust_peers::{burn_peer, candle_peer};
use crate::workload::{
    BATCH, INFERENCE_REPEATS, LEARNING_RATE, Measurement, WARMUP_STEPS, WorkloadData, median,
    network, peak_rss_mb,
};

/// The runners the bench knows.
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
    /// burn 0.22 on its ndarray backend (`src/rust_peers.rs`).
    Burn,
    /// candle 0.11 on the CPU (`src/rust_peers.rs`).
    Candle,
}

impl Runner {
    pub fn script(self) -> Option<&'static str> {
        match self {
            Self::Numpy => Some("numpy_mlp.py"),
            Self::Jax => Some("jax_mlp.py"),
            Self::Torch => Some("torch_mlp.py"),
            Self::Rust | Self::RustDense | Self::Teaching | Self::Burn | Self::Candle => None,
        }
    }

    /// The Python modules a peer needs, and how to install them.
    pub fn requirements(self) -> (&'static str, &'static str) {
        match self {
            Self::Numpy => ("import numpy", "pip install numpy"),
            Self::Jax => ("import jax, optax", "pip install jax optax"),
            Self::Torch => ("import torch", "pip install torch"),
            Self::Rust | Self::RustDense | Self::Teaching | Self::Burn | Self::Candle => ("", ""),
        }
    }

    /// The course's own runners (the engine and the teaching code).
    pub fn is_reference(self) -> bool {
        matches!(self, Self::Rust | Self::RustDense | Self::Teaching)
    }

    /// The runners written in Rust, which run in this very binary.
    pub fn in_process(self) -> bool {
        self.script().is_none()
    }
}

/// Runs a Rust runner once in this process, on the MNIST files in `dir`.
pub fn run_in_process(
    runner: Runner,
    hidden: &[usize],
    seed: u64,
    dir: &Path,
) -> Result<Measurement> {
    match runner {
        Runner::Rust | Runner::RustDense | Runner::Teaching => {
            run_course(runner, hidden, seed, dir)
        }
        Runner::Burn => burn_peer::run(
            &WorkloadData::load(dir)?,
            &crate::workload::widths(hidden),
            seed,
        ),
        Runner::Candle => candle_peer::run(
            &WorkloadData::load(dir)?,
            &crate::workload::widths(hidden),
            seed,
        ),
        Runner::Numpy | Runner::Jax | Runner::Torch => {
            bail!("{runner:?} runs in Python, not in this process")
        }
    }
}

/// Runs the workload once with the engine's fast path or the teaching code.
fn run_course(runner: Runner, hidden: &[usize], seed: u64, dir: &Path) -> Result<Measurement> {
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
    let mut mlp = network(hidden, seed)?;
    let mut adam = Adam::new(LEARNING_RATE);
    let mut teaching_optimizer = Optimizer::from(adam.clone());
    let skip_constant_inputs = runner != Runner::RustDense;
    let mut trainer = Trainer::new(&mlp, BATCH)?;
    trainer.skip_constant_inputs(skip_constant_inputs);
    let mut loader = BatchLoader::from_examples(
        train_x,
        train_y,
        BATCH,
        // rand's shuffle, as when the figures in the book were measured.
        Order::Shuffled(|order, rng| order.shuffle(rng)),
        seed,
    )?
    .with_copier(Arc::new(BlockCopy));
    let full_batches = loader.len() / BATCH;

    // One step on the next batch.
    let mut step = |mlp: &mut Mlp, loader: &mut BatchLoader| -> Result<f32> {
        let (x, y) = loader.next_batch().context("a batch")?;
        Ok(match runner {
            Runner::Teaching => {
                let targets = Targets::Classes(y.to_vec());
                train_step(
                    mlp,
                    &mut teaching_optimizer,
                    x,
                    &targets,
                    Loss::CrossEntropy,
                )?
                .loss
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
                let logits = reference::mlp::forward(&mlp, &test_x)?;
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
