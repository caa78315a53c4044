//! [`ShapeError`]: what a layer says when a matrix has the wrong shape,
//! instead of broadcasting it silently or panicking inside nalgebra.

use std::fmt;

/// A matrix (or a value in one) that does not fit: which one, what was
/// expected, what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Which matrix, such as "Linear::forward input".
    pub what: String,
    /// What would have fitted, such as "shape (batch, 784)".
    pub expected: String,
    /// What came instead, such as "shape (4, 3)".
    pub found: String,
}

impl ShapeError {
    /// A matrix of shape `found` where `expected` (in words where a size is
    /// free, such as "(batch, 784)") was needed.
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: (usize, usize),
    ) -> Self {
        Self {
            what: what.into(),
            expected: format!("shape {}", expected.into()),
            found: format!("shape ({}, {})", found.0, found.1),
        }
    }

    /// A value that does not fit, such as a class label out of range.
    pub fn value(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self {
            what: what.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// Ok when `found` is exactly `expected`, else the error naming both.
    pub fn check(what: &str, expected: (usize, usize), found: (usize, usize)) -> Result<(), Self> {
        if expected == found {
            Ok(())
        } else {
            Err(Self::new(
                what,
                format!("({}, {})", expected.0, expected.1),
                found,
            ))
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.what, self.expected, self.found
        )
    }
}

impl std::error::Error for ShapeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_expected_and_found() {
        let e = ShapeError::new("Linear::forward input", "(batch, 3)", (4, 2));
        assert_eq!(
            e.to_string(),
            "Linear::forward input: expected shape (batch, 3), found shape (4, 2)"
        );
        assert_eq!(
            ShapeError::check("grad", (2, 3), (3, 2))
                .unwrap_err()
                .to_string(),
            "grad: expected shape (2, 3), found shape (3, 2)"
        );
        assert!(ShapeError::check("grad", (2, 3), (2, 3)).is_ok());
    }
}
