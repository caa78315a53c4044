//! The first layer's inputs that are the same in every example of a batch,
//! taken out of its two large products.
//!
//! A handwritten digit covers the middle of its image, so in a batch of
//! 128 MNIST images about a third of the 784 pixels are background in every
//! one of them (over epochs of shuffled full-MNIST batches, 210 to 300 of
//! them, 257 on average). Such a column j of the
//! input A holds one value c in every row, and the algebra of the layer
//! needs no product for it:
//!
//! - in Z = A Wᵀ + b it adds c W[:, j] to every row of Z, the same vector
//!   for every example: it folds into the bias, b′ = b + Σ c W[:, j];
//! - in dW = dZᵀ A its column is dZᵀ (c 1) = c db.
//!
//! So the forward product and the weight-gradient product of the first
//! layer run over the varying columns only (a third less work, at the cost
//! of gathering them), and the constant columns cost one multiply-add per
//! weight. The values differ from the full products only by rounding. The
//! normalised pixels of the background are all one value, so this holds
//! for normalised inputs as well as raw ones.

use nalgebra::{DMatrix, DMatrixView};
use std::ops::Range;

use super::{AdamSettings, Input, Weights, column_sums, multiply};

/// Batches of more rows than this (inference over a data set) keep the
/// full products: almost no column is constant over thousands of
/// examples, and finding that out would read the whole input again.
const MAX_ROWS: usize = 1024;

/// Columns are skipped only when at least one in this many is constant;
/// below that the gathering costs about what it saves.
const MIN_SHARE: usize = 16;

/// The first layer's constant input columns of the last batch, and the
/// buffers for the products without them (allocated once, like the
/// trainer's).
#[derive(Clone, Debug)]
pub(super) struct ConstantInputs {
    /// Whether to look for constant columns at all.
    pub(super) enabled: bool,
    /// Whether the last batch's constant columns are skipped.
    active: bool,
    /// For each column of the last batch's A: Some(c) when every row is c.
    constant: Vec<Option<f32>>,
    /// How many columns vary.
    varying: usize,
    /// The varying columns of A, column-major (rows, varying).
    inputs: Vec<f32>,
    /// dW on the varying columns, column-major (outputs, varying).
    grad_weights: Vec<f32>,
    cores: [Core; 2],
}

/// What one core needs for its half of the first layer.
#[derive(Clone, Debug)]
pub(super) struct Core {
    /// Forward: its output units' weights on the varying columns,
    /// column-major (units, varying), and b′.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Backward: db of every output unit, and c db.
    grad_bias: Vec<f32>,
    grad_constant: Vec<f32>,
}

/// The last batch's columns, as both cores read them.
#[derive(Clone, Copy)]
pub(super) struct Columns<'a> {
    rows: usize,
    /// The varying columns of A, column-major (rows, varying).
    varying: &'a [f32],
    /// For each column of A: Some(c) when every row is c.
    pub(super) constant: &'a [Option<f32>],
}

impl ConstantInputs {
    /// Buffers for a first layer of (`outputs`, `inputs`) at batches of up
    /// to `rows` rows.
    pub(super) fn new(rows: usize, inputs: usize, outputs: usize) -> Self {
        let units = outputs - super::split_point(outputs);
        let core = Core {
            weights: vec![0.0; units * inputs],
            bias: vec![0.0; units],
            grad_bias: vec![0.0; outputs],
            grad_constant: vec![0.0; outputs],
        };
        Self {
            enabled: true,
            active: false,
            constant: vec![None; inputs],
            varying: 0,
            inputs: vec![0.0; rows.min(MAX_ROWS) * inputs],
            grad_weights: vec![0.0; outputs * inputs],
            cores: [core.clone(), core],
        }
    }

    /// Whether `find` chose to skip the last batch's constant columns.
    pub(super) fn active(&self) -> bool {
        self.active
    }

    /// How many of the last batch's input columns were left out of the
    /// products (0 when none were).
    pub(super) fn skipped(&self) -> usize {
        if self.active {
            self.constant.len() - self.varying
        } else {
            0
        }
    }

    /// Finds the constant columns of `a` and gathers the varying ones;
    /// returns whether the products skip the constant ones for this batch.
    pub(super) fn find(&mut self, a: Input<'_>) -> bool {
        self.active = false;
        let (rows, columns) = a.shape();
        // Only a batch stored column by column has columns to compare as
        // slices (and the layer's inputs are checked before this runs).
        let stored_by_column = a.strides().0 == 1 && columns == self.constant.len();
        if !self.enabled || rows == 0 || rows > MAX_ROWS || !stored_by_column {
            return false;
        }
        let column_stride = a.strides().1;
        // SAFETY: a view of (rows, columns) with row stride 1 holds `rows`
        // values from the start of each of its columns.
        let column = |j: usize| unsafe {
            std::slice::from_raw_parts(a.as_ptr().add(j * column_stride), rows)
        };
        for (j, constant) in self.constant.iter_mut().enumerate() {
            *constant = same_in_every_row(column(j));
        }
        self.varying = self.constant.iter().filter(|c| c.is_none()).count();
        self.active = (columns - self.varying) * MIN_SHARE >= columns;
        if self.active {
            if self.inputs.len() < rows * self.varying {
                self.inputs.resize(rows * self.varying, 0.0);
            }
            let varying = (0..columns).filter(|&j| self.constant[j].is_none());
            for (gathered, j) in self.inputs.chunks_exact_mut(rows).zip(varying) {
                gathered.copy_from_slice(column(j));
            }
        }
        self.active
    }

