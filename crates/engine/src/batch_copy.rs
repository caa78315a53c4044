//! [`BlockCopy`]: the fast path's way of filling a [`BatchLoader`]'s batch,
//! on both cores and through the caches (see [`copy_examples`]).
//!
//! [`BatchLoader`]: course_support::batches::BatchLoader

use course_support::batches::{CopyExamples, ExampleSource};
use nalgebra::DMatrixViewMut;

/// The examples staged and then copied into the column-major batch at a
/// time: 16 floats, one cache line of each column.
const EXAMPLE_BLOCK: usize = 16;

/// Fewer examples than this per thread are copied by one thread: below it,
/// handing work over costs more than the copy.
const PARALLEL_COPY_MIN_EXAMPLES: usize = 64;

/// Copies a batch on both cores, a block of examples at a time: plug it
/// into a loader with `BatchLoader::with_copier(Arc::new(BlockCopy))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockCopy;

impl CopyExamples for BlockCopy {
    fn copy(
        &self,
        source: &dyn ExampleSource,
        order: &[usize],
        scratch: &mut Vec<f32>,
        batch: DMatrixViewMut<'_, f32>,
    ) {
        let needed = order.len() * source.features();
        if scratch.len() < needed {
            scratch.resize(needed, 0.0);
        }
        copy_examples(source, order, &mut scratch[..needed], batch);
    }
}

/// Copies the examples `order` into the rows of `batch`, through `staging`
/// (room for them one after another). The rows are halved between the
/// threads until few are left (the copy is memory-bound: random examples of
/// a large data set, and the fast path's second thread would otherwise wait
/// for it and fall asleep). Each thread then goes block by block: it writes
/// `EXAMPLE_BLOCK` examples whole into `staging`, then copies them into the
/// batch's columns while they are in its cache, one cache line per column.
/// One pass over the data set, and every write is to a whole line.
fn copy_examples(
    source: &dyn ExampleSource,
    order: &[usize],
    staging: &mut [f32],
    mut batch: DMatrixViewMut<'_, f32>,
) {
    let d = source.features();
    let rows = order.len();
    if rows >= 2 * PARALLEL_COPY_MIN_EXAMPLES {
        // A whole number of blocks above the split keeps each thread's
        // writes on cache lines of its own.
        let mid = (rows / 2).next_multiple_of(EXAMPLE_BLOCK);
        let (top, bottom) = batch.rows_range_pair_mut(..mid, mid..);
        let (order_top, order_bottom) = order.split_at(mid);
        let (staging_top, staging_bottom) = staging.split_at_mut(mid * d);
        rayon::join(
            || copy_examples(source, order_top, staging_top, top),
            || copy_examples(source, order_bottom, staging_bottom, bottom),
        );
        return;
    }
    for (block, (examples, staging)) in order
        .chunks(EXAMPLE_BLOCK)
        .zip(staging.chunks_mut(EXAMPLE_BLOCK * d))
        .enumerate()
    {
        for (&example, out) in examples.iter().zip(staging.chunks_exact_mut(d)) {
            source.write(example, out);
        }
        let first = block * EXAMPLE_BLOCK;
        let count = examples.len();
        write_columns(&staging[..count * d], d, &mut batch, first);
    }
}

/// Writes `staging` (examples of `d` features, one after another) into the
/// rows from `first` on of `batch`, feature by feature: a transpose. It
/// goes 16 features at a time through a small tile, so that each example's
/// 16 values are one contiguous read and each column's values one
/// contiguous write, with no bounds check per value.
fn write_columns(staging: &[f32], d: usize, batch: &mut DMatrixViewMut<'_, f32>, first: usize) {
    let count = staging.len() / d;
    let mut columns = batch.column_iter_mut();
    for f0 in (0..d).step_by(EXAMPLE_BLOCK) {
        let width = EXAMPLE_BLOCK.min(d - f0);
        let mut tile = [[0.0f32; EXAMPLE_BLOCK]; EXAMPLE_BLOCK];
        for (row, example) in tile.iter_mut().zip(staging.chunks_exact(d)) {
            row[..width].copy_from_slice(&example[f0..f0 + width]);
        }
        for (j, mut column) in (0..width).zip(&mut columns) {
            let out = &mut column.as_mut_slice()[first..first + count];
            for (value, row) in out.iter_mut().zip(&tile) {
                *value = row[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use course_support::check::assert_epoch_holds_its_rows;
    use std::sync::Arc;

    use course_support::batches::{BatchLoader, Order};
    use nalgebra::DMatrix;

    use super::*;

    /// Batches big enough to be split between threads (130 rows: 80 and
    /// 50, in blocks of 16 examples with a partial last block), and a
    /// smaller last batch copied by one: every value where it belongs.
    #[test]
    fn large_batches_hold_their_examples() {
        let (n, d, batch) = (300, 150, 130);
        let inputs = DMatrix::from_fn(n, d, |i, j| (i * 1000 + j) as f32);
        let mut l = BatchLoader::new(
            &inputs,
            (0..n).collect(),
            batch,
            Order::Shuffled(reference::data::shuffle),
            5,
        )
        .unwrap()
        .with_copier(Arc::new(BlockCopy));
        for _ in 0..2 {
            assert_eq!(assert_epoch_holds_its_rows(&mut l, &inputs), [130, 130, 40]);
        }
    }
}
