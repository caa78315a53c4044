//! Seeded waveform augmentation before the MFCC front end, so that a
//! phoneme classifier trained on a few synthetic voices meets more of them:
//! speed perturbation (Ko et al. 2015, Kaldi's), vocal-tract-length
//! perturbation (Jaitly & Hinton 2013, "VTLP"), reverberation by a synthetic
//! room impulse response, and additive noise at a set SNR.
//!
//! A [`Perturbation`] is one draw ([`Perturbation::draw`]): what is done to
//! one utterance, with the seed of its noise and room, so that the corpus
//! generator can record it and apply it again bit for bit.

use std::f64::consts::PI;

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::mfcc::MAX_SAMPLE;
use crate::resample::{ResampleError, resample};

/// The ranges perturbations are drawn from.
#[derive(Clone, Debug, PartialEq)]
pub struct AugmentSettings {
    /// Speed factors, one drawn uniformly: above 1 is faster and higher.
    pub speeds: Vec<f32>,
    /// The VTLP warp factor's range, drawn uniformly.
    pub warp: (f32, f32),
    /// The chance of adding noise.
    pub noise_probability: f32,
    /// SNRs in dB, one drawn uniformly when noise is added.
    pub snrs_db: Vec<f32>,
    /// The chance of reverberation.
    pub reverb_probability: f32,
    /// The RT60 range in seconds, drawn uniformly when reverberating.
    pub rt60: (f32, f32),
}

impl Default for AugmentSettings {
    /// Speeds 0.9, 1.0 or 1.1; warp in [0.88, 1.12]; noise half the time at
    /// 5, 10, 20 or 30 dB; reverberation 30% of the time with an RT60 in
    /// [0.15, 0.6] s (small room to lecture hall).
    fn default() -> Self {
        Self {
            speeds: vec![0.9, 1.0, 1.1],
            warp: (0.88, 1.12),
            noise_probability: 0.5,
            snrs_db: vec![5.0, 10.0, 20.0, 30.0],
            reverb_probability: 0.3,
            rt60: (0.15, 0.6),
        }
    }
}

impl AugmentSettings {
    /// Checks that every perturbation drawn from these settings can be
    /// applied: speeds within [[`MIN_SPEED`], [`MAX_SPEED`]], warps above 0,
    /// probabilities in [0, 1], finite SNRs, RT60s in (0, [`MAX_RT60`]] and
    /// ranges with low ≤ high.
    pub fn check(&self) -> Result<(), AugmentError> {
        let bad = |problem: &'static str| Err(AugmentError::Settings { problem });
        if self.speeds.iter().any(|&s| !speed_ok(s)) {
            return bad("every speed must be within [0.1, 10]");
        }
        let (lo, hi) = self.warp;
        if !(warp_ok(lo) && warp_ok(hi) && lo <= hi) {
            return bad("the warp range must be finite, above 0, and low ≤ high");
        }
        for p in [self.noise_probability, self.reverb_probability] {
            if !(0.0..=1.0).contains(&p) {
                return bad("probabilities must be within [0, 1]");
            }
        }
        if self.snrs_db.iter().any(|s| !s.is_finite()) {
            return bad("every SNR must be finite");
        }
        let (lo, hi) = self.rt60;
        if !(rt60_ok(lo) && rt60_ok(hi) && lo <= hi) {
            return bad("the RT60 range must be within (0, 10] s, and low ≤ high");
        }
        Ok(())
    }
}

/// The slowest and fastest speed applied: 0.1 already makes an utterance
/// ten times longer.
pub const MIN_SPEED: f32 = 0.1;
pub const MAX_SPEED: f32 = 10.0;
/// The longest RT60 taken, in seconds (a large cathedral's); the room
/// impulse response is this long.
pub const MAX_RT60: f32 = 10.0;
/// The frequency below which VTLP's warp is a plain scaling (Jaitly &
/// Hinton's F_hi), at 16 kHz; capped at 60% of the Nyquist frequency at
/// lower rates.
pub const VTLP_BOUNDARY_HZ: f64 = 4800.0;
/// VTLP's STFT: 512-sample (32 ms) Hann frames every 128 samples.
const STFT_SIZE: usize = 512;
const STFT_HOP: usize = 128;

fn speed_ok(speed: f32) -> bool {
    (MIN_SPEED..=MAX_SPEED).contains(&speed)
}

