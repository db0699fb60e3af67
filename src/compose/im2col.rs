//! Reverse mode: `M T` for a dense `M` and a convolution's Toeplitz matrix `T`, with no `T` in memory.
//!
//! Row `r` of `M`, viewed as an image `(C_out, OH, OW)`, maps to row `r` of `M T`, an image `(C_in, H, W)`:
//! this is a transposed convolution. Per group and per tile of output rows, one GEMM forms the column
//! buffer `K_g^T (C_in/g*kh*kw x C_out/g)` times the tile of `M`'s row, then col2im adds each column
//! entry to the input pixel its tap came from. Cost: `rows(M) * nnz(T)` multiply-adds, at GEMM speed.

use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2};

use super::forward::ConvGeo;
use crate::layer::Conv2d;
use crate::matrix::gemm_into;
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
    let mut out = vec![T::zero(); m.nrows() * n_in];
    let mut bias = vec![T::zero(); m.nrows()];
    let batch = if geo.batch() > 1 {
        geo.batch_for(m.nrows()).max(2)
    } else {
        1
    };
    if n_mid > 0 && n_in > 0 {
        par.for_each_chunk_pair(&mut out, batch * n_in, &mut bias, batch, |c, dst, b| {
            let block = &msl[c * batch * n_mid..][..b.len() * n_mid];
            if batch == 1 {
                b[0] = col2im_row(conv, &geo, block, dst);
            } else {
                col2im_batch(conv, &geo, block, dst, b);
            }
        });
    }
    let prod = Array2::from_shape_vec((m.nrows(), n_in), out).expect("shape matches the buffer");
    (prod, Array1::from(bias))
}

/// Rows of `M` whose images are small, folded together: per group, the rows' channel blocks are gathered
/// into one `(C_out/g) x (rows * P)` matrix so a single GEMM forms all their column buffers. `out` holds
/// the rows' results one after another, `bias` their bias contributions.
fn col2im_batch<T: Scalar>(
    conv: &Conv2d<T>,
    geo: &ConvGeo,
    block: &[T],
    out: &mut [T],
    bias: &mut [T],
) {
    let n_mid = conv.c_out() * geo.p;
    let nr = bias.len();
    let n_in = out.len() / nr;
    let ld = nr * geo.p;
    let k = conv.weight().as_standard_layout();
    let k2 = k
        .view()
        .into_shape_with_order((conv.c_out(), geo.kg))
        .expect("standard layout");
    let mut gathered = vec![T::zero(); geo.cpg_out * ld];
    let mut cols = vec![T::zero(); geo.kg * ld];
    let pl = phase_len(conv, geo, n_in);
    let mut acc = vec![T::zero(); nr * pl];
    for g in 0..conv.groups() {
        for o in 0..geo.cpg_out {
            for j in 0..nr {
                let src = &block[j * n_mid + (g * geo.cpg_out + o) * geo.p..][..geo.p];
                gathered[o * ld + j * geo.p..][..geo.p].copy_from_slice(src);
            }
        }
        // cols (kg x ld) = K_g^T (kg x cpg_out) * gathered (cpg_out x ld)
        let kg = k2.slice(s![g * geo.cpg_out..(g + 1) * geo.cpg_out, ..]);
        let gathered = ArrayView2::from_shape((geo.cpg_out, ld), &gathered[..]).expect("sized");
        let mut c = ArrayViewMut2::from_shape((geo.kg, ld), &mut cols[..]).expect("sized");
        gemm_into(kg.t(), gathered, &mut c);
        for (j, row) in acc.chunks_mut(pl).enumerate() {
            col2im(conv, geo, g, &cols, ld, j * geo.p, 0..geo.oh, row);
        }
    }
    for (j, row) in acc.chunks(pl).enumerate() {
        unphase(conv, geo, row, &mut out[j * n_in..][..n_in]);
        bias[j] = bias_of(conv, geo, &block[j * n_mid..(j + 1) * n_mid]);
    }
}

