//! The whole model's reference forward pass in `f64`: layers through [`crate::reference::forward`],
//! branches and nonlinearities in plain loops. It checks a collapsed model against the original.

use super::{Model, Nonlinear, Op, Src};
use crate::{reference, Error, Result, Scalar, Shape};

/// Runs one sample (flattened in C order) through the model; returns the output, flattened.
///
/// # Errors
/// [`Error::Shape`] when shapes do not fit; [`Error::Unsupported`] for an `Other` nonlinearity, which has
/// no reference implementation.
///
/// ```
/// use linear_collapse::model::{forward_reference, Model, Nonlinear, Op};
/// use linear_collapse::Shape;
/// let m = Model::<f32>::sequential(Shape::flat(2), vec![Op::Nonlinear(Nonlinear::Relu)])?;
/// assert_eq!(forward_reference(&m, &[-1.0, 2.0])?, vec![0.0, 2.0]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn forward<T: Scalar>(model: &Model<T>, x: &[f64]) -> Result<Vec<f64>> {
    let shapes = model.shapes()?;
    let mut values: Vec<Vec<f64>> = Vec::with_capacity(model.nodes().len());
    let read = |values: &Vec<Vec<f64>>, s: Src| -> Vec<f64> {
        match s {
            Src::Input => x.to_vec(),
            Src::Node(i) => values[i].clone(),
        }
    };
    let shape_of = |s: Src| match s {
        Src::Input => model.input_shape(),
        Src::Node(i) => shapes[i],
    };
    for node in model.nodes() {
        let ins: Vec<Vec<f64>> = node.inputs.iter().map(|s| read(&values, *s)).collect();
        let y = match &node.op {
            Op::Layer(l) => {
                reference::forward(std::slice::from_ref(l), shape_of(node.inputs[0]), &ins[0])?.0
            }
            Op::Add => (0..ins[0].len())
                .map(|k| ins.iter().map(|v| v[k]).sum())
                .collect(),
            Op::Concat => ins.concat(),
            Op::Nonlinear(n) => nonlinear(n, shape_of(node.inputs[0]), &ins[0], &node.name)?,
        };
        values.push(y);
    }
    Ok(read(&values, model.output()))
}

fn nonlinear(n: &Nonlinear, shape: Shape, x: &[f64], name: &str) -> Result<Vec<f64>> {
    let map = |f: &dyn Fn(f64) -> f64| x.iter().map(|&v| f(v)).collect();
    Ok(match n {
        Nonlinear::Relu => map(&|v| v.max(0.0)),
        Nonlinear::LeakyRelu(s) => map(&|v| if v > 0.0 { v } else { s * v }),
        Nonlinear::Gelu => map(&|v| 0.5 * v * (1.0 + erf(v / std::f64::consts::SQRT_2))),
        Nonlinear::Silu => map(&|v| v / (1.0 + (-v).exp())),
        Nonlinear::Sigmoid => map(&|v| 1.0 / (1.0 + (-v).exp())),
        Nonlinear::Tanh => map(&f64::tanh),
        Nonlinear::Softmax => {
            let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        }
        Nonlinear::MaxPool2d(g) => {
            let Shape::Chw { c, h, w } = shape else {
                return Err(Error::invalid(name, "MaxPool2d takes (C, H, W)"));
            };
            let [oh, ow] = g
                .out_dims([h, w])
                .ok_or_else(|| Error::invalid(name, "window larger than the input"))?;
            let mut y = vec![f64::NEG_INFINITY; c * oh * ow];
            for ch in 0..c {
                for i in 0..oh {
                    for j in 0..ow {
                        let out = &mut y[(ch * oh + i) * ow + j];
                        for a in 0..g.kernel[0] {
                            for b in 0..g.kernel[1] {
                                let yy =
                                    (i * g.stride[0] + a * g.dilation[0]).checked_sub(g.padding[0]);
                                let xx =
                                    (j * g.stride[1] + b * g.dilation[1]).checked_sub(g.padding[1]);
                                if let (Some(yy), Some(xx)) = (yy, xx) {
                                    if yy < h && xx < w {
                                        *out = out.max(x[(ch * h + yy) * w + xx]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            y
        }
        Nonlinear::Other { name: op, .. } => {
            return Err(Error::Unsupported {
                op_type: op.clone(),
                detail: format!("node '{name}' has no reference implementation"),
            })
        }
    })
}

/// The error function (Abramowitz and Stegun 7.1.26 refined by one Newton step; |error| < 1e-12).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let mut y = (1.0 - poly * (-x * x).exp()).copysign(x);
    // one Newton step on erf(y_true) = y: d/dx erf = 2/sqrt(pi) e^{-x^2}; refine with a series near 0
    if x.abs() < 0.5 {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for n in 1..30 {
            term *= -x2 / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        y = 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    y
}

#[cfg(test)]
mod tests {
    #[test]
    fn erf_table() {
        for (x, want) in [
            (0.0, 0.0),
            (0.3, 0.328_626_759_459_127_4),
            (1.0, 0.842_700_792_949_714_9),
            (-2.0, -0.995_322_265_018_952_7),
        ] {
            assert!((super::erf(x) - want).abs() < 2e-7, "erf({x})");
        }
    }
}
