//! The decoder against hand-worked sequences and against trying every path.

use proptest::prelude::*;
use speech::decode::{DecodeError, MAX_SWITCH_PENALTY, smooth};

/// The score the decoder maximises, for one path, in f64.
fn score(log_probs: &[f32], classes: usize, penalty: f32, path: &[usize]) -> f64 {
    path.iter()
        .enumerate()
        .map(|(t, &c)| {
            let switch = t > 0 && path[t - 1] != c;
            f64::from(log_probs[t * classes + c]) - if switch { f64::from(penalty) } else { 0.0 }
        })
        .sum()
}

/// The best score over every one of the classes^frames paths.
fn best_by_brute_force(log_probs: &[f32], classes: usize, penalty: f32) -> f64 {
    let frames = log_probs.len() / classes;
    let mut best = f64::NEG_INFINITY;
    for code in 0..classes.pow(frames as u32) {
        let path: Vec<usize> = (0..frames)
            .map(|t| code / classes.pow(t as u32) % classes)
            .collect();
        best = best.max(score(log_probs, classes, penalty, &path));
    }
    best
}

fn changes(path: &[usize]) -> usize {
    path.windows(2).filter(|w| w[0] != w[1]).count()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |b, i| if row[i] > row[b] { i } else { b })
}

// Three frames, two classes; worked by hand. Class 0 throughout scores
// 0 − 1.5 + 0 = −1.5; class 1 throughout −1 + 0 − 1 = −2; following the
// argmax (0, 1, 0) scores 0 + 0 + 0 − 2P, so the island stays below
// P = 0.75 (two switches) and would stay below 1.5 if a decoder charged
// one.
const ISLAND: [f32; 6] = [0.0, -1.0, -1.5, 0.0, 0.0, -1.0];

#[test]
fn a_one_frame_island_goes_when_two_switches_cost_more_than_it_gains() {
    // 2P = 4 > 1.5: staying in class 0 wins.
    assert_eq!(smooth(&ISLAND, 2, 2.0).unwrap(), [0, 0, 0]);
    // 2P = 2 > 1.5 too, where one switch (1 < 1.5) would keep the island.
    assert_eq!(smooth(&ISLAND, 2, 1.0).unwrap(), [0, 0, 0]);
}

#[test]
fn a_one_frame_island_stays_when_its_evidence_outweighs_two_switches() {
    // 2P = 1 < 1.5: the island is kept.
    assert_eq!(smooth(&ISLAND, 2, 0.5).unwrap(), [0, 1, 0]);
}

#[test]
fn a_lasting_change_is_kept() {
    // Frames 0–1 say class 0, frames 2–4 class 1, each by 2 nats. The best
    // path without a change (class 1 throughout) loses 4 nats; one switch
    // at 3 nats costs less.
    let lp = [0.0, -2.0, 0.0, -2.0, -2.0, 0.0, -2.0, 0.0, -2.0, 0.0];
    assert_eq!(smooth(&lp, 2, 3.0).unwrap(), [0, 0, 1, 1, 1]);
    // At 7 nats the change is not worth it; class 1 has more frames.
    assert_eq!(smooth(&lp, 2, 7.0).unwrap(), [1; 5]);
}

#[test]
fn empty_and_one_frame() {
    assert_eq!(smooth(&[], 3, 1.0).unwrap(), Vec::<usize>::new());
    assert_eq!(smooth(&[-3.0, -0.1, -2.0], 3, 1.0).unwrap(), [1]);
}

#[test]
fn a_class_ruled_out_is_never_chosen() {
    // Class 0 is the better one on frames 0 and 2, but ruled out on frame
    // 1; leaving it twice costs 10 nats, against 2 for class 1 throughout.
    let lp = [0.0, -1.0, f32::NEG_INFINITY, -1.0, 0.0, -1.0];
    assert_eq!(smooth(&lp, 2, 5.0).unwrap(), [1, 1, 1]);
}

