//! Tests for exercises/stage-6/features.rs. Run with `cargo test -p stage-6`.
//!
//! The filter banks and the normalised utterance are compared with values
//! computed outside the project, by librosa and numpy
//! (`fixtures/feature_fixtures.py`).

use course_support::check::{
    assert_exact, assert_exact_naming, assert_matrix_close_naming, to_f64,
};
use nalgebra::DMatrix;
use stage_6::Phone;
use stage_6::features::{cmvn, frame_labels, mel_filter_bank};

// A panic inside nalgebra says which of your lines called it.
course_support::name_library_panics!();

mod fixtures {
    include!("fixtures/feature_values.rs");
}

fn from_rows<const C: usize>(rows: &[[f64; C]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), C, |r, c| rows[r][c])
}

/// A filter bank built from `edges` (in Hz), the way the course's is: how
/// the classic mistakes are computed, with their own edges.
fn bank_from_hz_edges(edges: &[f64], bins: usize, bin_hz: f64) -> DMatrix<f64> {
    DMatrix::from_fn(edges.len() - 2, bins, |m, k| {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let f = k as f64 * bin_hz;
        if f <= left || f >= right {
            0.0
        } else if f <= centre {
            (f - left) / (centre - left)
        } else {
            (right - f) / (right - centre)
        }
    })
}

/// Classic mistakes in a filter bank of `filters` on an FFT of `fft_size`
/// at `rate`, each with the bank it makes.
fn mel_mistakes(filters: usize, fft_size: usize, rate: f64) -> Vec<(&'static str, DMatrix<f64>)> {
    let bins = fft_size / 2 + 1;
    let nyquist = rate / 2.0;
    let bin_hz = rate / fft_size as f64;
    let mel = |hz: f64| 2595.0 * (1.0 + hz / 700.0).log10();
    let hz = |mel: f64| 700.0 * (10f64.powf(mel / 2595.0) - 1.0);
    let even_mel = |count: usize, steps: usize| -> Vec<f64> {
        (0..count)
            .map(|i| hz(mel(nyquist) * i as f64 / steps as f64))
            .collect()
    };
    let mel_edges = even_mel(filters + 2, filters + 1);
    let hz_edges: Vec<f64> = (0..filters + 2)
        .map(|i| nyquist * i as f64 / (filters + 1) as f64)
        .collect();
    // A well-known tutorial rounds each edge down to a whole bin,
    // floor((fft_size + 1) · f / rate), and fills each filter bin by bin.
    let floored = |numerator: f64| -> DMatrix<f64> {
        let bin: Vec<usize> = mel_edges
            .iter()
            .map(|f| (numerator * f / rate).floor() as usize)
            .collect();
        let mut bank = DMatrix::zeros(filters, bins);
        for m in 1..=filters {
            let (left, centre, right) = (bin[m - 1], bin[m], bin[m + 1]);
            for k in left..centre.min(bins) {
                bank[(m - 1, k)] = (k - left) as f64 / (centre - left) as f64;
            }
            for k in centre..right.min(bins) {
                bank[(m - 1, k)] = (right - k) as f64 / (right - centre) as f64;
            }
        }
        bank
    };
    let bin_hz_of_bins = rate / 2.0 / bins as f64;
    vec![
        (
            "edges evenly spaced in hertz, not in mel",
            bank_from_hz_edges(&hz_edges, bins, bin_hz),
        ),
        (
            "edges rounded down to whole FFT bins (floor((fft_size + 1) f / rate), as in a \
             well-known tutorial): the narrow low filters lose their shape",
            floored(fft_size as f64 + 1.0),
        ),
        (
            "edges rounded down to whole FFT bins (floor(fft_size f / rate)): the narrow low \
             filters lose their shape",
            floored(fft_size as f64),
        ),
        (
            "bin k taken as k · (rate / 2) / (fft_size / 2 + 1) Hz: the bins are \
             rate / fft_size apart",
            bank_from_hz_edges(&mel_edges, bins, bin_hz_of_bins),
        ),
        (
            "filters + 1 edges in mel, one short, so the last filter never reaches the \
             Nyquist frequency",
            bank_from_hz_edges(
                &{
                    let mut e = even_mel(filters + 1, filters + 1);
                    e.push(nyquist);
                    e
                },
                bins,
                bin_hz,
            ),
        ),
    ]
}

