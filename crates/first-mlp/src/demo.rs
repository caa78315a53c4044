//! The demo: trains stage 1's perceptrons and stage 4's MLPs, prints how
//! they did, and draws every figure of the book.

use std::path::Path;

use anyhow::Result;
use course_support::data::accuracy;

use crate::figures;

/// Prints both stages' results and writes the figures into `out`.
pub fn run(out: &Path) -> Result<()> {
    report_perceptrons();
    report_mlps()?;
    figures::write(out)
}

fn report_perceptrons() {
    println!("Stage 1: perceptrons trained from zero weights with the perceptron rule\n");
    println!(
        "{:<14} {:>6} {:>10} {:>9}  {:<24} mistakes per epoch",
        "data", "epochs", "separated", "accuracy", "w, b"
    );
    for run in figures::train_stage_1_perceptrons() {
        let predictions = run.perceptron.predict_batch(&run.data.input_matrix());
        let acc = accuracy(predictions.as_slice(), &run.data.labels);
        let mistakes = &run.report.mistakes_per_epoch;
        let shown: Vec<String> = mistakes.iter().take(12).map(|m| m.to_string()).collect();
        let more = if mistakes.len() > 12 { " …" } else { "" };
        let w = &run.perceptron.weights;
        println!(
            "{:<14} {:>6} {:>10} {:>8.1}%  {:<24} {}{more}",
            run.name,
            mistakes.len(),
            if run.report.converged { "yes" } else { "no" },
            100.0 * acc,
            format!("({:.2}, {:.2}), {:.2}", w[0], w[1], run.perceptron.bias),
            shown.join(" "),
        );
    }
    println!(
        "\nXOR is never separated: no straight line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other."
    );
}

fn report_mlps() -> Result<()> {
    println!("\nStage 4: MLPs trained by backpropagation (full-batch Adam, cross-entropy)\n");
    println!(
        "{:<10} {:>6} {:>12} {:>11} {:>9}",
        "data", "steps", "first loss", "last loss", "accuracy"
    );
    for run in figures::train_stage_4_mlps()? {
        println!(
            "{:<10} {:>6} {:>12.4} {:>11.5} {:>8.1}%",
            run.name,
            run.losses.len(),
            run.losses.first().copied().unwrap_or(f32::NAN),
            run.losses.last().copied().unwrap_or(f32::NAN),
            100.0 * run.accuracy
        );
    }
    println!("\nThe hidden layer is what the perceptron lacked: XOR is learned.");
    Ok(())
}
