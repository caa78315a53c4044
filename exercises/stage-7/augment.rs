//! Stage 7: data augmentation for digits. Your exercise: fill in every
//! `// TODO`.
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
    // TODO: the weighted sum above, with a pixel lookup that gives the
    // background outside the image.
    todo!("bilinear")
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
    // TODO: the kernel, then the two one-dimensional passes described above.
    todo!("gaussian_blur")
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
    // TODO: dx's noise, then dy's, each blurred and scaled.
    todo!("elastic_field")
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
    // TODO: for every output pixel, the point described above, then `bilinear`.
    todo!("warp")
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
    // TODO: the four draws, in order, then the field if any, then `warp`.
    todo!("augment")
}
// ANCHOR_END: augment
