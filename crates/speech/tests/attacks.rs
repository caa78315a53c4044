//! The concrete attacks of issue 18 on the `.npy`, HW1P2 and WAV readers:
//! each must be a clean, typed error naming the file (never a panic, an
//! abort on allocation, or a silently wrong value).

mod common;

use std::fs;
use std::path::Path;

use common::{f32_bytes, float_wav, header, npy, utf32};
use speech::hw1p2::{LayoutError, Precision, read_split};
use speech::mfcc::{WavProblem, read_wav};
use speech::npy::{NpyError, parse};

fn p() -> &'static Path {
    Path::new("attack.npy")
}

/// (2⁶², 4) floats wrap the byte count: it used to reach nalgebra.
#[test]
fn a_shape_whose_size_wraps_is_too_large() {
    for (descr, shape) in [
        ("<f4", "(4611686018427387904, 4)"),
        ("<f8", "(4611686018427387904, 2)"),
        ("<f4", "(18446744073709551615, 18446744073709551615)"),
        ("<U1", "(4611686018427387904,)"),
    ] {
        let r = parse(&npy(&header(descr, shape), &[]), p());
        assert!(
            matches!(r, Err(NpyError::TooLarge { .. })),
            "{descr} {shape}: {r:?}"
        );
    }
    // A dimension beyond 64 bits does not parse as one.
    let r = parse(&npy(&header("<f4", "(18446744073709551616,)"), &[]), p());
    assert!(matches!(r, Err(NpyError::Format { .. })), "{r:?}");
}

/// A shape that disagrees with the data is never accepted.
#[test]
fn a_shape_that_disagrees_with_the_data_is_rejected() {
    let five = f32_bytes(&[1.0; 5]);
    for shape in ["(3, 2)", "(2, 2)", "(6,)", "()", "(0, 5)"] {
        let r = parse(&npy(&header("<f4", shape), &five), p());
        assert!(
            matches!(r, Err(NpyError::DataLength { found: 20, .. })),
            "{shape}: {r:?}"
        );
    }
    // Strings of width 0 would hold any number of strings in no bytes.
    let r = parse(&npy(&header("<U0", "(5,)"), &[]), p());
    assert!(matches!(r, Err(NpyError::Format { .. })), "{r:?}");
}

/// '<U0' with a huge shape in a 128-byte file aborted on a 24 TB
/// allocation; 2⁶¹ strings panicked on capacity overflow.
#[test]
fn huge_string_arrays_in_a_tiny_file_are_clean_errors() {
    for (descr, shape) in [
        ("<U0", "(1099511627776,)"),
        ("<U0", "(2305843009213693952,)"),
        ("<U1", "(1099511627776,)"),
        ("<U4611686018427387904", "(1,)"),
        ("<U99999999999999999999999", "(1,)"),
        ("<U1099511627776", "(1,)"),
    ] {
        let mut file = npy(&header(descr, shape), &[]);
        file.resize(128, 0);
        match parse(&file, p()) {
            Err(
                e @ (NpyError::Format { .. }
                | NpyError::TooLarge { .. }
                | NpyError::DataLength { .. }),
            ) => {
                assert!(e.to_string().starts_with("attack.npy"), "{e}");
            }
            other => panic!("{descr} {shape}: {other:?}"),
        }
    }
}

