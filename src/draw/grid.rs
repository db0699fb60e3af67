//! A matrix drawn as a grid of coloured cells, with optional block lines; the one primitive of [`super`].

use std::sync::Once;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

const TITLE: u32 = 34;
const MARGIN: u32 = 12;

/// One matrix to draw.
pub(super) struct Panel<'a> {
    pub title: String,
    pub values: ArrayView2<'a, f64>,
    /// `(major, minor)` row-block sizes; 0 draws no lines.
    pub row_blocks: (usize, usize),
    /// `(major, minor)` column-block sizes; 0 draws no lines.
    pub col_blocks: (usize, usize),
    /// Leave exact zeros unpainted (structural zeros of a sparse matrix).
    pub zero_is_blank: bool,
    /// The value drawn full red (its negative full blue); `None`: the largest magnitude.
    pub scale: Option<f64>,
}

impl<'a> Panel<'a> {
    pub fn plain(title: String, values: ArrayView2<'a, f64>) -> Self {
        Panel {
            title,
            values,
            row_blocks: (0, 0),
            col_blocks: (0, 0),
            zero_is_blank: false,
            scale: None,
        }
    }
}

/// Registers the embedded DejaVu Sans as "sans-serif" (once per process).
pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font, so this cannot fail; if it did, text falls back to nothing.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        );
    });
}

/// Canvas size for `panels` side by side, with square cells, at most `max_width` pixels wide.
pub(super) fn canvas_size(panels: &[&Panel], max_width: u32) -> (u32, u32) {
    let n = panels.len() as u32;
    let cols = panels
        .iter()
        .map(|p| p.values.ncols())
        .max()
        .unwrap_or(1)
        .max(1) as u32;
    let rows = panels
        .iter()
        .map(|p| p.values.nrows())
        .max()
        .unwrap_or(1)
        .max(1) as u32;
    let per_panel = max_width / n - 2 * MARGIN;
    let cell = (per_panel / cols).clamp(1, 40);
    let width = n * (cols * cell + 2 * MARGIN);
    (width.max(560), rows * cell + TITLE + MARGIN)
}

/// Blue (negative), white (zero), red (positive), linear in `v / scale`.
fn diverging(v: f64, scale: f64) -> RGBColor {
    let t = if scale > 0.0 {
        (v / scale).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let fade = |t: f64| (255.0 * (1.0 - t.abs())).round() as u8;
    if t < 0.0 {
        RGBColor(fade(t), fade(t), 255)
    } else {
        RGBColor(255, fade(t), fade(t))
    }
}

/// Draws `panels` side by side on `root`.
pub(super) fn draw_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Panel],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len()));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let (rows, cols) = p.values.dim();
    let scale = p
        .scale
        .unwrap_or_else(|| p.values.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let pattern = p.zero_is_blank && p.values.iter().all(|&u| u == 0.0 || u == 1.0);
    let cell = ((w - 2 * MARGIN) as f64 / cols.max(1) as f64)
        .min((h - TITLE - MARGIN) as f64 / rows.max(1) as f64);
    let x = |c: usize| MARGIN as i32 + (c as f64 * cell).round() as i32;
    let y = |r: usize| TITLE as i32 + (r as f64 * cell).round() as i32;
    area.draw(&Text::new(
        p.title.clone(),
        (MARGIN as i32, 8),
        ("sans-serif", 16).into_font(),
    ))?;
    for ((r, c), &v) in p.values.indexed_iter() {
        if p.zero_is_blank && v == 0.0 {
            continue;
        }
        let colour = if pattern {
            RGBColor(30, 30, 90) // a pattern: every stored entry alike
        } else {
            diverging(v, scale)
        };
        area.draw(&Rectangle::new(
            [(x(c), y(r)), (x(c + 1), y(r + 1))],
            colour.filled(),
        ))?;
    }
    let lines = |major: usize, minor: usize, n: usize| {
        let mut out = Vec::new();
        for (step, thick) in [(minor, false), (major, true)] {
            if step > 0 && step < n {
                out.extend((step..n).step_by(step).map(|k| (k, thick)));
            }
        }
        out
    };
    for (k, thick) in lines(p.row_blocks.0, p.row_blocks.1, rows) {
        let style = line_style(thick);
        area.draw(&PathElement::new(
            vec![(x(0), y(k)), (x(cols), y(k))],
            style,
        ))?;
    }
    for (k, thick) in lines(p.col_blocks.0, p.col_blocks.1, cols) {
        let style = line_style(thick);
        area.draw(&PathElement::new(
            vec![(x(k), y(0)), (x(k), y(rows))],
            style,
        ))?;
    }
    area.draw(&Rectangle::new(
        [(x(0), y(0)), (x(cols), y(rows))],
        BLACK.stroke_width(1),
    ))
}

fn line_style(thick: bool) -> ShapeStyle {
    if thick {
        BLACK.stroke_width(2)
    } else {
        RGBColor(150, 150, 150).stroke_width(1)
    }
}
