//! Stage 4: optimisers. Your exercise: fill in every `// TODO`.
//!
//! The optimisers' settings and state, [`Sgd`] and [`Adam`], are given in
//! `crates/support/src/optim.rs`; here is how each takes a step. Both work
//! on flat slices, one per parameter tensor, so they fit any model.

use course_support::optim::{Adam, Optimizer, Sgd, check_pairs};
use course_support::shape::ShapeError;

// ANCHOR: sgd_step
/// For each parameter p with gradient g, as `torch.optim.SGD`:
///
/// - weight decay: g ← g + λ p;
/// - with momentum μ > 0: b ← g on the first step, b ← μ b + g after;
///   then g ← g + μ b (Nesterov) or g ← b (classical);
/// - p ← p − η g.
pub fn sgd_step(
    sgd: &mut Sgd,
    params: &mut [&mut [f32]],
    grads: &[&[f32]],
) -> Result<(), ShapeError> {
    // TODO: one step, the rules above in order, for every entry of every
    // tensor. Gradients that do not pair up with the parameters (see
    // `check_pairs`) are an error, and then no parameter changes.
    todo!("sgd_step")
}

// ANCHOR_END: sgd_step

// ANCHOR: adam_step
/// For each parameter p with gradient g, at step t = 1, 2, …, as
/// `torch.optim.Adam` (and `AdamW` when the decay is decoupled):
///
/// - Adam's weight decay: g ← g + λ p; AdamW's: p ← p − η λ p;
/// - m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
/// - m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);
/// - p ← p − η m̂ / (√v̂ + ε).
pub fn adam_step(
    adam: &mut Adam,
    params: &mut [&mut [f32]],
    grads: &[&[f32]],
) -> Result<(), ShapeError> {
    // TODO: one step, the rules above in order; the first step is t = 1.
    // Gradients that do not pair up with the parameters are an error, and
    // then no parameter changes.
    todo!("adam_step")
}

// ANCHOR_END: adam_step

// ANCHOR: optimizer_step
/// One step of whichever optimiser `optimizer` holds.
pub fn step(
    optimizer: &mut Optimizer,
    params: &mut [&mut [f32]],
    grads: &[&[f32]],
) -> Result<(), ShapeError> {
    // TODO: the step of the optimiser `optimizer` holds, with its own state.
    todo!("step")
}
// ANCHOR_END: optimizer_step
