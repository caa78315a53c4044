//! Speech in the HW1P2 layout for the pipeline: the three splits read and
//! normalised per utterance (CMVN), served as windows of 2K + 1 frames
//! (stage 6's `ContextFrames`) built on the fly by the batch loader. The
//! training frames may be warped anew each epoch (VTLP on the cepstra).

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use nalgebra::DMatrix;

use anyhow::{Context, Result, bail};
use course_support::batches::{BatchLoader, ExampleSource, Order};
use engine::BlockCopy;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reference::context::ContextFrames;

use crate::code::{Cmvn, Whose};
use speech::cepstral_warp::cepstral_warp;
use speech::hw1p2::{Corpus, Utterance};
use speech::mfcc::MfccConfig;

/// Mixed into the run's seed for the warps' draws.
const VTLP_SEED: u64 = 0x7e1f_0a5d;

/// Stage 6's windows as examples for a `BatchLoader`, cut by the reference
/// or by your stage 6.
enum Windows {
    Reference(ContextFrames),
    Yours(yours::context::ContextFrames),
}

impl Windows {
    fn new(frames: ContextFrames, whose: Whose) -> Self {
        match whose {
            Whose::Reference => Self::Reference(frames),
            Whose::Yours => Self::Yours(yours::context::ContextFrames {
                frames: frames.frames,
                frame_size: frames.frame_size,
                context: frames.context,
            }),
        }
    }
}

impl ExampleSource for Windows {
    fn len(&self) -> usize {
        match self {
            Self::Reference(frames) => frames.len(),
            Self::Yours(frames) => frames.len(),
        }
    }
    fn features(&self) -> usize {
        match self {
            Self::Reference(frames) => frames.input_size(),
            Self::Yours(frames) => frames.input_size(),
        }
    }
    fn write(&self, index: usize, out: &mut [f32]) {
        match self {
            Self::Reference(frames) => frames
                .window(index, out)
                .expect("the loader asks only for frames that exist"),
            Self::Yours(frames) => frames.window(index, out).unwrap_or_else(|error| {
                panic!("your stage 6's ContextFrames::window({index}) refused a frame that exists: {error}")
            }),
        }
    }
}

/// A split as windows and labels, utterances concatenated in sorted order,
/// each normalised on its own by `cmvn` (stage 6's) if given.
pub fn windows(
    utterances: &[Utterance],
    context: usize,
    cmvn: Option<Cmvn>,
) -> Result<(ContextFrames, Vec<usize>)> {
    let d = common_width(utterances)?;
    let frames = concatenated(
        utterances.iter().map(|u| u.frames.clone()),
        d,
        context,
        cmvn,
    );
    Ok((frames, labels(utterances)))
}

/// The coefficients per frame that every utterance has.
fn common_width(utterances: &[Utterance]) -> Result<usize> {
    let d = utterances.first().map_or(0, |u| u.frames.ncols());
    match utterances.iter().find(|u| u.frames.ncols() != d) {
        Some(u) => bail!(
            "{}: {} coefficients per frame, the others have {d}",
            u.name,
            u.frames.ncols()
        ),
        None => Ok(d),
    }
}

/// Every frame's label, utterance after utterance.
fn labels(utterances: &[Utterance]) -> Vec<usize> {
    utterances
        .iter()
        .flat_map(|u| u.labels.iter().flatten())
        .copied()
        .collect()
}

/// Utterances of `d` coefficients per frame, each normalised by `cmvn` if
/// given, one after another as stage 6's frames.
fn concatenated(
    utterances: impl Iterator<Item = DMatrix<f32>>,
    d: usize,
    context: usize,
    cmvn: Option<Cmvn>,
) -> ContextFrames {
    let mut frames = Vec::new();
    for mut m in utterances {
        if let Some(cmvn) = cmvn {
            cmvn(&mut m);
        }
        frames.extend(m.transpose().iter());
    }
    ContextFrames {
        frames,
        frame_size: d,
        context,
    }
}

