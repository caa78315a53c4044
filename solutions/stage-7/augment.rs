//! Stage 7: data augmentation for digits (reference solution).
//!
//! Each training image is shown slightly rotated, scaled, shifted and,
//! optionally, elastically bent, drawn anew every time: the network sees
//! more handwriting than the data set holds. Images are row-major
//! `rows × columns` slices of f32 (pixel (r, c) at index r · columns + c);
//! x is the column (to the right), y the row (downwards), and pixel
//! centres sit at whole numbers. `background` is the value outside the
//! image (0 for MNIST's black, or whatever the standardised black is).
//!
//! Given code it uses, from `crates/support/src/`: `Affine`, `Elastic` and
//! `Augmentation` in `augmentation.rs`.

use course_support::augmentation::{Affine, Augmentation, Elastic};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

// ANCHOR: bilinear
/// The image sampled at column `x`, row `y`, by bilinear interpolation
/// between the four pixels around the point: with x₀ = ⌊x⌋, y₀ = ⌊y⌋,
/// f = x − x₀, g = y − y₀ and p(r, c) the pixel at row r, column c,
///
/// (1 − g)((1 − f) p(y₀, x₀) + f p(y₀, x₀ + 1)) + g((1 − f) p(y₀ + 1, x₀) + f p(y₀ + 1, x₀ + 1)).
///
/// Each of the four pixels that lies outside the image counts as
/// `background`, so the image fades into the background over one pixel
/// past its edge (scipy's `map_coordinates(order=1, mode='grid-constant',
/// cval=background)`; its `mode='constant'` differs: it gives the
/// background for any point past the edge). At whole-number coordinates
/// the result is exactly that pixel. A coordinate that is not finite gives
/// the background. Panics if `image` does not hold `rows · columns` values.
pub fn bilinear(
    image: &[f32],
    rows: usize,
    columns: usize,
    x: f32,
    y: f32,
    background: f32,
) -> f32 {
    assert_eq!(image.len(), rows * columns, "bilinear: the image's size");
    if !x.is_finite() || !y.is_finite() {
        return background;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (f, g) = (x - x0, y - y0);
    let pixel = |r: f32, c: f32| {
        if r >= 0.0 && c >= 0.0 && r < rows as f32 && c < columns as f32 {
            image[r as usize * columns + c as usize]
        } else {
            background
        }
    };
    let top = (1.0 - f) * pixel(y0, x0) + f * pixel(y0, x0 + 1.0);
    let bottom = (1.0 - f) * pixel(y0 + 1.0, x0) + f * pixel(y0 + 1.0, x0 + 1.0);
    (1.0 - g) * top + g * bottom
}
// ANCHOR_END: bilinear

// ANCHOR: gaussian_blur
/// The field (row-major, `rows × columns`) smoothed by a Gaussian of
/// standard deviation `sigma` pixels, with zeros outside the field:
/// scipy's `gaussian_filter(field, sigma, mode='constant', cval=0,
/// truncate=4.0)`.
///
/// The kernel has radius R = ⌊4σ + 0.5⌋ and weights
/// w_k ∝ exp(−k² / (2σ²)) for k = −R..=R, normalised to sum to 1. The blur
/// is separable: filter every column with w (out(r, c) = Σ_k w_k
/// in(r + k, c), terms outside the field left out), then every row of the
/// result the same way along c. That is 2(2R + 1) products per pixel
/// rather than (2R + 1)²; allocate the output and one intermediate field,
/// nothing per pixel. A radius of 0 (σ below 0.125, 0 included) returns
/// the field unchanged. Panics if σ is negative or not finite, or the field
/// does not hold `rows · columns` values.
pub fn gaussian_blur(field: &[f32], rows: usize, columns: usize, sigma: f32) -> Vec<f32> {
    assert!(
        sigma.is_finite() && sigma >= 0.0,
        "gaussian_blur: σ = {sigma}"
    );
    assert_eq!(
        field.len(),
        rows * columns,
        "gaussian_blur: the field's size"
    );
    let radius = (4.0 * sigma + 0.5).floor() as usize;
    if radius == 0 {
        return field.to_vec();
    }
    let mut kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let k = i as f32 - radius as f32;
            (-k * k / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|w| *w /= total);
    // Σ_k w_k · value(i + k − R) over the k that stay inside 0..len.
    let filter = |len: usize, i: usize, value: &dyn Fn(usize) -> f32| {
        let first = radius.saturating_sub(i);
        let last = (len - 1 - i + radius).min(2 * radius);
        (first..=last)
            .map(|k| kernel[k] * value(i + k - radius))
            .sum::<f32>()
    };
    let mut down = vec![0.0; field.len()];
    for r in 0..rows {
        for c in 0..columns {
            down[r * columns + c] = filter(rows, r, &|i| field[i * columns + c]);
        }
    }
    let mut out = vec![0.0; field.len()];
    for r in 0..rows {
        let row = &down[r * columns..(r + 1) * columns];
        for c in 0..columns {
            out[r * columns + c] = filter(columns, c, &|i| row[i]);
        }
    }
    out
}
// ANCHOR_END: gaussian_blur

// ANCHOR: elastic_field
/// A random displacement field (dx, dy) for a `rows × columns` image, each
/// row-major: fill dx with uniform noise in [−1, 1), one
/// `2 · rng.random::<f32>() − 1` per pixel in row-major order, then dy the
/// same way (all of dx's draws before dy's); blur each with
/// `gaussian_blur` at σ = `elastic.sigma`, and multiply by
/// `elastic.alpha`.
pub fn elastic_field(
    rows: usize,
    columns: usize,
    elastic: &Elastic,
    rng: &mut ChaCha8Rng,
) -> (Vec<f32>, Vec<f32>) {
    let mut field = || {
        let noise: Vec<f32> = (0..rows * columns)
            .map(|_| 2.0 * rng.random::<f32>() - 1.0)
            .collect();
        let mut blurred = gaussian_blur(&noise, rows, columns, elastic.sigma);
        blurred.iter_mut().for_each(|v| *v *= elastic.alpha);
        blurred
    };
    let dx = field();
    let dy = field();
    (dx, dy)
}
// ANCHOR_END: elastic_field

// ANCHOR: warp
/// The image transformed by `affine` and, if given, the displacement field
/// (dx, dy), with one interpolation. Output pixel (r, c) samples the image
/// (`bilinear`, outside counting as `background`) at the point found by
///
/// 1. displacing (c, r) by the field: q = (c + dx, r + dy) (dx and dy at
///    index r · columns + c; q = (c, r) without a field);
/// 2. mapping q back through the inverse of the affine transform about the
///    centre k = ((columns − 1)/2, (rows − 1)/2): with
///    (u, v) = q − k − (shift_x, shift_y), θ the angle and s the scale,
///    x = (u cos θ − v sin θ)/s + k_x and y = (u sin θ + v cos θ)/s + k_y.
///
/// So a positive angle turns the digit counter-clockwise on screen, and a
/// positive shift moves it right and down (see `Affine`). The identity
/// gives the image back exactly. Panics if the image or a field does not
/// hold `rows · columns` values.
pub fn warp(
    image: &[f32],
    rows: usize,
    columns: usize,
    affine: &Affine,
    field: Option<(&[f32], &[f32])>,
    background: f32,
) -> Vec<f32> {
    assert_eq!(image.len(), rows * columns, "warp: the image's size");
    if let Some((dx, dy)) = field {
        assert!(
            dx.len() == image.len() && dy.len() == image.len(),
            "warp: the field's size"
        );
    }
    let (centre_x, centre_y) = ((columns as f32 - 1.0) / 2.0, (rows as f32 - 1.0) / 2.0);
    let (sin, cos) = affine.angle.sin_cos();
    let mut out = Vec::with_capacity(image.len());
    for r in 0..rows {
        for c in 0..columns {
            let (mut qx, mut qy) = (c as f32, r as f32);
            if let Some((dx, dy)) = field {
                qx += dx[r * columns + c];
                qy += dy[r * columns + c];
            }
            let u = qx - centre_x - affine.shift_x;
            let v = qy - centre_y - affine.shift_y;
            let x = (u * cos - v * sin) / affine.scale + centre_x;
            let y = (u * sin + v * cos) / affine.scale + centre_y;
            out.push(bilinear(image, rows, columns, x, y, background));
        }
    }
    out
}
// ANCHOR_END: warp

// ANCHOR: augment
/// The image under a random transform drawn from `settings`, each number
/// as lo + (hi − lo) · `rng.random::<f32>()`, in this order:
///
/// 1. the angle, in degrees in [−max_angle_degrees, max_angle_degrees],
///    then converted to radians (`f32::to_radians`);
/// 2. the scale, in [1 − max_scale, 1 + max_scale];
/// 3. shift_x, then 4. shift_y, each in [−max_shift, max_shift].
///
/// Then, if `settings.elastic` is some, `elastic_field` draws the field
/// from the same `rng`. The four draws happen whatever the ranges (a range
/// of 0 still takes its draw), so one image always takes the same number
/// of draws for the same settings. Then `warp` the image with them.
pub fn augment(
    image: &[f32],
    rows: usize,
    columns: usize,
    settings: &Augmentation,
    background: f32,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let mut draw = |lo: f32, hi: f32| lo + (hi - lo) * rng.random::<f32>();
    let (angle, scale, shift) = (
        settings.max_angle_degrees,
        settings.max_scale,
        settings.max_shift,
    );
    let affine = Affine {
        angle: draw(-angle, angle).to_radians(),
        scale: draw(1.0 - scale, 1.0 + scale),
        shift_x: draw(-shift, shift),
        shift_y: draw(-shift, shift),
    };
    let field = settings
        .elastic
        .map(|elastic| elastic_field(rows, columns, &elastic, rng));
    let field = field
        .as_ref()
        .map(|(dx, dy)| (dx.as_slice(), dy.as_slice()));
    warp(image, rows, columns, &affine, field, background)
}
// ANCHOR_END: augment
