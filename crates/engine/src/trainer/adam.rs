//! Adam's update inside the backward pass: the bias corrections folded
//! into two constants per step, and an AVX-512 loop that replaces the
//! division by a refined reciprocal.

use course_support::optim::Adam;

/// Adam's settings for one step, with the bias corrections of step t.
pub(super) struct AdamSettings {
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    weight_decay: f32,
    decoupled_weight_decay: bool,
    /// η / (1 − β₁ᵗ).
    step_size: f32,
    /// 1 / √(1 − β₂ᵗ).
    inverse_root_correction2: f32,
}

impl AdamSettings {
    pub(super) fn new(adam: &Adam) -> Self {
        // β^t for t beyond i32::MAX is 0 in f32, as it is at i32::MAX: a
        // saturating conversion, never a wrap to a negative power.
        let t = i32::try_from(adam.steps).unwrap_or(i32::MAX);
        Self {
            learning_rate: adam.learning_rate,
            beta1: adam.beta1,
            beta2: adam.beta2,
            epsilon: adam.epsilon,
            weight_decay: adam.weight_decay,
            decoupled_weight_decay: adam.decoupled_weight_decay,
            step_size: adam.learning_rate / (1.0 - adam.beta1.powi(t)),
            inverse_root_correction2: 1.0 / (1.0 - adam.beta2.powi(t)).sqrt(),
        }
    }
}

// ANCHOR: adam_update
/// Adam's update of one run of parameters: `optim.rs`'s rule with the bias
/// corrections folded into two constants per step, as `torch.optim.Adam`
/// does, p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε). That is one
/// division and one square root per parameter instead of three divisions
/// and a root. With AVX-512, the division itself is replaced by a
/// reciprocal estimate refined by one Newton step (see
/// `adam_update_avx512`); the tail, and machines without AVX-512, use the
/// exact loop.
pub(super) fn adam_update(
    s: &AdamSettings,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let done = adam_update_avx512(s, p, g, m, v);
    adam_update_exact(
        s,
        &mut p[done..],
        &g[done..],
        &mut m[done..],
        &mut v[done..],
    );
}

/// The update with a true division. Compiled for AVX-512 and AVX2 as well,
/// picked at run time.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn adam_update_exact(
    s: &AdamSettings,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = if s.decoupled_weight_decay {
            *p -= s.learning_rate * s.weight_decay * *p;
            g
        } else {
            g + s.weight_decay * *p
        };
        *m = s.beta1 * *m + (1.0 - s.beta1) * g;
        *v = s.beta2 * *v + (1.0 - s.beta2) * g * g;
        *p -= s.step_size * *m / (v.sqrt() * s.inverse_root_correction2 + s.epsilon);
    }
}

// ANCHOR_END: adam_update

// ANCHOR: adam_reciprocal
/// The update of the leading multiple of 16 parameters, 16 at a time, when
/// the processor has AVX-512; returns how many it updated (0 without it).
/// A vector division has a low throughput, so 1/d is estimated to 14 bits
/// (`rcp14`) and refined by one Newton step, r ← r (2 − d r), to within a
/// few units in the last place of f32.
///
/// With its data in the cache the loop is bound by its arithmetic, so it
/// saves operations: the step size η′ = η / (1 − β₁ᵗ) is folded into the
/// denominator, p ← p − m / d′ with d′ = (√v c + ε) / η′, so that
/// p ← p − m r is one fused multiply-add; and without weight decay its two
/// operations are not compiled in. Settings whose folded constants are not
/// finite (a learning rate of 0) are left to the exact loop.
pub(super) fn adam_update_avx512(
    s: &AdamSettings,
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) -> usize {
    let folded = [
        s.inverse_root_correction2 / s.step_size,
        s.epsilon / s.step_size,
    ];
    if !folded.iter().all(|c| c.is_finite() && *c > 0.0) {
        return 0;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the processor has AVX-512F, checked just above.
        return unsafe {
            match s.weight_decay == 0.0 {
                true => adam_update_avx512_unchecked::<false>(s, folded, p, g, m, v),
                false => adam_update_avx512_unchecked::<true>(s, folded, p, g, m, v),
            }
        };
    }
    let _ = (p, g, m, v);
    0
}

