//! A structure-aware fuzzer for the IDX reader, on stable: proptest builds
//! headers with type codes, dimension counts and sizes near the limits
//! (0, 1, 2³¹, 2³²−1, products that wrap u64), data that is exact, short or
//! long, raw or gzip (one or several members), cut anywhere or flipped. The
//! reader must return Ok or a clean error, never panic, and what it accepts
//! must be consistent.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use mnist::idx;
use proptest::prelude::*;

fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..4,
        2 => 0u32..40,
        1 => Just(28u32),
        1 => prop::sample::select(vec![
            255, 256, 1 << 16, (1 << 30) + 1, (1 << 31) - 1, 1 << 31, u32::MAX - 1, u32::MAX,
        ]),
        1 => any::<u32>(),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    type_code: u8,
    dims: Vec<u32>,
    /// Data bytes relative to the declared size (clamped to small files).
    data_delta: i64,
    gzip_members: usize,
    cut: Option<usize>,
    flip: Option<(usize, u8)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![8 => Just(8u8), 1 => Just(0x0d), 1 => any::<u8>()],
        prop::collection::vec(dimension(), 0..5),
        prop_oneof![4 => Just(0i64), 2 => -3i64..3, 1 => -5000i64..5000],
        0usize..4,
        prop::option::weighted(0.2, any::<usize>()),
        prop::option::weighted(0.2, (any::<usize>(), 1u8..=255)),
    )
        .prop_map(
            |(type_code, dims, data_delta, gzip_members, cut, flip)| Case {
                type_code,
                dims,
                data_delta,
                gzip_members,
                cut,
                flip,
            },
        )
}

fn build(case: &Case) -> Vec<u8> {
    let mut raw = vec![0, 0, case.type_code, case.dims.len() as u8];
    for d in &case.dims {
        raw.extend(d.to_be_bytes());
    }
    let declared = case
        .dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(u64::from(d)))
        .unwrap_or(u64::MAX);
    // Never build more than 64 KiB: big declarations get a short file.
    let len = (declared.min(1 << 16) as i64 + case.data_delta).clamp(0, 1 << 16);
    raw.extend((0..len).map(|i| (i % 10) as u8));
    let mut file = if case.gzip_members == 0 {
        raw
    } else {
        let chunk = raw.len().div_ceil(case.gzip_members).max(1);
        raw.chunks(chunk)
            .flat_map(|part| {
                let mut e = GzEncoder::new(Vec::new(), Compression::fast());
                e.write_all(part).unwrap();
                e.finish().unwrap()
            })
            .collect()
    };
    if let Some((at, mask)) = case.flip
        && !file.is_empty()
    {
        let at = at % file.len();
        file[at] ^= mask;
    }
    if let Some(cut) = case.cut {
        file.truncate(cut % (file.len() + 1));
    }
    file
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_idx_reader_never_panics_and_accepts_only_consistent_files(case in case()) {
        let file = build(&case);
        let p = Path::new("fuzz.idx");
        let Ok(bytes) = idx::read_from(file.as_slice(), p) else { return Ok(()) };
        // What is accepted is a header and exactly its data.
        prop_assert!(bytes.len() >= 4);
        if let Ok(images) = idx::parse_images(&bytes, p) {
            prop_assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
            if images.count > 0 {
                prop_assert_eq!(images.image(images.count - 1).len(), images.rows * images.cols);
            }
            prop_assert_eq!(images.take(images.count / 2).count, images.count / 2);
        }
        if let Ok(labels) = idx::parse_labels(&bytes, p) {
            prop_assert_eq!(labels.len() + 8, bytes.len());
        }
        // The same bytes parsed without the stream reader agree.
        let direct = idx::parse_images(&file, p);
        if case.gzip_members == 0 {
            prop_assert_eq!(direct.is_ok(), idx::parse_images(&bytes, p).is_ok());
        }
    }

    /// The slice parsers on arbitrary headers, with no streaming in front.
    #[test]
    fn the_slice_parsers_never_panic(case in case()) {
        let mut c = case;
        c.gzip_members = 0;
        let file = build(&c);
        let p = Path::new("fuzz.idx");
        let _ = idx::parse_images(&file, p);
        let _ = idx::parse_labels(&file, p);
        let _ = idx::decompress(file, p);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// gzip(1) ignores zero bytes after the last member: padding changes
    /// nothing; other bytes after it are refused as trailing data.
    #[test]
    fn zero_padding_after_gzip_changes_nothing_and_garbage_is_refused(
        case in case(),
        pad in prop_oneof![Just(0usize), 1usize..600],
        garbage in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let mut c = case;
        c.gzip_members = c.gzip_members.max(1);
        c.cut = None;
        c.flip = None;
        let file = build(&c);
        let p = Path::new("fuzz.gz");
        let plain = idx::read_from(file.as_slice(), p).ok();
        let mut padded = file.clone();
        padded.resize(file.len() + pad, 0);
        prop_assert_eq!(idx::read_from(padded.as_slice(), p).ok(), plain.clone());
        // 0x1f right after a member starts another one.
        if plain.is_some() && garbage[0] != 0 && (pad > 0 || garbage[0] != 0x1f) {
            padded.extend(&garbage);
            let r = idx::read_from(padded.as_slice(), p);
            prop_assert!(
                matches!(r, Err(mnist::MnistError::GzipTrailingData { .. })),
                "{:?}", r
            );
        }
    }
}
