//! The independent reference: a direct forward pass in naive loops, accumulated in `f64`.
//!
//! This module shares nothing with the lowering or composition code (a test scans its sources): it reads the
//! layers' parameters and does its own output-size arithmetic, so a bug in one side shows as a disagreement.

mod probe;

pub use probe::{probe, Probe};

use crate::layer::{Conv2d, Layer, Linear};
use crate::{Error, Result, Scalar, Shape};

/// Runs one sample `x` (flattened in C order, `input.numel()` values) through the chain, layer by layer.
///
/// Returns the output, flattened, and its shape.
///
/// # Errors
/// [`Error::Shape`] naming the layer when the sample or an intermediate shape does not fit.
///
/// ```
/// use linear_collapse::{reference, layer::{Layer, Linear}, Shape};
/// use ndarray::array;
/// let chain: Vec<Layer<f32>> = vec![Linear::new(array![[1.0, -1.0]], Some(array![0.5]))?.into()];
/// let (y, shape) = reference::forward(&chain, Shape::flat(2), &[3.0, 1.0])?;
/// assert_eq!((y, shape), (vec![2.5], Shape::flat(1)));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn forward<T: Scalar>(
    chain: &[Layer<T>],
    input: Shape,
    x: &[f64],
) -> Result<(Vec<f64>, Shape)> {
    if x.len() != input.numel() {
        return Err(Error::invalid(
            "reference input",
            format!("{} values given for shape {input}", x.len()),
        ));
    }
    let mut cur = x.to_vec();
    let mut shape = input;
    for (i, layer) in chain.iter().enumerate() {
        let mismatch = |expected: String, reason: &str| Error::Shape {
            layer: i,
            name: layer.describe(),
            expected,
            got: shape,
            reason: reason.to_string(),
        };
        (cur, shape) = match layer {
            Layer::Flatten(_) => (cur, Shape::Flat(shape.numel())),
            Layer::Linear(l) => match shape {
                Shape::Flat(n) if n == l.in_features() => {
                    (linear(l, &cur), Shape::Flat(l.out_features()))
                }
                _ => {
                    return Err(mismatch(
                        format!("({})", l.in_features()),
                        "reference: wrong input",
                    ))
                }
            },
            Layer::Conv2d(c) => match shape {
                Shape::Chw { c: ch, h, w } if ch == c.c_in() => {
                    let (oh, ow) = conv_out_size(c, h, w).ok_or_else(|| {
                        mismatch(
                            format!("({}, H, W)", c.c_in()),
                            "reference: kernel does not fit",
                        )
                    })?;
                    (
                        conv2d(c, &cur, h, w, oh, ow),
                        Shape::Chw {
                            c: c.c_out(),
                            h: oh,
                            w: ow,
                        },
                    )
                }
                _ => {
                    return Err(mismatch(
                        format!("({}, H, W)", c.c_in()),
                        "reference: wrong input",
                    ))
                }
            },
        };
    }
    Ok((cur, shape))
}

fn linear<T: Scalar>(l: &Linear<T>, x: &[f64]) -> Vec<f64> {
    let w = l.weight();
    (0..l.out_features())
        .map(|o| {
            let mut s = l.bias().map_or(0.0, |b| b[o].widen());
            for (i, xi) in x.iter().enumerate() {
                s += w[[o, i]].widen() * xi;
            }
            s
        })
        .collect()
}

/// Counts window positions by walking them, independently of `Geometry2d::out_dims`.
fn conv_out_size<T: Scalar>(c: &Conv2d<T>, h: usize, w: usize) -> Option<(usize, usize)> {
    let g = c.geometry();
    let count = |n: usize, lo: usize, hi: usize, k: usize, s: usize, d: usize| {
        let last_tap = (k - 1) * d;
        let mut out = 0;
        while out * s + last_tap < n + lo + hi {
            out += 1;
        }
        out
    };
    let oh = count(
        h,
        g.padding[0],
        g.padding[2],
        g.kernel[0],
        g.stride[0],
        g.dilation[0],
    );
    let ow = count(
        w,
        g.padding[1],
        g.padding[3],
        g.kernel[1],
        g.stride[1],
        g.dilation[1],
    );
    (oh > 0 && ow > 0).then_some((oh, ow))
}

/// Direct convolution: loops over (group, out channel, oy, ox, in channel, ky, kx), bounds-checked taps.
fn conv2d<T: Scalar>(
    c: &Conv2d<T>,
    x: &[f64],
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
) -> Vec<f64> {
    let g = c.geometry();
    let k = c.weight();
    let (c_out, cpg_in, kh, kw) = k.dim();
    let groups = c.groups();
    let cpg_out = c_out / groups;
    let mut y = vec![0.0; c_out * oh * ow];
    for grp in 0..groups {
        for oc in grp * cpg_out..(grp + 1) * cpg_out {
            let b = c.bias().map_or(0.0, |b| b[oc].widen());
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = b;
                    for ic in 0..cpg_in {
                        let chan = grp * cpg_in + ic;
                        for ky in 0..kh {
                            let iy = (oy * g.stride[0] + ky * g.dilation[0]) as isize
                                - g.padding[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * g.stride[1] + kx * g.dilation[1]) as isize
                                    - g.padding[1] as isize;
                                if ix < 0 || ix >= w as isize {
                                    continue;
                                }
                                let xv = x[chan * h * w + iy as usize * w + ix as usize];
                                s += k[[oc, ic, ky, kx]].widen() * xv;
                            }
                        }
                    }
                    y[oc * oh * ow + oy * ow + ox] = s;
                }
            }
        }
    }
    y
}
