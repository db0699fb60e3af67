//! The sparsity pattern of a convolution's Toeplitz matrix at one entry per pixel, its channel blocks marked,
//! with a magnified inset of the first block.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::grid::{tick_step, AXIS_FONT, PAD, TICK_FONT};
use super::render::{render, Picture};
use super::text::{width, Anchor, Canvas, Drawn};
use crate::lower::Toeplitz;
use crate::{Result, Scalar};

const INK: RGBColor = RGBColor(20, 20, 80);
const BLOCK_LINE: RGBColor = RGBColor(235, 140, 40);
const ZOOM_BOX: RGBColor = RGBColor(220, 30, 30);
/// Pixels per entry in the inset.
const ZOOM: i32 = 4;
const HEADER: i32 = 64;
const LEFT: i32 = 70;
const ABOVE: i32 = 22; // input channel names over the column blocks

/// The sparsity pattern of the Toeplitz matrix `t` at one pixel per entry, a dark pixel for each stored
/// entry. Thin orange lines, drawn in one-pixel gaps between the blocks so that they hide no entry, separate
/// the output channels (row blocks of `OH*OW`) and the input channels (column blocks of `H*W`); an inset
/// magnifies the first block (output channel 0 against input channel 0), where the band structure of the
/// convolution shows. The title gives the size and the density `nnz / (rows cols)`.
///
/// # Errors
/// [`Error::InvalidLayer`](crate::Error::InvalidLayer) for an extension other than `.png`/`.svg`;
/// [`Error::Format`](crate::Error::Format) when the file cannot be written.
///
/// ```
/// use linear_collapse::{draw, lower::toeplitz, layer::{Conv2d, Conv2dConfig}, Shape};
/// use ndarray::Array4;
/// let conv = Conv2d::new(Array4::from_elem((4, 2, 3, 3), 1.0f32), None, Conv2dConfig::default())?;
/// let t = toeplitz(&conv, Shape::chw(2, 8, 8))?;
/// let path = std::env::temp_dir().join("linear_collapse_sparsity_doc.png");
/// draw::sparsity(&t, &path)?;
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn sparsity<T: Scalar>(t: &Toeplitz<T>, path: impl AsRef<Path>) -> Result<()> {
    let (din, dout) = (t.input_shape.dims(), t.output_shape.dims());
    let (rows, cols) = (t.matrix.nrows(), t.matrix.ncols());
    let entries: Vec<(usize, usize)> = (0..rows)
        .flat_map(|r| t.matrix.row(r).0.iter().map(move |&c| (r, c)))
        .collect();
    let density = entries.len() as f64 / (rows as f64 * cols as f64).max(1.0);
    let picture = Sparsity {
        title: format!(
            "Toeplitz matrix T ({rows} x {cols}): {} nonzero entries, density {:.1}%",
            entries.len(),
            100.0 * density
        ),
        caption: format!(
            "input {} -> output {}, one pixel per entry; orange lines: every {} rows one output channel, \
             every {} columns one input channel",
            din.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x"),
            dout.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x"),
            dout[1] * dout[2],
            din[1] * din[2],
        ),
        entries,
        rows,
        cols,
        block: ((dout[1] * dout[2]).max(1), (din[1] * din[2]).max(1)),
        in_width: din[2].max(1),
        out_width: dout[2].max(1),
    };
    render(path.as_ref(), &picture)
}

struct Sparsity {
    title: String,
    caption: String,
    entries: Vec<(usize, usize)>,
    rows: usize,
    cols: usize,
    /// Rows of one output channel, columns of one input channel.
    block: (usize, usize),
    /// Input and output image widths: the sub-blocks of the inset.
    in_width: usize,
    out_width: usize,
}

impl Sparsity {
    /// Pixel offsets of row `r` and column `c` in the main picture (one-pixel gaps between blocks).
    fn at(&self, r: usize, c: usize) -> (i32, i32) {
        let (br, bc) = self.block;
        ((c + c / bc) as i32, (r + r / br) as i32)
    }

    fn main_size(&self) -> (i32, i32) {
        let (w, h) = self.at(self.rows.max(1) - 1, self.cols.max(1) - 1);
        (w + 1, h + 1)
    }

