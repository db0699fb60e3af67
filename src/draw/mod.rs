//! Pictures for the teaching chapters (`docs/0*.md`), drawn with [plotters](https://docs.rs/plotters).
//!
//! Every function writes one file and picks the format by the extension of `path`: `.png` (a bitmap,
//! text set in the embedded DejaVu Sans) or `.svg`. [`chapters`] draws every picture of the chapters;
//! `cargo run --release --example draw -- docs/images` runs it.
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
mod grid;

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use plotters::prelude::*;

pub use chapters::chapters;
use grid::{draw_panels, Panel};

use crate::layer::Conv2d;
use crate::lower::toeplitz;
use crate::matrix::Csr;
use crate::{Error, Result, Scalar, Shape};

/// Runs `$f(&root, args...)` on a PNG or SVG drawing area chosen by the extension of `$path`.
macro_rules! on_backend {
    ($path:expr, $size:expr, $f:ident ( $($arg:expr),* )) => {{
        let path: &Path = $path;
        match format_of(path)? {
            Format::Png => {
                grid::register_font();
                let root = BitMapBackend::new(path, $size).into_drawing_area();
                $f(&root, $($arg),*).map_err(|e| draw_error(path, e))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
            Format::Svg => {
                grid::register_font();
                let root = SVGBackend::new(path, $size).into_drawing_area();
                $f(&root, $($arg),*).map_err(|e| draw_error(path, e))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
        }
        Ok(())
    }};
}

enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("png") => Ok(Format::Png),
        Some(e) if e.eq_ignore_ascii_case("svg") => Ok(Format::Svg),
        _ => Err(Error::invalid(
            "draw",
            format!("{}: the file name must end in .png or .svg", path.display()),
        )),
    }
}

fn draw_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::format(path.display().to_string(), e.to_string())
}

/// Heat map of the dense Toeplitz matrix of `conv` at `input` (`(C_in, H, W)`): one cell per entry, blue
/// for negative, red for positive, white for the structural zeros. Thick lines separate the channel blocks
/// (rows: output channels, columns: input channels), thin lines the row blocks inside them (rows: one
/// output row `i`, columns: one input row `y`): the doubly block Toeplitz structure.
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
    let t = toeplitz(conv, input)?;
    let dense = t.to_dense()?.mapv(|v| v.widen());
    let (dims_in, dims_out) = (t.input_shape.dims(), t.output_shape.dims());
    let (h, w) = (dims_in[1], dims_in[2]);
    let (oh, ow) = (dims_out[1], dims_out[2]);
    let title = format!(
        "Toeplitz matrix of {} on {}: {} x {}",
        conv.describe(),
        input,
        dense.nrows(),
        dense.ncols()
    );
    let panel = Panel {
        title,
        values: dense.view(),
        row_blocks: (oh * ow, ow),
        col_blocks: (h * w, w),
        zero_is_blank: true,
        scale: None,
    };
    let size = grid::canvas_size(&[&panel], 1100);
    on_backend!(path.as_ref(), size, draw_panels(&[panel]))
}

/// The sparsity pattern of `csr`: a dark dot for every stored entry. Large matrices are binned, a bin
/// being dark when it holds any entry, so the picture stays under about 700 pixels a side.
///
/// # Errors
/// [`Error::InvalidLayer`] for an extension other than `.png`/`.svg`; [`Error::Format`] when the file
/// cannot be written.
///
/// ```
/// use linear_collapse::{draw, lower::toeplitz, layer::{Conv2d, Conv2dConfig}, Shape};
/// use ndarray::Array4;
/// let conv = Conv2d::new(Array4::from_elem((4, 2, 3, 3), 1.0f32), None, Conv2dConfig::default())?;
/// let t = toeplitz(&conv, Shape::chw(2, 8, 8))?;
/// let path = std::env::temp_dir().join("linear_collapse_sparsity_doc.svg");
/// draw::sparsity(&t.matrix, &path)?;
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn sparsity<T: Scalar>(csr: &Csr<T>, path: impl AsRef<Path>) -> Result<()> {
    let (rows, cols) = (csr.nrows(), csr.ncols());
    let bin = rows.max(cols).div_ceil(700).max(1);
    let (br, bc) = (rows.div_ceil(bin).max(1), cols.div_ceil(bin).max(1));
    let mut occupied = Array2::<f64>::zeros((br, bc));
    for r in 0..rows {
        for &c in csr.row(r).0 {
            occupied[[r / bin, c / bin]] = 1.0;
        }
    }
    let density = csr.nnz() as f64 / (rows as f64 * cols as f64).max(1.0);
    let binned = if bin > 1 {
        format!(", {bin}x{bin} per pixel")
    } else {
        String::new()
    };
    let panel = Panel {
        title: format!(
            "{rows} x {cols}, {} entries ({:.1}%){binned}",
            csr.nnz(),
            100.0 * density
        ),
        values: occupied.view(),
        row_blocks: (0, 0),
        col_blocks: (0, 0),
        zero_is_blank: true,
        scale: None,
    };
    let size = grid::canvas_size(&[&panel], 760);
    on_backend!(path.as_ref(), size, draw_panels(&[panel]))
}

/// Three maps side by side: `exact`, `approx`, and `approx - exact` (each a 2-d output channel, for
/// instance). The first two share one colour scale; the difference has its own, printed in its title.
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
    let shared = exact
        .iter()
        .chain(approx.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let panels = [
        Panel {
            scale: Some(shared),
            ..Panel::plain(titles.0.to_string(), exact)
        },
        Panel {
            scale: Some(shared),
            ..Panel::plain(titles.1.to_string(), approx)
        },
        Panel::plain(format!("difference (max |d| = {worst:.3})"), diff.view()),
    ];
    let size = grid::canvas_size(&panels.iter().collect::<Vec<_>>(), 1200);
    on_backend!(path.as_ref(), size, draw_panels(&panels))
}
