//! [`Mlp`] and [`Layer`]: how a network is put together, named and built.
//!
//! This file is given, not an exercise. It is compiled with the stage-3
//! files beside it: the learner's in `stage-3`, the reference in the
//! `reference` crate.

use std::fmt;

use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::Activation;
use crate::init::{Init, init_weights};
use crate::layers::{Linear, Maxout};

/// One step of a network.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Linear(Linear),
    Activation(Activation),
    Maxout(Maxout),
}

impl Layer {
    /// A linear layer in → out with weights drawn by `init` and zero biases.
    pub fn linear(inputs: usize, outputs: usize, init: Init, rng: &mut ChaCha8Rng) -> Self {
        Self::Linear(Linear {
            weights: init_weights(init, outputs, inputs, rng),
            bias: DVector::zeros(outputs),
        })
    }

    /// A maxout layer in → out with `pieces` pieces per unit.
    pub fn maxout(
        inputs: usize,
        outputs: usize,
        pieces: usize,
        init: Init,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        Self::Maxout(Maxout {
            linear: Linear {
                weights: init_weights(init, outputs * pieces, inputs, rng),
                bias: DVector::zeros(outputs * pieces),
            },
            pieces,
        })
    }

    /// This layer's output for a batch.
    pub fn forward(&self, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
        match self {
            Self::Linear(linear) => linear.forward(input),
            Self::Activation(activation) => Ok(activation.apply_matrix(input)),
            Self::Maxout(maxout) => maxout.forward(input),
        }
    }

    /// (inputs, outputs) for layers that fix them; None for activations.
    pub fn widths(&self) -> Option<(usize, usize)> {
        match self {
            Self::Linear(linear) => Some((linear.in_features(), linear.out_features())),
            Self::Maxout(maxout) => Some((maxout.linear.in_features(), maxout.out_features())),
            Self::Activation(_) => None,
        }
    }
}

/// A multilayer perceptron: layers applied in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Layer>,
}

