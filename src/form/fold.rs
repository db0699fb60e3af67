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

use super::conv;
use crate::graph::{Model, Op, Src};
use crate::layer::{Conv2d, Conv2dConfig, Layer, Linear, PadMode};
use crate::{Error, Result, Scalar, Shape};

/// One convolution equal to the whole run `sub` (a model of linear nodes), or why there is none.
pub(crate) fn conv_form<T: Scalar>(sub: &Model<T>) -> std::result::Result<Conv2d<T>, conv::Why> {
    let input = sub.input_shape();
    let Shape::Chw { c, .. } = input else {
        return Err(format!("the run's input {input} is not an image"));
    };
    let shapes = sub.shapes().map_err(|e| e.to_string())?;
    let mut forms: Vec<Conv2d<T>> = Vec::with_capacity(sub.nodes().len());
    let start = conv::identity(c);
    for (k, node) in sub.nodes().iter().enumerate() {
        let src = |s: &Src| match *s {
            Src::Input => (&start, input),
            Src::Node(j) => (&forms[j], shapes[j]),
        };
        let (prev, prev_shape) = src(&node.inputs[0]);
        let from_input = node.inputs[0] == Src::Input;
        let this = match &node.op {
            // The first conv read straight from the input is itself (keeps its groups).
            Op::Layer(Layer::Conv2d(c2)) if from_input => c2.clone(),
            Op::Layer(Layer::Conv2d(c2)) => conv::compose(prev, c2)?,
            Op::Layer(other) => fold_layer(prev, prev_shape, other)?,
            Op::Add => conv::sum(
                &node
                    .inputs
                    .iter()
                    .map(|s| src(s).0.clone())
                    .collect::<Vec<_>>(),
            )?,
            Op::Concat { .. } => {
                return Err("a Concat: stacking convolutions is not supported yet".into())
            }
            Op::Nonlinear(_) => return Err(format!("node '{}' is not linear", node.name)),
        };
        forms.push(
            conv::fit(this, input, shapes[k]).map_err(|e| format!("node '{}': {e}", node.name))?,
        );
    }
    forms.pop().ok_or_else(|| "an empty run".into())
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
    let b = Array1::from_shape_fn(prev.c_out(), |o| {
        T::narrow(prev.bias().map_or(0.0, |b| b[o].widen()) * scale[o] + shift[o])
    });
    Conv2d::new(w, Some(b), prev.config()).map_err(|e| e.to_string())
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
