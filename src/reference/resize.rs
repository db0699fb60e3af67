//! ONNX `Resize` in naive loops: for each output element, the source coordinate along each axis (with the
//! output sizes and scales worked out here), then the rounded point (nearest) or the `2^k` corners of the
//! cell around it weighted by the fractions (linear). Sizes, scales and coordinates are `f32`, as
//! onnxruntime computes them (the ties of nearest rounding fall where it puts them).

use super::{wrong, Step};
use crate::layer::{CoordinateMode, NearestMode, Resize, ResizeMode, ResizeTarget};
use crate::Shape;

/// ONNX's `coordinate_transformation_mode`: output coordinate `o` of an axis of `n` inputs, `m` outputs
/// and scale `s`, in input coordinates.
fn original(mode: CoordinateMode, o: f32, n: f32, m: f32, s: f32) -> f32 {
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
            let output_width = s * n;
            let adjustment = m / output_width;
            let center = n / 2.0;
            let offset = center * (1.0 - adjustment);
            // onnxruntime: `offset + (x + 0.5) / scale - 0.5` with double literals, then a float
            (offset as f64 + (o as f64 + 0.5) / s as f64 - 0.5) as f32
        }
    }
}

/// The output sizes and the scales of each axis, or why the input does not fit.
fn sizes(r: &Resize, dims: &[usize]) -> Result<(Vec<usize>, Vec<f32>), (String, String)> {
    let expected = || format!("{} axes, none empty", dims.len());
    if dims.contains(&0) {
        return Err(wrong(expected(), "an empty axis"));
    }
    match r.target() {
        ResizeTarget::Scales(s) if s.len() == dims.len() => {
            let mut out = Vec::with_capacity(dims.len());
            let scales: Vec<f32> = s.iter().map(|&v| v as f32).collect();
            for (&n, &scale) in dims.iter().zip(&scales) {
                let m = (n as f32 * scale).floor();
                if !(1.0..1e15).contains(&m) {
                    return Err(wrong(expected(), "an output length is 0 or absurd"));
                }
                out.push(m as usize);
            }
            Ok((out, scales))
        }
        ResizeTarget::Sizes(s) if s.len() == dims.len() => {
            let scales = s.iter().zip(dims).map(|(&m, &n)| m as f32 / n as f32);
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
    let (mut low, mut frac) = (vec![0usize; k], vec![0.0f32; k]);
    for o in 0..n_out {
        let mut rest = o;
        for a in (0..k).rev() {
            let c = (rest % out[a]) as f32;
            rest /= out[a];
            let (n, m) = (dims[a] as f32, out[a] as f32);
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
                    let (mut at, mut weight) = (0, 1.0f64);
                    for a in 0..k {
                        let high = corner >> a & 1 == 1;
                        weight *= f64::from(if high { frac[a] } else { 1.0 - frac[a] });
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
