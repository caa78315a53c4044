//! What a run prints: the model summary table (in the manner of
//! torchsummaryX) and the evaluation: confusion matrix, precision, recall.

use std::fmt::Write;

use reference::{Layer, Mlp};
use serde::Serialize;

/// A table of the layers: kernel shape, output shape, parameters and
/// multiply-adds per example, then the totals.
pub fn summary(mlp: &Mlp) -> String {
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
    let mut width = mlp.in_features().unwrap_or(0);
    let (mut params, mut mult_adds) = (0usize, 0usize);
    for (index, layer) in mlp.layers.iter().enumerate() {
        let (name, kernel, p, m) = match layer {
            Layer::Linear(l) => {
                width = l.out_features();
                (
                    format!("{index}_Linear"),
                    format!("[{}, {}]", l.in_features(), l.out_features()),
                    l.parameter_count(),
                    l.in_features() * l.out_features(),
                )
            }
            Layer::Maxout(m) => {
                width = m.out_features();
                (
                    format!("{index}_Maxout(k={})", m.pieces),
                    format!("[{}, {}]", m.linear.in_features(), m.linear.out_features()),
                    m.linear.parameter_count(),
                    m.linear.in_features() * m.linear.out_features(),
                )
            }
            Layer::Activation(a) => (format!("{index}_{}", a.slug()), "-".to_owned(), 0, 0),
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
    use reference::Activation;
    use reference::init::Init;

    #[test]
    fn summary_counts_like_torchsummary() {
        let mlp = Mlp::new(
            &[784, 256, 10],
            &[Activation::Relu, Activation::Identity],
            Init::KaimingUniform,
            0,
        )
        .unwrap();
        let table = summary(&mlp);
        let rows: Vec<String> = table
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for expected in [
            "0_Linear [784, 256] [-1, 256] 200,960 200,704",
            "1_relu - [-1, 256] 0 0",
            "2_Linear [256, 10] [-1, 10] 2,570 2,560",
            "total params 203,530",
            "mult-adds per example 203,264",
        ] {
            assert!(
                rows.iter().any(|r| r == expected),
                "no row {expected:?} in\n{table}"
            );
        }
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
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(203_530), "203,530");
    }
}
