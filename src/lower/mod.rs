//! Explicit lowering: every layer becomes its affine map `x -> A x + a` at a given input shape.
//!
//! This is the teaching path and the general one: any chain of lowered maps composes by matrix products.
//! A Linear is its dense weight on a flat input (the block-diagonal `kron(I, W)` in CSR on any other); a
//! Conv2d (and a Conv1d, as the Conv2d it equals on `(C, 1, L)`) its Toeplitz matrix; every other layer a
//! sparse matrix, one file per layer: weighted ones (BatchNorm, ScaleShift, pooling, Reduce, Resize, the
//! transposed convolution) and selections with one 1 per row (Pad, Upsample, Permute, Slice, Expand,
//! DepthToSpace, SpaceToDepth); the layers that only re-index the flat vector (Flatten, Reshape, Identity,
//! Dropout) the identity.

mod avgpool;
mod batchnorm;
mod conv2d;
mod conv_transpose2d;
mod depth_to_space;
mod linear;
mod pad;
mod permute;
mod reduce;
mod resize;
mod scale_shift;
mod slice;
mod space_to_depth;
mod upsample;

pub use conv2d::{toeplitz, Toeplitz};
pub(crate) use linear::bias as linear_bias;

use ndarray::Array1;

use crate::infer;
use crate::layer::Layer;
use crate::matrix::{AffineMap, Csr, Matrix};
use crate::{Result, Scalar, Shape};

/// The affine map of `layer` for `input`: a Linear is its dense weight (on a flat input; else the
/// block-diagonal matrix with one copy of the weight per position of the leading axes), a Conv2d or
/// Conv1d its sparse Toeplitz matrix, every other layer a sparse matrix (a diagonal, a selection, or the
/// weights of pooling, reduction and resizing), and Flatten, Reshape, Identity and Dropout the identity.
///
/// # Errors
/// [`crate::Error::Shape`] when `input` does not fit the layer; [`crate::Error::InvalidLayer`] when a
/// Linear's block-diagonal matrix would have more than `usize::MAX` entries.
///
/// ```
/// use linear_collapse::{lower::lower, layer::{Flatten, Layer, Pad, PadMode}, matrix::Matrix, Shape};
/// let m = lower(&Layer::<f32>::Flatten(Flatten), Shape::chw(2, 2, 2))?;
/// assert_eq!(m.matrix, Matrix::Identity(8));
/// // a constant pad copies the input and puts the constant in the bias
/// let pad = Pad::new_1d([1, 0], PadMode::Constant(0.5f32))?;
/// let m = lower(&pad.into(), Shape::cl(1, 2))?;
/// assert_eq!(m.matrix.to_dense()?, ndarray::array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
/// assert_eq!(m.bias.to_vec(), vec![0.5, 0.0, 0.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn lower<T: Scalar>(layer: &Layer<T>, input: Shape) -> Result<AffineMap<T>> {
    let output = infer::output_shape(0, layer, input)?;
    Ok(match layer {
        Layer::Linear(l) => linear::lower(l, input)?,
        Layer::Conv2d(c) => toeplitz(c, input)?.into_affine(),
        // (C, L) and (C, 1, L) have the same flat index
        Layer::Conv1d(c) => {
            let Shape::Cl { c: ch, l } = input else {
                unreachable!("infer accepts only (C, L) for a Conv1d")
            };
            toeplitz(c.as_conv2d(), Shape::chw(ch, 1, l))?.into_affine()
        }
        Layer::Flatten(_) | Layer::Identity(_) | Layer::Dropout(_) | Layer::Reshape(_) => {
            AffineMap {
                matrix: Matrix::Identity(input.numel()),
                bias: Array1::zeros(output.numel()),
            }
        }
        Layer::BatchNorm(b) => batchnorm::lower(b, input),
        Layer::AvgPool2d(p) => avgpool::lower(p, input, output),
        Layer::AvgPool1d(p) => avgpool::lower(&p.to_avgpool2d(), input, output),
        Layer::Pad(p) => pad::lower(p, input, output),
        Layer::ConvTranspose2d(c) => conv_transpose2d::lower(c, input, output),
        Layer::Upsample(u) => upsample::lower(u, input, output),
        Layer::Permute(p) => permute::lower(p, input, output),
        Layer::Slice(s) => slice::lower(s, input, output),
        Layer::ScaleShift(s) => scale_shift::lower(s, input),
        Layer::Reduce(r) => reduce::lower(r, input, output),
        Layer::DepthToSpace(d) => depth_to_space::lower(d, input, output),
        Layer::SpaceToDepth(s) => space_to_depth::lower(s, input, output),
        Layer::Resize(r) => resize::lower(r, input, output),
        // row r copies the input element that broadcasts to output element r
        Layer::Expand(_) => select(
            broadcast_source(&input.dims(), &output.dims()),
            input.numel(),
        ),
    })
}

