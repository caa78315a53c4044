//! The confusion matrix as a heat map.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Area, CLASS_COLOURS, FONT, TICK_SIZE, TITLE_SIZE, axes, plot_error};
use crate::report::Evaluation;

/// The confusion matrix with the classes labelled by their indices.
pub fn draw_confusion(root: &Area<'_>, evaluation: &Evaluation) -> Result<()> {
    draw_confusion_named(root, evaluation, &[])
}

/// The confusion matrix as a heat map; `names` label the classes (their
/// indices when empty). With more than 12 classes the counts are left out.
pub fn draw_confusion_named(
    root: &Area<'_>,
    evaluation: &Evaluation,
    names: &[&str],
) -> Result<()> {
    let classes = evaluation.confusion.len();
    // Many classes leave too little room across a column for a name: the
    // predicted classes' names then run down the page.
    let many = classes > 12;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Confusion matrix (test accuracy {:.2}%)",
                100.0 * evaluation.accuracy
            ),
            (FONT, TITLE_SIZE),
        )
        .margin(12)
        .x_label_area_size(if many { 80 } else { 56 })
        .y_label_area_size(70)
        // Cells span c ± 0.5, so the integer ticks fall at their centres.
        .build_cartesian_2d(-0.5f32..classes as f32 - 0.5, -0.5f32..classes as f32 - 0.5)
        .map_err(plot_error)?;
    let label = |v: &f32, flip: bool| {
        let c = v.round();
        if (v - c).abs() > 1e-3 || c < 0.0 || c >= classes as f32 {
            return String::new();
        }
        let c = if flip {
            classes - 1 - c as usize
        } else {
            c as usize
        };
        names
            .get(c)
            .map_or_else(|| c.to_string(), |n| (*n).to_owned())
    };
    axes(&mut chart)
        .disable_mesh()
        .x_desc("predicted")
        .y_desc("true")
        .x_labels(classes)
        .y_labels(classes)
        .x_label_formatter(&|v| if many { String::new() } else { label(v, false) })
        .y_label_formatter(&|v| label(v, true))
        .draw()
        .map_err(plot_error)?;
    if many {
        // Plotters would centre a turned tick label on its tick, half of it
        // over the plot: the names are drawn here instead, reading upwards
        // and ending just under their column.
        let style = TextStyle::from(
            (FONT, TICK_SIZE)
                .into_font()
                .transform(FontTransform::Rotate270),
        )
        .pos(Pos::new(HPos::Right, VPos::Center));
        for c in 0..classes {
            let name = EmptyElement::at((c as f32, -0.5))
                + Text::new(label(&(c as f32), false), (0, 10), style.clone());
            chart
                .draw_series(std::iter::once(name))
                .map_err(plot_error)?;
        }
    }
    let most = evaluation
        .confusion
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (t, row) in evaluation.confusion.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            // Square-root shading keeps the off-diagonal mistakes visible.
            let shade = (n as f64 / most).sqrt();
            let (x, y) = (p as f32, (classes - 1 - t) as f32);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    CLASS_COLOURS[0].mix(0.05 + 0.95 * shade).filled(),
                )))
                .map_err(plot_error)?;
            if n > 0 && !many {
                let colour = if shade > 0.5 { WHITE } else { BLACK };
                let style = (FONT, TICK_SIZE)
                    .into_font()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart
                    .draw_series(std::iter::once(Text::new(n.to_string(), (x, y), style)))
                    .map_err(plot_error)?;
            }
        }
    }
    Ok(())
}
