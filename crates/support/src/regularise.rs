//! Stage 7's network: an [`Mlp`] with batch normalisation ([`BatchNorm`])
//! after each hidden linear layer and dropout after each hidden activation,
//! the layout HW1P2's strong baselines use. Also what a batch-norm layer's
//! forward pass keeps for its backward pass, and its gradients.
//!
//! Given, not an exercise: what these compute in training and in
//! evaluation is stage 7's exercise (`dropout`, `batch_norm`, `network`).

use nalgebra::{DMatrix, DVector};

use crate::network::{Layer, Mlp, Parameter};
use crate::shape::ShapeError;

/// Batch normalisation over a batch of rows (Ioffe & Szegedy, 2015), as
/// `torch.nn.BatchNorm1d`: each feature (column) is standardised with the
/// batch's mean and variance in training, and with the running estimates
/// in evaluation, then scaled by γ and shifted by β.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// γ, the learnt scale, one per feature (starts at 1).
    pub gamma: DVector<f32>,
    /// β, the learnt shift, one per feature (starts at 0).
    pub beta: DVector<f32>,
    /// The running mean of each feature, for evaluation (starts at 0).
    pub running_mean: DVector<f32>,
    /// The running (unbiased) variance of each feature, for evaluation
    /// (starts at 1).
    pub running_var: DVector<f32>,
    /// How far one training batch moves the running estimates: PyTorch's
    /// `momentum`, 0.1.
    pub momentum: f32,
    /// ε, added to the variance before its square root: 1e-5.
    pub epsilon: f32,
}

impl BatchNorm {
    /// A layer for `features` features with PyTorch's defaults.
    pub fn new(features: usize) -> Self {
        Self {
            gamma: DVector::from_element(features, 1.0),
            beta: DVector::zeros(features),
            running_mean: DVector::zeros(features),
            running_var: DVector::from_element(features, 1.0),
            momentum: 0.1,
            epsilon: 1e-5,
        }
    }

    /// The number of features it normalises.
    pub fn features(&self) -> usize {
        self.gamma.len()
    }
}

/// What a batch-norm layer's training forward pass keeps for its backward
/// pass, for a batch of (batch, features).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormCache {
    /// x̂ = (x − μ_B) / √(σ²_B + ε), shape (batch, features).
    pub normalized: DMatrix<f32>,
    /// 1 / √(σ²_B + ε) of each feature, length features (σ²_B divided by
    /// the batch size).
    pub inverse_std: DVector<f32>,
}

/// The gradients of a batch-norm layer for one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormGradients {
    /// dL/dx, (batch, features).
    pub input: DMatrix<f32>,
    /// dL/dγ, length features.
    pub gamma: DVector<f32>,
    /// dL/dβ, length features.
    pub beta: DVector<f32>,
}

/// A batch-norm layer's backward pass, as stage 7's `batch_norm_backward`:
/// the layer, its cache and dL/dy give the gradients.
pub type BatchNormBackward =
    fn(&BatchNorm, &BatchNormCache, &DMatrix<f32>) -> Result<BatchNormGradients, ShapeError>;

/// An MLP with optional batch normalisation and dropout on its hidden
/// layers. A hidden layer is every linear layer of `mlp` but the last; each
/// one computes, in order:
///
/// 1. Z = A Wᵀ + b (the linear layer);
/// 2. batch normalisation of Z, when `batch_norms` is not empty (it then
///    holds one layer per hidden layer, in order);
/// 3. the activation that follows the linear layer in `mlp`, if any;
/// 4. dropout with rate `dropout`, when it is above 0.
///
/// The last linear layer gives the logits, with neither.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub mlp: Mlp,
    /// The probability p that dropout zeroes a hidden unit in training, in
    /// [0, 1); 0 for no dropout.
    pub dropout: f32,
    pub batch_norms: Vec<BatchNorm>,
}

/// Why a [`Network`] could not be put together.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NetworkError {
    #[error("the dropout rate must be in [0, 1), found {0}")]
    DropoutRate(f32),
    #[error("the network has no hidden layer to regularise (one linear layer)")]
    NoHiddenLayer,
    #[error(
        "the network must start with a linear layer and hold only linear and activation layers"
    )]
    Layout,
    #[error(
        "batch norm {index} normalises {found} features, but hidden layer {index} has {expected} units"
    )]
    BatchNormWidth {
        index: usize,
        expected: usize,
        found: usize,
    },
    #[error("{hidden} hidden layers need {hidden} batch-norm layers (or none), found {found}")]
    BatchNormCount { hidden: usize, found: usize },
}

