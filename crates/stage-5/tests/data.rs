//! Tests for exercises/stage-5/data.rs. Run with `cargo test -p stage-5`.

use std::collections::HashMap;

use course_support::check::{assert_close_naming, assert_exact, assert_exact_naming};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stage_5::Standardization;
use stage_5::data::{shuffle, training_statistics};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, &mut ChaCha8Rng::seed_from_u64(seed));
    order
}

/// Shuffles [0, 1, 2] `times` times in a row with one generator; counts
/// each order.
fn orders_of_three(times: usize, variant: fn(&mut [usize], &mut ChaCha8Rng)) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut counts: HashMap<Vec<usize>, usize> = HashMap::new();
    for _ in 0..times {
        let mut order = vec![0, 1, 2];
        variant(&mut order, &mut rng);
        *counts.entry(order).or_default() += 1;
    }
    let mut all = vec![0; 6];
    for (order, count) in counts {
        let rank = PERMUTATIONS_OF_THREE
            .iter()
            .position(|p| *p == order[..])
            .unwrap_or_else(|| panic!("shuffle of [0, 1, 2] gave {order:?}, not a permutation"));
        all[rank] = count;
    }
    all
}

const PERMUTATIONS_OF_THREE: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// Pearson's chi-square statistic of `counts` against equal frequencies.
fn chi_square(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// Classic wrong shuffles, to name them when yours behaves like one.
fn every_position_drawn_from_all(order: &mut [usize], rng: &mut ChaCha8Rng) {
    let n = order.len();
    for i in 0..n {
        order.swap(i, rng.random_range(0..n));
    }
}

fn every_position_drawn_from_all_downwards(order: &mut [usize], rng: &mut ChaCha8Rng) {
    let n = order.len();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..n));
    }
}

fn never_stays_in_place(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..i));
    }
}

#[test]
fn shuffle_gives_a_permutation_of_every_size() {
    for n in [0, 1, 2, 3, 10, 1000] {
        let mut got = shuffled(n, 5);
        got.sort_unstable();
        assert_exact(
            &format!("shuffle of 0..{n}, sorted back"),
            (0..n).collect::<Vec<_>>(),
            got,
        );
    }
}

#[test]
fn shuffle_repeats_by_seed_and_moves_things() {
    assert_exact(
        "shuffle of 0..50 twice with seed 3",
        shuffled(50, 3),
        shuffled(50, 3),
    );
    assert!(
        shuffled(50, 3) != shuffled(50, 4),
        "shuffle of 0..50: seeds 3 and 4 gave the same order {:?}",
        shuffled(50, 3)
    );
    let in_place = shuffled(1000, 7)
        .iter()
        .enumerate()
        .filter(|(i, x)| i == *x)
        .count();
    // A uniform shuffle leaves about one element where it was.
    assert!(
        in_place < 10,
        "shuffle of 0..1000 left {in_place} elements in place; about 1 is expected: is the order \
         being shuffled at all?"
    );
}

#[test]
fn every_order_of_three_is_equally_likely() {
    let times = 60_000;
    let counts = orders_of_three(times, shuffle);
    // Chi-square with 5 degrees of freedom: above 20.5 happens by chance
    // once in a thousand.
    let statistic = chi_square(&counts);
    if statistic <= 20.5 {
        return;
    }
    let named = [
        (
            "drawing every position's partner from all n positions (n^n draws cannot spread \
             evenly over n! orders)",
            every_position_drawn_from_all as fn(&mut [usize], &mut ChaCha8Rng),
        ),
        (
            "drawing every position's partner from all n positions (n^(n-1) draws cannot \
             spread evenly over n! orders)",
            every_position_drawn_from_all_downwards,
        ),
        (
            "drawing from the positions before i only (Sattolo's algorithm: no element stays \
             in place, only cycles come out)",
            never_stays_in_place,
        ),
    ]
    .iter()
    .find(|(_, variant)| orders_of_three(times, *variant) == counts)
    .map_or_else(String::new, |(mistake, _)| {
        format!("; this matches {mistake}")
    });
    panic!(
        "shuffle of [0, 1, 2], {times} times: expected each of the 6 orders about {} times, got \
         {counts:?} for {PERMUTATIONS_OF_THREE:?} (chi-square {statistic:.1}, over 20.5){named}",
        times / 6
    );
}

