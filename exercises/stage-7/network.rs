//! Stage 7: a network with batch normalisation and dropout, in its two
//! modes. Your exercise: fill in every `// TODO`.
//!
//! - Evaluation (`forward_eval`): dropout is the identity (no function is
//!   needed for it: the input passes unchanged), and each batch-norm layer
//!   uses its running estimates. It takes `&Network` and no random number
//!   generator, so it can change nothing and draw nothing.
//! - Training (`train_step`): dropout draws fresh masks and batch norm uses
//!   the batch's statistics and moves its running estimates. It takes
//!   `&mut Network` and an rng, so the two modes cannot be mixed up
//!   silently: there is no `training: bool` flag to forget.
//!
//! Given code it uses, from `crates/support/src/`: `Network` and `Part` in
//! `regularise.rs`; `Step` and `Targets` in `gradients.rs`; `Optimizer` in
//! `optim.rs`; `Layer` in `network.rs`. From the reference of stages 3 and
//! 4: `layer_forward`, `linear_backward`, `activation_backward`,
//! `maxout_backward`, `cross_entropy`, `cross_entropy_gradient` and `step`.
//! From this stage: your dropout and batch norm, and `Saved` (below).

use course_support::gradients::{Step, Targets};
use course_support::network::Layer;
use course_support::optim::Optimizer;
use course_support::regularise::{BatchNormCache, Network, Part};
use course_support::shape::ShapeError;
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;

use crate::backward::{activation_backward, linear_backward, maxout_backward};
use crate::batch_norm::{batch_norm_backward, batch_norm_eval, batch_norm_train};
use crate::dropout::{dropout_backward, dropout_forward, dropout_mask};
use crate::losses::{cross_entropy, cross_entropy_gradient};
use crate::mlp::layer_forward;
use crate::optim::step;

/// What one part of the network keeps from a training forward pass for its
/// backward pass (given: `train_step` may use it): a layer its input, a
/// batch-norm layer its cache, dropout its mask.
enum Saved {
    Input(DMatrix<f32>),
    Cache(BatchNormCache),
    Mask(DMatrix<f32>),
}

// ANCHOR: forward_eval
/// The network's output (logits, (batch, classes)) in evaluation mode: the
/// batch goes through `network.parts()` in order; a layer computes its
/// forward pass, a batch-norm layer `batch_norm_eval` (the running
/// estimates), and dropout passes its input on unchanged. Any batch size
/// works, 1 included, and each row's output depends on that row alone.
pub fn forward_eval(network: &Network, input: &DMatrix<f32>) -> Result<DMatrix<f32>, ShapeError> {
    // TODO: feed the batch through the parts in order, as described above.
    todo!("forward_eval")
}
// ANCHOR_END: forward_eval

// ANCHOR: train_step
/// One training step on a batch (N, in) with one class label per row:
///
/// 1. Forward in training mode through `network.parts()` in order: a layer
///    its forward pass; a batch-norm layer `batch_norm_train` (the batch's
///    statistics; its running estimates move); dropout the input times a
///    fresh mask, `dropout_mask(N, units, network.dropout, rng)`. One mask
///    per dropout part, drawn in the order the batch meets them, and
///    nothing else draws from `rng`: the first hidden layer's mask comes
///    first.
/// 2. The softmax cross-entropy of the logits against the labels
///    (`Targets::Classes`), and its gradient.
/// 3. Backward through every part in reverse: linear, maxout and
///    activation layers as in stage 4, batch norm with
///    `batch_norm_backward`, dropout with `dropout_backward` and the same
///    mask as its forward pass.
/// 4. One optimiser `step` over `network.parameters_mut()`, with the
///    gradients in the same order: each linear layer's weight and bias,
///    then the γ and β of the batch norm that follows it.
///
/// Returns the loss and the logits, both from before the update.
///
/// Errors: an error of any part (a shape, a batch of one row for batch
/// norm, labels that do not fit the logits, …) is returned, and then
/// `network` and `optimizer` are exactly as they were before the call:
/// every weight, bias, γ and β, every running mean and variance (although
/// the error may come from the loss, after the batch norms' forward
/// passes), the dropout rate, and the optimiser's state. `rng` may have
/// advanced: masks drawn before the error stay drawn.
pub fn train_step(
    network: &mut Network,
    optimizer: &mut Optimizer,
    input: &DMatrix<f32>,
    labels: &[usize],
    rng: &mut ChaCha8Rng,
) -> Result<Step, ShapeError> {
    // TODO: the four steps above. Keep what each part's backward pass needs, and
    // change nothing in `network` until every step has succeeded (if the borrow
    // checker objects, `cargo course hint 7 train_step` has a hint about it).
    todo!("train_step")
}
// ANCHOR_END: train_step
