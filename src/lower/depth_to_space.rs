//! The permutation matrix of a `DepthToSpace`: output `(c, y, x)` of block offset `(by, bx) = (y % b,
//! x % b)` reads input channel `(by*b + bx)*C' + c` (DCR) or `c*b*b + by*b + bx` (CRD) at `(y / b, x / b)`.

use super::{chw, select};
use crate::layer::{DepthToSpace, DepthToSpaceMode};
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `d` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(d: &DepthToSpace, input: Shape, output: Shape) -> AffineMap<T> {
    let ([_, h, w], [c_out, oh, ow]) = (chw(input), chw(output));
    let b = d.block();
    let mut cols = Vec::with_capacity(output.numel());
    for c in 0..c_out {
        for y in 0..oh {
            for x in 0..ow {
                let (by, bx) = (y % b, x % b);
                let ch = match d.mode() {
                    DepthToSpaceMode::Dcr => (by * b + bx) * c_out + c,
                    DepthToSpaceMode::Crd => (c * b + by) * b + bx,
                };
                cols.push((ch * h + y / b) * w + x / b);
            }
        }
    }
    select(cols, input.numel())
}
