//! What a run reports: the model summary table (in the manner of
//! torchsummaryX), each epoch's line and record, and the evaluation:
//! confusion matrix, precision, recall.

use std::fmt::Write;

use course_support::network::Layer;
use course_support::regularise::{Network, Part};
use course_support::stats::EpochStats;
use reference::layers::linear_parameter_count;
use serde::{Deserialize, Serialize};

/// A table of the layers, in the order a batch meets them (as
/// `torch.nn.Sequential` would number them): kernel shape, output shape,
/// parameters and multiply-adds per example, then the totals. Dropout has
/// no parameters; batch normalisation learns a scale and a shift per unit
/// (its running estimates are not trained).
pub fn summary(network: &Network) -> String {
    let mut out = String::new();
    let rule = "-".repeat(72);
    writeln!(out, "{rule}").unwrap();
    writeln!(
        out,
        "{:<18} {:>14} {:>14} {:>11} {:>11}",
        "layer", "kernel shape", "output shape", "params", "mult-adds"
    )
    .unwrap();
    writeln!(out, "{rule}").unwrap();
    let mut width = network.mlp.in_features().unwrap_or(0);
    let (mut params, mut mult_adds) = (0usize, 0usize);
    for (index, part) in network.parts().into_iter().enumerate() {
        let (name, kernel, p, m) = match part {
            Part::Layer(_, Layer::Linear(l)) => {
                width = l.out_features();
                (
                    format!("{index}_Linear"),
                    format!("[{}, {}]", l.in_features(), l.out_features()),
                    linear_parameter_count(l),
                    l.in_features() * l.out_features(),
                )
            }
            Part::Layer(_, Layer::Maxout(m)) => {
                width = m.out_features();
                (
                    format!("{index}_Maxout(k={})", m.pieces),
                    format!("[{}, {}]", m.linear.in_features(), m.linear.out_features()),
                    linear_parameter_count(&m.linear),
                    m.linear.in_features() * m.linear.out_features(),
                )
            }
            Part::Layer(_, Layer::Activation(a)) => {
                (format!("{index}_{}", a.slug()), "-".to_owned(), 0, 0)
            }
            Part::BatchNorm(_, bn) => (
                format!("{index}_BatchNorm1d"),
                format!("[{}]", bn.features()),
                2 * bn.features(),
                bn.features(),
            ),
            Part::Dropout(_) => (
                format!("{index}_Dropout({})", network.dropout),
                "-".to_owned(),
                0,
                0,
            ),
        };
        params += p;
        mult_adds += m;
        writeln!(
            out,
            "{name:<18} {kernel:>14} {:>14} {:>11} {:>11}",
            format!("[-1, {width}]"),
            thousands(p),
            thousands(m)
        )
        .unwrap();
    }
    writeln!(out, "{rule}").unwrap();
    writeln!(out, "{:<48} {:>23}", "total params", thousands(params)).unwrap();
    writeln!(out, "{:<48} {:>23}", "trainable params", thousands(params)).unwrap();
    writeln!(
        out,
        "{:<48} {:>23}",
        "mult-adds per example",
        thousands(mult_adds)
    )
    .unwrap();
    write!(out, "{rule}").unwrap();
    out
}

/// 203530 → "203,530".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One epoch's figures, as recorded in run.json and in checkpoints. The
/// validation figures are absent when the run holds no examples out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_loss: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f32>,
    pub learning_rate: f32,
    pub seconds: f64,
}

impl EpochRecord {
    /// An epoch's record from its training and (if any) held-out figures.
    pub fn new(
        epoch: usize,
        train: EpochStats,
        held_out: Option<EpochStats>,
        learning_rate: f32,
        seconds: f64,
    ) -> Self {
        Self {
            epoch,
            train_loss: train.loss,
            train_accuracy: train.accuracy,
            validation_loss: held_out.map(|s| s.loss),
            validation_accuracy: held_out.map(|s| s.accuracy),
            learning_rate,
            seconds,
        }
    }

    /// The held-out figures, if the epoch has them (the number of examples
    /// is not recorded: 0).
    pub fn held_out(&self) -> Option<EpochStats> {
        Some(EpochStats {
            loss: self.validation_loss?,
            accuracy: self.validation_accuracy?,
            examples: 0,
        })
    }

    /// The line printed after the epoch, out of `epochs`; `held_out` names
    /// the evaluation set ("val", "dev").
    pub fn line(&self, epochs: usize, held_out: &str) -> String {
        let mut line = format!(
            "epoch {:>3}/{epochs}  train loss {:.4} acc {:>6.2}%  ",
            self.epoch,
            self.train_loss,
            100.0 * self.train_accuracy
        );
        if let (Some(loss), Some(accuracy)) = (self.validation_loss, self.validation_accuracy) {
            write!(
                line,
                "{held_out} loss {loss:.4} acc {:>6.2}%  ",
                100.0 * accuracy
            )
            .unwrap();
        }
        write!(line, "lr {:.2e}  {:.1} s", self.learning_rate, self.seconds).unwrap();
        line
    }
}

