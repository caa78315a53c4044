//! The voices the corpus is spoken in, the synthesiser families they come
//! from, and how each one is run to get a 16 kHz waveform together with the
//! exact timing of every phone it spoke.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::espeak::Espeak;
use super::phones::PhoneSet;

/// How a family makes sound: what the model must generalise across.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// MBROLA's diphone concatenation, driven by espeak-ng's front end.
    Mbrola,
    /// Festival's residual-excited LPC diphone voices.
    FestivalDiphone,
    /// Statistical parametric voices: Festival's HTS and Flite's clustergen
    /// voices, made by a vocoder from predicted spectra, not from pieces of
    /// recordings.
    Parametric,
    /// espeak-ng's own voices: formant synthesis, no recordings at all.
    Formant,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Mbrola => "MBROLA diphones (espeak-ng)",
            Family::FestivalDiphone => "Festival diphones (RELP)",
            Family::Parametric => "statistical parametric (HTS, clustergen)",
            Family::Formant => "espeak-ng formant",
        })
    }
}

/// The program that speaks, and its name for the voice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synthesiser {
    /// An espeak-ng MBROLA voice (`mb-…`), its `.pho` output played by
    /// `mbrola` with the named database.
    EspeakMbrola {
        voice: &'static str,
        database: &'static str,
    },
    /// An espeak-ng voice of its own (`en-us+f3`), through its library.
    Espeak(&'static str),
    /// A Festival voice, `voice_NAME`.
    Festival {
        voice: &'static str,
        /// Its Debian package (festvox-…).
        package: &'static str,
    },
    /// A Flite voice, `-voice NAME`.
    Flite(&'static str),
}

/// One voice of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Voice {
    /// The corpus's name for it, the prefix of its utterances' files.
    pub name: &'static str,
    pub family: Family,
    pub synthesiser: Synthesiser,
    pub phones: PhoneSet,
    /// Who it sounds like.
    pub description: &'static str,
}

// ANCHOR: voices
/// Every voice, by family.
pub const VOICES: [Voice; 26] = [
    mbrola("us1", "mb-us1", "US female"),
    mbrola("us2", "mb-us2", "US male"),
    mbrola("en1", "mb-en1", "British male"),
    mbrola("de1", "mb-de1-en", "German female, speaking English"),
    mbrola("de2", "mb-de2-en", "German male, speaking English"),
    mbrola("de3", "mb-de3-en", "German female, speaking English"),
    mbrola("de4", "mb-de4-en", "German male, speaking English"),
    mbrola("de5", "mb-de5-en", "German female, speaking English"),
    mbrola("de6", "mb-de6-en", "German male, speaking English"),
    mbrola("us3", "mb-us3", "US male"),
    diphone(
        "kal",
        "kal_diphone",
        PhoneSet::Radio,
        "festvox-kallpc16k",
        "US male",
    ),
    diphone(
        "ked",
        "ked_diphone",
        PhoneSet::Radio,
        "festvox-kdlpc16k",
        "US male",
    ),
    diphone(
        "rab",
        "rab_diphone",
        PhoneSet::Mrpa,
        "festvox-rablpc16k",
        "British male",
    ),
    diphone(
        "don",
        "don_diphone",
        PhoneSet::Mrpa,
        "festvox-don",
        "British male, 10 kHz",
    ),
    hts(
        "slt-hts",
        "cmu_us_slt_arctic_hts",
        "festvox-us-slt-hts",
        "US female",
    ),
    flite("awb", "Scottish male"),
    flite("rms", "US male"),
    flite("slt", "US female"),
    espeak("f1", "en-us+f1", "US, female variant 1"),
    espeak("f2", "en-us+f2", "US, female variant 2"),
    espeak("f3", "en-us+f3", "US, female variant 3"),
    espeak("f4", "en-gb-x-rp+f4", "British RP, female variant 4"),
    espeak("m1", "en-us+m1", "US, male variant 1"),
    espeak("m3", "en-us+m3", "US, male variant 3"),
    espeak("m5", "en-gb-scotland+m5", "Scottish, male variant 5"),
    espeak("m7", "en-029+m7", "Caribbean, male variant 7"),
];
// ANCHOR_END: voices

/// An MBROLA voice through espeak-ng: `name` is also its database's.
const fn mbrola(
    name: &'static str,
    espeak_voice: &'static str,
    description: &'static str,
) -> Voice {
    Voice {
        name,
        family: Family::Mbrola,
        synthesiser: Synthesiser::EspeakMbrola {
            voice: espeak_voice,
            database: name,
        },
        phones: PhoneSet::Sampa,
        description,
    }
}

/// A Festival diphone voice.
const fn diphone(
    name: &'static str,
    festival_voice: &'static str,
    phones: PhoneSet,
    package: &'static str,
    description: &'static str,
) -> Voice {
    Voice {
        name,
        family: Family::FestivalDiphone,
        synthesiser: Synthesiser::Festival {
            voice: festival_voice,
            package,
        },
        phones,
        description,
    }
}