/// The training split's windows with VTLP drawn anew each epoch (Jaitly &
/// Hinton 2013, on the cepstra: `speech::cepstral_warp`): before each
/// epoch, every utterance's frames are warped by a factor drawn uniformly
/// from [1 − range, 1 + range], cut to the first coefficients and
/// normalised, and stage 6 cuts the windows from them. The draws depend on
/// the seed and the epoch only, so a resumed run sees the same ones.
pub struct WarpedWindows {
    /// Every stored coefficient: a warp mixes them all into the first.
    utterances: Vec<DMatrix<f32>>,
    split: SplitSettings,
    vtlp: Vtlp,
    /// The coefficients per frame once cut.
    frame_size: usize,
    /// The current epoch's windows.
    current: RwLock<Windows>,
}

/// How a split's frames become windows.
#[derive(Clone, Copy)]
pub struct SplitSettings {
    /// K, the frames of context on each side.
    pub context: usize,
    /// The first coefficients kept (0 for all).
    pub coefficients: u16,
    /// The per-utterance normalisation, if any.
    pub cmvn: Option<Cmvn>,
}

/// VTLP's settings for the training split.
#[derive(Clone, Copy, Debug)]
pub struct Vtlp {
    /// Warp factors are drawn from [1 − range, 1 + range].
    pub range: f32,
    pub seed: u64,
    /// Whose stage 6 cuts the windows.
    pub whose: Whose,
}

impl WarpedWindows {
    /// The utterances of a split (as read, every coefficient), unwarped until
    /// the first [`WarpedWindows::set_epoch`]. Refuses frames the warp
    /// cannot map (more coefficients than the front end's 40 mel filters,
    /// or utterances of different widths) and a range outside [0, 1).
    pub fn new(utterances: Vec<Utterance>, split: SplitSettings, vtlp: Vtlp) -> Result<Self> {
        if !(0.0..1.0).contains(&vtlp.range) {
            bail!("a VTLP range of {}: expected a range in [0, 1)", vtlp.range);
        }
        let stored = common_width(&utterances)?;
        // Checked once here: every later warp has the same shape.
        cepstral_warp(1.0, &front_end(stored))
            .with_context(|| format!("VTLP on frames of {stored} coefficients"))?;
        let utterances: Vec<DMatrix<f32>> = utterances.into_iter().map(|u| u.frames).collect();
        let unwarped =
            warped_windows(&utterances, &vec![1.0; utterances.len()], split, vtlp.whose)?;
        Ok(Self {
            utterances,
            split,
            vtlp,
            frame_size: kept_width(stored, split.coefficients),
            current: RwLock::new(unwarped),
        })
    }

    /// The coefficients per frame of the windows, once cut.
    pub fn frame_size(&self) -> usize {
        self.frame_size
    }

    /// Each utterance's warp factor in `epoch`.
    fn warps(&self, epoch: usize) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.vtlp.seed ^ VTLP_SEED);
        rng.set_stream(epoch as u64);
        let range = self.vtlp.range;
        (0..self.utterances.len())
            .map(|_| 1.0 + range * (2.0 * rng.random::<f32>() - 1.0))
            .collect()
    }

    /// Warps the frames anew for `epoch`.
    pub fn set_epoch(&self, epoch: usize) -> Result<()> {
        let windows = warped_windows(
            &self.utterances,
            &self.warps(epoch),
            self.split,
            self.vtlp.whose,
        )?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = windows;
        Ok(())
    }
}

/// The windows of `utterances` (frames of every stored coefficient, all
/// as wide), each warped by its factor in `warps`, then cut and
/// normalised as `split` says, for `whose` stage 6.
fn warped_windows(
    utterances: &[DMatrix<f32>],
    warps: &[f32],
    split: SplitSettings,
    whose: Whose,
) -> Result<Windows> {
    Ok(Windows::new(
        warped_frames(utterances, warps, split)?,
        whose,
    ))
}