#[test]
fn shuffle_draws_as_the_course_does() {
    // The course's draw order: position i = n-1 down to 1 swaps with one
    // drawn from 0..=i. A run of yours is compared step by step with the
    // reference's, which needs the same batches.
    let course = |n: usize, seed: u64| {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        order
    };
    let ascending = |n: usize, seed: u64| {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in 0..n.saturating_sub(1) {
            order.swap(i, rng.random_range(i..n));
        }
        order
    };
    // All cases at once, so that a mistake is named only when it explains
    // every one of them.
    let cases = [(5, 0), (10, 1), (12, 2)];
    let orders = |shuffle: &dyn Fn(usize, u64) -> Vec<usize>| {
        cases
            .iter()
            .map(|&(n, seed)| shuffle(n, seed))
            .collect::<Vec<_>>()
    };
    assert_exact_naming(
        "shuffle of 0..5, 0..10 and 0..12 with seeds 0, 1 and 2",
        orders(&course),
        orders(&shuffled),
        &[(
            "Fisher–Yates from the first position up: a fair shuffle, but not the course's draw \
             order, so your runs cannot match the reference's",
            orders(&ascending),
        )],
    );
}

fn statistics_of(rows: usize, cols: usize, values: &[f32]) -> Standardization {
    training_statistics(&DMatrix::from_row_slice(rows, cols, values)).unwrap_or_else(|e| {
        panic!("training_statistics of {rows}x{cols} values: expected Ok, got the error {e}")
    })
}