/// One element of a [`Network`] in the order a batch meets it: how
/// `torch.nn.Sequential` would hold the same network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Part<'a> {
    /// Position `index` of `mlp.layers`: a linear layer or an activation.
    Layer(usize, &'a Layer),
    /// The batch-norm layer of hidden layer `index`.
    BatchNorm(usize, &'a BatchNorm),
    /// Dropout after hidden layer `index`.
    Dropout(usize),
}

impl Network {
    /// `mlp` with dropout at rate `dropout` after each hidden activation and,
    /// if `batch_norm`, a fresh [`BatchNorm`] after each hidden linear layer.
    /// Without either, any layout of linear layers and activations is a
    /// (plain) network, a single linear layer included.
    pub fn new(mlp: Mlp, dropout: f32, batch_norm: bool) -> Result<Self, NetworkError> {
        let batch_norms = match batch_norm {
            true => hidden_widths(&mlp)?
                .iter()
                .map(|&w| BatchNorm::new(w))
                .collect(),
            false => Vec::new(),
        };
        let network = Self {
            mlp,
            dropout,
            batch_norms,
        };
        network.check()?;
        Ok(network)
    }

    /// Checks the layout, the dropout rate and the batch-norm layers' count
    /// and widths.
    pub fn check(&self) -> Result<(), NetworkError> {
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(NetworkError::DropoutRate(self.dropout));
        }
        if self.is_plain() {
            return Ok(());
        }
        let widths = hidden_widths(&self.mlp)?;
        if self.batch_norms.is_empty() {
            return Ok(());
        }
        if self.batch_norms.len() != widths.len() {
            return Err(NetworkError::BatchNormCount {
                hidden: widths.len(),
                found: self.batch_norms.len(),
            });
        }
        for (index, (bn, &expected)) in self.batch_norms.iter().zip(&widths).enumerate() {
            let found = bn.features();
            if found != expected
                || bn.beta.len() != found
                || bn.running_mean.len() != found
                || bn.running_var.len() != found
            {
                return Err(NetworkError::BatchNormWidth {
                    index,
                    expected,
                    found,
                });
            }
        }
        Ok(())
    }

    /// True when it has neither dropout nor batch normalisation: it then
    /// computes what its `mlp` does, in training as in evaluation.
    pub fn is_plain(&self) -> bool {
        self.dropout == 0.0 && self.batch_norms.is_empty()
    }

    /// Every part in the order a batch goes through them.
    pub fn parts(&self) -> Vec<Part<'_>> {
        let last = last_linear(&self.mlp);
        let mut parts = Vec::new();
        let mut hidden = 0;
        for (index, layer) in self.mlp.layers.iter().enumerate() {
            parts.push(Part::Layer(index, layer));
            let ends_hidden = |next: Option<&Layer>| !matches!(next, Some(Layer::Activation(_)));
            match layer {
                Layer::Linear(_) if Some(index) != last => {
                    if let Some(bn) = self.batch_norms.get(hidden) {
                        parts.push(Part::BatchNorm(hidden, bn));
                    }
                    if ends_hidden(self.mlp.layers.get(index + 1)) {
                        if self.dropout > 0.0 {
                            parts.push(Part::Dropout(hidden));
                        }
                        hidden += 1;
                    }
                }
                Layer::Activation(_) if Some(index) < last => {
                    if self.dropout > 0.0 {
                        parts.push(Part::Dropout(hidden));
                    }
                    hidden += 1;
                }
                _ => {}
            }
        }
        parts
    }

    /// Every trainable tensor, named as `torch.nn.Sequential` would name the
    /// same network's: a linear layer's weight and bias, then, for a
    /// batch-norm layer, γ as `weight` and β as `bias`.
    pub fn parameters(&self) -> Vec<Parameter<'_>> {
        self.tensors(false)
    }

    /// The parameters, then each batch-norm layer's running mean and
    /// variance (`running_mean`, `running_var`): what a checkpoint holds.
    pub fn tensors_to_save(&self) -> Vec<Parameter<'_>> {
        self.tensors(true)
    }

    fn tensors<'a>(&'a self, with_running: bool) -> Vec<Parameter<'a>> {
        let mut out = Vec::new();
        let mut running = Vec::new();
        for (position, part) in self.parts().into_iter().enumerate() {
            match part {
                Part::Layer(_, Layer::Linear(linear)) => {
                    out.push(Parameter {
                        name: format!("{position}.weight"),
                        shape: vec![linear.out_features(), linear.in_features()],
                        values: linear.weights.as_slice(),
                    });
                    out.push(Parameter {
                        name: format!("{position}.bias"),
                        shape: vec![linear.out_features()],
                        values: linear.bias.as_slice(),
                    });
                }
                Part::BatchNorm(_, bn) => {
                    let n = bn.features();
                    let tensor = |name: &str, values: &'a [f32]| Parameter {
                        name: format!("{position}.{name}"),
                        shape: vec![n],
                        values,
                    };
                    out.push(tensor("weight", bn.gamma.as_slice()));
                    out.push(tensor("bias", bn.beta.as_slice()));
                    running.push(tensor("running_mean", bn.running_mean.as_slice()));
                    running.push(tensor("running_var", bn.running_var.as_slice()));
                }
                _ => {}
            }
        }
        if with_running {
            out.extend(running);
        }
        out
    }

    /// The same tensors as [`Network::parameters`], in the same order,
    /// writable: what an optimiser updates.
    pub fn parameters_mut(&mut self) -> Vec<&mut [f32]> {
        self.tensors_mut().0
    }

    /// The same tensors as [`Network::tensors_to_save`], in the same order,
    /// writable (for loading a checkpoint).
    pub fn tensors_to_save_mut(&mut self) -> Vec<&mut [f32]> {
        let (mut tensors, running) = self.tensors_mut();
        tensors.extend(running);
        tensors
    }

    /// The parameters, writable and in the order of
    /// [`Network::parameters`] (each linear layer's weight and bias, then
    /// the γ and β of its batch norm while there are batch norms), and
    /// apart, each batch norm's running mean and variance.
    fn tensors_mut(&mut self) -> (Vec<&mut [f32]>, Vec<&mut [f32]>) {
        let mut norms = Vec::with_capacity(self.batch_norms.len());
        let mut running = Vec::with_capacity(2 * self.batch_norms.len());
        for bn in &mut self.batch_norms {
            let BatchNorm {
                gamma,
                beta,
                running_mean,
                running_var,
                ..
            } = bn;
            norms.push([gamma.as_mut_slice(), beta.as_mut_slice()]);
            running.extend([running_mean.as_mut_slice(), running_var.as_mut_slice()]);
        }
        let mut norms = norms.into_iter();
        let mut parameters = Vec::new();
        let mut linears = self.mlp.parameters_mut().into_iter();
        while let (Some(w), Some(b)) = (linears.next(), linears.next()) {
            parameters.extend([w, b]);
            parameters.extend(norms.next().into_iter().flatten());
        }
        (parameters, running)
    }

    /// The network in evaluation mode as a plain [`Mlp`]: dropout is the
    /// identity there, and each batch-norm layer is an affine map per
    /// feature, y = γ (z − μ) / √(σ² + ε) + β with the running μ and σ²,
    /// which folds into the linear layer before it: row o of W and b_o are
    /// scaled by s_o = γ_o / √(σ²_o + ε), and b_o becomes s_o (b_o − μ_o) + β_o.
    /// What `predict` runs (the folding is exact up to rounding).
    pub fn to_evaluation_mlp(&self) -> Mlp {
        let mut mlp = self.mlp.clone();
        let mut norms = self.batch_norms.iter();
        let last = last_linear(&self.mlp);
        for (index, layer) in mlp.layers.iter_mut().enumerate() {
            if let Layer::Linear(linear) = layer
                && Some(index) != last
                && let Some(bn) = norms.next()
            {
                for o in 0..linear.out_features() {
                    let scale = bn.gamma[o] / (bn.running_var[o] + bn.epsilon).sqrt();
                    linear.weights.row_mut(o).scale_mut(scale);
                    linear.bias[o] = scale * (linear.bias[o] - bn.running_mean[o]) + bn.beta[o];
                }
            }
        }
        mlp
    }
}

