//! The permutation matrix of a `Permute`: the row of output coordinate `o` has a 1 at the input element
//! whose coordinate along axis `dims[i]` is `o[i]`.

use ndarray::Array1;

use super::{for_each_coord, select, strides};
use crate::layer::Permute;
use crate::matrix::{AffineMap, Matrix};
use crate::{Scalar, Shape};

/// The map of `p` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(p: &Permute, input: Shape, output: Shape) -> AffineMap<T> {
    let n = input.numel();
    if p.is_identity() {
        return AffineMap {
            matrix: Matrix::Identity(n),
            bias: Array1::zeros(n),
        };
    }
    let stride = strides(&input.dims());
    // stepping output axis i steps input axis dims[i]
    let step: Vec<usize> = p.dims().iter().map(|&d| stride[d]).collect();
    let mut cols = Vec::with_capacity(n);
    for_each_coord(&output.dims(), |o| {
        cols.push(o.iter().zip(&step).map(|(a, s)| a * s).sum());
    });
    select(cols, n)
}
