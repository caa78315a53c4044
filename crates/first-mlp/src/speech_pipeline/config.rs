//! A speech run's configuration: the command line's `speech-train` flags,
//! with the same defaults in `Default` for code that builds a run directly.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use course_support::activation::Activation;
use course_support::network::{Init, Mlp};
use course_support::regularise::Network;
use serde::{Deserialize, Serialize};

use crate::code::{Cmvn, Code};
use crate::datasets::speech::{SplitSettings, Vtlp};
use crate::training::{
    GivenFlags, InvalidSetting, check_at_least_one, check_batch_norm_batch, check_dropout,
    check_epochs, check_positive, check_widths, parse_dropout, parse_positive,
};
use speech::hw1p2::PHONEMES;

/// The settings a resumed run takes from its checkpoint (fields and their
/// flags): given with `--resume`, they must agree with it.
pub(super) const RESUMED_FLAGS: [(&str, &str); 12] = [
    ("context", "--context"),
    ("coefficients", "--coefficients"),
    ("hidden", "--hidden"),
    ("linear", "--linear"),
    ("lr", "--lr"),
    ("batch_size", "--batch-size"),
    ("seed", "--seed"),
    ("no_cmvn", "--no-cmvn"),
    ("yours", "--yours"),
    ("dropout", "--dropout"),
    ("batch_norm", "--batch-norm"),
    ("vtlp", "--vtlp"),
];

/// A speech training run. The defaults were chosen by the bundled corpus's
/// held-out synthesiser family (book: "Voices never heard"): context 10, the
/// first 13 coefficients, two hidden layers of 1024 with dropout 0.5, Adam
/// at 1e-3, batch 1024, 20 epochs.
#[derive(Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeechConfig {
    /// The splits train-clean-100, dev-clean and test-clean (and
    /// test-other) in the HW1P2 layout: a folder, or an xz-compressed tar
    /// of one, as the bundled corpus is.
    #[arg(long, default_value = "data/speech-corpus/splits.tar.xz")]
    pub data: PathBuf,
    /// K, the frames of context on each side.
    #[arg(long, default_value_t = 10)]
    pub context: usize,
    /// Use at most the first N coefficients of each frame (0 for all): the
    /// higher ones describe the fine detail of each voice's spectrum.
    #[arg(long, default_value_t = 13)]
    #[serde(default)]
    pub coefficients: u16,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1024,1024")]
    pub hidden: Vec<usize>,
    /// No hidden layer: a linear (softmax regression) model.
    #[arg(long, conflicts_with = "hidden")]
    pub linear: bool,
    /// Learning rate (finite, above 0).
    #[arg(long, default_value_t = 1e-3, value_parser = parse_positive, allow_hyphen_values = true)]
    pub lr: f32,
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Skip per-utterance cepstral mean and variance normalisation.
    #[arg(long)]
    pub no_cmvn: bool,
    /// Dropout's rate after each hidden activation in training, in [0, 1)
    /// (stage 7); 0 for none.
    #[arg(
        long,
        default_value_t = 0.5,
        value_parser = parse_dropout,
        allow_hyphen_values = true,
        conflicts_with = "linear"
    )]
    #[serde(default)]
    pub dropout: f32,
    /// VTLP on the training frames: each epoch, every utterance's cepstra
    /// warped as by a vocal tract up to this fraction shorter or longer
    /// (factors drawn from [1 − R, 1 + R]); 0 for none. Needs frames of this
    /// project's front end (at most 40 coefficients).
    #[arg(long, default_value_t = 0.12, value_parser = parse_vtlp, allow_hyphen_values = true)]
    #[serde(default)]
    pub vtlp: f32,
    /// Batch normalisation after each hidden linear layer (stage 7; trains
    /// on the teaching code).
    #[arg(long, conflicts_with = "linear")]
    #[serde(default)]
    pub batch_norm: bool,
    #[arg(long, default_value = "out/speech")]
    pub out: PathBuf,
    /// Continue from a checkpoint (its configuration is used; --epochs may grow).
    #[arg(long)]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    #[arg(long)]
    #[serde(skip)]
    pub quiet: bool,
    /// Train with your own code, exercises/ (stages 2 to 6), instead of the
    /// reference; the output goes to out/yours/speech unless --out says.
    #[arg(long)]
    #[serde(default)]
    pub yours: bool,
    /// With --yours: no comparison with the reference's run of the same
    /// configuration (which trains the reference once, then is cached).
    #[arg(long, requires = "yours")]
    #[serde(skip)]
    pub no_compare: bool,
    /// The flags given on the command line (set by the binary from clap's
    /// value sources); None for a configuration built in code.
    #[arg(skip)]
    #[serde(skip)]
    pub given: Option<GivenFlags>,
}

const VTLP_RANGE: &str = "a fraction in [0, 0.5]";

/// `value` for --vtlp if it is a fraction in [0, 0.5]: beyond it, a
/// factor of 1.5 makes a child's voice of a man's and warps much of the
/// spectrum past the Nyquist frequency.
pub fn check_vtlp(value: f32) -> Result<f32, InvalidSetting> {
    if (0.0..=0.5).contains(&value) {
        Ok(value)
    } else {
        Err(InvalidSetting::new("--vtlp", value, VTLP_RANGE))
    }
}

fn parse_vtlp(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    check_vtlp(value).map_err(|_| format!("{value}: expected {VTLP_RANGE}"))
}