#[test]
fn tied_frames_decode_to_a_most_probable_class_the_same_way_each_time() {
    let lp = [0.0, 0.0, -1.0, 0.0, -2.0, -2.0];
    let path = smooth(&lp, 2, 0.0).unwrap();
    for (t, &c) in path.iter().enumerate() {
        let row = &lp[t * 2..t * 2 + 2];
        assert_eq!(row[c], row[argmax(row)], "frame {t}: {path:?}");
    }
    assert_eq!(smooth(&lp, 2, 0.0).unwrap(), path);
}

#[test]
fn the_largest_penalty_is_taken() {
    assert_eq!(smooth(&ISLAND, 2, MAX_SWITCH_PENALTY).unwrap(), [0, 0, 0]);
}

#[test]
fn bad_input_is_refused_with_what_was_wrong() {
    assert_eq!(smooth(&[0.0], 0, 1.0), Err(DecodeError::NoClasses));
    assert_eq!(
        smooth(&[0.0; 5], 2, 1.0),
        Err(DecodeError::Ragged {
            values: 5,
            classes: 2
        })
    );
    for penalty in [-0.1, f32::NAN, f32::INFINITY, MAX_SWITCH_PENALTY * 2.0] {
        assert!(matches!(
            smooth(&[0.0; 4], 2, penalty),
            Err(DecodeError::Penalty { .. })
        ));
    }
    let mut lp = [0.0; 6];
    lp[5] = f32::NAN;
    assert!(matches!(
        smooth(&lp, 2, 1.0),
        Err(DecodeError::NotFinite {
            frame: 2,
            class: 1,
            ..
        })
    ));
    let ruled_out = [0.0, -1.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
    assert_eq!(
        smooth(&ruled_out, 2, 1.0),
        Err(DecodeError::NoClassPossible { frame: 1 })
    );
    lp[5] = f32::INFINITY;
    assert!(matches!(
        smooth(&lp, 3, 1.0),
        Err(DecodeError::NotFinite {
            frame: 1,
            class: 2,
            ..
        })
    ));
}

fn log_probs(max_frames: usize, max_classes: usize) -> impl Strategy<Value = (Vec<f32>, usize)> {
    (1..=max_classes, 0..=max_frames).prop_flat_map(|(classes, frames)| {
        (
            prop::collection::vec(-8.0f32..0.0, classes * frames),
            Just(classes),
        )
    })
}

proptest! {
    #[test]
    fn no_path_scores_better_than_the_decoded_one(
        (lp, classes) in log_probs(6, 3),
        penalty in 0.0f32..6.0,
    ) {
        let path = smooth(&lp, classes, penalty).unwrap();
        prop_assert_eq!(path.len(), lp.len() / classes);
        prop_assert!(path.iter().all(|&c| c < classes));
        let decoded = score(&lp, classes, penalty, &path);
        let best = best_by_brute_force(&lp, classes, penalty);
        prop_assert!((decoded - best).abs() < 1e-9, "decoded {} best {}", decoded, best);
        // Never more changes than each frame's own most probable class makes.
        let own: Vec<usize> = lp.chunks(classes).map(argmax).collect();
        prop_assert!(changes(&path) <= changes(&own), "{:?} against {:?}", path, own);
    }

    #[test]
    fn without_a_penalty_every_frame_takes_its_most_probable_class(
        (lp, classes) in log_probs(50, 40),
    ) {
        // Random floats do not tie, so the most probable class is one.
        let expected: Vec<usize> = lp.chunks(classes).map(argmax).collect();
        prop_assert_eq!(smooth(&lp, classes, 0.0).unwrap(), expected);
    }

    #[test]
    fn past_any_gain_no_class_changes(
        (lp, classes) in log_probs(50, 40),
    ) {
        // The largest gain from a change is below 8 nats a frame.
        let path = smooth(&lp, classes, 8.0 * 50.0 + 1.0).unwrap();
        prop_assert!(path.windows(2).all(|w| w[0] == w[1]));
        if let Some(&c) = path.first() {
            let totals: Vec<f64> = (0..classes)
                .map(|k| lp.chunks(classes).map(|r| f64::from(r[k])).sum())
                .collect();
            let best = totals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert_eq!(totals[c], best);
        }
    }
}
