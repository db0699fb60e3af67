//! The Toeplitz (im2col) matrix of a `Conv2d` at a given input size, built row by row.
//!
//! Row `(o, i, j)` of `T` holds, for each input channel `ci` of `o`'s group and each tap `(a, b)`, the
//! weight `K[o, ci, a, b]` at column `(c, y, x)` with `c = grp(o)*C_in/g + ci`, `y = i*sh - top + a*dh`,
//! `x = j*sw - left + b*dw`; taps that land in the padding have no entry.

use ndarray::{Array1, Array2};

use crate::infer;
use crate::layer::{Conv2d, Layer};
use crate::matrix::{AffineMap, Csr, Matrix};
use rayon::prelude::*;

use crate::{Result, Scalar, Shape};

/// A convolution lowered at one input size: `y_flat = T x_flat + bias`.
#[derive(Clone, Debug, PartialEq)]
pub struct Toeplitz<T> {
    /// `T`, `(C_out*OH*OW, C_in*H*W)`, sparse.
    pub matrix: Csr<T>,
    /// The conv bias repeated over the `OH*OW` positions of each output channel (zeros without bias).
    pub bias: Array1<T>,
    /// The input shape it was built for.
    pub input_shape: Shape,
    /// The output shape `(C_out, OH, OW)`.
    pub output_shape: Shape,
}

impl<T: Scalar> Toeplitz<T> {
    /// `T` as a dense matrix.
    ///
    /// # Errors
    /// As [`Csr::to_dense`].
    pub fn to_dense(&self) -> crate::Result<Array2<T>> {
        self.matrix.to_dense()
    }

    /// As an [`AffineMap`] with a sparse matrix.
    pub fn into_affine(self) -> AffineMap<T> {
        AffineMap {
            matrix: Matrix::Sparse(self.matrix),
            bias: self.bias,
        }
    }
}

/// The Toeplitz matrix of `conv` for a `(C_in, H, W)` input, in sparse form, plus the repeated bias.
///
/// # Errors
/// [`crate::Error::Shape`] when `input` does not fit the convolution (reported as layer #0).
///
/// ```
/// use linear_collapse::{lower::toeplitz, layer::{Conv2d, Conv2dConfig}, Shape};
/// use ndarray::{array, Array4};
/// // one channel, 3x3 input, 2x2 kernel of ones: each output sums one 2x2 window
/// let conv = Conv2d::new(Array4::from_elem((1, 1, 2, 2), 1.0f32), Some(array![0.5]), Conv2dConfig::default())?;
/// let t = toeplitz(&conv, Shape::chw(1, 3, 3))?;
/// assert_eq!(t.output_shape, Shape::chw(1, 2, 2));
/// assert_eq!(t.matrix.nnz(), 16);
/// assert_eq!(t.to_dense()?.row(0).to_vec(), vec![1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
/// assert_eq!(t.bias.to_vec(), vec![0.5; 4]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn toeplitz<T: Scalar>(conv: &Conv2d<T>, input: Shape) -> Result<Toeplitz<T>> {
    // Shape checks live in one place: infer.
    let output = infer::output_shape(0, &Layer::Conv2d(conv.clone()), input)?;
    let (
        Shape::Chw { h, w, .. },
        Shape::Chw {
            c: c_out,
            h: oh,
            w: ow,
        },
    ) = (input, output)
    else {
        unreachable!("infer returns (C, H, W) for a Conv2d");
    };
    let rows_per_channel = oh * ow;
    let budget = crate::memory::default_budget();
    let what = || format!("the Toeplitz matrix of {} on {input}", conv.describe());
    // infer checked that the output's element count fits in usize
    let rows = c_out * rows_per_channel;
    crate::memory::check(what, (rows as u64).saturating_mul(16), budget, "")?;
    // Row lengths first (they depend only on the position), then a prefix sum.
    let taps = tap_tables(conv, [h, w], [oh, ow]);
    let per_pos: Vec<usize> = (0..rows_per_channel)
        .map(|p| taps[0][p / ow].len() * taps[1][p % ow].len() * conv.weight().dim().1)
        .collect();
    let nnz = per_pos
        .iter()
        .fold(0u64, |n, &len| n.saturating_add(len as u64))
        .saturating_mul(c_out as u64);
    let entry = (size_of::<usize>() + size_of::<T>()) as u64;
    crate::memory::check(what, nnz.saturating_mul(entry), budget, "")?;
    let mut indptr = vec![0usize; rows + 1];
    for o in 0..c_out {
        for (p, &len) in per_pos.iter().enumerate() {
            let r = o * rows_per_channel + p;
            indptr[r + 1] = indptr[r] + len;
        }
    }
    let nnz = indptr[rows];
    let mut indices = vec![0usize; nnz];
    let mut data = vec![T::zero(); nnz];
    fill_channels(conv, [h, w], &taps, &indptr, &mut indices, &mut data);
    let bias = match conv.bias() {
        Some(b) => Array1::from_shape_fn(c_out * rows_per_channel, |r| b[r / rows_per_channel]),
        None => Array1::zeros(c_out * rows_per_channel),
    };
    Ok(Toeplitz {
        matrix: Csr::from_parts_unchecked(
            c_out * rows_per_channel,
            input.numel(),
            indptr,
            indices,
            data,
        ),
        bias,
        input_shape: input,
        output_shape: output,
    })
}

