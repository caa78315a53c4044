//! Small labelled data sets for binary classifiers: the logic gates and
//! seeded 2-D point clouds.

use std::fmt;

use nalgebra::{DVector, Vector2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Labelled examples for a binary classifier: inputs of one length d and
/// labels 0 or 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub inputs: Vec<DVector<f32>>,
    pub labels: Vec<f32>,
}

/// Why a [`Dataset`] could not be built.
#[derive(Clone, Debug, PartialEq)]
pub enum DataError {
    /// The number of labels differs from the number of inputs.
    LengthMismatch { inputs: usize, labels: usize },
    /// Input `index` has a different length from input 0.
    RaggedInput {
        index: usize,
        expected: usize,
        found: usize,
    },
    /// Label `index` is neither 0 nor 1.
    BadLabel { index: usize, found: f32 },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::LengthMismatch { inputs, labels } => {
                write!(
                    f,
                    "{inputs} inputs but {labels} labels: need one label per input"
                )
            }
            Self::RaggedInput {
                index,
                expected,
                found,
            } => write!(
                f,
                "input {index} has length {found}, expected {expected} like input 0"
            ),
            Self::BadLabel { index, found } => {
                write!(f, "label {index} is {found}, expected 0 or 1")
            }
        }
    }
}

impl std::error::Error for DataError {}

impl Dataset {
    /// Pairs `inputs[i]` with `labels[i]`, checking lengths and labels.
    pub fn new(inputs: Vec<DVector<f32>>, labels: Vec<f32>) -> Result<Self, DataError> {
        if inputs.len() != labels.len() {
            return Err(DataError::LengthMismatch {
                inputs: inputs.len(),
                labels: labels.len(),
            });
        }
        let expected = inputs.first().map_or(0, |x| x.len());
        if let Some((index, x)) = inputs.iter().enumerate().find(|(_, x)| x.len() != expected) {
            return Err(DataError::RaggedInput {
                index,
                expected,
                found: x.len(),
            });
        }
        if let Some((index, &found)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &y)| y != 0.0 && y != 1.0)
        {
            return Err(DataError::BadLabel { index, found });
        }
        Ok(Self { inputs, labels })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The length d of every input.
    pub fn input_len(&self) -> usize {
        self.inputs.first().map_or(0, |x| x.len())
    }

    /// All inputs as one (n, d) matrix, one example per row.
    pub fn input_matrix(&self) -> nalgebra::DMatrix<f32> {
        nalgebra::DMatrix::from_fn(self.len(), self.input_len(), |i, j| self.inputs[i][j])
    }
}

/// The fraction of `predictions` equal to `labels` (0 for no examples).
pub fn accuracy(predictions: &[f32], labels: &[f32]) -> f32 {
    if labels.is_empty() {
        return 0.0;
    }
    let correct = predictions
        .iter()
        .zip(labels)
        .filter(|(p, y)| p == y)
        .count();
    correct as f32 / labels.len() as f32
}

fn gate(truth: [f32; 4]) -> Dataset {
    let inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
        .iter()
        .map(|x| DVector::from_row_slice(x))
        .collect();
    Dataset {
        inputs,
        labels: truth.to_vec(),
    }
}

/// AND over two binary inputs: linearly separable.
pub fn and_gate() -> Dataset {
    gate([0.0, 0.0, 0.0, 1.0])
}

/// OR over two binary inputs: linearly separable.
pub fn or_gate() -> Dataset {
    gate([0.0, 1.0, 1.0, 1.0])
}

/// XOR over two binary inputs: no straight line separates its classes.
pub fn xor_gate() -> Dataset {
    gate([0.0, 1.0, 1.0, 0.0])
}