/// `adam_update_avx512`'s loop, with weight decay when `DECAY`; `folded`
/// is (c / η′, ε / η′). Safety: the processor must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn adam_update_avx512_unchecked<const DECAY: bool>(
    s: &AdamSettings,
    [correction, epsilon]: [f32; 2],
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    let n = p.len().min(g.len()).min(m.len()).min(v.len()) / 16 * 16;
    let (l2, shrink) = if s.decoupled_weight_decay {
        (0.0, s.learning_rate * s.weight_decay)
    } else {
        (s.weight_decay, 0.0)
    };
    let l2 = _mm512_set1_ps(l2);
    let shrink = _mm512_set1_ps(shrink);
    let beta1 = _mm512_set1_ps(s.beta1);
    let beta2 = _mm512_set1_ps(s.beta2);
    let one_minus_beta1 = _mm512_set1_ps(1.0 - s.beta1);
    let one_minus_beta2 = _mm512_set1_ps(1.0 - s.beta2);
    let correction = _mm512_set1_ps(correction);
    let epsilon = _mm512_set1_ps(epsilon);
    let two = _mm512_set1_ps(2.0);
    for i in (0..n).step_by(16) {
        // SAFETY: i + 16 <= n, and n is at most each slice's length.
        unsafe {
            let (p, g) = (p.as_mut_ptr().add(i), g.as_ptr().add(i));
            let (m, v) = (m.as_mut_ptr().add(i), v.as_mut_ptr().add(i));
            let mut old = _mm512_loadu_ps(p);
            let mut grad = _mm512_loadu_ps(g);
            if DECAY {
                // L2: g + λ p; decoupled: p − η λ p (one of λ's is 0).
                grad = _mm512_fmadd_ps(l2, old, grad);
                old = _mm512_fnmadd_ps(shrink, old, old);
            }
            let first = _mm512_fmadd_ps(
                beta1,
                _mm512_loadu_ps(m),
                _mm512_mul_ps(one_minus_beta1, grad),
            );
            let second = _mm512_fmadd_ps(
                beta2,
                _mm512_loadu_ps(v),
                _mm512_mul_ps(_mm512_mul_ps(one_minus_beta2, grad), grad),
            );
            _mm512_storeu_ps(m, first);
            _mm512_storeu_ps(v, second);
            let denominator = _mm512_fmadd_ps(_mm512_sqrt_ps(second), correction, epsilon);
            let estimate = _mm512_rcp14_ps(denominator);
            let reciprocal = _mm512_mul_ps(estimate, _mm512_fnmadd_ps(denominator, estimate, two));
            _mm512_storeu_ps(p, _mm512_fnmadd_ps(first, reciprocal, old));
        }
    }
    n
}
// ANCHOR_END: adam_reciprocal

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Values over many magnitudes, with exact zeros among them.
    fn values(rng: &mut ChaCha8Rng, n: usize, signed: bool) -> Vec<f32> {
        (0..n)
            .map(|_| {
                if rng.random_bool(0.05) {
                    return 0.0;
                }
                let magnitude = 10f32.powf(rng.random_range(-9.0..2.0));
                if signed && rng.random_bool(0.5) {
                    -magnitude
                } else {
                    magnitude
                }
            })
            .collect()
    }

    /// Both updates against the rule computed in f64, on every kind of
    /// Adam at steps 1 and 1000: m and v to within the rounding of their
    /// terms (fused multiply-adds round once, so the two updates
    /// need not agree bit for bit), and p to within the rounding of p plus
    /// 5 parts in 10⁷ of its change, computed from the m and v the update
    /// itself stored. A reciprocal estimate without its Newton step is off
    /// by up to ~6 parts in 10⁵ and fails.
    #[test]
    fn both_adam_updates_follow_the_rule() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        // Not a multiple of 16: the tail takes the exact loop.
        let n = 16 * 300 + 7;
        // A learning rate of 0 leaves every parameter to the exact loop.
        let kinds = [
            Adam::new(1e-3),
            Adam::adamw(1e-3, 0.01),
            {
                let mut l2 = Adam::new(3e-2);
                l2.weight_decay = 1e-3;
                l2
            },
            Adam::new(0.0),
        ];
        type Update = fn(&AdamSettings, &mut [f32], &[f32], &mut [f32], &mut [f32]);
        let updates: [(&str, Update); 2] = [
            ("adam_update", adam_update),
            ("adam_update_exact", adam_update_exact),
        ];
        for mut adam in kinds {
            for steps in [1, 1000] {
                adam.steps = steps;
                let s = AdamSettings::new(&adam);
                let (p, g) = (values(&mut rng, n, true), values(&mut rng, n, true));
                let (m, v) = (values(&mut rng, n, true), values(&mut rng, n, false));
                for (name, update) in updates {
                    let (mut p1, mut m1, mut v1) = (p.clone(), m.clone(), v.clone());
                    update(&s, &mut p1, &g, &mut m1, &mut v1);
                    let worst = (0..n)
                        .map(|i| {
                            (
                                follows_rule(&s, [p[i], g[i], m[i], v[i]], [p1[i], m1[i], v1[i]]),
                                i,
                            )
                        })
                        .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a });
                    let (excess, i) = worst;
                    assert!(
                        excess <= 1.0,
                        "{name}, {adam:?} at step {steps}: parameter {i} (p {}, g {}, m {}, v {}) \
                         became p {}, m {}, v {}: {excess:.2} times the difference allowed \
                         from the rule in f64",
                        p[i],
                        g[i],
                        m[i],
                        v[i],
                        p1[i],
                        m1[i],
                        v1[i],
                    );
                }
            }
        }
    }

    /// How far (p, m, v) after one update are from the rule computed in f64,
    /// as a multiple of the difference allowed (see above).
    fn follows_rule(s: &AdamSettings, [p, g, m, v]: [f32; 4], [p1, m1, v1]: [f32; 3]) -> f64 {
        let f = f64::from;
        let eps = f(f32::EPSILON);
        let (decay, decoupled) = (f(s.weight_decay), s.decoupled_weight_decay);
        let grad = if decoupled { f(g) } else { f(g) + decay * f(p) };
        let decayed = if decoupled {
            f(p) - f(s.learning_rate) * decay * f(p)
        } else {
            f(p)
        };
        let (b1, b2) = (f(s.beta1), f(s.beta2));
        // The L2 term can cancel most of g: the rounding of g + λp counts.
        let grad_scale = if decoupled {
            f(g).abs()
        } else {
            f(g).abs() + (decay * f(p)).abs()
        };
        let m_terms = [b1 * f(m), (1.0 - b1) * grad];
        let v_terms = [b2 * f(v), (1.0 - b2) * grad * grad];
        let change =
            f(s.step_size) * f(m1) / (f(v1).sqrt() * f(s.inverse_root_correction2) + f(s.epsilon));
        let off =
            |found: f32, exact: f64, allowed: f64| (f(found) - exact).abs() / (allowed + 1e-40);
        let m_allowed = 3.0 * eps * (m_terms[0].abs() + (1.0 - b1) * grad_scale);
        let v_allowed = 3.0 * eps * (v_terms[0].abs() + (1.0 - b2) * grad_scale * grad_scale);
        off(m1, m_terms[0] + m_terms[1], m_allowed)
            .max(off(v1, v_terms[0] + v_terms[1], v_allowed))
            .max(off(
                p1,
                decayed - change,
                2.0 * eps * (decayed.abs() + change.abs()) + 5e-7 * change.abs(),
            ))
    }
}