fn bank(filters: usize, fft_size: usize, rate: f32) -> DMatrix<f64> {
    to_f64(
        &mel_filter_bank(filters, fft_size, rate).unwrap_or_else(|e| {
            panic!("mel_filter_bank({filters}, {fft_size}, {rate}): expected Ok, got the error {e}")
        }),
    )
}

#[test]
fn a_small_filter_bank_agrees_with_librosa() {
    let got = bank(6, 32, 8000.0);
    assert_exact("mel_filter_bank(6, 32, 8000) shape", (6, 17), got.shape());
    assert_matrix_close_naming(
        "mel_filter_bank(6 filters, FFT 32, 8 kHz) against librosa",
        &from_rows(&fixtures::MEL_SMALL),
        &got,
        1e-5,
        &mel_mistakes(6, 32, 8000.0),
    );
}

#[test]
fn the_course_filter_bank_agrees_with_librosa() {
    let mut expected = DMatrix::zeros(40, 257);
    for &(m, k, w) in &fixtures::MEL_DEFAULT_NONZERO {
        expected[(m, k)] = w;
    }
    let got = bank(40, 512, 16000.0);
    assert_exact(
        "mel_filter_bank(40, 512, 16000) shape",
        (40, 257),
        got.shape(),
    );
    assert_matrix_close_naming(
        "mel_filter_bank(40 filters, FFT 512, 16 kHz) against librosa",
        &expected,
        &got,
        1e-5,
        &mel_mistakes(40, 512, 16000.0),
    );
}

#[test]
fn the_smallest_filter_bank_is_one_filter_on_two_bins() {
    // An FFT of 2 samples has bins at 0 Hz and at the Nyquist frequency;
    // one filter spans them both and peaks in between, at neither bin
    // (librosa gives the same zeros).
    assert_matrix_close_naming(
        "mel_filter_bank(1 filter, FFT 2, 8 kHz)",
        &DMatrix::zeros(1, 2),
        &bank(1, 2, 8000.0),
        1e-6,
        &[],
    );
}

#[test]
fn filter_bank_refuses_what_has_no_filters() {
    for (filters, fft_size, rate) in [
        (0, 512, 16000.0),
        (40, 1, 16000.0),
        (40, 512, 0.0),
        (40, 512, f32::NAN),
    ] {
        let got = mel_filter_bank(filters, fft_size, rate);
        assert!(
            got.is_err(),
            "mel_filter_bank({filters}, {fft_size}, {rate}): expected an error, got a matrix of \
             shape {:?}",
            got.map(|m| m.shape())
        );
    }
}

fn phones(classes_and_ms: &[(usize, f32)]) -> Vec<Phone> {
    classes_and_ms
        .iter()
        .map(|&(class, milliseconds)| Phone {
            class,
            milliseconds,
        })
        .collect()
}

fn labels(phones: &[Phone], frames: usize) -> Vec<usize> {
    frame_labels(phones, frames, 10.0, 25.0).unwrap_or_else(|e| {
        panic!(
            "frame_labels of {} phones, {frames} frames: expected Ok, got {e}",
            phones.len()
        )
    })
}

/// Frame labels as a classic mistake computes them: `centre(f)` is where
/// frame f is looked up, `on_boundary_earlier` gives a centre on a boundary
/// to the earlier phone.
fn mistaken_labels(
    phones: &[Phone],
    frames: usize,
    centre: impl Fn(usize) -> f64,
    on_boundary_earlier: bool,
) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut t = 0.0f64;
    for p in phones {
        t += f64::from(p.milliseconds);
        ends.push((t, p.class));
    }
    (0..frames)
        .map(|f| {
            let c = centre(f);
            ends.iter()
                .find(|(end, _)| {
                    if on_boundary_earlier {
                        c <= *end
                    } else {
                        c < *end
                    }
                })
                .map_or(phones[phones.len() - 1].class, |(_, class)| *class)
        })
        .collect()
}

fn label_mistakes(phones: &[Phone], frames: usize) -> Vec<(&'static str, Vec<usize>)> {
    vec![
        (
            "looking up the frame's start (f · hop) instead of its centre",
            mistaken_labels(phones, frames, |f| f as f64 * 10.0, false),
        ),
        (
            "frames one window apart (f · window + window / 2): they are one hop apart",
            mistaken_labels(phones, frames, |f| f as f64 * 25.0 + 12.5, false),
        ),
        (
            "a centre on a boundary going to the earlier phone (<= where < belongs)",
            mistaken_labels(phones, frames, |f| f as f64 * 10.0 + 12.5, true),
        ),
    ]
}