/// The position of the last linear layer of `mlp`.
fn last_linear(mlp: &Mlp) -> Option<usize> {
    mlp.layers
        .iter()
        .rposition(|layer| matches!(layer, Layer::Linear(_)))
}

/// The widths of the hidden layers (every linear layer but the last), after
/// checking the layout: linear and activation layers, starting with a
/// linear one.
fn hidden_widths(mlp: &Mlp) -> Result<Vec<usize>, NetworkError> {
    if !matches!(mlp.layers.first(), Some(Layer::Linear(_)))
        || mlp
            .layers
            .iter()
            .any(|layer| matches!(layer, Layer::Maxout(_)))
    {
        return Err(NetworkError::Layout);
    }
    let mut widths: Vec<usize> = mlp
        .layers
        .iter()
        .filter_map(|layer| match layer {
            Layer::Linear(linear) => Some(linear.out_features()),
            _ => None,
        })
        .collect();
    widths.pop();
    if widths.is_empty() {
        return Err(NetworkError::NoHiddenLayer);
    }
    Ok(widths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::network::Init;
    use rand_chacha::ChaCha8Rng;

    fn mlp(widths: &[usize]) -> Mlp {
        let mut activations = vec![Activation::Relu; widths.len() - 2];
        activations.push(Activation::Identity);
        let draw = |_: Init, o: usize, i: usize, _: &mut ChaCha8Rng| {
            DMatrix::from_fn(o, i, |r, c| (r * 7 + c) as f32 * 0.01 - 0.1)
        };
        Mlp::new(widths, &activations, Init::KaimingNormal, 0, draw).unwrap()
    }

    #[test]
    fn tensors_are_named_like_pytorch_sequential() {
        let network = Network::new(mlp(&[3, 4, 5, 2]), 0.5, true).unwrap();
        let names: Vec<String> = network
            .tensors_to_save()
            .into_iter()
            .map(|p| p.name)
            .collect();
        // Linear, BatchNorm1d, ReLU, Dropout, Linear, BatchNorm1d, ReLU, Dropout, Linear.
        assert_eq!(
            names,
            [
                "0.weight",
                "0.bias",
                "1.weight",
                "1.bias",
                "4.weight",
                "4.bias",
                "5.weight",
                "5.bias",
                "8.weight",
                "8.bias",
                "1.running_mean",
                "1.running_var",
                "5.running_mean",
                "5.running_var"
            ]
        );
        let mut network = network;
        let sizes: Vec<usize> = network.parameters_mut().iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [12, 4, 4, 4, 20, 5, 5, 5, 10, 2]);
        let sizes: Vec<usize> = network
            .tensors_to_save_mut()
            .iter()
            .map(|p| p.len())
            .collect();
        assert_eq!(sizes, [12, 4, 4, 4, 20, 5, 5, 5, 10, 2, 4, 4, 5, 5]);
        let plain = Network::new(mlp(&[3, 4, 2]), 0.0, false).unwrap();
        assert!(plain.is_plain());
        let names: Vec<String> = plain.parameters().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    }

    #[test]
    fn bad_networks_are_refused() {
        assert_eq!(
            Network::new(mlp(&[3, 4, 2]), 1.0, false),
            Err(NetworkError::DropoutRate(1.0))
        );
        assert_eq!(
            Network::new(mlp(&[3, 2]), 0.5, false),
            Err(NetworkError::NoHiddenLayer)
        );
        assert!(Network::new(mlp(&[3, 2]), 0.0, false).is_ok());
        let mut network = Network::new(mlp(&[3, 4, 2]), 0.0, true).unwrap();
        network.batch_norms[0] = BatchNorm::new(3);
        assert_eq!(
            network.check(),
            Err(NetworkError::BatchNormWidth {
                index: 0,
                expected: 4,
                found: 3
            })
        );
    }

    #[test]
    fn folding_batch_norm_keeps_the_evaluation_output() {
        let mut network = Network::new(mlp(&[3, 4, 2]), 0.0, true).unwrap();
        let bn = &mut network.batch_norms[0];
        bn.gamma = DVector::from_vec(vec![0.5, 2.0, -1.0, 1.5]);
        bn.beta = DVector::from_vec(vec![0.1, -0.2, 0.3, 0.0]);
        bn.running_mean = DVector::from_vec(vec![0.05, -0.1, 0.2, 0.0]);
        bn.running_var = DVector::from_vec(vec![0.5, 2.0, 1.0, 0.25]);
        let folded = network.to_evaluation_mlp();
        let Layer::Linear(original) = &network.mlp.layers[0] else {
            panic!()
        };
        let Layer::Linear(linear) = &folded.layers[0] else {
            panic!()
        };
        let x = DVector::from_vec(vec![0.3f32, -0.7, 1.1]);
        let z = &original.weights * &x + &original.bias;
        let folded_z = &linear.weights * &x + &linear.bias;
        let bn = &network.batch_norms[0];
        for o in 0..4 {
            let expected = bn.gamma[o] * (z[o] - bn.running_mean[o])
                / (bn.running_var[o] + bn.epsilon).sqrt()
                + bn.beta[o];
            assert!((folded_z[o] - expected).abs() < 1e-5, "unit {o}");
        }
    }
}
