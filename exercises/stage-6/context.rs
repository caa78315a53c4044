//! Stage 6: frames with context. Your exercise: fill in every `// TODO`.
//!
//! One 10 ms frame of MFCCs says little about which phoneme is being spoken;
//! its neighbours say much more. As in HW1P2, every utterance of a split is
//! concatenated into one long sequence of N frames of D coefficients, padded
//! with K frames of zeros at both ends, and example i is the window of the
//! 2K + 1 frames centred on frame i, flattened: (2K + 1) · D inputs. The
//! windows are cut on the fly, never all stored (HW1P2's training split has
//! about 36 million frames).

use course_support::shape::ShapeError;

/// The frames of a split, concatenated, with K frames of context.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextFrames {
    /// N · D values: frame after frame, each D coefficients (row-major).
    pub frames: Vec<f32>,
    /// D, the coefficients per frame.
    pub frame_size: usize,
    /// K, the frames of context on each side.
    pub context: usize,
}

impl ContextFrames {
    /// The number of frames, N.
    pub fn len(&self) -> usize {
        self.frames.len() / self.frame_size.max(1)
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    // ANCHOR: input_size
    /// The size of one example: 2K + 1 frames of D coefficients.
    pub fn input_size(&self) -> usize {
        // TODO: the size.
        todo!("input_size")
    }
    // ANCHOR_END: input_size

    // ANCHOR: window
    /// Writes example `i` into `out` (length `input_size()`): block m (for
    /// m = 0 ..= 2K) holds frame i − K + m, or D zeros where that frame would
    /// lie before the first frame or after the last one. Block K is frame i.
    pub fn window(&self, i: usize, out: &mut [f32]) -> Result<(), ShapeError> {
        // TODO: the window, for every i from the first frame to the last and
        // every K, including K larger than N. An index past the last frame,
        // or an `out` of another length than `input_size()`, is an error
        // (`ShapeError::below` for the index, `ShapeError::count` for the
        // length) saying what was needed and what came; it never panics.
        todo!("window")
    }
    // ANCHOR_END: window
}
