//! Assertions that tell a learner exactly what was expected and what came back,
//! and central finite differences to check derivatives against.
//!
//! Every helper is `#[track_caller]`, so a failure points at the test line
//! that made the check.

use nalgebra::DMatrix;

use crate::batches::BatchLoader;
use crate::shape::{Expected, Found, ShapeError};

/// True when `got` is within `tolerance` of `expected`, absolutely for small
/// values and relatively for large ones: |got − expected| ≤ tol · max(1, |expected|).
/// NaN is never close to anything.
pub fn is_close(expected: f64, got: f64, tolerance: f64) -> bool {
    if expected.is_infinite() || got.is_infinite() {
        return expected == got;
    }
    (got - expected).abs() <= tolerance * expected.abs().max(1.0)
}

/// Fails with `"{what}: expected {expected}, got {got}"` unless `got` is close
/// to `expected` (see [`is_close`]).
#[track_caller]
pub fn assert_close(what: &str, expected: impl Into<f64>, got: impl Into<f64>, tolerance: f64) {
    let (expected, got) = (expected.into(), got.into());
    assert!(
        is_close(expected, got, tolerance),
        "{what}: expected {}, got {} (tolerance {tolerance:e})",
        show(expected),
        show(got)
    );
}

/// A value as a failure shows it: in scientific notation when very small or
/// very large, where plain decimals would bury its digits in zeros.
fn show(value: f64) -> String {
    let magnitude = value.abs();
    if value != 0.0 && value.is_finite() && !(1e-4..1e7).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// [`assert_close`], naming the mistake when there is a known one: each of
/// `mistakes` pairs what a classic mistake does ("e^x − 1 computed
/// directly") with the value it gives here. When `got` is not close to
/// `expected` but is to a mistake's value, the failure says
/// "this matches …".
#[track_caller]
pub fn assert_close_naming(
    what: &str,
    expected: impl Into<f64>,
    got: impl Into<f64>,
    tolerance: f64,
    mistakes: &[(&str, f64)],
) {
    let (expected, got) = (expected.into(), got.into());
    if is_close(expected, got, tolerance) {
        return;
    }
    let named = mistakes
        .iter()
        .find(|(_, value)| is_close(*value, got, tolerance))
        .map_or_else(String::new, |(mistake, _)| {
            format!(": this matches {mistake}")
        });
    panic!(
        "{what}: expected {}, got {} (tolerance {tolerance:e}){named}",
        show(expected),
        show(got)
    );
}

/// Fails unless `result` is a [`ShapeError`] about a matrix of shape
/// `found` where one with a size of `needed` (its rows or its columns) was
/// required. Only the fields are checked: the error's name for the matrix
/// is yours.
#[track_caller]
pub fn assert_shape_error<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, ShapeError>,
    needed: usize,
    found: (usize, usize),
) {
    let error = match result {
        Ok(value) => panic!(
            "{what}: expected a ShapeError (a size of {needed} needed, shape {found:?} found), \
             got Ok({value:?})"
        ),
        Err(error) => error,
    };
    let needs = match error.expected {
        Expected::Shape(rows, cols) => rows == Some(needed) || cols == Some(needed),
        _ => false,
    };
    assert!(
        needs && error.found == Found::Shape(found.0, found.1),
        "{what}: expected a ShapeError with a shape of size {needed} expected and shape \
         {found:?} found, got {:?} expected and {:?} found ({error})",
        error.expected,
        error.found
    );
}

/// Fails unless `result` is a [`ShapeError`] about a count or a number,
/// such as a length or an index, that says it needed `needed` (that many,
/// or a number below it) and found `found`. Only the fields are checked.
#[track_caller]
pub fn assert_value_error<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, ShapeError>,
    needed: usize,
    found: usize,
) {
    let error = match result {
        Ok(value) => {
            panic!("{what}: expected an error ({needed} needed, {found} found), got Ok({value:?})")
        }
        Err(error) => error,
    };
    let needs = matches!(error.expected, Expected::Count(n) | Expected::Below(n) if n == needed);
    assert!(
        needs && error.found == Found::Number(found),
        "{what}: expected an error with {needed} expected (a count, or a bound) and {found} \
         found, got {:?} expected and {:?} found ({error})",
        error.expected,
        error.found
    );
}

