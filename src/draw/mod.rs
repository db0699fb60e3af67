//! Pictures for the teaching chapters (`docs/0*.md`), drawn with [plotters](https://docs.rs/plotters).
//!
//! Every function writes one file and picks the format by the extension of `path`: `.png` (a bitmap,
//! text set in the embedded DejaVu Sans) or `.svg`. [`chapters`] draws every picture of the chapters;
//! `cargo run --release --features draw --example draw -- docs/images` runs it.
//!
//! ```
//! use linear_collapse::{draw, layer::{Conv2d, Conv2dConfig}, Shape};
//! use ndarray::Array4;
//! let conv = Conv2d::new(Array4::from_elem((1, 1, 2, 2), 1.0f32), None, Conv2dConfig::default())?;
//! let path = std::env::temp_dir().join("linear_collapse_draw_doc.svg");
//! draw::toeplitz_heatmap(&conv, Shape::chw(1, 4, 4), &path)?;
//! assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
//! # Ok::<(), linear_collapse::Error>(())
//! ```

mod chapters;
mod colorbar;
mod grid;
mod im2col;
mod render;
mod sparsity;
mod text;

use std::path::Path;

use ndarray::{Array2, ArrayView2};

pub use chapters::chapters;
use colorbar::Scale;
use grid::{Figure, Panel};
use render::render;
pub use sparsity::sparsity;

use crate::layer::Conv2d;
use crate::lower::toeplitz;
use crate::{Error, Result, Scalar, Shape};

const X_AXIS: &str = "input pixel (flat index j)";
const Y_AXIS: &str = "output pixel (flat index i)";
/// The y axis label of a matrix too short for [`Y_AXIS`].
const Y_AXIS_SHORT: &str = "output pixel i";

/// The dense Toeplitz matrix of `conv` at `input`, its `(rows, columns)` blocks `((output channel, output
/// row), (input channel, input row))`, and the plain-words description of the convolution.
fn toeplitz_dense<T: Scalar>(conv: &Conv2d<T>, input: Shape) -> Result<ToeplitzDense> {
    let t = toeplitz(conv, input)?;
    let dense = t.to_dense()?.mapv(|v| v.widen());
    let (din, dout) = (t.input_shape.dims(), t.output_shape.dims());
    Ok(ToeplitzDense {
        dense,
        row_blocks: (dout[1] * dout[2], dout[2]),
        col_blocks: (din[1] * din[2], din[2]),
        what: describe(conv, &din),
    })
}

struct ToeplitzDense {
    dense: Array2<f64>,
    row_blocks: (usize, usize),
    col_blocks: (usize, usize),
    what: String,
}

impl ToeplitzDense {
    /// A panel of cells of `cell` pixels.
    fn panel(
        &self,
        title: String,
        scale: Scale,
        colorbar: Option<&'static str>,
        cell: u32,
    ) -> Panel<'_> {
        let short = (self.dense.nrows() as u32 * cell) < 240;
        Panel {
            title,
            values: self.dense.view(),
            row_blocks: self.row_blocks,
            col_blocks: self.col_blocks,
            zero_is_blank: true,
            scale,
            axes: (X_AXIS, if short { Y_AXIS_SHORT } else { Y_AXIS }),
            colorbar,
            values_in_cells: true,
        }
    }

    /// What the lines and the blank cells mean.
    fn caption(&self) -> String {
        let (rows, cols) = self.dense.dim();
        let mut s = format!(
            "blank cells are zeros; grey lines: one image row ({} output pixels down, {} input pixels across)",
            self.row_blocks.1, self.col_blocks.1
        );
        if self.row_blocks.0 < rows || self.col_blocks.0 < cols {
            s += "; black lines: one channel";
        }
        s
    }
}

/// "a 2x2 kernel on a 4x4 input", with the channels, stride, padding and dilation when they are not 1, 1,
/// 0 and 1.
fn describe<T: Scalar>(conv: &Conv2d<T>, input: &[usize]) -> String {
    let g = conv.geometry();
    let [kh, kw] = g.kernel;
    let mut s = format!("a {kh}x{kw} kernel");
    if conv.c_in() > 1 || conv.c_out() > 1 {
        s += &format!(" ({} -> {} channels)", conv.c_in(), conv.c_out());
    }
    s += &if input[0] > 1 {
        format!(" on a {}x{}x{} input", input[0], input[1], input[2])
    } else {
        format!(" on a {}x{} input", input[1], input[2])
    };
    let same = |a: [usize; 2]| {
        if a[0] == a[1] {
            a[0].to_string()
        } else {
            format!("{a:?}")
        }
    };
    if g.stride != [1, 1] {
        s += &format!(", stride {}", same(g.stride));
    }
    let p = g.padding;
    if p != [0; 4] {
        s += &if p.iter().all(|&v| v == p[0]) {
            format!(", padding {}", p[0])
        } else {
            format!(", padding {p:?}")
        };
    }
    if g.dilation != [1, 1] {
        s += &format!(", dilation {}", same(g.dilation));
    }
    s
}

/// Cell side for matrices with at most `cols` columns in about `budget` pixels: 10 to 36 pixels.
fn cell_for(cols: usize, budget: u32) -> u32 {
    (budget / cols.max(1) as u32).clamp(10, 36)
}

