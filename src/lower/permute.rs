//! The permutation matrix of a `Permute`: row `(a0, a1, a2)` (output coordinates) has a 1 at the input
//! element whose coordinate along axis `dims[i]` is `a_i`.

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::Permute;
use crate::matrix::{AffineMap, Matrix};
use crate::{Scalar, Shape};

/// The map of `p` from `input` to `output` (both checked by the caller).
pub(super) fn lower<T: Scalar>(p: &Permute, input: Shape, output: Shape) -> AffineMap<T> {
    let n = input.numel();
    let dims = p.dims();
    if dims == [0, 1, 2] {
        return AffineMap {
            matrix: Matrix::Identity(n),
            bias: Array1::zeros(n),
        };
    }
    let ([_, h, w], [_, o1, o2]) = (chw(input), chw(output));
    let triplets = (0..n)
        .map(|row| {
            let out = [row / (o1 * o2), row / o2 % o1, row % o2];
            let mut at = [0; 3];
            for (i, &d) in dims.iter().enumerate() {
                at[d] = out[i];
            }
            (row, (at[0] * h + at[1]) * w + at[2], T::one())
        })
        .collect();
    sparse(triplets, n, Array1::zeros(n))
}
