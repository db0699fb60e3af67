//! When two convolutions are one convolution (DESIGN.md section 4), and when a sum of convolutions is one.

use ndarray::{Array1, Array4};

use crate::layer::{Conv2d, Conv2dConfig};
use crate::{Scalar, Shape};

/// Why a smaller form does not exist, in one sentence.
pub(crate) type Why = String;

/// The `(C, C, 1, 1)` identity convolution.
pub(crate) fn identity<T: Scalar>(c: usize) -> Conv2d<T> {
    let w = Array4::from_shape_fn(
        (c, c, 1, 1),
        |(o, i, _, _)| if o == i { T::one() } else { T::zero() },
    );
    Conv2d::new(w, None, Conv2dConfig::default()).expect("a valid identity")
}

/// The kernel with groups expanded: `(C_out, C_in, kh, kw)`, zero outside each group's block.
fn dense_kernel<T: Scalar>(c: &Conv2d<T>) -> Array4<T> {
    let (c_out, cpg_in, kh, kw) = c.weight().dim();
    let cpg_out = c_out / c.groups();
    Array4::from_shape_fn((c_out, c.c_in(), kh, kw), |(o, i, a, b)| {
        let g = o / cpg_out;
        if i / cpg_in == g {
            c.weight()[[o, i % cpg_in, a, b]]
        } else {
            T::zero()
        }
    })
}

