//! The matrix of a `Reduce`: the row of each output element holds `1/n` (mean of `n` elements) or 1
//! (sum) at every input element that reduces to it.

use ndarray::Array1;

use super::{for_each_coord, sparse, strides};
use crate::layer::{Reduce, ReduceOp};
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `r` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(r: &Reduce, input: Shape, output: Shape) -> AffineMap<T> {
    let dims = input.dims();
    // the output without its removed axes is the input with the reduced ones of size 1: walk that
    let kept: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(a, &n)| if r.axes().contains(&a) { 1 } else { n })
        .collect();
    let kept_stride = strides(&kept);
    // stepping input axis a steps the output by its stride there, or not at all along a reduced axis
    let step: Vec<usize> = (0..dims.len())
        .map(|a| if kept[a] == 1 { 0 } else { kept_stride[a] })
        .collect();
    let n: usize = r.axes().iter().map(|&a| dims[a]).product();
    let w = match r.op() {
        ReduceOp::Mean => T::narrow(1.0 / n as f64),
        ReduceOp::Sum => T::one(),
    };
    let mut triplets = Vec::with_capacity(input.numel());
    let mut col = 0;
    for_each_coord(&dims, |at| {
        let row = at.iter().zip(&step).map(|(a, s)| a * s).sum();
        triplets.push((row, col, w));
        col += 1;
    });
    sparse(triplets, input.numel(), Array1::zeros(output.numel()))
}
