//! The element-wise passes of a step, compiled for AVX-512 and AVX2 as well
//! and picked at run time: bias and activation (and dropout's mask), the
//! activation's derivative (after dropout's mask), the bias gradients, and
//! the softmax cross-entropy.

use course_support::activation::Activation;
use reference::activations::{apply, derivative, relu, relu_derivative};

use super::Input;

/// z += b, column by column (column o of a column-major (rows, out) matrix
/// is contiguous and takes bias o).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn add_bias(z: &mut [f32], rows: usize, bias: &[f32]) {
    for (column, &b) in z.chunks_exact_mut(rows).zip(bias) {
        for value in column {
            *value += b;
        }
    }
}

// ANCHOR: add_bias_and_activate
/// z += b, then out = f(z), in one pass.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn add_bias_and_activate(
    z: &mut [f32],
    out: &mut [f32],
    rows: usize,
    bias: &[f32],
    activation: Activation,
) {
    let columns = z.chunks_exact_mut(rows).zip(out.chunks_exact_mut(rows));
    // Matching here, outside the loop, lets the compiler inline and
    // vectorise the common case: `relu` is a leaf function, which rustc
    // inlines across crates, where `Activation::apply`'s dispatch is not.
    match activation {
        Activation::Relu => {
            for ((z, out), &b) in columns.zip(bias) {
                for (z, out) in z.iter_mut().zip(out) {
                    *z += b;
                    *out = relu(*z);
                }
            }
        }
        other => {
            for ((z, out), &b) in columns.zip(bias) {
                for (z, out) in z.iter_mut().zip(out) {
                    *z += b;
                    *out = apply(other, *z);
                }
            }
        }
    }
}
// ANCHOR_END: add_bias_and_activate

/// z += b, then out = f(z) ⊙ m (dropout's mask), in one pass; with the
/// identity (`out` empty) z = (z + b) ⊙ m in place.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn add_bias_activate_and_drop(
    z: &mut [f32],
    out: &mut [f32],
    rows: usize,
    bias: &[f32],
    activation: Activation,
    mask: &[f32],
) {
    let masks = mask.chunks_exact(rows);
    match activation {
        Activation::Identity => {
            for ((z, mask), &b) in z.chunks_exact_mut(rows).zip(masks).zip(bias) {
                for (z, &m) in z.iter_mut().zip(mask) {
                    *z = (*z + b) * m;
                }
            }
        }
        Activation::Relu => {
            let columns = z.chunks_exact_mut(rows).zip(out.chunks_exact_mut(rows));
            for (((z, out), mask), &b) in columns.zip(masks).zip(bias) {
                for ((z, out), &m) in z.iter_mut().zip(out).zip(mask) {
                    *z += b;
                    *out = relu(*z) * m;
                }
            }
        }
        other => {
            let columns = z.chunks_exact_mut(rows).zip(out.chunks_exact_mut(rows));
            for (((z, out), mask), &b) in columns.zip(masks).zip(bias) {
                for ((z, out), &m) in z.iter_mut().zip(out).zip(mask) {
                    *z += b;
                    *out = apply(other, *z) * m;
                }
            }
        }
    }
}

/// grad ⊙= m (dropout's mask), then ⊙= f′(z), entry by entry: backward
/// through dropout, then through the activation.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn times_mask_and_derivative(
    grad: &mut [f32],
    mask: &[f32],
    z: &[f32],
    activation: Activation,
) {
    match activation {
        Activation::Identity => {
            for (g, &m) in grad.iter_mut().zip(mask) {
                *g *= m;
            }
        }
        Activation::Relu => {
            for ((g, &m), &z) in grad.iter_mut().zip(mask).zip(z) {
                *g = *g * m * relu_derivative(z);
            }
        }
        other => {
            for ((g, &m), &z) in grad.iter_mut().zip(mask).zip(z) {
                *g = *g * m * derivative(other, z);
            }
        }
    }
}

/// grad ⊙= f′(z), entry by entry.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn times_derivative(grad: &mut [f32], z: &[f32], activation: Activation) {
    match activation {
        Activation::Relu => {
            for (g, &z) in grad.iter_mut().zip(z) {
                *g *= relu_derivative(z);
            }
        }
        other => {
            for (g, &z) in grad.iter_mut().zip(z) {
                *g *= derivative(other, z);
            }
        }
    }
}

/// db = the sum of each column of dZ, a column-major (rows, columns)
/// matrix. Each column is added in 16 running sums, which the compiler can
/// keep in one vector register: one long chain of additions, as a plain
/// loop makes, would wait on every addition in turn.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
pub(super) fn column_sums(matrix: &[f32], rows: usize, sums: &mut [f32]) {
    for (column, sum) in matrix.chunks_exact(rows).zip(sums) {
        let mut lanes = [0.0f32; 16];
        let mut chunks = column.chunks_exact(16);
        for chunk in &mut chunks {
            for (lane, &x) in lanes.iter_mut().zip(chunk) {
                *lane += x;
            }
        }
        *sum = lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>();
    }
}

/// The mean softmax cross-entropy of `logits` (batch, classes) against
/// class labels, and its gradient (softmax − one-hot) / batch in `grad`,
/// with the log-sum-exp shift that keeps extreme logits finite.
pub(super) fn softmax_cross_entropy(logits: Input<'_>, labels: &[usize], grad: &mut [f32]) -> f32 {
    let batch = logits.nrows();
    let rows = batch as f32;
    let mut total = 0.0f32;
    for (r, &label) in labels.iter().enumerate() {
        let row = logits.row(r);
        let max = row.max();
        // Each exponential is computed once and kept in `grad` until the
        // sum is known: they are most of this function's time.
        let mut sum = 0.0f32;
        for (c, &z) in row.iter().enumerate() {
            let e = (z - max).exp();
            grad[r + c * batch] = e;
            sum += e;
        }
        total -= row[label] - max - sum.ln();
        for c in 0..row.len() {
            let target = if c == label { 1.0 } else { 0.0 };
            let g = &mut grad[r + c * batch];
            *g = (*g / sum - target) / rows;
        }
    }
    total / rows
}
