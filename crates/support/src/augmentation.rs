//! Stage 7's data augmentation settings: an affine transform of an image
//! ([`Affine`]), an elastic distortion ([`Elastic`]), and the ranges a
//! training image's random transform is drawn from ([`Augmentation`]).
//!
//! Given, not an exercise: sampling an image, blurring a displacement field,
//! warping and drawing the random transform are stage 7's exercise
//! (`augment`).
//!
//! Coordinates are those of the image on screen: x is the column, growing
//! to the right, y is the row, growing downwards, and pixel centres sit at
//! whole numbers, so a `rows × columns` image spans x in [0, columns − 1]
//! and y in [0, rows − 1] from centre to centre. Its centre is
//! ((columns − 1)/2, (rows − 1)/2).

/// An affine transform of an image about its centre: rotate by `angle`,
/// scale by `scale`, then shift by (`shift_x`, `shift_y`) pixels. A point p
/// (x right, y down, relative to the centre) goes to
///
/// p′ = scale · R(angle) · p + (shift_x, shift_y), with
/// R(θ) = [[cos θ, sin θ], [−sin θ, cos θ]],
///
/// which turns the picture counter-clockwise as seen on screen for a
/// positive angle: the point right of the centre moves up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    /// The rotation, in radians, counter-clockwise as seen on screen.
    pub angle: f32,
    /// The magnification: 1.1 makes the digit 10% larger. Not 0.
    pub scale: f32,
    /// The shift to the right, in pixels.
    pub shift_x: f32,
    /// The shift downwards, in pixels.
    pub shift_y: f32,
}

impl Affine {
    /// The transform that leaves every point where it is.
    pub const IDENTITY: Self = Self {
        angle: 0.0,
        scale: 1.0,
        shift_x: 0.0,
        shift_y: 0.0,
    };
}

/// An elastic distortion (Simard, Steinkraus & Platt, 2003, "Best practices
/// for convolutional neural networks applied to visual document
/// analysis"): each pixel is displaced by a random field, uniform noise in
/// [−1, 1) smoothed by a Gaussian of standard deviation `sigma` pixels and
/// scaled by `alpha` pixels. A small `sigma` gives noise, a large one an
/// almost rigid shift; in between, the strokes bend like handwriting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elastic {
    /// The field's scale, in pixels (Simard et al.: 34 for 28×28 MNIST).
    pub alpha: f32,
    /// The smoothing Gaussian's standard deviation, in pixels (Simard et
    /// al.: 4 for 28×28 MNIST).
    pub sigma: f32,
}

impl Elastic {
    /// Simard et al.'s values for 28×28 MNIST digits: α = 34, σ = 4. The
    /// displacements then have a standard deviation of about one pixel.
    pub const SIMARD: Self = Self {
        alpha: 34.0,
        sigma: 4.0,
    };
}

/// The ranges a training image's random transform is drawn from, each
/// uniformly: an angle in ±`max_angle_degrees`, a scale in
/// [1 − `max_scale`, 1 + `max_scale`], shifts in ±`max_shift` pixels
/// (each axis on its own), then an elastic field if `elastic` is some.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augmentation {
    /// The largest rotation either way, in degrees.
    pub max_angle_degrees: f32,
    /// The largest relative change of size: 0.1 draws a scale in [0.9, 1.1].
    pub max_scale: f32,
    /// The largest shift along each axis, in pixels.
    pub max_shift: f32,
    /// The elastic distortion applied on top, if any.
    pub elastic: Option<Elastic>,
}

impl Augmentation {
    /// No change at all (every range is 0): the image comes back as it was.
    pub const NONE: Self = Self {
        max_angle_degrees: 0.0,
        max_scale: 0.0,
        max_shift: 0.0,
        elastic: None,
    };

    /// Small affine changes that keep an MNIST digit what it is: up to 10°
    /// either way, 10% larger or smaller, 2 pixels in each direction (a
    /// digit in a 28×28 MNIST image sits in a 20×20 box, so it stays inside).
    pub const AFFINE: Self = Self {
        max_angle_degrees: 10.0,
        max_scale: 0.1,
        max_shift: 2.0,
        elastic: None,
    };

    /// [`Augmentation::AFFINE`] with Simard et al.'s elastic distortion
    /// ([`Elastic::SIMARD`]: α = 34, σ = 4) on top.
    pub const ELASTIC: Self = Self {
        elastic: Some(Elastic::SIMARD),
        ..Self::AFFINE
    };
}

impl Default for Augmentation {
    /// [`Augmentation::AFFINE`].
    fn default() -> Self {
        Self::AFFINE
    }
}
