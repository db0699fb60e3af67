//! Is a form exact? The run and its form through the independent reference on random inputs; a
//! convolution on a smaller image of the same stride phase, since its exactness does not depend on the
//! image size beyond every border and phase being present.

use crate::graph::{Model, Op};
use crate::layer::{Conv2d, Layer};
use crate::rng::SplitMix64;
use crate::verify::forward_model;
use crate::{Result, Scalar, Shape};

/// The largest difference between the run `sub` and the convolution `conv` on a random input, and the
/// tolerance it is held to: on the smallest image of the same stride phase with a window clear of the
/// padding between the border windows (at least `extent + 2 stride` per axis), when every layer of the run
/// takes it; else on the run's own size.
///
/// # Errors
/// When the reference cannot run the run.
pub(super) fn conv_error<T: Scalar>(sub: &Model<T>, conv: &Conv2d<T>) -> Result<(f64, f64)> {
    let checked = shrunk(sub, conv);
    let run = checked.as_ref().unwrap_or(sub);
    let form = Model::sequential(
        run.input_shape(),
        vec![Op::Layer(Layer::Conv2d(conv.clone()))],
    )?;
    Ok((difference(run, &form, 1)?, tolerance::<T>(run)?))
}

/// The largest difference between the run `sub` and `ops` (acting over the last axis), and its tolerance: at
/// one position (every leading axis of size 1), since both act on each position alone; on the run's own
/// size when its layers do not take that.
///
/// # Errors
/// When the reference cannot run the run.
pub(super) fn last_axis_error<T: Scalar>(sub: &Model<T>, ops: &[Op<T>]) -> Result<(f64, f64)> {
    let dims = sub.input_shape().dims();
    let one: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(i, &d)| if i + 1 == dims.len() { d } else { 1 })
        .collect();
    let single = Shape::from_dims(&one).and_then(|s| {
        let mut m = Model::new(s);
        for node in sub.nodes() {
            m.push(node.name.clone(), node.op.clone(), node.inputs.clone())
                .ok()?;
        }
        m.set_outputs(sub.outputs()).ok()?;
        m.shapes().ok().map(|_| m)
    });
    let run = single.as_ref().unwrap_or(sub);
    let form = Model::sequential(run.input_shape(), ops.to_vec())?;
    Ok((max_difference(run, &form)?, tolerance::<T>(run)?))
}

/// `sub` on a smaller input of the same stride phase, when every node takes it and `conv` gives the
/// run's output shape there; `None` when the input is already that small or the run does not shrink.
fn shrunk<T: Scalar>(sub: &Model<T>, conv: &Conv2d<T>) -> Option<Model<T>> {
    let Shape::Chw { c, h, w } = sub.input_shape() else {
        return None;
    };
    let g = conv.geometry();
    let small = |n: usize, a: usize| {
        let s = g.stride[a];
        let least = g.extent(a) + 2 * s;
        if n <= least {
            n
        } else {
            n - (n - least) / s * s
        }
    };
    let (h2, w2) = (small(h, 0), small(w, 1));
    if (h2, w2) == (h, w) {
        return None;
    }
    let mut m = Model::new(Shape::chw(c, h2, w2));
    for node in sub.nodes() {
        m.push(node.name.clone(), node.op.clone(), node.inputs.clone())
            .ok()?;
    }
    m.set_outputs(sub.outputs()).ok()?;
    let out = *m.shapes().ok()?.last()?;
    let [oh, ow] = g.out_dims([h2, w2])?;
    (out == Shape::chw(conv.c_out(), oh, ow)).then_some(m)
}

/// Largest difference between two models on three random inputs (reference passes in `f64`).
pub(super) fn max_difference<T: Scalar>(a: &Model<T>, b: &Model<T>) -> Result<f64> {
    difference(a, b, 3)
}

/// Largest difference between two models on `samples` random inputs (reference passes in `f64`).
fn difference<T: Scalar>(a: &Model<T>, b: &Model<T>, samples: usize) -> Result<f64> {
    let mut rng = SplitMix64::new(7);
    let n = a.input_shape().numel();
    let mut worst = 0.0f64;
    for _ in 0..samples {
        let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let (ya, yb) = (forward_model(a, &x)?, forward_model(b, &x)?);
        for (p, q) in ya.iter().zip(&yb) {
            worst = worst.max((p - q).abs());
        }
    }
    Ok(worst)
}

/// What counts as equal for a form of `sub`: rounding of `T` scaled by the run's size and magnitude.
pub(super) fn tolerance<T: Scalar>(sub: &Model<T>) -> Result<f64> {
    let n = sub.input_shape().numel().max(1) as f64;
    let abs = |v: &T| v.widen().abs();
    let scale = sub
        .nodes()
        .iter()
        .filter_map(|nd| match &nd.op {
            Op::Layer(l) => Some(l),
            _ => None,
        })
        .map(|l| match l {
            Layer::Linear(f) => {
                f.weight().iter().map(abs).fold(0.0, f64::max) * f.in_features() as f64
            }
            Layer::Conv2d(c) => c.weight().iter().map(abs).sum::<f64>() / c.c_out() as f64,
            Layer::ScaleShift(s) => s
                .scale()
                .map_or(1.0, |a| a.iter().map(abs).fold(0.0, f64::max)),
            _ => 1.0,
        })
        .fold(1.0, |acc, s| acc * s.max(1.0));
    Ok(64.0 * T::EPSILON.widen() * n.sqrt() * scale)
}