pub(crate) fn warp_ok(warp: f32) -> bool {
    warp.is_finite() && warp > 0.0
}

fn rt60_ok(rt60: f32) -> bool {
    rt60 > 0.0 && rt60 <= MAX_RT60
}

/// Why a perturbation could not be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AugmentError {
    #[error("augmentation settings: {problem}")]
    Settings { problem: &'static str },
    #[error("a sample rate of 0 Hz")]
    ZeroSampleRate,
    #[error("speed {speed}: expected a speed within [{MIN_SPEED}, {MAX_SPEED}]")]
    Speed { speed: f32 },
    #[error("warp factor {warp}: expected a finite factor above 0")]
    Warp { warp: f32 },
    #[error("RT60 {rt60} s: expected a reverberation time within (0, {MAX_RT60}] s")]
    Rt60 { rt60: f32 },
    #[error("SNR {snr_db} dB: expected a finite SNR")]
    Snr { snr_db: f32 },
    /// A sample that is not finite or beyond ±[`MAX_SAMPLE`], as the front
    /// end refuses.
    #[error(
        "sample {index} is {}: expected finite samples within ±{MAX_SAMPLE}",
        crate::short_float(f64::from(*value))
    )]
    Sample { index: usize, value: f32 },
    #[error(transparent)]
    Resample(#[from] ResampleError),
}

/// One draw: what is done to one utterance.
#[derive(Clone, Debug, PartialEq)]
pub struct Perturbation {
    /// Above 1 is faster (shorter) and higher in pitch, both by about this
    /// factor (exactly by 1 / [`Perturbation::duration_factor`]).
    pub speed: f32,
    /// VTLP's factor: a formant at f Hz moves to about warp · f Hz.
    pub warp: f32,
    /// Additive noise at this SNR, or none.
    pub snr_db: Option<f32>,
    /// Reverberation with this RT60 in seconds, or none.
    pub rt60: Option<f32>,
    /// The seed of the room impulse response and of the noise.
    pub seed: u64,
}

impl Perturbation {
    /// Nothing done: [`Perturbation::apply`] returns the input as it is.
    pub const NONE: Perturbation = Perturbation {
        speed: 1.0,
        warp: 1.0,
        snr_db: None,
        rt60: None,
        seed: 0,
    };

    /// One draw from `settings`. The draws are always made, in this order,
    /// whatever they turn out to be (so each field's draw is the same
    /// whatever the others are): speed index, warp, noise or not, SNR
    /// index, reverberation or not, RT60, seed. An empty list of speeds
    /// gives 1 and of SNRs no noise. Never panics; settings that
    /// [`AugmentSettings::check`] refuses give perturbations that
    /// [`Perturbation::apply`] refuses.
    pub fn draw(settings: &AugmentSettings, rng: &mut impl Rng) -> Perturbation {
        let pick = |rng: &mut _, list: &[f32]| -> Option<f32> {
            let index = RngExt::random_range(rng, 0..list.len().max(1));
            list.get(index).copied()
        };
        let uniform = |rng: &mut _, (lo, hi): (f32, f32)| -> f32 {
            let u: f32 = RngExt::random(rng);
            lo + (hi - lo) * u
        };
        let speed = pick(rng, &settings.speeds).unwrap_or(1.0);
        let warp = uniform(rng, settings.warp);
        let noisy = rng.random::<f32>() < settings.noise_probability;
        let snr_db = pick(rng, &settings.snrs_db).filter(|_| noisy);
        let reverberant = rng.random::<f32>() < settings.reverb_probability;
        let rt60 = uniform(rng, settings.rt60);
        Perturbation {
            speed,
            warp,
            snr_db,
            rt60: reverberant.then_some(rt60),
            seed: rng.random(),
        }
    }

    /// The rate the signal is resampled to for speed perturbation:
    /// round(sample_rate / speed) (for a speed [`Perturbation::apply`]
    /// takes).
    pub fn resampled_rate(&self, sample_rate: u32) -> u32 {
        (f64::from(sample_rate) / f64::from(self.speed)).round() as u32
    }

    /// How much longer the output is than the input: resampled_rate /
    /// sample_rate, the exact ratio to scale the labels' timings by (the
    /// lengths themselves follow [`crate::resample::resampled_len`]).
    pub fn duration_factor(&self, sample_rate: u32) -> f64 {
        f64::from(self.resampled_rate(sample_rate)) / f64::from(sample_rate)
    }

