//! The selection matrix of a `Pad`: row `(c, i, j)` has a 1 at the input pixel it copies, or, for a
//! position filled with a constant, no entry and the constant in the bias.

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::{Pad, PadMode};
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The input coordinate that output coordinate `i` copies along an axis of length `n` padded by `lo` before
/// it, or `None` for a constant fill.
fn source<T>(i: usize, lo: usize, n: usize, mode: &PadMode<T>) -> Option<usize> {
    let (j, n) = (i as isize - lo as isize, n as isize);
    let k = match mode {
        PadMode::Constant(_) => j,
        PadMode::Reflect if j < 0 => -j,
        PadMode::Reflect if j >= n => 2 * (n - 1) - j,
        PadMode::Reflect => j,
        PadMode::Replicate => j.clamp(0, n - 1),
        PadMode::Circular => j.rem_euclid(n),
    };
    (0..n).contains(&k).then_some(k as usize)
}

/// The map of `p` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(p: &Pad<T>, input: Shape, output: Shape) -> AffineMap<T> {
    let ([c, h, w], [_, oh, ow]) = (chw(input), chw(output));
    let [top, left, ..] = p.padding();
    let mode = p.mode();
    let fill = match mode {
        PadMode::Constant(v) => v,
        _ => T::zero(),
    };
    let sy: Vec<Option<usize>> = (0..oh).map(|i| source(i, top, h, &mode)).collect();
    let sx: Vec<Option<usize>> = (0..ow).map(|j| source(j, left, w, &mode)).collect();
    let mut triplets = Vec::with_capacity(c * oh * ow);
    let mut bias = Array1::zeros(c * oh * ow);
    for ch in 0..c {
        for (i, y) in sy.iter().enumerate() {
            for (j, x) in sx.iter().enumerate() {
                let row = (ch * oh + i) * ow + j;
                match (y, x) {
                    (Some(y), Some(x)) => triplets.push((row, (ch * h + y) * w + x, T::one())),
                    _ => bias[row] = fill,
                }
            }
        }
    }
    sparse(triplets, c * h * w, bias)
}
