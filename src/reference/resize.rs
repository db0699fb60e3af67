//! ONNX `Resize` in naive loops: for each output element, the source coordinate along each axis (with the
//! output sizes and scales worked out here), then the rounded point (nearest) or the `2^k` corners of the
//! cell around it weighted by the fractions (linear).

use super::{wrong, Step};
use crate::layer::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
use crate::Shape;

/// ONNX's `coordinate_transformation_mode`: output coordinate `o` of an axis of `n` inputs, `m` outputs
/// and scale `s`, in input coordinates.
fn original(mode: CoordinateMode, o: f64, n: f64, m: f64, s: f64) -> f64 {
    match mode {
        CoordinateMode::HalfPixel => (o + 0.5) / s - 0.5,
        CoordinateMode::PytorchHalfPixel => {
            if m > 1.0 {
                (o + 0.5) / s - 0.5
            } else {
                0.0
            }
        }
        CoordinateMode::AlignCorners => {
            if m > 1.0 {
                o * (n - 1.0) / (m - 1.0)
            } else {
                0.0
            }
        }
        CoordinateMode::Asymmetric => o / s,
        CoordinateMode::HalfPixelSymmetric => {
            let adjustment = m / (n * s);
            let center = n / 2.0;
            center * (1.0 - adjustment) + (o + 0.5) / s - 0.5
        }
    }
}

/// The output sizes and the scales of each axis, or why the input does not fit.
fn sizes(r: &Resize, dims: &[usize]) -> Result<(Vec<usize>, Vec<f64>), (String, String)> {
    let expected = || format!("{} axes, none empty", dims.len());
    if dims.contains(&0) {
        return Err(wrong(expected(), "an empty axis"));
    }
    match r.target() {
        ResizeTarget::Scales(s) if s.len() == dims.len() => {
            let mut out = Vec::with_capacity(dims.len());
            for (&n, &scale) in dims.iter().zip(s) {
                let m = (n as f64 * scale).floor();
                if !(1.0..1e15).contains(&m) {
                    return Err(wrong(expected(), "an output length is 0 or absurd"));
                }
                out.push(m as usize);
            }
            Ok((out, s.clone()))
        }
        ResizeTarget::Sizes(s) if s.len() == dims.len() => {
            let scales = s.iter().zip(dims).map(|(&m, &n)| m as f64 / n as f64);
            Ok((s.clone(), scales.collect()))
        }
        _ => Err(wrong(expected(), "one scale or size per axis")),
    }
}

pub(super) fn resize(r: &Resize, shape_in: Shape, x: &[f64]) -> Step {
    let dims = shape_in.dims();
    let k = dims.len();
    let (out, scales) = sizes(r, &dims)?;
    if out
        .iter()
        .try_fold(1usize, |a, &m| a.checked_mul(m))
        .is_none()
    {
        return Err(wrong("a smaller output", "the output's size overflows"));
    }
    let mut stride = vec![1usize; k];
    for a in (0..k.saturating_sub(1)).rev() {
        stride[a] = stride[a + 1] * dims[a + 1];
    }
    let n_out: usize = out.iter().product();
    let mut y = Vec::with_capacity(n_out);
    let (mut low, mut frac) = (vec![0usize; k], vec![0.0f64; k]);
    for o in 0..n_out {
        let mut rest = o;
        for a in (0..k).rev() {
            let c = (rest % out[a]) as f64;
            rest /= out[a];
            let (n, m) = (dims[a] as f64, out[a] as f64);
            let xa = original(r.coordinate(), c, n, m, scales[a])
                .max(0.0)
                .min(n - 1.0);
            low[a] = xa.floor() as usize;
            frac[a] = xa - xa.floor();
        }
        let value = match r.mode() {
            ResizeMode::Nearest(mode) => {
                let mut at = 0;
                for a in 0..k {
                    let f = frac[a];
                    let up = match mode {
                        _ if f == 0.0 => false,
                        NearestMode::RoundPreferFloor => f > 0.5,
                        NearestMode::RoundPreferCeil => f >= 0.5,
                        NearestMode::Floor => false,
                        NearestMode::Ceil => true,
                    };
                    at += (low[a] + if up { 1 } else { 0 }) * stride[a];
                }
                x[at]
            }
            ResizeMode::Linear => {
                let mut sum = 0.0;
                for corner in 0..(1usize << k) {
                    let (mut at, mut weight) = (0, 1.0);
                    for a in 0..k {
                        let high = corner >> a & 1 == 1;
                        weight *= if high { frac[a] } else { 1.0 - frac[a] };
                        at += (low[a] + if high { 1 } else { 0 }) * stride[a];
                    }
                    // a corner of weight 0 may lie past the last element: it adds nothing
                    if weight != 0.0 {
                        sum += weight * x[at];
                    }
                }
                sum
            }
        };
        y.push(value);
    }
    let shape = Shape::from_dims(&out).ok_or_else(|| wrong("at most 7 axes", "too many axes"))?;
    Ok((y, shape))
}
