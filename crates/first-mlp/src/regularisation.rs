//! Stage 7 in the pipelines: the `--augment` choices, the seeds of dropout's
//! masks and of the distortions, the training digits distorted afresh every
//! epoch, and the teaching code's epoch for a network with dropout or batch
//! normalisation.

use std::sync::atomic::{AtomicU64, Ordering};

use clap::ValueEnum;
use course_support::augmentation::Augmentation;
use course_support::batches::{BatchLoader, ExampleSource};
use course_support::optim::Optimizer;
use course_support::regularise::Network;
use course_support::shape::ShapeError;
use course_support::stats::EpochStats;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use reference::training::count_correct;
use serde::{Deserialize, Serialize};

use crate::code::{Augment, RegularisedStep};

/// Mixed into the run's seed for dropout's masks and for the distortions,
/// so that they draw otherwise than the shuffles and the weights.
const DROPOUT_SEED: u64 = 0xd409_0f00;
const AUGMENT_SEED: u64 = 0xa06_3e47;

/// How far apart two examples' draws start in the distortions' generator:
/// far more words than one image's distortion draws (4, then 2 per pixel).
const WORDS_PER_EXAMPLE: u128 = 1 << 24;

/// Random distortions of the training digits (`--augment`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AugmentArg {
    /// The digits as they are.
    #[default]
    None,
    /// Small random rotations, scalings and shifts.
    Affine,
    /// The same, then an elastic distortion (Simard et al., 2003).
    Elastic,
}

impl AugmentArg {
    /// The distortions' settings; None for none.
    pub fn settings(self) -> Option<Augmentation> {
        match self {
            Self::None => None,
            Self::Affine => Some(Augmentation::AFFINE),
            Self::Elastic => Some(Augmentation::ELASTIC),
        }
    }
}

/// The generator of dropout's masks in `epoch`: its own stream of the
/// run's seed, so a resumed run draws the masks an uninterrupted one would.
pub fn dropout_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ DROPOUT_SEED);
    rng.set_stream(epoch as u64);
    rng
}

/// Training images, each distorted as it is copied into a batch, anew every
/// epoch: example `i` of epoch `e` is distorted by draws from their own
/// place in a seeded generator, whichever thread copies it and in whatever
/// order, so a run is reproducible and a resumed run sees the same images.
pub struct AugmentedImages {
    /// One image per column, row-major pixels, already standardised.
    images: DMatrix<f32>,
    rows: usize,
    columns: usize,
    settings: Augmentation,
    /// What a pixel outside the image is: a blank pixel, standardised.
    background: f32,
    seed: u64,
    epoch: AtomicU64,
    augment: Augment,
}

impl AugmentedImages {
    /// `images` (examples, rows · columns), standardised so that a blank
    /// pixel is `background`.
    pub fn new(
        images: &DMatrix<f32>,
        (rows, columns): (usize, usize),
        settings: Augmentation,
        background: f32,
        seed: u64,
        augment: Augment,
    ) -> Result<Self, ShapeError> {
        ShapeError::check(
            "augmented images (one row of rows x columns pixels per image)",
            (images.nrows(), rows * columns),
            images.shape(),
        )?;
        Ok(Self {
            images: images.transpose(),
            rows,
            columns,
            settings,
            background,
            seed,
            epoch: AtomicU64::new(0),
            augment,
        })
    }

    /// The epoch whose distortions the next copies draw.
    pub fn set_epoch(&self, epoch: usize) {
        self.epoch.store(epoch as u64, Ordering::Relaxed);
    }
}

impl ExampleSource for AugmentedImages {
    fn len(&self) -> usize {
        self.images.ncols()
    }

    fn features(&self) -> usize {
        self.images.nrows()
    }

    fn write(&self, index: usize, out: &mut [f32]) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ AUGMENT_SEED);
        rng.set_stream(self.epoch.load(Ordering::Relaxed));
        rng.set_word_pos(index as u128 * WORDS_PER_EXAMPLE);
        let image = self.images.column(index);
        let distorted = (self.augment)(
            image.as_slice(),
            self.rows,
            self.columns,
            &self.settings,
            self.background,
            &mut rng,
        );
        out.copy_from_slice(&distorted);
    }
}

/// Stage 5's `train_epoch` for a network with dropout or batch
/// normalisation: one stage 7 `train_step` per batch, in training mode,
/// with dropout's masks drawn from `rng`. Batch normalisation needs two
/// examples or more: with it, a last batch of one example is skipped (as
/// PyTorch's `drop_last` would), and counted in no figure.
pub fn train_epoch(
    step: RegularisedStep,
    network: &mut Network,
    optimizer: &mut Optimizer,
    loader: &mut BatchLoader,
    rng: &mut ChaCha8Rng,
    on_batch: &mut dyn FnMut(&EpochStats),
) -> Result<EpochStats, ShapeError> {
    let mut total_loss = 0.0f64;
    let mut correct = 0usize;
    let mut stats = EpochStats::default();
    let needs_two = !network.batch_norms.is_empty();
    loader.start_epoch();
    while let Some((inputs, labels)) = loader.next_batch() {
        if needs_two && labels.len() < 2 {
            continue;
        }
        let result = step(network, optimizer, inputs, labels, rng)?;
        total_loss += f64::from(result.loss) * labels.len() as f64;
        correct += count_correct(&result.output, labels);
        stats.examples += labels.len();
        stats.loss = (total_loss / stats.examples as f64) as f32;
        stats.accuracy = correct as f32 / stats.examples as f32;
        on_batch(&stats);
    }
    if stats.examples == 0 && !loader.is_empty() {
        return Err(ShapeError::value(
            "batch normalisation's training batches",
            "at least one batch of 2 examples or more",
            "only batches of 1",
        ));
    }
    Ok(stats)
}