/// Heat map of the dense Toeplitz matrix of `conv` at `input` (`(C_in, H, W)`): one cell per entry, blue
/// for negative, red for positive, blank for the structural zeros, the value printed in each cell when it
/// fits, a colour bar, axis labels and a title that names the matrix and its size. Thick lines separate the
/// channel blocks (rows: output channels, columns: input channels), thin lines the row blocks inside them
/// (rows: one output row `i`, columns: one input row `y`): the doubly block Toeplitz structure.
///
/// # Errors
/// [`Error::Shape`] when `input` does not fit `conv`; [`Error::InvalidLayer`] for an extension other
/// than `.png`/`.svg`; [`Error::Format`] when the file cannot be written.
///
/// ```
/// use linear_collapse::{draw, layer::{Conv2d, Conv2dConfig}, Shape};
/// use ndarray::Array4;
/// let conv = Conv2d::new(Array4::from_elem((2, 1, 3, 3), 0.5f32), None, Conv2dConfig::default().padding(1))?;
/// let path = std::env::temp_dir().join("linear_collapse_toeplitz_doc.png");
/// draw::toeplitz_heatmap(&conv, Shape::chw(1, 5, 5), &path)?;
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn toeplitz_heatmap<T: Scalar>(
    conv: &Conv2d<T>,
    input: Shape,
    path: impl AsRef<Path>,
) -> Result<()> {
    let t = toeplitz_dense(conv, input)?;
    let (rows, cols) = t.dense.dim();
    let cell = cell_for(cols, 1100);
    let figure = Figure {
        title: format!("Toeplitz matrix T ({rows}x{cols}) of {}", t.what),
        caption: t.caption(),
        panels: vec![t.panel(
            String::new(),
            Scale::of(t.dense.iter()),
            Some("entry value"),
            cell,
        )],
        cell,
        shared_bar: None,
    };
    render(path.as_ref(), &figure)
}

/// Two Toeplitz heat maps side by side, `left` and `right` (a convolution, its input shape and a panel
/// title each), in one colour scale with one colour bar: the stride-1 and stride-2 matrices of chapter 02.
fn toeplitz_pair<T: Scalar>(
    title: String,
    left: (&Conv2d<T>, Shape, &str),
    right: (&Conv2d<T>, Shape, &str),
    path: &Path,
) -> Result<()> {
    let (l, r) = (
        toeplitz_dense(left.0, left.1)?,
        toeplitz_dense(right.0, right.1)?,
    );
    let scale = Scale::of(l.dense.iter().chain(r.dense.iter()));
    let size = |t: &ToeplitzDense| format!("T is {}x{}", t.dense.nrows(), t.dense.ncols());
    let cell = cell_for(2 * l.dense.ncols().max(r.dense.ncols()), 1000);
    let panels = vec![
        l.panel(format!("{}: {}", left.2, size(&l)), scale, None, cell),
        r.panel(format!("{}: {}", right.2, size(&r)), scale, None, cell),
    ];
    let figure = Figure {
        title,
        caption: "same kernel and input, one colour scale; blank cells are zeros; grey lines: one image row \
                  (of the output down, of the input across)"
            .into(),
        panels,
        cell,
        shared_bar: Some((scale, "entry value")),
    };
    render(path, &figure)
}

/// Three maps side by side: `exact`, `approx`, and `approx - exact` (each a 2-d output channel, for
/// instance), titled with `titles` and numbered, with axis labels (output column, output row) and a colour
/// bar each. The first two share one colour scale, as a caption line in the picture says; the difference
/// has its own, and its largest magnitude is printed in its title.
///
/// # Errors
/// [`Error::InvalidLayer`] when the shapes differ or the extension is not `.png`/`.svg`;
/// [`Error::Format`] when the file cannot be written.
///
/// ```
/// use linear_collapse::draw;
/// use ndarray::Array2;
/// let exact = Array2::from_shape_fn((6, 6), |(i, j)| (i + j) as f64);
/// let mut approx = exact.clone();
/// approx[[0, 0]] += 1.0;
/// let path = std::env::temp_dir().join("linear_collapse_difference_doc.svg");
/// draw::difference_map(exact.view(), approx.view(), ("exact", "approx"), &path)?;
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn difference_map(
    exact: ArrayView2<f64>,
    approx: ArrayView2<f64>,
    titles: (&str, &str),
    path: impl AsRef<Path>,
) -> Result<()> {
    if exact.dim() != approx.dim() {
        return Err(Error::invalid(
            "difference_map",
            format!("shapes {:?} and {:?} differ", exact.dim(), approx.dim()),
        ));
    }
    let diff = &approx - &exact;
    let worst = diff.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let shared = Scale::of(exact.iter().chain(approx.iter()));
    let axes = ("output column", "output row");
    let panel = |title: String, values, scale, bar| Panel {
        colorbar: Some(bar),
        ..Panel::plain(title, values, scale, axes)
    };
    let figure = Figure {
        title: format!("{} against {}", titles.0, titles.1),
        caption: "panels 1 and 2 share one colour scale; panel 3 (their difference) has its own"
            .into(),
        panels: vec![
            panel(
                format!("1. {}", titles.0),
                exact,
                shared,
                "value (shared scale)",
            ),
            panel(
                format!("2. {}", titles.1),
                approx,
                shared,
                "value (shared scale)",
            ),
            panel(
                format!("3. difference 2 - 1 (max |d| = {})", colorbar::short(worst)),
                diff.view(),
                Scale::of(diff.iter()),
                "difference",
            ),
        ],
        cell: cell_for(3 * exact.ncols(), 900),
        shared_bar: None,
    };
    render(path.as_ref(), &figure)
}
