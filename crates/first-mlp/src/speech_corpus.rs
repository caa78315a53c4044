//! Makes the bundled speech corpus in the HW1P2 layout: sentences spoken by
//! the MBROLA US voices through espeak-ng, with exact phoneme durations,
//! turned into MFCCs by the project's own front end and labelled frame by
//! frame. Needs espeak-ng, mbrola and mbrola-us1/2/3 (see
//! `data/speech-corpus/make_corpus.sh`); nothing else in the project does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use course_support::speech::Phone;
use speech::hw1p2::{self, PHONEMES};
use speech::mfcc::{MfccConfig, mfcc, read_wav};

use crate::code::Code;

/// The MBROLA US phone set (as espeak-ng writes it) mapped to the 40 classes.
pub const PHONE_MAP: [(&str, &str); 54] = [
    ("_", "[SIL]"),
    ("A", "AA"),
    ("{", "AE"),
    ("@", "AH"),
    ("V", "AH"),
    ("O", "AO"),
    ("O2", "AO"),
    ("aU", "AW"),
    ("AI", "AY"),
    ("aI", "AY"),
    ("b", "B"),
    ("tS", "CH"),
    ("d", "D"),
    ("4", "D"),
    ("D", "DH"),
    ("E", "EH"),
    ("r=", "ER"),
    ("@`", "ER"),
    ("EI", "EY"),
    ("eI", "EY"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("I", "IH"),
    ("i", "IY"),
    ("dZ", "JH"),
    ("k", "K"),
    ("k_h", "K"),
    ("l", "L"),
    ("l=", "L"),
    ("m", "M"),
    ("m=", "M"),
    ("n", "N"),
    ("n=", "N"),
    ("N", "NG"),
    ("@U", "OW"),
    ("oU", "OW"),
    ("OI", "OY"),
    ("p", "P"),
    ("p_h", "P"),
    ("r", "R"),
    ("s", "S"),
    ("S", "SH"),
    ("t", "T"),
    ("t_h", "T"),
    ("?", "T"),
    ("T", "TH"),
    ("U", "UH"),
    ("u", "UW"),
    ("v", "V"),
    ("w", "W"),
    ("j", "Y"),
    ("z", "Z"),
    ("Z", "ZH"),
];

/// The class of an MBROLA phone.
pub fn class_of(phone: &str) -> Option<&'static str> {
    PHONE_MAP.iter().find(|(p, _)| *p == phone).map(|(_, c)| *c)
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
    phones: &[(String, f32)],
    frames: usize,
) -> Result<Vec<&'static str>> {
    let phones = phones
        .iter()
        .map(|(phone, ms)| {
            let class = class_of(phone)
                .and_then(hw1p2::phoneme_index)
                .with_context(|| format!("MBROLA phone {phone:?} has no class in PHONE_MAP"))?;
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

fn run(command: &mut Command, what: &str) -> Result<Vec<u8>> {
    let output = command.output().with_context(|| {
        format!("running {what} (install it: see data/speech-corpus/make_corpus.sh)")
    })?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output.stdout)
}

/// Speaks every sentence with every voice and writes the three splits:
/// `train-clean-100` (voices us1 and us2, the first 80% of the sentences),
/// `dev-clean` (us1 and us2, the other sentences) and `test-clean` (the
/// held-out voice us3, every sentence; its transcripts are kept too, in
/// `test-clean/transcript`, so the held-out voice can be scored).
pub fn make(sentences: &Path, out: &Path, code: &Code) -> Result<()> {
    let text = String::from_utf8(crate::files::read_regular(sentences)?)
        .with_context(|| format!("reading {}: not UTF-8 text", sentences.display()))?;
    let sentences: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let train_count = sentences.len() * 4 / 5;
    let scratch = tempfile::tempdir()?;
    let config = MfccConfig::default();
    let filters = code.call("building the mel filter bank", || {
        (code.mel_filter_bank)(
            config.mel_filters,
            config.fft_size,
            config.sample_rate as f32,
        )
    })?;
    let mut seen = [false; 40];
    for voice in ["us1", "us2", "us3"] {
        for (index, sentence) in sentences.iter().enumerate() {
            let pho = run(
                Command::new("espeak-ng").args([
                    "-q",
                    "-v",
                    &format!("mb-{voice}"),
                    "--pho",
                    sentence,
                ]),
                "espeak-ng",
            )?;
            let pho_path = scratch.path().join("utterance.pho");
            let wav_path = scratch.path().join("utterance.wav");
            fs::write(&pho_path, &pho)?;
            let database = PathBuf::from(format!("/usr/share/mbrola/{voice}/{voice}"));
            run(
                Command::new("mbrola")
                    .arg("-e")
                    .arg(&database)
                    .arg(&pho_path)
                    .arg(&wav_path),
                "mbrola",
            )?;
            let samples = read_wav(&wav_path, config.sample_rate)?;
            let frames = mfcc(&samples, &config, &filters)?;
            let phones = parse_pho(&String::from_utf8_lossy(&pho))?;
            let labels = frame_labels(code, &phones, frames.nrows())
                .with_context(|| format!("{voice}: {sentence}"))?;
            for l in &labels {
                seen[hw1p2::phoneme_index(l).expect("a class")] = true;
            }
            let split = match (voice, index < train_count) {
                ("us3", _) => "test-clean",
                (_, true) => "train-clean-100",
                (_, false) => "dev-clean",
            };
            let name = format!("{voice}-{index:03}.npy");
            hw1p2::write_utterance(&out.join(split), &name, &frames, Some(&labels))?;
        }
        println!("{voice}: {} sentences", sentences.len());
    }
    let missing: Vec<&str> = PHONEMES
        .iter()
        .zip(seen)
        .filter(|(_, s)| !s)
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        bail!("the corpus never uses {missing:?}: add sentences that do");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_phone_is_a_class_and_every_class_is_reached() {
        let mut reached = [false; 40];
        for (phone, class) in PHONE_MAP {
            let i = hw1p2::phoneme_index(class).unwrap_or_else(|| panic!("{phone} → {class}"));
            reached[i] = true;
            assert_eq!(class_of(phone), Some(class));
        }
        assert!(reached.iter().all(|&r| r), "some class has no MBROLA phone");
    }

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
            frame_labels(&Code::REFERENCE, &phones, 5).unwrap(),
            ["[SIL]", "AA", "AA", "AA", "[SIL]"]
        );
        let e = frame_labels(&Code::REFERENCE, &[("Q".to_owned(), 10.0)], 1)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "MBROLA phone \"Q\" has no class in PHONE_MAP");
    }
}
