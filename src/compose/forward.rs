//! The fast forward pass: a batch of samples through a chain, each convolution as im2col + GEMM.
//!
//! This is what a deep-learning framework does at inference time. The crate uses it for the probing
//! baseline ([`crate::baseline`]), for products where a convolution's Toeplitz matrix multiplies a dense
//! matrix from the left (`T D`: the columns of `D` are images), and for biases.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::layer::{Conv2d, Layer};
use crate::matrix::{gemm, gemm_into};
use crate::{infer, Par, Result, Scalar, Shape};

/// Output positions per im2col tile: keeps the column buffer (`C_in/g*kh*kw` rows) in L2.
const TILE_P: usize = 512;

/// Runs every row of `x` (a sample flattened in C order) through the chain: `(batch, n_in) -> (batch, n_out)`.
///
/// # Errors
/// [`crate::Error::Shape`] when the chain does not fit `input` or `x` has the wrong number of columns.
///
/// ```
/// use linear_collapse::compose::forward_batch;
/// use linear_collapse::layer::{Conv2d, Conv2dConfig, Layer};
/// use linear_collapse::{Par, Shape};
/// use ndarray::{array, Array4};
/// let conv = Conv2d::new(Array4::from_elem((1, 1, 2, 2), 1.0f32), None, Conv2dConfig::default())?;
/// let x = array![[1.0f32, 2.0, 3.0, 4.0]]; // one 1x2x2 image
/// let y = forward_batch(&[Layer::Conv2d(conv)], Shape::chw(1, 2, 2), x.view(), Par::Seq)?;
/// assert_eq!(y, array![[10.0]]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn forward_batch<T: Scalar>(
    chain: &[Layer<T>],
    input: Shape,
    x: ArrayView2<T>,
    par: Par,
) -> Result<Array2<T>> {
    let shapes = infer::shapes(chain, input)?;
    if x.ncols() != input.numel() {
        return Err(crate::Error::invalid(
            "forward_batch input",
            format!(
                "rows have {} values, the input shape {input} has {}",
                x.ncols(),
                input.numel()
            ),
        ));
    }
    let mut cur = x.to_owned();
    for (i, layer) in chain.iter().enumerate() {
        cur = match layer {
            Layer::Flatten(_) => cur,
            Layer::Linear(l) if l.matrix_is_weight(shapes[i]) => {
                let mut y = gemm(cur.view(), l.weight().t(), par);
                if let Some(b) = l.bias() {
                    y += b;
                }
                y
            }
            // over the last axis: every (sample, position) is a row of `in_features` values
            Layer::Linear(l) => {
                let (batch, n_out) = (cur.nrows(), shapes[i + 1].numel());
                let rows = cur.len() / l.in_features();
                let x = cur.as_standard_layout();
                let x = x
                    .view()
                    .into_shape_with_order((rows, l.in_features()))
                    .expect("standard layout");
                let mut y = gemm(x, l.weight().t(), par);
                if let Some(b) = l.bias() {
                    y += b;
                }
                y.into_shape_with_order((batch, n_out))
                    .expect("a fresh array is contiguous")
            }
            Layer::Conv2d(c) => conv_batch(c, shapes[i], cur.view(), true, par),
            other => {
                // Every other layer through its lowered matrix: Y = X A^T + a.
                let m = crate::lower::lower(other, shapes[i])?;
                let rows: Vec<ndarray::Array1<T>> =
                    cur.outer_iter().map(|x| m.apply(&x.to_owned())).collect();
                let n = shapes[i + 1].numel();
                Array2::from_shape_fn((rows.len(), n), |(r, c)| rows[r][c])
            }
        };
    }
    Ok(cur)
}

/// The convolution of every row of `x` (an image of shape `input`), with or without its bias.
///
/// # Panics
/// When `input` is not a valid input of `conv` (callers infer shapes first).
pub(crate) fn conv_batch<T: Scalar>(
    conv: &Conv2d<T>,
    input: Shape,
    x: ArrayView2<T>,
    with_bias: bool,
    par: Par,
) -> Array2<T> {
    let geo = ConvGeo::new(conv, input);
    let n_out = conv.c_out() * geo.p;
    let mut y = Array2::<T>::zeros((x.nrows(), n_out));
    let rows: Vec<_> = x.axis_iter(Axis(0)).collect();
    let out = y.as_slice_mut().expect("fresh array is contiguous");
    par.for_each_chunk(out, n_out.max(1), |r, dst| {
        let src = rows[r].to_vec();
        conv_one(conv, &geo, &src, dst);
        if with_bias {
            if let Some(b) = conv.bias() {
                for (o, chunk) in dst.chunks_mut(geo.p).enumerate() {
                    chunk.iter_mut().for_each(|v| *v += b[o]);
                }
            }
        }
    });
    y
}

