//! The smallest exact form of a collapsed run: one convolution where that is exact, an exact low-rank
//! pair of Linears where that is cheaper, else the dense Linear (or the run left as it was).
//!
//! A convolution form is built node by node from the run's input: each node's value is one convolution of
//! the input (the identity at the start), composed with the next conv ([`conv::compose`]), folded with a
//! BatchNorm, a zero Pad or an AvgPool, or summed over the branches of an `Add` ([`conv::sum`]). Any step
//! that is not exact stops with a one-sentence reason. The caller checks the result against the run on
//! random inputs before using it: an inexact convolution is never returned.

use ndarray::{s, Array1, Array2, Array4};
use ndarray_linalg::SVD;

use std::collections::HashMap;

use super::conv;
use crate::graph::{Model, Op, Src};
use crate::layer::{Conv2d, Conv2dConfig, Layer, Linear, PadMode};
use crate::{Error, Result, Scalar, Shape};

/// The convolution form of node `k` of `model` as a map from the value `entry` (of shape `input`), given
/// the forms of the nodes before it in the same range (`forms`), or why it has none. A composition that
/// would take more than `limit` parameters is not made (no form of it could be admissible).
pub(crate) fn conv_step<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    k: usize,
    entry: Src,
    input: Shape,
    forms: &HashMap<usize, std::result::Result<Conv2d<T>, conv::Why>>,
    limit: usize,
) -> std::result::Result<Conv2d<T>, conv::Why> {
    let Shape::Chw { c, .. } = input else {
        return Err(format!("the run's input {input} is not an image"));
    };
    let node = &model.nodes()[k];
    let start = conv::identity(c);
    let src = |s: Src| -> std::result::Result<(Conv2d<T>, Shape), conv::Why> {
        if s == entry {
            return Ok((start.clone(), input));
        }
        let Src::Node(j) = s else {
            return Err("it reads a value outside the run".into());
        };
        let shape = shapes[j].ok_or("a value of unknown shape")?;
        match forms.get(&j) {
            Some(Ok(f)) => Ok((f.clone(), shape)),
            Some(Err(why)) => Err(why.clone()),
            None => Err("it reads a value outside the run".into()),
        }
    };
    let first = node.inputs[0];
    let this = match &node.op {
        // A conv read straight from the entry is itself (keeps its groups).
        Op::Layer(Layer::Conv2d(c2)) if first == entry => c2.clone(),
        Op::Layer(Layer::Conv2d(c2)) => {
            let c1 = src(first)?.0;
            let size = conv::composed_params(&c1, c2);
            if size > limit {
                return Err(format!(
                    "one convolution would take {size} parameters, more than the whole run's {limit}"
                ));
            }
            conv::compose(&c1, c2)?
        }
        Op::Layer(other) => {
            let (prev, shape) = src(first)?;
            let folded = fold_layer(&prev, shape, other)?;
            if folded.num_params() > limit {
                return Err(format!(
                    "one convolution would take {} parameters, more than the whole run's {limit}",
                    folded.num_params()
                ));
            }
            folded
        }
        Op::Add => conv::sum(
            &node
                .inputs
                .iter()
                .map(|&s| src(s).map(|f| f.0))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        )?,
        Op::Concat { .. } => {
            return Err("a Concat: stacking convolutions is not supported yet".into())
        }
        Op::Nonlinear(_) => return Err(format!("node '{}' is not linear", node.name)),
    };
    let out = shapes[k].ok_or("a value of unknown shape")?;
    conv::fit(this, input, out).map_err(|e| format!("node '{}': {e}", node.name))
}