/// Why a network could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// Fewer than two widths: a network needs an input and an output width.
    TooFewWidths(usize),
    /// `activations` must hold one activation per linear layer.
    ActivationCount { layers: usize, activations: usize },
    /// A width of zero at this position of `widths`.
    ZeroWidth { index: usize },
    /// A maxout layer with no pieces.
    ZeroPieces { layer: usize },
    /// Layer `layer` takes `expected` inputs but the layer before gives `found`.
    Mismatch {
        layer: usize,
        expected: usize,
        found: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooFewWidths(n) => write!(
                f,
                "an MLP needs at least 2 widths (input and output), found {n}"
            ),
            Self::ActivationCount {
                layers,
                activations,
            } => write!(
                f,
                "{layers} linear layers need {layers} activations (use Activation::Identity for none), found {activations}"
            ),
            Self::ZeroWidth { index } => write!(f, "width {index} is 0"),
            Self::ZeroPieces { layer } => write!(f, "maxout layer {layer} has 0 pieces"),
            Self::Mismatch {
                layer,
                expected,
                found,
            } => write!(
                f,
                "layer {layer} takes {expected} inputs but the layers before it give {found}"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// One trainable tensor of a network, read-only, named as PyTorch's
/// `nn.Sequential` would name it (`0.weight`, `0.bias`, `2.weight`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter<'a> {
    pub name: String,
    /// PyTorch's shape: [out, in] for weights, [out] for biases.
    pub shape: Vec<usize>,
    /// The values in nalgebra's order: column by column for a weight matrix.
    pub values: &'a [f32],
}

impl Mlp {
    /// A network of linear layers of the given widths, `widths[0]` inputs to
    /// `widths[n]` outputs, each linear layer followed by its activation
    /// (`Activation::Identity` for none). Weights are drawn by `init` from a
    /// generator seeded with `seed`; biases start at zero.
    pub fn new(
        widths: &[usize],
        activations: &[Activation],
        init: Init,
        seed: u64,
    ) -> Result<Self, BuildError> {
        if widths.len() < 2 {
            return Err(BuildError::TooFewWidths(widths.len()));
        }
        if let Some(index) = widths.iter().position(|&w| w == 0) {
            return Err(BuildError::ZeroWidth { index });
        }
        if activations.len() != widths.len() - 1 {
            return Err(BuildError::ActivationCount {
                layers: widths.len() - 1,
                activations: activations.len(),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::new();
        for (pair, &activation) in widths.windows(2).zip(activations) {
            layers.push(Layer::linear(pair[0], pair[1], init, &mut rng));
            if activation != Activation::Identity {
                layers.push(Layer::Activation(activation));
            }
        }
        Ok(Self { layers })
    }

    /// A network of the given layers, checking that each layer takes as many
    /// inputs as the layers before it give.
    pub fn from_layers(layers: Vec<Layer>) -> Result<Self, BuildError> {
        let mut width = None;
        for (index, layer) in layers.iter().enumerate() {
            if let Layer::Maxout(maxout) = layer
                && maxout.pieces == 0
            {
                return Err(BuildError::ZeroPieces { layer: index });
            }
            if let Some((inputs, outputs)) = layer.widths() {
                if let Some(found) = width
                    && found != inputs
                {
                    return Err(BuildError::Mismatch {
                        layer: index,
                        expected: inputs,
                        found,
                    });
                }
                width = Some(outputs);
            }
        }
        Ok(Self { layers })
    }

    /// The number of inputs the first sized layer takes, if any.
    pub fn in_features(&self) -> Option<usize> {
        self.layers.iter().find_map(|l| l.widths()).map(|w| w.0)
    }

    /// The number of outputs of the last sized layer, if any.
    pub fn out_features(&self) -> Option<usize> {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.widths())
            .map(|w| w.1)
    }

    /// Every weight and bias, in layer order, weight before bias.
    pub fn parameters(&self) -> Vec<Parameter<'_>> {
        let mut out = Vec::new();
        for (index, layer) in self.layers.iter().enumerate() {
            let (linear, prefix) = match layer {
                Layer::Linear(linear) => (linear, format!("{index}")),
                Layer::Maxout(maxout) => (&maxout.linear, format!("{index}.linear")),
                Layer::Activation(_) => continue,
            };
            out.push(Parameter {
                name: format!("{prefix}.weight"),
                shape: vec![linear.out_features(), linear.in_features()],
                values: linear.weights.as_slice(),
            });
            out.push(Parameter {
                name: format!("{prefix}.bias"),
                shape: vec![linear.out_features()],
                values: linear.bias.as_slice(),
            });
        }
        out
    }

    /// The same tensors as [`Mlp::parameters`], in the same order, writable:
    /// what an optimiser updates.
    pub fn parameters_mut(&mut self) -> Vec<&mut [f32]> {
        let mut out = Vec::new();
        for layer in &mut self.layers {
            let linear = match layer {
                Layer::Linear(linear) => linear,
                Layer::Maxout(maxout) => &mut maxout.linear,
                Layer::Activation(_) => continue,
            };
            out.push(linear.weights.as_mut_slice());
            out.push(linear.bias.as_mut_slice());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_errors_say_what_is_wrong() {
        let relu = Activation::Relu;
        let err = |r: Result<Mlp, BuildError>| r.unwrap_err().to_string();
        assert_eq!(
            err(Mlp::new(&[3], &[], Init::XavierUniform, 0)),
            "an MLP needs at least 2 widths (input and output), found 1"
        );
        assert_eq!(
            err(Mlp::new(&[3, 4, 2], &[relu], Init::XavierUniform, 0)),
            "2 linear layers need 2 activations (use Activation::Identity for none), found 1"
        );
        assert_eq!(
            err(Mlp::new(&[3, 0, 2], &[relu, relu], Init::XavierUniform, 0)),
            "width 1 is 0"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let layers = vec![
            Layer::linear(3, 4, Init::XavierUniform, &mut rng),
            Layer::Activation(relu),
            Layer::linear(5, 2, Init::XavierUniform, &mut rng),
        ];
        assert_eq!(
            err(Mlp::from_layers(layers)),
            "layer 2 takes 5 inputs but the layers before it give 4"
        );
    }

    #[test]
    fn parameters_are_named_like_pytorch_sequential() {
        let mlp = Mlp::new(
            &[3, 4, 2],
            &[Activation::Relu, Activation::Identity],
            Init::KaimingNormal,
            0,
        )
        .unwrap();
        let params = mlp.parameters();
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        let shapes: Vec<&[usize]> = params.iter().map(|p| p.shape.as_slice()).collect();
        assert_eq!(shapes, [&[4, 3][..], &[4], &[2, 4], &[2]]);
        let mut mlp = mlp.clone();
        let sizes: Vec<usize> = mlp.parameters_mut().iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [12, 4, 8, 2]);
        assert_eq!((mlp.in_features(), mlp.out_features()), (Some(3), Some(2)));
    }
}
