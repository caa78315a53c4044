//! An MFCC front end: 16 kHz audio to one vector of D coefficients per 10 ms.
//!
//! The steps, each a line or two below (the filter bank is stage 6's
//! exercise, passed in): pre-emphasis (y[t] = x[t] − 0.97
//! x[t−1], lifting the high frequencies speech tapers off); 25 ms frames
//! every 10 ms, each multiplied by a Hamming (or Hann) window; the power
//! spectrum of each frame by FFT; a bank of triangular filters spaced evenly
//! on the mel scale (how pitch is heard); the logarithm of each filter's
//! energy (how loudness is heard); and a DCT, which decorrelates the log
//! energies and keeps the first D coefficients, the spectrum's smooth shape.

use std::f32::consts::PI;
use std::io::BufReader;
use std::path::Path;

use nalgebra::DMatrix;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// The window applied to each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Hamming,
    Hann,
}

/// The front end's settings. The defaults give HW1P2's 28 coefficients per
/// 10 ms frame of 16 kHz speech.
#[derive(Clone, Debug, PartialEq)]
pub struct MfccConfig {
    pub sample_rate: u32,
    /// Samples per frame: 400 = 25 ms.
    pub frame_length: usize,
    /// Samples between frame starts: 160 = 10 ms.
    pub hop: usize,
    /// FFT size (at least the frame length).
    pub fft_size: usize,
    pub mel_filters: usize,
    /// D, the coefficients kept.
    pub coefficients: usize,
    pub pre_emphasis: f32,
    pub window: Window,
}

impl Default for MfccConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            frame_length: 400,
            hop: 160,
            fft_size: 512,
            mel_filters: 40,
            coefficients: 28,
            pre_emphasis: 0.97,
            window: Window::Hamming,
        }
    }
}

/// The number of frames for `samples` samples: one per hop while a whole
/// frame fits.
pub fn frame_count(samples: usize, config: &MfccConfig) -> usize {
    if samples < config.frame_length {
        0
    } else {
        1 + (samples - config.frame_length) / config.hop
    }
}

/// A mel filter bank that does not fit the front end's spectrum.
#[derive(Debug, thiserror::Error)]
#[error(
    "mel filter bank: expected shape ({filters}, {bins}) for {filters} filters on an FFT of \
     {fft_size}, found shape ({}, {})",
    found.0,
    found.1
)]
pub struct FilterBankShape {
    pub filters: usize,
    pub bins: usize,
    pub fft_size: usize,
    pub found: (usize, usize),
}

/// The largest sample magnitude the front end takes. Audio is nominally
/// within [-1, 1]; float files may go somewhat past it (gain, filtering
/// without clipping), so 1e3 leaves 60 dB of headroom. At that size a
/// frame's power stays below about 1e12, far inside f32; samples of 1e16 or
/// more overflow it, and the NaN that follows made every frame alike.
pub const MAX_SAMPLE: f32 = 1e3;

/// Why the front end refused to compute MFCCs.
#[derive(Debug, thiserror::Error)]
pub enum MfccError {
    #[error(transparent)]
    FilterBank(#[from] FilterBankShape),
    /// A settings value the steps cannot use.
    #[error("MFCC settings: {problem}")]
    Config { problem: &'static str },
    /// A sample that is not finite or beyond ±[`MAX_SAMPLE`].
    #[error(
        "sample {index} is {}: expected finite samples within ±{MAX_SAMPLE} (audio is within ±1)",
        crate::short_float(f64::from(*value))
    )]
    Sample { index: usize, value: f32 },
    /// A non-finite value inside the front end (a filter bank with huge or
    /// non-finite weights): nothing non-finite leaves it.
    #[error(
        "frame {frame}: {what} {index} is {}: expected a finite value (check the mel filter bank)",
        crate::short_float(f64::from(*value))
    )]
    NonFinite {
        frame: usize,
        /// "mel energy" or "coefficient".
        what: &'static str,
        index: usize,
        value: f32,
    },
}