/// Fails unless `result` is a [`ShapeError`] whose `expected` and `found`
/// are exactly these: the right kind (a shape with its free sizes, a count,
/// a bound) and the right numbers. The error's name and words are yours.
#[track_caller]
pub fn assert_error_is<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, ShapeError>,
    expected: Expected,
    found: Found,
) {
    match result {
        Ok(value) => panic!(
            "{what}: expected an error with {expected:?} expected and {found:?} found, got \
             Ok({value:?})"
        ),
        Err(error) => assert!(
            error.expected == expected && error.found == found,
            "{what}: expected an error with {expected:?} expected and {found:?} found, got \
             {:?} expected and {:?} found ({error})",
            error.expected,
            error.found
        ),
    }
}

/// Fails unless `got` is exactly `expected`, with the same kind of message.
#[track_caller]
pub fn assert_exact<T: PartialEq + std::fmt::Debug>(what: &str, expected: T, got: T) {
    assert!(
        expected == got,
        "{what}: expected {}, got {}",
        shorten(&expected),
        shorten(&got)
    );
}

/// A value as `{:?}` writes it, cut after its first 300 characters: a list
/// of a hundred epochs says what it needs to in its first few.
fn shorten(value: &impl std::fmt::Debug) -> String {
    let text = format!("{value:?}");
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
        None => text,
    }
}

/// [`assert_exact`], naming the mistake when `got` equals one of
/// `mistakes` (what it does, and the value it gives here).
#[track_caller]
pub fn assert_exact_naming<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: T,
    got: T,
    mistakes: &[(&str, T)],
) {
    if expected == got {
        return;
    }
    let named = mistakes
        .iter()
        .find(|(_, value)| *value == got)
        .map_or_else(String::new, |(mistake, _)| {
            format!(": this matches {mistake}")
        });
    panic!(
        "{what}: expected {}, got {}{named}",
        shorten(&expected),
        shorten(&got)
    );
}

/// Where two matrices differ most, in the spirit of the `cmp` report of
/// Karpathy's makemore backprop lesson.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// The largest |expected − got| over all entries (infinite if any entry is NaN).
    pub max_abs: f64,
    /// (row, column) of that entry.
    pub at: (usize, usize),
    pub expected: f64,
    pub got: f64,
}

/// The entry where `got` differs most from `expected`. Shapes must match.
pub fn largest_difference(expected: &DMatrix<f64>, got: &DMatrix<f64>) -> Difference {
    let mut worst = Difference {
        max_abs: 0.0,
        at: (0, 0),
        expected: 0.0,
        got: 0.0,
    };
    for j in 0..expected.ncols() {
        for i in 0..expected.nrows() {
            let (e, g) = (expected[(i, j)], got[(i, j)]);
            let diff = if g.is_nan() || e.is_nan() {
                f64::INFINITY
            } else {
                (g - e).abs()
            };
            if diff > worst.max_abs || (i, j) == (0, 0) {
                worst = Difference {
                    max_abs: diff,
                    at: (i, j),
                    expected: e,
                    got: g,
                };
            }
        }
    }
    worst
}

/// Fails unless `got` has the shape of `expected` and every entry is close
/// (see [`is_close`]); the message names the worst entry.
#[track_caller]
pub fn assert_matrix_close(
    what: &str,
    expected: &DMatrix<f64>,
    got: &DMatrix<f64>,
    tolerance: f64,
) {
    assert!(
        expected.shape() == got.shape(),
        "{what}: expected shape {:?}, got shape {:?}",
        expected.shape(),
        got.shape()
    );
    let all_close = expected
        .iter()
        .zip(got.iter())
        .all(|(&e, &g)| is_close(e, g, tolerance));
    if !all_close {
        panic!(
            "{what}: {}{}",
            describe_worst(expected, got, tolerance),
            both_matrices(expected, got)
        );
    }
}

/// The worst entry of `got` against `expected` (same shapes), in words.
fn describe_worst(expected: &DMatrix<f64>, got: &DMatrix<f64>, tolerance: f64) -> String {
    let worst = largest_difference(expected, got);
    format!(
        "largest difference {:e} at (row {}, column {}): expected {}, got {} (tolerance \
         {tolerance:e})",
        worst.max_abs,
        worst.at.0,
        worst.at.1,
        show(worst.expected),
        show(worst.got)
    )
}

/// Both matrices, when they are small enough to read; a failure that
/// printed two 40 x 257 matrices would bury its first line.
fn both_matrices(expected: &DMatrix<f64>, got: &DMatrix<f64>) -> String {
    if expected.len().max(got.len()) <= 64 {
        format!("\nexpected {expected}got {got}")
    } else {
        format!(
            "\n(the {} x {} matrices are too large to print)",
            expected.nrows(),
            expected.ncols()
        )
    }
}

