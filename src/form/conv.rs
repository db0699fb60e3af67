//! When two convolutions are one convolution (`docs/conventions.md`), and when a sum of convolutions is one.

use std::ops::AddAssign;

use ndarray::{Array1, Array2, Array4};

use crate::layer::{Conv2d, Conv2dConfig};
use crate::matrix::gemm_into;
use crate::{Scalar, Shape};

/// Why a smaller form does not exist, in one sentence.
pub(crate) type Why = String;

/// The identity convolution on `c` channels: depthwise (`groups = c`), weight 1, so that composing or
/// summing with it keeps every group structure.
pub(crate) fn identity<T: Scalar>(c: usize) -> Conv2d<T> {
    let cfg = Conv2dConfig {
        groups: c.max(1),
        ..Default::default()
    };
    Conv2d::new(Array4::from_elem((c, 1, 1, 1), T::one()), None, cfg).expect("a valid identity")
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The block of `c`'s kernel with outputs `o0..o0 + n_out` and inputs `i0..i0 + n_in`, dense (zero where
/// `c`'s own groups leave no weight): `(n_out, n_in, kh, kw)`.
fn dense_block<T: Scalar>(
    c: &Conv2d<T>,
    o0: usize,
    i0: usize,
    n_out: usize,
    n_in: usize,
) -> Array4<T> {
    let (_, _, kh, kw) = c.weight().dim();
    let (c_out, c_in, g) = (c.c_out(), c.c_in(), c.groups());
    let mut out = Array4::<T>::zeros((n_out, n_in, kh, kw));
    for o in 0..n_out {
        let per_in = c_in / g;
        let first = ((o0 + o) / (c_out / g)) * per_in;
        for il in 0..per_in {
            let i = first + il;
            if (i0..i0 + n_in).contains(&i) {
                out.slice_mut(ndarray::s![o, i - i0, .., ..])
                    .assign(&c.weight().slice(ndarray::s![o0 + o, il, .., ..]));
            }
        }
    }
    out
}

/// Where the grouped weight of a convolution with `groups` reads input channel `i` for output `o`: the
/// index into its second axis, `None` when `i` is outside `o`'s group.
fn local(o: usize, i: usize, c_out: usize, c_in: usize, groups: usize) -> Option<usize> {
    let (per_out, per_in) = (c_out / groups, c_in / groups);
    let first = (o / per_out) * per_in;
    (first..first + per_in).contains(&i).then(|| i - first)
}

/// The convolution with the most groups its weight allows: every entry outside the blocks of a finer
/// partition is exactly zero (a sum with an identity branch, a composition of depthwise maps).
pub(crate) fn most_groups<T: Scalar>(c: Conv2d<T>) -> Conv2d<T> {
    let (c_out, c_in, g) = (c.c_out(), c.c_in(), c.groups());
    let w = c.weight();
    let whole = gcd(c_out, c_in);
    let mut candidates: Vec<usize> = (g + 1..=whole)
        .filter(|f| whole.is_multiple_of(*f) && f.is_multiple_of(g))
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let per_in = c_in / g;
    let Some(&best) = candidates.iter().find(|&&f| {
        w.indexed_iter().all(|((o, il, _, _), &v)| {
            let i = (o / (c_out / g)) * per_in + il;
            v == T::zero() || local(o, i, c_out, c_in, f).is_some()
        })
    }) else {
        return c;
    };
    let (_, _, kh, kw) = w.dim();
    let weight = Array4::from_shape_fn((c_out, c_in / best, kh, kw), |(o, il, a, b)| {
        let i = (o / (c_out / best)) * (c_in / best) + il;
        match local(o, i, c_out, c_in, g) {
            Some(j) => w[[o, j, a, b]],
            None => T::zero(),
        }
    });
    let cfg = Conv2dConfig {
        groups: best,
        ..c.config()
    };
    Conv2d::new(weight, c.bias().cloned(), cfg).expect("the same map with more groups")
}

/// The parameters `compose(c1, c2)` would have, from the geometry alone (nothing is composed).
pub(crate) fn composed_params<T: Scalar>(c1: &Conv2d<T>, c2: &Conv2d<T>) -> usize {
    let (g1, g2) = (c1.geometry(), c2.geometry());
    let groups = gcd(c1.groups(), c2.groups());
    let extent = |a: usize| {
        let d = gcd(g1.dilation[a], g1.stride[a] * g2.dilation[a]);
        let e = g1.dilation[a] * (g1.kernel[a] - 1)
            + g1.stride[a] * g2.dilation[a] * (g2.kernel[a] - 1)
            + 1;
        (e - 1) / d + 1
    };
    c2.c_out()
        .saturating_mul(c1.c_in() / groups)
        .saturating_mul(extent(0))
        .saturating_mul(extent(1))
        .saturating_add(c2.c_out())
}

/// `c2 ∘ c1` as one convolution, or why not. The result keeps the groups both share
/// (`gcd(g1, g2)`), computed block by block without expanding either kernel.
pub(crate) fn compose<T: Scalar>(c1: &Conv2d<T>, c2: &Conv2d<T>) -> Result<Conv2d<T>, Why> {
    let (g1, g2) = (c1.geometry(), c2.geometry());
    let b1_zero = c1.bias().is_none_or(|b| b.iter().all(|&v| v == T::zero()));
    let pads = if g2.padding == [0; 4] {
        g1.padding
    } else if g1.kernel == [1, 1] && b1_zero {
        // A 1x1 conv without bias maps zero padding to zero padding.
        let s = g1.stride;
        let pad = |i: usize, a: usize| {
            s[a].checked_mul(g2.padding[i])
                .and_then(|p| p.checked_add(g1.padding[i]))
                .ok_or_else(|| "the composed padding overflows".to_string())
        };
        [pad(0, 0)?, pad(1, 1)?, pad(2, 0)?, pad(3, 1)?]
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
    let (c_out, c_in, c_mid) = (c2.c_out(), c1.c_in(), c1.c_out());
    let (k1h, k1w) = (c1.weight().dim().2, c1.weight().dim().3);
    let (k2h, k2w) = (c2.weight().dim().2, c2.weight().dim().3);
    let groups = gcd(c1.groups(), c2.groups());
    let axis = |a: usize, k1n: usize, k2n: usize| -> Option<(usize, usize)> {
        let step2 = g1.stride[a].checked_mul(g2.dilation[a])?;
        let d = gcd(g1.dilation[a], step2);
        let extent = g1.dilation[a]
            .checked_mul(k1n - 1)?
            .checked_add(step2.checked_mul(k2n - 1)?)?;
        Some((d, extent / d + 1))
    };
    let ((dh, kh), (dw, kw)) = match (axis(0, k1h, k2h), axis(1, k1w, k2w)) {
        (Some(h), Some(w)) => (h, w),
        _ => return Err("the composed kernel's extent overflows".into()),
    };
    crate::memory::check(
        || "the composed kernel".into(),
        crate::memory::matrix_bytes(
            c_out.saturating_mul(c_in / groups.max(1)),
            kh.saturating_mul(kw),
            size_of::<T>(),
        ),
        crate::memory::default_budget(),
        "",
    )
    .map_err(|e| e.to_string())?;
    let (per_out, per_mid, per_in) = (c_out / groups, c_mid / groups, c_in / groups);
    let mut k = Array4::<T>::zeros((c_out, per_in, kh, kw));
    let mut bias = c2.bias().cloned();
    let mut extra = Array1::<T>::zeros(c_out);
    // one GEMM per group and pair of taps: K[o, i, t(u, v)] += K2[o, m, v] K1[m, i, u]
    for g in 0..groups {
        let a = dense_block(c2, g * per_out, g * per_mid, per_out, per_mid);
        let b = dense_block(c1, g * per_mid, g * per_in, per_mid, per_in);
        let mut acc = Array2::<T>::zeros((per_out, per_in));
        for va in 0..k2h {
            for vb in 0..k2w {
                let av = a.slice(ndarray::s![.., .., va, vb]);
                if let Some(b1) = c1.bias() {
                    let mids = b1.slice(ndarray::s![g * per_mid..(g + 1) * per_mid]);
                    let add = av.dot(&mids);
                    extra
                        .slice_mut(ndarray::s![g * per_out..(g + 1) * per_out])
                        .add_assign(&add);
                }
                for ua in 0..k1h {
                    for ub in 0..k1w {
                        let ta = (g1.dilation[0] * ua + g1.stride[0] * g2.dilation[0] * va) / dh;
                        let tb = (g1.dilation[1] * ub + g1.stride[1] * g2.dilation[1] * vb) / dw;
                        let bu = b.slice(ndarray::s![.., .., ua, ub]);
                        gemm_into(av, bu, &mut acc.view_mut());
                        k.slice_mut(ndarray::s![g * per_out..(g + 1) * per_out, .., ta, tb])
                            .add_assign(&acc);
                    }
                }
            }
        }
    }
    if c1.bias().is_some() {
        bias = Some(bias.map_or(extra.clone(), |b| b + &extra));
    }
    let config = Conv2dConfig {
        stride: [g1.stride[0] * g2.stride[0], g1.stride[1] * g2.stride[1]],
        dilation: [dh, dw],
        padding: pads,
        groups,
    };
    Conv2d::new(k, bias, config).map_err(|e| e.to_string())
}

/// The sum of convolutions reading the same input and producing the same shape (residuals, RepVGG), or
/// why it is not one convolution. Kernels are aligned on their top-left anchor `-padding`; the caller
/// [`fit`]s the bottom and right padding to the output shape. The sum keeps the groups all branches share.
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
    let (c_out, c_in) = (first.c_out(), first.c_in());
    if convs.iter().any(|c| c.c_out() != c_out || c.c_in() != c_in) {
        return Err("the branches have different channel counts".into());
    }
    let groups = convs.iter().fold(0, |g, c| gcd(g, c.groups()));
    let top = convs
        .iter()
        .map(|c| c.geometry().padding[0])
        .max()
        .unwrap_or(0);
    let left = convs
        .iter()
        .map(|c| c.geometry().padding[1])
        .max()
        .unwrap_or(0);
    let eh = convs
        .iter()
        .map(|c| top - c.geometry().padding[0] + c.geometry().extent(0))
        .max()
        .unwrap_or(1);
    let ew = convs
        .iter()
        .map(|c| left - c.geometry().padding[1] + c.geometry().extent(1))
        .max()
        .unwrap_or(1);
    let mut k = Array4::<T>::zeros((c_out, c_in / groups, eh, ew));
    for c in convs {
        let g = c.geometry();
        let (oy, ox) = (top - g.padding[0], left - g.padding[1]);
        let per_out = c_out / c.groups();
        let per_in = c.weight().dim().1;
        for ((o, il, a, b), &v) in c.weight().indexed_iter() {
            let i = (o / per_out) * per_in + il;
            let j = local(o, i, c_out, c_in, groups).expect("gcd groups nest every partition");
            k[[o, j, oy + a * g.dilation[0], ox + b * g.dilation[1]]] += v;
        }
    }
    let bias = convs
        .iter()
        .filter_map(|c| c.bias())
        .fold(None::<Array1<T>>, |acc, b| {
            Some(acc.map_or(b.clone(), |a| a + b))
        });
    // Generous bottom/right padding; `fit` trims it to the output shape.
    let most = |side: usize| {
        convs
            .iter()
            .map(|c| c.geometry().padding[side])
            .max()
            .unwrap_or(0)
    };
    let (bottom, right) = (eh + most(2), ew + most(3));
    let config = Conv2dConfig {
        stride: first.geometry().stride,
        dilation: [1, 1],
        padding: [top, left, bottom, right],
        groups,
    };
    Conv2d::new(k, bias, config).map_err(|e| e.to_string())
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
