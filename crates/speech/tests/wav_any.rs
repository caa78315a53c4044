//! `read_wav_any` and `Recording::into_rate`: WAV files at any rate, of any
//! number of channels, of 8-32-bit integers or 32-bit floats, brought to
//! the front end's 16 kHz mono; and bad files refused with their kind.

use std::f64::consts::PI;
use std::fs;
use std::path::Path;

mod common;

use common::{Wav, float_wav};
use speech::mfcc::{
    Conversion, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SampleFormat, WavProblem, read_wav, read_wav_any,
};
use speech::resample::resampled_len;

/// Writes `frames` (one `Vec` of channel values per frame) as a WAV file of
/// `spec`, each value scaled to the integer range for integer formats.
fn write(path: &Path, spec: hound::WavSpec, frames: &[Vec<f64>]) {
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for frame in frames {
        assert_eq!(frame.len(), usize::from(spec.channels));
        for &v in frame {
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => writer.write_sample(v as f32).unwrap(),
                (hound::SampleFormat::Int, 8) => {
                    writer.write_sample((v * 128.0).round() as i8).unwrap()
                }
                (hound::SampleFormat::Int, 16) => {
                    writer.write_sample((v * 32_768.0).round() as i16).unwrap()
                }
                (hound::SampleFormat::Int, bits) => writer
                    .write_sample((v * (1i64 << (bits - 1)) as f64).round() as i32)
                    .unwrap(),
            }
        }
    }
    writer.finalize().unwrap();
}

fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

fn tone(hz: f64, amplitude: f64, rate: u32, n: usize) -> f64 {
    amplitude * (2.0 * PI * hz * n as f64 / rate as f64).sin()
}

/// The amplitude of each tone in `samples` at `rate` Hz, fitted by least
/// squares to a sin + cos pair per frequency away from the edges (the
/// resampler's filter settles in half a second at most), and the largest
/// residual of that fit.
fn fit(samples: &[f32], rate: u32, tones: &[f64]) -> (Vec<f64>, f64) {
    let margin = rate as usize / 32;
    let range = margin..samples.len() - margin;
    let basis = |n: usize| -> Vec<f64> {
        tones
            .iter()
            .flat_map(|&hz| {
                let phase = 2.0 * PI * hz * n as f64 / rate as f64;
                [phase.sin(), phase.cos()]
            })
            .collect()
    };
    let k = 2 * tones.len();
    let mut ata = nalgebra::DMatrix::<f64>::zeros(k, k);
    let mut atb = nalgebra::DVector::<f64>::zeros(k);
    for n in range.clone() {
        let b = nalgebra::DVector::from_vec(basis(n));
        ata += &b * b.transpose();
        atb += &b * f64::from(samples[n]);
    }
    let x = ata.lu().solve(&atb).expect("a solvable fit");
    let amplitudes = (0..tones.len())
        .map(|i| x[2 * i].hypot(x[2 * i + 1]))
        .collect();
    let worst = range
        .map(|n| {
            let b = basis(n);
            let model: f64 = b.iter().zip(x.iter()).map(|(b, x)| b * x).sum();
            (f64::from(samples[n]) - model).abs()
        })
        .fold(0.0, f64::max);
    (amplitudes, worst)
}

fn close(got: f64, expected: f64, tolerance: f64) -> bool {
    (got - expected).abs() <= tolerance
}

