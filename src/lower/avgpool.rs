//! The matrix of an `AvgPool2d` (and of an `AvgPool1d`, as the `AvgPool2d` it equals on `(C, 1, L)`).
//!
//! Row `(c, i, j)` holds `1/divisor` at every real pixel of its window. Along each axis the window of output
//! `o` starts at `o*s - pad_lo`, is clipped to the padded input `[-pad_lo, n + pad_hi)` (its length then is
//! PyTorch's `count_include_pad` size) and to the image `[0, n)` (the real pixels).

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::AvgPool2d;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// One window along one axis.
struct Window {
    /// Real input coordinates `lo..hi` (empty when `hi == lo`).
    lo: usize,
    hi: usize,
    /// Length after clipping to the padded input only.
    padded_len: usize,
}

fn windows(n: usize, k: usize, s: usize, [pad_lo, pad_hi]: [usize; 2], out: usize) -> Vec<Window> {
    (0..out)
        .map(|o| {
            let start = (o * s) as isize - pad_lo as isize;
            let end = (start + k as isize).min((n + pad_hi) as isize);
            let lo = start.clamp(0, n as isize) as usize;
            let hi = (end.clamp(0, n as isize) as usize).max(lo);
            Window {
                lo,
                hi,
                padded_len: (end - start).max(0) as usize,
            }
        })
        .collect()
}

/// The map of `p` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(p: &AvgPool2d, input: Shape, output: Shape) -> AffineMap<T> {
    let ([c, h, w], [_, oh, ow]) = (chw(input), chw(output));
    let (k, s, pad) = (p.kernel_size(), p.stride(), p.padding());
    let wy = windows(h, k[0], s[0], [pad[0], pad[2]], oh);
    let wx = windows(w, k[1], s[1], [pad[1], pad[3]], ow);
    let mut triplets = Vec::new();
    for ch in 0..c {
        for (i, y) in wy.iter().enumerate() {
            for (j, x) in wx.iter().enumerate() {
                let row = (ch * oh + i) * ow + j;
                let divisor = if p.count_include_pad() {
                    y.padded_len * x.padded_len
                } else {
                    (y.hi - y.lo) * (x.hi - x.lo)
                };
                if divisor == 0 {
                    continue;
                }
                let v = T::narrow(1.0 / divisor as f64);
                for iy in y.lo..y.hi {
                    for ix in x.lo..x.hi {
                        triplets.push((row, (ch * h + iy) * w + ix, v));
                    }
                }
            }
        }
    }
    sparse(triplets, c * h * w, Array1::zeros(c * oh * ow))
}
