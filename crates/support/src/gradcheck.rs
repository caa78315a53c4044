//! A numerical gradient checker you can call on anything.
//!
//! For every entry x of every tensor a loss depends on, the central difference
//! (L(x + h) − L(x − h)) / 2h is compared with the analytic gradient, and the
//! report gives, per tensor, the largest absolute and relative error and
//! where it occurs (in the spirit of the `cmp` helper of Karpathy's makemore
//! backprop lesson).
//!
//! Given, not an exercise: it checks whichever gradients and loss it is
//! handed, the learner's or the reference's.

use std::fmt;

use nalgebra::DMatrix;

use crate::gradients::MlpGradients;
use crate::network::Mlp;
use crate::shape::ShapeError;

/// How far an analytic gradient a may be from the numeric one n:
/// |a − n| ≤ absolute + relative · |n|.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub absolute: f64,
    pub relative: f64,
}

impl Tolerance {
    /// What f32 central differences with h = 1e-2 reach on smooth functions
    /// of moderate size: truncation h²·f‴/6 and rounding ε·|L|/h are both
    /// near 1e-5, so 1e-3 leaves a wide margin while still catching any
    /// missing factor, transpose or sign.
    pub const F32: Self = Self {
        absolute: 1e-3,
        relative: 1e-2,
    };

    /// True when `analytic` is close enough to `numeric`.
    pub fn accepts(self, analytic: f64, numeric: f64) -> bool {
        (analytic - numeric).abs() <= self.absolute + self.relative * numeric.abs()
    }
}

/// The check of one tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorCheck {
    pub name: String,
    /// The number of entries checked.
    pub len: usize,
    /// The largest |analytic − numeric| over the entries.
    pub max_abs_error: f64,
    /// The largest |analytic − numeric| / max(|analytic|, |numeric|, 1e-6).
    pub max_rel_error: f64,
    /// The flat index (nalgebra's column order) of the worst entry by
    /// absolute error, and its two values.
    pub worst_index: usize,
    pub analytic: f64,
    pub numeric: f64,
    /// Whether every entry is within the tolerance the report was made with.
    pub passed: bool,
    /// The rows of the tensor when it is a matrix (stored column after
    /// column), so the report can say (row, column) rather than a flat
    /// index; none for a vector, or when the checker was not told.
    pub rows: Option<usize>,
}

/// The check of every tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientReport {
    pub tensors: Vec<TensorCheck>,
    pub tolerance: Tolerance,
}

impl GradientReport {
    /// True when every entry of every tensor is within tolerance.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(|t| t.passed)
    }

    /// The largest absolute error over every tensor.
    pub fn max_abs_error(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.max_abs_error)
            .fold(0.0, f64::max)
    }

    /// Fails with the whole report unless every tensor passed.
    #[track_caller]
    pub fn assert_passed(&self, what: &str) {
        assert!(self.passed(), "{what}: gradient check failed\n{self}");
    }
}

impl fmt::Display for GradientReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<14} {:>7} {:>12} {:>12} {:>7} {:>13} {:>13}  result",
            "tensor", "entries", "max abs err", "max rel err", "at", "analytic", "numeric"
        )?;
        for t in &self.tensors {
            let at = match t.rows {
                Some(rows) if rows > 0 => {
                    format!("({}, {})", t.worst_index % rows, t.worst_index / rows)
                }
                _ => t.worst_index.to_string(),
            };
            writeln!(
                f,
                "{:<14} {:>7} {:>12.3e} {:>12.3e} {:>7} {:>13.6} {:>13.6}  {}",
                t.name,
                t.len,
                t.max_abs_error,
                t.max_rel_error,
                at,
                t.analytic,
                t.numeric,
                if t.passed { "ok" } else { "WRONG" }
            )?;
        }
        write!(
            f,
            "(tolerance: |analytic − numeric| ≤ {:e} + {:e}·|numeric|)",
            self.tolerance.absolute, self.tolerance.relative
        )
    }
}

