//! Direct convolutions: loops over output (or input) positions and taps, bounds-checked, in `f64`.

use super::{wrong, Step};
use crate::layer::{Conv1d, Conv2d, ConvTranspose2d};
use crate::{Scalar, Shape};

/// Number of window positions along an axis, counted by walking them.
fn count_windows(n: usize, lo: usize, hi: usize, k: usize, s: usize, d: usize) -> usize {
    let last_tap = (k - 1) * d;
    let mut out = 0;
    while out * s + last_tap < n + lo + hi {
        out += 1;
    }
    out
}

/// Direct convolution: loops over (group, out channel, oy, ox, in channel, ky, kx), bounds-checked taps.
pub(super) fn conv2d<T: Scalar>(c: &Conv2d<T>, shape: Shape, x: &[f64]) -> Step {
    let expected = || format!("({}, H, W)", c.c_in());
    let Shape::Chw { c: ch, h, w } = shape else {
        return Err(wrong(expected(), "wrong input"));
    };
    if ch != c.c_in() {
        return Err(wrong(expected(), "wrong input"));
    }
    let g = c.geometry();
    let k = c.weight();
    let (c_out, cpg_in, kh, kw) = k.dim();
    let (p, s, d) = (g.padding, g.stride, g.dilation);
    let oh = count_windows(h, p[0], p[2], kh, s[0], d[0]);
    let ow = count_windows(w, p[1], p[3], kw, s[1], d[1]);
    if oh == 0 || ow == 0 {
        return Err(wrong(expected(), "kernel does not fit"));
    }
    let groups = c.groups();
    let cpg_out = c_out / groups;
    let mut y = vec![0.0; c_out * oh * ow];
    for grp in 0..groups {
        for oc in grp * cpg_out..(grp + 1) * cpg_out {
            let b = c.bias().map_or(0.0, |b| b[oc].widen());
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = b;
                    for ic in 0..cpg_in {
                        let chan = grp * cpg_in + ic;
                        for ky in 0..kh {
                            let iy = (oy * s[0] + ky * d[0]) as isize - p[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * s[1] + kx * d[1]) as isize - p[1] as isize;
                                if ix < 0 || ix >= w as isize {
                                    continue;
                                }
                                let xv = x[chan * h * w + iy as usize * w + ix as usize];
                                acc += k[[oc, ic, ky, kx]].widen() * xv;
                            }
                        }
                    }
                    y[oc * oh * ow + oy * ow + ox] = acc;
                }
            }
        }
    }
    Ok((
        y,
        Shape::Chw {
            c: c_out,
            h: oh,
            w: ow,
        },
    ))
}

/// Direct 1-d convolution: loops over (out channel, position, in channel of its group, tap).
pub(super) fn conv1d<T: Scalar>(c: &Conv1d<T>, shape: Shape, x: &[f64]) -> Step {
    let expected = || format!("({}, L)", c.c_in());
    let Shape::Cl { c: ch, l } = shape else {
        return Err(wrong(expected(), "wrong input"));
    };
    if ch != c.c_in() {
        return Err(wrong(expected(), "wrong input"));
    }
    let cfg = c.config();
    let k = c.weight();
    let (c_out, cpg_in, kl) = k.dim();
    let [left, right] = cfg.padding;
    let ol = count_windows(l, left, right, kl, cfg.stride, cfg.dilation);
    if ol == 0 {
        return Err(wrong(expected(), "kernel does not fit"));
    }
    let cpg_out = c_out / cfg.groups;
    let mut y = vec![0.0; c_out * ol];
    for oc in 0..c_out {
        let first = (oc / cpg_out) * cpg_in;
        for t in 0..ol {
            let mut acc = c.bias().map_or(0.0, |b| b[oc].widen());
            for ic in 0..cpg_in {
                for kx in 0..kl {
                    let pos = (t * cfg.stride + kx * cfg.dilation) as isize - left as isize;
                    if pos >= 0 && pos < l as isize {
                        acc += k[[oc, ic, kx]].widen() * x[(first + ic) * l + pos as usize];
                    }
                }
            }
            y[oc * ol + t] = acc;
        }
    }
    Ok((y, Shape::Cl { c: c_out, l: ol }))
}

/// Transposed convolution by scattering: every input pixel adds its weighted kernel into the output, which
/// starts from the bias; positions cropped by the padding are dropped.
pub(super) fn conv_transpose2d<T: Scalar>(c: &ConvTranspose2d<T>, shape: Shape, x: &[f64]) -> Step {
    let expected = || format!("({}, H, W)", c.c_in());
    let k = c.weight();
    let (c_in, cpg_out, kh, kw) = k.dim();
    let Shape::Chw { c: ch, h, w } = shape else {
        return Err(wrong(expected(), "wrong input"));
    };
    if ch != c_in || h == 0 || w == 0 {
        return Err(wrong(expected(), "wrong input"));
    }
    let cfg = c.config();
    let (s, d, p, op) = (cfg.stride, cfg.dilation, cfg.padding, cfg.output_padding);
    // the scatter's full extent (last input position plus the dilated kernel), grown by output_padding
    let full_h = (h - 1) * s[0] + (kh - 1) * d[0] + 1 + op[0];
    let full_w = (w - 1) * s[1] + (kw - 1) * d[1] + 1 + op[1];
    let oh = full_h as isize - (p[0] + p[2]) as isize;
    let ow = full_w as isize - (p[1] + p[3]) as isize;
    if oh <= 0 || ow <= 0 {
        return Err(wrong(expected(), "the padding crops everything"));
    }
    let (oh, ow) = (oh as usize, ow as usize);
    let groups = cfg.groups;
    let cpg_in = c_in / groups;
    let c_out = cpg_out * groups;
    let mut y = vec![0.0; c_out * oh * ow];
    for o in 0..c_out {
        let b = c.bias().map_or(0.0, |b| b[o].widen());
        y[o * oh * ow..(o + 1) * oh * ow].fill(b);
    }
    for ci in 0..c_in {
        let grp = ci / cpg_in;
        for iy in 0..h {
            for ix in 0..w {
                let xv = x[(ci * h + iy) * w + ix];
                for j in 0..cpg_out {
                    let o = grp * cpg_out + j;
                    for ky in 0..kh {
                        let oy = (iy * s[0] + ky * d[0]) as isize - p[0] as isize;
                        if oy < 0 || oy >= oh as isize {
                            continue;
                        }
                        for kx in 0..kw {
                            let ox = (ix * s[1] + kx * d[1]) as isize - p[1] as isize;
                            if ox < 0 || ox >= ow as isize {
                                continue;
                            }
                            y[(o * oh + oy as usize) * ow + ox as usize] +=
                                k[[ci, j, ky, kx]].widen() * xv;
                        }
                    }
                }
            }
        }
    }
    Ok((
        y,
        Shape::Chw {
            c: c_out,
            h: oh,
            w: ow,
        },
    ))
}
