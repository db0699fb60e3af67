//! The matrix of a `Resize`: per axis, each output coordinate reads one input coordinate (nearest) or two
//! neighbours with weights `1 - t` and `t` (linear); an output element's row is the product of its axes'
//! taps, at most `2^k` entries for `k` axes.
//!
//! The source coordinate `x` of output coordinate `o` along an axis of input length `n`, output length `m`
//! and scale `s` (ONNX's `coordinate_transformation_mode`; `s` is the given scale, or `m / n` for sizes):
//!
//! | mode                   | `x`                                                  |
//! |------------------------|------------------------------------------------------|
//! | `half_pixel`           | `(o + 0.5) / s - 0.5`                                |
//! | `pytorch_half_pixel`   | `(o + 0.5) / s - 0.5` if `m > 1`, else `0`           |
//! | `align_corners`        | `o * (n - 1) / (m - 1)` if `m > 1`, else `0`         |
//! | `asymmetric`           | `o / s`                                              |
//! | `half_pixel_symmetric` | `n/2 * (1 - m / (n*s)) + (o + 0.5) / s - 0.5`        |
//!
//! `x` is then clamped to `[0, n - 1]` (ONNX's reference implementation pads with the edge values, which
//! gives the same samples), rounded by the nearest mode or split into `floor(x)` and the next element.
//! Scales, coordinates and weights are computed in `f32` with onnxruntime's formulas (the last sum of
//! `half_pixel_symmetric` in `f64`, as there), so a coordinate that lands on a rounding tie picks the
//! neighbour onnxruntime picks.

use ndarray::Array1;

use super::{for_each_coord, sparse, strides};
use crate::layer::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The source coordinate of output coordinate `o` (see the module docs), in `f32` as onnxruntime computes it.
fn source(mode: CoordinateMode, o: usize, n: usize, m: usize, s: f32) -> f32 {
    let (o, n, m) = (o as f32, n as f32, m as f32);
    match mode {
        CoordinateMode::HalfPixel => (o + 0.5) / s - 0.5,
        CoordinateMode::PytorchHalfPixel if m > 1.0 => (o + 0.5) / s - 0.5,
        CoordinateMode::PytorchHalfPixel => 0.0,
        CoordinateMode::AlignCorners if m > 1.0 => o * (n - 1.0) / (m - 1.0),
        CoordinateMode::AlignCorners => 0.0,
        CoordinateMode::Asymmetric => o / s,
        CoordinateMode::HalfPixelSymmetric => {
            let adjustment = m / (s * n);
            let offset = n / 2.0 * (1.0 - adjustment);
            // onnxruntime adds the offset in f64, then rounds to f32
            (f64::from(offset) + (f64::from(o) + 0.5) / f64::from(s) - 0.5) as f32
        }
    }
}

/// The input indices and weights that output coordinate `o` reads along one axis.
fn taps(r: &Resize, o: usize, n: usize, m: usize, s: f32) -> Vec<(usize, f64)> {
    let x = source(r.coordinate(), o, n, m, s).clamp(0.0, (n - 1) as f32);
    let (low, t) = (x.floor(), x - x.floor());
    let low = low as usize;
    match r.mode() {
        ResizeMode::Linear if t == 0.0 => vec![(low, 1.0)],
        ResizeMode::Linear => vec![(low, f64::from(1.0 - t)), (low + 1, f64::from(t))],
        ResizeMode::Nearest(round) => {
            let up = t > 0.0
                && match round {
                    NearestMode::RoundPreferFloor => t > 0.5,
                    NearestMode::RoundPreferCeil => t >= 0.5,
                    NearestMode::Floor => false,
                    NearestMode::Ceil => true,
                };
            vec![(low + usize::from(up), 1.0)]
        }
    }
}

/// The scale of axis `k` (`n` inputs, `m` outputs) in `f32`: the given one, or `m / n`.
fn axis_scale(target: &ResizeTarget, k: usize, n: usize, m: usize) -> f32 {
    match target {
        ResizeTarget::Scales(s) => s[k] as f32,
        ResizeTarget::Sizes(_) => m as f32 / n as f32,
    }
}

/// The map of `r` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(r: &Resize, input: Shape, output: Shape) -> AffineMap<T> {
    let (dims, out) = (input.dims(), output.dims());
    let stride = strides(&dims);
    // per axis, per output coordinate: the (flat offset, weight) taps
    let axes: Vec<Vec<Vec<(usize, f64)>>> = (0..dims.len())
        .map(|k| {
            let (n, m) = (dims[k], out[k]);
            let s = axis_scale(r.target(), k, n, m);
            (0..m)
                .map(|o| {
                    let t = taps(r, o, n, m, s);
                    t.into_iter().map(|(i, w)| (i * stride[k], w)).collect()
                })
                .collect()
        })
        .collect();
    let mut triplets = Vec::with_capacity(output.numel());
    let mut row = 0;
    for_each_coord(&out, |o| {
        // the product of the axes' taps, built one axis at a time
        let mut terms = vec![(0usize, 1.0f64)];
        for (k, &ok) in o.iter().enumerate() {
            terms = terms
                .iter()
                .flat_map(|&(col, w)| axes[k][ok].iter().map(move |&(d, v)| (col + d, w * v)))
                .collect();
        }
        triplets.extend(terms.into_iter().map(|(col, w)| (row, col, T::narrow(w))));
        row += 1;
    });
    sparse(triplets, input.numel(), Array1::zeros(output.numel()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One axis of 4 resized to 8 (scale 2) and to 3 (scale 0.75), against values worked out from the
    /// table in the module docs.
    #[test]
    fn source_table() {
        use CoordinateMode::*;
        let x = |mode, o, n, m, s| source(mode, o, n, m, s);
        // half_pixel, 4 -> 8: (o + 0.5) / 2 - 0.5
        assert_eq!(
            [0, 1, 7].map(|o| x(HalfPixel, o, 4, 8, 2.0)),
            [-0.25, 0.25, 3.25]
        );
        // align_corners, 4 -> 3: o * 3 / 2
        assert_eq!(
            [0, 1, 2].map(|o| x(AlignCorners, o, 4, 3, 0.75)),
            [0.0, 1.5, 3.0]
        );
        assert_eq!(x(AlignCorners, 0, 4, 1, 0.25), 0.0);
        // asymmetric, 4 -> 8: o / 2
        assert_eq!(x(Asymmetric, 3, 4, 8, 2.0), 1.5);
        // pytorch_half_pixel is half_pixel unless the output has length 1
        assert_eq!(x(PytorchHalfPixel, 1, 4, 8, 2.0), 0.25);
        assert_eq!(x(PytorchHalfPixel, 0, 4, 1, 0.25), 0.0);
        // half_pixel_symmetric, 5 -> floor(5 * 0.5) = 2 at scale 0.5: offset 2.5 * (1 - 2 / 2.5) = 0.5
        assert!((x(HalfPixelSymmetric, 0, 5, 2, 0.5) - (0.5 + 1.0 - 0.5)).abs() < 1e-6);
        // with n*s an integer it is half_pixel
        assert_eq!(x(HalfPixelSymmetric, 1, 4, 8, 2.0), 0.25);
    }
}
