//! [`BatchLoader`]: a data set cut into mini-batches, reshuffled (seeded)
//! every epoch by a [`Shuffle`] it is given, without allocating per batch.

use std::sync::Arc;

use nalgebra::{DMatrix, DMatrixViewMut};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::shape::ShapeError;

/// Puts a slice of example indices in a random order drawn from the
/// generator: stage 5's `data::shuffle`, the reference's or yours.
pub type Shuffle = fn(&mut [usize], &mut ChaCha8Rng);

/// The order a loader visits its examples in.
#[derive(Clone, Copy, Debug)]
pub enum Order {
    /// 0, 1, 2, … every epoch (for evaluation).
    AsGiven,
    /// A new order every epoch, from this shuffle and the loader's seeded
    /// generator.
    Shuffled(Shuffle),
}

/// Where a loader's examples come from: anything that can write example
/// `i` as `features()` numbers, such as a matrix row, or a window of frames
/// cut on the fly (stage 6), so a data set need not be stored as a matrix.
pub trait ExampleSource: Send + Sync {
    /// The number of examples.
    fn len(&self) -> usize;
    /// True when there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The numbers per example.
    fn features(&self) -> usize;
    /// Writes example `index` into `out` (length `features()`).
    fn write(&self, index: usize, out: &mut [f32]);
}

/// How a loader copies a batch's examples into the rows of its batch
/// matrix. [`OneByOne`] is the plain way; a faster one can be plugged in
/// with [`BatchLoader::with_copier`] (the engine's fast path does).
pub trait CopyExamples: Send + Sync {
    /// Writes example `order[r]` of `source` into row `r` of `batch`, for
    /// every r. `scratch` is the loader's to reuse between batches.
    fn copy(
        &self,
        source: &dyn ExampleSource,
        order: &[usize],
        scratch: &mut Vec<f32>,
        batch: DMatrixViewMut<'_, f32>,
    );
}

/// Each example written into `scratch`, then into its row of the batch.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneByOne;

impl CopyExamples for OneByOne {
    fn copy(
        &self,
        source: &dyn ExampleSource,
        order: &[usize],
        scratch: &mut Vec<f32>,
        mut batch: DMatrixViewMut<'_, f32>,
    ) {
        scratch.resize(source.features(), 0.0);
        for (row, &example) in order.iter().enumerate() {
            source.write(example, scratch);
            for (value, &x) in batch.row_mut(row).iter_mut().zip(scratch.iter()) {
                *value = x;
            }
        }
    }
}

/// The rows of a matrix, stored as columns so each example is contiguous.
struct MatrixRows(DMatrix<f32>);

impl ExampleSource for MatrixRows {
    fn len(&self) -> usize {
        self.0.ncols()
    }
    fn features(&self) -> usize {
        self.0.nrows()
    }
    fn write(&self, index: usize, out: &mut [f32]) {
        out.copy_from_slice(self.0.column(index).as_slice());
    }
}

/// Serves a data set in mini-batches. Every batch is copied into one of two
/// buffers made up front (a full batch, and the smaller last batch), so an
/// epoch allocates nothing.
#[derive(Clone)]
pub struct BatchLoader {
    source: Arc<dyn ExampleSource>,
    labels: Vec<usize>,
    batch_size: usize,
    visit_order: Order,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    position: usize,
    full: (DMatrix<f32>, Vec<usize>),
    last: (DMatrix<f32>, Vec<usize>),
    copier: Arc<dyn CopyExamples>,
    /// The copier's working space, kept from batch to batch.
    scratch: Vec<f32>,
}

impl BatchLoader {
    /// A loader over `inputs` (examples, features) and one label per row.
    /// With [`Order::Shuffled`], each epoch visits the examples in a new
    /// order drawn from a generator seeded with `seed`.
    pub fn new(
        inputs: &DMatrix<f32>,
        labels: Vec<usize>,
        batch_size: usize,
        order: Order,
        seed: u64,
    ) -> Result<Self, ShapeError> {
        if labels.len() != inputs.nrows() {
            return Err(ShapeError::count(
                "BatchLoader labels (one per row of the inputs)",
                inputs.nrows(),
                labels.len(),
            ));
        }
        Self::from_examples(inputs.transpose(), labels, batch_size, order, seed)
    }

    /// A loader over the columns of `examples` (features, examples), one
    /// example per column, kept as they are: no copy of the data set.
    pub fn from_examples(
        examples: DMatrix<f32>,
        labels: Vec<usize>,
        batch_size: usize,
        order: Order,
        seed: u64,
    ) -> Result<Self, ShapeError> {
        Self::from_source(
            Arc::new(MatrixRows(examples)),
            labels,
            batch_size,
            order,
            seed,
        )
    }

    /// A loader over any [`ExampleSource`] and one label per example.
    pub fn from_source(
        source: Arc<dyn ExampleSource>,
        labels: Vec<usize>,
        batch_size: usize,
        order: Order,
        seed: u64,
    ) -> Result<Self, ShapeError> {
        if labels.len() != source.len() {
            return Err(ShapeError::count(
                "BatchLoader labels (one per example)",
                source.len(),
                labels.len(),
            ));
        }
        if batch_size == 0 {
            return Err(ShapeError::value(
                "BatchLoader batch size",
                "at least 1",
                "0",
            ));
        }
        if source.features() == 0 {
            return Err(ShapeError::value(
                "BatchLoader examples",
                "at least 1 feature",
                "0",
            ));
        }
        let n = source.len();
        let d = source.features();
        let remainder = n % batch_size;
        Ok(Self {
            source,
            labels,
            batch_size,
            visit_order: order,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (0..n).collect(),
            position: n,
            full: (
                DMatrix::zeros(batch_size.min(n), d),
                Vec::with_capacity(batch_size),
            ),
            last: (DMatrix::zeros(remainder, d), Vec::with_capacity(remainder)),
            copier: Arc::new(OneByOne),
            scratch: Vec::new(),
        })
    }

