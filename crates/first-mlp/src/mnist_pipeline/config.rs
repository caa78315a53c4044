//! An MNIST run's configuration: the command line's `train` flags, with the
//! same defaults in `Default` for code that builds a run directly.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use course_support::activation::Activation;
use course_support::network::{Init, Mlp};
use course_support::regularise::Network;
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::datasets::mnist::Normalization;
use crate::regularisation::AugmentArg;
use crate::training::{
    GivenFlags, InvalidSetting, OptimizerArg, Schedule, check_at_least_one, check_batch_norm_batch,
    check_dropout, check_epochs, check_non_negative, check_positive, check_widths, parse_dropout,
    parse_non_negative, parse_positive,
};

/// The range of `--validation`.
const VALIDATION: &str = "a fraction in [0, 0.9)";

fn check_validation(value: f32) -> Result<f32, InvalidSetting> {
    if (0.0..0.9).contains(&value) {
        Ok(value)
    } else {
        Err(InvalidSetting::new("--validation", value, VALIDATION))
    }
}

fn parse_validation(text: &str) -> Result<f32, String> {
    let value: f32 = text.trim().parse().map_err(|e| format!("{e}"))?;
    check_validation(value).map_err(|e| format!("{value}: expected {}", e.expected))
}

/// The settings a resumed run takes from its checkpoint (fields and their
/// flags): given with `--resume`, they must agree with it.
pub(super) const RESUMED_FLAGS: [(&str, &str); 15] = [
    ("hidden", "--hidden"),
    ("activation", "--activation"),
    ("optimizer", "--optimizer"),
    ("lr", "--lr"),
    ("schedule", "--schedule"),
    ("weight_decay", "--weight-decay"),
    ("batch_size", "--batch-size"),
    ("seed", "--seed"),
    ("validation", "--validation"),
    ("init", "--init"),
    ("normalization", "--normalization"),
    ("yours", "--yours"),
    ("dropout", "--dropout"),
    ("batch_norm", "--batch-norm"),
    ("augment", "--augment"),
];

/// The hidden layers' activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivationArg {
    Relu,
    LeakyRelu,
    Elu,
    Gelu,
    Tanh,
    Sigmoid,
}

impl ActivationArg {
    pub fn activation(self) -> Activation {
        match self {
            Self::Relu => Activation::Relu,
            Self::LeakyRelu => Activation::LEAKY_RELU,
            Self::Elu => Activation::ELU,
            Self::Gelu => Activation::Gelu,
            Self::Tanh => Activation::Tanh,
            Self::Sigmoid => Activation::Sigmoid,
        }
    }
}

/// The weight initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitArg {
    KaimingUniform,
    KaimingNormal,
    XavierUniform,
    XavierNormal,
}

impl InitArg {
    fn init(self) -> Init {
        match self {
            Self::KaimingUniform => Init::KaimingUniform,
            Self::KaimingNormal => Init::KaimingNormal,
            Self::XavierUniform => Init::XavierUniform,
            Self::XavierNormal => Init::XavierNormal,
        }
    }
}

/// Everything that defines a training run. The defaults are the
/// recitation's model, 784 → 256 ReLU → 10 trained by Adam at 1e-3 on
/// cross-entropy, with the rate decayed to 0 along a cosine over 10 epochs.
#[derive(Args, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Folder with the four MNIST files (raw or .gz). Default: the download
    /// cache if it holds the full set, else the bundled sample.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Download the full set into the cache first (if it is not there).
    #[arg(long, conflicts_with = "data")]
    #[serde(skip)]
    pub download: bool,
    /// The download cache (default: $FIRST_MLP_DATA/mnist, else ~/.cache/first-mlp/mnist).
    #[arg(long)]
    #[serde(skip)]
    pub cache: Option<PathBuf>,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256")]
    pub hidden: Vec<usize>,
    #[arg(long, value_enum, default_value = "relu")]
    pub activation: ActivationArg,
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptimizerArg,
    /// Learning rate (finite, above 0).
    #[arg(long, default_value_t = 1e-3, value_parser = parse_positive, allow_hyphen_values = true)]
    pub lr: f32,
    #[arg(long, value_enum, default_value = "cosine")]
    pub schedule: Schedule,
    /// Weight decay (L2 for SGD and Adam, decoupled for AdamW; finite, 0 or more).
    #[arg(long, default_value_t = 0.0, value_parser = parse_non_negative, allow_hyphen_values = true)]
    pub weight_decay: f32,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Seeds the initial weights, the validation split and every shuffle.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The fraction of the training set held out for validation, in [0, 0.9).
    #[arg(long, default_value_t = 0.1, value_parser = parse_validation, allow_hyphen_values = true)]
    pub validation: f32,
    #[arg(long, value_enum, default_value = "kaiming-uniform")]
    pub init: InitArg,
    #[arg(long, value_enum, default_value = "computed")]
    pub normalization: Normalization,
    /// Dropout's rate after each hidden activation in training, in [0, 1)
    /// (stage 7); 0 for none.
    #[arg(long, default_value_t = 0.0, value_parser = parse_dropout, allow_hyphen_values = true)]
    #[serde(default)]
    pub dropout: f32,
    /// Batch normalisation after each hidden linear layer (stage 7; trains
    /// on the teaching code).
    #[arg(long)]
    #[serde(default)]
    pub batch_norm: bool,
    /// Random distortions of the training digits, drawn anew every epoch
    /// (stage 7).
    #[arg(long, value_enum, default_value = "none")]
    #[serde(default)]
    pub augment: AugmentArg,
    /// Output folder for the plots, checkpoints and run.json.
    #[arg(long, default_value = "out/mnist")]
    pub out: PathBuf,
    /// Continue from a checkpoint (its configuration is used).
    #[arg(long)]
    #[serde(skip)]
    pub resume: Option<PathBuf>,
    /// No progress bar (for logs).
    #[arg(long)]
    #[serde(skip)]
    pub quiet: bool,
    /// Train with the teaching code (stage 4's `train_step`) instead of the
    /// fast path (`engine`): the same arithmetic, slower.
    #[arg(long)]
    #[serde(default)]
    pub teaching: bool,
    /// Train with your own code, exercises/ (stages 2 to 5), instead of the
    /// reference; the output goes to out/yours/mnist unless --out says.
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