#[test]
fn stereo_44_1_khz_16_bit_is_the_mean_of_its_channels_at_16_khz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    // Left: 440 Hz at 0.6; right: 1 kHz at 0.2. Mono: 0.3 and 0.1.
    let frames: Vec<Vec<f64>> = (0..44_100)
        .map(|n| vec![tone(440.0, 0.6, 44_100, n), tone(1_000.0, 0.2, 44_100, n)])
        .collect();
    write(&path, spec(2, 44_100, 16, false), &frames);
    let recording = read_wav_any(&path).unwrap();
    assert_eq!(recording.sample_rate, 44_100);
    assert_eq!(recording.channels, 2);
    assert_eq!(recording.format, SampleFormat::Int { bits: 16 });
    assert_eq!(recording.samples.len(), 44_100);
    for (n, frame) in frames.iter().enumerate() {
        let q = |v: f64| (v * 32_768.0).round() as f32 / 32_768.0;
        let mean = (q(frame[0]) + q(frame[1])) / 2.0;
        assert_eq!(recording.samples[n], mean, "frame {n}");
    }
    // The strict reader refuses the rate.
    assert_eq!(
        read_wav(&path, 16_000).unwrap_err().kind,
        WavProblem::SampleRate {
            expected: 16_000,
            found: 44_100
        }
    );

    let (samples, conversions) = recording.into_rate(16_000).unwrap();
    assert_eq!(
        conversions,
        [
            Conversion::MixedDown { channels: 2 },
            Conversion::Resampled {
                from: 44_100,
                to: 16_000
            }
        ]
    );
    assert_eq!(samples.len(), resampled_len(44_100, 44_100, 16_000));
    assert_eq!(samples.len(), 16_000);
    let (amplitudes, worst) = fit(&samples, 16_000, &[440.0, 1_000.0]);
    assert!(close(amplitudes[0], 0.3, 2e-3), "{amplitudes:?}");
    assert!(close(amplitudes[1], 0.1, 2e-3), "{amplitudes:?}");
    assert!(worst < 2e-3, "largest residual {worst}");
}

#[test]
fn mono_48_khz_24_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("48k.wav");
    let n = 48_000 + 123;
    let frames: Vec<Vec<f64>> = (0..n).map(|t| vec![tone(523.25, 0.8, 48_000, t)]).collect();
    write(&path, spec(1, 48_000, 24, false), &frames);
    let recording = read_wav_any(&path).unwrap();
    assert_eq!(
        (recording.sample_rate, recording.channels, recording.format),
        (48_000, 1, SampleFormat::Int { bits: 24 })
    );
    for (t, frame) in frames.iter().enumerate().step_by(97) {
        let q = (frame[0] * 8_388_608.0).round() as f32 / 8_388_608.0;
        assert_eq!(recording.samples[t], q);
    }
    let (samples, conversions) = recording.into_rate(16_000).unwrap();
    assert_eq!(
        conversions,
        [Conversion::Resampled {
            from: 48_000,
            to: 16_000
        }]
    );
    assert_eq!(samples.len(), resampled_len(n, 48_000, 16_000));
    let (amplitudes, worst) = fit(&samples, 16_000, &[523.25]);
    assert!(close(amplitudes[0], 0.8, 2e-3), "{amplitudes:?}");
    assert!(worst < 2e-3, "largest residual {worst}");
}

#[test]
fn three_channels_of_32_bit_floats_at_22_05_khz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("float.wav");
    let n = 22_050;
    let frames: Vec<Vec<f64>> = (0..n)
        .map(|t| {
            let x = tone(700.0, 1.0, 22_050, t);
            vec![0.9 * x, 0.3 * x, -0.3 * x]
        })
        .collect();
    write(&path, spec(3, 22_050, 32, true), &frames);
    let recording = read_wav_any(&path).unwrap();
    assert_eq!(
        (recording.sample_rate, recording.channels, recording.format),
        (22_050, 3, SampleFormat::Float { bits: 32 })
    );
    for (t, frame) in frames.iter().enumerate() {
        let mean = (frame[0] as f32 + frame[1] as f32 + frame[2] as f32) / 3.0;
        assert_eq!(recording.samples[t], mean, "frame {t}");
    }
    let (samples, conversions) = recording.into_rate(16_000).unwrap();
    assert_eq!(conversions.len(), 2);
    assert_eq!(samples.len(), resampled_len(n, 22_050, 16_000));
    let (amplitudes, worst) = fit(&samples, 16_000, &[700.0]);
    assert!(close(amplitudes[0], 0.3, 1e-3), "{amplitudes:?}");
    assert!(worst < 1e-3, "largest residual {worst}");
}

#[test]
fn mono_8_khz_is_upsampled_and_8_bit_samples_are_centred() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("8k.wav");
    let n = 8_000;
    let frames: Vec<Vec<f64>> = (0..n).map(|t| vec![tone(300.0, 0.5, 8_000, t)]).collect();
    write(&path, spec(1, 8_000, 16, false), &frames);
    let (samples, conversions) = read_wav_any(&path).unwrap().into_rate(16_000).unwrap();
    assert_eq!(
        conversions,
        [Conversion::Resampled {
            from: 8_000,
            to: 16_000
        }]
    );
    assert_eq!(samples.len(), resampled_len(n, 8_000, 16_000));
    assert_eq!(samples.len(), 16_000);
    let (amplitudes, worst) = fit(&samples, 16_000, &[300.0]);
    assert!(close(amplitudes[0], 0.5, 2e-3), "{amplitudes:?}");
    assert!(worst < 2e-3, "largest residual {worst}");

    // 8-bit files are unsigned on disk: 0.5 is stored as 192 and read as 0.5.
    write(
        &path,
        spec(1, 8_000, 8, false),
        &[vec![0.5], vec![-1.0], vec![0.0]],
    );
    let recording = read_wav_any(&path).unwrap();
    assert_eq!(recording.format, SampleFormat::Int { bits: 8 });
    assert_eq!(recording.samples, [0.5, -1.0, 0.0]);
}

