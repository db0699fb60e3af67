//! Reverse mode: `M T` for a dense `M` and a convolution's Toeplitz matrix `T`, with no `T` in memory.
//!
//! Row `r` of `M`, viewed as an image `(C_out, OH, OW)`, maps to row `r` of `M T`, an image `(C_in, H, W)`:
//! this is a transposed convolution. Per group and per tile of output rows, one GEMM forms the column
//! buffer `K_g^T (C_in/g*kh*kw x C_out/g)` times the tile of `M`'s row, then a col2im fold adds each column
//! entry to the input pixel its tap came from. Cost: `rows(M) * nnz(T)` multiply-adds, at GEMM speed.

use ndarray::{Array1, Array2, ArrayView2};

use super::forward::ConvGeo;
use crate::layer::Conv2d;
use crate::{Par, Scalar, Shape};

/// `(M T, M b)`, where `T` is the Toeplitz matrix of `conv` at `input` and `b` its bias repeated over
/// positions: each row of `M` is folded back through the transposed convolution, and its bias
/// contribution is summed from the same tiles while they are in cache.
///
/// # Panics
/// When `m.ncols()` differs from the convolution's output size at `input`.
#[track_caller]
pub(crate) fn conv_right_of<T: Scalar>(
    m: ArrayView2<T>,
    conv: &Conv2d<T>,
    input: Shape,
    par: Par,
) -> (Array2<T>, Array1<T>) {
    let geo = ConvGeo::new(conv, input);
    assert_eq!(m.ncols(), conv.c_out() * geo.p, "inner dimension");
    let n_in = input.numel();
    let m = m.as_standard_layout();
    let msl = m.as_slice().expect("standard layout");
    let n_mid = m.ncols();
    // Each output row carries one extra slot at its end: the row's bias contribution.
    let stride = n_in + 1;
    let mut out = vec![T::zero(); m.nrows() * stride];
    if n_mid > 0 {
        par.for_each_chunk(&mut out, stride, |r, dst| {
            let (row, bias) = dst.split_at_mut(n_in);
            bias[0] = fold_row(conv, &geo, &msl[r * n_mid..(r + 1) * n_mid], row);
        });
    }
    let bias = Array1::from_shape_fn(m.nrows(), |r| out[r * stride + n_in]);
    let prod = Array2::from_shape_fn((m.nrows(), n_in), |(r, c)| out[r * stride + c]);
    (prod, bias)
}

/// One row: for each group and tile of output rows, the column-buffer GEMM then the col2im fold. Returns
/// the row's bias contribution `sum_o b_o sum_p M[o, p]`.
fn fold_row<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, mrow: &[T], out: &mut [T]) -> T {
    let (c_out, cpg_in, kh, kw) = conv.weight().dim();
    let cpg_out = c_out / conv.groups();
    let k = conv.weight().as_standard_layout();
    let kptr = k.as_ptr();
    let rows = geo.tile_rows();
    let mut cols = vec![T::zero(); geo.col_buffer_len()];
    let sw = conv.geometry().stride[1];
    let plane_len = geo.h * geo.w;
    let mut sums = vec![T::zero(); c_out];
    for g in 0..conv.groups() {
        for i0 in (0..geo.oh).step_by(rows) {
            let i1 = (i0 + rows).min(geo.oh);
            let pt = (i1 - i0) * geo.ow;
            // cols (kg x pt) = K_g^T (kg x cpg_out) * M_row[g-channels, tile] (cpg_out x pt)
            // SAFETY: K_g^T reads K (c_out, kg) standard layout transposed (row stride 1, col stride kg);
            // the M block has row stride geo.p; cols is kg x pt, row stride pt.
            unsafe {
                T::gemm_raw(
                    geo.kg,
                    cpg_out,
                    pt,
                    kptr.add(g * cpg_out * geo.kg),
                    1,
                    geo.kg as isize,
                    mrow.as_ptr().add(g * cpg_out * geo.p + i0 * geo.ow),
                    geo.p as isize,
                    1,
                    cols.as_mut_ptr(),
                    pt as isize,
                    1,
                );
            }
            for (o, sum) in sums.iter_mut().enumerate().skip(g * cpg_out).take(cpg_out) {
                *sum += sum_lanes(&mrow[o * geo.p + i0 * geo.ow..][..pt]);
            }
            for q in 0..geo.kg {
                let (ci, a, b) = (q / (kh * kw), (q / kw) % kh, q % kw);
                let plane = &mut out[(g * cpg_in + ci) * plane_len..][..plane_len];
                let row = &cols[q * pt..(q + 1) * pt];
                for i in i0..i1 {
                    if let Some((yy, js, x0)) = geo.tap_row(conv, a, b, i) {
                        let src = &row[(i - i0) * geo.ow..][js];
                        let dst = &mut plane[yy * geo.w + x0..];
                        if sw == 1 {
                            for (d, &v) in dst[..src.len()].iter_mut().zip(src) {
                                *d += v;
                            }
                        } else {
                            for (d, &v) in dst.iter_mut().step_by(sw).zip(src) {
                                *d += v;
                            }
                        }
                    }
                }
            }
        }
    }
    match conv.bias() {
        Some(b) => b
            .iter()
            .zip(&sums)
            .fold(T::zero(), |acc, (&bo, &s)| acc + bo * s),
        None => T::zero(),
    }
}

/// A sum with eight independent accumulators (vectorisable, and the same order on every call).
fn sum_lanes<T: Scalar>(xs: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = xs.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let head = acc.iter().fold(T::zero(), |s, &v| s + v);
    tail.iter().fold(head, |s, &v| s + v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Conv2dConfig;
    use crate::lower::toeplitz;
    use ndarray::Array4;

    #[test]
    fn fold_matches_dense_toeplitz() {
        for (cfg, shape) in [
            (
                Conv2dConfig {
                    stride: [2, 1],
                    dilation: [1, 2],
                    padding: [1, 0, 2, 3],
                    groups: 2,
                },
                Shape::chw(4, 7, 9),
            ),
            (Conv2dConfig::default().padding(1), Shape::chw(4, 40, 30)),
            (
                Conv2dConfig {
                    stride: [3, 2],
                    padding: [3, 3, 3, 3],
                    ..Default::default()
                },
                Shape::chw(4, 4, 4),
            ),
        ] {
            let w = Array4::from_shape_fn((6, 4 / cfg.groups, 3, 2), |(a, b, c, d)| {
                (a * 7 + b * 3 + c * 5 + d) as f64 % 5.0 - 2.0
            });
            let conv = Conv2d::new(w, Some(Array1::from_elem(6, 0.5)), cfg).unwrap();
            let t = toeplitz(&conv, shape).unwrap();
            let m = Array2::from_shape_fn((3, t.matrix.nrows()), |(r, c)| {
                ((r * 31 + c * 17) % 11) as f64 - 5.0
            });
            let (prod, bias) = conv_right_of(m.view(), &conv, shape, Par::Rayon);
            assert_eq!(prod, m.dot(&t.dense()), "{cfg:?}");
            assert_eq!(bias, m.dot(&t.bias), "{cfg:?}");
        }
    }
}
