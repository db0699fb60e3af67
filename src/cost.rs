//! What layers cost, counted from their parameters and shapes (never by building a matrix): the
//! multiply-adds one sample takes at inference ([`macs`]), and the stored entries of a layer's matrix that
//! the composition planner multiplies by ([`matrix_nnz`]).
//!
//! Inference multiply-adds follow the usual convention of model profilers: a convolution computes every
//! tap of every window, padding included (`C_out * OH * OW * C_in/g * kh * kw`); an elementwise scale, shift
//! or normalisation is one per element; a sum of `n` values `n - 1` per element; moving data (pads,
//! reshapes, permutations, slices, nearest resizing) costs none.

use crate::layer::{Conv2d, Layer, ResizeMode};
use crate::{infer, Result, Scalar, Shape};

/// Multiply-adds of one sample through `layer` at `input`, saturating.
///
/// # Errors
/// [`crate::Error::Shape`] when `input` does not fit the layer.
///
/// ```
/// use linear_collapse::{cost, layer::{Conv2d, Conv2dConfig, Layer}, Shape};
/// use ndarray::Array4;
/// let conv = Conv2d::new(Array4::<f32>::zeros((8, 3, 3, 3)), None, Conv2dConfig::default().padding(1))?;
/// // 8 channels x 32x32 positions x 3 inputs x 9 taps, padded taps included
/// assert_eq!(cost::macs(&Layer::Conv2d(conv), Shape::chw(3, 32, 32))?, 8 * 1024 * 27);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn macs<T: Scalar>(layer: &Layer<T>, input: Shape) -> Result<u64> {
    let output = infer::output_shape(0, layer, input)?;
    let (n_in, n_out) = (input.numel() as u64, output.numel() as u64);
    let per_out = |taps: usize| n_out.saturating_mul(taps as u64);
    Ok(match layer {
        Layer::Linear(l) => per_out(l.in_features()),
        Layer::Conv2d(c) => {
            let (_, cpg, kh, kw) = c.weight().dim();
            per_out(cpg * kh * kw)
        }
        Layer::Conv1d(c) => {
            let (_, cpg, k) = c.weight().dim();
            per_out(cpg * k)
        }
        Layer::ConvTranspose2d(c) => {
            let (_, cpg_out, kh, kw) = c.weight().dim();
            n_in.saturating_mul((cpg_out * kh * kw) as u64)
        }
        Layer::AvgPool2d(p) => per_out(p.kernel_size()[0].saturating_mul(p.kernel_size()[1])),
        Layer::AvgPool1d(p) => per_out(p.kernel_size()),
        Layer::BatchNorm(_) | Layer::ScaleShift(_) => n_out,
        Layer::Reduce(_) => n_in,
        Layer::Resize(r) if r.mode() == ResizeMode::Linear => per_out(1 << input.rank().min(16)),
        Layer::Resize(_)
        | Layer::Pad(_)
        | Layer::Flatten(_)
        | Layer::Reshape(_)
        | Layer::Permute(_)
        | Layer::Slice(_)
        | Layer::Expand(_)
        | Layer::Upsample(_)
        | Layer::DepthToSpace(_)
        | Layer::SpaceToDepth(_)
        | Layer::Identity(_)
        | Layer::Dropout(_) => 0,
    })
}

/// Additions of a sum of `inputs` values of shape `shape`: `(inputs - 1) * numel`.
///
/// ```
/// use linear_collapse::{cost, Shape};
/// assert_eq!(cost::add_macs(3, Shape::chw(2, 4, 4)), 64);
/// ```
pub fn add_macs(inputs: usize, shape: Shape) -> u64 {
    (inputs.saturating_sub(1) as u64).saturating_mul(shape.numel() as u64)
}