/// `T D` for a dense `D` whose columns are images of shape `input`: the convolution (no bias) of each column.
pub(crate) fn conv_left_of<T: Scalar>(
    conv: &Conv2d<T>,
    input: Shape,
    d: ArrayView2<T>,
    par: Par,
) -> Array2<T> {
    let y = conv_batch(conv, input, d.t(), false, par);
    y.t().as_standard_layout().into_owned()
}

/// The sizes every conv kernel needs, computed once.
pub(crate) struct ConvGeo {
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
    /// `oh * ow`.
    pub(crate) p: usize,
    /// Rows of the column buffer: `C_in/g * kh * kw`.
    pub(crate) kg: usize,
    /// Output channels per group.
    pub(crate) cpg_out: usize,
}

impl ConvGeo {
    #[track_caller]
    pub(crate) fn new<T: Scalar>(conv: &Conv2d<T>, input: Shape) -> Self {
        let Shape::Chw { h, w, .. } = input else {
            panic!("conv kernels take a (C, H, W) input, got {input}");
        };
        let [oh, ow] = conv
            .geometry()
            .out_dims([h, w])
            .expect("shape inferred before");
        let (_, cpg_in, kh, kw) = conv.weight().dim();
        ConvGeo {
            h,
            w,
            oh,
            ow,
            p: oh * ow,
            kg: cpg_in * kh * kw,
            cpg_out: conv.c_out() / conv.groups(),
        }
    }

    /// Output rows in one im2col tile.
    pub(crate) fn tile_rows(&self) -> usize {
        rows_per_tile(self.ow).min(self.oh).max(1)
    }

    /// Rows of `M` that reverse mode folds with one GEMM: small images are batched so each GEMM has at
    /// least about [`TILE_P`] columns; large ones go one row at a time, tiled over output rows.
    pub(crate) fn batch(&self) -> usize {
        if self.p * 2 > TILE_P {
            1
        } else {
            TILE_P / self.p.max(1)
        }
    }

    /// [`ConvGeo::batch`] for `rows` rows of `M`, lowered so there are at least 8 chunks to spread over
    /// threads; it depends only on the sizes, never on the thread count.
    pub(crate) fn batch_for(&self, rows: usize) -> usize {
        self.batch().min(rows.div_ceil(8)).max(1)
    }

    /// Elements of the buffers one worker holds: the column buffer (`kg` rows by one tile or batch of
    /// positions) and, when rows are batched, the gathered block of `M`.
    pub(crate) fn col_buffer_len(&self) -> usize {
        if self.batch() > 1 {
            (self.kg + self.cpg_out) * self.batch() * self.p
        } else {
            self.kg * self.tile_rows() * self.ow
        }
    }

    /// For column-buffer row `q = (ci, a, b)` and output row `i`: the input row `y` and the range of
    /// output columns `j` whose tap lands inside the image, with the first input column `x0`
    /// (`x = x0 + (j - j0)*sw`). `None` when the row or every column falls in the padding.
    #[inline]
    pub(crate) fn tap_row<T: Scalar>(
        &self,
        conv: &Conv2d<T>,
        a: usize,
        b: usize,
        i: usize,
    ) -> Option<(usize, std::ops::Range<usize>, usize)> {
        let g = conv.geometry();
        let y = (i * g.stride[0] + a * g.dilation[0]).checked_sub(g.padding[0])?;
        if y >= self.h {
            return None;
        }
        let off = b * g.dilation[1]; // x = j*sw + off - left
        let left = g.padding[1];
        let sw = g.stride[1];
        let j0 = if off >= left {
            0
        } else {
            (left - off).div_ceil(sw)
        };
        // x < w  <=>  j*sw < w + left - off
        let lim = (self.w + left).checked_sub(off)?;
        let j1 = lim.div_ceil(sw).min(self.ow);
        (j0 < j1).then(|| (y, j0..j1, j0 * sw + off - left))
    }
}

/// Output rows per tile: as many whole rows as fit in [`TILE_P`] positions (at least one).
pub(crate) fn rows_per_tile(ow: usize) -> usize {
    (TILE_P / ow.max(1)).max(1)
}

