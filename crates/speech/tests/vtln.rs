//! VTLN's measure of how sure a model is, against values worked by hand.

use proptest::prelude::*;
use speech::decode::DecodeError;
use speech::vtln::{VTLN_WARPS, confidence};

#[test]
fn confidence_is_the_mean_of_each_frames_largest_log_probability() {
    // Frame 0: 0.5 / 0.5; frame 1: 0.9 / 0.1; frame 2: 0.2 / 0.8.
    let log_probs = [0.5f32, 0.5, 0.9, 0.1, 0.2, 0.8].map(f32::ln);
    let expected = (0.5f64.ln() + 0.9f64.ln() + 0.8f64.ln()) / 3.0;
    let found = confidence(&log_probs, 2).unwrap();
    assert!(
        (found - expected).abs() < 1e-6,
        "expected {expected} (the mean of ln 0.5, ln 0.9 and ln 0.8), found {found}: \
         a sum instead of a mean, or the smallest class instead of the largest, would differ"
    );
}

#[test]
fn a_certain_model_scores_0_and_a_uniform_one_minus_ln_classes() {
    let certain = [0.0f32, f32::NEG_INFINITY, f32::NEG_INFINITY].repeat(4);
    assert_eq!(confidence(&certain, 3), Ok(0.0));
    let uniform = [(1.0f32 / 3.0).ln(); 12];
    let found = confidence(&uniform, 3).unwrap();
    assert!((found + 3f64.ln()).abs() < 1e-6, "found {found}");
}

#[test]
fn no_frames_lose_to_any_utterance() {
    assert_eq!(confidence(&[], 40), Ok(f64::NEG_INFINITY));
}

#[test]
fn bad_input_is_refused_with_where() {
    assert_eq!(confidence(&[0.0], 0), Err(DecodeError::NoClasses));
    assert_eq!(
        confidence(&[0.0; 5], 2),
        Err(DecodeError::Ragged {
            values: 5,
            classes: 2
        })
    );
    let mut log_probs = [-1.0f32; 6];
    log_probs[3] = f32::NAN;
    assert!(matches!(
        confidence(&log_probs, 2),
        Err(DecodeError::NotFinite {
            frame: 1,
            class: 1,
            ..
        })
    ));
    log_probs[3] = f32::INFINITY;
    assert!(matches!(
        confidence(&log_probs, 2),
        Err(DecodeError::NotFinite { frame: 1, .. })
    ));
    let ruled_out = [-1.0, -2.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
    assert_eq!(
        confidence(&ruled_out, 2),
        Err(DecodeError::NoClassPossible { frame: 1 })
    );
}

#[test]
fn the_warps_start_unwarped_and_only_lengthen_the_vocal_tract() {
    assert_eq!(VTLN_WARPS[0], 1.0);
    assert!(VTLN_WARPS[1..].iter().all(|w| (0.8..1.0).contains(w)));
    // Each tried once, in order.
    assert!(VTLN_WARPS.windows(2).all(|w| w[0] > w[1]));
}

proptest! {
    // Confidence lies between the frames' least and most sure, and a
    // log probability raised for the most probable class raises it.
    #[test]
    fn confidence_lies_between_the_frames_and_rises_with_the_top_class(
        logits in prop::collection::vec(-8.0f32..8.0, 3..40),
    ) {
        let classes = 3;
        let frames = logits.len() / classes;
        let mut log_probs: Vec<f32> = logits[..frames * classes]
            .chunks(classes)
            .flat_map(|row| {
                let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = row.iter().map(|v| (v - top).exp()).sum();
                row.iter().map(move |v| v - top - sum.ln()).collect::<Vec<_>>()
            })
            .collect();
        let tops: Vec<f64> = log_probs
            .chunks(classes)
            .map(|row| f64::from(row.iter().copied().fold(f32::NEG_INFINITY, f32::max)))
            .collect();
        let found = confidence(&log_probs, classes).unwrap();
        let (low, high) = tops.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &t| (l.min(t), h.max(t)));
        prop_assert!(found >= low - 1e-9 && found <= high + 1e-9);
        let top0 = (0..classes).fold(0, |b, c| if log_probs[c] > log_probs[b] { c } else { b });
        log_probs[top0] += 0.5;
        prop_assert!(confidence(&log_probs, classes).unwrap() > found);
    }
}
