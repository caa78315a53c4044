//! [`ShapeError`]: what a layer says when a matrix has the wrong shape,
//! instead of broadcasting it silently or panicking inside nalgebra.

use std::fmt;

/// A matrix with the wrong shape: which one, what was expected, what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Which matrix, such as "Linear::forward input".
    pub what: String,
    /// The expected shape, in words where a size is free: "(batch, 784)".
    pub expected: String,
    /// The shape found, (rows, columns).
    pub found: (usize, usize),
}

impl ShapeError {
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: (usize, usize),
    ) -> Self {
        Self {
            what: what.into(),
            expected: expected.into(),
            found,
        }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected shape {}, found ({}, {})",
            self.what, self.expected, self.found.0, self.found.1
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
            "Linear::forward input: expected shape (batch, 3), found (4, 2)"
        );
    }
}