/// MFCCs of `samples` (mono, at `config.sample_rate`): (frames,
/// coefficients). `filters` is the mel filter bank, (mel_filters,
/// fft_size / 2 + 1) weights on the power spectrum: stage 6's
/// `mel_filter_bank`, the reference's or yours. Samples must be finite and
/// within ±[`MAX_SAMPLE`]; every value returned is finite.
pub fn mfcc(
    samples: &[f32],
    config: &MfccConfig,
    filters: &DMatrix<f32>,
) -> Result<DMatrix<f32>, MfccError> {
    if config.frame_length < 2 || config.hop == 0 || config.fft_size < config.frame_length {
        return Err(MfccError::Config {
            problem: "expected a frame of at least 2 samples, a hop of at least 1 and an FFT \
                      at least as long as a frame",
        });
    }
    if let Some(index) = samples
        .iter()
        .position(|v| !v.is_finite() || v.abs() > MAX_SAMPLE)
    {
        return Err(MfccError::Sample {
            index,
            value: samples[index],
        });
    }
    let frames = frame_count(samples.len(), config);
    let bins = config.fft_size / 2 + 1;
    if filters.shape() != (config.mel_filters, bins) {
        return Err(FilterBankShape {
            filters: config.mel_filters,
            bins,
            fft_size: config.fft_size,
            found: filters.shape(),
        }
        .into());
    }
    let window: Vec<f32> = (0..config.frame_length)
        .map(|n| {
            let phase = 2.0 * PI * n as f32 / (config.frame_length - 1) as f32;
            match config.window {
                Window::Hamming => 0.54 - 0.46 * phase.cos(),
                Window::Hann => 0.5 - 0.5 * phase.cos(),
            }
        })
        .collect();
    let fft = FftPlanner::<f32>::new().plan_fft_forward(config.fft_size);
    let (m, d) = (config.mel_filters, config.coefficients);
    // The orthonormal DCT-II: c_j = s_j Σ_i x_i cos(π j (i + ½) / M).
    let dct = DMatrix::from_fn(d, m, |j, i| {
        let scale = if j == 0 {
            (1.0 / m as f32).sqrt()
        } else {
            (2.0 / m as f32).sqrt()
        };
        scale * (PI * j as f32 * (i as f32 + 0.5) / m as f32).cos()
    });

    let mut out = DMatrix::zeros(frames, d);
    let mut buffer = vec![Complex::new(0.0f32, 0.0); config.fft_size];
    let mut power = nalgebra::DVector::zeros(bins);
    for f in 0..frames {
        let start = f * config.hop;
        for (n, slot) in buffer.iter_mut().enumerate() {
            *slot = if n < config.frame_length {
                let t = start + n;
                let previous = if t == 0 { 0.0 } else { samples[t - 1] };
                Complex::new(
                    (samples[t] - config.pre_emphasis * previous) * window[n],
                    0.0,
                )
            } else {
                Complex::new(0.0, 0.0)
            };
        }
        fft.process(&mut buffer);
        for k in 0..bins {
            power[k] = buffer[k].norm_sqr() / config.fft_size as f32;
        }
        let energies = filters * &power;
        // Checked before the floor below, which would turn a NaN into 1e-10.
        if let Some(index) = energies.iter().position(|e| !e.is_finite()) {
            return Err(MfccError::NonFinite {
                frame: f,
                what: "mel energy",
                index,
                value: energies[index],
            });
        }
        let log_mel = energies.map(|e| e.max(1e-10).ln());
        let coefficients = &dct * log_mel;
        if let Some(index) = coefficients.iter().position(|c| !c.is_finite()) {
            return Err(MfccError::NonFinite {
                frame: f,
                what: "coefficient",
                index,
                value: coefficients[index],
            });
        }
        out.row_mut(f).copy_from(&coefficients.transpose());
    }
    Ok(out)
}

/// What is wrong with a WAV file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct WavError {
    pub path: std::path::PathBuf,
    pub problem: String,
    pub kind: WavProblem,
}