    fn inset_size(&self) -> (i32, i32) {
        let (br, bc) = self.block;
        (
            bc.min(self.cols) as i32 * ZOOM,
            br.min(self.rows) as i32 * ZOOM,
        )
    }

    fn notes(&self) -> [String; 3] {
        [
            format!(
                "grey lines: every {} columns one input row, every {} rows one output row",
                self.in_width, self.out_width
            ),
            "each row is one output pixel: its kernel taps, one run per kernel row".into(),
            "the runs shift right from row to row: the doubly block Toeplitz band".into(),
        ]
    }

    fn inset_title(&self) -> String {
        let (br, bc) = self.block;
        format!(
            "zoom x{ZOOM}: output channel 0 x input channel 0 (rows 0-{}, columns 0-{})",
            br.min(self.rows) - 1,
            bc.min(self.cols) - 1
        )
    }
}

impl Picture for Sparsity {
    fn size(&self) -> (u32, u32) {
        let (mw, mh) = self.main_size();
        let (iw, _) = self.inset_size();
        let notes = self
            .notes()
            .iter()
            .map(|n| width(n, TICK_FONT + 1.0))
            .fold(0.0, f64::max);
        let inset = (iw + 30)
            .max(width(&self.inset_title(), AXIS_FONT).ceil() as i32)
            .max(notes.ceil() as i32);
        let text = width(&self.caption, 15.0)
            .max(width(&self.title, 20.0))
            .ceil() as i32;
        let w = (LEFT + mw + 70 + inset).max(text) + 2 * PAD;
        let h = PAD + HEADER + ABOVE + mh + 50 + PAD;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Drawn<DB> {
        canvas.area.fill(&WHITE)?;
        canvas.text(&self.title, (PAD, PAD), 20.0, Anchor::LEFT_TOP, BLACK)?;
        canvas.text(
            &self.caption,
            (PAD, PAD + 30),
            15.0,
            Anchor::LEFT_TOP,
            RGBColor(70, 70, 70),
        )?;
        let origin = (PAD + LEFT, PAD + HEADER + ABOVE);
        self.draw_main(canvas, origin)?;
        let (mw, _) = self.main_size();
        self.draw_inset(canvas, (origin.0 + mw + 70, origin.1))
    }
}

impl Sparsity {
    fn draw_main<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        (mx, my): (i32, i32),
    ) -> Drawn<DB> {
        let (br, bc) = self.block;
        let (mw, mh) = self.main_size();
        for r in (br..self.rows).step_by(br) {
            let y = my + self.at(r, 0).1 - 1;
            canvas.line((mx, y), (mx + mw, y), BLOCK_LINE.stroke_width(1))?;
        }
        for c in (bc..self.cols).step_by(bc) {
            let x = mx + self.at(0, c).0 - 1;
            canvas.line((x, my), (x, my + mh), BLOCK_LINE.stroke_width(1))?;
        }
        for &(r, c) in &self.entries {
            let (x, y) = self.at(r, c);
            canvas.area.draw(&Pixel::new((mx + x, my + y), INK))?;
        }
        canvas.rect(
            (mx - 1, my - 1),
            (mx + mw + 1, my + mh + 1),
            BLACK.stroke_width(1),
        )?;
        let (iw, ih) = self.at(br.min(self.rows), bc.min(self.cols));
        canvas.rect(
            (mx - 1, my - 1),
            (mx + iw, my + ih),
            ZOOM_BOX.stroke_width(2),
        )?;
        for (k, c) in (0..self.cols).step_by(bc).enumerate() {
            let x = mx + self.at(0, c).0;
            let centre = x + (bc.min(self.cols - c) as i32) / 2;
            let name = format!("input channel {k}");
            if width(&name, TICK_FONT) < bc as f64 {
                canvas.text(
                    &name,
                    (centre, my - 4),
                    TICK_FONT,
                    Anchor::at(HPos::Center, VPos::Bottom),
                    BLACK,
                )?;
            }
        }
        self.main_ticks(canvas, (mx, my))
    }

