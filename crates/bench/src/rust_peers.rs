//! The benchmark's workload in burn (ndarray backend) and in candle, the two
//! Rust deep-learning frameworks, written as their own documentation writes
//! a model, a loss and an optimiser step: the peers that the reference is
//! compared with in Rust, as NumPy, JAX and PyTorch are in Python.
//!
//! They pull in several hundred crates, which is why the bench is a crate
//! of its own: the course's stages and its command line never build them.

use std::time::Instant;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::workload::{
    BATCH, INFERENCE_REPEATS, LEARNING_RATE, Measurement, WARMUP_STEPS, WorkloadData, median,
    peak_rss_mb,
};

/// The versions required in Cargo.toml.
const BURN_VERSION: &str = "0.22";
const CANDLE_VERSION: &str = "0.11";

/// The shuffled full batches of one epoch, as example indices.
fn epoch_batches(examples: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples).collect();
    order.shuffle(rng);
    order.chunks_exact(BATCH).map(<[usize]>::to_vec).collect()
}

/// The share of rows whose largest logit is at their label (stage 5's
/// `count_correct`); `logits` is row-major, `classes` per row.
fn accuracy(logits: &[f32], classes: usize, labels: &[usize]) -> f64 {
    let logits = nalgebra::DMatrix::from_row_slice(labels.len(), classes, logits);
    reference::training::count_correct(&logits, labels) as f64 / labels.len() as f64
}

/// A framework's implementation of the workload.
trait Peer {
    /// One training step on these examples; the batch's loss.
    fn step(&mut self, batch: &[usize]) -> Result<f32>;
    /// The logits of the test images, row-major.
    fn infer(&mut self) -> Result<Vec<f32>>;
}

/// Times a warm-up, one epoch of steps and `INFERENCE_REPEATS` inferences,
/// as every runner does.
fn measure(
    peer: &mut impl Peer,
    (name, version): (&str, &str),
    data: &WorkloadData,
    seed: u64,
) -> Result<Measurement> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let examples = data.train_x.ncols();
    for batch in epoch_batches(examples, &mut rng).iter().take(WARMUP_STEPS) {
        peer.step(batch)?;
    }
    let batches = epoch_batches(examples, &mut rng);
    let start = Instant::now();
    let mut total_loss = 0.0f64;
    for batch in &batches {
        total_loss += f64::from(peer.step(batch)?);
    }
    let epoch_s = start.elapsed().as_secs_f64();
    let mut times = Vec::new();
    let mut logits = peer.infer()?;
    for _ in 0..INFERENCE_REPEATS {
        let start = Instant::now();
        logits = peer.infer()?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(Measurement {
        peer: name.into(),
        version: version.into(),
        epoch_s,
        inference_s: median(&mut times),
        epoch_loss: total_loss / batches.len() as f64,
        test_accuracy: accuracy(&logits, 10, &data.test_y),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// burn on its ndarray backend, with autodiff, `AdamConfig` (ε = 1e-8, as
/// every other runner) and `CrossEntropyLoss`.
pub mod burn_peer {
    use super::*;
    use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
    use burn::nn::{Linear, LinearConfig, Relu};
    use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
    use burn::prelude::*;
    use burn::tensor::TensorData;

    #[derive(Module, Debug)]
    struct Network {
        layers: Vec<Linear>,
        relu: Relu,
    }

    impl Network {
        fn new(widths: &[usize], device: &Device) -> Self {
            Self {
                layers: widths
                    .windows(2)
                    .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                    .collect(),
                relu: Relu::new(),
            }
        }

        fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
            let last = self.layers.len() - 1;
            for (i, layer) in self.layers.iter().enumerate() {
                x = layer.forward(x);
                if i < last {
                    x = self.relu.forward(x);
                }
            }
            x
        }
    }

    fn integers(values: &[usize], device: &Device) -> Tensor<1, Int> {
        let values: Vec<i64> = values.iter().map(|&i| i as i64).collect();
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), device)
    }

    struct Burn {
        device: Device,
        train_x: Tensor<2>,
        train_y: Tensor<1, Int>,
        test_x: Tensor<2>,
        /// Taken out for each step: the optimiser consumes the model.
        model: Option<Network>,
        optimizer: ModuleOptimizer,
        loss: CrossEntropyLoss,
    }

    impl Peer for Burn {
        fn step(&mut self, batch: &[usize]) -> Result<f32> {
            let network = self.model.take().context("the model")?;
            let rows = integers(batch, &self.device);
            let logits = network.forward(self.train_x.clone().select(0, rows.clone()));
            let loss = self
                .loss
                .forward(logits, self.train_y.clone().select(0, rows));
            let value: f32 = loss.clone().into_scalar();
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            self.model = Some(
                self.optimizer
                    .step(f64::from(LEARNING_RATE), network, grads),
            );
            Ok(value)
        }

        fn infer(&mut self) -> Result<Vec<f32>> {
            let network = self.model.as_ref().context("the model")?;
            network
                .forward(self.test_x.clone())
                .into_data()
                .try_into_vec::<f32>()
                .map_err(|e| anyhow::anyhow!("burn's logits: {e:?}"))
        }
    }

    /// One run of the workload.
    pub fn run(data: &WorkloadData, widths: &[usize], seed: u64) -> Result<Measurement> {
        // The backend the figures were taken with; burn 0.22
        // deprecates it in favour of `flex`, not yet measured here.
        #[allow(deprecated)]
        let device = Device::ndarray().autodiff();
        device.seed(seed);
        let features = data.train_x.nrows();
        // One example per column of a column-major matrix is one per row
        // of a row-major one.
        let rows = |m: &nalgebra::DMatrix<f32>| {
            Tensor::<2>::from_data(
                TensorData::new(m.as_slice().to_vec(), [m.ncols(), features]),
                &device,
            )
        };
        let mut peer = Burn {
            train_x: rows(&data.train_x),
            train_y: integers(&data.train_y, &device),
            test_x: rows(&data.test_x),
            model: Some(Network::new(widths, &device)),
            optimizer: AdamConfig::new().with_epsilon(1e-8).init(),
            loss: CrossEntropyLossConfig::new().init(&device),
            device,
        };
        measure(&mut peer, ("burn (ndarray)", BURN_VERSION), data, seed)
    }
}

