//! A grid of MNIST digits, each with a caption.

use anyhow::Result;
use mnist::Images;
use plotters::prelude::*;

use super::canvas::{FONT, LEGEND_SIZE, PixelArea, TITLE_SIZE, plot_error};

/// A grid of 4 × 8 digits, each with a caption.
pub fn draw_digits(
    root: &PixelArea<'_>,
    images: &Images,
    picks: &[(usize, String)],
    title: &str,
) -> Result<()> {
    let root = root.titled(title, (FONT, TITLE_SIZE)).map_err(plot_error)?;
    let cells = root.split_evenly((4, 8));
    for (cell, (index, caption)) in cells.iter().zip(picks) {
        let (w, h) = cell.dim_in_pixel();
        // Room under the digit for its caption.
        let scale = ((w.min(h) as i32 - 22) / 28).max(1);
        let left = (w as i32 - 28 * scale) / 2;
        for (k, &p) in images.image(*index).iter().enumerate() {
            let (r, c) = ((k / 28) as i32, (k % 28) as i32);
            // Ink is dark on white, as digits are written.
            let v = 255 - p;
            let x = left + c * scale;
            let y = r * scale;
            cell.draw(&Rectangle::new(
                [(x, y), (x + scale, y + scale)],
                RGBColor(v, v, v).filled(),
            ))
            .map_err(plot_error)?;
        }
        cell.draw(&Text::new(
            caption.clone(),
            (left, 28 * scale + 2),
            (FONT, LEGEND_SIZE),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}
