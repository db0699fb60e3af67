//! Layers on samples of any rank, as direct loops over the flat vector: slicing, scaling and shifting,
//! broadcasting, reducing; depth to space and back as ONNX writes them, a reshape and a transpose.

use ndarray::ArrayD;

use super::{wrong, Step};
use crate::layer::{
    DepthToSpace, DepthToSpaceMode, Expand, Reduce, ReduceOp, ScaleShift, Slice, SpaceToDepth,
};
use crate::{Scalar, Shape};

/// The shape with these dimensions, as a mismatch when there are too many.
fn shape(dims: &[usize]) -> Result<Shape, (String, String)> {
    Shape::from_dims(dims).ok_or_else(|| wrong("at most 7 axes", "too many axes"))
}

/// Blocks: for each position before the axis, the picked indices along it, each a contiguous run of the
/// elements after it.
pub(super) fn slice(s: &Slice, shape_in: Shape, x: &[f64]) -> Step {
    let dims = shape_in.dims();
    let a = s.axis();
    let expected = format!("at least {} axes", a + 1);
    if a >= dims.len() {
        return Err(wrong(expected, "the axis does not exist"));
    }
    if s.len() > dims[a] {
        return Err(wrong(expected, "more indices than the axis has"));
    }
    let mut picks = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let k = s.start() as i128 + i as i128 * s.step() as i128;
        if k < 0 || k >= dims[a] as i128 {
            return Err(wrong(expected, "an index falls outside the axis"));
        }
        picks.push(k as usize);
    }
    let outer: usize = dims[..a].iter().product();
    let inner: usize = dims[a + 1..].iter().product();
    let mut y = Vec::with_capacity(outer * picks.len() * inner);
    for o in 0..outer {
        for &k in &picks {
            let from = (o * dims[a] + k) * inner;
            y.extend_from_slice(&x[from..from + inner]);
        }
    }
    let mut out = dims;
    out[a] = picks.len();
    Ok((y, shape(&out)?))
}

/// The values of `a` at every element of a sample of shape `dims`, by NumPy's broadcasting: axis `k` of
/// `a` lines up with axis `k + dims.len() - a.ndim()`, and an axis of size 1 repeats. `None` when `a` does
/// not broadcast to `dims`.
fn broadcast<T: Scalar>(a: &ArrayD<T>, dims: &[usize]) -> Option<Vec<f64>> {
    let own = a.shape();
    let lead = dims.len().checked_sub(own.len())?;
    if (0..own.len()).any(|k| own[k] != 1 && own[k] != dims[lead + k]) {
        return None;
    }
    let values: Vec<f64> = a.iter().map(|v| v.widen()).collect();
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(n);
    for j in 0..n {
        // peel the coordinates of `j` off from the last axis, and place them in `a`
        let (mut rest, mut at, mut unit) = (j, 0, 1);
        for ax in (0..dims.len()).rev() {
            let c = rest % dims[ax];
            rest /= dims[ax];
            if ax >= lead {
                let k = ax - lead;
                if own[k] != 1 {
                    at += c * unit;
                }
                unit *= own[k];
            }
        }
        out.push(values[at]);
    }
    Some(out)
}

/// `x * scale + shift`, element by element.
pub(super) fn scale_shift<T: Scalar>(s: &ScaleShift<T>, shape_in: Shape, x: &[f64]) -> Step {
    let dims = shape_in.dims();
    let spread = |a: Option<&ArrayD<T>>, default: f64| match a {
        None => Ok(vec![default; x.len()]),
        Some(a) => broadcast(a, &dims).ok_or_else(|| {
            wrong(
                "a shape its scale and shift broadcast to",
                "a parameter does not broadcast",
            )
        }),
    };
    let (scale, shift) = (spread(s.scale(), 1.0)?, spread(s.shift(), 0.0)?);
    let y = (0..x.len()).map(|i| x[i] * scale[i] + shift[i]).collect();
    Ok((y, shape_in))
}

/// Output element `o` copies the input element with the same coordinates along the input's axes (the
/// output's last ones), 0 along an input axis of size 1.
pub(super) fn expand(e: &Expand, shape_in: Shape, x: &[f64]) -> Step {
    let (from, to) = (shape_in.dims(), e.shape().dims());
    let expected = format!("a shape that broadcasts to {}", e.shape());
    let Some(lead) = to.len().checked_sub(from.len()) else {
        return Err(wrong(expected, "more axes than the target"));
    };
    if (0..from.len()).any(|k| from[k] != 1 && from[k] != to[lead + k]) {
        return Err(wrong(expected, "an axis is neither 1 nor the target's"));
    }
    let Some(n) = to.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
        return Err(wrong(expected, "the target's size overflows"));
    };
    let mut y = Vec::with_capacity(n);
    for o in 0..n {
        let (mut rest, mut at, mut unit) = (o, 0, 1);
        for ax in (0..to.len()).rev() {
            let c = rest % to[ax];
            rest /= to[ax];
            if ax >= lead {
                let k = ax - lead;
                if from[k] != 1 {
                    at += c * unit;
                }
                unit *= from[k];
            }
        }
        y.push(x[at]);
    }
    Ok((y, e.shape()))
}