/// A Festival HTS voice.
const fn hts(
    name: &'static str,
    festival_voice: &'static str,
    package: &'static str,
    description: &'static str,
) -> Voice {
    Voice {
        name,
        family: Family::Parametric,
        synthesiser: Synthesiser::Festival {
            voice: festival_voice,
            package,
        },
        phones: PhoneSet::Radio,
        description,
    }
}

/// A Flite clustergen voice, named as Flite names it.
const fn flite(name: &'static str, description: &'static str) -> Voice {
    Voice {
        name,
        family: Family::Parametric,
        synthesiser: Synthesiser::Flite(name),
        phones: PhoneSet::Radio,
        description,
    }
}

/// One of espeak-ng's own voices (a language and a variant).
const fn espeak(
    name: &'static str,
    espeak_voice: &'static str,
    description: &'static str,
) -> Voice {
    Voice {
        name,
        family: Family::Formant,
        synthesiser: Synthesiser::Espeak(espeak_voice),
        phones: PhoneSet::Espeak,
        description,
    }
}

/// An utterance as a synthesiser made it: the samples at their rate, and
/// each phone it spoke (in its own alphabet) with its duration.
pub struct Spoken {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    pub phones: Vec<(String, f32)>,
}

impl Voice {
    /// The Debian package that holds this voice.
    pub fn package(&self) -> String {
        match self.synthesiser {
            Synthesiser::EspeakMbrola { database, .. } => format!("mbrola-{database}"),
            Synthesiser::Festival { package, .. } => package.to_owned(),
            Synthesiser::Flite(_) => "flite".to_owned(),
            Synthesiser::Espeak(_) => "espeak-ng".to_owned(),
        }
    }

    /// Says what is missing, and which package brings it, if this voice
    /// cannot be run here.
    pub fn check_installed(&self) -> Result<()> {
        let (program, data): (&str, Option<PathBuf>) = match self.synthesiser {
            Synthesiser::Espeak(_) => {
                espeak_library()?;
                ("espeak-ng", None)
            }
            Synthesiser::EspeakMbrola { database: db, .. } => {
                need_program("espeak-ng", self)?;
                (
                    "mbrola",
                    Some(PathBuf::from(format!("/usr/share/mbrola/{db}/{db}"))),
                )
            }
            Synthesiser::Festival { voice: name, .. } => {
                let found = ["english", "us"]
                    .iter()
                    .map(|dir| PathBuf::from(format!("/usr/share/festival/voices/{dir}/{name}")))
                    .find(|p| p.is_dir());
                (
                    "festival",
                    Some(found.unwrap_or_else(|| {
                        PathBuf::from(format!("/usr/share/festival/voices/*/{name}"))
                    })),
                )
            }
            Synthesiser::Flite(_) => ("flite", None),
        };
        need_program(program, self)?;
        if let Some(data) = data
            && !data.exists()
        {
            bail!(
                "voice {} ({}) is missing: {} not found; install the Debian package {} \
                 (bash data/speech-corpus/make_corpus.sh installs every voice)",
                self.name,
                self.family,
                data.display(),
                self.package()
            );
        }
        if let Synthesiser::Flite(name) = self.synthesiser {
            let listed = run(Command::new("flite").arg("-lv"), "flite -lv")?;
            let listed = String::from_utf8_lossy(&listed);
            if !listed.split_whitespace().any(|v| v == name) {
                bail!(
                    "voice {} is missing: flite -lv lists {listed:?}; install the Debian package {}",
                    self.name,
                    self.package()
                );
            }
        }
        Ok(())
    }

    /// Speaks `sentence`, using `scratch` for the synthesiser's files.
    pub fn speak(&self, sentence: &str, scratch: &Path) -> Result<Spoken> {
        let wav = scratch.join("utterance.wav");
        let phones = match self.synthesiser {
            Synthesiser::Espeak(name) => return espeak_library()?.speak(name, sentence),
            Synthesiser::EspeakMbrola {
                voice,
                database: db,
            } => {
                let pho = run(
                    Command::new("espeak-ng").args(["-q", "-v", voice, "--pho", sentence]),
                    "espeak-ng",
                )?;
                let pho_path = scratch.join("utterance.pho");
                std::fs::write(&pho_path, &pho)?;
                run(
                    Command::new("mbrola")
                        .arg("-e")
                        .arg(format!("/usr/share/mbrola/{db}/{db}"))
                        .arg(&pho_path)
                        .arg(&wav),
                    "mbrola",
                )?;
                super::parse_pho(&String::from_utf8_lossy(&pho))?
            }
            Synthesiser::Festival { voice: name, .. } => {
                let script = scratch.join("utterance.scm");
                std::fs::write(&script, festival_script(name, sentence, &wav))?;
                let out = run(Command::new("festival").arg("-b").arg(&script), "festival")?;
                durations_from_ends(&parse_ends(&String::from_utf8_lossy(&out))?)?
            }
            Synthesiser::Flite(name) => {
                let out = run(
                    Command::new("flite")
                        .args(["-voice", name, "-psdur", "-t", sentence, "-o"])
                        .arg(&wav),
                    "flite",
                )?;
                durations_from_ends(&parse_ends(&String::from_utf8_lossy(&out))?)?
            }
        };
        let recording = speech::mfcc::read_wav_any(&wav)
            .with_context(|| format!("reading what {} said", self.name))?;
        Ok(Spoken {
            samples: recording.samples,
            sample_rate: recording.sample_rate,
            phones,
        })
    }
}