#[test]
fn non_finite_values_are_rejected_with_their_position() {
    let mut values = [0.5f32; 8];
    for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
        values[7] = bad;
        match parse(&npy(&header("<f4", "(2, 4)"), &f32_bytes(&values)), p()) {
            Err(NpyError::NonFinite {
                index, position, ..
            }) => assert_eq!((index, position), (7, vec![1, 3])),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A finite f8 beyond f32's range would become an infinity.
    let mut f8: Vec<u8> = 1.0f64.to_le_bytes().to_vec();
    f8.extend(1e300f64.to_le_bytes());
    match parse(&npy(&header("<f8", "(1, 2)"), &f8), p()) {
        Err(NpyError::NonFinite {
            index,
            position,
            value,
            ..
        }) => assert_eq!((index, position, value), (1, vec![0, 1], 1e300)),
        other => panic!("{other:?}"),
    }
}

/// One inf in one MFCC file of a split: the split is refused, naming it.
#[test]
fn a_split_with_an_infinite_coefficient_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let frames = nalgebra::DMatrix::from_element(3, 2, 0.25f32);
    speech::hw1p2::write_utterance(
        dir.path(),
        "a.npy",
        &frames,
        Some(&["AA", "B", "CH"]),
        Precision::Single,
    )
    .unwrap();
    let mut values = [0.25f32; 6];
    values[3] = f32::INFINITY;
    fs::write(
        dir.path().join("mfcc/b.npy"),
        npy(&header("<f4", "(3, 2)"), &f32_bytes(&values)),
    )
    .unwrap();
    match read_split(dir.path(), false) {
        Err(LayoutError::Npy(NpyError::NonFinite { path, position, .. })) => {
            assert!(path.ends_with("mfcc/b.npy"), "{path:?}");
            assert_eq!(position, [1, 1], "frame 1, coefficient 1");
        }
        other => panic!("{other:?}"),
    }
}

/// 'descr' inside another value used to be taken for the key.
#[test]
fn the_header_is_parsed_as_a_dict() {
    let data = [0u8; 8];
    let cases = [
        "{'note': \"'descr': '<f8', 'shape': (1,)\", 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
        "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
        "{'descr': '<f4', 'fortran_order': False}\n",
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing\n",
        "{'descr': '<f4', 'fortran_order': 'False', 'shape': (2,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,\n",
        "",
    ];
    for text in cases {
        let r = parse(&npy(text, &data), p());
        assert!(matches!(r, Err(NpyError::Format { .. })), "{text:?}: {r:?}");
    }
    // Keys in another order, double quotes, Python 2's 3L: all valid.
    let ok = "{\"shape\": (2L,), 'fortran_order': False, 'descr': '<f4'}   \n";
    assert!(parse(&npy(ok, &data), p()).is_ok());
}

