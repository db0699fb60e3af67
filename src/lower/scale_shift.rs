//! The diagonal matrix of a `ScaleShift`: row `i` holds the scale broadcast to element `i`, and the bias
//! the shift broadcast to it (the identity when there is no scale).

use ndarray::{Array1, ArrayD};

use super::broadcast_source;
use crate::layer::ScaleShift;
use crate::matrix::{AffineMap, Csr, Matrix};
use crate::{Scalar, Shape};

/// The map of `s` on `input` (checked by the caller).
pub(super) fn lower<T: Scalar>(s: &ScaleShift<T>, input: Shape) -> AffineMap<T> {
    let (dims, n) = (input.dims(), input.numel());
    let spread = |a: &ArrayD<T>| -> Vec<T> {
        let values: Vec<T> = a.iter().copied().collect();
        broadcast_source(a.shape(), &dims)
            .into_iter()
            .map(|k| values[k])
            .collect()
    };
    let bias = s
        .shift()
        .map_or_else(|| Array1::zeros(n), |a| Array1::from(spread(a)));
    let matrix = match s.scale() {
        None => Matrix::Identity(n),
        Some(a) => Matrix::Sparse(
            Csr::from_parts(n, n, (0..=n).collect(), (0..n).collect(), spread(a))
                .expect("a diagonal"),
        ),
    };
    AffineMap { matrix, bias }
}
