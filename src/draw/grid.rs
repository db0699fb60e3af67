//! Matrices drawn as grids of coloured cells, side by side, each with its title, axis labels, index ticks,
//! optional block lines and colour bar: the heat maps of [`super`].

use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::colorbar::{bar_width, draw_colorbar, short, Scale};
use super::render::Picture;
use super::text::{width, Anchor, Canvas, Drawn};

pub(super) const PAD: i32 = 16;
const GAP: i32 = 36;
const TITLE_FONT: f64 = 20.0;
const CAPTION_FONT: f64 = 15.0;
const PANEL_FONT: f64 = 17.0;
pub(super) const AXIS_FONT: f64 = 15.0;
pub(super) const TICK_FONT: f64 = 13.0;
const BELOW: i32 = 46; // x tick labels and the x axis label

/// One matrix to draw.
pub(super) struct Panel<'a> {
    pub title: String,
    pub values: ArrayView2<'a, f64>,
    /// `(major, minor)` row-block sizes; 0 draws no lines.
    pub row_blocks: (usize, usize),
    /// `(major, minor)` column-block sizes; 0 draws no lines.
    pub col_blocks: (usize, usize),
    /// Leave exact zeros unpainted and unlabelled (structural zeros of a sparse matrix).
    pub zero_is_blank: bool,
    pub scale: Scale,
    /// `(x, y)` axis labels.
    pub axes: (&'a str, &'a str),
    /// A colour bar of its own, with this title.
    pub colorbar: Option<&'a str>,
    /// Print each value in its cell, where it fits.
    pub values_in_cells: bool,
}

/// Panels side by side under a title and a caption line.
pub(super) struct Figure<'a> {
    pub title: String,
    /// A second, smaller line under the title; empty for none.
    pub caption: String,
    pub panels: Vec<Panel<'a>>,
    /// Side of a matrix cell in pixels.
    pub cell: u32,
    /// One colour bar for every panel, right of the last one, with this title.
    pub shared_bar: Option<(Scale, &'a str)>,
}

impl<'a> Panel<'a> {
    /// A panel with no block lines, every cell painted, no colour bar and no values printed; set the other
    /// fields with struct update syntax.
    pub fn plain(
        title: String,
        values: ArrayView2<'a, f64>,
        scale: Scale,
        axes: (&'a str, &'a str),
    ) -> Self {
        Panel {
            title,
            values,
            row_blocks: (0, 0),
            col_blocks: (0, 0),
            zero_is_blank: false,
            scale,
            axes,
            colorbar: None,
            values_in_cells: false,
        }
    }

    fn left(&self) -> i32 {
        let widest = width(&(self.values.nrows().max(1) - 1).to_string(), TICK_FONT);
        24 + widest.ceil() as i32 + 8
    }

    fn matrix(&self, cell: u32) -> (i32, i32) {
        let (r, c) = self.values.dim();
        ((c as u32 * cell) as i32, (r as u32 * cell) as i32)
    }

    fn width(&self, cell: u32) -> i32 {
        let bar = if self.colorbar.is_some() {
            14 + bar_width(self.scale)
        } else {
            0
        };
        let content = self.left() + self.matrix(cell).0 + bar;
        content.max(width(&self.title, PANEL_FONT).ceil() as i32)
    }
}

impl Figure<'_> {
    fn header(&self) -> i32 {
        let title = if self.title.is_empty() { 0 } else { 30 };
        let caption = if self.caption.is_empty() { 0 } else { 24 };
        title + caption + 6
    }

    fn panel_title(&self) -> i32 {
        if self.panels.iter().all(|p| p.title.is_empty()) {
            0
        } else {
            28
        }
    }

    fn bar_width(&self) -> i32 {
        self.shared_bar
            .map_or(0, |(scale, _)| 14 + bar_width(scale))
    }

    fn tallest(&self) -> i32 {
        self.panels
            .iter()
            .map(|p| p.matrix(self.cell).1)
            .max()
            .unwrap_or(0)
    }
}

