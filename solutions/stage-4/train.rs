//! Stage 4: gradient descent, put together (reference solution).
//!
//! Given code it uses: `Loss`, `Optimizer`, `Step` and `Targets` in
//! `crates/stage-4/given.rs`; `Mlp` in `crates/stage-3/network.rs`.

use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::backward::mlp_backward;
use crate::given::{Loss, Optimizer, Step, Targets};
use crate::losses::{cross_entropy, cross_entropy_gradient, mse, mse_gradient};
use crate::network::Mlp;

// ANCHOR: train_step
/// One step of gradient descent on one batch: forward (keeping the trace),
/// the loss and its gradient with respect to the network's output, backward,
/// and one optimiser update of every parameter. Returns the loss and the
/// network's output, both from before the update.
pub fn train_step(
    mlp: &mut Mlp,
    optimizer: &mut dyn Optimizer,
    input: &DMatrix<f32>,
    targets: &Targets,
    loss: Loss,
) -> Result<Step, ShapeError> {
    let mut trace = mlp.forward_trace(input)?;
    let output = trace.last().expect("a trace holds at least the input");
    let (value, grad_output) = match loss {
        Loss::CrossEntropy => (
            cross_entropy(output, targets)?,
            cross_entropy_gradient(output, targets)?,
        ),
        Loss::MeanSquared => {
            let t = targets.to_dense(output.nrows(), output.ncols())?;
            (mse(output, &t)?, mse_gradient(output, &t)?)
        }
    };
    let grads = mlp_backward(mlp, &trace, &grad_output)?;
    optimizer.step(&mut mlp.parameters_mut(), &grads.flat())?;
    let output = trace.pop().expect("a trace holds at least the input");
    Ok(Step {
        loss: value,
        output,
    })
}
// ANCHOR_END: train_step