#[test]
fn frames_take_the_phone_at_their_centre() {
    // Silence (0) for 0-20 ms, class 1 for 20-42.5 ms, class 2 for 42.5-60,
    // then silence. Frame centres: 12.5, 22.5, 32.5, 42.5 (on a boundary:
    // the later phone), 52.5, 62.5, 72.5, and 82.5 and 92.5 past the end.
    let p = phones(&[(0, 20.0), (1, 22.5), (2, 17.5), (0, 15.0)]);
    assert_exact_naming(
        "frame_labels of [silence 20 ms, 1: 22.5 ms, 2: 17.5 ms, silence 15 ms], 9 frames",
        vec![0, 1, 1, 2, 2, 0, 0, 0, 0],
        labels(&p, 9),
        &label_mistakes(&p, 9),
    );
}

#[test]
fn frame_labels_hold_over_ten_minutes() {
    // Ten minutes of phones of 21.7 and 33.3 ms (neither exact in binary),
    // 60,000 frames: the boundaries are sums of 18,000 durations.
    let p: Vec<Phone> = (0..18_000)
        .map(|i| Phone {
            class: i % 40,
            milliseconds: if i % 3 == 0 { 21.7 } else { 33.3 },
        })
        .collect();
    // One pass over the frames and the phones' ends, which both grow.
    let by_ends = |ends: &[f64]| {
        let mut phone = 0;
        (0..60_000)
            .map(|f| {
                let centre = f as f64 * 10.0 + 12.5;
                while phone + 1 < p.len() && centre >= ends[phone] {
                    phone += 1;
                }
                p[phone].class
            })
            .collect::<Vec<_>>()
    };
    let exact = by_ends(
        &p.iter()
            .scan(0.0f64, |t, phone| {
                *t += f64::from(phone.milliseconds);
                Some(*t)
            })
            .collect::<Vec<_>>(),
    );
    let summed_in_f32 = by_ends(
        &p.iter()
            .scan(0.0f32, |t, phone| {
                *t += phone.milliseconds;
                Some(f64::from(*t))
            })
            .collect::<Vec<_>>(),
    );
    let got = labels(&p, 60_000);
    let wrong = exact.iter().zip(&got).filter(|(e, g)| e != g).count();
    if wrong == 0 {
        return;
    }
    let first = exact
        .iter()
        .zip(&got)
        .position(|(e, g)| e != g)
        .unwrap_or(0);
    let named = if got == summed_in_f32 {
        "; this matches the phone boundaries summed in f32 (after ten minutes an f32 sum of \
         milliseconds is off by tens of milliseconds)"
    } else {
        ""
    };
    panic!(
        "frame_labels of 18,000 phones over 60,000 frames: {wrong} frames wrong, the first at \
         frame {first} (expected class {}, got {}){named}",
        exact[first], got[first]
    );
}

#[test]
fn frame_labels_refuse_bad_phones() {
    for (case, p) in [
        ("no phones", vec![]),
        ("a negative duration", phones(&[(0, 20.0), (1, -5.0)])),
        ("a NaN duration", phones(&[(0, f32::NAN)])),
        ("an infinite duration", phones(&[(0, f32::INFINITY)])),
    ] {
        let got = frame_labels(&p, 3, 10.0, 25.0);
        assert!(
            got.is_err(),
            "frame_labels of {case}: expected an error, got {got:?}"
        );
    }
}

fn test_utterance() -> DMatrix<f32> {
    // The same formula as feature_fixtures.py's `utterance`.
    DMatrix::from_fn(12, 4, |t, j| {
        if j == 2 {
            0.1
        } else {
            let (t, j) = (t as f64, j as f64);
            (40.0 * (j + 1.0) + 7.0 * (0.37 * t * (j + 1.0) + j).sin()) as f32
        }
    })
}

