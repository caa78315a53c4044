//! Makes the bundled speech corpus in the HW1P2 layout: public-domain
//! sentences spoken by 26 voices from four synthesiser families, each of
//! which gives the exact timing of every phone it speaks; training
//! utterances perturbed on the waveform on request (speed, vocal tract
//! length, room, noise); turned into MFCCs by the project's own front end,
//! labelled frame by frame, rounded to a grid, stored in half precision and
//! packed into one xz-compressed tar. Needs the
//! synthesisers (see `data/speech-corpus/make_corpus.sh`); nothing else in
//! the project does.

mod espeak;
mod phones;
mod plan;
mod storage;
mod voices;

use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use course_support::speech::Phone;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use speech::augment::{AugmentSettings, Perturbation};
use speech::hw1p2::{self, PHONEMES};
use speech::mfcc::{MfccConfig, mfcc};
use speech::packed;
use speech::resample::resample;

use crate::code::Code;

pub use phones::PhoneSet;
pub use plan::{HELD_OUT_FAMILY, HELD_OUT_VOICE, Job, SPLITS, TRAINING_VOICES, plan};
pub use speech::hw1p2::Precision;

pub use speech::hw1p2::PACKED;
pub use voices::{Family, Synthesiser, VOICES, Voice};

/// The class of a phone of the MBROLA voices, as espeak-ng names it.
pub fn class_of(phone: &str) -> Option<&'static str> {
    PhoneSet::Sampa.class_of(phone)
}