impl Picture for Figure<'_> {
    fn size(&self) -> (u32, u32) {
        let panels: i32 = self.panels.iter().map(|p| p.width(self.cell)).sum::<i32>()
            + GAP * (self.panels.len() as i32 - 1).max(0);
        let text = width(&self.title, TITLE_FONT)
            .max(width(&self.caption, CAPTION_FONT))
            .ceil() as i32;
        let w = (panels + self.bar_width()).max(text) + 2 * PAD;
        let h = self.header() + self.panel_title() + self.tallest() + BELOW + 2 * PAD;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        canvas.area.fill(&WHITE)?;
        canvas.text(&self.title, (PAD, PAD), TITLE_FONT, Anchor::LEFT_TOP, BLACK)?;
        let caption_y = PAD + if self.title.is_empty() { 0 } else { 30 };
        canvas.text(
            &self.caption,
            (PAD, caption_y),
            CAPTION_FONT,
            Anchor::LEFT_TOP,
            RGBColor(70, 70, 70),
        )?;
        let top = PAD + self.header();
        let mut x = PAD;
        for p in &self.panels {
            draw_panel(canvas, p, self.cell, (x, top), self.panel_title())?;
            x += p.width(self.cell) + GAP;
        }
        if let Some((scale, title)) = self.shared_bar {
            let bar_x = x - GAP + 14;
            let bar_y = top + self.panel_title();
            draw_colorbar(canvas, scale, (bar_x, bar_y), self.tallest() as u32, title)?;
        }
        Ok(())
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50, ... whose run of cells spans `needed` pixels.
pub(super) fn tick_step(cell: f64, needed: f64) -> usize {
    let mut step = 1usize;
    for k in 0.. {
        let s = [1, 2, 5][k % 3] * 10usize.pow(k as u32 / 3);
        step = s;
        if s as f64 * cell >= needed {
            break;
        }
    }
    step
}

fn draw_panel<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    p: &Panel,
    cell: u32,
    (ox, oy): (i32, i32),
    title_h: i32,
) -> Drawn<DB> {
    let (rows, cols) = p.values.dim();
    let (mw, mh) = p.matrix(cell);
    let (mx, my) = (ox + p.left(), oy + title_h);
    let title_x = if p.left() + (width(&p.title, PANEL_FONT) as i32) <= p.width(cell) {
        mx
    } else {
        ox
    };
    canvas.text(&p.title, (title_x, oy), PANEL_FONT, Anchor::LEFT_TOP, BLACK)?;
    let c = cell as i32;
    let at = |r: usize, k: usize| (mx + k as i32 * c, my + r as i32 * c);
    let value_font = (cell as f64 * 0.5).min(16.0);
    for ((r, k), &v) in p.values.indexed_iter() {
        if p.zero_is_blank && v == 0.0 {
            continue;
        }
        canvas.rect(at(r, k), at(r + 1, k + 1), p.scale.colour(v).filled())?;
        let label = short(v);
        if p.values_in_cells && cell >= 18 && width(&label, value_font) <= cell as f64 - 3.0 {
            let centre = (at(r, k).0 + c / 2, at(r, k).1 + c / 2);
            canvas.text(
                &label,
                centre,
                value_font,
                Anchor::CENTRE,
                p.scale.ink_on(v),
            )?;
        }
    }
    block_lines(canvas, p, cell, (mx, my))?;
    canvas.rect((mx, my), (mx + mw, my + mh), BLACK.stroke_width(1))?;
    index_ticks(canvas, rows, cols, cell, (mx, my))?;
    canvas.text(
        p.axes.0,
        (mx + mw / 2, my + mh + 24),
        AXIS_FONT,
        Anchor::at(HPos::Center, VPos::Top),
        BLACK,
    )?;
    canvas.text(
        p.axes.1,
        (ox + 9, my + mh / 2),
        AXIS_FONT,
        Anchor::UP,
        BLACK,
    )?;
    if let Some(title) = p.colorbar {
        draw_colorbar(canvas, p.scale, (mx + mw + 14, my), mh as u32, title)?;
    }
    Ok(())
}

fn block_lines<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    p: &Panel,
    cell: u32,
    (mx, my): (i32, i32),
) -> Drawn<DB> {
    let (rows, cols) = p.values.dim();
    let c = cell as i32;
    let lines = |(major, minor): (usize, usize), n: usize| {
        let mut out = Vec::new();
        for (step, thick) in [(minor, false), (major, true)] {
            if step > 0 && step < n {
                out.extend((step..n).step_by(step).map(|k| (k as i32 * c, thick)));
            }
        }
        out
    };
    let style = |thick: bool| {
        if thick {
            BLACK.stroke_width(2)
        } else {
            RGBColor(150, 150, 150).stroke_width(1)
        }
    };
    for (d, thick) in lines(p.row_blocks, rows) {
        canvas.line((mx, my + d), (mx + cols as i32 * c, my + d), style(thick))?;
    }
    for (d, thick) in lines(p.col_blocks, cols) {
        canvas.line((mx + d, my), (mx + d, my + rows as i32 * c), style(thick))?;
    }
    Ok(())
}

/// Row indices left of the matrix and column indices under it, at the cell centres.
fn index_ticks<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    rows: usize,
    cols: usize,
    cell: u32,
    (mx, my): (i32, i32),
) -> Drawn<DB> {
    let c = cell as i32;
    let (mh, half) = (rows as i32 * c, c / 2);
    let col_needed = width(&cols.to_string(), TICK_FONT) + 8.0;
    for k in (0..cols).step_by(tick_step(cell as f64, col_needed)) {
        let x = mx + k as i32 * c + half;
        canvas.line((x, my + mh), (x, my + mh + 4), BLACK.stroke_width(1))?;
        let label = k.to_string();
        canvas.text(
            &label,
            (x, my + mh + 6),
            TICK_FONT,
            Anchor::at(HPos::Center, VPos::Top),
            BLACK,
        )?;
    }
    for r in (0..rows).step_by(tick_step(cell as f64, 16.0)) {
        let y = my + r as i32 * c + half;
        canvas.line((mx - 4, y), (mx, y), BLACK.stroke_width(1))?;
        let label = r.to_string();
        canvas.text(
            &label,
            (mx - 6, y),
            TICK_FONT,
            Anchor::at(HPos::Right, VPos::Center),
            BLACK,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tick_step;

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(40.0, 20.0), 1);
        assert_eq!(tick_step(12.0, 20.0), 2);
        assert_eq!(tick_step(5.0, 20.0), 5);
        assert_eq!(tick_step(1.0, 30.0), 50);
    }
}
