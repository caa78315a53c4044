//! Tests for exercises/stage-6/context.rs. Run with `cargo test -p stage-6`.
//!
//! Every frame j gets coefficients j·10 + d + 1 (all positive), so a window
//! shows exactly which frames it holds, and padding (zeros) cannot be
//! mistaken for a frame.

use course_support::check::{assert_error_is, assert_exact, show_first_panic_only};
use course_support::shape::{Expected, Found};
use proptest::prelude::*;
use stage_6::context::ContextFrames;

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

fn numbered(n: usize, d: usize, k: usize) -> ContextFrames {
    ContextFrames {
        frames: (0..n)
            .flat_map(|j| (0..d).map(move |c| (j * 10 + c + 1) as f32))
            .collect(),
        frame_size: d,
        context: k,
    }
}

fn window(c: &ContextFrames, i: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; c.input_size()];
    c.window(i, &mut out)
        .unwrap_or_else(|e| panic!("window({i}): {e}"));
    out
}

#[test]
fn windows_by_hand() {
    // Three frames (1, 2), (11, 12), (21, 22) with one frame of context.
    let c = numbered(3, 2, 1);
    assert_exact("input_size with K = 1, D = 2", 6, c.input_size());
    assert_exact(
        "window(0): padding, frame 0, frame 1",
        vec![0.0, 0.0, 1.0, 2.0, 11.0, 12.0],
        window(&c, 0),
    );
    assert_exact(
        "window(1): frames 0, 1, 2",
        vec![1.0, 2.0, 11.0, 12.0, 21.0, 22.0],
        window(&c, 1),
    );
    assert_exact(
        "window(2): frame 1, frame 2, padding",
        vec![11.0, 12.0, 21.0, 22.0, 0.0, 0.0],
        window(&c, 2),
    );
}

#[test]
fn no_context_is_the_frame_itself() {
    let c = numbered(4, 3, 0);
    assert_exact("input_size with K = 0, D = 3", 3, c.input_size());
    for i in 0..4 {
        assert_exact(
            &format!("window({i}) with K = 0"),
            c.frames[i * 3..(i + 1) * 3].to_vec(),
            window(&c, i),
        );
    }
}

#[test]
fn context_wider_than_the_split_pads_both_sides() {
    // Two frames, K = 3: seven blocks, the frames in the middle.
    let c = numbered(2, 1, 3);
    assert_exact(
        "window(0), N = 2, K = 3",
        vec![0.0, 0.0, 0.0, 1.0, 11.0, 0.0, 0.0],
        window(&c, 0),
    );
    assert_exact(
        "window(1), N = 2, K = 3",
        vec![0.0, 0.0, 1.0, 11.0, 0.0, 0.0, 0.0],
        window(&c, 1),
    );
}

#[test]
fn an_empty_split_has_no_windows() {
    let empty = numbered(0, 2, 1);
    assert_exact("the frames of an empty split", 0, empty.len());
    assert!(empty.is_empty(), "a split of no frames is empty");
    assert!(
        !numbered(3, 2, 1).is_empty(),
        "a split of 3 frames is not empty"
    );
    // An index below 0 was needed: there is none.
    assert_error_is(
        "window(0) of an empty split",
        empty.window(0, &mut [0.0; 6]),
        Expected::Below(0),
        Found::Number(0),
    );
}

#[test]
fn bad_requests_are_errors() {
    let c = numbered(3, 2, 1);
    let mut out = vec![0.0; 6];
    assert_error_is(
        "window(3) of 3 frames",
        c.window(3, &mut out),
        Expected::Below(3),
        Found::Number(3),
    );
    let mut short = vec![0.0; 5];
    assert_error_is(
        "window into 5 values, where (2K + 1) D = 6",
        c.window(0, &mut short),
        Expected::Count(6),
        Found::Number(5),
    );
}

proptest! {
    // Failing cases are not saved to files: a learner reruns the whole test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(200) })]

    /// Every window is centred on its frame, holds exactly its neighbours in
    /// order, and is padded with zeros only beyond the split's ends.
    #[test]
    fn every_window_is_centred_and_padding_never_leaks(n in 1usize..40, d in 1usize..5, k in 0usize..7) {
        show_first_panic_only();
        let c = numbered(n, d, k);
        prop_assert_eq!(c.input_size(), (2 * k + 1) * d);
        for i in 0..n {
            let w = window(&c, i);
            prop_assert_eq!(&w[k * d..(k + 1) * d], &c.frames[i * d..(i + 1) * d], "window({}) is not centred on frame {}", i, i);
            for m in 0..=2 * k {
                let block = &w[m * d..(m + 1) * d];
                let j = i as i64 - k as i64 + m as i64;
                if j < 0 || j >= n as i64 {
                    prop_assert!(block.iter().all(|&v| v == 0.0), "window({}) block {} should be padding, found {:?}", i, m, block);
                } else {
                    let j = j as usize;
                    prop_assert_eq!(block, &c.frames[j * d..(j + 1) * d], "window({}) block {} should be frame {}", i, m, j);
                }
            }
        }
    }
}
