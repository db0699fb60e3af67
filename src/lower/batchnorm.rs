//! The diagonal matrix of a `BatchNorm`: row `(c, i)` holds `gamma[c] / sqrt(var[c] + eps)` on the
//! diagonal, and the bias `beta[c] - mean[c] * gamma[c] / sqrt(var[c] + eps)`.

use ndarray::Array1;

use super::{chw, sparse};
use crate::layer::BatchNorm;
use crate::matrix::AffineMap;
use crate::{Scalar, Shape};

/// The map of `bn` on `input` (its shape is checked by the caller).
pub(super) fn lower<T: Scalar>(bn: &BatchNorm<T>, input: Shape) -> AffineMap<T> {
    let [c, h, w] = chw(input);
    let (per, n) = (h * w, c * h * w);
    let (scale, shift) = bn.scale_shift();
    let triplets = (0..n).map(|r| (r, r, T::narrow(scale[r / per]))).collect();
    let bias = Array1::from_shape_fn(n, |r| T::narrow(shift[r / per]));
    sparse(triplets, n, bias)
}