/// espeak-ng's library, opened on first use.
fn espeak_library() -> Result<&'static Espeak> {
    static ESPEAK: OnceLock<Espeak> = OnceLock::new();
    if let Some(espeak) = ESPEAK.get() {
        return Ok(espeak);
    }
    let opened = Espeak::open()?;
    Ok(ESPEAK.get_or_init(|| opened))
}

fn need_program(program: &str, voice: &Voice) -> Result<()> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    if !found {
        bail!(
            "voice {} needs {program}, which is not installed (bash data/speech-corpus/make_corpus.sh \
             installs it and every voice)",
            voice.name
        );
    }
    Ok(())
}

/// A Festival script that speaks `sentence` with `voice`, saves it at
/// 16 kHz and prints each segment's name and end time in seconds.
fn festival_script(voice: &str, sentence: &str, wav: &Path) -> String {
    let text: String = sentence
        .chars()
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    format!(
        "(voice_{voice})\n\
         (set! utt (SynthText \"{text}\"))\n\
         (utt.wave.resample utt 16000)\n\
         (utt.save.wave utt \"{}\" 'riff)\n\
         (mapcar (lambda (s) (format t \"%s:%f\\n\" (item.name s) (item.feat s \"end\")))\n\
         (utt.relation.items utt 'Segment))\n",
        wav.display()
    )
}

/// (phone, end in seconds) from words `NAME:END`, as Flite's `-psdur`
/// prints them and the Festival script is made to.
pub fn parse_ends(text: &str) -> Result<Vec<(String, f64)>> {
    text.split_whitespace()
        .map(|item| {
            let (name, end) = item
                .rsplit_once(':')
                .with_context(|| format!("segment {item:?} is not NAME:END"))?;
            let end: f64 = end
                .parse()
                .with_context(|| format!("segment {name:?}: end time {end:?}"))?;
            Ok((name.to_owned(), end))
        })
        .collect()
}

/// Durations in milliseconds from end times in seconds (which must not go
/// backwards).
pub fn durations_from_ends(ends: &[(String, f64)]) -> Result<Vec<(String, f32)>> {
    let mut previous = 0.0;
    ends.iter()
        .map(|(name, end)| {
            if *end < previous {
                bail!("segment {name:?} ends at {end} s, before the one before it ({previous} s)");
            }
            let ms = (end - previous) * 1000.0;
            previous = *end;
            Ok((name.clone(), ms as f32))
        })
        .collect()
}

pub(super) fn run(command: &mut Command, what: &str) -> Result<Vec<u8>> {
    let output = command.output().with_context(|| {
        format!("running {what} (install it: bash data/speech-corpus/make_corpus.sh)")
    })?;
    if !output.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn festival_and_flite_segments_become_durations() {
        let festival = "pau:0.220000\ndh:0.256919\nax:0.300801\n";
        let flite = "pau:0.220 dh:0.254 ax:0.304 \n";
        let f = durations_from_ends(&parse_ends(festival).unwrap()).unwrap();
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["pau", "dh", "ax"]);
        for ((_, got), want) in f.iter().zip([220.0, 36.919, 43.882]) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        let l = durations_from_ends(&parse_ends(flite).unwrap()).unwrap();
        for ((_, got), want) in l.iter().zip([220.0, 34.0, 50.0]) {
            assert!((got - want).abs() < 1e-3, "{got} vs {want}");
        }
        assert!(durations_from_ends(&[("a".into(), 0.5), ("b".into(), 0.4)]).is_err());
        assert!(parse_ends("pau").is_err());
        assert!(parse_ends("pau-0.2").is_err());
    }

    #[test]
    fn every_voice_speaks_a_set_that_covers_the_classes_and_names_are_unique() {
        for (n, v) in VOICES.iter().enumerate() {
            assert!(
                !VOICES[..n].iter().any(|w| w.name == v.name),
                "{} twice",
                v.name
            );
        }
        let families: Vec<Family> = VOICES.iter().map(|v| v.family).collect();
        for family in [
            Family::Mbrola,
            Family::FestivalDiphone,
            Family::Parametric,
            Family::Formant,
        ] {
            assert!(families.contains(&family));
        }
    }

    #[test]
    fn a_quote_in_a_sentence_cannot_end_festival_s_string() {
        let script = festival_script("kal_diphone", "He said \"go\\\" now", Path::new("/x.wav"));
        assert!(
            script.contains("(SynthText \"He said go now\")"),
            "{script}"
        );
    }
}
