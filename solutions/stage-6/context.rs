//! Stage 6: frames with context (reference solution).
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
        (2 * self.context + 1) * self.frame_size
    }
    // ANCHOR_END: input_size

    // ANCHOR: window
    /// Writes example `i` into `out` (length `input_size()`): block m (for
    /// m = 0 ..= 2K) holds frame i − K + m, or D zeros where that frame would
    /// lie before the first frame or after the last one. Block K is frame i.
    pub fn window(&self, i: usize, out: &mut [f32]) -> Result<(), ShapeError> {
        let (n, d, k) = (self.len(), self.frame_size, self.context);
        if i >= n {
            return Err(ShapeError::below("ContextFrames::window index", n, i));
        }
        if out.len() != self.input_size() {
            return Err(ShapeError::count(
                "ContextFrames::window output ((2K + 1) · D values)",
                self.input_size(),
                out.len(),
            ));
        }
        // Frames first..last (exclusive) exist; the rest of the window is padding.
        let first = i.saturating_sub(k);
        let last = (i + k + 1).min(n);
        let skipped = first + k - i; // blocks of padding before the first real frame
        out.fill(0.0);
        out[skipped * d..(skipped + last - first) * d]
            .copy_from_slice(&self.frames[first * d..last * d]);
        Ok(())
    }
    // ANCHOR_END: window
}