/// The kind of a [`WavError`], for callers and tests to match on.
#[derive(Clone, Debug, PartialEq)]
pub enum WavProblem {
    /// Not a WAV file hound reads, or its data is cut or malformed.
    Unreadable,
    /// A WAV file whose format code or sample format hound does not decode
    /// (ADPCM, A-law, μ-law and the like).
    Unsupported,
    /// Another sample rate than asked for.
    SampleRate { expected: u32, found: u32 },
    /// A sample rate outside [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`],
    /// which [`read_wav_any`] does not convert.
    SampleRateOutOfRange { found: u32 },
    /// Integer samples of a width outside 1-32 bits.
    SampleWidth { bits: u16 },
    /// A NaN or infinite float sample, at this index (all channels counted).
    NonFinite { sample: usize, value: f32 },
    /// A finite float sample beyond ±[`MAX_SAMPLE`], at this index.
    OutOfRange { sample: usize, value: f32 },
    /// A FIFO, folder, device or socket, not a WAV file (a FIFO would make
    /// the reader wait forever).
    NotRegularFile { found: &'static str },
}

/// The lowest sample rate [`read_wav_any`] takes: below it, resampling to
/// 16 kHz would multiply the samples (and the memory they take) by more
/// than 4, and such a recording holds no speech above 2 kHz anyway.
pub const MIN_SAMPLE_RATE: u32 = 4_000;

/// The highest sample rate [`read_wav_any`] takes (the highest that audio
/// interfaces record at). The resampler's FFT grows with the rate divided
/// by its greatest common divisor with 16 kHz: a header claiming 4 GHz
/// would have it allocate tens of gigabytes.
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// How a WAV file stores its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleFormat {
    /// Signed integers of this many bits (8-bit files are unsigned on
    /// disk; the reader centres them).
    Int { bits: u16 },
    /// IEEE floats of this many bits (32).
    Float { bits: u16 },
}

impl std::fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int { bits } => write!(f, "{bits}-bit integer"),
            Self::Float { bits } => write!(f, "{bits}-bit float"),
        }
    }
}

/// A WAV file read at its own rate: mono samples in [-1, 1] (channels
/// averaged), and what the file held.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// One per frame, the mean of its channels.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// The file's channels, before they were mixed down.
    pub channels: u16,
    pub format: SampleFormat,
}

/// "44100 Hz, 2 channels, 24-bit integer".
impl std::fmt::Display for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channels = match self.channels {
            1 => "mono".to_owned(),
            n => format!("{n} channels"),
        };
        write!(f, "{} Hz, {channels}, {}", self.sample_rate, self.format)
    }
}

/// One thing [`Recording::into_rate`] did to a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// The file's channels were averaged into one.
    MixedDown { channels: u16 },
    /// The samples were resampled ([`crate::resample::resample`]).
    Resampled { from: u32, to: u32 },
}

impl std::fmt::Display for Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MixedDown { channels } => write!(f, "mixed {channels} channels down to mono"),
            Self::Resampled { from, to } => write!(f, "resampled from {from} Hz to {to} Hz"),
        }
    }
}

