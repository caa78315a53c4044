//! Stage 4: optimisers (reference solution).
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
        check_pairs(params, grads)?;
        let first_step = self.velocity.is_empty();
        if first_step {
            self.velocity = grads.iter().map(|g| vec![0.0; g.len()]).collect();
        }
        for ((p, g), b) in params.iter_mut().zip(grads).zip(&mut self.velocity) {
            for ((p, &g), b) in p.iter_mut().zip(g.iter()).zip(b.iter_mut()) {
                let mut g = g + self.weight_decay * *p;
                if self.momentum != 0.0 {
                    *b = if first_step {
                        g
                    } else {
                        self.momentum * *b + g
                    };
                    g = if self.nesterov {
                        g + self.momentum * *b
                    } else {
                        *b
                    };
                }
                *p -= self.learning_rate * g;
            }
        }
        Ok(())
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
        check_pairs(params, grads)?;
        if self.first_moment.is_empty() {
            self.first_moment = grads.iter().map(|g| vec![0.0; g.len()]).collect();
            self.second_moment = self.first_moment.clone();
        }
        self.steps += 1;
        let t = self.steps as i32;
        let correction1 = 1.0 - self.beta1.powi(t);
        let correction2 = 1.0 - self.beta2.powi(t);
        let moments = self.first_moment.iter_mut().zip(&mut self.second_moment);
        for ((p, g), (m, v)) in params.iter_mut().zip(grads).zip(moments) {
            for (((p, &g), m), v) in p
                .iter_mut()
                .zip(g.iter())
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                let g = if self.decoupled_weight_decay {
                    *p -= self.learning_rate * self.weight_decay * *p;
                    g
                } else {
                    g + self.weight_decay * *p
                };
                *m = self.beta1 * *m + (1.0 - self.beta1) * g;
                *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
                let m_hat = *m / correction1;
                let v_hat = *v / correction2;
                *p -= self.learning_rate * m_hat / (v_hat.sqrt() + self.epsilon);
            }
        }
        Ok(())
    }
    // ANCHOR_END: adam_step

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) {
        self.learning_rate = learning_rate;
    }
}