/// Each output element sums (or averages) the input elements that agree with it on every axis not
/// reduced: the output is visited in order, and for each the reduced axes are enumerated.
pub(super) fn reduce(r: &Reduce, shape_in: Shape, x: &[f64]) -> Step {
    let dims = shape_in.dims();
    let reduced: Vec<bool> = (0..dims.len()).map(|a| r.axes().contains(&a)).collect();
    let least = r.axes().iter().max().map_or(0, |a| a + 1);
    if least > dims.len() {
        return Err(wrong(
            format!("at least {least} axes"),
            "a reduced axis does not exist",
        ));
    }
    let mut stride = vec![1usize; dims.len()];
    for a in (0..dims.len().saturating_sub(1)).rev() {
        stride[a] = stride[a + 1] * dims[a + 1];
    }
    let kept: Vec<usize> = (0..dims.len()).filter(|&a| !reduced[a]).collect();
    let gone: Vec<usize> = (0..dims.len()).filter(|&a| reduced[a]).collect();
    let n_out: usize = kept.iter().map(|&a| dims[a]).product();
    let n_red: usize = gone.iter().map(|&a| dims[a]).product();
    let mut y = Vec::with_capacity(n_out);
    for o in 0..n_out {
        // the kept coordinates of output o, then every combination of the reduced ones
        let mut base = 0;
        let mut rest = o;
        for &a in kept.iter().rev() {
            base += (rest % dims[a]) * stride[a];
            rest /= dims[a];
        }
        let mut sum = 0.0;
        for k in 0..n_red {
            let (mut at, mut rest) = (base, k);
            for &a in gone.iter().rev() {
                at += (rest % dims[a]) * stride[a];
                rest /= dims[a];
            }
            sum += x[at];
        }
        y.push(match r.op() {
            ReduceOp::Sum => sum,
            ReduceOp::Mean => sum / n_red as f64,
        });
    }
    let out: Vec<usize> = (0..dims.len())
        .filter_map(|a| match (reduced[a], r.keepdims()) {
            (false, _) => Some(dims[a]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    Ok((y, shape(&out)?))
}

/// `x` viewed as a tensor of shape `dims`, its axes permuted (`out` axis `i` is axis `perm[i]`), in C
/// order: NumPy's `x.reshape(dims).transpose(perm).ravel()`.
fn transposed(x: &[f64], dims: &[usize], perm: &[usize]) -> Vec<f64> {
    let mut stride = vec![1usize; dims.len()];
    for a in (0..dims.len().saturating_sub(1)).rev() {
        stride[a] = stride[a + 1] * dims[a + 1];
    }
    let out: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    (0..x.len())
        .map(|o| {
            let (mut rest, mut at) = (o, 0);
            for i in (0..out.len()).rev() {
                at += (rest % out[i]) * stride[perm[i]];
                rest /= out[i];
            }
            x[at]
        })
        .collect()
}

/// ONNX: DCR reshapes to `(b, b, C/b², H, W)` and transposes `(2, 3, 0, 4, 1)`; CRD reshapes to
/// `(C/b², b, b, H, W)` and transposes `(0, 3, 1, 4, 2)`; both then read `(C/b², H*b, W*b)`.
pub(super) fn depth_to_space(d: &DepthToSpace, shape_in: Shape, x: &[f64]) -> Step {
    let b = d.block();
    let expected = format!("(C, H, W) with C a multiple of {b}x{b}");
    let Shape::Chw { c, h, w } = shape_in else {
        return Err(wrong(expected, "not an image"));
    };
    let Some(area) = b.checked_mul(b).filter(|&a| a > 0 && c % a == 0) else {
        return Err(wrong(expected, "the channels do not split into blocks"));
    };
    let depth = c / area;
    let y = match d.mode() {
        DepthToSpaceMode::Dcr => transposed(x, &[b, b, depth, h, w], &[2, 3, 0, 4, 1]),
        DepthToSpaceMode::Crd => transposed(x, &[depth, b, b, h, w], &[0, 3, 1, 4, 2]),
    };
    Ok((y, Shape::chw(depth, h * b, w * b)))
}

/// ONNX: reshape to `(C, H/b, b, W/b, b)`, transpose `(2, 4, 0, 1, 3)`, read `(C*b², H/b, W/b)`.
pub(super) fn space_to_depth(s: &SpaceToDepth, shape_in: Shape, x: &[f64]) -> Step {
    let b = s.block();
    let expected = format!("(C, H, W) with H and W multiples of {b}");
    let Shape::Chw { c, h, w } = shape_in else {
        return Err(wrong(expected, "not an image"));
    };
    if b == 0 || h % b != 0 || w % b != 0 {
        return Err(wrong(expected, "the pixels do not split into blocks"));
    }
    let y = transposed(x, &[c, h / b, b, w / b, b], &[2, 4, 0, 1, 3]);
    Ok((y, Shape::chw(c * b * b, h / b, w / b)))
}