/// Evaluation of a classifier over a labelled set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// confusion[true][predicted].
    pub confusion: Vec<Vec<usize>>,
    pub accuracy: f32,
    /// Per class: of the examples predicted as c, the fraction that are c.
    pub precision: Vec<f32>,
    /// Per class: of the examples of class c, the fraction predicted as c.
    pub recall: Vec<f32>,
}

impl Evaluation {
    /// From true labels and predicted classes, for `classes` classes.
    pub fn new(labels: &[usize], predicted: &[usize], classes: usize) -> Self {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&t, &p) in labels.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let right: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
        let precision = (0..classes)
            .map(|c| ratio(confusion[c][c], (0..classes).map(|t| confusion[t][c]).sum()))
            .collect();
        let recall = (0..classes)
            .map(|c| ratio(confusion[c][c], confusion[c].iter().sum()))
            .collect();
        Self {
            accuracy: ratio(right, labels.len()),
            confusion,
            precision,
            recall,
        }
    }

    /// The confusion matrix and the per-class figures as a text table.
    pub fn table(&self) -> String {
        let classes = self.confusion.len();
        let mut out = String::from("true \\ predicted");
        for c in 0..classes {
            write!(out, "{c:>6}").unwrap();
        }
        writeln!(out, "   recall").unwrap();
        for (t, row) in self.confusion.iter().enumerate() {
            write!(out, "{t:>16}").unwrap();
            for &n in row {
                write!(out, "{n:>6}").unwrap();
            }
            writeln!(out, "   {:>5.1}%", 100.0 * self.recall[t]).unwrap();
        }
        write!(out, "{:>16}", "precision").unwrap();
        for p in &self.precision {
            write!(out, "{:>5.1}%", 100.0 * p).unwrap();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use course_support::activation::Activation;
    use course_support::network::{Init, Mlp};

    /// Checks that the summary of 784 → 256 ReLU → 10 with `dropout` and
    /// `batch_norm` holds each of the `expected` rows (spaces collapsed).
    fn assert_summary_rows(dropout: f32, batch_norm: bool, expected: &[&str]) {
        let mlp = Mlp::new(
            &[784, 256, 10],
            &[Activation::Relu, Activation::Identity],
            Init::KaimingUniform,
            0,
            reference::init::init_weights,
        )
        .unwrap();
        let table = summary(&Network::new(mlp, dropout, batch_norm).unwrap());
        let rows: Vec<String> = table
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for expected in expected {
            assert!(
                rows.iter().any(|r| r == expected),
                "no row {expected:?} in\n{table}"
            );
        }
    }

    #[test]
    fn summary_counts_like_torchsummary() {
        assert_summary_rows(
            0.0,
            false,
            &[
                "0_Linear [784, 256] [-1, 256] 200,960 200,704",
                "1_relu - [-1, 256] 0 0",
                "2_Linear [256, 10] [-1, 10] 2,570 2,560",
                "total params 203,530",
                "mult-adds per example 203,264",
            ],
        );
    }

    #[test]
    fn summary_lists_batch_norm_and_dropout_in_order() {
        assert_summary_rows(
            0.25,
            true,
            &[
                "0_Linear [784, 256] [-1, 256] 200,960 200,704",
                "1_BatchNorm1d [256] [-1, 256] 512 256",
                "2_relu - [-1, 256] 0 0",
                "3_Dropout(0.25) - [-1, 256] 0 0",
                "4_Linear [256, 10] [-1, 10] 2,570 2,560",
                "total params 204,042",
            ],
        );
    }

    #[test]
    fn precision_and_recall_by_hand() {
        // Three classes; class 2 is never predicted.
        let e = Evaluation::new(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3);
        assert_eq!(
            e.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert_eq!(e.accuracy, 0.6);
        assert_eq!(e.precision, vec![0.5, 2.0 / 3.0, 0.0]);
        assert_eq!(e.recall, vec![0.5, 1.0, 0.0]);
    }

    #[test]
    fn an_epoch_line_shows_validation_only_when_there_is_some() {
        let stats = |loss, accuracy| EpochStats {
            loss,
            accuracy,
            ..EpochStats::default()
        };
        let with = EpochRecord::new(2, stats(0.25, 0.9), Some(stats(0.5, 0.8)), 1e-3, 1.5);
        assert_eq!(
            with.line(10, "val"),
            "epoch   2/10  train loss 0.2500 acc  90.00%  val loss 0.5000 acc  80.00%  lr 1.00e-3  1.5 s"
        );
        let without = EpochRecord::new(2, stats(0.25, 0.9), None, 1e-3, 1.5);
        assert_eq!(
            without.line(10, "val"),
            "epoch   2/10  train loss 0.2500 acc  90.00%  lr 1.00e-3  1.5 s"
        );
        let json = serde_json::to_value(&without).unwrap();
        assert!(json.get("validation_loss").is_none(), "{json}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(203_530), "203,530");
    }
}
