//! [`ShapeError`]: what a layer says when a matrix has the wrong shape,
//! instead of broadcasting it silently or panicking inside nalgebra.

use std::fmt;

/// A matrix (or a value in one) that does not fit: which one, what was
/// expected, what came. The fields are typed, so a test (or a caller) can
/// match the sizes themselves; `Display` puts them in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Which matrix or value, such as "linear_forward input".
    pub what: String,
    /// What would have fitted.
    pub expected: Expected,
    /// What came instead.
    pub found: Found,
}

/// What would have fitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A matrix of this shape (rows, columns); `None` where any size fits,
    /// such as a batch's rows.
    Shape(Option<usize>, Option<usize>),
    /// This many of something: labels, values in a buffer, tensors.
    Count(usize),
    /// A number below this bound: a class, an index.
    Below(usize),
    /// Anything else, in words.
    Described(String),
}

/// What came instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A matrix of this shape.
    Shape(usize, usize),
    /// A count or a number: how many came, or the index or class given.
    Number(usize),
    /// Anything else, in words.
    Described(String),
}

impl ShapeError {
    /// A matrix of shape `found` where one of shape `expected` was needed;
    /// `None` leaves a size free, as in (None, Some(784)) for a batch of
    /// 784-wide rows.
    pub fn new(
        what: impl Into<String>,
        expected: (Option<usize>, Option<usize>),
        found: (usize, usize),
    ) -> Self {
        Self {
            what: what.into(),
            expected: Expected::Shape(expected.0, expected.1),
            found: Found::Shape(found.0, found.1),
        }
    }

    /// Ok when `found` is exactly `expected`, else the error naming both.
    pub fn check(what: &str, expected: (usize, usize), found: (usize, usize)) -> Result<(), Self> {
        if expected == found {
            Ok(())
        } else {
            Err(Self::new(what, (Some(expected.0), Some(expected.1)), found))
        }
    }

    /// `found` of something where `needed` were needed: labels for the
    /// rows of a batch, values in a buffer, layers in a trace.
    pub fn count(what: impl Into<String>, needed: usize, found: usize) -> Self {
        Self {
            what: what.into(),
            expected: Expected::Count(needed),
            found: Found::Number(found),
        }
    }

    /// A number `found`, such as a class or an index, where one below
    /// `bound` was needed.
    pub fn below(what: impl Into<String>, bound: usize, found: usize) -> Self {
        Self {
            what: what.into(),
            expected: Expected::Below(bound),
            found: Found::Number(found),
        }
    }

    /// A value that does not fit, in words: a size that must be at least 1,
    /// a number that must be finite.
    pub fn value(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self {
            what: what.into(),
            expected: Expected::Described(expected.into()),
            found: Found::Described(found.into()),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = |s: &Option<usize>| s.map_or_else(|| "any".to_owned(), |n| n.to_string());
        match self {
            Self::Shape(rows, cols) => write!(f, "shape ({}, {})", size(rows), size(cols)),
            Self::Count(n) => write!(f, "{n}"),
            Self::Below(n) => write!(f, "a number below {n}"),
            Self::Described(words) => write!(f, "{words}"),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape(rows, cols) => write!(f, "shape ({rows}, {cols})"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Described(words) => write!(f, "{words}"),
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
        let e = ShapeError::new("linear_forward input", (None, Some(3)), (4, 2));
        assert_eq!(e.expected, Expected::Shape(None, Some(3)));
        assert_eq!(e.found, Found::Shape(4, 2));
        assert_eq!(
            e.to_string(),
            "linear_forward input: expected shape (any, 3), found shape (4, 2)"
        );
        assert_eq!(
            ShapeError::check("grad", (2, 3), (3, 2)).unwrap_err(),
            ShapeError::new("grad", (Some(2), Some(3)), (3, 2))
        );
        assert!(ShapeError::check("grad", (2, 3), (2, 3)).is_ok());
        assert_eq!(
            ShapeError::count("class targets (one per row)", 2, 3).to_string(),
            "class targets (one per row): expected 2, found 3"
        );
        assert_eq!(
            ShapeError::below("class of row 1", 3, 3).to_string(),
            "class of row 1: expected a number below 3, found 3"
        );
    }
}