/// CMVN with two passes in f32 and a deviation of 0 guarded: the classic
/// mistake of statistics summed in single precision.
fn cmvn_in_f32(frames: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = frames.clone();
    let n = out.nrows() as f32;
    for mut column in out.column_iter_mut() {
        let mean = column.sum() / n;
        let std = (column.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
        column.apply(|v| *v = if std > 0.0 { (*v - mean) / std } else { 0.0 });
    }
    out
}

#[test]
fn cmvn_agrees_with_numpy() {
    let input = test_utterance();
    let mut got = input.clone();
    cmvn(&mut got);
    let x = to_f64(&input);
    // Each column standardised; `sample` divides by n - 1, and `guarded`
    // sends a constant column to 0 (else 0 / 0 = NaN).
    let standardise = |m: &DMatrix<f64>, sample: bool, guarded: bool| {
        let n = m.nrows() as f64;
        let mut out = m.clone();
        for mut column in out.column_iter_mut() {
            let mean = column.sum() / n;
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / if sample { n - 1.0 } else { n };
            column.apply(|v| {
                *v = if guarded && var == 0.0 {
                    0.0
                } else {
                    (*v - mean) / var.sqrt()
                }
            });
        }
        out
    };
    let rows_instead = standardise(&x.transpose(), false, true).transpose();
    let centred_only = {
        let mut out = x.clone();
        for mut column in out.column_iter_mut() {
            let mean = column.mean();
            column.add_scalar_mut(-mean);
        }
        out
    };
    // A constant coefficient's f32 mean rounds, so it is divided by a tiny
    // deviation instead of becoming 0.
    let in_f32 = to_f64(&cmvn_in_f32(&input));
    let whole = {
        let n = x.len() as f64;
        let mean = x.sum() / n;
        let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        x.map(|v| (v - mean) / std)
    };
    assert_matrix_close_naming(
        "cmvn of a 12-frame utterance of 4 coefficients (the third constant) against numpy",
        &from_rows(&fixtures::CMVN_UTTERANCE),
        &to_f64(&got),
        1e-5,
        &[
            (
                "each frame (row) normalised instead of each coefficient (column)",
                rows_instead,
            ),
            (
                "a division by a deviation of 0 (the constant coefficient must become 0)",
                standardise(&x, false, false),
            ),
            (
                "the sample deviation, divided by n - 1",
                standardise(&x, true, true),
            ),
            (
                "the mean removed, the deviation left as it was",
                centred_only,
            ),
            (
                "one mean and deviation over the whole utterance, not one per coefficient",
                whole,
            ),
            (
                "the statistics summed in f32 (the constant coefficient's mean rounds, and \
                 0.1 minus it, divided by a tiny deviation, is about ±1)",
                in_f32,
            ),
        ],
    );
}

#[test]
fn cmvn_of_tiny_utterances_is_finite() {
    for (case, mut m) in [
        (
            "one frame",
            DMatrix::from_row_slice(1, 3, &[1.0f32, -2.0, 3.5]),
        ),
        ("no frames", DMatrix::zeros(0, 3)),
        (
            "two equal frames",
            DMatrix::from_row_slice(2, 2, &[0.3f32, 7.0, 0.3, 7.0]),
        ),
    ] {
        let shape = m.shape();
        cmvn(&mut m);
        assert_exact(&format!("cmvn of {case}: shape"), shape, m.shape());
        assert!(
            m.iter().all(|&v| v == 0.0),
            "cmvn of {case}: every coefficient is constant over the frames, so expected all \
             zeros, got {m}"
        );
    }
}

#[test]
fn cmvn_gives_each_coefficient_mean_0_and_deviation_1() {
    // Coefficients on very different scales, far from 0, as MFCCs are.
    let mut m = DMatrix::from_fn(300, 6, |t, j| {
        let scale = 10f32.powi(j as i32 - 2);
        1e3 * scale + scale * ((t * (j + 3)) as f32 * 0.7).sin()
    });
    let in_f32 = cmvn_in_f32(&m);
    cmvn(&mut m);
    let named = if (&m - &in_f32).abs().max() < 1e-6 {
        "; this matches the statistics summed in f32 (each value is about 1000 times its \
         column's spread from 0, so f32 sums lose the digits that matter: sum in f64)"
    } else {
        ""
    };
    for (j, column) in m.column_iter().enumerate() {
        let n = column.len() as f64;
        let mean = column.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let std = (column
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        assert!(
            mean.abs() < 1e-4 && (std - 1.0).abs() < 1e-4,
            "cmvn: coefficient {j} of a 300-frame utterance has mean {mean:e} and deviation \
             {std} after normalisation (expected 0 and 1){named}"
        );
    }
}
