//! Stage 4: optimisers (reference solution).
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
    check_pairs(params, grads)?;
    let first_step = sgd.velocity.is_empty();
    if first_step {
        sgd.velocity = grads.iter().map(|g| vec![0.0; g.len()]).collect();
    }
    for ((p, g), b) in params.iter_mut().zip(grads).zip(&mut sgd.velocity) {
        for ((p, &g), b) in p.iter_mut().zip(g.iter()).zip(b.iter_mut()) {
            let mut g = g + sgd.weight_decay * *p;
            if sgd.momentum != 0.0 {
                *b = if first_step { g } else { sgd.momentum * *b + g };
                g = if sgd.nesterov {
                    g + sgd.momentum * *b
                } else {
                    *b
                };
            }
            *p -= sgd.learning_rate * g;
        }
    }
    Ok(())
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
    check_pairs(params, grads)?;
    if adam.first_moment.is_empty() {
        adam.first_moment = grads.iter().map(|g| vec![0.0; g.len()]).collect();
        adam.second_moment = adam.first_moment.clone();
    }
    adam.steps += 1;
    let t = adam.steps as i32;
    let correction1 = 1.0 - adam.beta1.powi(t);
    let correction2 = 1.0 - adam.beta2.powi(t);
    let moments = adam.first_moment.iter_mut().zip(&mut adam.second_moment);
    for ((p, g), (m, v)) in params.iter_mut().zip(grads).zip(moments) {
        for (((p, &g), m), v) in p
            .iter_mut()
            .zip(g.iter())
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            let g = if adam.decoupled_weight_decay {
                *p -= adam.learning_rate * adam.weight_decay * *p;
                g
            } else {
                g + adam.weight_decay * *p
            };
            *m = adam.beta1 * *m + (1.0 - adam.beta1) * g;
            *v = adam.beta2 * *v + (1.0 - adam.beta2) * g * g;
            let m_hat = *m / correction1;
            let v_hat = *v / correction2;
            *p -= adam.learning_rate * m_hat / (v_hat.sqrt() + adam.epsilon);
        }
    }
    Ok(())
}

// ANCHOR_END: adam_step

// ANCHOR: optimizer_step
/// One step of whichever optimiser `optimizer` holds.
pub fn step(
    optimizer: &mut Optimizer,
    params: &mut [&mut [f32]],
    grads: &[&[f32]],
) -> Result<(), ShapeError> {
    match optimizer {
        Optimizer::Sgd(sgd) => sgd_step(sgd, params, grads),
        Optimizer::Adam(adam) => adam_step(adam, params, grads),
    }
}
// ANCHOR_END: optimizer_step
