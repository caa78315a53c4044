//! Vocal tract length normalisation at test time (VTLN): a voice never
//! heard is warped along the frequency axis, as VTLP warps the training
//! voices, by the factor that makes it most like the voices a model
//! learned.
//!
//! A classic recogniser picks each speaker's factor by the likelihood its
//! acoustic model gives the warped features (Lee and Rose, *Speaker
//! normalization using efficient frequency warping procedures*, 1996). A
//! frame classifier gives no likelihood of its input, so the factor here
//! is the one under which the model is surest of its answers: the largest
//! [`confidence`].

use crate::decode::{DecodeError, check_frames};

/// The factors tried, no warp first so that it wins a tie. Below 1 a warp
/// moves the spectrum down, as a longer vocal tract would: the bundled
/// corpus's training voices are mostly men's, and a model picking freely
/// moves men's voices up, where it is surer and less often right (book:
/// "Voices never heard").
pub const VTLN_WARPS: [f32; 6] = [1.0, 0.96, 0.92, 0.88, 0.84, 0.8];

/// How sure a model is of an utterance: the mean, over its frames, of each
/// frame's largest log probability (`log_probs` row-major, `classes` values
/// a frame, as [`crate::decode::smooth`] takes them). 0 when every frame
/// is certain; −ln(classes) at most unsure. An utterance of no frames
/// has confidence −∞ under every warp: nothing to choose by.
pub fn confidence(log_probs: &[f32], classes: usize) -> Result<f64, DecodeError> {
    check_frames(log_probs, classes)?;
    let frames = log_probs.len() / classes;
    if frames == 0 {
        return Ok(f64::NEG_INFINITY);
    }
    let mut sum = 0.0;
    for (frame, row) in log_probs.chunks(classes).enumerate() {
        let mut best = f32::NEG_INFINITY;
        for (class, &value) in row.iter().enumerate() {
            if value.is_nan() || value == f32::INFINITY {
                return Err(DecodeError::NotFinite {
                    frame,
                    class,
                    value,
                });
            }
            best = best.max(value);
        }
        if best == f32::NEG_INFINITY {
            return Err(DecodeError::NoClassPossible { frame });
        }
        sum += f64::from(best);
    }
    Ok(sum / frames as f64)
}
