//! The matrix of a `Linear` applied over the last axis: its weight `W` for one position (a flat input),
//! else the block-diagonal `kron(I_rest, W)`, one block per position of the leading axes, and the bias
//! repeated.

use ndarray::Array1;

use crate::layer::Linear;
use crate::matrix::{AffineMap, Csr, Matrix};
use crate::{Error, Result, Scalar, Shape};

/// How many positions of `input` the layer applies at (the product of every axis but the last).
fn positions<T: Scalar>(l: &Linear<T>, input: Shape) -> usize {
    input.numel() / l.in_features()
}

/// The bias of `l` on `input` (checked by the caller): `b` once per position.
pub(crate) fn bias<T: Scalar>(l: &Linear<T>, input: Shape) -> Array1<T> {
    let rest = positions(l, input);
    match (l.bias(), rest) {
        (_, 1) => l.bias_or_zeros(),
        (Some(b), _) => Array1::from_shape_fn(rest * b.len(), |r| b[r % b.len()]),
        (None, _) => Array1::zeros(rest * l.out_features()),
    }
}

/// The map of `l` on `input` (checked by the caller).
///
/// # Errors
/// [`Error::InvalidLayer`] when the block-diagonal matrix would have more than `usize::MAX` entries.
pub(super) fn lower<T: Scalar>(l: &Linear<T>, input: Shape) -> Result<AffineMap<T>> {
    let bias = bias(l, input);
    let rest = positions(l, input);
    if rest == 1 {
        return Ok(AffineMap {
            matrix: Matrix::Dense(l.weight().clone()),
            bias,
        });
    }
    let (out, inp) = l.weight().dim();
    let rows = bias.len();
    let nnz = rows.checked_mul(inp).ok_or_else(|| {
        Error::invalid(
            l.describe(),
            format!("its matrix on {input} has more than {} entries", usize::MAX),
        )
    })?;
    // row p*out + o holds W[o, ..] at columns p*inp .. (p + 1)*inp, already sorted
    let indptr: Vec<usize> = (0..=rows).map(|r| r * inp).collect();
    let mut indices = Vec::with_capacity(nnz);
    let mut data = Vec::with_capacity(nnz);
    for p in 0..rest {
        for o in 0..out {
            indices.extend(p * inp..(p + 1) * inp);
            data.extend(l.weight().row(o).iter().copied());
        }
    }
    let matrix = Csr::from_parts(rows, input.numel(), indptr, indices, data)
        .expect("the blocks lie inside the matrix");
    Ok(AffineMap {
        matrix: Matrix::Sparse(matrix),
        bias,
    })
}
