//! How a network is put together: [`Linear`] and [`Maxout`] layers,
//! activations, and the [`Mlp`] that holds them in order, with its weights
//! named as PyTorch names them.
//!
//! Given, not an exercise: these are plain data. What they compute is stage
//! 3's exercise (`layers::linear_forward`, `mlp::forward`, …), and how their
//! weights start is its `init::init_weights`.

use std::fmt;

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::activation::Activation;
use crate::shape::ShapeError;

/// A scheme for drawing a layer's initial weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// Glorot & Bengio (2010): U(−a, a), a = √(6 / (fan_in + fan_out)).
    XavierUniform,
    /// Glorot & Bengio (2010): N(0, σ²), σ = √(2 / (fan_in + fan_out)).
    XavierNormal,
    /// He et al. (2015), for ReLU: U(−a, a), a = √(6 / fan_in).
    KaimingUniform,
    /// He et al. (2015), for ReLU: N(0, σ²), σ = √(2 / fan_in).
    KaimingNormal,
}

impl Init {
    /// Every scheme.
    pub const ALL: [Self; 4] = [
        Self::XavierUniform,
        Self::XavierNormal,
        Self::KaimingUniform,
        Self::KaimingNormal,
    ];

    /// True for the schemes that draw from a uniform distribution.
    pub fn is_uniform(self) -> bool {
        matches!(self, Self::XavierUniform | Self::KaimingUniform)
    }
}

/// A fully connected layer: Z = A Wᵀ + b.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// W, shape (out, in): row o holds the weights of output unit o.
    pub weights: DMatrix<f32>,
    /// b, length out.
    pub bias: DVector<f32>,
}

impl Linear {
    /// A layer with the given weights (out, in) and bias (out).
    pub fn new(weights: DMatrix<f32>, bias: DVector<f32>) -> Result<Self, ShapeError> {
        if bias.len() != weights.nrows() {
            return Err(ShapeError::new(
                "Linear bias (one value per row of the weights)",
                (Some(weights.nrows()), Some(1)),
                (bias.len(), 1),
            ));
        }
        Ok(Self { weights, bias })
    }

    /// The number of inputs, in.
    pub fn in_features(&self) -> usize {
        self.weights.ncols()
    }

    /// The number of outputs, out.
    pub fn out_features(&self) -> usize {
        self.weights.nrows()
    }
}

/// A maxout layer: `out` units, each the maximum of `pieces` linear pieces of
/// the input. Its linear part maps in → out · pieces; unit o takes the max
/// over columns o·pieces .. (o + 1)·pieces of that part's output.
#[derive(Clone, Debug, PartialEq)]
pub struct Maxout {
    /// in → out · pieces.
    pub linear: Linear,
    /// k, the number of pieces per unit.
    pub pieces: usize,
}

impl Maxout {
    /// The number of output units.
    pub fn out_features(&self) -> usize {
        self.linear.out_features() / self.pieces
    }
}

/// One step of a network.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    Linear(Linear),
    Activation(Activation),
    Maxout(Maxout),
}

impl Layer {
    /// A linear layer with these weights (out, in) and zero biases.
    pub fn linear(weights: DMatrix<f32>) -> Self {
        let bias = DVector::zeros(weights.nrows());
        Self::Linear(Linear { weights, bias })
    }

    /// A maxout layer with `pieces` pieces per unit, whose linear part has
    /// these weights (out · pieces, in) and zero biases.
    pub fn maxout(weights: DMatrix<f32>, pieces: usize) -> Self {
        let bias = DVector::zeros(weights.nrows());
        Self::Maxout(Maxout {
            linear: Linear { weights, bias },
            pieces,
        })
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
    /// (`Activation::Identity` for none). Biases start at zero; each weight
    /// matrix is `draw(init, fan_out, fan_in, rng)`, layer by layer from one
    /// generator seeded with `seed`. Stage 3's `init::init_weights` is such a
    /// `draw`.
    pub fn new(
        widths: &[usize],
        activations: &[Activation],
        init: Init,
        seed: u64,
        mut draw: impl FnMut(Init, usize, usize, &mut ChaCha8Rng) -> DMatrix<f32>,
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
            layers.push(Layer::linear(draw(init, pair[1], pair[0], &mut rng)));
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

    /// Weights that depend only on their shape, so these tests need no
    /// initialisation scheme.
    fn ones(_: Init, fan_out: usize, fan_in: usize, _: &mut ChaCha8Rng) -> DMatrix<f32> {
        DMatrix::from_element(fan_out, fan_in, 1.0)
    }

    #[test]
    fn build_errors_say_what_is_wrong() {
        let relu = Activation::Relu;
        let err = |r: Result<Mlp, BuildError>| r.unwrap_err().to_string();
        assert_eq!(
            err(Mlp::new(&[3], &[], Init::XavierUniform, 0, ones)),
            "an MLP needs at least 2 widths (input and output), found 1"
        );
        assert_eq!(
            err(Mlp::new(&[3, 4, 2], &[relu], Init::XavierUniform, 0, ones)),
            "2 linear layers need 2 activations (use Activation::Identity for none), found 1"
        );
        assert_eq!(
            err(Mlp::new(
                &[3, 0, 2],
                &[relu, relu],
                Init::XavierUniform,
                0,
                ones
            )),
            "width 1 is 0"
        );
        let layers = vec![
            Layer::linear(DMatrix::zeros(4, 3)),
            Layer::Activation(relu),
            Layer::linear(DMatrix::zeros(2, 5)),
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
            ones,
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
