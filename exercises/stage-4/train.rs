//! Stage 4: gradient descent, put together. Your exercise: fill in every `// TODO`.
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
    // TODO: 1. trace = mlp.forward_trace(input)?; the output is its last element.
    // 2. The loss value and its gradient for `loss` (for MeanSquared, turn the
    //    targets into a matrix with `targets.to_dense(rows, columns)?`).
    // 3. grads = mlp_backward(mlp, &trace, &gradient)?
    // 4. optimizer.step(&mut mlp.parameters_mut(), &grads.flat())?
    // Return `Step { loss, output }` (the output from step 1, before the update).
    todo!("train_step")
}
// ANCHOR_END: train_step
