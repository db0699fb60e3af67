//! Layers that copy elements: padding, nearest upsampling, axis permutation, written as direct loops.

use super::{wrong, Step};
use crate::layer::{Pad, PadMode, Permute, Upsample};
use crate::{Scalar, Shape};

/// The shape as `(c, h, w)` when it has a spatial part; `(C, L)` is `(C, 1, L)`.
fn spatial(shape: Shape) -> Option<[usize; 3]> {
    match shape {
        Shape::Chw { c, h, w } => Some([c, h, w]),
        Shape::Cl { c, l } => Some([c, 1, l]),
        Shape::Flat(_) | Shape::Nd(_) => None,
    }
}

/// The same kind of shape as `like`, with spatial size `[h, w]`.
fn reshaped(like: Shape, c: usize, [h, w]: [usize; 2]) -> Shape {
    match like {
        Shape::Cl { .. } => Shape::Cl { c, l: w },
        _ => Shape::Chw { c, h, w },
    }
}

/// Where coordinate `i` of the padded axis, counted from the first input element (negative in the left
/// padding), reads from in an axis of length `n`; `None` for the constant fill.
fn pick<T>(i: isize, n: isize, mode: &PadMode<T>) -> Option<usize> {
    let j = match mode {
        PadMode::Constant(_) if i < 0 || i >= n => return None,
        PadMode::Constant(_) => i,
        PadMode::Reflect => {
            let j = if i < 0 { -i } else { i };
            if j >= n {
                2 * n - 2 - j
            } else {
                j
            }
        }
        PadMode::Replicate => i.max(0).min(n - 1),
        PadMode::Circular => ((i % n) + n) % n,
    };
    Some(j as usize)
}

/// Whether PyTorch accepts padding `lo`, `hi` of an axis of length `n` in this mode.
fn pad_fits<T>(n: usize, lo: usize, hi: usize, mode: &PadMode<T>) -> bool {
    let most = lo.max(hi);
    match mode {
        PadMode::Constant(_) => true,
        _ if most == 0 => true,
        PadMode::Reflect => most < n,
        PadMode::Circular => most <= n,
        PadMode::Replicate => n > 0,
    }
}

pub(super) fn pad<T: Scalar>(p: &Pad<T>, shape: Shape, x: &[f64]) -> Step {
    let expected = "(C, H, W) or (C, L)";
    let Some([c, h, w]) = spatial(shape) else {
        return Err(wrong(expected, "wrong input"));
    };
    let [top, left, bottom, right] = p.padding();
    let mode = p.mode();
    let flat_ok = !matches!(shape, Shape::Cl { .. }) || (top == 0 && bottom == 0);
    if !flat_ok || !pad_fits(h, top, bottom, &mode) || !pad_fits(w, left, right, &mode) {
        return Err(wrong(expected, "padding out of the mode's limits"));
    }
    let fill = match mode {
        PadMode::Constant(v) => v.widen(),
        _ => 0.0,
    };
    let (oh, ow) = (top + h + bottom, left + w + right);
    let mut y = vec![0.0; c * oh * ow];
    for ch in 0..c {
        for i in 0..oh {
            for j in 0..ow {
                let from_y = pick(i as isize - top as isize, h as isize, &mode);
                let from_x = pick(j as isize - left as isize, w as isize, &mode);
                y[(ch * oh + i) * ow + j] = match (from_y, from_x) {
                    (Some(sy), Some(sx)) => x[(ch * h + sy) * w + sx],
                    _ => fill,
                };
            }
        }
    }
    Ok((y, reshaped(shape, c, [oh, ow])))
}

pub(super) fn upsample(u: &Upsample, shape: Shape, x: &[f64]) -> Step {
    let expected = "(C, H, W) or (C, L)";
    let Some([c, h, w]) = spatial(shape) else {
        return Err(wrong(expected, "wrong input"));
    };
    let [sh, sw] = u.scale();
    if matches!(shape, Shape::Cl { .. }) && sh != 1 {
        return Err(wrong(expected, "a sequence has no height to scale"));
    }
    let mut y = Vec::with_capacity(c * h * sh * w * sw);
    for ch in 0..c {
        for iy in 0..h {
            // each input row becomes sh output rows, each input pixel sw output pixels
            let row: Vec<f64> = (0..w)
                .flat_map(|ix| std::iter::repeat_n(x[(ch * h + iy) * w + ix], sw))
                .collect();
            for _ in 0..sh {
                y.extend_from_slice(&row);
            }
        }
    }
    Ok((y, reshaped(shape, c, [h * sh, w * sw])))
}

/// Output element `o` (coordinates in the output) is the input element whose coordinate along axis
/// `dims[i]` is `o[i]`: an odometer over the output, the input index summed from its own strides.
pub(super) fn permute(p: &Permute, shape: Shape, x: &[f64]) -> Step {
    let dims = p.dims();
    let size = shape.dims();
    if size.len() != dims.len() {
        return Err(wrong(format!("{} axes", dims.len()), "wrong rank"));
    }
    let rank = size.len();
    let mut stride = vec![1usize; rank];
    for a in (0..rank.saturating_sub(1)).rev() {
        stride[a] = stride[a + 1] * size[a + 1];
    }
    let out: Vec<usize> = dims.iter().map(|&d| size[d]).collect();
    let mut y = Vec::with_capacity(x.len());
    let mut at = vec![0usize; rank];
    for _ in 0..x.len() {
        let src: usize = (0..rank).map(|i| at[i] * stride[dims[i]]).sum();
        y.push(x[src]);
        for i in (0..rank).rev() {
            at[i] += 1;
            if at[i] < out[i] {
                break;
            }
            at[i] = 0;
        }
    }
    let shape = Shape::from_dims(&out).ok_or_else(|| wrong("a valid rank", "too many axes"))?;
    Ok((y, shape))
}
