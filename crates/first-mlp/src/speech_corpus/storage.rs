//! How the corpus's MFCCs are rounded before they are stored: each
//! coefficient to a grid a fraction of its spread, so that the packed
//! corpus compresses to about a third of its size. The rounding is far
//! finer than the differences between voices that the model must learn
//! to ignore; the book's "Voices never heard" measures what it costs.

use nalgebra::DMatrix;

/// The grid's step is the power of two at or below this fraction of the
/// coefficient's standard deviation over the training split.
pub const STEPS_PER_DEVIATION: f64 = 8.0;

/// Each coefficient's step: the power of two at or below its standard
/// deviation over `frames` (all as wide) divided by
/// [`STEPS_PER_DEVIATION`]; `None` where the deviation is 0 (nothing to
/// round) or where there are no frames.
pub fn steps<'a>(frames: impl Iterator<Item = &'a DMatrix<f32>> + Clone) -> Vec<Option<f32>> {
    let width = frames.clone().map(|f| f.ncols()).max().unwrap_or(0);
    let mut count = 0usize;
    let mut sum = vec![0f64; width];
    for f in frames.clone() {
        count += f.nrows();
        for (c, column) in f.column_iter().enumerate() {
            sum[c] += column.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
    }
    if count == 0 {
        return vec![None; width];
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count as f64).collect();
    let mut squares = vec![0f64; width];
    for f in frames {
        for (c, column) in f.column_iter().enumerate() {
            squares[c] += column
                .iter()
                .map(|&v| (f64::from(v) - mean[c]).powi(2))
                .sum::<f64>();
        }
    }
    squares
        .iter()
        .map(|&s| {
            let deviation = (s / count as f64).sqrt();
            let step = 2f64.powf((deviation / STEPS_PER_DEVIATION).log2().floor()) as f32;
            // A spread of 0, or one whose step f32 cannot hold, is left as is.
            step.is_normal().then_some(step)
        })
        .collect()
}

/// Rounds each coefficient of `frames` to the nearest multiple of its step
/// (ties away from zero); coefficients without a step are left as they are.
pub fn round_to_steps(frames: &mut DMatrix<f32>, steps: &[Option<f32>]) {
    for (mut column, step) in frames.column_iter_mut().zip(steps) {
        if let Some(step) = *step {
            column.apply(|v| *v = (*v / step).round() * step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_the_powers_of_two_at_or_below_an_eighth_of_each_spread() {
        // Column 0 takes -4 and 4 (deviation 4: step 0.5, exactly an
        // eighth); column 1 -3 and 3 (deviation 3: 3/8 = 0.375, so 0.25);
        // column 2 is constant.
        let a = DMatrix::from_row_slice(2, 3, &[-4.0, -3.0, 7.0, 4.0, 3.0, 7.0]);
        let b = DMatrix::from_row_slice(2, 3, &[-4.0, 3.0, 7.0, 4.0, -3.0, 7.0]);
        assert_eq!(
            steps([&a, &b].into_iter()),
            vec![Some(0.5), Some(0.25), None]
        );
        assert_eq!(steps(std::iter::empty()), Vec::<Option<f32>>::new());
        let none = DMatrix::<f32>::zeros(0, 2);
        assert_eq!(steps([&none].into_iter()), vec![None, None]);
    }

    #[test]
    fn rounding_moves_each_value_at_most_half_a_step_onto_the_grid() {
        let mut frames =
            DMatrix::from_row_slice(3, 3, &[0.3, 1.1, 5.55, -0.76, -1.13, 2.0, 0.25, 0.0, -9.9]);
        let before = frames.clone();
        let steps = [Some(0.5), Some(0.25), None];
        round_to_steps(&mut frames, &steps);
        assert_eq!(
            frames,
            DMatrix::from_row_slice(3, 3, &[0.5, 1.0, 5.55, -1.0, -1.25, 2.0, 0.5, 0.0, -9.9])
        );
        for c in 0..2 {
            let step = steps[c].unwrap();
            for r in 0..3 {
                assert!((frames[(r, c)] - before[(r, c)]).abs() <= step / 2.0);
                assert_eq!(frames[(r, c)] / step, (frames[(r, c)] / step).round());
            }
        }
    }
}