    /// The same loader, copying its batches with `copier`.
    pub fn with_copier(mut self, copier: Arc<dyn CopyExamples>) -> Self {
        self.copier = copier;
        self
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of batches in an epoch (the last one may be smaller).
    pub fn batches_per_epoch(&self) -> usize {
        self.len().div_ceil(self.batch_size)
    }

    /// Starts an epoch: reshuffles (when shuffling) and rewinds.
    pub fn start_epoch(&mut self) {
        if let Order::Shuffled(shuffle) = self.visit_order {
            shuffle(&mut self.order, &mut self.rng);
        }
        self.position = 0;
    }

    /// The next batch of the epoch, as (inputs (batch, features), labels), or
    /// None when the epoch is over. Call [`BatchLoader::start_epoch`] first.
    pub fn next_batch(&mut self) -> Option<(&DMatrix<f32>, &[usize])> {
        let examples = self.next_examples()?;
        let (inputs, labels) = if examples.len() == self.batch_size {
            &mut self.full
        } else {
            &mut self.last
        };
        let order = &self.order[examples];
        labels.clear();
        labels.extend(order.iter().map(|&example| self.labels[example]));
        self.copier.copy(
            &*self.source,
            order,
            &mut self.scratch,
            inputs.as_view_mut(),
        );
        Some((&*inputs, labels.as_slice()))
    }

    /// The positions in `order` of the next batch's examples.
    fn next_examples(&mut self) -> Option<std::ops::Range<usize>> {
        let n = self.len();
        if self.position >= n {
            return None;
        }
        let size = self.batch_size.min(n - self.position);
        let range = self.position..self.position + size;
        self.position += size;
        Some(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::assert_epoch_holds_its_rows;
    use crate::shape::{Expected, Found};
    use rand::seq::SliceRandom;

    /// A shuffle for these tests: rand's.
    const SHUFFLED: Order = Order::Shuffled(|order, rng| order.shuffle(rng));

    fn order(shuffle: bool) -> Order {
        if shuffle { SHUFFLED } else { Order::AsGiven }
    }

    fn loader(n: usize, batch: usize, shuffle: bool, seed: u64) -> BatchLoader {
        // Row i is (i, 10 i), labelled i.
        let inputs = DMatrix::from_fn(n, 2, |i, j| (i * if j == 0 { 1 } else { 10 }) as f32);
        BatchLoader::new(&inputs, (0..n).collect(), batch, order(shuffle), seed).unwrap()
    }

    fn epoch(l: &mut BatchLoader) -> Vec<Vec<usize>> {
        l.start_epoch();
        let mut batches = Vec::new();
        while let Some((x, y)) = l.next_batch() {
            for (r, &label) in y.iter().enumerate() {
                assert_eq!((x[(r, 0)], x[(r, 1)]), (label as f32, 10.0 * label as f32));
            }
            batches.push(y.to_vec());
        }
        batches
    }

    #[test]
    fn in_order_batches_cover_everything_once() {
        let mut l = loader(10, 4, false, 0);
        assert_eq!(l.batches_per_epoch(), 3);
        assert_eq!(
            epoch(&mut l),
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
        );
        assert_eq!(
            epoch(&mut l),
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
        );
    }

    #[test]
    fn shuffled_epochs_are_permutations_that_differ_and_repeat_by_seed() {
        let mut a = loader(50, 8, true, 7);
        let (first, second) = (epoch(&mut a), epoch(&mut a));
        for e in [&first, &second] {
            let mut seen: Vec<usize> = e.concat();
            seen.sort();
            assert_eq!(seen, (0..50).collect::<Vec<_>>());
        }
        assert_ne!(first, second, "two epochs in the same order");
        let mut b = loader(50, 8, true, 7);
        assert_eq!(epoch(&mut b), first, "the same seed gave another order");
    }

    /// Full batches and a smaller last one: every value where it belongs.
    #[test]
    fn large_batches_hold_their_examples() {
        let (n, d, batch) = (300, 150, 130);
        let inputs = DMatrix::from_fn(n, d, |i, j| (i * 1000 + j) as f32);
        let mut l = BatchLoader::new(&inputs, (0..n).collect(), batch, SHUFFLED, 5).unwrap();
        for _ in 0..2 {
            assert_eq!(assert_epoch_holds_its_rows(&mut l, &inputs), [130, 130, 40]);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let x = DMatrix::zeros(3, 2);
        let e = BatchLoader::new(&x, vec![0, 1], 2, Order::AsGiven, 0)
            .err()
            .expect("an error");
        assert_eq!(
            (e.expected, e.found),
            (Expected::Count(3), Found::Number(2))
        );
        assert!(BatchLoader::new(&x, vec![0, 1, 2], 0, Order::AsGiven, 0).is_err());
        assert_eq!(
            BatchLoader::new(&x, vec![0, 1, 2], 0, Order::AsGiven, 0)
                .err()
                .expect("an error")
                .to_string(),
            "BatchLoader batch size: expected at least 1, found 0"
        );
        let no_features = DMatrix::zeros(3, 0);
        assert_eq!(
            BatchLoader::new(&no_features, vec![0, 1, 2], 2, Order::AsGiven, 0)
                .err()
                .expect("an error")
                .to_string(),
            "BatchLoader examples: expected at least 1 feature, found 0"
        );
    }
}
