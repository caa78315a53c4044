//! Stage 4: backpropagation (reference solution).
//!
//! Each function takes what its layer saw in the forward pass and dL/d(its
//! output), and returns dL/d(its input), plus the gradients of its own
//! parameters. Shapes follow stage 3: A is (batch, in), W is (out, in),
//! Z = A Wᵀ + b is (batch, out).
//!
//! Given code it uses, from `crates/support/src/`: `LinearGradients` and
//! `MlpGradients` in `gradients.rs`; `Mlp`, `Layer`, `Linear` and `Maxout`
//! in `network.rs`; `Activation` in `activation.rs`. From the reference of
//! stages 2 and 3: `derivative` and `linear_forward`.

use course_support::activation::Activation;
use course_support::gradcheck::{GradientReport, Tolerance, check_gradients};
use course_support::gradients::{LinearBackward, LinearGradients, MlpGradients};
use course_support::network::{Layer, Linear, Maxout, Mlp};
use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DVector};

use crate::activations::derivative;
use crate::layers::linear_forward;

// ANCHOR: linear_backward
/// Backward through Z = A Wᵀ + b, given the layer's input A (batch, in) and
/// dL/dZ (batch, out):
///
/// - dL/dA = dL/dZ · W, shape (batch, in);
/// - dL/dW = (dL/dZ)ᵀ · A, shape (out, in);
/// - dL/db = the column sums of dL/dZ, length out.
pub fn linear_backward(
    layer: &Linear,
    input: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<LinearGradients, ShapeError> {
    ShapeError::check(
        "linear_backward input",
        (input.nrows(), layer.in_features()),
        input.shape(),
    )?;
    ShapeError::check(
        "linear_backward grad_output",
        (input.nrows(), layer.out_features()),
        grad_output.shape(),
    )?;
    Ok(LinearGradients {
        input: grad_output * &layer.weights,
        weights: grad_output.transpose() * input,
        bias: grad_output.row_sum().transpose(),
    })
}
// ANCHOR_END: linear_backward

// ANCHOR: activation_backward
/// Backward through an element-wise activation A = f(Z): given Z and dL/dA
/// (same shape), dL/dZ = dL/dA ⊙ f′(Z), entry by entry.
pub fn activation_backward(
    activation: Activation,
    pre_activation: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<DMatrix<f32>, ShapeError> {
    ShapeError::check(
        "activation_backward grad_output",
        pre_activation.shape(),
        grad_output.shape(),
    )?;
    Ok(grad_output.zip_map(pre_activation, |g, z| g * derivative(activation, z)))
}
// ANCHOR_END: activation_backward

// ANCHOR: maxout_backward
/// Backward through a maxout layer: only the winning piece of each unit
/// passes the gradient on. Route dL/d(output) (batch, out) to the winners'
/// columns of the linear part's output (batch, out · k), zeros elsewhere,
/// then go back through the linear part.
pub fn maxout_backward(
    layer: &Maxout,
    input: &DMatrix<f32>,
    grad_output: &DMatrix<f32>,
) -> Result<LinearGradients, ShapeError> {
    let z = linear_forward(&layer.linear, input)?;
    ShapeError::check(
        "maxout_backward grad_output",
        (input.nrows(), layer.out_features()),
        grad_output.shape(),
    )?;
    let k = layer.pieces;
    let mut grad_z = DMatrix::zeros(z.nrows(), z.ncols());
    for r in 0..z.nrows() {
        for o in 0..layer.out_features() {
            // The first largest piece wins, as in the forward pass.
            let mut winner = o * k;
            for column in o * k + 1..(o + 1) * k {
                if z[(r, column)] > z[(r, winner)] {
                    winner = column;
                }
            }
            grad_z[(r, winner)] = grad_output[(r, o)];
        }
    }
    linear_backward(&layer.linear, input, &grad_z)
}
// ANCHOR_END: maxout_backward

// ANCHOR: mlp_backward
/// Backward through a whole network. `trace` is `forward_trace(mlp, input)`:
/// trace[i] is the input of layer i. Walk the layers from last to first,
/// passing each one's input gradient to the layer before it.
pub fn mlp_backward(
    mlp: &Mlp,
    trace: &[DMatrix<f32>],
    grad_output: &DMatrix<f32>,
) -> Result<MlpGradients, ShapeError> {
    if trace.len() != mlp.layers.len() + 1 {
        return Err(ShapeError::count(
            "mlp_backward trace (forward_trace's matrices)",
            mlp.layers.len() + 1,
            trace.len(),
        ));
    }
    let mut grad = grad_output.clone();
    let mut layers = vec![None; mlp.layers.len()];
    for (i, layer) in mlp.layers.iter().enumerate().rev() {
        grad = match layer {
            Layer::Activation(activation) => activation_backward(*activation, &trace[i], &grad)?,
            Layer::Linear(linear) => {
                let g = linear_backward(linear, &trace[i], &grad)?;
                layers[i] = Some((g.weights, g.bias));
                g.input
            }
            Layer::Maxout(maxout) => {
                let g = maxout_backward(maxout, &trace[i], &grad)?;
                layers[i] = Some((g.weights, g.bias));
                g.input
            }
        };
    }
    Ok(MlpGradients {
        input: grad,
        layers,
    })
}
// ANCHOR_END: mlp_backward

// ANCHOR: check_linear_backward
/// Checks a linear layer's backward pass with the course's gradient checker,
/// `course_support::gradcheck::check_gradients`. For the loss L = Σ R ⊙ Z,
/// where Z = A Wᵀ + b is the layer's output for `input` A and `r` is a fixed
/// matrix R of Z's shape, dL/dZ = R; so `backward(layer, input, r)` must
/// match the slopes of L with respect to every weight, every bias and every
/// input. The report lists the tensors "weight", "bias" and "input", in that
/// order, checked with a step of 1e-2 and `Tolerance::F32`. A `backward`
/// that refuses the shapes is its error.
pub fn check_linear_backward(
    backward: LinearBackward,
    layer: &Linear,
    input: &DMatrix<f32>,
    r: &DMatrix<f32>,
) -> Result<GradientReport, ShapeError> {
    let analytic = backward(layer, input, r)?;
    let (out, inputs, rows) = (layer.out_features(), layer.in_features(), input.nrows());
    let tensors = [
        ("weight", layer.weights.as_slice()),
        ("bias", layer.bias.as_slice()),
        ("input", input.as_slice()),
    ]
    .map(|(name, values)| (name.to_owned(), values.to_vec()));
    // L as a function of the three tensors' values, rebuilt from the slices.
    let loss = |values: &[Vec<f32>]| {
        let nudged = Linear::new(
            DMatrix::from_column_slice(out, inputs, &values[0]),
            DVector::from_column_slice(&values[1]),
        )
        .expect("the layer's own shapes");
        let a = DMatrix::from_column_slice(rows, inputs, &values[2]);
        linear_forward(&nudged, &a).map_or(f32::NAN, |z| z.component_mul(r).sum())
    };
    let gradients = [
        analytic.weights.as_slice(),
        analytic.bias.as_slice(),
        analytic.input.as_slice(),
    ];
    Ok(check_gradients(
        &tensors,
        &gradients,
        loss,
        1e-2,
        Tolerance::F32,
    ))
}
// ANCHOR_END: check_linear_backward
