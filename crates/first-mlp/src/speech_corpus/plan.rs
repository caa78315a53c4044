//! Who says what, in which split: the corpus's design as data, so that it
//! can be tested without a synthesiser.

use super::voices::{Family, VOICES, Voice};

// ANCHOR: splits
/// The voices the model trains on (and whose held-out sentences are
/// `dev-clean`): three families; US, British and German speakers of
/// English; female and male.
pub const TRAINING_VOICES: [&str; 21] = [
    "us1", "us2", "en1", "de1", "de2", "de3", "de4", "de5", "de6", "kal", "ked", "rab", "don",
    "f1", "f2", "f3", "f4", "m1", "m3", "m5", "m7",
];
/// A voice of a training family that is never trained on: `test-clean`.
pub const HELD_OUT_VOICE: &str = "us3";
/// A whole family never trained on: `test-other`.
pub const HELD_OUT_FAMILY: Family = Family::Parametric;

/// The four splits, as named in the HW1P2 layout (and LibriSpeech's
/// test-other for the held-out family).
pub const SPLITS: [&str; 4] = ["train-clean-100", "dev-clean", "test-clean", "test-other"];
// ANCHOR_END: splits

/// One utterance to make.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Job {
    pub split: &'static str,
    pub voice: &'static Voice,
    /// Index into the sentences.
    pub sentence: usize,
    /// Perturbed on the waveform (training utterances only).
    pub augmented: bool,
}

impl Job {
    /// The utterance's file name in its split.
    pub fn file_name(&self) -> String {
        format!("{}-{:03}.npy", self.voice.name, self.sentence)
    }
}

fn voice(name: &str) -> &'static Voice {
    VOICES
        .iter()
        .find(|v| v.name == name)
        .expect("a voice of VOICES")
}

/// The utterances of a corpus of `sentences` sentences in which each
/// sentence is spoken by `voices_per_sentence` voices (2 for the bundled
/// corpus; at most 7):
/// - the last tenth of the sentences (at least one) are held out: spoken by
///   training voices, they make `dev-clean`; the others make
///   `train-clean-100`. Sentence i is spoken by training voices i, i+1, … (modulo
///   their number), so every voice speaks every kind of sentence;
/// - `test-clean`: the held-out voice speaks the sentences i with
///   i mod 10 < voices_per_sentence;
/// - `test-other`: the held-out family speaks the sentences i with
///   (i + 5) mod 10 < voices_per_sentence, its voices taking turns by tens.
pub fn plan(sentences: usize, voices_per_sentence: usize) -> Vec<Job> {
    let per = voices_per_sentence.clamp(1, 7);
    let held_out = (sentences / 10).max(1).min(sentences);
    let first_dev = sentences - held_out;
    let family: Vec<&'static Voice> = VOICES
        .iter()
        .filter(|v| v.family == HELD_OUT_FAMILY)
        .collect();
    let mut jobs = Vec::new();
    for sentence in 0..sentences {
        let split = if sentence < first_dev {
            "train-clean-100"
        } else {
            "dev-clean"
        };
        for k in 0..per {
            jobs.push(Job {
                split,
                voice: voice(TRAINING_VOICES[(sentence + k) % TRAINING_VOICES.len()]),
                sentence,
                augmented: split == "train-clean-100",
            });
        }
    }
    for sentence in (0..sentences).filter(|i| i % 10 < per) {
        jobs.push(Job {
            split: "test-clean",
            voice: voice(HELD_OUT_VOICE),
            sentence,
            augmented: false,
        });
    }
    for sentence in (0..sentences).filter(|i| (i + 5) % 10 < per) {
        jobs.push(Job {
            split: "test-other",
            voice: family[(sentence / 10) % family.len()],
            sentence,
            augmented: false,
        });
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_voice_or_family_leaks_into_training_and_dev_sentences_stay_out() {
        let jobs = plan(400, 1);
        let in_split = |split: &'static str| jobs.iter().filter(move |j| j.split == split);
        assert_eq!(in_split("train-clean-100").count(), 360);
        assert_eq!(in_split("dev-clean").count(), 40);
        assert_eq!(in_split("test-clean").count(), 40);
        assert_eq!(in_split("test-other").count(), 40);
        for j in in_split("train-clean-100").chain(in_split("dev-clean")) {
            assert!(TRAINING_VOICES.contains(&j.voice.name));
            assert_ne!(j.voice.family, HELD_OUT_FAMILY);
            assert_eq!(j.augmented, j.split == "train-clean-100");
        }
        let train_sentences: Vec<usize> = in_split("train-clean-100").map(|j| j.sentence).collect();
        assert!(in_split("dev-clean").all(|j| !train_sentences.contains(&j.sentence)));
        assert!(in_split("test-clean").all(|j| j.voice.name == HELD_OUT_VOICE && !j.augmented));
        assert!(in_split("test-other").all(|j| j.voice.family == HELD_OUT_FAMILY));
        // The held-out voice is of a training family, and no training voice
        // shares a speaker's name with the held-out family.
        let us3 = voice(HELD_OUT_VOICE);
        assert!(
            TRAINING_VOICES
                .iter()
                .any(|v| voice(v).family == us3.family)
        );
        // Each training voice and each held-out-family voice speaks its share.
        let share = 360 / TRAINING_VOICES.len();
        for name in TRAINING_VOICES {
            let n = in_split("train-clean-100")
                .filter(|j| j.voice.name == name)
                .count();
            assert!((share..=share + 1).contains(&n), "{name}: {n}");
        }
        for v in VOICES.iter().filter(|v| v.family == HELD_OUT_FAMILY) {
            assert_eq!(in_split("test-other").filter(|j| j.voice == v).count(), 10);
        }
        // File names are unique within a split.
        for split in SPLITS {
            let mut names: Vec<String> = in_split(split).map(|j| j.file_name()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), in_split(split).count(), "{split}");
        }
    }

    #[test]
    fn a_bigger_corpus_has_more_voices_per_sentence_and_tiny_ones_still_hold_out() {
        let jobs = plan(400, 3);
        assert_eq!(
            jobs.iter().filter(|j| j.split == "train-clean-100").count(),
            1080
        );
        assert_eq!(jobs.iter().filter(|j| j.split == "test-clean").count(), 120);
        let voices: Vec<&str> = jobs
            .iter()
            .filter(|j| j.split == "dev-clean" && j.sentence == 399)
            .map(|j| j.voice.name)
            .collect();
        assert_eq!(voices.len(), 3);
        let jobs = plan(3, 1);
        assert_eq!(jobs.iter().filter(|j| j.split == "dev-clean").count(), 1);
        assert_eq!(
            jobs.iter().filter(|j| j.split == "train-clean-100").count(),
            2
        );
        assert_eq!(plan(400, 99).len(), plan(400, 7).len());
    }
}