/// Checks `analytic` gradients of `loss` with respect to `tensors`.
///
/// `tensors` are the named values the loss depends on; `analytic[i]` is the
/// gradient to check for `tensors[i]` (same length); `loss` computes the loss
/// from a full set of tensor values. Each entry is moved by ±`step` in turn.
pub fn check_gradients(
    tensors: &[(String, Vec<f32>)],
    analytic: &[&[f32]],
    mut loss: impl FnMut(&[Vec<f32>]) -> f32,
    step: f32,
    tolerance: Tolerance,
) -> GradientReport {
    assert_eq!(tensors.len(), analytic.len(), "one gradient per tensor");
    let mut values: Vec<Vec<f32>> = tensors.iter().map(|(_, v)| v.clone()).collect();
    let mut checks = Vec::new();
    for (t, ((name, original), grad)) in tensors.iter().zip(analytic).enumerate() {
        assert!(
            original.len() == grad.len(),
            "{name}: the gradient has {} values and the tensor {}; a gradient has its tensor's shape",
            grad.len(),
            original.len()
        );
        let mut check = TensorCheck {
            name: name.clone(),
            len: original.len(),
            max_abs_error: 0.0,
            max_rel_error: 0.0,
            worst_index: 0,
            analytic: 0.0,
            numeric: 0.0,
            passed: true,
            rows: None,
        };
        for i in 0..original.len() {
            let (up, down) = (original[i] + step, original[i] - step);
            values[t][i] = up;
            let above = f64::from(loss(&values));
            values[t][i] = down;
            let below = f64::from(loss(&values));
            values[t][i] = original[i];
            let numeric = (above - below) / (f64::from(up) - f64::from(down));
            let a = f64::from(grad[i]);
            let abs = if a.is_nan() || numeric.is_nan() {
                f64::INFINITY
            } else {
                (a - numeric).abs()
            };
            let rel = abs / a.abs().max(numeric.abs()).max(1e-6);
            check.passed &= tolerance.accepts(a, numeric);
            check.max_rel_error = check.max_rel_error.max(rel);
            if abs > check.max_abs_error || i == 0 {
                check.max_abs_error = abs;
                check.worst_index = i;
                check.analytic = a;
                check.numeric = numeric;
            }
        }
        checks.push(check);
    }
    GradientReport {
        tensors: checks,
        tolerance,
    }
}