/// [`assert_matrix_close`], naming the mistake when `got` matches one of
/// `mistakes` (what it does, and the matrix it gives here). A mistake that
/// yields NaN matches where `got` has NaN in the same places.
#[track_caller]
pub fn assert_matrix_close_naming(
    what: &str,
    expected: &DMatrix<f64>,
    got: &DMatrix<f64>,
    tolerance: f64,
    mistakes: &[(&str, DMatrix<f64>)],
) {
    let close = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
        a.shape() == b.shape()
            && a.iter()
                .zip(b.iter())
                .all(|(&x, &y)| is_close(x, y, tolerance))
    };
    if close(expected, got) {
        return;
    }
    let matches = |wrong: &DMatrix<f64>| {
        wrong.shape() == got.shape()
            && wrong
                .iter()
                .zip(got.iter())
                .all(|(&x, &y)| (x.is_nan() && y.is_nan()) || is_close(x, y, tolerance))
    };
    match mistakes.iter().find(|(_, wrong)| matches(wrong)) {
        Some((mistake, _)) if expected.shape() == got.shape() => panic!(
            "{what}: {}: this matches {mistake}{}",
            describe_worst(expected, got, tolerance),
            both_matrices(expected, got)
        ),
        Some((mistake, _)) => panic!(
            "{what}: expected shape {:?}, got shape {:?}: this matches {mistake}",
            expected.shape(),
            got.shape()
        ),
        None => assert_matrix_close(what, expected, got, tolerance),
    }
}

/// The central difference (f(x + h) − f(x − h)) / 2h of an f32 function,
/// computed in f64 from the f32 points actually evaluated, so rounding of
/// x ± h does not bias the slope.
pub fn central_difference(f: impl Fn(f32) -> f32, x: f32, h: f32) -> f64 {
    let (above, below) = (x + h, x - h);
    (f64::from(f(above)) - f64::from(f(below))) / (f64::from(above) - f64::from(below))
}

/// Shows only the first panic of each test thread.
///
/// A property test retries and shrinks a failing case many times; when the
/// code under test panics (a `todo!()`, say) every retry would print the same
/// message and backtrace. Call this at the top of a property body: the first
/// panic, which names the file and line, stays visible, the repeats do not.
/// A property that fails by assertion still shows proptest's final report.
pub fn show_first_panic_only() {
    use std::cell::Cell;
    use std::sync::Once;
    thread_local!(static PANICS: Cell<u32> = const { Cell::new(0) });
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let seen = PANICS.with(|p| p.replace(p.get() + 1));
            match seen {
                0 => default_hook(info),
                1 => eprintln!("(later panics of this test are the same kind and are not shown)"),
                _ => {}
            }
        }));
    });
}

/// Converts an f32 matrix to f64 for comparisons.
pub fn to_f64(m: &DMatrix<f32>) -> DMatrix<f64> {
    m.map(f64::from)
}

