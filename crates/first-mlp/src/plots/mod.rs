//! Drawing with plotters: the canvas and the shared look (`canvas`), and
//! the plots of a training run: learning curves, the confusion matrix and
//! grids of digits. Takes plain data; knows nothing of how a run is trained.
//!
//! Rendering to bytes first makes writing all-or-nothing and lets a test
//! compare the committed figures with what the code draws today.

mod canvas;
mod confusion;
mod curves;
mod digits;

pub use canvas::{
    AXIS_SIZE, Area, CLASS_COLOURS, DASH, FONT, Figure, PixelArea, TICK_SIZE, TITLE_SIZE,
    X_LABEL_AREA, axes, draw_classes, draw_legend, draw_line_with_dots, legend_dashes, legend_line,
    plot_error, power_of_ten, render, render_png, tick, write_all,
};
pub use confusion::{draw_confusion, draw_confusion_named};
pub use curves::draw_curves;
pub use digits::draw_digits;