/// Two seeded Gaussian clouds in the plane, one per class, made linearly
/// separable with a margin.
///
/// Points are drawn around the centres (-1, -0.5) (label 0) and (1, 0.75)
/// (label 1) with standard deviation 0.5; any point closer than `margin` to
/// the perpendicular bisector of the centres, or on its wrong side, is drawn
/// again. So the bisector separates the classes with at least that margin,
/// and the perceptron convergence theorem guarantees training ends. The same
/// seed always gives the same points.
pub fn separable_clouds(points_per_class: usize, margin: f32, seed: u64) -> Dataset {
    let centres = [Vector2::new(-1.0_f32, -0.5), Vector2::new(1.0, 0.75)];
    let midpoint = (centres[0] + centres[1]) / 2.0;
    let normal = (centres[1] - centres[0]).normalize();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(2 * points_per_class);
    let mut labels = Vec::with_capacity(2 * points_per_class);
    for _ in 0..points_per_class {
        for (label, centre) in centres.iter().enumerate() {
            let sign = if label == 1 { 1.0 } else { -1.0 };
            let point = loop {
                let dx: f32 = StandardNormal.sample(&mut rng);
                let dy: f32 = StandardNormal.sample(&mut rng);
                let p = centre + 0.5 * Vector2::new(dx, dy);
                if sign * normal.dot(&(p - midpoint)) >= margin {
                    break p;
                }
            };
            inputs.push(DVector::from_column_slice(point.as_slice()));
            labels.push(label as f32);
        }
    }
    Dataset { inputs, labels }
}

/// Two interleaving half circles ("moons"), a classic set that no straight
/// line separates but a small MLP does. Class 0 lies on (cos θ, sin θ),
/// class 1 on (1 − cos θ, 0.5 − sin θ), θ evenly spaced over [0, π], each
/// point moved by seeded Gaussian noise of standard deviation `noise`.
pub fn two_moons(points_per_class: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(2 * points_per_class);
    let mut labels = Vec::with_capacity(2 * points_per_class);
    let steps = points_per_class.saturating_sub(1).max(1) as f32;
    for i in 0..points_per_class {
        let theta = std::f32::consts::PI * i as f32 / steps;
        let (sin, cos) = theta.sin_cos();
        for (label, (x, y)) in [(cos, sin), (1.0 - cos, 0.5 - sin)].into_iter().enumerate() {
            let dx: f32 = StandardNormal.sample(&mut rng);
            let dy: f32 = StandardNormal.sample(&mut rng);
            inputs.push(DVector::from_vec(vec![x + noise * dx, y + noise * dy]));
            labels.push(label as f32);
        }
    }
    Dataset { inputs, labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_are_seeded_and_separated_by_the_bisector() {
        let a = separable_clouds(50, 0.1, 7);
        assert_eq!(a, separable_clouds(50, 0.1, 7));
        assert_ne!(a, separable_clouds(50, 0.1, 8));
        assert_eq!(a.len(), 100);
        // The bisector of (-1, -0.5) and (1, 0.75): normal (2, 1.25), through (0, 0.125).
        let n = Vector2::new(2.0_f32, 1.25).normalize();
        for (x, &y) in a.inputs.iter().zip(&a.labels) {
            let side = n.dot(&(Vector2::new(x[0], x[1]) - Vector2::new(0.0, 0.125)));
            let signed = if y == 1.0 { side } else { -side };
            assert!(
                signed >= 0.1 - 1e-6,
                "point {x:?} label {y} is {signed} from the bisector"
            );
        }
    }

    #[test]
    fn dataset_new_rejects_bad_input_with_a_reason() {
        let x = DVector::from_vec(vec![0.0_f32, 1.0]);
        let err = Dataset::new(vec![x.clone()], vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 inputs but 0 labels: need one label per input"
        );
        let short = DVector::from_vec(vec![0.0_f32]);
        let err = Dataset::new(vec![x.clone(), short], vec![0.0, 1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input 1 has length 1, expected 2 like input 0"
        );
        let err = Dataset::new(vec![x], vec![0.5]).unwrap_err();
        assert_eq!(err.to_string(), "label 0 is 0.5, expected 0 or 1");
    }

    #[test]
    fn moons_without_noise_lie_on_their_circles() {
        let moons = two_moons(20, 0.0, 3);
        assert_eq!(moons.len(), 40);
        for (x, &y) in moons.inputs.iter().zip(&moons.labels) {
            let centre = if y == 0.0 { (0.0, 0.0) } else { (1.0, 0.5) };
            let r = ((x[0] - centre.0).powi(2) + (x[1] - centre.1).powi(2)).sqrt();
            assert!(
                (r - 1.0).abs() < 1e-5,
                "{x:?} (label {y}) is {r} from its centre"
            );
        }
        assert_eq!(two_moons(20, 0.1, 3), two_moons(20, 0.1, 3));
    }

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[1.0, 0.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 0.0]), 0.5);
        assert_eq!(accuracy(&[], &[]), 0.0);
    }
}
