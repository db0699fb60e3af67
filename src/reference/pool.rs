//! Direct average pooling: every window walked and summed, divided by PyTorch's divisor.

use super::{wrong, Step};
use crate::layer::{AvgPool1d, AvgPool2d};
use crate::Shape;

/// One window along an axis: real input coordinates `lo..hi`, and its length clipped to the padded input.
type Window = (usize, usize, usize);

/// The windows along an axis of length `n` padded by `lo` and `hi`, walked from the first: a window is kept
/// while it fits the padded input, or, in ceil mode, while it still starts inside the input or the left
/// padding and PyTorch's rounded-up count reaches it.
fn axis_windows(n: usize, lo: usize, hi: usize, k: usize, s: usize, ceil: bool) -> Vec<Window> {
    let padded = n + lo + hi;
    let mut out = Vec::new();
    let mut start = 0; // in padded coordinates
    loop {
        let whole = start + k <= padded;
        let partial = ceil && start < n + lo && start + k < padded + s;
        if !(whole || partial) {
            return out;
        }
        let end = (start + k).min(padded);
        let real_lo = start.clamp(lo, lo + n) - lo;
        let real_hi = end.clamp(lo, lo + n) - lo;
        out.push((real_lo, real_hi.max(real_lo), end - start));
        start += s;
    }
}

/// Averages every `(y window, x window)` pair of every channel of a `(c, h, w)` sample.
fn pool(
    x: &[f64],
    [c, h, w]: [usize; 3],
    wy: &[Window],
    wx: &[Window],
    include_pad: bool,
) -> Vec<f64> {
    let mut y = Vec::with_capacity(c * wy.len() * wx.len());
    for ch in 0..c {
        for &(y0, y1, ylen) in wy {
            for &(x0, x1, xlen) in wx {
                let mut sum = 0.0;
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        sum += x[(ch * h + iy) * w + ix];
                    }
                }
                let divisor = if include_pad {
                    ylen * xlen
                } else {
                    (y1 - y0) * (x1 - x0)
                };
                y.push(if divisor == 0 {
                    0.0
                } else {
                    sum / divisor as f64
                });
            }
        }
    }
    y
}

pub(super) fn avgpool2d(p: &AvgPool2d, shape: Shape, x: &[f64]) -> Step {
    let Shape::Chw { c, h, w } = shape else {
        return Err(wrong("(C, H, W)", "wrong input"));
    };
    let (k, s, pad, ceil) = (p.kernel_size(), p.stride(), p.padding(), p.ceil_mode());
    let wy = axis_windows(h, pad[0], pad[2], k[0], s[0], ceil);
    let wx = axis_windows(w, pad[1], pad[3], k[1], s[1], ceil);
    if wy.is_empty() || wx.is_empty() {
        return Err(wrong("(C, H, W)", "no window fits"));
    }
    let y = pool(x, [c, h, w], &wy, &wx, p.count_include_pad());
    Ok((
        y,
        Shape::Chw {
            c,
            h: wy.len(),
            w: wx.len(),
        },
    ))
}

pub(super) fn avgpool1d(p: &AvgPool1d, shape: Shape, x: &[f64]) -> Step {
    let Shape::Cl { c, l } = shape else {
        return Err(wrong("(C, L)", "wrong input"));
    };
    let [lo, hi] = p.padding();
    let wx = axis_windows(l, lo, hi, p.kernel_size(), p.stride(), p.ceil_mode());
    if wx.is_empty() {
        return Err(wrong("(C, L)", "no window fits"));
    }
    let y = pool(x, [c, 1, l], &[(0, 1, 1)], &wx, p.count_include_pad());
    Ok((y, Shape::Cl { c, l: wx.len() }))
}