/// Stage 6's frames of `utterances` (every stored coefficient, all as
/// wide), each warped by its factor in `warps`, then cut and normalised as
/// `split` says.
pub fn warped_frames(
    utterances: &[DMatrix<f32>],
    warps: &[f32],
    split: SplitSettings,
) -> Result<ContextFrames> {
    let stored = utterances.first().map_or(0, |u| u.ncols());
    if let Some(i) = utterances.iter().position(|u| u.ncols() != stored) {
        bail!(
            "utterance {i}: {} coefficients per frame, the first has {stored}",
            utterances[i].ncols()
        );
    }
    if warps.len() != utterances.len() {
        bail!(
            "{} warps for {} utterances: expected one each",
            warps.len(),
            utterances.len()
        );
    }
    let config = front_end(stored);
    let mut warped = Vec::with_capacity(utterances.len());
    for (frames, &warp) in utterances.iter().zip(warps) {
        // The map for 1 is the identity up to rounding: skipped, so that
        // unwarped frames are exactly the frames read.
        let frames = if warp == 1.0 {
            frames.clone()
        } else {
            frames * cepstral_warp(warp, &config)?.transpose()
        };
        warped.push(first_coefficients(frames, split.coefficients));
    }
    let d = kept_width(stored, split.coefficients);
    Ok(concatenated(
        warped.into_iter(),
        d,
        split.context,
        split.cmvn,
    ))
}

/// Whether frames of `stored` coefficients can be warped: the front end's
/// 40 mel filters give at most 40.
pub fn warpable(stored: usize) -> bool {
    cepstral_warp(1.0, &front_end(stored)).is_ok()
}

/// A split of `corpus` as read, with transcripts: each utterance's frames
/// of every stored coefficient, and every frame's label.
pub fn read_stored(corpus: &Corpus, split: &str) -> Result<(Vec<DMatrix<f32>>, Vec<usize>)> {
    let utterances = read_split(corpus, split, true)?;
    let labels = labels(&utterances);
    Ok((utterances.into_iter().map(|u| u.frames).collect(), labels))
}

/// The front end that made frames of `stored` coefficients: this project's
/// (stage 6's filter bank), which the bundled corpus was made with.
fn front_end(stored: usize) -> MfccConfig {
    MfccConfig {
        coefficients: stored,
        ..MfccConfig::default()
    }
}

impl ExampleSource for WarpedWindows {
    fn len(&self) -> usize {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
    fn features(&self) -> usize {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .features()
    }
    fn write(&self, index: usize, out: &mut [f32]) {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .write(index, out);
    }
}

/// Batches of windows (labelled by `labels`) cut by `whose` stage 6, in
/// `order` (shuffled with `seed`).
pub fn loader(
    frames: ContextFrames,
    labels: Vec<usize>,
    batch_size: usize,
    order: Order,
    seed: u64,
    whose: Whose,
) -> Result<BatchLoader> {
    source_loader(
        Arc::new(Windows::new(frames, whose)),
        labels,
        (batch_size, order, seed),
    )
}

/// Batches of `source`'s examples (labelled by `labels`), in `order`
/// (shuffled with `seed`).
pub fn source_loader(
    source: Arc<dyn ExampleSource>,
    labels: Vec<usize>,
    (batch_size, order, seed): (usize, Order, u64),
) -> Result<BatchLoader> {
    Ok(
        BatchLoader::from_source(source, labels, batch_size, order, seed)?
            .with_copier(Arc::new(BlockCopy)),
    )
}

/// The first `coefficients` columns of `frames`: all of them for 0, or
/// when the frames have no more than that.
pub fn first_coefficients(frames: DMatrix<f32>, coefficients: u16) -> DMatrix<f32> {
    match kept_width(frames.ncols(), coefficients) {
        n if n == frames.ncols() => frames,
        n => frames.columns(0, n).into_owned(),
    }
}

/// The coefficients that `first_coefficients` keeps of `stored`.
fn kept_width(stored: usize, coefficients: u16) -> usize {
    match usize::from(coefficients) {
        0 => stored,
        n => n.min(stored),
    }
}

/// A split as windows, and each window's phoneme (empty when unlabelled).
#[derive(Clone)]
pub struct Split {
    pub frames: ContextFrames,
    pub labels: Vec<usize>,
    /// Each utterance's frames, in order: where decoding starts afresh.
    pub lengths: Vec<usize>,
}

/// The training split: its windows, and each window's phoneme.
pub struct TrainSplit {
    pub windows: TrainWindows,
    pub labels: Vec<usize>,
}

/// The training windows: the same every epoch, or warped anew each epoch
/// (VTLP).
pub enum TrainWindows {
    Fixed(ContextFrames),
    Warped(Arc<WarpedWindows>),
}

impl TrainWindows {
    /// The frames (one window each) and the coefficients per frame.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Self::Fixed(frames) => (frames.len(), frames.frame_size),
            Self::Warped(warped) => (warped.len(), warped.frame_size()),
        }
    }
}