/// A shape as `[c, h, w]`: `(C, L)` is `(C, 1, L)`, a flat `(n,)` is `(n, 1, 1)` and any other rank is its
/// first axis by the rest, which keeps the flat index.
fn chw(s: Shape) -> [usize; 3] {
    match s {
        Shape::Chw { c, h, w } => [c, h, w],
        Shape::Cl { c, l } => [c, 1, l],
        Shape::Flat(n) => [n, 1, 1],
        Shape::Nd(d) => match d.as_slice() {
            [] => [1, 1, 1],
            [c, rest @ ..] => [*c, rest.iter().product(), 1],
        },
    }
}

/// The C-order strides of `dims`: stepping axis `i` by one moves the flat index by `strides[i]`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (1..dims.len()).rev() {
        s[i - 1] = s[i] * dims[i];
    }
    s
}

/// Calls `f` with every coordinate of `dims` in C order (once, with no coordinate, for rank 0).
fn for_each_coord(dims: &[usize], mut f: impl FnMut(&[usize])) {
    if dims.contains(&0) {
        return;
    }
    let mut at = vec![0; dims.len()];
    loop {
        f(&at);
        // the odometer: bump the last axis, carry into the ones before
        let mut i = dims.len();
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            at[i] += 1;
            if at[i] < dims[i] {
                break;
            }
            at[i] = 0;
        }
    }
}

/// For every element of `big` (in C order), the flat index of the element of `small` it reads when `small`
/// broadcasts to `big` (NumPy: aligned on the last axis, axes of size 1 repeated; checked by the caller).
fn broadcast_source(small: &[usize], big: &[usize]) -> Vec<usize> {
    let lead = big.len() - small.len();
    let stride = strides(small);
    // how far one step along each axis of `big` moves in `small`: 0 where `small` repeats
    let step: Vec<usize> = (0..big.len())
        .map(|j| match j.checked_sub(lead) {
            Some(k) if small[k] != 1 => stride[k],
            _ => 0,
        })
        .collect();
    let mut src = Vec::with_capacity(big.iter().product());
    for_each_coord(big, |at| {
        src.push(at.iter().zip(&step).map(|(a, s)| a * s).sum());
    });
    src
}

/// The selection map whose row `r` copies input element `cols[r]` (a single 1 per row, no bias).
fn select<T: Scalar>(cols: Vec<usize>, n_in: usize) -> AffineMap<T> {
    let n = cols.len();
    let matrix = Csr::from_parts(n, n_in, (0..=n).collect(), cols, vec![T::one(); n])
        .expect("the lowering selects elements inside the input");
    AffineMap {
        matrix: Matrix::Sparse(matrix),
        bias: Array1::zeros(n),
    }
}

/// The sparse affine map with these triplets and bias, `(bias.len(), n_in)`.
fn sparse<T: Scalar>(
    triplets: Vec<(usize, usize, T)>,
    n_in: usize,
    bias: Array1<T>,
) -> AffineMap<T> {
    let matrix = Csr::from_triplets(bias.len(), n_in, triplets)
        .expect("the lowering builds triplets inside the matrix");
    AffineMap {
        matrix: Matrix::Sparse(matrix),
        bias,
    }
}