    /// `samples` (mono, at `sample_rate`) perturbed, in this order:
    ///
    /// 1. speed: resampled to [`Perturbation::resampled_rate`] and read as
    ///    `sample_rate`, so tempo and pitch change together (Ko et al.
    ///    2015; Kaldi's speed perturbation);
    /// 2. VTLP: each STFT frame's frequency axis warped piecewise linearly
    ///    by `warp` with the Nyquist frequency fixed ([`warp_frequency`]),
    ///    magnitudes interpolated and phases advanced at the warped
    ///    instantaneous frequencies (a phase vocoder), overlap-added back to
    ///    the same length and rescaled to the stage's input RMS;
    /// 3. reverberation: convolved with [`room_impulse_response`], cut to
    ///    the input's length (the direct path is the first sample, so no
    ///    timing moves) and rescaled to the stage's input RMS;
    /// 4. noise: white, pink or brown Gaussian noise (chosen by the seed)
    ///    scaled so that the whole utterance's SNR is `snr_db` (a silent
    ///    signal stays silent: no SNR fits it).
    ///
    /// Stages that are identities (speed 1, warp 1, no room, no noise) are
    /// skipped, so [`Perturbation::NONE`] returns the input bit for bit.
    /// All randomness comes from `ChaCha8Rng::seed_from_u64(seed)`: the
    /// room first, then the noise.
    ///
    /// The output has `resampled_len(len, sample_rate, resampled_rate)`
    /// samples (only speed changes the length), all finite. Its peak is at
    /// most max(1, the input's peak): an output louder than that is scaled
    /// down as a whole (not clipped, which would add distortion; a common
    /// gain keeps the SNR between the scaled signal and the scaled noise).
    /// Empty input gives empty output.
    pub fn apply(&self, samples: &[f32], sample_rate: u32) -> Result<Vec<f32>, AugmentError> {
        self.check(sample_rate)?;
        if let Some(index) = samples
            .iter()
            .position(|v| !v.is_finite() || v.abs() > MAX_SAMPLE)
        {
            return Err(AugmentError::Sample {
                index,
                value: samples[index],
            });
        }
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let to = self.resampled_rate(sample_rate);
        if to == sample_rate && self.warp == 1.0 && self.snr_db.is_none() && self.rt60.is_none() {
            return Ok(samples.to_vec());
        }
        let mut signal = if to == sample_rate {
            samples.to_vec()
        } else {
            resample(samples, sample_rate, to)?
        };
        if self.warp != 1.0 {
            signal = vtlp(&signal, self.warp, sample_rate);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        if let Some(rt60) = self.rt60 {
            let rir = room_impulse_response(rt60, sample_rate, &mut rng);
            let rms = rms(&signal);
            signal = convolve_truncated(&signal, &rir);
            rescale_to_rms(&mut signal, rms);
        }
        if let Some(snr_db) = self.snr_db {
            add_noise(&mut signal, snr_db, sample_rate, &mut rng);
        }
        let bound = samples.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let peak = signal.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if peak > bound {
            let scale = bound / peak;
            for v in &mut signal {
                // The clamp only catches rounding in the product.
                *v = (*v * scale).clamp(-bound, bound);
            }
        }
        Ok(signal)
    }

    /// Refuses a perturbation `apply` cannot carry out.
    fn check(&self, sample_rate: u32) -> Result<(), AugmentError> {
        if sample_rate == 0 {
            return Err(AugmentError::ZeroSampleRate);
        }
        if !speed_ok(self.speed) {
            return Err(AugmentError::Speed { speed: self.speed });
        }
        if !warp_ok(self.warp) {
            return Err(AugmentError::Warp { warp: self.warp });
        }
        if let Some(rt60) = self.rt60.filter(|&r| !rt60_ok(r)) {
            return Err(AugmentError::Rt60 { rt60 });
        }
        if let Some(snr_db) = self.snr_db.filter(|s| !s.is_finite()) {
            return Err(AugmentError::Snr { snr_db });
        }
        Ok(())
    }
}

/// VTLP's warp of the frequency axis (Jaitly & Hinton 2013): f ↦ warp · f
/// up to a boundary, then the straight line to the Nyquist frequency, which
/// stays put. The boundary is F_hi · min(warp, 1) / warp with F_hi =
/// [`VTLP_BOUNDARY_HZ`] (at most 60% of the Nyquist), so that the warped
/// boundary, F_hi · min(warp, 1), stays below the Nyquist whatever the
/// factor. Frequencies in Hz.
pub fn warp_frequency(hz: f64, warp: f64, sample_rate: u32) -> f64 {
    let (nyquist, below, above) = warp_knots(warp, sample_rate);
    if hz <= below {
        hz * warp
    } else {
        nyquist - (nyquist - above) / (nyquist - below) * (nyquist - hz)
    }
}

/// The inverse of [`warp_frequency`].
pub(crate) fn unwarp_frequency(hz: f64, warp: f64, sample_rate: u32) -> f64 {
    let (nyquist, below, above) = warp_knots(warp, sample_rate);
    if hz <= above {
        hz / warp
    } else {
        nyquist - (nyquist - below) / (nyquist - above) * (nyquist - hz)
    }
}

/// The Nyquist frequency, and the warp's knee before and after warping.
fn warp_knots(warp: f64, sample_rate: u32) -> (f64, f64, f64) {
    let nyquist = f64::from(sample_rate) / 2.0;
    let boundary = VTLP_BOUNDARY_HZ.min(0.6 * nyquist);
    let above = boundary * warp.min(1.0);
    (nyquist, above / warp, above)
}

/// `x` wrapped to (−π, π].
fn principal(x: f64) -> f64 {
    x - 2.0 * PI * ((x + PI) / (2.0 * PI)).ceil() + 2.0 * PI
}

/// VTLP by a phase vocoder: see [`Perturbation::apply`], step 2.
fn vtlp(signal: &[f32], warp: f32, sample_rate: u32) -> Vec<f32> {
    let (n, hop, len) = (STFT_SIZE, STFT_HOP, signal.len());
    let warp = f64::from(warp);
    let bins = n / 2 + 1;
    // Half a frame of zeros before, so that the first sample sits at the
    // middle of a frame, and enough after for the last.
    let pad = n / 2;
    let frames = (len + pad).div_ceil(hop) + 1;
    let mut padded = vec![0.0f64; (frames - 1) * hop + n];
    for (slot, &v) in padded[pad..].iter_mut().zip(signal) {
        *slot = f64::from(v);
    }
    // A periodic Hann window for analysis and synthesis; the overlap-add is
    // divided by the sum of the squared windows.
    let window: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect();
    let mut planner = FftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let hz_per_bin = f64::from(sample_rate) / n as f64;
    let nyquist = f64::from(sample_rate) / 2.0;
    // For each output bin, where its content comes from (fractional bin).
    let source: Vec<f64> = (0..bins)
        .map(|j| {
            (unwarp_frequency(j as f64 * hz_per_bin, warp, sample_rate) / hz_per_bin)
                .clamp(0.0, (bins - 1) as f64)
        })
        .collect();
    let mut out = vec![0.0f64; padded.len()];
    let mut norm = vec![0.0f64; padded.len()];
    let mut buffer = vec![Complex::new(0.0f64, 0.0); n];
    let (mut magnitude, mut phase) = (vec![0.0; bins], vec![0.0; bins]);
    let mut previous_phase = vec![0.0; bins];
    let mut frequency = vec![0.0; bins];
    let mut out_phase = vec![0.0; bins];
    for f in 0..frames {
        let start = f * hop;
        for (i, slot) in buffer.iter_mut().enumerate() {
            *slot = Complex::new(padded[start + i] * window[i], 0.0);
        }
        forward.process(&mut buffer);
        for k in 0..bins {
            magnitude[k] = buffer[k].norm_sqr().sqrt();
            phase[k] = buffer[k].arg();
            // The bin's instantaneous frequency (radians per sample): its
            // centre plus the phase advance beyond the centre's.
            let centre = 2.0 * PI * k as f64 / n as f64;
            frequency[k] = if f == 0 {
                centre
            } else {
                let deviation = principal(phase[k] - previous_phase[k] - centre * hop as f64);
                centre + deviation / hop as f64
            };
        }
        for j in 0..bins {
            let s = source[j];
            let (k0, t) = (s.floor() as usize, s.fract());
            let k1 = (k0 + 1).min(bins - 1);
            let m = magnitude[k0] * (1.0 - t) + magnitude[k1] * t;
            let k = s.round() as usize;
            let hz = (frequency[k] / (2.0 * PI) * f64::from(sample_rate)).clamp(0.0, nyquist);
            let warped = 2.0 * PI * warp_frequency(hz, warp, sample_rate) / f64::from(sample_rate);
            out_phase[j] = if f == 0 {
                phase[k]
            } else {
                principal(out_phase[j] + warped * hop as f64)
            };
            buffer[j] = Complex::from_polar(m, out_phase[j]);
        }
        buffer[0] = Complex::new(buffer[0].re, 0.0);
        buffer[n / 2] = Complex::new(buffer[n / 2].re, 0.0);
        for j in 1..n / 2 {
            buffer[n - j] = buffer[j].conj();
        }
        inverse.process(&mut buffer);
        for i in 0..n {
            out[start + i] += buffer[i].re / n as f64 * window[i];
            norm[start + i] += window[i] * window[i];
        }
        std::mem::swap(&mut phase, &mut previous_phase);
    }
    let mut warped: Vec<f32> = (pad..pad + len)
        .map(|t| (out[t] / norm[t].max(1e-3)) as f32)
        .collect();
    rescale_to_rms(&mut warped, rms(signal));
    warped
}

/// A synthetic room impulse response for a reverberation time of `rt60`
/// seconds, `rt60 · sample_rate` samples (rounded up; at least 2): a direct
/// path of 1 at sample 0, silence for a pre-delay drawn uniformly in
/// [2, 8] ms (the first reflection's extra path, 0.7-2.7 m), then Gaussian
/// noise under the envelope exp(−3 ln 10 · t / rt60), whose energy falls by
/// 60 dB in rt60 seconds counted from the direct path. The tail's energy is
/// set below the direct path's by a direct-to-reverberant ratio drawn
/// uniformly in [0, 10] dB. Draws, in order: the pre-delay, the ratio, then
/// one Gaussian per tail sample.
pub fn room_impulse_response(rt60: f32, sample_rate: u32, rng: &mut impl Rng) -> Vec<f32> {
    let rate = f64::from(sample_rate);
    let rt60 = f64::from(rt60);
    let len = ((rt60 * rate).ceil() as usize).max(2);
    let pre_delay_ms: f64 = 2.0 + 6.0 * rng.random::<f64>();
    let drr_db: f64 = 10.0 * rng.random::<f64>();
    let start = ((pre_delay_ms * 1e-3 * rate).round() as usize).clamp(1, len - 1);
    let decay = 3.0 * std::f64::consts::LN_10 / (rt60 * rate);
    let mut tail: Vec<f64> = (start..len)
        .map(|t| {
            let g: f64 = rng.sample(StandardNormal);
            g * (-decay * t as f64).exp()
        })
        .collect();
    let energy: f64 = tail.iter().map(|v| v * v).sum();
    let gain = if energy > 0.0 {
        (10f64.powf(-drr_db / 10.0) / energy).sqrt()
    } else {
        0.0
    };
    let mut rir = vec![0.0f32; len];
    rir[0] = 1.0;
    for (slot, v) in rir[start..].iter_mut().zip(&mut tail) {
        *slot = (*v * gain) as f32;
    }
    rir
}

/// The first `signal.len()` samples of `signal` ∗ `kernel`, by FFT.
fn convolve_truncated(signal: &[f32], kernel: &[f32]) -> Vec<f32> {
    let size = (signal.len() + kernel.len() - 1).next_power_of_two();
    let mut planner = FftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let complex = |x: &[f32]| -> Vec<Complex<f64>> {
        let mut v: Vec<Complex<f64>> = x.iter().map(|&s| Complex::new(f64::from(s), 0.0)).collect();
        v.resize(size, Complex::new(0.0, 0.0));
        v
    };
    let (mut a, mut b) = (complex(signal), complex(kernel));
    forward.process(&mut a);
    forward.process(&mut b);
    for (x, y) in a.iter_mut().zip(&b) {
        *x *= y;
    }
    planner.plan_fft_inverse(size).process(&mut a);
    a[..signal.len()]
        .iter()
        .map(|c| (c.re / size as f64) as f32)
        .collect()
}

/// Adds noise at `snr_db` over the whole signal: see [`Perturbation::apply`],
/// step 4. The colour is one draw (white, pink or brown, each a third of
/// the time), then the white Gaussian noise, which pink (power ∝ 1/f) and
/// brown (∝ 1/f²) shape in the frequency domain, flat below 20 Hz and
/// without DC.
fn add_noise(signal: &mut [f32], snr_db: f32, sample_rate: u32, rng: &mut impl Rng) {
    let colour = rng.random_range(0..3u32);
    let len = signal.len();
    let size = len.next_power_of_two().max(64);
    let white: Vec<f64> = (0..size).map(|_| rng.sample(StandardNormal)).collect();
    let noise: Vec<f64> = if colour == 0 {
        white
    } else {
        // Amplitude ∝ f^(−exponent): ½ for pink, 1 for brown.
        let exponent = if colour == 1 { 0.5 } else { 1.0 };
        let mut planner = FftPlanner::<f64>::new();
        let mut spectrum: Vec<Complex<f64>> = white.iter().map(|&v| Complex::new(v, 0.0)).collect();
        planner.plan_fft_forward(size).process(&mut spectrum);
        let hz_per_bin = f64::from(sample_rate) / size as f64;
        spectrum[0] = Complex::new(0.0, 0.0);
        for k in 1..=size / 2 {
            let gain = (k as f64 * hz_per_bin).max(20.0).powf(-exponent);
            spectrum[k] *= gain;
            if k != size - k {
                spectrum[size - k] *= gain;
            }
        }
        planner.plan_fft_inverse(size).process(&mut spectrum);
        spectrum.iter().map(|c| c.re).collect()
    };
    let signal_energy: f64 = signal.iter().map(|&v| f64::from(v).powi(2)).sum();
    let noise_energy: f64 = noise[..len].iter().map(|v| v * v).sum();
    if signal_energy == 0.0 || noise_energy == 0.0 {
        return;
    }
    let gain = (signal_energy / noise_energy / 10f64.powf(f64::from(snr_db) / 10.0)).sqrt();
    for (v, n) in signal.iter_mut().zip(&noise) {
        *v = (f64::from(*v) + gain * n) as f32;
    }
}

fn rms(signal: &[f32]) -> f64 {
    if signal.is_empty() {
        return 0.0;
    }
    (signal.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / signal.len() as f64).sqrt()
}

/// Scales `signal` to the RMS `target` (a silent signal stays silent).
fn rescale_to_rms(signal: &mut [f32], target: f64) {
    let now = rms(signal);
    if now > 0.0 {
        let scale = target / now;
        for v in signal {
            *v = (f64::from(*v) * scale) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warp_fixes_zero_and_the_nyquist_and_inverts() {
        for warp in [0.5, 0.88, 1.0, 1.12, 2.0] {
            assert_eq!(warp_frequency(0.0, warp, 16_000), 0.0);
            assert!((warp_frequency(8_000.0, warp, 16_000) - 8_000.0).abs() < 1e-9);
            let mut last = -1.0;
            for i in 0..=800 {
                let hz = i as f64 * 10.0;
                let w = warp_frequency(hz, warp, 16_000);
                assert!(w > last, "not increasing at {hz} for {warp}");
                last = w;
                assert!((unwarp_frequency(w, warp, 16_000) - hz).abs() < 1e-6);
            }
        }
        assert!((warp_frequency(1_000.0, 1.1, 16_000) - 1_100.0).abs() < 1e-9);
        assert!((warp_frequency(4_800.0, 0.9, 16_000) - 4_320.0).abs() < 1e-9);
    }

    #[test]
    fn principal_wraps_into_minus_pi_to_pi() {
        for x in [-7.0, -PI, -1.0, 0.0, 1.0, PI, 4.0, 100.0] {
            let p = principal(x);
            assert!(p > -PI - 1e-12 && p <= PI + 1e-12, "{x} → {p}");
            let turns = (x - p) / (2.0 * PI);
            assert!((turns - turns.round()).abs() < 1e-9);
        }
    }

    #[test]
    fn convolution_matches_the_direct_sum() {
        let signal = [1.0, -2.0, 0.5, 3.0, 0.0, 1.5];
        let kernel = [0.5, 0.25, -1.0];
        let got = convolve_truncated(&signal, &kernel);
        for (t, g) in got.iter().enumerate() {
            let want: f32 = (0..=t.min(2)).map(|k| kernel[k] * signal[t - k]).sum();
            assert!((g - want).abs() < 1e-5, "{t}: {g} vs {want}");
        }
    }
}