/// A layer other than Conv2d applied after the convolution `prev` (whose output has shape `shape`).
fn fold_layer<T: Scalar>(
    prev: &Conv2d<T>,
    shape: Shape,
    layer: &Layer<T>,
) -> std::result::Result<Conv2d<T>, conv::Why> {
    let c = prev.c_out();
    match layer {
        Layer::Conv2d(c2) => conv::compose(prev, c2),
        Layer::Identity(_) | Layer::Dropout(_) => Ok(prev.clone()),
        Layer::BatchNorm(bn) => {
            let (scale, shift) = bn.scale_shift();
            scale_conv(prev, &scale.to_vec(), &shift.to_vec())
        }
        Layer::ScaleShift(s) => match s.per_channel(shape) {
            Some((scale, shift)) => scale_conv(prev, &scale, &shift),
            None => Err(format!(
                "{} varies along more than the channels of {shape}: the map is not a convolution",
                s.describe()
            )),
        },
        Layer::Pad(p) => match p.mode() {
            PadMode::Constant(v) if v == T::zero() => {
                let pad = Conv2d::new(
                    conv::identity::<T>(c).weight().clone(),
                    None,
                    Conv2dConfig {
                        padding: p.padding(),
                        groups: c,
                        ..Default::default()
                    },
                )
                .map_err(|e| e.to_string())?;
                conv::compose(prev, &pad)
            }
            mode => Err(format!(
                "{} pads with {} values, which a convolution's zero padding cannot express",
                p.describe(),
                mode.name()
            )),
        },
        Layer::AvgPool2d(pool) => {
            let pads = pool.padding();
            if pads != [0; 4] && !pool.count_include_pad() {
                return Err(format!(
                    "{} divides border windows by the pixels they cover (count_include_pad = false)",
                    pool.describe()
                ));
            }
            let k = pool.kernel_size();
            let w = Array4::from_shape_fn((c, 1, k[0], k[1]), |_| {
                T::narrow(1.0 / (k[0] * k[1]) as f64)
            });
            let cfg = Conv2dConfig {
                stride: pool.stride(),
                padding: pads,
                groups: c,
                ..Default::default()
            };
            let as_conv = Conv2d::new(w, None, cfg).map_err(|e| e.to_string())?;
            let Shape::Chw { h, w, .. } = shape else {
                return Err("AvgPool2d after a non-image".into());
            };
            if as_conv.geometry().out_dims([h, w]) != pool.out_dims([h, w]) {
                return Err(format!(
                    "{} uses ceil_mode windows past the padding",
                    pool.describe()
                ));
            }
            conv::compose(prev, &as_conv)
        }
        other => Err(format!(
            "it contains {}: the collapsed map is not a convolution",
            other.describe()
        )),
    }
}

/// `y = scale * (conv x) + shift`, per output channel: the convolution `prev` with each output channel's
/// kernel scaled and its bias scaled and shifted (a BatchNorm or a per-channel ScaleShift folded in).
fn scale_conv<T: Scalar>(
    prev: &Conv2d<T>,
    scale: &[f64],
    shift: &[f64],
) -> std::result::Result<Conv2d<T>, conv::Why> {
    let mut w = prev.weight().clone();
    for (o, mut k) in w.outer_iter_mut().enumerate() {
        k.mapv_inplace(|v| T::narrow(v.widen() * scale[o]));
    }
    // a conv without a bias gets one only when the shift is not zero
    let b = (prev.bias().is_some() || shift.iter().any(|&s| s != 0.0)).then(|| {
        Array1::from_shape_fn(prev.c_out(), |o| {
            T::narrow(prev.bias().map_or(0.0, |b| b[o].widen()) * scale[o] + shift[o])
        })
    });
    Conv2d::new(w, b, prev.config()).map_err(|e| e.to_string())
}

/// `(A, B, r)` of [`low_rank`].
pub(crate) type Factors<T> = (Array2<T>, Array2<T>, usize);

/// An exact factorisation `W = B A` with `A: (r, n_in)`, `B: (n_out, r)`, when `r (n_in + n_out)` is smaller
/// than `n_in n_out`; `r` is the numerical rank (singular values above `sigma_max * max(m, n) * eps`).
///
/// # Errors
/// [`Error::Format`] when the SVD does not converge.
pub(crate) fn low_rank<T: Scalar>(w: &Array2<T>) -> Result<Option<Factors<T>>> {
    let (m, n) = w.dim();
    let wide = w.mapv(|v| v.widen());
    let (u, sv, vt) = wide.svd(true, true).map_err(|e| Error::Format {
        context: "SVD of the collapsed weight".into(),
        source: Box::new(e),
    })?;
    let (u, vt) = (u.expect("asked for U"), vt.expect("asked for V^T"));
    let smax = sv.iter().cloned().fold(0.0, f64::max);
    let cut = smax * m.max(n) as f64 * T::EPSILON.widen();
    let r = sv.iter().filter(|&&v| v > cut).count().max(1);
    if r * (m + n) >= m * n {
        return Ok(None);
    }
    let a = Array2::from_shape_fn((r, n), |(i, j)| T::narrow(sv[i] * vt[[i, j]]));
    let b = u.slice(s![.., ..r]).mapv(T::narrow);
    Ok(Some((a, b, r)))
}

/// The two Linears of a low-rank factorisation, the bias on the second.
pub(crate) fn low_rank_layers<T: Scalar>(
    a: Array2<T>,
    b: Array2<T>,
    bias: Option<Array1<T>>,
) -> Result<[Linear<T>; 2]> {
    Ok([Linear::new(a, None)?, Linear::new(b, bias)?])
}
