//! Stage 3: the linear layer and the maxout layer. Your exercise: fill in every `// TODO`.
//!
//! Shapes follow PyTorch and CMU's MyTorch: a batch of inputs A is
//! (batch, in), one example per row; a layer's weights W are (out, in); its
//! bias b has length out; and its output Z = A Wᵀ + b is (batch, out).

use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DVector};

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
                "Linear bias",
                format!(
                    "({}, 1) to match the weights' {} rows",
                    weights.nrows(),
                    weights.nrows()
                ),
                (bias.len(), 1),
            ));
        }
        Ok(Self { weights, bias })
    }

    /// The number of inputs, `in`.
    pub fn in_features(&self) -> usize {
        self.weights.ncols()
    }

    /// The number of outputs, `out`.
    pub fn out_features(&self) -> usize {
        self.weights.nrows()
    }

    // ANCHOR: linear_forward
    /// Z = A Wᵀ + b for a whole batch: `input` A is (batch, in), the result
    /// is (batch, out), and b is added to every row.
    ///
    /// An input with the wrong number of columns is a [`ShapeError`] that
    /// names the expected and found shapes.
    pub fn forward(&self, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
        // TODO: if `input.ncols()` is not `self.in_features()`, return
        // `Err(ShapeError::new("Linear::forward input", format!("(batch, {})", self.in_features()), input.shape()))`.
        // Then compute A Wᵀ (`input * self.weights.transpose()`), add the bias to
        // every row (`for mut row in z.row_iter_mut()`, `row += self.bias.transpose()`),
        // and return it in `Ok`.
        todo!("Linear::forward")
    }
    // ANCHOR_END: linear_forward

    // ANCHOR: linear_parameter_count
    /// The number of trainable numbers: every weight and every bias.
    pub fn parameter_count(&self) -> usize {
        // TODO: out · in weights plus out biases.
        todo!("Linear::parameter_count")
    }
    // ANCHOR_END: linear_parameter_count
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

    // ANCHOR: maxout_forward
    /// Shapes: `input` (batch, in) → (batch, out). Output (r, o) is the largest
    /// of the linear part's outputs (r, o·k), …, (r, o·k + k − 1).
    pub fn forward(&self, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
        // TODO: z = self.linear.forward(input)? is (batch, out · k). Build the
        // (batch, out) result, for example with `DMatrix::from_fn(rows, cols, |r, o| ...)`;
        // `z.view((r, o * k), (1, k))` is the 1 × k block of unit o's pieces, and
        // a view has `.max()`.
        todo!("Maxout::forward")
    }
    // ANCHOR_END: maxout_forward
}
