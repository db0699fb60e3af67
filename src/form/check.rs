//! Is a form exact? The run and its form through the independent reference on random inputs.

use crate::graph::{Model, Op};
use crate::layer::Layer;
use crate::rng::SplitMix64;
use crate::verify::forward_model;
use crate::{Result, Scalar};

/// Largest difference between two models on three random inputs (reference passes in `f64`).
pub(super) fn max_difference<T: Scalar>(a: &Model<T>, b: &Model<T>) -> Result<f64> {
    let mut rng = SplitMix64::new(7);
    let n = a.input_shape().numel();
    let mut worst = 0.0f64;
    for _ in 0..3 {
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
    let scale = sub
        .nodes()
        .iter()
        .filter_map(|nd| match &nd.op {
            Op::Layer(l) => Some(l.cast::<f64>().ok()?),
            _ => None,
        })
        .map(|l| match l {
            Layer::Linear(f) => {
                f.weight().iter().map(|v| v.abs()).fold(0.0, f64::max) * f.in_features() as f64
            }
            Layer::Conv2d(c) => c.weight().iter().map(|v| v.abs()).sum::<f64>() / c.c_out() as f64,
            Layer::ScaleShift(s) => s
                .scale()
                .map_or(1.0, |a| a.iter().map(|v| v.abs()).fold(0.0, f64::max)),
            _ => 1.0,
        })
        .fold(1.0, |acc, s| acc * s.max(1.0));
    Ok(64.0 * T::EPSILON.widen() * n.sqrt() * scale)
}
