//! Explicit lowering: every layer becomes its affine map `x -> A x + a` at a given input shape.
//!
//! This is the teaching path and the general one: any chain of lowered maps composes by matrix products.

mod conv2d;

pub use conv2d::{toeplitz, Toeplitz};

use ndarray::Array1;

use crate::infer;
use crate::layer::Layer;
use crate::matrix::{AffineMap, Matrix};
use crate::{Result, Scalar, Shape};

/// The affine map of `layer` for `input`: a Linear is its dense weight, a Conv2d its sparse Toeplitz
/// matrix, a Flatten the identity.
///
/// # Errors
/// [`crate::Error::Shape`] when `input` does not fit the layer.
///
/// ```
/// use linear_collapse::{lower::lower, layer::{Flatten, Layer}, matrix::Matrix, Shape};
/// let m = lower(&Layer::<f32>::Flatten(Flatten), Shape::chw(2, 2, 2))?;
/// assert_eq!(m.matrix, Matrix::Identity(8));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn lower<T: Scalar>(layer: &Layer<T>, input: Shape) -> Result<AffineMap<T>> {
    let output = infer::output_shape(0, layer, input)?;
    Ok(match layer {
        Layer::Linear(l) => AffineMap {
            matrix: Matrix::Dense(l.weight().clone()),
            bias: l.bias_or_zeros(),
        },
        Layer::Conv2d(c) => toeplitz(c, input)?.into_affine(),
        Layer::Flatten(_) => AffineMap {
            matrix: Matrix::Identity(input.numel()),
            bias: Array1::zeros(output.numel()),
        },
    })
}
