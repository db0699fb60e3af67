//! The picture of chapter 07: im2col of a 4x4 image for a 2x2 kernel, and col2im as its adjoint.

use std::path::Path;

use ndarray::Array2;

use super::colorbar::Scale;
use super::grid::{Figure, Panel};
use super::render::render;
use crate::Result;

/// Three panels: the 4x4 image with each pixel's flat index; `X_col` (4 taps x 9 windows), each cell
/// holding the index of the pixel im2col copied there (same colour, same pixel); and col2im applied to a
/// matrix of ones, which counts how many windows read each pixel.
pub(super) fn im2col_picture(path: &Path) -> Result<()> {
    let (n, k) = (4usize, 2usize);
    let out = n - k + 1;
    let image = Array2::from_shape_fn((n, n), |(y, x)| (y * n + x) as f64);
    let cols = Array2::from_shape_fn((k * k, out * out), |(tap, window)| {
        let (a, b) = (tap / k, tap % k);
        let (i, j) = (window / out, window % out);
        ((i + a) * n + (j + b)) as f64
    });
    let mut counts = Array2::<f64>::zeros((n, n));
    for &p in &cols {
        counts[[p as usize / n, p as usize % n]] += 1.0;
    }
    let pixels = Scale::of(image.iter());
    let panel = |title: &str, values, scale, axes, colorbar| Panel {
        colorbar,
        values_in_cells: true,
        ..Panel::plain(title.into(), values, scale, axes)
    };
    let figure = Figure {
        title: "im2col copies every 2x2 window of a 4x4 image into a column; col2im adds them back".into(),
        caption: "panels 1 and 2 show pixel indices in one colour scale (the same colour is the same pixel); \
                  panel 3 is col2im of all ones"
            .into(),
        panels: vec![
            panel(
                "1. image x: flat index of each pixel",
                image.view(),
                pixels,
                ("column x", "row y"),
                None,
            ),
            panel(
                "2. X_col = im2col(x): which pixel each cell copies",
                cols.view(),
                pixels,
                ("window (i, j), flat: 3i + j", "tap (a, b), flat: 2a + b"),
                Some("pixel index"),
            ),
            panel(
                "3. col2im(ones): windows reading each pixel",
                counts.view(),
                Scale::of(counts.iter()),
                ("column x", "row y"),
                Some("count"),
            ),
        ],
        cell: 44,
        shared_bar: None,
    };
    render(path, &figure)
}