/// One image through the convolution (no bias): im2col per tile of output rows, then one GEMM per group
/// and tile.
fn conv_one<T: Scalar>(conv: &Conv2d<T>, geo: &ConvGeo, x: &[T], y: &mut [T]) {
    let (c_out, cpg_in, kh, kw) = conv.weight().dim();
    let groups = conv.groups();
    let cpg_out = c_out / groups;
    let k = conv.weight().as_standard_layout();
    let k2 = k
        .view()
        .into_shape_with_order((c_out, geo.kg))
        .expect("standard layout");
    let mut y2 = ArrayViewMut2::from_shape((c_out, geo.p), y).expect("one output image");
    let rows = geo.tile_rows();
    let mut cols = vec![T::zero(); geo.kg * rows * geo.ow];
    let sw = conv.geometry().stride[1];
    for g in 0..groups {
        for i0 in (0..geo.oh).step_by(rows) {
            let i1 = (i0 + rows).min(geo.oh);
            let pt = (i1 - i0) * geo.ow;
            cols[..geo.kg * pt].iter_mut().for_each(|v| *v = T::zero());
            for q in 0..geo.kg {
                let (ci, a, b) = (q / (kh * kw), (q / kw) % kh, q % kw);
                let plane = &x[(g * cpg_in + ci) * geo.h * geo.w..][..geo.h * geo.w];
                let row = &mut cols[q * pt..(q + 1) * pt];
                for i in i0..i1 {
                    if let Some((yy, js, x0)) = geo.tap_row(conv, a, b, i) {
                        let dst = &mut row[(i - i0) * geo.ow..][js.clone()];
                        let src = &plane[yy * geo.w + x0..];
                        if sw == 1 {
                            dst.copy_from_slice(&src[..dst.len()]);
                        } else {
                            for (d, &v) in dst.iter_mut().zip(src.iter().step_by(sw)) {
                                *d = v;
                            }
                        }
                    }
                }
            }
            // y[g*cpg_out.., tile] = K_g (cpg_out x kg) * cols (kg x pt)
            let kg = k2.slice(s![g * cpg_out..(g + 1) * cpg_out, ..]);
            let c = ArrayView2::from_shape((geo.kg, pt), &cols[..geo.kg * pt]).expect("sized");
            let mut out = y2.slice_mut(s![
                g * cpg_out..(g + 1) * cpg_out,
                i0 * geo.ow..i0 * geo.ow + pt
            ]);
            gemm_into(kg, c, &mut out);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::layer::Conv2dConfig;
    use crate::lower::toeplitz;
    use ndarray::{Array1, Array4};

    /// Integer-valued convolutions (exact in f64 whatever the summation order) on the geometries the conv
    /// kernels special-case: groups, dilation, asymmetric padding, strides above one on either axis, images
    /// smaller than one tile (batched reverse mode) and larger (tiled, phase-major fold).
    pub(crate) fn cases() -> Vec<(Conv2d<f64>, Shape)> {
        let cfg = |stride, dilation, padding, groups| Conv2dConfig {
            stride,
            dilation,
            padding,
            groups,
        };
        [
            (cfg([2, 1], [1, 2], [1, 0, 2, 3], 2), Shape::chw(4, 7, 9)),
            (cfg([1, 1], [1, 1], [1; 4], 1), Shape::chw(4, 5, 5)),
            (cfg([1, 1], [1, 1], [1; 4], 1), Shape::chw(4, 40, 30)),
            (cfg([2, 3], [1, 1], [1, 2, 0, 1], 2), Shape::chw(4, 50, 70)),
            (cfg([3, 2], [1, 1], [3; 4], 1), Shape::chw(4, 4, 4)),
            (cfg([3, 3], [1, 1], [3; 4], 1), Shape::chw(4, 4, 4)),
        ]
        .into_iter()
        .map(|(cfg, shape)| {
            let w = Array4::from_shape_fn((6, 4 / cfg.groups, 3, 2), |(a, b, c, d)| {
                (a * 7 + b * 3 + c * 5 + d) as f64 % 5.0 - 2.0
            });
            (
                Conv2d::new(w, Some(Array1::from_elem(6, 0.5)), cfg).unwrap(),
                shape,
            )
        })
        .collect()
    }

    /// Three integer-valued rows of `n` columns.
    pub(crate) fn rows(n: usize) -> Array2<f64> {
        Array2::from_shape_fn((3, n), |(r, c)| ((r * 31 + c * 17) % 11) as f64 - 5.0)
    }

    #[test]
    fn conv_batch_matches_toeplitz() {
        for (conv, shape) in cases() {
            let t = toeplitz(&conv, shape).unwrap();
            let x = rows(shape.numel());
            let y = conv_batch(&conv, shape, x.view(), true, Par::Rayon);
            assert_eq!(
                y,
                x.dot(&t.to_dense().unwrap().t()) + &t.bias,
                "{:?}",
                conv.config()
            );
        }
    }
}
