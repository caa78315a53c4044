//! Tests for exercises/stage-7/augment.rs. Run with `cargo test -p stage-7 --test augment`.
//!
//! Exact cases first (the identity, whole-pixel shifts, a quarter turn of a
//! square image, which fixes the sign of the angle), then scipy's values
//! (fixtures/regularise_fixtures.py: `map_coordinates` and
//! `gaussian_filter`), the elastic field against a direct computation here
//! and against its expected size, the order of the draws, and a property:
//! bilinear sampling never leaves the range of the pixels and the
//! background.

use course_support::check::{
    assert_close, assert_close_naming, assert_exact, assert_matrix_close,
    assert_matrix_close_naming, show_first_panic_only,
};
use nalgebra::DMatrix;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stage_7::augment::*;
use stage_7::{Affine, Augmentation, Elastic};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

#[allow(dead_code)]
mod fixtures {
    include!("fixtures/regularise_values.rs");
}
use fixtures::*;

/// A row-major image from the fixtures' rows.
fn flat(rows: &[&[f64]]) -> Vec<f32> {
    rows.iter()
        .flat_map(|r| r.iter().map(|&v| v as f32))
        .collect()
}

fn as_matrix(values: &[f32], rows: usize, columns: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, columns, |r, c| f64::from(values[r * columns + c]))
}

