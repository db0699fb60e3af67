//! The selection matrix of a nearest `Upsample`: row `(c, y, x)` has a 1 at input `(c, y / sh, x / sw)`.

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::Upsample;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `u` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(u: &Upsample, input: Shape, output: Shape) -> AffineMap<T> {
    let ([c, h, w], [_, oh, ow]) = (chw(input), chw(output));
    let [sh, sw] = u.scale();
    let mut triplets = Vec::with_capacity(c * oh * ow);
    for ch in 0..c {
        for y in 0..oh {
            for x in 0..ow {
                let row = (ch * oh + y) * ow + x;
                triplets.push((row, (ch * h + y / sh) * w + x / sw, T::one()));
            }
        }
    }
    sparse(triplets, c * h * w, Array1::zeros(c * oh * ow))
}