/// One row: for each group and tile of output rows, the column-buffer GEMM then col2im. Returns
/// the row's bias contribution.
fn col2im_row<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, mrow: &[T], out: &mut [T]) -> T {
    let k = conv.weight().as_standard_layout();
    let k2 = k
        .view()
        .into_shape_with_order((conv.c_out(), geo.kg))
        .expect("standard layout");
    let mrow_2d = ArrayView2::from_shape((conv.c_out(), geo.p), mrow).expect("one row of M");
    let rows = geo.tile_rows();
    let mut cols = vec![T::zero(); geo.kg * rows * geo.ow];
    let mut acc = vec![T::zero(); phase_len(conv, geo, out.len())];
    for g in 0..conv.groups() {
        for i0 in (0..geo.oh).step_by(rows) {
            let i1 = (i0 + rows).min(geo.oh);
            let pt = (i1 - i0) * geo.ow;
            // cols (kg x pt) = K_g^T (kg x cpg_out) * M_row[g-channels, tile] (cpg_out x pt)
            let kg = k2.slice(s![g * geo.cpg_out..(g + 1) * geo.cpg_out, ..]);
            let m = mrow_2d.slice(s![
                g * geo.cpg_out..(g + 1) * geo.cpg_out,
                i0 * geo.ow..i0 * geo.ow + pt
            ]);
            let mut c =
                ArrayViewMut2::from_shape((geo.kg, pt), &mut cols[..geo.kg * pt]).expect("sized");
            gemm_into(kg.t(), m, &mut c);
            col2im(conv, geo, g, &cols, pt, 0, i0..i1, &mut acc);
        }
    }
    unphase(conv, geo, &acc, out);
    bias_of(conv, geo, mrow)
}

/// col2im: adds column-buffer entry `(q, off + (i - i0)*OW + j)` (row stride `ld`) to the input pixel that
/// tap `q = (ci, a, b)` of output position `(i, j)` reads, for output rows `i` in `rows` (`i0` its start).
#[allow(clippy::too_many_arguments)]
fn col2im<T: Scalar>(
    conv: &Conv2d<T>,
    geo: &ConvGeo,
    g: usize,
    cols: &[T],
    ld: usize,
    off: usize,
    rows: std::ops::Range<usize>,
    out: &mut [T],
) {
    let (_, cpg_in, kh, kw) = conv.weight().dim();
    let sw = conv.geometry().stride[1];
    let (wq, rl) = phase_dims(geo.w, sw);
    let plane_len = geo.h * rl;
    for q in 0..geo.kg {
        let (ci, a, b) = (q / (kh * kw), (q / kw) % kh, q % kw);
        let plane = &mut out[(g * cpg_in + ci) * plane_len..][..plane_len];
        let row = &cols[q * ld + off..];
        for i in rows.clone() {
            if let Some((yy, js, x0)) = geo.tap_row(conv, a, b, i) {
                let src = &row[(i - rows.start) * geo.ow..][js];
                // x0 + t*sw lies in phase x0 % sw at slot x0 / sw + t: the writes are contiguous.
                let dst = &mut plane[yy * rl + (x0 % sw) * wq + x0 / sw..][..src.len()];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d += v;
                }
            }
        }
    }
}

/// The phase-major layout of an image row under horizontal stride `sw`: `sw` phases of `wq = ceil(w/sw)`
/// slots, pixel `x` at `(x % sw) * wq + x / sw`. Returns `(wq, row length)`; for `sw = 1`, the natural row.
fn phase_dims(w: usize, sw: usize) -> (usize, usize) {
    let wq = w.div_ceil(sw);
    (wq, wq * sw)
}

/// Elements of one output row in the phase-major layout.
fn phase_len<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, n_in: usize) -> usize {
    n_in / geo.w * phase_dims(geo.w, conv.geometry().stride[1]).1
}

/// Copies a phase-major row `acc` into its natural layout `out`.
fn unphase<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, acc: &[T], out: &mut [T]) {
    let sw = conv.geometry().stride[1];
    if sw == 1 {
        return out.copy_from_slice(acc);
    }
    let (wq, rl) = phase_dims(geo.w, sw);
    for (dst, src) in out.chunks_mut(geo.w).zip(acc.chunks(rl)) {
        for (phase, slots) in src.chunks(wq).enumerate() {
            for (d, &v) in dst.iter_mut().skip(phase).step_by(sw).zip(slots) {
                *d = v;
            }
        }
    }
}

/// `sum_o b_o sum_p M[o, p]`: the bias contribution of one row of `M`.
fn bias_of<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, mrow: &[T]) -> T {
    match conv.bias() {
        Some(b) => b.iter().enumerate().fold(T::zero(), |acc, (o, &bo)| {
            acc + bo * sum_lanes(&mrow[o * geo.p..(o + 1) * geo.p])
        }),
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
    use crate::compose::forward::tests::{cases, rows};
    use crate::lower::toeplitz;

    #[test]
    fn col2im_matches_dense_toeplitz() {
        for (conv, shape) in cases() {
            let t = toeplitz(&conv, shape).unwrap();
            let m = rows(t.matrix.nrows());
            let (prod, bias) = conv_right_of(m.view(), &conv, shape, Par::Rayon);
            assert_eq!(prod, m.dot(&t.to_dense().unwrap()), "{:?}", conv.config());
            assert_eq!(bias, m.dot(&t.bias), "{:?}", conv.config());
        }
    }
}