/// Checks `analytic`, the gradients of a loss for every weight, every bias
/// and the input of `mlp` on one batch, against central differences of
/// `loss(mlp, input)` itself. `analytic` is what a backward pass gave, such
/// as stage 4's `mlp_backward`; `loss` runs the forward pass and the loss.
pub fn check_mlp(
    mlp: &Mlp,
    input: &DMatrix<f32>,
    analytic: &MlpGradients,
    mut loss: impl FnMut(&Mlp, &DMatrix<f32>) -> Result<f32, ShapeError>,
    step: f32,
    tolerance: Tolerance,
) -> Result<GradientReport, ShapeError> {
    // Fail early, with the reason, if the loss cannot be computed at all.
    loss(mlp, input)?;
    // Each tensor, and a weight matrix's rows for the report's (row,
    // column); none for a bias.
    let (mut tensors, mut rows): (Vec<_>, Vec<_>) = mlp
        .parameters()
        .into_iter()
        .map(|p| {
            let rows = (p.shape.len() == 2).then(|| p.shape[0]);
            ((p.name, p.values.to_vec()), rows)
        })
        .unzip();
    rows.push(Some(input.nrows()));
    let mut gradients = analytic.flat();
    if gradients.len() != tensors.len() {
        return Err(ShapeError::count(
            "gradients to check (one tensor per weight and bias)",
            tensors.len(),
            gradients.len(),
        ));
    }
    for ((name, values), gradient) in tensors.iter().zip(&gradients) {
        if values.len() != gradient.len() {
            return Err(ShapeError::count(
                format!("gradient of {name} (as many values as the tensor)"),
                values.len(),
                gradient.len(),
            ));
        }
    }
    ShapeError::check("input gradient", input.shape(), analytic.input.shape())?;
    tensors.push(("input".to_owned(), input.as_slice().to_vec()));
    gradients.push(analytic.input.as_slice());

    let mut probe = mlp.clone();
    let mut report = check_gradients(
        &tensors,
        &gradients,
        |values| {
            for (param, value) in probe.parameters_mut().into_iter().zip(values) {
                param.copy_from_slice(value);
            }
            let x =
                DMatrix::from_column_slice(input.nrows(), input.ncols(), &values[values.len() - 1]);
            loss(&probe, &x).unwrap_or(f32::NAN)
        },
        step,
        tolerance,
    );
    for (check, rows) in report.tensors.iter_mut().zip(rows) {
        check.rows = rows;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_gradient_is_caught_and_located() {
        // L = x₀² + 3x₁: the true gradient is (2x₀, 3); claim (2x₀, 2.5).
        let tensors = [("x".to_owned(), vec![1.5f32, -2.0])];
        let report = check_gradients(
            &tensors,
            &[&[3.0, 2.5]],
            |v| v[0][0] * v[0][0] + 3.0 * v[0][1],
            1e-2,
            Tolerance::F32,
        );
        assert!(!report.passed());
        let t = &report.tensors[0];
        assert_eq!(t.worst_index, 1);
        assert!((t.numeric - 3.0).abs() < 1e-3 && (t.analytic - 2.5).abs() < 1e-9);
        assert!((t.max_abs_error - 0.5).abs() < 1e-3);
        assert!(report.to_string().contains("WRONG"));
        // The right gradient passes.
        let report = check_gradients(
            &tensors,
            &[&[3.0, 3.0]],
            |v| v[0][0] * v[0][0] + 3.0 * v[0][1],
            1e-2,
            Tolerance::F32,
        );
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn check_mlp_locates_a_wrong_weight_by_row_and_column() {
        use crate::activation::Activation;
        use crate::network::{Init, Layer};
        use nalgebra::dmatrix;
        // One 3 → 2 linear layer and L = Σ R ⊙ (X Wᵀ + b): dL/dW = Rᵀ X,
        // dL/db = the column sums of R, dL/dX = R W. One entry of dL/dW,
        // at (row 1, column 2), is made wrong.
        let mlp = Mlp::new(
            &[3, 2],
            &[Activation::Identity],
            Init::XavierUniform,
            0,
            |_, out, inp, _| DMatrix::from_fn(out, inp, |r, c| 0.1 * (r + 2 * c) as f32 - 0.2),
        )
        .unwrap();
        let Layer::Linear(linear) = &mlp.layers[0] else {
            panic!("a linear layer")
        };
        let x = dmatrix![1.0_f32, -0.5, 2.0; 0.25, 1.5, -1.0];
        let r = dmatrix![1.0_f32, -2.0; 0.5, 0.75];
        let mut weights = r.transpose() * &x;
        weights[(1, 2)] += 1.0;
        let analytic = MlpGradients {
            input: &r * &linear.weights,
            layers: vec![Some((weights, r.row_sum().transpose()))],
        };
        let loss = |m: &Mlp, input: &DMatrix<f32>| {
            let Layer::Linear(l) = &m.layers[0] else {
                panic!("a linear layer")
            };
            let mut z = input * l.weights.transpose();
            for mut row in z.row_iter_mut() {
                row += l.bias.transpose();
            }
            Ok(z.component_mul(&r).sum())
        };
        let report = check_mlp(&mlp, &x, &analytic, loss, 1e-2, Tolerance::F32).unwrap();
        let failing: Vec<(&str, Option<usize>, usize)> = report
            .tensors
            .iter()
            .filter(|t| !t.passed)
            .map(|t| (t.name.as_str(), t.rows, t.worst_index))
            .collect();
        // Flat index 5 of a 2-row matrix stored column after column is (1, 2).
        assert_eq!(failing, [("0.weight", Some(2), 5)]);
        assert!(report.to_string().contains("(1, 2)"), "{report}");
    }

    #[test]
    fn a_nan_gradient_never_passes() {
        let tensors = [("x".to_owned(), vec![1.0f32])];
        let report = check_gradients(&tensors, &[&[f32::NAN]], |v| v[0][0], 1e-2, Tolerance::F32);
        assert!(!report.passed());
        assert_eq!(report.max_abs_error(), f64::INFINITY);
    }
}