/// Runs one epoch of `loader`, a loader over the rows of `inputs` (examples,
/// features) labelled with their row numbers, and fails unless every batch
/// holds exactly its examples' rows; returns the batch sizes.
#[track_caller]
pub fn assert_epoch_holds_its_rows(loader: &mut BatchLoader, inputs: &DMatrix<f32>) -> Vec<usize> {
    loader.start_epoch();
    let mut sizes = Vec::new();
    while let Some((x, y)) = loader.next_batch() {
        assert_eq!(x.shape(), (y.len(), inputs.ncols()));
        for (r, &example) in y.iter().enumerate() {
            for j in 0..inputs.ncols() {
                assert_eq!(x[(r, j)], inputs[(example, j)], "row {r}, feature {j}");
            }
        }
        sizes.push(y.len());
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closeness_is_absolute_near_zero_and_relative_far_away() {
        assert!(is_close(0.0, 1e-7, 1e-6));
        assert!(!is_close(0.0, 1e-5, 1e-6));
        assert!(is_close(1e6, 1e6 + 0.5, 1e-6));
        assert!(!is_close(1e6, 1e6 + 2.0, 1e-6));
        assert!(!is_close(1.0, f64::NAN, 1.0));
        assert!(is_close(f64::INFINITY, f64::INFINITY, 0.0));
    }

    #[test]
    fn failure_message_says_expected_and_got() {
        let err =
            std::panic::catch_unwind(|| assert_close("sigmoid(0.0)", 0.5, 0.25, 1e-6)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert_eq!(msg, "sigmoid(0.0): expected 0.5, got 0.25 (tolerance 1e-6)");
    }

    #[test]
    fn a_result_that_matches_a_known_mistake_is_named() {
        let mistakes = [("the left slope", 0.5), ("the right slope", 1.0)];
        assert_close_naming("f(0)", 0.5, 0.5, 1e-6, &mistakes);
        let failure = |got: f64| {
            let err = std::panic::catch_unwind(|| {
                assert_close_naming("f(0)", 0.25, got, 1e-6, &mistakes)
            })
            .unwrap_err();
            err.downcast_ref::<String>().unwrap().clone()
        };
        assert!(failure(1.0).ends_with("this matches the right slope"));
        assert!(!failure(0.75).contains("this matches"));
    }

    #[test]
    fn a_shape_error_is_checked_by_its_sizes_not_its_words() {
        let error = |expected| -> Result<(), ShapeError> {
            Err(ShapeError::new("any name", expected, (4, 3)))
        };
        assert_shape_error("ok", error((None, Some(2))), 2, (4, 3));
        assert_shape_error("ok", error((Some(2), Some(7))), 2, (4, 3));
        let fails = |result: Result<(), ShapeError>, found| {
            std::panic::catch_unwind(|| assert_shape_error("case", result, 2, found)).is_err()
        };
        assert!(fails(error((None, Some(12))), (4, 3)));
        assert!(fails(error((None, Some(2))), (3, 4)));
        assert!(fails(Err(ShapeError::count("n", 2, 4)), (4, 3)));
        assert!(fails(Ok(()), (4, 3)));
    }

    #[test]
    fn a_value_error_is_checked_by_its_numbers() {
        assert_value_error("ok", Err::<(), _>(ShapeError::below("i", 3, 3)), 3, 3);
        let fails = |result: Result<(), ShapeError>| {
            std::panic::catch_unwind(|| assert_value_error("case", result, 6, 5)).is_err()
        };
        assert!(!fails(Err(ShapeError::count("values", 6, 5))));
        assert!(fails(Err(ShapeError::count("values", 6, 4))));
        assert!(fails(Err(ShapeError::count("values", 16, 5))));
        assert!(fails(Err(ShapeError::value("values", "6", "5"))));
        assert!(fails(Ok(())));
    }

    #[test]
    fn exact_and_matrix_results_that_match_a_known_mistake_are_named() {
        let failure = |check: &dyn Fn()| {
            let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_err();
            err.downcast_ref::<String>().unwrap().clone()
        };
        assert_exact_naming("k", 1, 1, &[("two", 2)]);
        assert!(
            failure(&|| assert_exact_naming("k", 1, 2, &[("two", 2)]))
                .ends_with("this matches two")
        );
        assert!(!failure(&|| assert_exact_naming("k", 1, 3, &[("two", 2)])).contains("matches"));
        let nan = DMatrix::from_row_slice(1, 2, &[f64::NAN, 1.0]);
        let expected = DMatrix::from_row_slice(1, 2, &[0.5, 0.5]);
        let message = failure(&|| {
            assert_matrix_close_naming("m", &expected, &nan, 1e-6, &[("no shift", nan.clone())])
        });
        assert!(message.contains(": this matches no shift"), "{message}");
        // Large matrices are not printed, so the verdict stays in view.
        let big = DMatrix::from_element(40, 257, 1.0);
        let message = failure(&|| {
            assert_matrix_close_naming("b", &big, &(&big * 2.0), 1e-6, &[("double", &big * 2.0)])
        });
        assert!(message.contains(": this matches double"), "{message}");
        assert!(message.len() < 400, "{} bytes: {message}", message.len());
    }

    #[test]
    fn largest_difference_finds_the_worst_entry_and_nan() {
        let e = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        let g = DMatrix::from_row_slice(2, 2, &[1.0, 2.5, 3.0, 3.0]);
        let d = largest_difference(&e, &g);
        assert_eq!(
            (d.max_abs, d.at, d.expected, d.got),
            (1.0, (1, 1), 4.0, 3.0)
        );
        let g = DMatrix::from_row_slice(2, 2, &[1.0, f64::NAN, 3.0, 4.0]);
        assert_eq!(largest_difference(&e, &g).at, (0, 1));
    }

    #[test]
    fn central_difference_of_a_cubic() {
        // d/dx x^3 at 2 is 12; the central difference error is h^2 = 1e-4 here.
        let slope = central_difference(|x| x * x * x, 2.0, 1e-2);
        assert!((slope - 12.0).abs() < 2e-3, "{slope}");
    }
}