impl Default for SpeechConfig {
    /// The command line's defaults (a test holds the two together).
    fn default() -> Self {
        Self {
            data: PathBuf::from("data/speech-corpus/splits.tar.xz"),
            context: 10,
            coefficients: 13,
            hidden: vec![1024, 1024],
            linear: false,
            lr: 1e-3,
            batch_size: 1024,
            epochs: 20,
            seed: 0,
            no_cmvn: false,
            dropout: 0.5,
            vtlp: 0.12,
            batch_norm: false,
            out: PathBuf::from("out/speech"),
            resume: None,
            quiet: false,
            yours: false,
            no_compare: false,
            given: None,
        }
    }
}

impl SpeechConfig {
    /// The hidden layers' activation.
    pub const HIDDEN_ACTIVATION: Activation = Activation::Relu;

    /// Checks the values the flag parser cannot (for a configuration built
    /// in code or read from a checkpoint) before any data is read.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check_positive("--lr", self.lr)?;
        check_epochs(self.epochs)?;
        check_at_least_one("--batch-size", self.batch_size)?;
        if !self.linear {
            check_widths(&self.hidden)?;
        }
        check_dropout(self.dropout)?;
        check_vtlp(self.vtlp)?;
        check_batch_norm_batch(self.batch_norm, self.batch_size)?;
        if self.linear && (self.dropout > 0.0 || self.batch_norm) {
            return Err(InvalidSetting::new(
                if self.batch_norm {
                    "--batch-norm"
                } else {
                    "--dropout"
                },
                "with --linear",
                "a hidden layer to act on (drop --linear)",
            ));
        }
        Ok(())
    }

    /// The layers' widths, inputs to phonemes.
    pub fn widths(&self, inputs: usize) -> Vec<usize> {
        let mut widths = vec![inputs];
        if !self.linear {
            widths.extend(&self.hidden);
        }
        widths.push(PHONEMES.len());
        widths
    }

    /// Whether `field`'s flag was given: on the command line when known,
    /// else (built in code) when it differs from the default.
    pub fn was_given(&self, field: &str, differs: bool) -> bool {
        self.given
            .as_ref()
            .map_or(differs, |given| given.contains(field))
    }

    /// Whose code this run trains with.
    pub fn code(&self) -> Code {
        Code::chosen(self.yours)
    }

    /// How the splits' frames become windows.
    pub fn split_settings(&self, code: &Code) -> SplitSettings {
        SplitSettings {
            context: self.context,
            coefficients: self.coefficients,
            cmvn: self.cmvn(code),
        }
    }

    /// VTLP's settings for the training split, if any.
    pub fn vtlp(&self, code: &Code) -> Option<Vtlp> {
        (self.vtlp > 0.0).then_some(Vtlp {
            range: self.vtlp,
            seed: self.seed,
            whose: code.windows,
        })
    }

    /// The per-utterance normalisation to apply: `code`'s stage 6 `cmvn`,
    /// unless `--no-cmvn`.
    pub fn cmvn(&self, code: &Code) -> Option<Cmvn> {
        (!self.no_cmvn).then_some(code.cmvn)
    }

    /// The network this configuration describes for windows of `inputs`
    /// values, with weights drawn from the seed by the reference's
    /// `init_weights` (for a network whose weights a checkpoint then
    /// replaces, say).
    pub fn build(&self, inputs: usize) -> Result<Network> {
        self.build_with(&Code::REFERENCE, inputs)
    }

    /// The network this configuration describes for windows of `inputs`
    /// values, with weights drawn from the seed by `code`'s `init_weights`,
    /// and its dropout and batch normalisation.
    pub fn build_with(&self, code: &Code, inputs: usize) -> Result<Network> {
        let widths = self.widths(inputs);
        let mut activations = vec![Self::HIDDEN_ACTIVATION; widths.len() - 2];
        activations.push(Activation::Identity);
        let mlp = Mlp::new(
            &widths,
            &activations,
            Init::KaimingUniform,
            self.seed,
            code.init_weights,
        )?;
        Ok(Network::new(mlp, self.dropout, self.batch_norm)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: SpeechConfig,
    }

    #[test]
    fn settings_that_cannot_train_are_refused() {
        for value in ["NaN", "inf", "-1", "0"] {
            let parsed = Flags::try_parse_from(["speech-train", "--lr", value]);
            assert!(parsed.is_err(), "--lr {value} was accepted");
        }
        let cases = [
            (
                "--lr",
                SpeechConfig {
                    lr: f32::NAN,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--epochs",
                SpeechConfig {
                    epochs: 0,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--batch-size",
                SpeechConfig {
                    batch_size: 0,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--dropout",
                SpeechConfig {
                    dropout: 1.0,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--dropout",
                SpeechConfig {
                    linear: true,
                    dropout: 0.5,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--batch-norm",
                SpeechConfig {
                    linear: true,
                    batch_norm: true,
                    ..SpeechConfig::default()
                },
            ),
            (
                "--batch-size",
                SpeechConfig {
                    batch_norm: true,
                    batch_size: 1,
                    ..SpeechConfig::default()
                },
            ),
        ];
        for (flag, config) in cases {
            assert_eq!(config.validate().unwrap_err().flag, flag);
        }
        assert_eq!(SpeechConfig::default().validate(), Ok(()));
    }

    #[test]
    fn the_defaults_are_the_command_lines() {
        assert_eq!(
            Flags::parse_from(["speech-train"]).config,
            SpeechConfig::default()
        );
    }
}
