//! The selection matrix of a `Slice`: the row of output coordinate `o` has a 1 at the input element with
//! the same coordinates, but `start + o[axis]*step` along the sliced axis.

use super::{for_each_coord, select, strides};
use crate::layer::Slice;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `s` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(s: &Slice, input: Shape, output: Shape) -> AffineMap<T> {
    let stride = strides(&input.dims());
    let axis = s.axis();
    let mut cols = Vec::with_capacity(output.numel());
    for_each_coord(&output.dims(), |o| {
        let col = o.iter().zip(&stride).enumerate().map(|(k, (&i, st))| {
            let i = if k == axis {
                s.input_index(i).expect("inside the slice")
            } else {
                i
            };
            i * st
        });
        cols.push(col.sum());
    });
    select(cols, input.numel())
}
