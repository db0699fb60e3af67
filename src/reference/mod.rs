//! The independent reference: a direct forward pass in naive loops, accumulated in `f64`.
//!
//! This module shares nothing with the lowering or composition code (a test scans its sources): it reads the
//! layers' parameters and does its own output-size arithmetic, so a bug in one side shows as a disagreement.

mod conv;
mod graph;
mod pool;
mod probe;
mod reindex;
mod resize;
mod tensor;

pub(crate) use graph::{forward_graph, GraphNode, GraphOp};
pub use probe::{probe, Probe};

use crate::layer::{BatchNorm, Layer, Linear};
use crate::{Error, Result, Scalar, Shape};

/// One layer's output and its shape, or what it expected and why the input does not fit.
type Step = std::result::Result<(Vec<f64>, Shape), (String, String)>;

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
        (cur, shape) = step(layer, shape, cur).map_err(|(expected, reason)| Error::Shape {
            layer: i,
            name: layer.describe(),
            expected,
            got: shape,
            reason,
        })?;
    }
    Ok((cur, shape))
}

/// A mismatch: what the layer expected, and why.
fn wrong(expected: impl Into<String>, reason: &str) -> (String, String) {
    (expected.into(), format!("reference: {reason}"))
}

fn step<T: Scalar>(layer: &Layer<T>, shape: Shape, x: Vec<f64>) -> Step {
    match layer {
        Layer::Flatten(_) => Ok((x, Shape::Flat(shape.numel()))),
        Layer::Identity(_) | Layer::Dropout(_) => Ok((x, shape)),
        Layer::Reshape(r) if r.shape().numel() == shape.numel() => Ok((x, r.shape())),
        Layer::Reshape(r) => Err(wrong(
            format!("{} elements", r.shape().numel()),
            "the element counts differ",
        )),
        Layer::Linear(l) => linear(l, shape, &x),
        Layer::BatchNorm(b) => batchnorm(b, shape, x),
        Layer::Conv2d(c) => conv::conv2d(c, shape, &x),
        Layer::Conv1d(c) => conv::conv1d(c, shape, &x),
        Layer::ConvTranspose2d(c) => conv::conv_transpose2d(c, shape, &x),
        Layer::AvgPool2d(p) => pool::avgpool2d(p, shape, &x),
        Layer::AvgPool1d(p) => pool::avgpool1d(p, shape, &x),
        Layer::Pad(p) => reindex::pad(p, shape, &x),
        Layer::Upsample(u) => reindex::upsample(u, shape, &x),
        Layer::Permute(p) => reindex::permute(p, shape, &x),
        Layer::Slice(s) => tensor::slice(s, shape, &x),
        Layer::ScaleShift(s) => tensor::scale_shift(s, shape, &x),
        Layer::Expand(e) => tensor::expand(e, shape, &x),
        Layer::Reduce(r) => tensor::reduce(r, shape, &x),
        Layer::DepthToSpace(d) => tensor::depth_to_space(d, shape, &x),
        Layer::SpaceToDepth(s) => tensor::space_to_depth(s, shape, &x),
        Layer::Resize(r) => resize::resize(r, shape, &x),
    }
}

/// `W x + b` over the last axis: the same weight at every position of the leading axes.
fn linear<T: Scalar>(l: &Linear<T>, shape: Shape, x: &[f64]) -> Step {
    let (w, n_in, n_out) = (l.weight(), l.in_features(), l.out_features());
    let mut dims = shape.dims();
    match dims.last_mut() {
        Some(last) if *last == n_in => *last = n_out,
        _ => return Err(wrong(format!("(..., {n_in})"), "wrong last axis")),
    }
    let mut y = Vec::with_capacity(x.len() / n_in.max(1) * n_out);
    for at in x.chunks(n_in) {
        for (o, row) in w.outer_iter().enumerate() {
            let s = l.bias().map_or(0.0, |b| b[o].widen());
            y.push(
                row.iter()
                    .zip(at)
                    .fold(s, |s, (wi, xi)| s + wi.widen() * xi),
            );
        }
    }
    let out = Shape::from_dims(&dims).ok_or_else(|| wrong("a valid rank", "too many axes"))?;
    Ok((y, out))
}

/// `gamma * (x - mean) / sqrt(var + eps) + beta`, element by element, with the channel of each element.
fn batchnorm<T: Scalar>(b: &BatchNorm<T>, shape: Shape, mut x: Vec<f64>) -> Step {
    let n = b.running_mean().len();
    let (channels, per) = match shape {
        Shape::Chw { c, h, w } => (c, h * w),
        Shape::Cl { c, l } => (c, l),
        Shape::Flat(f) => (f, 1),
        Shape::Nd(_) => {
            let dims = shape.dims();
            match dims.split_first() {
                Some((&c, rest)) => (c, rest.iter().product()),
                None => return Err(wrong(format!("({n}, ...)"), "a scalar has no channels")),
            }
        }
    };
    if channels != n {
        return Err(wrong(format!("({n}, ...)"), "wrong number of channels"));
    }
    for (i, v) in x.iter_mut().enumerate() {
        let c = i / per;
        let gamma = b.weight().map_or(1.0, |g| g[c].widen());
        let beta = b.bias().map_or(0.0, |g| g[c].widen());
        let mean = b.running_mean()[c].widen();
        let var = b.running_var()[c].widen();
        *v = gamma * (*v - mean) / (var + b.eps()).sqrt() + beta;
    }
    Ok((x, shape))
}
