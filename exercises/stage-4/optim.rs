//! Stage 4: optimisers. Your exercise: fill in every `// TODO`.
//!
//! The structs, with their settings and state, are in
//! `crates/stage-4/given.rs`; here is how each takes a step. Both work on
//! flat slices, one per parameter tensor, so they fit any model.

use course_support::shape::ShapeError;

use crate::given::{Adam, Optimizer, Sgd, check_pairs};

impl Optimizer for Sgd {
    // ANCHOR: sgd_step
    /// For each parameter p with gradient g, as `torch.optim.SGD`:
    ///
    /// - weight decay: g ← g + λ p;
    /// - with momentum μ > 0: b ← g on the first step, b ← μ b + g after;
    ///   then g ← g + μ b (Nesterov) or g ← b (classical);
    /// - p ← p − η g.
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<(), ShapeError> {
        // TODO: `check_pairs(params, grads)?` first. On the first step (the
        // velocity is empty) make one zero buffer per tensor. Then, for every
        // entry of every tensor, apply the rules above in order. Hint: zip the
        // three: `params.iter_mut().zip(grads).zip(&mut self.velocity)`.
        todo!("Sgd::step")
    }
    // ANCHOR_END: sgd_step

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}

impl Optimizer for Adam {
    // ANCHOR: adam_step
    /// For each parameter p with gradient g, at step t = 1, 2, …, as
    /// `torch.optim.Adam` (and `AdamW` when the decay is decoupled):
    ///
    /// - Adam's weight decay: g ← g + λ p; AdamW's: p ← p − η λ p;
    /// - m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
    /// - m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);
    /// - p ← p − η m̂ / (√v̂ + ε).
    fn step(&mut self, params: &mut [&mut [f32]], grads: &[&[f32]]) -> Result<(), ShapeError> {
        // TODO: `check_pairs(params, grads)?`; on the first step make zero
        // buffers for both moments. Count the step (`self.steps += 1`) before
        // using t. Then apply the rules above to every entry. Hint: `x.powi(t)`
        // takes an i32; β₁ᵗ and β₂ᵗ are the same for every entry.
        todo!("Adam::step")
    }
    // ANCHOR_END: adam_step

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
