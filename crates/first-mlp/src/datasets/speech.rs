//! Speech in the HW1P2 layout for the pipeline: the three splits read and
//! normalised per utterance (CMVN), served as windows of 2K + 1 frames
//! (stage 6's `ContextFrames`) built on the fly by the batch loader.

use std::path::Path;
use std::sync::Arc;

use nalgebra::DMatrix;

use anyhow::{Context, Result, bail};
use course_support::batches::{BatchLoader, ExampleSource, Order};
use engine::BlockCopy;
use reference::context::ContextFrames;

use crate::code::{Cmvn, Whose};
use speech::hw1p2::{self, Utterance};

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
    let d = utterances.first().map_or(0, |u| u.frames.ncols());
    let mut frames = Vec::new();
    let mut labels = Vec::new();
    for u in utterances {
        if u.frames.ncols() != d {
            bail!(
                "{}: {} coefficients per frame, the others have {d}",
                u.name,
                u.frames.ncols()
            );
        }
        let mut m = u.frames.clone();
        if let Some(cmvn) = cmvn {
            cmvn(&mut m);
        }
        frames.extend(m.transpose().iter());
        labels.extend(u.labels.iter().flatten());
    }
    Ok((
        ContextFrames {
            frames,
            frame_size: d,
            context,
        },
        labels,
    ))
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
    let source = Arc::new(Windows::new(frames, whose));
    Ok(
        BatchLoader::from_source(source, labels, batch_size, order, seed)?
            .with_copier(Arc::new(BlockCopy)),
    )
}

/// The first `coefficients` columns of `frames`: all of them for 0, or
/// when the frames have no more than that.
pub fn first_coefficients(frames: DMatrix<f32>, coefficients: u16) -> DMatrix<f32> {
    match usize::from(coefficients) {
        n if n == 0 || n >= frames.ncols() => frames,
        n => frames.columns(0, n).into_owned(),
    }
}

/// A split as windows, and each window's phoneme (empty when unlabelled).
pub struct Split {
    pub frames: ContextFrames,
    pub labels: Vec<usize>,
}

/// The splits of a folder.
pub struct SpeechData {
    pub train: Split,
    pub dev: Split,
    pub test: Split,
    /// Whether test-clean has transcripts.
    pub test_has_labels: bool,
    /// test-other, with its transcripts, when the folder has one: in the
    /// bundled corpus, a synthesiser family never trained on.
    pub other: Option<Split>,
}

impl SpeechData {
    /// Reads train-clean-100, dev-clean, test-clean and (if there) test-other from `dir`, with
    /// `context` frames on each side, normalised per utterance by `cmvn` if
    /// given.
    pub fn load(dir: &Path, context: usize, coefficients: u16, cmvn: Option<Cmvn>) -> Result<Self> {
        let read = |split: &str, transcripts: bool| -> Result<Vec<Utterance>> {
            let mut utterances = hw1p2::read_split(&dir.join(split), transcripts)
                .with_context(|| format!("reading the {split} split of {}", dir.display()))?;
            for u in &mut utterances {
                u.frames = first_coefficients(std::mem::take(&mut u.frames), coefficients);
            }
            Ok(utterances)
        };
        let train = read("train-clean-100", true)?;
        let dev = read("dev-clean", true)?;
        let test_has_labels = dir.join("test-clean").join("transcript").is_dir();
        let test = read("test-clean", test_has_labels)?;
        let split = |utterances: &[Utterance]| -> Result<Split> {
            let (frames, labels) = windows(utterances, context, cmvn)?;
            Ok(Split { frames, labels })
        };
        let other = if dir.join("test-other").join("transcript").is_dir() {
            Some(split(&read("test-other", true)?)?)
        } else {
            None
        };
        Ok(Self {
            train: split(&train)?,
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