/// (phone, milliseconds) from espeak-ng's `--pho` output.
pub fn parse_pho(text: &str) -> Result<Vec<(String, f32)>> {
    let mut phones = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let (Some(phone), Some(ms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if phone.starts_with(';') {
            continue;
        }
        let ms: f32 = ms
            .parse()
            .with_context(|| format!("pho line {}: duration {ms:?}", n + 1))?;
        phones.push((phone.to_owned(), ms));
    }
    Ok(phones)
}

/// The class of each 10 ms frame: the phone sounding at the frame's centre
/// (12.5 ms into its 25 ms), or the last phone past the end, by `code`'s
/// stage 6 `frame_labels`.
pub fn frame_labels(
    code: &Code,
    set: PhoneSet,
    phones: &[(String, f32)],
    frames: usize,
) -> Result<Vec<&'static str>> {
    let phones = phones
        .iter()
        .map(|(phone, ms)| {
            let class = set
                .class_of(phone)
                .and_then(hw1p2::phoneme_index)
                .with_context(|| format!("phone {phone:?} has no class in {}", set.name()))?;
            Ok(Phone {
                class,
                milliseconds: *ms,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let classes = code.call("labelling the frames", || {
        (code.frame_labels)(&phones, frames, 10.0, 25.0)
    })?;
    classes
        .iter()
        .map(|&class| {
            PHONEMES
                .get(class)
                .copied()
                .with_context(|| format!("frame_labels gave class {class}, not one of the 40"))
        })
        .collect()
}

/// What to make: `speech-corpus`'s flags.
#[derive(Clone, Debug)]
pub struct CorpusSettings {
    pub sentences: PathBuf,
    pub out: PathBuf,
    /// How many voices speak each sentence (2 for the bundled corpus).
    pub voices_per_sentence: usize,
    /// Perturb the training utterances on the waveform.
    pub augment: bool,
    /// How the MFCCs are stored.
    pub precision: Precision,
    pub seed: u64,
}

/// Time spent in each part of making the corpus.
#[derive(Default)]
struct Costs {
    synthesis: Duration,
    augmentation: Duration,
    front_end: Duration,
    audio_seconds: f64,
}

/// Speaks the sentences as [`plan`] says and writes the four splits (with
/// their transcripts; the MFCCs rounded as [`storage`] says), packed into
/// [`PACKED`], and `utterances.tsv`, which records each utterance's voice,
/// family and perturbation. Both are made beside `out`'s and moved into
/// place at the end, so a failure leaves the old corpus.
pub fn make(settings: &CorpusSettings, code: &Code) -> Result<()> {
    let path = &settings.sentences;
    let text = String::from_utf8(crate::files::read_regular(path)?)
        .with_context(|| format!("reading {}: not UTF-8 text", path.display()))?;
    let sentences: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if sentences.is_empty() {
        bail!("{} holds no sentences", path.display());
    }
    let jobs = plan(sentences.len(), settings.voices_per_sentence);
    for voice in VOICES.iter().filter(|v| jobs.iter().any(|j| j.voice == *v)) {
        voice.check_installed()?;
    }
    fs::create_dir_all(&settings.out)
        .with_context(|| format!("creating {}", settings.out.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".speech-corpus-")
        .tempdir_in(&settings.out)?;
    let scratch = tempfile::tempdir()?;
    let config = MfccConfig::default();
    let filters = code.call("building the mel filter bank", || {
        (code.mel_filter_bank)(
            config.mel_filters,
            config.fft_size,
            config.sample_rate as f32,
        )
    })?;
    let augment = AugmentSettings::default();
    let mut manifest =
        String::from("split\tfile\tvoice\tfamily\tsentence\tspeed\twarp\tsnr_db\trt60_s\n");
    let mut seen = [false; 40];
    let mut costs = Costs::default();
    let mut made = Vec::with_capacity(jobs.len());
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} utterances, {elapsed} ({eta} left) {msg}",
        )
        .expect("a valid template"),
    );
    for job in &jobs {
        bar.set_message(format!("{} {}", job.split, job.file_name()));
        let started = Instant::now();
        let spoken = job
            .voice
            .speak(sentences[job.sentence], scratch.path())
            .with_context(|| format!("{}: {}", job.voice.name, sentences[job.sentence]))?;
        let mut samples = resample(&spoken.samples, spoken.sample_rate, config.sample_rate)?;
        let mut phones = spoken.phones;
        costs.synthesis += started.elapsed();
        costs.audio_seconds += samples.len() as f64 / f64::from(config.sample_rate);
        let perturbation = if job.augmented && settings.augment {
            let mut rng = ChaCha8Rng::seed_from_u64(job_seed(settings.seed, job));
            Perturbation::draw(&augment, &mut rng)
        } else {
            Perturbation::NONE
        };
        let started = Instant::now();
        samples = perturbation.apply(&samples, config.sample_rate)?;
        let stretch = perturbation.duration_factor(config.sample_rate) as f32;
        for (_, ms) in &mut phones {
            *ms *= stretch;
        }
        costs.augmentation += started.elapsed();
        let started = Instant::now();
        let frames = mfcc(&samples, &config, &filters)?;
        costs.front_end += started.elapsed();
        let labels = frame_labels(code, job.voice.phones, &phones, frames.nrows())
            .with_context(|| format!("{}: {}", job.voice.name, sentences[job.sentence]))?;
        if job.split == "train-clean-100" {
            for l in &labels {
                seen[hw1p2::phoneme_index(l).expect("a class")] = true;
            }
        }
        let name = job.file_name();
        let optional = |v: Option<f32>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        manifest.push_str(&format!(
            "{}\t{name}\t{}\t{:?}\t{}\t{:.2}\t{:.3}\t{}\t{}\n",
            job.split,
            job.voice.name,
            job.voice.family,
            job.sentence,
            perturbation.speed,
            perturbation.warp,
            optional(perturbation.snr_db),
            optional(perturbation.rt60),
        ));
        made.push((job.split, name, frames, labels));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let missing: Vec<&str> = PHONEMES
        .iter()
        .zip(seen)
        .filter(|(_, s)| !s)
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        bail!("the training split never uses {missing:?}: add sentences that do");
    }
    let steps = storage::steps(
        made.iter()
            .filter(|(split, ..)| *split == "train-clean-100")
            .map(|(_, _, frames, _)| frames),
    );
    for (split, name, frames, labels) in &mut made {
        storage::round_to_steps(frames, &steps);
        hw1p2::write_utterance(
            &staging.path().join(*split),
            name,
            frames,
            Some(labels),
            settings.precision,
        )?;
    }
    fs::write(staging.path().join("utterances.tsv"), manifest)?;
    let started = Instant::now();
    packed::pack(staging.path(), &SPLITS, &staging.path().join(PACKED))?;
    let packing = started.elapsed();
    // A corpus this generator made before the splits were packed kept
    // them as folders (and an utterances.tsv); anything else is left alone.
    let made_here = settings.out.join("utterances.tsv").is_file();
    for file in [PACKED, "utterances.tsv"] {
        fs::rename(staging.path().join(file), settings.out.join(file))
            .with_context(|| format!("moving the new {file} into {}", settings.out.display()))?;
    }
    for split in SPLITS.into_iter().filter(|_| made_here) {
        let old = settings.out.join(split);
        if old.is_dir() {
            fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} utterances, {:.0} s of speech, in {}: synthesis {:.1} s, augmentation {:.1} s, \
         MFCC front end {:.1} s, packing {:.1} s",
        jobs.len(),
        costs.audio_seconds,
        settings.out.display(),
        costs.synthesis.as_secs_f64(),
        costs.augmentation.as_secs_f64(),
        costs.front_end.as_secs_f64(),
        packing.as_secs_f64(),
    )?;
    Ok(())
}

/// Each training utterance's own generator, so that one utterance's
/// perturbation does not depend on which others are made.
fn job_seed(seed: u64, job: &Job) -> u64 {
    let voice = VOICES
        .iter()
        .position(|v| v == job.voice)
        .expect("a voice of VOICES") as u64;
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (voice << 32) ^ job.sentence as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_take_the_phone_at_their_centre() {
        // Silence for 0-20 ms, AA for 20-45 ms, then silence. The frame centres
        // 12.5, 22.5, 32.5, 42.5 and 52.5 ms fall in silence, AA, AA, AA, silence.
        let phones = parse_pho("_\t20\nA\t25\t 0 120 100 110\n_\t100\n").unwrap();
        assert_eq!(
            phones,
            vec![
                ("_".to_owned(), 20.0),
                ("A".to_owned(), 25.0),
                ("_".to_owned(), 100.0)
            ]
        );
        assert_eq!(
            frame_labels(&Code::REFERENCE, PhoneSet::Sampa, &phones, 5).unwrap(),
            ["[SIL]", "AA", "AA", "AA", "[SIL]"]
        );
        let e = frame_labels(
            &Code::REFERENCE,
            PhoneSet::Radio,
            &[("Q".to_owned(), 10.0)],
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("\"Q\""), "{e}");
    }
}
