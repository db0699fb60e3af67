//! The permutation matrix of a `SpaceToDepth`: output channel `(by*b + bx)*C + c` at `(y, x)` reads input
//! `(c, y*b + by, x*b + bx)`.

use super::{chw, select};
use crate::layer::SpaceToDepth;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `s` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(s: &SpaceToDepth, input: Shape, output: Shape) -> AffineMap<T> {
    let ([c_in, h, w], [c_out, oh, ow]) = (chw(input), chw(output));
    let b = s.block();
    let mut cols = Vec::with_capacity(output.numel());
    for oc in 0..c_out {
        let (block, c) = (oc / c_in, oc % c_in);
        let (by, bx) = (block / b, block % b);
        for y in 0..oh {
            for x in 0..ow {
                cols.push((c * h + y * b + by) * w + x * b + bx);
            }
        }
    }
    select(cols, input.numel())
}