/// An upper bound on the stored entries of a layer's matrix: the multiply-adds per row of the dense rows a
/// product pushes through it. `None` for the layers that only re-index the flat vector (the identity
/// matrix, no product needed).
///
/// ```
/// use linear_collapse::{cost, layer::{Flatten, Layer}, Shape};
/// assert_eq!(cost::matrix_nnz(&Layer::<f32>::Flatten(Flatten), Shape::chw(2, 3, 3), Shape::flat(18)), None);
/// ```
pub fn matrix_nnz<T: Scalar>(layer: &Layer<T>, input: Shape, output: Shape) -> Option<u64> {
    let (n_in, n_out) = (input.numel() as u64, output.numel() as u64);
    match layer {
        Layer::Flatten(_) | Layer::Identity(_) | Layer::Dropout(_) | Layer::Reshape(_) => None,
        Layer::Linear(l) => Some(n_out.saturating_mul(l.in_features() as u64)),
        Layer::Conv2d(c) => Some(conv_nnz(c, input)),
        // the weights' element counts fit in memory, so their products fit in u64
        Layer::Conv1d(c) => {
            let (c_out, cpg_in, k) = c.weight().dim();
            Some((n_out / c_out.max(1) as u64).saturating_mul((c_out * cpg_in * k) as u64))
        }
        Layer::ConvTranspose2d(c) => {
            let (_, cpg_out, kh, kw) = c.weight().dim();
            Some(n_in.saturating_mul((cpg_out * kh * kw) as u64))
        }
        Layer::AvgPool2d(p) => {
            let [kh, kw] = p.kernel_size();
            Some(n_out.saturating_mul(kh as u64).saturating_mul(kw as u64))
        }
        Layer::AvgPool1d(p) => Some(n_out.saturating_mul(p.kernel_size() as u64)),
        // one entry per input element
        Layer::Reduce(_) => Some(n_in),
        // at most two taps per axis
        Layer::Resize(r) if r.mode() == ResizeMode::Linear => {
            Some(n_out.saturating_mul(1 << input.rank().min(16)))
        }
        // BatchNorm, ScaleShift, Pad, Upsample, Permute, Slice, Expand, ...: at most one per output
        _ => Some(n_out),
    }
}

/// Structurally non-zero entries of a convolution's Toeplitz matrix: the taps that land inside the image
/// (a padded tap has no entry).
///
/// ```
/// use linear_collapse::{cost, layer::{Conv2d, Conv2dConfig}, Shape};
/// use ndarray::Array4;
/// let c = Conv2d::new(Array4::<f32>::zeros((1, 1, 3, 3)), None, Conv2dConfig::default().padding(1))?;
/// // 3x3 image, 3x3 kernel padded by 1: corners see 4 taps, edges 6, the centre 9
/// assert_eq!(cost::conv_nnz(&c, Shape::chw(1, 3, 3)), 4 * 4 + 4 * 6 + 9);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn conv_nnz<T: Scalar>(c: &Conv2d<T>, input: Shape) -> u64 {
    let Shape::Chw { h, w, .. } = input else {
        return 0;
    };
    let g = c.geometry();
    let Some([oh, ow]) = g.out_dims([h, w]) else {
        return 0;
    };
    // taps per axis that land inside: counted per kernel offset, O(k) instead of O(out * k)
    let axis = |n: usize, o: usize, k: usize, s: usize, d: usize, pad: usize| -> u64 {
        (0..k)
            .map(|a| {
                // outputs i with pad <= i*s + a*d < n + pad
                let off = a.saturating_mul(d);
                let lo = pad.saturating_sub(off).div_ceil(s);
                let hi = n.saturating_add(pad).saturating_sub(off).div_ceil(s).min(o);
                hi.saturating_sub(lo) as u64
            })
            .sum()
    };
    let ty = axis(h, oh, g.kernel[0], g.stride[0], g.dilation[0], g.padding[0]);
    let tx = axis(w, ow, g.kernel[1], g.stride[1], g.dilation[1], g.padding[1]);
    (c.c_out() as u64)
        .saturating_mul(c.weight().dim().1 as u64)
        .saturating_mul(ty)
        .saturating_mul(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Conv2dConfig;
    use ndarray::Array4;

    /// The O(k) count agrees with counting every (output, tap) pair.
    #[test]
    fn conv_nnz_counts_in_range_taps() {
        for (h, k, s, d, p) in [
            (7, 3, 1, 1, 1),
            (8, 3, 2, 1, 1),
            (9, 5, 2, 2, 3),
            (5, 1, 1, 1, 0),
            (6, 4, 3, 1, 2),
        ] {
            let cfg = Conv2dConfig {
                stride: [s, s],
                dilation: [d, d],
                padding: [p; 4],
                groups: 1,
            };
            let c = Conv2d::new(Array4::<f32>::zeros((1, 1, k, k)), None, cfg).unwrap();
            let [oh, _] = c.geometry().out_dims([h, h]).unwrap();
            let naive: u64 = (0..oh)
                .map(|i| {
                    (0..k)
                        .filter(|&a| (i * s + a * d).checked_sub(p).is_some_and(|y| y < h))
                        .count() as u64
                })
                .sum();
            assert_eq!(
                conv_nnz(&c, Shape::chw(1, h, h)),
                naive * naive,
                "{h} {k} {s} {d} {p}"
            );
        }
    }
}
