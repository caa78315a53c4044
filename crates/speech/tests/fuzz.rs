//! Structure-aware fuzzing on stable: proptest builds `.npy` headers (keys
//! in any order, odd values, dtypes, shapes near 2⁶⁴), data of the right,
//! nearly right or wrong length, HW1P2 split folders and WAV headers with
//! fields near their limits. Each reader must return Ok or a clean error,
//! never panic, and what it accepts must be consistent.

mod common;

use std::fs;
use std::path::Path;

use common::{Wav, float_wav, npy};
use proptest::prelude::*;
use speech::hw1p2::{Precision, read_split};
use speech::mfcc::{MAX_SAMPLE, MfccConfig, mfcc, read_wav};
use speech::npy::{Array, parse};

fn dimension() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u64..6).prop_map(|d| d.to_string()),
        1 => Just("28".to_owned()),
        1 => prop::sample::select(vec![
            "4294967296", "1099511627776", "2305843009213693952", "4611686018427387904",
            "9223372036854775808", "18446744073709551615", "18446744073709551616", "-1", "3L", "x",
        ]).prop_map(str::to_owned),
        1 => any::<u64>().prop_map(|d| d.to_string()),
    ]
}

fn shape() -> impl Strategy<Value = (String, Option<usize>)> {
    prop::collection::vec(dimension(), 0..4).prop_map(|dims| {
        let count = dims
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d.parse::<usize>().ok()?));
        let text = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        (text, count)
    })
}

fn descr() -> impl Strategy<Value = (String, usize)> {
    prop_oneof![
        3 => Just(("<f4".to_owned(), 4)),
        2 => Just(("<f8".to_owned(), 8)),
        2 => Just(("<f2".to_owned(), 2)),
        2 => (0usize..8).prop_map(|w| (format!("<U{w}"), 4 * w)),
        1 => prop::sample::select(vec![
            "<U4611686018427387904", "<U1099511627776", "<U", "<Ux", "|O", ">f4", "<i8", "'<f4'",
        ]).prop_map(|d| (d.to_owned(), 1)),
    ]
}

#[derive(Debug, Clone)]
struct NpyCase {
    descr: (String, usize),
    shape: (String, Option<usize>),
    order: &'static str,
    layout: usize,
    data_delta: i64,
    version: u8,
    cut: Option<usize>,
    flip: Option<(usize, u8)>,
    specials: Vec<(usize, u32)>,
}

fn npy_case() -> impl Strategy<Value = NpyCase> {
    (
        descr(),
        shape(),
        prop::sample::select(vec!["False", "False", "False", "True", "'False'", "0"]),
        0usize..6,
        prop_oneof![4 => Just(0i64), 2 => -9i64..9, 1 => -2000i64..2000],
        prop_oneof![4 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => any::<u8>()],
        prop::option::weighted(0.15, any::<usize>()),
        prop::option::weighted(0.15, (any::<usize>(), 1u8..=255)),
        prop::collection::vec((any::<usize>(), any::<u32>()), 0..3),
    )
        .prop_map(
            |(descr, shape, order, layout, data_delta, version, cut, flip, specials)| NpyCase {
                descr,
                shape,
                order,
                layout,
                data_delta,
                version,
                cut,
                flip,
                specials,
            },
        )
}

