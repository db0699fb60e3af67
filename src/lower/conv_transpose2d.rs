//! The matrix of a `ConvTranspose2d`, gathered by output: row `(o, y, x)` holds
//! `W[ci, o % (C_out/g), ky, kx]` at input `(ci, iy, ix)` for every input channel `ci` of `o`'s group and
//! every tap with `y + top = iy*sh + ky*dh` and `x + left = ix*sw + kx*dw`. Without output padding it is
//! the transpose of the Toeplitz matrix of the Conv2d with the same weight and geometry, from the
//! transposed convolution's output size to its input size.

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::ConvTranspose2d;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// For each output coordinate along one axis, its taps `(kernel index, input coordinate)`.
fn axis_taps(
    out: usize,
    n: usize,
    k: usize,
    s: usize,
    d: usize,
    pad_lo: usize,
) -> Vec<Vec<(usize, usize)>> {
    (0..out)
        .map(|y| {
            (0..k)
                .filter_map(|a| {
                    let t = (y + pad_lo).checked_sub(a * d)?;
                    (t % s == 0 && t / s < n).then_some((a, t / s))
                })
                .collect()
        })
        .collect()
}

/// The map of `conv` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(
    conv: &ConvTranspose2d<T>,
    input: Shape,
    output: Shape,
) -> AffineMap<T> {
    let ([_, h, w], [c_out, oh, ow]) = (chw(input), chw(output));
    let cfg = conv.config();
    let k = conv.kernel_size();
    let ty = axis_taps(oh, h, k[0], cfg.stride[0], cfg.dilation[0], cfg.padding[0]);
    let tx = axis_taps(ow, w, k[1], cfg.stride[1], cfg.dilation[1], cfg.padding[1]);
    let weight = conv.weight();
    let cpg_in = conv.c_in() / conv.groups();
    let cpg_out = c_out / conv.groups();
    let mut triplets = Vec::new();
    for o in 0..c_out {
        let (grp, ol) = (o / cpg_out, o % cpg_out);
        for (y, taps_y) in ty.iter().enumerate() {
            for (x, taps_x) in tx.iter().enumerate() {
                let row = (o * oh + y) * ow + x;
                for ci in grp * cpg_in..(grp + 1) * cpg_in {
                    for &(a, iy) in taps_y {
                        for &(b, ix) in taps_x {
                            triplets.push((row, (ci * h + iy) * w + ix, weight[[ci, ol, a, b]]));
                        }
                    }
                }
            }
        }
    }
    let bias = match conv.bias() {
        Some(b) => Array1::from_shape_fn(c_out * oh * ow, |r| b[r / (oh * ow)]),
        None => Array1::zeros(c_out * oh * ow),
    };
    sparse(triplets, conv.c_in() * h * w, bias)
}