fn fixture_matrix(rows: &[&[f64]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

/// A 6 x 7 test image, every pixel different.
fn numbered(rows: usize, columns: usize) -> Vec<f32> {
    (0..rows * columns).map(|i| 1.0 + i as f32).collect()
}

#[test]
fn bilinear_at_pixel_centres_is_the_pixel() {
    let image = flat(BILINEAR_IMAGE);
    for r in 0..4 {
        for c in 0..5 {
            assert_exact(
                &format!(
                    "bilinear at x = {c}, y = {r} (a pixel centre: x is the column, y the row)"
                ),
                image[r * 5 + c],
                bilinear(&image, 4, 5, c as f32, r as f32, 0.25),
            );
        }
    }
}

#[test]
fn bilinear_matches_scipy() {
    let image = flat(BILINEAR_IMAGE);
    for (point, &expected) in BILINEAR_POINTS.iter().zip(BILINEAR_VALUES) {
        let (x, y) = (point[0] as f32, point[1] as f32);
        let got = bilinear(&image, 4, 5, x, y, BILINEAR_BACKGROUND as f32);
        // scipy's mode='constant': the background for any point past the
        // outer pixel centres.
        let past_the_edge = !(0.0..=4.0).contains(&x) || !(0.0..=3.0).contains(&y);
        let constant_mode = if past_the_edge {
            BILINEAR_BACKGROUND
        } else {
            expected
        };
        // The same point with x and y swapped, for the classic mix-up.
        let swapped = reference::augment::bilinear(&image, 4, 5, y, x, 0.25);
        assert_close_naming(
            &format!(
                "bilinear at x = {x}, y = {y} in the 4 x 5 image (background 0.25; each of the \
                 four neighbours outside the image counts as the background)"
            ),
            expected,
            got,
            1e-5,
            &[
                (
                    "the background for every point past the edge (scipy's mode='constant'): \
                     within one pixel of the edge, the neighbours inside still count",
                    constant_mode,
                ),
                (
                    "x and y swapped (x is the column, y the row)",
                    f64::from(swapped),
                ),
            ],
        );
    }
    assert_exact(
        "bilinear at x = NaN",
        0.25,
        bilinear(&image, 4, 5, f32::NAN, 1.0, 0.25),
    );
}

#[test]
fn gaussian_blur_matches_scipy() {
    let field = flat(BLUR_FIELD);
    for (k, &sigma) in BLUR_SIGMAS.iter().enumerate() {
        let got = gaussian_blur(&field, 9, 11, sigma as f32);
        assert_eq!(got.len(), 99, "gaussian_blur returns one value per pixel");
        assert_matrix_close_naming(
            &format!(
                "gaussian_blur of the 9 x 11 field at σ = {sigma} (radius ⌊4σ + 0.5⌋, zeros \
                 outside)"
            ),
            &fixture_matrix(BLURS[k]),
            &as_matrix(&got, 9, 11),
            1e-5,
            &[
                (
                    "a kernel not normalised to sum to 1",
                    fixture_matrix(BLURS_UNNORMALISED[k]),
                ),
                (
                    "a kernel cut at 3σ instead of 4σ",
                    fixture_matrix(BLURS_3_SIGMA[k]),
                ),
            ],
        );
    }
    assert_exact(
        "gaussian_blur at σ = 0 (radius 0: the field unchanged)",
        field.clone(),
        gaussian_blur(&field, 9, 11, 0.0),
    );
}

#[test]
fn the_identity_returns_the_image_exactly() {
    let image = flat(WARP_IMAGE);
    assert_exact(
        "warp with the identity transform",
        image.clone(),
        warp(&image, 8, 9, &Affine::IDENTITY, None, -0.5),
    );
    let zeros = vec![0.0; 72];
    assert_exact(
        "warp with the identity and a zero field",
        image.clone(),
        warp(
            &image,
            8,
            9,
            &Affine::IDENTITY,
            Some((&zeros, &zeros)),
            -0.5,
        ),
    );
    assert_exact(
        "augment with Augmentation::NONE",
        image.clone(),
        augment(
            &image,
            8,
            9,
            &Augmentation::NONE,
            -0.5,
            &mut ChaCha8Rng::seed_from_u64(0),
        ),
    );
}

#[test]
fn whole_pixel_shifts_move_the_image_exactly() {
    let (rows, columns, background) = (6, 7, -1.0);
    let image = numbered(rows, columns);
    for (sx, sy) in [(2i32, -1i32), (-3, 2), (0, 5)] {
        let affine = Affine {
            shift_x: sx as f32,
            shift_y: sy as f32,
            ..Affine::IDENTITY
        };
        let got = warp(&image, rows, columns, &affine, None, background);
        // Output (r, c) shows input (r − sy, c − sx): the picture moves
        // right by sx and down by sy.
        let expected: Vec<f32> = (0..rows * columns)
            .map(|i| {
                let (r, c) = ((i / columns) as i32 - sy, (i % columns) as i32 - sx);
                let inside = (0..rows as i32).contains(&r) && (0..columns as i32).contains(&c);
                if inside {
                    image[r as usize * columns + c as usize]
                } else {
                    background
                }
            })
            .collect();
        let opposite: Vec<f32> = (0..rows * columns)
            .map(|i| {
                let (r, c) = ((i / columns) as i32 + sy, (i % columns) as i32 + sx);
                let inside = (0..rows as i32).contains(&r) && (0..columns as i32).contains(&c);
                if inside {
                    image[r as usize * columns + c as usize]
                } else {
                    background
                }
            })
            .collect();
        assert_matrix_close_naming(
            &format!("warp by a shift of ({sx}, {sy}) pixels (right, down)"),
            &as_matrix(&expected, rows, columns),
            &as_matrix(&got, rows, columns),
            1e-6,
            &[(
                "the shift applied the other way: the output samples the input at the point \
                 minus the shift",
                as_matrix(&opposite, rows, columns),
            )],
        );
    }
}

#[test]
fn a_quarter_turn_turns_counter_clockwise_on_screen() {
    let n = 5;
    let image = numbered(n, n);
    let affine = Affine {
        angle: std::f32::consts::FRAC_PI_2,
        ..Affine::IDENTITY
    };
    let got = warp(&image, n, n, &affine, None, 0.0);
    // numpy's rot90: out(r, c) = in(c, n − 1 − r), the image transposed
    // and flipped upside down; its right column becomes the top row.
    let ccw = DMatrix::from_fn(n, n, |r, c| f64::from(image[c * n + (n - 1 - r)]));
    let cw = DMatrix::from_fn(n, n, |r, c| f64::from(image[(n - 1 - c) * n + r]));
    assert_matrix_close_naming(
        "warp by +90° of a 5 x 5 image",
        &ccw,
        &as_matrix(&got, n, n),
        1e-5,
        &[(
            "a clockwise turn: with y pointing down, counter-clockwise on screen takes the \
             point right of the centre up",
            cw,
        )],
    );
}

#[test]
fn warp_matches_scipy() {
    let image = flat(WARP_IMAGE);
    let affine = Affine {
        angle: WARP_AFFINE[0] as f32,
        scale: WARP_AFFINE[1] as f32,
        shift_x: WARP_AFFINE[2] as f32,
        shift_y: WARP_AFFINE[3] as f32,
    };
    let background = WARP_BACKGROUND as f32;
    assert_matrix_close_naming(
        "warp of the 8 x 9 image (angle 0.3, scale 1.15, shift (0.75, −1.25))",
        &fixture_matrix(WARPED),
        &as_matrix(&warp(&image, 8, 9, &affine, None, background), 8, 9),
        1e-4,
        &[
            (
                "the forward transform applied to the output's pixels: the output must sample \
                 the input at the inverse of the transform",
                fixture_matrix(WARPED_FORWARD_MAP),
            ),
            (
                "a transform about the corner (0, 0) rather than the centre ((columns − 1)/2, \
                 (rows − 1)/2)",
                fixture_matrix(WARPED_ABOUT_ORIGIN),
            ),
        ],
    );
    let (dx, dy) = (flat(WARP_DX), flat(WARP_DY));
    assert_matrix_close(
        "warp of the 8 x 9 image with the field: (c + dx, r + dy), then the inverse transform",
        &fixture_matrix(WARPED_FIELD),
        &as_matrix(
            &warp(&image, 8, 9, &affine, Some((&dx, &dy)), background),
            8,
            9,
        ),
        1e-4,
    );
}

/// α · blur(noise) by direct 2-D convolution in f64, zeros outside.
fn blurred_here(noise: &[f32], rows: usize, columns: usize, elastic: &Elastic) -> Vec<f64> {
    let sigma = f64::from(elastic.sigma);
    let radius = (4.0 * sigma + 0.5).floor() as i64;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|k| (-((k * k) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut out = vec![0.0; rows * columns];
    for r in 0..rows as i64 {
        for c in 0..columns as i64 {
            let mut sum = 0.0;
            for (i, wi) in weights.iter().enumerate() {
                for (j, wj) in weights.iter().enumerate() {
                    let (rr, cc) = (r + i as i64 - radius, c + j as i64 - radius);
                    if (0..rows as i64).contains(&rr) && (0..columns as i64).contains(&cc) {
                        sum += wi * wj * f64::from(noise[(rr * columns as i64 + cc) as usize]);
                    }
                }
            }
            out[(r * columns as i64 + c) as usize] =
                f64::from(elastic.alpha) * sum / (total * total);
        }
    }
    out
}

#[test]
fn the_elastic_field_is_blurred_noise_drawn_in_order() {
    let (rows, columns) = (5, 6);
    let elastic = Elastic {
        alpha: 2.5,
        sigma: 1.0,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (dx, dy) = elastic_field(rows, columns, &elastic, &mut rng);
    let mut here = ChaCha8Rng::seed_from_u64(3);
    let draws: Vec<f32> = (0..2 * rows * columns)
        .map(|_| 2.0 * here.random::<f32>() - 1.0)
        .collect();
    let n = rows * columns;
    let field = |noise: Vec<f32>| {
        let values = blurred_here(&noise, rows, columns, &elastic);
        DMatrix::from_fn(rows, columns, |r, c| values[r * columns + c])
    };
    let interleaved_x: Vec<f32> = draws.iter().step_by(2).copied().collect();
    let column_major_x: Vec<f32> = (0..n)
        .map(|i| draws[(i % columns) * rows + i / columns])
        .collect();
    assert_matrix_close_naming(
        "elastic_field's dx (5 x 6, α = 2.5, σ = 1)",
        &field(draws[..n].to_vec()),
        &as_matrix(&dx, rows, columns),
        1e-5,
        &[
            (
                "dy's draws taken first: all of dx's come first",
                field(draws[n..].to_vec()),
            ),
            (
                "the draws interleaved (dx, dy, dx, …): all of dx's come first",
                field(interleaved_x),
            ),
            (
                "the noise drawn column after column: the fields are row-major",
                field(column_major_x),
            ),
            (
                "noise in [0, 1): it must be 2u − 1, in [−1, 1)",
                field(draws[..n].iter().map(|v| (v + 1.0) / 2.0).collect()),
            ),
        ],
    );
    assert_matrix_close(
        "elastic_field's dy",
        &field(draws[n..].to_vec()),
        &as_matrix(&dy, rows, columns),
        1e-5,
    );
    assert_exact(
        "the next draw after a 5 x 6 field (one draw per pixel for dx, then for dy)",
        here.random::<f32>(),
        rng.random::<f32>(),
    );
}

#[test]
fn simards_field_moves_pixels_by_about_a_pixel() {
    // 64 fields of 28 x 28 at α = 34, σ = 4: the root mean square of dx
    // and dy against its value from the blur's weights.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut sum, mut squares, mut count) = (0.0f64, 0.0f64, 0usize);
    for _ in 0..64 {
        let (dx, dy) = elastic_field(28, 28, &Elastic::SIMARD, &mut rng);
        for v in dx.iter().chain(&dy) {
            sum += f64::from(*v);
            squares += f64::from(*v).powi(2);
            count += 1;
        }
    }
    let rms = (squares / count as f64).sqrt();
    assert_close(
        "the root mean square displacement of Simard's field (28 x 28, α = 34, σ = 4), in \
         pixels; far too large points at a kernel that does not sum to 1 or noise in [0, 1)",
        ELASTIC_STD,
        rms,
        0.08,
    );
    let mean = sum / count as f64;
    assert!(
        mean.abs() < 0.15,
        "the mean displacement of Simard's field: {mean} pixels (expected about 0; noise \
         in [0, 1) instead of [−1, 1) would push every pixel one way)"
    );
}

/// The transform augment must draw from a generator seeded with `seed`,
/// and the generator after the four draws.
fn drawn_affine(settings: &Augmentation, seed: u64) -> (Affine, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |lo: f32, hi: f32| lo + (hi - lo) * rng.random::<f32>();
    let a = settings.max_angle_degrees;
    let (s, m) = (settings.max_scale, settings.max_shift);
    let affine = Affine {
        angle: draw(-a, a).to_radians(),
        scale: draw(1.0 - s, 1.0 + s),
        shift_x: draw(-m, m),
        shift_y: draw(-m, m),
    };
    (affine, rng)
}

#[test]
fn augment_draws_the_angle_scale_shifts_then_the_field() {
    let (rows, columns) = (10, 12);
    let image: Vec<f32> = (0..rows * columns)
        .map(|i| ((i % 7) as f32 * 0.3).sin())
        .collect();
    let settings = Augmentation {
        max_angle_degrees: 15.0,
        max_scale: 0.2,
        max_shift: 3.0,
        elastic: Some(Elastic {
            alpha: 8.0,
            sigma: 2.0,
        }),
    };
    let got = augment(
        &image,
        rows,
        columns,
        &settings,
        0.0,
        &mut ChaCha8Rng::seed_from_u64(9),
    );
    let (affine, mut rng) = drawn_affine(&settings, 9);
    let (dx, dy) =
        reference::augment::elastic_field(rows, columns, &settings.elastic.unwrap(), &mut rng);
    let expected = reference::augment::warp(&image, rows, columns, &affine, Some((&dx, &dy)), 0.0);
    let in_degrees = Affine {
        angle: affine.angle.to_degrees(),
        ..affine
    };
    let degrees =
        reference::augment::warp(&image, rows, columns, &in_degrees, Some((&dx, &dy)), 0.0);
    let mut field_first = ChaCha8Rng::seed_from_u64(9);
    let (fx, fy) = reference::augment::elastic_field(
        rows,
        columns,
        &settings.elastic.unwrap(),
        &mut field_first,
    );
    let mut after_field = ChaCha8Rng::seed_from_u64(9);
    reference::augment::elastic_field(rows, columns, &settings.elastic.unwrap(), &mut after_field);
    let mut draw = |lo: f32, hi: f32| lo + (hi - lo) * after_field.random::<f32>();
    let late = Affine {
        angle: draw(-15.0, 15.0).to_radians(),
        scale: draw(0.8, 1.2),
        shift_x: draw(-3.0, 3.0),
        shift_y: draw(-3.0, 3.0),
    };
    let field_first = reference::augment::warp(&image, rows, columns, &late, Some((&fx, &fy)), 0.0);
    assert_matrix_close_naming(
        "augment from seed 9: angle, scale, shift_x, shift_y, then the elastic field",
        &as_matrix(&expected, rows, columns),
        &as_matrix(&got, rows, columns),
        1e-4,
        &[
            (
                "the angle left in degrees: draw it in degrees, then convert to radians",
                as_matrix(&degrees, rows, columns),
            ),
            (
                "the field drawn before the four numbers of the transform",
                as_matrix(&field_first, rows, columns),
            ),
        ],
    );
    // Without an elastic field, exactly four draws.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    augment(&image, rows, columns, &Augmentation::AFFINE, 0.0, &mut rng);
    let (_, mut expected_rng) = drawn_affine(&Augmentation::AFFINE, 4);
    assert_exact(
        "the next draw after augment with Augmentation::AFFINE (four draws: angle, scale, \
         shift_x, shift_y)",
        expected_rng.random::<f32>(),
        rng.random::<f32>(),
    );
}

#[test]
fn augment_is_deterministic_for_a_seed_and_differs_between_seeds() {
    let image = numbered(28, 28);
    let run = |seed| {
        augment(
            &image,
            28,
            28,
            &Augmentation::ELASTIC,
            0.0,
            &mut ChaCha8Rng::seed_from_u64(seed),
        )
    };
    assert_exact("augment from seed 1, twice", run(1), run(1));
    assert!(
        run(1) != run(2),
        "augment gave the same image from seeds 1 and 2"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(48) })]

    /// Bilinear interpolation is a convex combination of pixels and the
    /// background, so a warped image stays within their range.
    #[test]
    fn warped_values_stay_within_the_pixels_and_the_background(
        (rows, columns) in (1usize..8, 1usize..8),
        seed in 0u64..1000,
        angle in -3.2f32..3.2,
        scale in 0.5f32..2.0,
        shift in (-4.0f32..4.0, -4.0f32..4.0),
        background in -2.0f32..2.0,
        with_field in any::<bool>(),
    ) {
        show_first_panic_only();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let image: Vec<f32> = (0..rows * columns).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect();
        let dx: Vec<f32> = (0..rows * columns).map(|_| rng.random::<f32>() * 3.0 - 1.5).collect();
        let dy: Vec<f32> = (0..rows * columns).map(|_| rng.random::<f32>() * 3.0 - 1.5).collect();
        let affine = Affine { angle, scale, shift_x: shift.0, shift_y: shift.1 };
        let field = with_field.then_some((dx.as_slice(), dy.as_slice()));
        let out = warp(&image, rows, columns, &affine, field, background);
        prop_assert_eq!(out.len(), rows * columns);
        let lo = image.iter().fold(background, |m, &v| m.min(v));
        let hi = image.iter().fold(background, |m, &v| m.max(v));
        for (i, &v) in out.iter().enumerate() {
            prop_assert!(
                v >= lo - 1e-5 && v <= hi + 1e-5,
                "pixel {} of the warped image is {}, outside [{}, {}] (the pixels and the background)",
                i, v, lo, hi
            );
        }
    }
}