fn build_npy(case: &NpyCase) -> Vec<u8> {
    let (d, s, o) = (&case.descr.0, &case.shape.0, case.order);
    let header = match case.layout {
        0 => format!("{{'descr': '{d}', 'fortran_order': {o}, 'shape': {s}, }}\n"),
        1 => format!("{{\"shape\": {s}, \"fortran_order\": {o}, \"descr\": \"{d}\"}}   \n"),
        2 => format!(
            "{{'x': \"'descr': '{d}'\", 'descr': '{d}', 'fortran_order': {o}, 'shape': {s}}}\n"
        ),
        3 => format!("{{'descr': '{d}', 'shape': {s}, 'shape': {s}, 'fortran_order': {o}}}\n"),
        4 => format!("{{'descr': '{d}', 'fortran_order': {o}, 'shape': {s}"),
        _ => format!("{{'descr': [('a', '{d}')], 'fortran_order': {o}, 'shape': {s}, }}\n"),
    };
    let declared = case
        .shape
        .1
        .and_then(|n| n.checked_mul(case.descr.1))
        .unwrap_or(usize::MAX);
    let len = (declared.min(1 << 14) as i64 + case.data_delta).clamp(0, 1 << 14) as usize;
    let mut data: Vec<u8> = (0..len).map(|i| [0x41, 0, 0, 0][i % 4]).collect();
    // A few chosen 4-byte values: NaN, infinities, surrogates, huge codes.
    for &(at, value) in &case.specials {
        if data.len() >= 4 {
            let at = (at % (data.len() / 4)) * 4;
            data[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
    let mut file = if case.version == 1 {
        npy(&header, &data)
    } else {
        let mut out = b"\x93NUMPY".to_vec();
        out.extend([case.version, 0]);
        out.extend((header.len() as u32).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(&data);
        out
    };
    if let Some((at, mask)) = case.flip {
        let at = at % file.len();
        file[at] ^= mask;
    }
    if let Some(cut) = case.cut {
        file.truncate(cut % (file.len() + 1));
    }
    file
}

fn consistent(array: &Array) -> bool {
    match array {
        Array::Float { shape, data } => {
            shape.iter().product::<usize>() == data.len() && data.iter().all(|v| v.is_finite())
        }
        Array::Text { shape, data } => shape.iter().product::<usize>() == data.len(),
    }
}

fn wav_case() -> impl Strategy<Value = Wav> {
    let small_or_edge16 = prop_oneof![
        3 => prop::sample::select(vec![0u16, 1, 2, 4, 8, 16, 24, 32, 64]),
        1 => any::<u16>(),
    ];
    (
        prop::sample::select(vec![1u16, 3, 0xfffe, 0xfffe, 2]),
        prop_oneof![4 => Just(1u16), 1 => 0u16..4, 1 => any::<u16>()],
        prop_oneof![4 => Just(16_000u32), 1 => any::<u32>()],
        small_or_edge16.clone(),
        small_or_edge16.clone(),
        small_or_edge16,
        any::<bool>(),
        prop_oneof![2 => Just(None), 1 => Just(Some(u32::MAX)), 1 => any::<u32>().prop_map(Some)],
        prop::collection::vec(any::<u8>(), 0..256),
    )
        .prop_map(
            |(
                format_tag,
                channels,
                rate,
                block_align,
                bits,
                valid_bits,
                float_subformat,
                data_len,
                data,
            )| Wav {
                format_tag,
                channels,
                rate,
                block_align,
                bits,
                valid_bits,
                float_subformat,
                data_len: data_len.unwrap_or(data.len() as u32),
                data,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_npy_reader_never_panics_and_accepts_only_consistent_arrays(case in npy_case()) {
        let file = build_npy(&case);
        if let Ok(array) = parse(&file, Path::new("fuzz.npy")) {
            prop_assert!(consistent(&array), "{:?}", array);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// A split folder of generated MFCC and transcript files.
    #[test]
    fn the_split_reader_never_panics(mfcc in npy_case(), transcript in npy_case(), labels in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("mfcc")).unwrap();
        fs::create_dir_all(dir.path().join("transcript")).unwrap();
        fs::write(dir.path().join("mfcc/a.npy"), build_npy(&mfcc)).unwrap();
        fs::write(dir.path().join("transcript/a.npy"), build_npy(&transcript)).unwrap();
        if let Ok(split) = read_split(dir.path(), labels) {
            for u in split {
                if let Some(l) = u.labels {
                    prop_assert_eq!(l.len(), u.frames.nrows());
                }
                prop_assert!(u.frames.iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn the_wav_reader_never_panics(wav in wav_case()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        fs::write(&path, wav.bytes()).unwrap();
        if let Ok(samples) = read_wav(&path, 16_000) {
            prop_assert!(samples.iter().all(|v| v.is_finite()));
            prop_assert!(samples.len() <= wav.data.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Float WAVs with samples anywhere in f32 (extremes, NaN, infinities):
    /// what the reader accepts is within ±MAX_SAMPLE, and the front end
    /// then gives finite MFCCs, or an error, never a non-finite value.
    #[test]
    fn extreme_float_samples_never_give_non_finite_features(
        samples in prop::collection::vec(prop_oneof![
            4 => -1.0f32..1.0,
            1 => any::<f32>(),
            1 => prop::sample::select(vec![1e20f32, -3e38, 3.4e38, 1e3, 1.0001e3, 1e16, f32::MIN_POSITIVE]),
        ], 0..1200),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        fs::write(&path, float_wav(&samples).bytes()).unwrap();
        let config = MfccConfig::default();
        let filters = reference::features::mel_filter_bank(40, 512, 16_000.0).unwrap();
        if let Ok(read) = read_wav(&path, 16_000) {
            prop_assert!(read.iter().all(|v| v.abs() <= MAX_SAMPLE));
        }
        if let Ok(out) = mfcc(&samples, &config, &filters) {
            prop_assert!(out.iter().all(|v| v.is_finite()));
        }
    }

    /// Split folders of several utterances of random widths: what is
    /// accepted has one number of coefficients, at least 1.
    #[test]
    fn an_accepted_split_has_one_width(widths in prop::collection::vec(0usize..4, 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        for (i, &d) in widths.iter().enumerate() {
            let frames = nalgebra::DMatrix::from_element(2, d, 0.5f32);
            speech::hw1p2::write_utterance(dir.path(), &format!("{i}.npy"), &frames, None, Precision::Single).unwrap();
        }
        match read_split(dir.path(), false) {
            Ok(split) => {
                prop_assert!(split.iter().all(|u| u.frames.ncols() == widths[0] && widths[0] > 0));
            }
            Err(e) => prop_assert!(widths.iter().any(|&d| d != widths[0] || d == 0), "{e}"),
        }
    }
}