/// A split of `corpus`, with `split` and the corpus named in errors.
fn read_split(corpus: &Corpus, split: &str, transcripts: bool) -> Result<Vec<Utterance>> {
    corpus
        .read_split(split, transcripts)
        .with_context(|| format!("reading the {split} split of {}", corpus.path().display()))
}

/// Opens the corpus at `data`: a folder in the HW1P2 layout, or an
/// xz-compressed tar of one.
pub fn open_corpus(data: &Path) -> Result<Corpus> {
    Corpus::open(data).with_context(|| format!("opening the speech corpus {}", data.display()))
}

/// The splits of a corpus.
pub struct SpeechData {
    pub train: TrainSplit,
    pub dev: Split,
    pub test: Split,
    /// Whether test-clean has transcripts.
    pub test_has_labels: bool,
    /// test-other, with its transcripts, when the folder has one: in the
    /// bundled corpus, a synthesiser family never trained on.
    pub other: Option<Split>,
}

impl SpeechData {
    /// Reads train-clean-100, dev-clean, test-clean and (if there)
    /// test-other from `corpus` as `settings` say; with `vtlp`, the
    /// training windows are warped anew each epoch.
    pub fn load(corpus: &Corpus, settings: SplitSettings, vtlp: Option<Vtlp>) -> Result<Self> {
        let SplitSettings {
            context,
            coefficients,
            cmvn,
        } = settings;
        let read_all = |split: &str, transcripts: bool| read_split(corpus, split, transcripts);
        let first = |mut utterances: Vec<Utterance>| {
            for u in &mut utterances {
                u.frames = first_coefficients(std::mem::take(&mut u.frames), coefficients);
            }
            utterances
        };
        let read = |split: &str, transcripts: bool| read_all(split, transcripts).map(first);
        let split = |utterances: &[Utterance]| -> Result<Split> {
            let (frames, labels) = windows(utterances, context, cmvn)?;
            let lengths = utterances.iter().map(|u| u.frames.nrows()).collect();
            Ok(Split {
                frames,
                labels,
                lengths,
            })
        };
        let train = read_all("train-clean-100", true)?;
        let train = match vtlp {
            Some(vtlp) => TrainSplit {
                labels: labels(&train),
                windows: TrainWindows::Warped(Arc::new(
                    WarpedWindows::new(train, settings, vtlp).with_context(|| {
                        format!("the train-clean-100 split of {}", corpus.path().display())
                    })?,
                )),
            },
            None => {
                let Split { frames, labels, .. } = split(&first(train))?;
                TrainSplit {
                    windows: TrainWindows::Fixed(frames),
                    labels,
                }
            }
        };
        let dev = read("dev-clean", true)?;
        let test_has_labels = corpus.has_transcripts("test-clean");
        let test = read("test-clean", test_has_labels)?;
        let other = if corpus.has_transcripts("test-other") {
            Some(split(&read("test-other", true)?)?)
        } else {
            None
        };
        Ok(Self {
            train,
            dev: split(&dev)?,
            test: split(&test)?,
            test_has_labels,
            other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three utterances of 28 coefficients with a spectrum-like shape
    /// (falling coefficients) and some movement from frame to frame.
    fn utterances() -> Vec<Utterance> {
        (0..3)
            .map(|u| Utterance {
                name: format!("u{u}.npy"),
                frames: DMatrix::from_fn(20 + 5 * u, 28, |f, k| {
                    (1.0 + (f * (k + 1) + u) as f32).sin() * 4.0 / (1.0 + k as f32)
                }),
                labels: Some(vec![u; 20 + 5 * u]),
            })
            .collect()
    }

    fn every_window(source: &dyn ExampleSource) -> Vec<f32> {
        let mut out = vec![0.0; source.len() * source.features()];
        for (i, window) in out.chunks_mut(source.features()).enumerate() {
            source.write(i, window);
        }
        out
    }

    const SETTINGS: SplitSettings = SplitSettings {
        context: 2,
        coefficients: 13,
        cmvn: Some(reference::features::cmvn),
    };

    fn vtlp(range: f32, seed: u64) -> Vtlp {
        Vtlp {
            range,
            seed,
            whose: Whose::Reference,
        }
    }

    /// The split's windows as the pipeline makes them without VTLP.
    fn unwarped() -> Vec<f32> {
        every_window(&Windows::new(
            unwarped_frames(SETTINGS.coefficients),
            Whose::Reference,
        ))
    }

    /// The split's frames as the pipeline cuts them without VTLP, keeping
    /// the first `coefficients`.
    fn unwarped_frames(coefficients: u16) -> ContextFrames {
        let cut: Vec<Utterance> = utterances()
            .into_iter()
            .map(|u| Utterance {
                frames: first_coefficients(u.frames, coefficients),
                ..u
            })
            .collect();
        windows(&cut, SETTINGS.context, SETTINGS.cmvn).unwrap().0
    }

    fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn warped_windows_start_unwarped_and_a_range_of_0_keeps_them_so() {
        let expected = unwarped();
        let warped = WarpedWindows::new(utterances(), SETTINGS, vtlp(0.2, 1)).unwrap();
        assert_eq!((warped.len(), warped.features()), (75, 5 * 13));
        assert!(largest_difference(&every_window(&warped), &expected) < 1e-4);
        let still = WarpedWindows::new(utterances(), SETTINGS, vtlp(0.0, 1)).unwrap();
        still.set_epoch(4).unwrap();
        assert!(largest_difference(&every_window(&still), &expected) < 1e-4);
    }

    #[test]
    fn each_epoch_draws_its_own_warps_from_the_seed() {
        let expected = unwarped();
        let warped = WarpedWindows::new(utterances(), SETTINGS, vtlp(0.2, 1)).unwrap();
        let mut epochs = Vec::new();
        for epoch in 1..=3 {
            warped.set_epoch(epoch).unwrap();
            epochs.push(every_window(&warped));
        }
        for (e, windows) in epochs.iter().enumerate() {
            assert!(
                largest_difference(windows, &expected) > 0.05,
                "epoch {} left the frames as they were",
                e + 1
            );
            assert!(windows.iter().all(|v| v.is_finite()));
        }
        assert!(largest_difference(&epochs[0], &epochs[1]) > 0.05);
        // The same seed and epoch: the same frames, whatever came before.
        let again = WarpedWindows::new(utterances(), SETTINGS, vtlp(0.2, 1)).unwrap();
        again.set_epoch(2).unwrap();
        assert_eq!(every_window(&again), epochs[1]);
        let other_seed = WarpedWindows::new(utterances(), SETTINGS, vtlp(0.2, 2)).unwrap();
        other_seed.set_epoch(2).unwrap();
        assert!(largest_difference(&every_window(&other_seed), &epochs[1]) > 0.05);
    }

    #[test]
    fn warps_spread_over_the_range_on_both_sides_of_one() {
        let many: Vec<Utterance> = (0..400)
            .map(|u| Utterance {
                name: format!("u{u}.npy"),
                frames: DMatrix::from_element(3, 28, 0.1),
                labels: Some(vec![0; 3]),
            })
            .collect();
        let warped = WarpedWindows::new(many, SETTINGS, vtlp(0.12, 5)).unwrap();
        let warps = warped.warps(3);
        assert!(warps.iter().all(|w| (0.88..=1.12).contains(w)), "{warps:?}");
        let below = warps.iter().filter(|&&w| w < 1.0).count();
        assert!((160..=240).contains(&below), "{below} of 400 below 1");
        let (low, high) = warps
            .iter()
            .fold((f32::MAX, f32::MIN), |(l, h), &w| (l.min(w), h.max(w)));
        assert!(low < 0.89 && high > 1.11, "warps from {low} to {high}");
        assert_ne!(warps, warped.warps(4), "each epoch draws its own");
    }

    #[test]
    fn ranges_and_frames_the_warp_cannot_take_are_refused() {
        for range in [1.0, -0.1, f32::NAN] {
            assert!(WarpedWindows::new(utterances(), SETTINGS, vtlp(range, 0)).is_err());
        }
        let wide: Vec<Utterance> = vec![Utterance {
            name: "wide.npy".into(),
            frames: DMatrix::from_element(10, 41, 0.5),
            labels: Some(vec![0; 10]),
        }];
        assert!(WarpedWindows::new(wide, SETTINGS, vtlp(0.1, 0)).is_err());
        // Utterances of different widths: an error, not a panic in the
        // product with the map.
        let mut mixed = utterances();
        mixed[1].frames = DMatrix::from_element(25, 27, 0.5);
        assert!(WarpedWindows::new(mixed, SETTINGS, vtlp(0.1, 0)).is_err());
    }

    // VTLN's frames: unwarped, exactly the pipeline's frames; warped, each
    // utterance by its own factor, as the training warps do; refused,
    // rather than a panic, where the shapes disagree.
    #[test]
    fn warped_frames_are_the_splits_frames_each_utterance_warped_by_its_factor() {
        let stored: Vec<DMatrix<f32>> = utterances().into_iter().map(|u| u.frames).collect();
        let plain = warped_frames(&stored, &[1.0; 3], SETTINGS).unwrap();
        let expected = unwarped_frames(SETTINGS.coefficients);
        assert_eq!(plain.frames, expected.frames);
        assert_eq!((plain.frame_size, plain.context), (13, 2));
        let warps = [0.9, 1.0, 0.8];
        let warped = warped_frames(&stored, &warps, SETTINGS).unwrap();
        let lengths = [20, 25, 30];
        let mut start = 0;
        for (u, (&warp, &length)) in warps.iter().zip(&lengths).enumerate() {
            let alone = warped_frames(&stored[u..=u], &[warp], SETTINGS).unwrap();
            let span = start * 13..(start + length) * 13;
            assert_eq!(
                warped.frames[span.clone()],
                alone.frames[..],
                "utterance {u}"
            );
            let moved = largest_difference(&warped.frames[span.clone()], &plain.frames[span]);
            assert_eq!(
                moved > 0.05,
                warp != 1.0,
                "utterance {u}, warp {warp}: {moved}"
            );
            start += length;
        }
        assert!(warped_frames(&stored, &[0.9; 2], SETTINGS).is_err());
        let mut mixed = stored.clone();
        mixed[2] = DMatrix::from_element(30, 27, 0.5);
        assert!(warped_frames(&mixed, &[0.9; 3], SETTINGS).is_err());
        assert!(warpable(28) && warpable(40) && !warpable(41));
    }

    #[test]
    fn the_training_windows_shape_is_that_of_the_frames_they_cut() {
        for (coefficients, kept) in [(13, 13), (0, 28), (40, 28)] {
            let settings = SplitSettings {
                coefficients,
                ..SETTINGS
            };
            let warped =
                Arc::new(WarpedWindows::new(utterances(), settings, vtlp(0.1, 0)).unwrap());
            warped.set_epoch(1).unwrap();
            let shape = TrainWindows::Warped(warped.clone()).shape();
            assert_eq!(shape, (75, kept), "--coefficients {coefficients}");
            assert_eq!(warped.features(), 5 * kept, "--coefficients {coefficients}");
            let fixed = TrainWindows::Fixed(unwarped_frames(coefficients));
            assert_eq!(fixed.shape(), shape);
        }
    }

    #[test]
    fn the_first_coefficients_are_kept_in_order() {
        // Frame f, coefficient k holds 10f + k.
        let frames = DMatrix::from_fn(3, 5, |f, k| (10 * f + k) as f32);
        let kept = first_coefficients(frames.clone(), 2);
        assert_eq!(kept.shape(), (3, 2));
        assert_eq!(
            kept.row(2).iter().copied().collect::<Vec<_>>(),
            [20.0, 21.0]
        );
        for all in [0, 5, 6] {
            assert_eq!(first_coefficients(frames.clone(), all), frames);
        }
    }
}