impl Default for TrainConfig {
    /// The command line's defaults (a test holds the two together).
    fn default() -> Self {
        Self {
            data: None,
            download: false,
            cache: None,
            hidden: vec![256],
            activation: ActivationArg::Relu,
            optimizer: OptimizerArg::Adam,
            lr: 1e-3,
            schedule: Schedule::Cosine,
            weight_decay: 0.0,
            batch_size: 128,
            epochs: 10,
            seed: 0,
            validation: 0.1,
            init: InitArg::KaimingUniform,
            normalization: Normalization::Computed,
            dropout: 0.0,
            batch_norm: false,
            augment: AugmentArg::None,
            out: PathBuf::from("out/mnist"),
            resume: None,
            quiet: false,
            teaching: false,
            yours: false,
            no_compare: false,
            given: None,
        }
    }
}

impl TrainConfig {
    /// Checks the values the flag parser cannot (for a configuration built
    /// in code or read from a checkpoint) before any data is read.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        check_positive("--lr", self.lr)?;
        check_non_negative("--weight-decay", self.weight_decay)?;
        check_validation(self.validation)?;
        check_epochs(self.epochs)?;
        check_at_least_one("--batch-size", self.batch_size)?;
        check_widths(&self.hidden)?;
        check_dropout(self.dropout)?;
        check_batch_norm_batch(self.batch_norm, self.batch_size)?;
        Ok(())
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

    /// The layers' widths, inputs to classes.
    pub fn widths(&self, inputs: usize, classes: usize) -> Vec<usize> {
        let mut widths = vec![inputs];
        widths.extend(&self.hidden);
        widths.push(classes);
        widths
    }

    /// The network this configuration describes, with weights drawn from
    /// the seed by the reference's `init_weights` (for a network whose
    /// weights a checkpoint then replaces, say).
    pub fn build(&self, inputs: usize, classes: usize) -> Result<Network> {
        self.build_with(&Code::REFERENCE, inputs, classes)
    }

    /// The network this configuration describes, with weights drawn from
    /// the seed by `code`'s `init_weights`, and its dropout and batch
    /// normalisation.
    pub fn build_with(&self, code: &Code, inputs: usize, classes: usize) -> Result<Network> {
        let widths = self.widths(inputs, classes);
        let mut activations = vec![self.activation.activation(); self.hidden.len()];
        activations.push(Activation::Identity);
        let mlp = Mlp::new(
            &widths,
            &activations,
            self.init.init(),
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
        config: TrainConfig,
    }

    #[test]
    fn the_defaults_are_the_command_lines() {
        assert_eq!(Flags::parse_from(["train"]).config, TrainConfig::default());
    }

    #[test]
    fn settings_that_cannot_train_are_refused_when_parsed() {
        for (flag, value) in [
            ("--lr", "NaN"),
            ("--lr", "inf"),
            ("--lr", "-1"),
            ("--lr", "0"),
            ("--weight-decay", "NaN"),
            ("--weight-decay", "-inf"),
            ("--weight-decay", "-0.5"),
            ("--validation", "NaN"),
            ("--validation", "-0.1"),
            ("--validation", "0.95"),
        ] {
            let parsed = Flags::try_parse_from(["train", flag, value]);
            let error = parsed
                .err()
                .unwrap_or_else(|| panic!("{flag} {value} was accepted"));
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{flag} {value}"
            );
        }
        let fine = Flags::try_parse_from(["train", "--lr", "0.5", "--weight-decay", "1e-4"]);
        assert_eq!(fine.unwrap().config.lr, 0.5);
    }

    #[test]
    fn a_configuration_built_in_code_is_validated_too() {
        let cases = [
            (
                "--lr",
                TrainConfig {
                    lr: f32::NAN,
                    ..TrainConfig::default()
                },
            ),
            (
                "--lr",
                TrainConfig {
                    lr: -1.0,
                    ..TrainConfig::default()
                },
            ),
            (
                "--weight-decay",
                TrainConfig {
                    weight_decay: f32::INFINITY,
                    ..TrainConfig::default()
                },
            ),
            (
                "--validation",
                TrainConfig {
                    validation: f32::NAN,
                    ..TrainConfig::default()
                },
            ),
            (
                "--epochs",
                TrainConfig {
                    epochs: 0,
                    ..TrainConfig::default()
                },
            ),
            (
                "--dropout",
                TrainConfig {
                    dropout: f32::NAN,
                    ..TrainConfig::default()
                },
            ),
            (
                "--batch-size",
                TrainConfig {
                    batch_norm: true,
                    batch_size: 1,
                    ..TrainConfig::default()
                },
            ),
        ];
        for (flag, config) in cases {
            assert_eq!(config.validate().unwrap_err().flag, flag);
        }
        assert_eq!(TrainConfig::default().validate(), Ok(()));
    }
}
