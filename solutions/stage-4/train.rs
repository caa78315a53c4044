//! Stage 4: gradient descent, put together (reference solution).
//!
//! Given code it uses, from `crates/support/src/`: `Loss`, `Step` and
//! `Targets` in `gradients.rs`; `Optimizer` in `optim.rs`; `Mlp` in
//! `network.rs`. From the reference of stage 3: `forward_trace`.

use course_support::gradients::{Loss, Step, Targets};
use course_support::network::Mlp;
use course_support::optim::Optimizer;
use course_support::shape::ShapeError;
use nalgebra::DMatrix;

use crate::backward::mlp_backward;
use crate::losses::{cross_entropy, cross_entropy_gradient, mse, mse_gradient};
use crate::mlp::forward_trace;
use crate::optim::step;

// ANCHOR: train_step
/// One step of gradient descent on one batch: forward (keeping the trace),
/// the loss and its gradient with respect to the network's output, backward,
/// and one optimiser update of every parameter. Returns the loss and the
/// network's output, both from before the update.
pub fn train_step(
    mlp: &mut Mlp,
    optimizer: &mut Optimizer,
    input: &DMatrix<f32>,
    targets: &Targets,
    loss: Loss,
) -> Result<Step, ShapeError> {
    let mut trace = forward_trace(mlp, input)?;
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
    step(optimizer, &mut mlp.parameters_mut(), &grads.flat())?;
    let output = trace.pop().expect("a trace holds at least the input");
    Ok(Step {
        loss: value,
        output,
    })
}
// ANCHOR_END: train_step