/// The grouped weight `(C_out, C_in/g, kh, kw)` of a dense kernel that is block-diagonal in `g` groups.
fn regroup<T: Scalar>(k: &Array4<T>, g: usize) -> Array4<T> {
    let (c_out, c_in, kh, kw) = k.dim();
    let (cpg_out, cpg_in) = (c_out / g, c_in / g);
    Array4::from_shape_fn((c_out, cpg_in, kh, kw), |(o, i, a, b)| {
        k[[o, (o / cpg_out) * cpg_in + i, a, b]]
    })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `c2 ∘ c1` as one convolution, or why not.
pub(crate) fn compose<T: Scalar>(c1: &Conv2d<T>, c2: &Conv2d<T>) -> Result<Conv2d<T>, Why> {
    let (g1, g2) = (c1.geometry(), c2.geometry());
    let b1_zero = c1.bias().is_none_or(|b| b.iter().all(|&v| v == T::zero()));
    let pads = if g2.padding == [0; 4] {
        g1.padding
    } else if g1.kernel == [1, 1] && b1_zero {
        // A 1x1 conv without bias maps zero padding to zero padding.
        let s = g1.stride;
        [
            g1.padding[0] + s[0] * g2.padding[0],
            g1.padding[1] + s[1] * g2.padding[1],
            g1.padding[2] + s[0] * g2.padding[2],
            g1.padding[3] + s[1] * g2.padding[3],
        ]
    } else if g1.kernel == [1, 1] {
        return Err(format!(
            "{} pads by {:?} after a 1x1 conv with a bias: its border reads zeros where the 1x1 conv gives its bias",
            c2.describe(),
            g2.padding
        ));
    } else {
        return Err(format!(
            "{} pads by {:?} after a {}x{} conv: border outputs differ",
            c2.describe(),
            g2.padding,
            g1.kernel[0],
            g1.kernel[1]
        ));
    };
    let (k1, k2) = (dense_kernel(c1), dense_kernel(c2));
    let (c_out, c_mid, k2h, k2w) = k2.dim();
    let (_, c_in, k1h, k1w) = k1.dim();
    let axis = |a: usize, k1n: usize, k2n: usize| {
        let d = gcd(g1.dilation[a], g1.stride[a] * g2.dilation[a]);
        let extent = g1.dilation[a] * (k1n - 1) + g1.stride[a] * g2.dilation[a] * (k2n - 1) + 1;
        (d, (extent - 1) / d + 1)
    };
    let ((dh, kh), (dw, kw)) = (axis(0, k1h, k2h), axis(1, k1w, k2w));
    let mut k = Array4::<T>::zeros((c_out, c_in, kh, kw));
    for o in 0..c_out {
        for m in 0..c_mid {
            for va in 0..k2h {
                for vb in 0..k2w {
                    let w2 = k2[[o, m, va, vb]];
                    if w2 == T::zero() {
                        continue;
                    }
                    for i in 0..c_in {
                        for ua in 0..k1h {
                            for ub in 0..k1w {
                                let ta =
                                    (g1.dilation[0] * ua + g1.stride[0] * g2.dilation[0] * va) / dh;
                                let tb =
                                    (g1.dilation[1] * ub + g1.stride[1] * g2.dilation[1] * vb) / dw;
                                k[[o, i, ta, tb]] += w2 * k1[[m, i, ua, ub]];
                            }
                        }
                    }
                }
            }
        }
    }
    let mut bias = c2.bias().cloned();
    if let Some(b1) = c1.bias() {
        let extra = Array1::from_shape_fn(c_out, |o| {
            let mut s = T::zero();
            for m in 0..c_mid {
                for va in 0..k2h {
                    for vb in 0..k2w {
                        s += k2[[o, m, va, vb]] * b1[m];
                    }
                }
            }
            s
        });
        bias = Some(bias.map_or(extra.clone(), |b| b + &extra));
    }
    let groups = if c1.groups() == c2.groups() {
        c1.groups()
    } else {
        1
    };
    let weight = if groups > 1 { regroup(&k, groups) } else { k };
    let config = Conv2dConfig {
        stride: [g1.stride[0] * g2.stride[0], g1.stride[1] * g2.stride[1]],
        dilation: [dh, dw],
        padding: pads,
        groups,
    };
    Conv2d::new(weight, bias, config).map_err(|e| e.to_string())
}

/// The sum of convolutions reading the same input and producing the same shape (residuals, RepVGG), or
/// why it is not one convolution. Kernels are aligned on their top-left anchor `-padding`; the caller
/// [`fit`]s the bottom and right padding to the output shape.
pub(crate) fn sum<T: Scalar>(convs: &[Conv2d<T>]) -> Result<Conv2d<T>, Why> {
    let first = convs.first().ok_or("an empty sum")?;
    if let Some(c) = convs
        .iter()
        .find(|c| c.geometry().stride != first.geometry().stride)
    {
        return Err(format!(
            "{} and {} have different strides",
            first.describe(),
            c.describe()
        ));
    }
    // Undilate every kernel, then place each at offset (P - p) in a common kernel.
    let undilated: Vec<(Array4<T>, [usize; 4])> = convs
        .iter()
        .map(|c| {
            let k = dense_kernel(c);
            let g = c.geometry();
            let (o, i, _, _) = k.dim();
            let (eh, ew) = (g.extent(0), g.extent(1));
            let mut d = Array4::zeros((o, i, eh, ew));
            for ((oo, ii, a, b), &v) in k.indexed_iter() {
                d[[oo, ii, a * g.dilation[0], b * g.dilation[1]]] = v;
            }
            (d, g.padding)
        })
        .collect();
    let top = undilated.iter().map(|(_, p)| p[0]).max().unwrap_or(0);
    let left = undilated.iter().map(|(_, p)| p[1]).max().unwrap_or(0);
    let eh = undilated
        .iter()
        .map(|(k, p)| top - p[0] + k.dim().2)
        .max()
        .unwrap_or(1);
    let ew = undilated
        .iter()
        .map(|(k, p)| left - p[1] + k.dim().3)
        .max()
        .unwrap_or(1);
    // Generous bottom/right padding; `fit` trims it to the output shape.
    let bottom = eh + undilated.iter().map(|(_, p)| p[2]).max().unwrap_or(0);
    let right = ew + undilated.iter().map(|(_, p)| p[3]).max().unwrap_or(0);
    let (c_out, c_in, _, _) = undilated[0].0.dim();
    let mut k = Array4::<T>::zeros((c_out, c_in, eh, ew));
    for (d, p) in &undilated {
        if d.dim().0 != c_out || d.dim().1 != c_in {
            return Err("the branches have different channel counts".into());
        }
        let (oy, ox) = (top - p[0], left - p[1]);
        for ((o, i, a, b), &v) in d.indexed_iter() {
            k[[o, i, oy + a, ox + b]] += v;
        }
    }
    let bias = convs
        .iter()
        .filter_map(|c| c.bias())
        .fold(None::<Array1<T>>, |acc, b| {
            Some(acc.map_or(b.clone(), |a| a + b))
        });
    let groups = if convs.iter().all(|c| c.groups() == first.groups()) {
        first.groups()
    } else {
        1
    };
    let weight = if groups > 1 { regroup(&k, groups) } else { k };
    let config = Conv2dConfig {
        stride: first.geometry().stride,
        dilation: [1, 1],
        padding: [top, left, bottom, right],
        groups,
    };
    Conv2d::new(weight, bias, config).map_err(|e| e.to_string())
}

/// Trims the bottom and right padding of `c` so that its output on `input` is `want` (a composed conv can
/// see rows beyond those the original second conv read); `Err` when the shapes cannot agree.
pub(crate) fn fit<T: Scalar>(c: Conv2d<T>, input: Shape, want: Shape) -> Result<Conv2d<T>, Why> {
    let (Shape::Chw { h, w, .. }, Shape::Chw { h: oh, w: ow, .. }) = (input, want) else {
        return Err(format!(
            "a convolution maps (C, H, W) to (C, H, W), not {input} to {want}"
        ));
    };
    let g = *c.geometry();
    let mut cfg = c.config();
    let need = |n: usize, o: usize, a: usize, lo: usize| {
        ((o - 1) * g.stride[a] + g.extent(a)).saturating_sub(n + lo)
    };
    cfg.padding[2] = cfg.padding[2].min(need(h, oh, 0, g.padding[0]));
    cfg.padding[3] = cfg.padding[3].min(need(w, ow, 1, g.padding[1]));
    let fitted =
        Conv2d::new(c.weight().clone(), c.bias().cloned(), cfg).map_err(|e| e.to_string())?;
    match fitted.geometry().out_dims([h, w]) {
        Some([a, b]) if a == oh && b == ow && fitted.c_out() == want.dims()[0] => Ok(fitted),
        got => Err(format!(
            "the composed convolution gives {got:?} positions where the run gives {oh}x{ow}"
        )),
    }
}