/// A merely short file says so, rather than "format version ..., found 2".
#[test]
fn a_short_preamble_is_truncated_not_a_bad_version() {
    for (bytes, what_needed) in [
        (&b"\x93NUMPY\x02\x00\x10\x00"[..], 12),
        (b"\x93NUMPY\x01\x00\x10", 10),
        (b"\x93NUMPY\x01", 8),
        (b"\x93NUMPY\x01\x00\xff\x00{'descr'", 265),
    ] {
        match parse(bytes, p()) {
            Err(NpyError::Truncated { needed, found, .. }) => {
                assert_eq!((needed, found), (what_needed, bytes.len()))
            }
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    assert!(matches!(
        parse(b"\x93NUM", p()),
        Err(NpyError::Format { offset: 0, .. }) | Err(NpyError::Truncated { .. })
    ));
}

/// A surrogate or a code above 0x10FFFF in a phoneme used to be dropped.
#[test]
fn an_invalid_code_point_in_a_string_is_an_error() {
    for bad in [0xd800, 0x11_0000, u32::MAX] {
        let data = utf32(&[0x41, 0x41, 0x41, bad]);
        match parse(&npy(&header("<U2", "(2,)"), &data), p()) {
            Err(NpyError::InvalidChar {
                string,
                code,
                offset,
                ..
            }) => {
                assert_eq!((string, code), (1, bad));
                assert_eq!(offset, 10 + header("<U2", "(2,)").len() + 12);
            }
            other => panic!("{bad:#x}: {other:?}"),
        }
    }
    // Through the split reader, in a transcript.
    let dir = tempfile::tempdir().unwrap();
    one_frame_of_aa(dir.path());
    let codes = [
        '[' as u32, 'S' as u32, 'O' as u32, 'S' as u32, ']' as u32, 'A' as u32, 0xdfff, 0, 0, 0,
        '[' as u32, 'E' as u32, 'O' as u32, 'S' as u32, ']' as u32,
    ];
    fs::write(
        dir.path().join("transcript/a.npy"),
        npy(&header("<U5", "(3,)"), &utf32(&codes)),
    )
    .unwrap();
    assert!(matches!(
        read_split(dir.path(), true),
        Err(LayoutError::Npy(NpyError::InvalidChar { string: 1, .. }))
    ));
}

/// A valid utterance `a.npy` in `split`: one frame of two coefficients,
/// labelled AA.
fn one_frame_of_aa(split: &Path) {
    let frames = nalgebra::DMatrix::from_element(1, 2, 0.5f32);
    speech::hw1p2::write_utterance(split, "a.npy", &frames, Some(&["AA"]), Precision::Single)
        .unwrap();
}

#[test]
fn a_transcript_of_another_shape_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    one_frame_of_aa(dir.path());
    let codes: Vec<u32> = ["[SOS]", "AA   ", "[EOS]", "AA   "]
        .iter()
        .flat_map(|s| s.chars().map(|c| if c == ' ' { 0 } else { c as u32 }))
        .collect();
    fs::write(
        dir.path().join("transcript/a.npy"),
        npy(&header("<U5", "(2, 2)"), &utf32(&codes)),
    )
    .unwrap();
    assert!(matches!(
        read_split(dir.path(), true),
        Err(LayoutError::Invalid { .. })
    ));
}

#[test]
fn wav_attacks_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.wav");
    // An extensible header whose valid-bits field says 64 (or 0xffff): the
    // scale 1 << (bits - 1) used to overflow.
    for valid_bits in [33, 64, 0xffff] {
        let mut wav = float_wav(&[0.0; 4]);
        wav.format_tag = 0xfffe;
        wav.float_subformat = false;
        wav.valid_bits = valid_bits;
        fs::write(&path, wav.bytes()).unwrap();
        let e = read_wav(&path, 16_000).unwrap_err();
        assert_eq!(e.kind, WavProblem::SampleWidth { bits: valid_bits });
    }
    for bad in [f32::NAN, f32::INFINITY] {
        fs::write(&path, float_wav(&[0.0, 0.5, bad, 0.0]).bytes()).unwrap();
        let e = read_wav(&path, 16_000).unwrap_err();
        assert!(
            matches!(e.kind, WavProblem::NonFinite { sample: 2, .. }),
            "{e:?}"
        );
    }
    // A data chunk that declares 4 GiB in a 60-byte file.
    let mut wav = float_wav(&[0.0; 4]);
    wav.data_len = u32::MAX;
    fs::write(&path, wav.bytes()).unwrap();
    assert!(matches!(
        read_wav(&path, 16_000),
        Err(e) if e.kind == WavProblem::Unreadable
    ));
    fs::write(&path, float_wav(&[0.0; 4]).bytes()).unwrap();
    assert_eq!(read_wav(&path, 16_000).unwrap(), [0.0; 4]);
    assert!(matches!(
        read_wav(&path, 8_000),
        Err(e) if e.kind == WavProblem::SampleRate { expected: 8_000, found: 16_000 }
    ));
}

/// Makes a FIFO at `path`, or returns None (with a note) where mkfifo is
/// missing. A writer thread waits on it: if a reader opened it after all,
/// it would get a few bytes and an end of file, an error to assert on,
/// rather than hang the test.
fn fifo(path: &Path) -> Option<std::thread::JoinHandle<()>> {
    match std::process::Command::new("mkfifo").arg(path).status() {
        Ok(status) if status.success() => {}
        other => {
            eprintln!("skipped: mkfifo is not available ({other:?})");
            return None;
        }
    }
    let path = path.to_owned();
    Some(std::thread::spawn(move || {
        use std::io::Write;
        if let Ok(mut f) = fs::OpenOptions::new().write(true).open(&path) {
            let _ = f.write_all(b"\x93NUMPY");
        }
    }))
}

