//! The canvas every plot draws on: figures rendered in memory (SVG text,
//! or PNG for pictures of thousands of cells) and written all-or-nothing,
//! and the shared look: font, colours, legend, lines, ticks.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use course_support::data::Dataset;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf32;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::files::write_atomically;

/// One rendered figure: its file name and its bytes (SVG or PNG).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Writes `figures` into `dir` (created if missing), each atomically, and
/// returns the paths written.
pub fn write_all(figures: &[Figure], dir: &Path) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    figures
        .iter()
        .map(|figure| {
            let path = dir.join(&figure.file_name);
            write_atomically(&path, &figure.bytes)?;
            Ok(path)
        })
        .collect()
}

/// A drawing area of an SVG figure.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Renders an SVG figure in memory.
pub fn render(
    file_name: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<()>,
) -> Result<Figure> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root).with_context(|| format!("drawing {file_name}"))?;
        root.present().map_err(plot_error)?;
    }
    Ok(Figure {
        file_name: file_name.to_owned(),
        bytes: svg.into_bytes(),
    })
}

/// A drawing area of a PNG figure.
pub type PixelArea<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Renders a PNG figure in memory.
pub fn render_png(
    file_name: &str,
    size: (u32, u32),
    draw: impl FnOnce(&PixelArea<'_>) -> Result<()>,
) -> Result<Figure> {
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root).with_context(|| format!("drawing {file_name}"))?;
        root.present().map_err(plot_error)?;
    }
    let image = image::RgbImage::from_raw(size.0, size.1, pixels)
        .ok_or_else(|| anyhow!("{file_name}: the pixel buffer does not match {size:?}"))?;
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .with_context(|| format!("encoding {file_name} as PNG"))?;
    Ok(Figure {
        file_name: file_name.to_owned(),
        bytes,
    })
}

/// The legend of every figure: a light box in one corner.
pub fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .margin(8)
        // Room for a sample as long as `legend_line`'s, with a gap.
        .legend_area_size(LEGEND_SAMPLE + 10)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, LEGEND_SIZE))
        .draw()
        .map_err(plot_error)
}

/// The shared look of a chart's axes: tick labels and axis labels at the
/// figures' sizes, and only the major grid lines (the minor ones clutter).
pub fn axes<'a, 'b, X, Y, DB>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
    DB: DrawingBackend,
{
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(WHITE.mix(0.0))
        .label_style((FONT, TICK_SIZE))
        .axis_desc_style((FONT, AXIS_SIZE));
    mesh
}

/// A labelled line through `points` with a dot at each one.
pub fn draw_line_with_dots<'a, X, Y, CT>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    points: Vec<(X, Y)>,
    colour: RGBColor,
    label: &str,
) -> Result<()>
where
    X: Clone + 'static,
    Y: Clone + 'static,
    CT: plotters::coord::CoordTranslate<From = (X, Y)>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
        .map_err(plot_error)?
        .label(label)
        .legend(legend_line(colour.stroke_width(2)));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )
        .map_err(plot_error)?;
    Ok(())
}

/// The length of a legend's sample line, in pixels: long enough to show
/// three dashes of a dashed one.
const LEGEND_SAMPLE: i32 = 30;

/// A short line in `style`, the legend's sample of a solid series.
pub fn legend_line(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], style)
}

/// Dashes and gaps of a dashed series, in pixels.
pub const DASH: (i32, i32) = (6, 4);

/// A short dashed line in `style`, the legend's sample of a series drawn
/// with `DashedLineSeries` and `DASH`.
pub fn legend_dashes(
    style: ShapeStyle,
) -> impl Fn((i32, i32)) -> DashedPathElement<std::array::IntoIter<(i32, i32), 2>, i32> {
    move |(x, y)| DashedPathElement::new([(x, y), (x + LEGEND_SAMPLE, y)], DASH.0, DASH.1, style)
}

/// A tick label with one decimal, never "-0.0".
pub fn tick(v: &f32) -> String {
    // Round first: a tick at -1e-8 would otherwise print as "-0.0"; adding
    // 0.0 turns an exact -0.0 into 0.0.
    let rounded = (v * 10.0).round() / 10.0;
    format!("{:.1}", rounded + 0.0)
}

/// A tick of a log axis as a power of ten, 10⁻³, rather than 1e-3.
pub fn power_of_ten(v: &f32) -> String {
    const SUPERSCRIPTS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let exponent = v.log10().round() as i32;
    let digits: String = exponent
        .unsigned_abs()
        .to_string()
        .chars()
        .map(|d| SUPERSCRIPTS[d.to_digit(10).unwrap_or(0) as usize])
        .collect();
    let sign = if exponent < 0 { "⁻" } else { "" };
    format!("10{sign}{digits}")
}

/// A plotters error (generic over the backend) as an `anyhow::Error`.
pub fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plotters: {e}")
}

/// The font of every label.
pub const FONT: &str = "sans-serif";

// Text sizes. Plotters draws text of size s at s / 1.24 pixels. The book's
// figures are at most 750 px wide, its column, so it shows them at their own
// size and these read at 12.9, 13.7, 14.5 and 16.1 px.
/// Tick labels, and the small print in a plot.
pub const TICK_SIZE: i32 = 16;
/// Legends.
pub const LEGEND_SIZE: i32 = 17;
/// Axis labels and the titles of panels.
pub const AXIS_SIZE: i32 = 18;
/// Titles.
pub const TITLE_SIZE: i32 = 20;

/// The height of an x-axis label area: ticks, their labels, and the axis
/// label under them without touching.
pub const X_LABEL_AREA: u32 = 50;

/// Blue and red: the two classes, or the two series of a plot.
pub const CLASS_COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

/// Draws a two-input data set's examples as dots of `radius` pixels, one
/// colour per class (labels 0 and 1).
pub fn draw_classes<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf32, RangedCoordf32>>,
    data: &Dataset,
    radius: u32,
) -> Result<()> {
    for (class, colour) in CLASS_COLOURS.iter().enumerate() {
        let points = data
            .inputs
            .iter()
            .zip(&data.labels)
            .filter(|&(_, &label)| label == class as f32)
            .map(|(x, _)| Circle::new((x[0], x[1]), radius, colour.filled()));
        chart.draw_series(points).map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_never_show_minus_zero() {
        assert_eq!(tick(&-1e-8), "0.0");
        assert_eq!(tick(&-0.0), "0.0");
        assert_eq!(tick(&1.26), "1.3");
    }

    #[test]
    fn figures_are_written_whole_and_alone() {
        let figure = render("empty.svg", (20, 10), |_| Ok(())).unwrap();
        assert!(figure.bytes.starts_with(b"<svg"));
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(std::slice::from_ref(&figure), dir.path()).unwrap();
        assert_eq!(fs::read(&written[0]).unwrap(), figure.bytes);
        // Only the figure is left behind: no temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