    /// The columns found by the last `find` (of a batch of `rows` rows),
    /// the dW buffer for the varying ones, and each core's buffers.
    pub(super) fn parts(&mut self, rows: usize) -> (Columns<'_>, &mut [f32], &mut [Core; 2]) {
        let columns = Columns {
            rows,
            varying: &self.inputs[..rows * self.varying],
            constant: &self.constant,
        };
        (columns, &mut self.grad_weights, &mut self.cores)
    }
}

impl<'a> Columns<'a> {
    /// The columns split between the two cores so that each gets half of
    /// the varying ones (the products' work): the first column of the
    /// second half, and the two halves.
    pub(super) fn split_in_half(self) -> (usize, [Self; 2]) {
        let half = self.varying_count() / 2;
        let split = self
            .constant
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_none())
            .nth(half)
            .map_or(self.constant.len(), |(j, _)| j);
        let (varying0, varying1) = self.varying.split_at(half * self.rows);
        let (constant0, constant1) = self.constant.split_at(split);
        let part = |varying, constant| Self {
            rows: self.rows,
            varying,
            constant,
        };
        (
            split,
            [part(varying0, constant0), part(varying1, constant1)],
        )
    }

    /// How many columns vary.
    pub(super) fn varying_count(&self) -> usize {
        self.varying.len() / self.rows.max(1)
    }

    /// The varying columns of A, (rows, varying).
    pub(super) fn varying(&self) -> Input<'a> {
        let count = self.varying_count();
        DMatrixView::from_slice_with_strides(self.varying, self.rows, count, 1, self.rows)
    }
}

impl Core {
    // ANCHOR: fold_constant_columns
    /// For the output units `units` of W, with biases `bias`: their
    /// weights on the varying columns (units, varying), and
    /// b′ = b + Σ c W[:, j] over the constant columns.
    pub(super) fn fold_constant_columns(
        &mut self,
        weights: &DMatrix<f32>,
        bias: &[f32],
        units: Range<usize>,
        constant: &[Option<f32>],
    ) -> (Input<'_>, &[f32]) {
        let count = units.len();
        let b = &mut self.bias[..count];
        b.copy_from_slice(bias);
        let mut varying = 0;
        for (column, c) in weights.column_iter().zip(constant) {
            let column = &column.as_slice()[units.clone()];
            match c {
                Some(c) => {
                    for (b, &w) in b.iter_mut().zip(column) {
                        *b += c * w;
                    }
                }
                None => {
                    self.weights[varying * count..(varying + 1) * count].copy_from_slice(column);
                    varying += 1;
                }
            }
        }
        let w = &self.weights[..varying * count];
        let w = DMatrixView::from_slice_with_strides(w, count, varying, 1, count);
        (w, &self.bias[..count])
    }
    // ANCHOR_END: fold_constant_columns

    /// One core's share of the first layer's backward pass, for a block of
    /// columns of W (`weights`, with `grad_w` the same columns of dW):
    /// dW on the varying ones by one product, c db on the constant ones,
    /// then Adam on each column (when updating) or dW written out (when
    /// only reading). `grad_z` is dZ, `grad_z_values` its values.
    pub(super) fn backward(
        &mut self,
        (grad_z, grad_z_values): (Input<'_>, &[f32]),
        columns: Columns<'_>,
        mut weights: Weights<'_>,
        grad_w: &mut [f32],
        grad_varying: &mut [f32],
        settings: Option<&AdamSettings>,
    ) {
        let (rows, outputs) = grad_z.shape();
        let varying = columns.varying();
        let grad_varying = &mut grad_varying[..outputs * varying.ncols()];
        multiply(
            grad_varying,
            (outputs, varying.ncols()),
            grad_z,
            true,
            varying,
            false,
        );
        if columns.constant.iter().any(Option::is_some) {
            // All of db, not only the half `backward_bias` sums on this
            // core: the other half is being summed on the other core.
            column_sums(grad_z_values, rows, &mut self.grad_bias);
        }
        let mut update = |block: Range<usize>, grad: &[f32]| {
            let block = block.start * outputs..block.end * outputs;
            if matches!(weights, Weights::Read(_)) {
                grad_w[block].copy_from_slice(grad);
            } else {
                weights.block(block).update(settings, grad);
            }
        };
        // ANCHOR: constant_gradients
        // Runs of varying columns take their dW from the product, in one
        // call each; a constant column's is c db (the background's c
        // repeats, so c db is kept until c changes).
        let (mut column, mut done, mut last) = (0, 0, None::<u32>);
        while let Some(&c) = columns.constant.get(column) {
            match c {
                Some(c) => {
                    if last != Some(c.to_bits()) {
                        for (g, &db) in self.grad_constant.iter_mut().zip(&self.grad_bias) {
                            *g = c * db;
                        }
                        last = Some(c.to_bits());
                    }
                    update(column..column + 1, &self.grad_constant);
                    column += 1;
                }
                None => {
                    let run = columns.constant[column..]
                        .iter()
                        .take_while(|c| c.is_none())
                        .count();
                    update(
                        column..column + run,
                        &grad_varying[done * outputs..(done + run) * outputs],
                    );
                    (column, done) = (column + run, done + run);
                }
            }
        }
        // ANCHOR_END: constant_gradients
    }
}

// ANCHOR: same_in_every_row
/// Some(c) when every value of `column` has the bits of c.
fn same_in_every_row(column: &[f32]) -> Option<f32> {
    let first = column.first()?.to_bits();
    // An OR of the differences, 16 at a time: it compiles to vector compares.
    let differs = column
        .chunks(16)
        .any(|chunk| chunk.iter().fold(0, |acc, x| acc | (x.to_bits() ^ first)) != 0);
    (!differs).then(|| f32::from_bits(first))
}
// ANCHOR_END: same_in_every_row
