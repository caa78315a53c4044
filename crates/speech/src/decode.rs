//! Decoding: from every frame's class probabilities to a sequence of
//! phonemes that changes only where the evidence for a change is strong.
//!
//! A frame classifier decides each 10 ms frame on its own, so a phoneme that
//! lasts 80 ms comes out with a stray frame or two of something else in it.
//! Phonemes last several frames, which the classifier does not know. The
//! decoder finds the sequence of classes c₁ … c_T that maximises
//!
//! Σₜ log p(cₜ | window t) − P · #{t : cₜ ≠ cₜ₋₁},
//!
//! a hidden Markov model with one state per class, whose every change of
//! class costs the same P (the switch penalty, in nats), with the
//! network's posteriors as the evidence. Viterbi's dynamic programme finds
//! it exactly. A one-frame island of another class survives only if its
//! log probability beats the surrounding class's by more than 2P. Since a change costs the same whatever the classes, the best
//! way to arrive in a class by a change is from the best class of the frame
//! before, so each frame costs O(classes), not O(classes²).

/// The largest switch penalty, in nats: far past any gap between two log
/// probabilities of f32 posteriors (about 104 nats from 1 to the smallest
/// normal f32), so a larger one would change nothing.
pub const MAX_SWITCH_PENALTY: f32 = 1.0e4;

/// Why a sequence could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("0 classes: expected at least 1")]
    NoClasses,
    #[error("{values} log probabilities for {classes} classes: expected a whole number of frames")]
    Ragged { values: usize, classes: usize },
    #[error(
        "switch penalty {penalty}: expected a finite penalty within [0, {MAX_SWITCH_PENALTY}] nats"
    )]
    Penalty { penalty: f32 },
    /// A log probability that is NaN or +∞ (−∞, a class ruled out, is fine).
    #[error("frame {frame}, class {class}: log probability {value}, expected a number below +∞")]
    NotFinite {
        frame: usize,
        class: usize,
        value: f32,
    },
    /// A frame whose every class is ruled out (−∞): no path goes through it.
    #[error("frame {frame}: every class has log probability −∞, expected at least one above")]
    NoClassPossible { frame: usize },
}

// ANCHOR: smooth
/// The best sequence of classes for `log_probs`, frame after frame,
/// `classes` values each (row-major: frame t's are
/// `log_probs[t * classes..(t + 1) * classes]`), when each change of class
/// costs `switch_penalty` nats. A penalty of 0 gives every frame one of
/// its most probable classes. Among paths of equal score one is chosen by
/// a fixed rule (walking back, keep the next frame's class when it ties,
/// else take the lowest), so the same input always decodes the same way.
pub fn smooth(
    log_probs: &[f32],
    classes: usize,
    switch_penalty: f32,
) -> Result<Vec<usize>, DecodeError> {
    check_frames(log_probs, classes)?;
    if !(0.0..=MAX_SWITCH_PENALTY).contains(&switch_penalty) {
        return Err(DecodeError::Penalty {
            penalty: switch_penalty,
        });
    }
    if let Some((index, &value)) = log_probs
        .iter()
        .enumerate()
        .find(|(_, v)| v.is_nan() || **v == f32::INFINITY)
    {
        return Err(DecodeError::NotFinite {
            frame: index / classes,
            class: index % classes,
            value,
        });
    }
    if let Some(frame) = log_probs
        .chunks(classes)
        .position(|row| row.iter().all(|&v| v == f32::NEG_INFINITY))
    {
        return Err(DecodeError::NoClassPossible { frame });
    }
    let frames = log_probs.len() / classes;
    if frames == 0 {
        return Ok(Vec::new());
    }
    // Scores in f64: over thousands of frames, f32 sums would lose the
    // differences between paths.
    let mut score: Vec<f64> = log_probs[..classes].iter().map(|&v| f64::from(v)).collect();
    // came_from[t * classes + c]: the class at frame t − 1 on the best path
    // that is in class c at frame t.
    let mut came_from = vec![0; frames * classes];
    for t in 1..frames {
        let best = argmax(&score);
        let switched = score[best] - f64::from(switch_penalty);
        let row = &log_probs[t * classes..(t + 1) * classes];
        for (c, (s, &evidence)) in score.iter_mut().zip(row).enumerate() {
            let from = if *s >= switched { c } else { best };
            *s = s.max(switched) + f64::from(evidence);
            came_from[t * classes + c] = from;
        }
    }
    let mut path = vec![0; frames];
    path[frames - 1] = argmax(&score);
    for t in (1..frames).rev() {
        path[t - 1] = came_from[t * classes + path[t]];
    }
    Ok(path)
}
// ANCHOR_END: smooth

/// That `log_probs` hold whole frames of `classes` (at least one) values.
pub(crate) fn check_frames(log_probs: &[f32], classes: usize) -> Result<(), DecodeError> {
    if classes == 0 {
        return Err(DecodeError::NoClasses);
    }
    if !log_probs.len().is_multiple_of(classes) {
        return Err(DecodeError::Ragged {
            values: log_probs.len(),
            classes,
        });
    }
    Ok(())
}

/// The index of the largest value, the first of equals.
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