#[test]
fn at_16_khz_the_samples_are_unchanged_and_nothing_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("16k.wav");
    let frames: Vec<Vec<f64>> = (0..1_000)
        .map(|t| vec![tone(440.0, 0.7, 16_000, t)])
        .collect();
    write(&path, spec(1, 16_000, 16, false), &frames);
    let strict = read_wav(&path, 16_000).unwrap();
    let recording = read_wav_any(&path).unwrap();
    assert_eq!(recording.samples, strict);
    let (samples, conversions) = recording.into_rate(16_000).unwrap();
    assert_eq!(samples, strict);
    assert!(conversions.is_empty(), "{conversions:?}");

    // Stereo at 16 kHz: mixed down, not resampled.
    let frames: Vec<Vec<f64>> = (0..1_000).map(|t| vec![0.5, t as f64 / 1_000.0]).collect();
    write(&path, spec(2, 16_000, 32, true), &frames);
    let (samples, conversions) = read_wav_any(&path).unwrap().into_rate(16_000).unwrap();
    assert_eq!(conversions, [Conversion::MixedDown { channels: 2 }]);
    let expected: Vec<f32> = frames
        .iter()
        .map(|f| (f[0] as f32 + f[1] as f32) / 2.0)
        .collect();
    assert_eq!(samples, expected);
}