/// For each output coordinate along the two axes, its in-image taps `(kernel index, input coordinate)`.
type TapTables = [Vec<Vec<(usize, usize)>>; 2];

fn tap_tables<T: Scalar>(conv: &Conv2d<T>, [h, w]: [usize; 2], [oh, ow]: [usize; 2]) -> TapTables {
    let g = *conv.geometry();
    let table = |axis: usize, n: usize, out: usize| {
        (0..out)
            .map(|i| {
                axis_taps(
                    i,
                    g.stride[axis],
                    g.padding[axis],
                    g.dilation[axis],
                    g.kernel[axis],
                    n,
                )
                .collect()
            })
            .collect()
    };
    [table(0, h, oh), table(1, w, ow)]
}

/// Kernel index and input coordinate of each tap of output coordinate `i` that lands inside `[0, n)`.
fn axis_taps(
    i: usize,
    stride: usize,
    pad: usize,
    dil: usize,
    k: usize,
    n: usize,
) -> impl Iterator<Item = (usize, usize)> {
    (0..k).filter_map(move |a| {
        let pos = (i * stride + a * dil).checked_sub(pad)?;
        (pos < n).then_some((a, pos))
    })
}

/// Writes the entries of every row, one output channel per parallel block.
fn fill_channels<T: Scalar>(
    conv: &Conv2d<T>,
    [h, w]: [usize; 2],
    taps: &TapTables,
    indptr: &[usize],
    indices: &mut [usize],
    data: &mut [T],
) {
    let c_out = conv.c_out();
    let cpg_in = conv.weight().dim().1;
    let cpg_out = c_out / conv.groups();
    let (oh, ow) = (taps[0].len(), taps[1].len());
    let chunk = indptr[oh * ow]; // every channel has the same row lengths
    if chunk == 0 {
        return;
    }
    let weight = conv.weight();
    let mut pairs: Vec<(&mut [usize], &mut [T])> = indices
        .chunks_mut(chunk)
        .zip(data.chunks_mut(chunk))
        .collect();
    let fill = |o: usize, (idx, val): &mut (&mut [usize], &mut [T])| {
        let c0 = (o / cpg_out) * cpg_in;
        let mut e = 0;
        for i in 0..oh {
            for j in 0..ow {
                for ci in 0..cpg_in {
                    for &(a, y) in &taps[0][i] {
                        for &(b, x) in &taps[1][j] {
                            idx[e] = ((c0 + ci) * h + y) * w + x;
                            val[e] = weight[[o, ci, a, b]];
                            e += 1;
                        }
                    }
                }
            }
        }
    };
    // Each channel writes its own slice, so the result does not depend on the schedule.
    pairs
        .par_iter_mut()
        .enumerate()
        .for_each(|(o, p)| fill(o, p));
}
