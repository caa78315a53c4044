//! Stage 4: gradient descent, put together. Your exercise: fill in every `// TODO`.
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
    // TODO: the four steps above, with your functions of stages 3 and 4 and
    // the loss `loss` names. Any shape error stops the step before the
    // update.
    todo!("train_step")
}
// ANCHOR_END: train_step