/// Releases the writer of a FIFO no reader opened.
fn release(path: &Path, writer: std::thread::JoinHandle<()>) {
    let _ = fs::read(path);
    writer.join().unwrap();
}

/// A FIFO named like a data file (`zz.npy` in `mfcc/`, a transcript, a
/// WAV) made the readers wait forever. Each refuses anything that is not a
/// regular file, naming it.
#[test]
fn a_fifo_named_like_a_data_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("train-clean-100");
    one_frame_of_aa(&split);
    let mfcc = split.join("mfcc/zz.npy");
    let Some(writer) = fifo(&mfcc) else { return };
    for transcripts in [false, true] {
        match read_split(&split, transcripts) {
            Err(LayoutError::Npy(NpyError::NotRegularFile { path, found })) => {
                assert_eq!(path, mfcc);
                assert!(found.contains("FIFO"), "{found}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        speech::npy::read(&mfcc),
        Err(NpyError::NotRegularFile { .. })
    ));
    release(&mfcc, writer);
    fs::remove_file(&mfcc).unwrap();

    // A transcript that is a FIFO.
    let transcript = split.join("transcript/a.npy");
    fs::remove_file(&transcript).unwrap();
    let writer = fifo(&transcript).unwrap();
    match read_split(&split, true) {
        Err(LayoutError::Npy(NpyError::NotRegularFile { path, .. })) => {
            assert_eq!(path, transcript)
        }
        other => panic!("{other:?}"),
    }
    release(&transcript, writer);
    fs::remove_file(&transcript).unwrap();

    // A folder named like an utterance.
    fs::create_dir(split.join("mfcc/b.npy")).unwrap();
    assert!(matches!(
        read_split(&split, false),
        Err(LayoutError::Npy(NpyError::NotRegularFile { .. }))
    ));
    fs::remove_dir(split.join("mfcc/b.npy")).unwrap();

    // A WAV file that is a FIFO; a link to a real one is read.
    let wav = dir.path().join("x.wav");
    let writer = fifo(&wav).unwrap();
    let e = read_wav(&wav, 16_000).unwrap_err();
    assert!(matches!(e.kind, WavProblem::NotRegularFile { .. }), "{e:?}");
    assert_eq!(e.path, wav);
    release(&wav, writer);
    #[cfg(unix)]
    {
        let real = dir.path().join("real.wav");
        fs::write(&real, float_wav(&[0.25; 4]).bytes()).unwrap();
        let link = dir.path().join("link.wav");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_wav(&link, 16_000).unwrap(), [0.25; 4]);
        let link = split.join("mfcc/link.npy");
        std::os::unix::fs::symlink(split.join("mfcc/a.npy"), &link).unwrap();
        assert_eq!(read_split(&split, false).unwrap().len(), 2);
    }
}