/// The conversions in words: "mixed 2 channels down to mono and resampled
/// from 44100 Hz to 16000 Hz", or "used as it is" for none.
pub fn describe_conversions(conversions: &[Conversion]) -> String {
    if conversions.is_empty() {
        return "used as it is".to_owned();
    }
    conversions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

impl Recording {
    /// Mono samples at `rate` Hz, and what was done to get them: the
    /// mix-down (done when the file was read) if it had several channels,
    /// and a resampling if its rate is not `rate`. At `rate` already, the
    /// samples are returned unchanged.
    pub fn into_rate(
        self,
        rate: u32,
    ) -> Result<(Vec<f32>, Vec<Conversion>), crate::resample::ResampleError> {
        let mut conversions = Vec::new();
        if self.channels > 1 {
            conversions.push(Conversion::MixedDown {
                channels: self.channels,
            });
        }
        if self.sample_rate == rate {
            return Ok((self.samples, conversions));
        }
        let samples = crate::resample::resample(&self.samples, self.sample_rate, rate)?;
        conversions.push(Conversion::Resampled {
            from: self.sample_rate,
            to: rate,
        });
        Ok((samples, conversions))
    }
}

/// A [`WavError`] about `path`.
fn wav_error(path: &Path, kind: WavProblem, problem: String) -> WavError {
    WavError {
        path: path.to_owned(),
        problem,
        kind,
    }
}

/// A hound error as a [`WavError`]: [`WavProblem::Unsupported`] for a
/// format hound does not decode, [`WavProblem::Unreadable`] otherwise.
fn hound_error(path: &Path, e: hound::Error, context: &str) -> WavError {
    let kind = match e {
        hound::Error::Unsupported => WavProblem::Unsupported,
        _ => WavProblem::Unreadable,
    };
    wav_error(path, kind, format!("{context}{e}"))
}

/// Opens `path` (a regular file, or a link to one) and reads its header.
fn open_wav(path: &Path) -> Result<hound::WavReader<BufReader<std::fs::File>>, WavError> {
    let file = crate::open_regular(path).map_err(|e| match e {
        crate::OpenError::Io(e) => wav_error(path, WavProblem::Unreadable, e.to_string()),
        crate::OpenError::NotRegular(found) => wav_error(
            path,
            WavProblem::NotRegularFile { found },
            format!("expected a regular file, found {found}"),
        ),
    })?;
    hound::WavReader::new(BufReader::new(file))
        .map_err(|e| hound_error(path, e, "not a readable WAV file: "))
}

/// The sample format of `spec`, if the decoder below takes it: integers of
/// 1-32 bits (the extensible header's valid-bits field can say anything,
/// and the scale needs i32 samples) or floats.
fn sample_format(path: &Path, spec: &hound::WavSpec) -> Result<SampleFormat, WavError> {
    let bits = spec.bits_per_sample;
    match spec.sample_format {
        hound::SampleFormat::Float => Ok(SampleFormat::Float { bits }),
        hound::SampleFormat::Int if (1..=32).contains(&bits) => Ok(SampleFormat::Int { bits }),
        hound::SampleFormat::Int => Err(wav_error(
            path,
            WavProblem::SampleWidth { bits },
            format!("expected integer samples of 1 to 32 bits, found {bits} bits"),
        )),
    }
}

/// Every sample of `reader`, in [-1, 1] for integers, checked finite and
/// within ±[`MAX_SAMPLE`], with each frame's channels averaged. Nothing is
/// allocated from the header's sizes: the samples are collected as they
/// are read, so a data chunk that claims more than the file holds ends in
/// an error, not in a huge allocation.
fn decode_mono(
    path: &Path,
    reader: hound::WavReader<BufReader<std::fs::File>>,
    format: SampleFormat,
) -> Result<Vec<f32>, WavError> {
    let channels = usize::from(reader.spec().channels.max(1));
    let unreadable = |e: hound::Error| hound_error(path, e, "");
    let samples: Vec<f32> = match format {
        SampleFormat::Float { .. } => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(unreadable)?,
        SampleFormat::Int { bits } => {
            // 1 ≤ bits ≤ 32 (checked by `sample_format`).
            let scale = (1i64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<Result<_, _>>()
                .map_err(unreadable)?
        }
    };
    if let Some(sample) = samples.iter().position(|v| !v.is_finite()) {
        let value = samples[sample];
        return Err(wav_error(
            path,
            WavProblem::NonFinite { sample, value },
            format!("sample {sample} is {value}: expected finite samples"),
        ));
    }
    if let Some(sample) = samples.iter().position(|v| v.abs() > MAX_SAMPLE) {
        let value = samples[sample];
        return Err(wav_error(
            path,
            WavProblem::OutOfRange { sample, value },
            format!(
                "sample {sample} is {}: expected samples within ±{MAX_SAMPLE} (audio is within ±1)",
                crate::short_float(f64::from(value))
            ),
        ));
    }
    Ok(samples
        .chunks(channels)
        .map(|c| c.iter().sum::<f32>() / c.len() as f32)
        .collect())
}

/// Reads a WAV file as mono samples in [-1, 1] (channels are averaged).
/// Fails unless it is a regular file (or a link to one), its rate is
/// `sample_rate` and every sample is finite and within ±[`MAX_SAMPLE`].
/// [`read_wav_any`] takes any rate and says what the file held.
pub fn read_wav(path: &Path, sample_rate: u32) -> Result<Vec<f32>, WavError> {
    let reader = open_wav(path)?;
    let spec = reader.spec();
    if spec.sample_rate != sample_rate {
        return Err(wav_error(
            path,
            WavProblem::SampleRate {
                expected: sample_rate,
                found: spec.sample_rate,
            },
            format!(
                "expected a sample rate of {sample_rate} Hz, found {} Hz (resample it first, e.g. `sox in.wav -r {sample_rate} out.wav`)",
                spec.sample_rate
            ),
        ));
    }
    let format = sample_format(path, &spec)?;
    decode_mono(path, reader, format)
}

/// Reads a WAV file at whatever rate it has (within
/// [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`]), of any number of channels,
/// of integer samples of 8 to 32 bits or 32-bit floats: the samples mixed
/// down to mono, as [`read_wav`] reads them, and what the file held.
/// [`Recording::into_rate`] then brings it to the front end's rate.
pub fn read_wav_any(path: &Path) -> Result<Recording, WavError> {
    let reader = open_wav(path)?;
    let spec = reader.spec();
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&spec.sample_rate) {
        return Err(wav_error(
            path,
            WavProblem::SampleRateOutOfRange {
                found: spec.sample_rate,
            },
            format!(
                "expected a sample rate from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz, found {} Hz",
                spec.sample_rate
            ),
        ));
    }
    let format = sample_format(path, &spec)?;
    let samples = decode_mono(path, reader, format)?;
    Ok(Recording {
        samples,
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's filter bank (stage 6), for a front end of `config`.
    fn filters(config: &MfccConfig) -> DMatrix<f32> {
        reference::features::mel_filter_bank(
            config.mel_filters,
            config.fft_size,
            config.sample_rate as f32,
        )
        .unwrap()
    }

    #[test]
    fn filters_are_triangles_that_tile_the_spectrum() {
        let bank = filters(&MfccConfig::default());
        assert_eq!(bank.shape(), (40, 257));
        for row in bank.row_iter() {
            assert!(
                row.max() > 0.5 && row.max() <= 1.0,
                "each filter peaks near 1"
            );
        }
        // Between the first and last centres, neighbouring filters sum to 1.
        let sums = bank.row_sum();
        for k in 10..240 {
            assert!((sums[k] - 1.0).abs() < 1e-4, "bin {k}: {}", sums[k]);
        }
    }

    #[test]
    fn a_bank_of_another_shape_is_an_error() {
        let config = MfccConfig::default();
        match mfcc(&[0.0; 800], &config, &DMatrix::zeros(40, 256)) {
            Err(MfccError::FilterBank(e)) => assert_eq!((e.bins, e.found), (257, (40, 256))),
            other => panic!("{other:?}"),
        }
    }

    /// Against an independent NumPy implementation of the same steps
    /// (tests/fixtures/make_mfcc.py) on a chirp with a tone.
    #[test]
    fn matches_the_numpy_reference() {
        use crate::npy::{self, Array};
        let fixture = |name: &str| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name)
        };
        let Array::Float { data: signal, .. } = npy::read(&fixture("chirp.npy")).unwrap() else {
            panic!()
        };
        let Array::Float { shape, data } = npy::read(&fixture("chirp_mfcc.npy")).unwrap() else {
            panic!()
        };
        let expected = DMatrix::from_row_slice(shape[0], shape[1], &data);
        let config = MfccConfig::default();
        let got = mfcc(&signal, &config, &filters(&config)).unwrap();
        assert_eq!(got.shape(), expected.shape());
        let worst = (&got - &expected).abs().max();
        let scale = expected.abs().max();
        assert!(
            worst <= 1e-3 * scale,
            "largest difference {worst} (coefficients up to {scale})"
        );
    }

    #[test]
    fn frames_every_10_ms() {
        let config = MfccConfig::default();
        assert_eq!(frame_count(399, &config), 0);
        assert_eq!(frame_count(400, &config), 1);
        assert_eq!(frame_count(16_000, &config), 98);
        let got = mfcc(&vec![0.1; 16_000], &config, &filters(&config)).unwrap();
        assert_eq!(got.shape(), (98, 28));
    }
}