/// candle on the CPU, with `candle_nn::AdamW` at zero weight decay (which
/// is Adam; candle has no other) and `candle_nn::loss::cross_entropy`.
pub mod candle_peer {
    use super::*;
    use candle_core::{Device, Module, Tensor, Var};
    use candle_nn::{AdamW, Linear, Optimizer, ParamsAdamW};
    use rand::RngExt;

    struct Candle {
        device: Device,
        layers: Vec<Linear>,
        optimizer: AdamW,
        train_x: Tensor,
        train_y: Tensor,
        test_x: Tensor,
    }

    impl Candle {
        fn forward(&self, mut x: Tensor) -> Result<Tensor> {
            let last = self.layers.len() - 1;
            for (i, layer) in self.layers.iter().enumerate() {
                x = layer.forward(&x)?;
                if i < last {
                    x = x.relu()?;
                }
            }
            Ok(x)
        }
    }

    impl Peer for Candle {
        fn step(&mut self, batch: &[usize]) -> Result<f32> {
            let rows: Vec<u32> = batch.iter().map(|&i| i as u32).collect();
            let rows = Tensor::from_vec(rows, batch.len(), &self.device)?;
            let logits = self.forward(self.train_x.index_select(&rows, 0)?)?;
            let targets = self.train_y.index_select(&rows, 0)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
            self.optimizer.backward_step(&loss)?;
            Ok(loss.to_scalar::<f32>()?)
        }

        fn infer(&mut self) -> Result<Vec<f32>> {
            Ok(self
                .forward(self.test_x.clone())?
                .flatten_all()?
                .to_vec1::<f32>()?)
        }
    }

    /// One run of the workload. candle cannot seed its CPU generator, so
    /// the weights are drawn here, as PyTorch's `nn.Linear` draws them:
    /// U(−1/√fan_in, 1/√fan_in).
    pub fn run(data: &WorkloadData, widths: &[usize], seed: u64) -> Result<Measurement> {
        let device = Device::Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut vars = Vec::new();
        let mut layers = Vec::new();
        for w in widths.windows(2) {
            let (inputs, outputs) = (w[0], w[1]);
            let bound = 1.0 / (inputs as f32).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-bound..bound)).collect()
            };
            let weight = Var::from_vec(draw(outputs * inputs), (outputs, inputs), &device)?;
            let bias = Var::from_vec(draw(outputs), outputs, &device)?;
            layers.push(Linear::new(
                weight.as_tensor().clone(),
                Some(bias.as_tensor().clone()),
            ));
            vars.extend([weight, bias]);
        }
        let params = ParamsAdamW {
            lr: f64::from(LEARNING_RATE),
            weight_decay: 0.0,
            ..ParamsAdamW::default()
        };
        let features = data.train_x.nrows();
        let labels: Vec<u32> = data.train_y.iter().map(|&l| l as u32).collect();
        let rows = |m: &nalgebra::DMatrix<f32>| {
            Tensor::from_slice(m.as_slice(), (m.ncols(), features), &device)
        };
        let mut peer = Candle {
            optimizer: AdamW::new(vars, params)?,
            layers,
            train_x: rows(&data.train_x)?,
            train_y: Tensor::from_vec(labels, data.train_y.len(), &device)?,
            test_x: rows(&data.test_x)?,
            device,
        };
        measure(&mut peer, ("candle", CANDLE_VERSION), data, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_is_every_example_once_in_full_batches() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let batches = epoch_batches(3 * BATCH + 5, &mut rng);
        assert_eq!(batches.len(), 3);
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 3 * BATCH, "an example twice");
        assert!(seen.iter().all(|&i| i < 3 * BATCH + 5));
    }

    #[test]
    fn accuracy_counts_the_first_largest_logit() {
        // Rows: argmax 1, a tie between 0 and 2 (the first wins), argmax 2.
        let logits = [0.1, 0.9, 0.0, 0.5, 0.2, 0.5, -1.0, -2.0, 3.0];
        assert_eq!(accuracy(&logits, 3, &[1, 0, 2]), 1.0);
        assert_eq!(accuracy(&logits, 3, &[1, 2, 0]), 1.0 / 3.0);
    }
}