/// Finite but extreme float samples (1e20, 3e38) made the front end's
/// power spectrum overflow, and every frame came out alike. The reader
/// refuses samples beyond ±MAX_SAMPLE, and the front end refuses them and
/// anything non-finite inside it.
#[test]
fn extreme_samples_are_refused_and_the_front_end_stays_finite() {
    use speech::mfcc::{MAX_SAMPLE, MfccConfig, MfccError, mfcc};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loud.wav");
    for bad in [1e20f32, 3e38, -1.5e3] {
        let mut samples = vec![0.1f32; 1600];
        samples[700] = bad;
        fs::write(&path, float_wav(&samples).bytes()).unwrap();
        let e = read_wav(&path, 16_000).unwrap_err();
        assert_eq!(
            e.kind,
            WavProblem::OutOfRange {
                sample: 700,
                value: bad
            }
        );
        let config = MfccConfig::default();
        let filters = reference::features::mel_filter_bank(40, 512, 16_000.0).unwrap();
        match mfcc(&samples, &config, &filters) {
            Err(MfccError::Sample { index, value }) => assert_eq!((index, value), (700, bad)),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Loud but sane audio is read, and its MFCCs are finite.
    let mut samples: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.3).sin()).collect();
    samples[10] = MAX_SAMPLE;
    samples[11] = -MAX_SAMPLE;
    fs::write(&path, float_wav(&samples).bytes()).unwrap();
    let read = read_wav(&path, 16_000).unwrap();
    let config = MfccConfig::default();
    let filters = reference::features::mel_filter_bank(40, 512, 16_000.0).unwrap();
    let out = mfcc(&read, &config, &filters).unwrap();
    assert!(out.iter().all(|v| v.is_finite()));
    // A filter bank with huge or NaN weights: the mel energies overflow or
    // are NaN, which the floor before the log used to hide.
    for weight in [f32::NAN, f32::INFINITY] {
        let mut bad = filters.clone();
        bad[(3, 20)] = weight;
        match mfcc(&read, &config, &bad) {
            Err(MfccError::NonFinite { frame: 0, .. }) => {}
            other => panic!("{weight}: {other:?}"),
        }
    }
    // Settings that would divide by zero or underflow.
    for (frame_length, hop) in [(0, 160), (400, 0)] {
        let config = MfccConfig {
            frame_length,
            hop,
            ..MfccConfig::default()
        };
        assert!(matches!(
            mfcc(&read, &config, &filters),
            Err(MfccError::Config { .. })
        ));
    }
}

/// One utterance whose frames have another number of coefficients: the
/// error names that file, by its full path, and what it was compared with
/// (it blamed a correct file, by name only, and said "the others have 0").
#[test]
fn the_odd_utterance_is_named_by_its_path() {
    use speech::hw1p2::Reference;
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("train-clean-100");
    let write = |name: &str, d: usize| {
        let frames = nalgebra::DMatrix::from_element(2, d, 0.5f32);
        speech::hw1p2::write_utterance(&split, name, &frames, None, Precision::Single).unwrap();
    };
    // Most files have 28: the odd one is named whatever its place.
    for odd in ["a.npy", "b.npy", "c.npy"] {
        for name in ["a.npy", "b.npy", "c.npy"] {
            write(name, if name == odd { 13 } else { 28 });
        }
        match read_split(&split, false) {
            Err(LayoutError::Coefficients {
                path,
                found,
                expected,
                reference,
            }) => {
                assert_eq!(path, split.join("mfcc").join(odd));
                assert_eq!((found, expected), (13, 28));
                assert_eq!(
                    reference,
                    Reference::Majority {
                        agreeing: 2,
                        files: 3
                    }
                );
            }
            other => panic!("{odd}: {other:?}"),
        }
    }
    // No majority: compared with the first file, which is named.
    fs::remove_file(split.join("mfcc/c.npy")).unwrap();
    write("b.npy", 13);
    match read_split(&split, false) {
        Err(LayoutError::Coefficients {
            path, reference, ..
        }) => {
            assert_eq!(path, split.join("mfcc/b.npy"));
            assert_eq!(
                reference,
                Reference::First {
                    path: split.join("mfcc/a.npy")
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // The attacker's case: frames of 0 coefficients, refused in that file.
    write("b.npy", 0);
    write("c.npy", 28);
    match read_split(&split, false) {
        Err(LayoutError::Invalid { path, .. }) => assert_eq!(path, split.join("mfcc/b.npy")),
        other => panic!("{other:?}"),
    }
}

/// A finite f8 beyond f32's range was printed with all its 301 digits.
#[test]
fn a_huge_value_is_printed_short() {
    let mut f8: Vec<u8> = 1.0f64.to_le_bytes().to_vec();
    f8.extend(1e300f64.to_le_bytes());
    let e = parse(&npy(&header("<f8", "(1, 2)"), &f8), p()).unwrap_err();
    assert!(matches!(e, NpyError::NonFinite { value, .. } if value == 1e300));
    let text = e.to_string();
    assert!(text.len() < 120, "{text}");
}