#[test]
fn bad_files_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wav");
    let kind = |path: &Path| {
        let e = read_wav_any(path).unwrap_err();
        assert_eq!(e.path, path);
        e.kind
    };

    // Truncated data: the header says 1,000 samples, the file holds 100.
    write(
        &path,
        spec(2, 44_100, 16, false),
        &vec![vec![0.25, -0.25]; 500],
    );
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 800]).unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);
    // Cut inside the header.
    fs::write(&path, &bytes[..30]).unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);
    // A data chunk that declares 4 GiB in a small file.
    let mut wav = float_wav(&[0.0; 4]);
    wav.rate = 48_000;
    wav.data_len = u32::MAX;
    fs::write(&path, wav.bytes()).unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);
    // Not a WAV file.
    fs::write(&path, b"id,label\n0,[SIL]\n").unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);

    // Zero channels.
    let zero = Wav {
        channels: 0,
        block_align: 0,
        ..float_wav(&[0.0; 4])
    };
    fs::write(&path, zero.bytes()).unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);

    // Format codes hound does not decode: ADPCM (2), A-law (6), μ-law (7).
    for format_tag in [2, 6, 7] {
        let wav = Wav {
            format_tag,
            bits: 8,
            block_align: 1,
            ..float_wav(&[0.0; 4])
        };
        fs::write(&path, wav.bytes()).unwrap();
        assert_eq!(kind(&path), WavProblem::Unsupported, "format {format_tag}");
        assert_eq!(
            read_wav(&path, 16_000).unwrap_err().kind,
            WavProblem::Unsupported
        );
    }
    // 64-bit floats.
    let wav = Wav {
        bits: 64,
        block_align: 8,
        ..float_wav(&[0.0; 4])
    };
    fs::write(&path, wav.bytes()).unwrap();
    assert_eq!(kind(&path), WavProblem::Unreadable);
    // Integers whose valid bits say 40.
    let wav = Wav {
        format_tag: 0xfffe,
        float_subformat: false,
        valid_bits: 40,
        ..float_wav(&[0.0; 4])
    };
    fs::write(&path, wav.bytes()).unwrap();
    assert_eq!(kind(&path), WavProblem::SampleWidth { bits: 40 });

    // Rates the resampler is not asked to handle: 0, too low, too high.
    for rate in [
        0,
        1,
        MIN_SAMPLE_RATE - 1,
        MAX_SAMPLE_RATE + 1,
        1_000_000_000,
    ] {
        let wav = Wav {
            rate,
            ..float_wav(&[0.0; 4])
        };
        fs::write(&path, wav.bytes()).unwrap();
        assert_eq!(
            kind(&path),
            WavProblem::SampleRateOutOfRange { found: rate },
            "{rate} Hz"
        );
    }
    // The bounds themselves are taken.
    for rate in [MIN_SAMPLE_RATE, MAX_SAMPLE_RATE] {
        let wav = Wav {
            rate,
            ..float_wav(&[0.25; 64])
        };
        fs::write(&path, wav.bytes()).unwrap();
        let (samples, _) = read_wav_any(&path).unwrap().into_rate(16_000).unwrap();
        assert_eq!(samples.len(), resampled_len(64, rate, 16_000), "{rate} Hz");
    }

    // NaN and out-of-range float samples, as read_wav refuses them.
    let mut wav = float_wav(&[0.0, f32::NAN, 0.0, 0.0]);
    wav.rate = 44_100;
    fs::write(&path, wav.bytes()).unwrap();
    assert!(matches!(
        kind(&path),
        WavProblem::NonFinite { sample: 1, .. }
    ));
    let mut wav = float_wav(&[0.0, 0.0, 2e3, 0.0]);
    wav.rate = 44_100;
    fs::write(&path, wav.bytes()).unwrap();
    assert_eq!(
        kind(&path),
        WavProblem::OutOfRange {
            sample: 2,
            value: 2e3
        }
    );

    // A folder; a FIFO (which would make the reader wait forever).
    assert!(matches!(
        kind(dir.path()),
        WavProblem::NotRegularFile { .. }
    ));
    let fifo = dir.path().join("fifo.wav");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(status) if status.success() => {
            // A writer, so that a reader that opened it after all would get
            // an end of file rather than hang the test.
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || {
                    let _ = fs::OpenOptions::new().write(true).open(&fifo);
                })
            };
            assert!(matches!(kind(&fifo), WavProblem::NotRegularFile { .. }));
            let _ = fs::read(&fifo);
            writer.join().unwrap();
        }
        other => eprintln!("skipped the FIFO: mkfifo is not available ({other:?})"),
    }
    // A missing file.
    assert_eq!(
        kind(&dir.path().join("missing.wav")),
        WavProblem::Unreadable
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Headers with any format code, channel count, width and rate, and
    /// data of any length: the reader and the conversion never panic, and
    /// what they accept is finite, as long as the data allows, and of the
    /// length the resampler promises.
    #[test]
    fn any_header_is_read_or_refused_never_a_panic(
        format_tag in proptest::sample::select(vec![1u16, 2, 3, 6, 0xfffe]),
        channels in proptest::prelude::prop_oneof![0u16..5, proptest::prelude::any::<u16>()],
        rate in proptest::sample::select(vec![
            0u32, 1, 3_999, 4_000, 8_000, 11_025, 16_000, 44_100, 48_000, 96_000, 768_000,
            768_001, u32::MAX,
        ]),
        bits in proptest::sample::select(vec![0u16, 8, 16, 24, 32, 64]),
        valid_bits in proptest::sample::select(vec![0u16, 8, 12, 16, 24, 32, 40]),
        float_subformat in proptest::prelude::any::<bool>(),
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        declared_more in proptest::prelude::any::<bool>(),
    ) {
        let block_align = (bits / 8).saturating_mul(channels);
        let wav = Wav {
            format_tag,
            channels,
            rate,
            block_align,
            bits,
            valid_bits,
            float_subformat,
            data_len: if declared_more { u32::MAX } else { data.len() as u32 },
            data: data.clone(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        fs::write(&path, wav.bytes()).unwrap();
        if let Ok(recording) = read_wav_any(&path) {
            proptest::prop_assert!(recording.channels >= 1);
            proptest::prop_assert!(recording.samples.len() <= data.len());
            proptest::prop_assert!(recording.samples.iter().all(|v| v.is_finite()));
            let (len, from) = (recording.samples.len(), recording.sample_rate);
            let (samples, _) = recording.into_rate(16_000).unwrap();
            proptest::prop_assert_eq!(samples.len(), resampled_len(len, from, 16_000));
            proptest::prop_assert!(samples.iter().all(|v| v.is_finite()));
        }
    }
}