#[test]
fn statistics_by_hand() {
    // Mean 2.5; squared deviations 2.25, 0.25, 0.25, 2.25 sum to 5.
    let got = statistics_of(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    assert_close_naming("mean of [1, 2; 3, 4]", 2.5, got.mean, 1e-6, &[]);
    assert_close_naming(
        "standard deviation of [1, 2; 3, 4]",
        (5.0f64 / 4.0).sqrt(),
        got.std,
        1e-6,
        &[
            (
                "the sample deviation, divided by n - 1",
                (5.0f64 / 3.0).sqrt(),
            ),
            ("the variance, not its square root", 5.0 / 4.0),
        ],
    );
}

/// The one-pass variance, the mean of the squares minus the squared mean,
/// in f32 and in f64: exact in algebra, and it cancels catastrophically in
/// floating point when the mean is large against the deviation.
fn one_pass_deviations(values: &[f32]) -> [(&'static str, f64); 2] {
    let n = values.len() as f64;
    let (sum, squares) = values
        .iter()
        .fold((0.0f32, 0.0f32), |(s, q), &x| (s + x, q + x * x));
    let mean32 = sum / n as f32;
    let in_f32 = (squares / n as f32 - mean32 * mean32).max(0.0).sqrt();
    let (sum, squares) = values.iter().fold((0.0f64, 0.0f64), |(s, q), &x| {
        let x = f64::from(x);
        (s + x, q + x * x)
    });
    let in_f64 = (squares / n - (sum / n).powi(2)).max(0.0).sqrt();
    [
        (
            "one pass in f32, the mean of the squares minus the squared mean (two numbers \
             so close that rounding takes all of their difference)",
            f64::from(in_f32),
        ),
        (
            "one pass in f64, the mean of the squares minus the squared mean (two numbers \
             so close that rounding takes much of their difference)",
            in_f64,
        ),
    ]
}

#[test]
fn statistics_of_data_far_from_zero() {
    for (centre, deviation) in [(1e4f32, 0.5f32), (1e7, 1.0)] {
        let values: Vec<f32> = (0..2000)
            .map(|i| centre + if i % 2 == 0 { deviation } else { -deviation })
            .collect();
        let case = format!("2000 values {centre:e} ± {deviation}");
        let matrix = DMatrix::from_row_slice(40, 50, &values);
        // Summed in the matrix's own order, as a loop over it would.
        let mistakes = one_pass_deviations(matrix.as_slice());
        let got = match training_statistics(&matrix) {
            Ok(got) => got,
            Err(e) => {
                let named = mistakes
                    .iter()
                    .find(|(_, value)| *value == 0.0)
                    .map_or_else(String::new, |(mistake, _)| {
                        format!("; a deviation of 0 here matches {mistake}")
                    });
                panic!("training_statistics of {case}: expected Ok, got the error {e}{named}")
            }
        };
        assert_close_naming(&format!("mean of {case}"), centre, got.mean, 1e-6, &[]);
        assert_close_naming(
            &format!("standard deviation of {case}"),
            deviation,
            got.std,
            1e-4,
            &mistakes,
        );
    }
}

#[test]
fn statistics_of_millions_of_pixels() {
    // Pixel values p/255 in a repeating pattern, 3 million of them: the
    // mean and deviation follow from one period of the pattern.
    let pixels = [0u8, 0, 0, 0, 0, 0, 200, 153, 26, 0];
    let period: Vec<f64> = pixels.iter().map(|&p| f64::from(p) / 255.0).collect();
    let mean = period.iter().sum::<f64>() / 10.0;
    let std = (period.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 10.0).sqrt();
    let values: Vec<f32> = pixels
        .iter()
        .map(|&p| f32::from(p) / 255.0)
        .cycle()
        .take(3_000_000)
        .collect();
    let matrix = DMatrix::from_row_slice(4000, 750, &values);
    let got = training_statistics(&matrix).unwrap_or_else(|e| {
        panic!("training_statistics of 3 million pixel values: expected Ok, got the error {e}")
    });
    let f32_sum_mean = matrix.iter().sum::<f32>() / values.len() as f32;
    assert_close_naming(
        "mean of 3 million pixel values",
        mean,
        got.mean,
        1e-4,
        &[(
            "summing in f32 (once the sum is large, each small pixel added to it is rounded)",
            f64::from(f32_sum_mean),
        )],
    );
    assert_close_naming(
        "standard deviation of 3 million pixel values",
        std,
        got.std,
        1e-4,
        &[],
    );
}

#[test]
fn statistics_refuse_what_cannot_standardise() {
    let empty = DMatrix::<f32>::zeros(0, 784);
    assert!(
        training_statistics(&empty).is_err(),
        "training_statistics of a (0, 784) matrix: expected an error, got {:?}",
        training_statistics(&empty)
    );
    for (case, values) in [
        ("all equal (deviation 0)", [3.0f32, 3.0, 3.0, 3.0]),
        ("holding a NaN", [1.0, f32::NAN, 3.0, 4.0]),
        ("holding an infinity", [1.0, 2.0, f32::INFINITY, 4.0]),
    ] {
        let got = training_statistics(&DMatrix::from_row_slice(2, 2, &values));
        assert!(
            got.is_err(),
            "training_statistics of 2x2 values {case}: expected an error, got {got:?}"
        );
    }
}

#[test]
fn standardised_training_values_have_mean_0_and_deviation_1() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for case in 0..20 {
        let (rows, cols) = (rng.random_range(1..40), rng.random_range(1..40));
        let scale = 10f32.powi(rng.random_range(-3..4));
        // Offsets up to 100 deviations: f32 still holds the spread exactly enough.
        let offset = scale * rng.random_range(-100.0..100.0f32);
        let mut m = DMatrix::from_fn(rows, cols, |_, _| {
            offset + scale * rng.random_range(-1.0..1.0f32)
        });
        if rows * cols < 2 {
            m = DMatrix::from_row_slice(1, 2, &[offset, offset + scale]);
        }
        let got = training_statistics(&m)
            .unwrap_or_else(|e| panic!("case {case}: training_statistics gave the error {e}"));
        got.apply(&mut m);
        let n = m.len() as f64;
        let mean = m.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = m
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(
            mean.abs() < 1e-3 && (var.sqrt() - 1.0).abs() < 1e-3,
            "case {case}: a {rows}x{cols} matrix standardised with your statistics {got:?} has \
             mean {mean:e} and deviation {} (expected 0 and 1)",
            var.sqrt()
        );
    }
}
