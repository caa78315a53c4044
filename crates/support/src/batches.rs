//! [`BatchLoader`]: a data set cut into mini-batches, reshuffled (seeded)
//! every epoch, without allocating per batch.

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::shape::ShapeError;

/// Serves a data set in mini-batches. Every batch is copied into one of two
/// buffers made up front (a full batch, and the smaller last batch), so an
/// epoch allocates nothing.
#[derive(Clone, Debug)]
pub struct BatchLoader {
    /// Every example as one contiguous column: (features, examples).
    examples: DMatrix<f32>,
    labels: Vec<usize>,
    batch_size: usize,
    shuffle: bool,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    position: usize,
    full: (DMatrix<f32>, Vec<usize>),
    last: (DMatrix<f32>, Vec<usize>),
}

impl BatchLoader {
    /// A loader over `inputs` (examples, features) and one label per row.
    /// With `shuffle`, each epoch visits the examples in a new order drawn
    /// from a generator seeded with `seed`; without, always in order.
    pub fn new(
        inputs: &DMatrix<f32>,
        labels: Vec<usize>,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
    ) -> Result<Self, ShapeError> {
        if labels.len() != inputs.nrows() {
            return Err(ShapeError::value(
                "BatchLoader labels",
                format!("{} labels, one per row of the inputs", inputs.nrows()),
                format!("{}", labels.len()),
            ));
        }
        if batch_size == 0 {
            return Err(ShapeError::value(
                "BatchLoader batch size",
                "at least 1",
                "0",
            ));
        }
        let n = inputs.nrows();
        let d = inputs.ncols();
        let remainder = n % batch_size;
        Ok(Self {
            examples: inputs.transpose(),
            labels,
            batch_size,
            shuffle,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (0..n).collect(),
            position: n,
            full: (
                DMatrix::zeros(batch_size.min(n), d),
                Vec::with_capacity(batch_size),
            ),
            last: (DMatrix::zeros(remainder, d), Vec::with_capacity(remainder)),
        })
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
        if self.shuffle {
            self.order.shuffle(&mut self.rng);
        }
        self.position = 0;
    }

    /// The next batch of the epoch, as (inputs (batch, features), labels), or
    /// None when the epoch is over. Call [`BatchLoader::start_epoch`] first.
    pub fn next_batch(&mut self) -> Option<(&DMatrix<f32>, &[usize])> {
        let n = self.len();
        if self.position >= n {
            return None;
        }
        let size = self.batch_size.min(n - self.position);
        let (inputs, labels) = if size == self.batch_size {
            &mut self.full
        } else {
            &mut self.last
        };
        labels.clear();
        for (row, &example) in self.order[self.position..self.position + size]
            .iter()
            .enumerate()
        {
            // Column `example` of the stored examples is row `row` of the batch.
            for (feature, &value) in self.examples.column(example).iter().enumerate() {
                inputs[(row, feature)] = value;
            }
            labels.push(self.labels[example]);
        }
        self.position += size;
        Some((&*inputs, labels.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader(n: usize, batch: usize, shuffle: bool, seed: u64) -> BatchLoader {
        // Row i is (i, 10 i), labelled i.
        let inputs = DMatrix::from_fn(n, 2, |i, j| (i * if j == 0 { 1 } else { 10 }) as f32);
        BatchLoader::new(&inputs, (0..n).collect(), batch, shuffle, seed).unwrap()
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

    #[test]
    fn bad_input_is_an_error() {
        let x = DMatrix::zeros(3, 2);
        let e = BatchLoader::new(&x, vec![0, 1], 2, false, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "BatchLoader labels: expected 3 labels, one per row of the inputs, found 2"
        );
        assert!(BatchLoader::new(&x, vec![0, 1, 2], 0, false, 0).is_err());
    }
}