    fn main_ticks<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        (mx, my): (i32, i32),
    ) -> Drawn<DB> {
        let (br, bc) = self.block;
        let (mw, mh) = self.main_size();
        let below = Anchor::at(HPos::Center, VPos::Top);
        let cols = (0..self.cols).step_by(bc * tick_step(bc as f64, 40.0));
        for c in cols.chain([self.cols]) {
            let x = mx + if c == self.cols { mw } else { self.at(0, c).0 };
            canvas.line((x, my + mh), (x, my + mh + 4), BLACK.stroke_width(1))?;
            canvas.text(&c.to_string(), (x, my + mh + 6), TICK_FONT, below, BLACK)?;
        }
        let rows = (0..self.rows).step_by(br * tick_step(br as f64, 40.0));
        for r in rows.chain([self.rows]) {
            let y = my + if r == self.rows { mh } else { self.at(r, 0).1 };
            canvas.line((mx - 4, y), (mx, y), BLACK.stroke_width(1))?;
            let label = Anchor::at(HPos::Right, VPos::Center);
            canvas.text(&r.to_string(), (mx - 6, y), TICK_FONT, label, BLACK)?;
        }
        let x_label = "column j: input entry (channel, y, x), flattened";
        canvas.text(
            x_label,
            (mx + mw / 2, my + mh + 26),
            AXIS_FONT,
            below,
            BLACK,
        )?;
        let y_label = "row i: output entry (channel, i, j), flattened";
        canvas.text(
            y_label,
            (mx - LEFT + 10, my + mh / 2),
            AXIS_FONT,
            Anchor::UP,
            BLACK,
        )
    }

    fn draw_inset<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        (ox, oy): (i32, i32),
    ) -> Drawn<DB> {
        let (br, bc) = (self.block.0.min(self.rows), self.block.1.min(self.cols));
        let (iw, ih) = self.inset_size();
        canvas.text(
            &self.inset_title(),
            (ox, oy - 4),
            AXIS_FONT,
            Anchor::at(HPos::Left, VPos::Bottom),
            ZOOM_BOX,
        )?;
        let (x0, y0) = (ox, oy);
        for &(r, c) in self.entries.iter().filter(|&&(r, c)| r < br && c < bc) {
            let (x, y) = (x0 + c as i32 * ZOOM, y0 + r as i32 * ZOOM);
            canvas.rect((x, y), (x + ZOOM, y + ZOOM), INK.filled())?;
        }
        let grey = RGBColor(170, 170, 170).stroke_width(1);
        for r in (self.out_width..br).step_by(self.out_width) {
            let y = y0 + r as i32 * ZOOM;
            canvas.line((x0, y), (x0 + iw, y), grey)?;
        }
        for c in (self.in_width..bc).step_by(self.in_width) {
            let x = x0 + c as i32 * ZOOM;
            canvas.line((x, y0), (x, y0 + ih), grey)?;
        }
        canvas.rect(
            (x0 - 1, y0 - 1),
            (x0 + iw + 1, y0 + ih + 1),
            ZOOM_BOX.stroke_width(2),
        )?;
        let below = Anchor::at(HPos::Center, VPos::Top);
        for r in (0..=br).step_by(self.out_width) {
            let y = y0 + r as i32 * ZOOM;
            canvas.line((x0 - 4, y), (x0, y), BLACK.stroke_width(1))?;
            let label = Anchor::at(HPos::Right, VPos::Center);
            canvas.text(&r.to_string(), (x0 - 6, y), TICK_FONT, label, BLACK)?;
        }
        for c in (0..=bc).step_by(self.in_width) {
            let x = x0 + c as i32 * ZOOM;
            canvas.line((x, y0 + ih), (x, y0 + ih + 4), BLACK.stroke_width(1))?;
            canvas.text(&c.to_string(), (x, y0 + ih + 6), TICK_FONT, below, BLACK)?;
        }
        for (k, note) in self.notes().iter().enumerate() {
            let y = y0 + ih + 30 + 22 * k as i32;
            canvas.text(note, (ox, y), TICK_FONT + 1.0, Anchor::LEFT_TOP, BLACK)?;
        }
        Ok(())
    }
}
