//! A whole graph's reference forward pass in `f64`: layers through [`super::forward`], branches and
//! nonlinearities in plain loops, every shape worked out here (not by the crate's graph shape inference).
//!
//! The graph comes in the reference's own small vocabulary ([`GraphNode`]), so this module depends on no
//! graph type it checks; `verify::forward_model` translates a `graph::Model` into it.

use super::forward;
use crate::layer::{Layer, Nonlinear};
use crate::{Error, Result, Scalar, Shape};

/// What a node computes, as the reference reads it.
#[derive(Debug)]
pub enum GraphOp<'a, T> {
    /// A linear layer.
    Layer(&'a Layer<T>),
    /// The sum of the inputs.
    Add,
    /// The inputs stacked along an axis of the sample.
    Concat(usize),
    /// A nonlinearity.
    Nonlinear(&'a Nonlinear),
}

/// One node of a graph: a name for errors, its op, and what it reads (`0` is the graph's input, `k + 1` the
/// output of node `k`; nodes read only earlier values).
#[derive(Debug)]
pub struct GraphNode<'a, T> {
    /// For error messages.
    pub name: &'a str,
    /// What it computes.
    pub op: GraphOp<'a, T>,
    /// What it reads.
    pub inputs: Vec<usize>,
}

/// Runs one sample (flattened in C order) through the graph; returns value `output` (`0` the input, `k + 1`
/// node `k`), flattened. Only the nodes that value depends on run.
///
/// # Errors
/// [`Error::Shape`] or [`Error::InvalidLayer`] naming the node when shapes do not fit or a node reads a
/// later value; [`Error::Unsupported`] for an `Other` nonlinearity, which has no reference implementation.
///
pub fn forward_graph<T: Scalar>(
    input: Shape,
    nodes: &[GraphNode<'_, T>],
    x: &[f64],
    output: usize,
) -> Result<Vec<f64>> {
    if x.len() != input.numel() {
        return Err(Error::invalid(
            "reference input",
            format!("{} values given for shape {input}", x.len()),
        ));
    }
    if output > nodes.len() {
        return Err(Error::invalid(
            "reference output",
            format!("value {output} of a graph of {} nodes", nodes.len()),
        ));
    }
    // the values the output depends on
    let mut needed = vec![false; nodes.len() + 1];
    needed[output] = true;
    for k in (0..nodes.len()).rev() {
        if needed[k + 1] {
            for &i in nodes[k].inputs.iter().filter(|&&i| i <= k) {
                needed[i] = true;
            }
        }
    }
    let mut values: Vec<(Vec<f64>, Shape)> = vec![(x.to_vec(), input)];
    for (k, node) in nodes.iter().enumerate() {
        let bad = |reason: String| Error::invalid(format!("node #{k} '{}'", node.name), reason);
        if !needed[k + 1] {
            values.push((Vec::new(), Shape::flat(0)));
            continue;
        }
        if node.inputs.is_empty() || node.inputs.iter().any(|&i| i > k) {
            return Err(bad(format!(
                "reads {:?}, not all earlier values",
                node.inputs
            )));
        }
        let ins: Vec<&(Vec<f64>, Shape)> = node.inputs.iter().map(|&i| &values[i]).collect();
        let (v, s) = ins[0];
        let out = match node.op {
            GraphOp::Layer(l) => forward(std::slice::from_ref(l), *s, v)?,
            GraphOp::Add => {
                if let Some((_, other)) = ins.iter().find(|(_, t)| t != s) {
                    return Err(bad(format!("adds {s} and {other}")));
                }
                let sum = (0..v.len())
                    .map(|j| ins.iter().map(|(w, _)| w[j]).sum())
                    .collect();
                (sum, *s)
            }
            GraphOp::Concat(axis) => concat(&ins, axis).map_err(bad)?,
            GraphOp::Nonlinear(n) => nonlinear(n, *s, v).map_err(|e| match e {
                Fault::Shape(reason) => bad(reason),
                Fault::Unsupported(op) => Error::Unsupported {
                    op_type: op,
                    detail: format!("node '{}' has no reference implementation", node.name),
                },
            })?,
        };
        values.push(out);
    }
    Ok(values.swap_remove(output).0)
}

/// Concatenation along `axis`, with its own index arithmetic: the output is read as `outer` blocks (the
/// axes before `axis`), each the inputs' slabs one after another.
fn concat(
    ins: &[&(Vec<f64>, Shape)],
    axis: usize,
) -> std::result::Result<(Vec<f64>, Shape), String> {
    let first = ins[0].1.dims();
    if axis >= first.len() {
        return Err(format!("axis {axis} is not an axis of {}", ins[0].1));
    }
    let mut dims = first.clone();
    dims[axis] = 0;
    for (_, s) in ins {
        let d = s.dims();
        if d.len() != first.len() || (0..d.len()).any(|a| a != axis && d[a] != first[a]) {
            return Err(format!(
                "cannot stack {} and {s} along axis {axis}",
                ins[0].1
            ));
        }
        dims[axis] += d[axis];
    }
    let outer: usize = first[..axis].iter().product();
    let inner: usize = first[axis + 1..].iter().product();
    let mut data = Vec::with_capacity(ins.iter().map(|(v, _)| v.len()).sum());
    for o in 0..outer {
        for (v, s) in ins {
            let slab = s.dims()[axis] * inner;
            data.extend_from_slice(&v[o * slab..(o + 1) * slab]);
        }
    }
    let shape = Shape::from_dims(&dims).ok_or("too many axes")?;
    Ok((data, shape))
}

/// Why a nonlinearity could not run.
enum Fault {
    Shape(String),
    Unsupported(String),
}

fn nonlinear(
    n: &Nonlinear,
    shape: Shape,
    x: &[f64],
) -> std::result::Result<(Vec<f64>, Shape), Fault> {
    let map = |f: &dyn Fn(f64) -> f64| (x.iter().map(|&v| f(v)).collect(), shape);
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
            (e.iter().map(|v| v / s).collect(), shape)
        }
        Nonlinear::MaxPool2d(g) => {
            let Shape::Chw { c, h, w } = shape else {
                return Err(Fault::Shape(format!(
                    "MaxPool2d takes (C, H, W), got {shape}"
                )));
            };
            let (kernel, stride, dil, pad) = (g.kernel, g.stride, g.dilation, g.padding);
            let oh = windows(h + pad[0] + pad[2], kernel[0], stride[0], dil[0]);
            let ow = windows(w + pad[1] + pad[3], kernel[1], stride[1], dil[1]);
            if oh == 0 || ow == 0 {
                return Err(Fault::Shape(format!("the window does not fit {shape}")));
            }
            let mut y = vec![f64::NEG_INFINITY; c * oh * ow];
            for ch in 0..c {
                for i in 0..oh {
                    for j in 0..ow {
                        let out = &mut y[(ch * oh + i) * ow + j];
                        for a in 0..kernel[0] {
                            for b in 0..kernel[1] {
                                let yy = (i * stride[0] + a * dil[0]).checked_sub(pad[0]);
                                let xx = (j * stride[1] + b * dil[1]).checked_sub(pad[1]);
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
            (y, Shape::chw(c, oh, ow))
        }
        Nonlinear::Other { name: op, .. } => return Err(Fault::Unsupported(op.clone())),
    })
}

/// How many windows of `k` taps `dil` apart, `stride` apart, fit in `n` (padded) positions: counted.
fn windows(n: usize, k: usize, stride: usize, dil: usize) -> usize {
    let last_tap = dil * (k.max(1) - 1);
    let mut count = 0;
    while count * stride.max(1) + last_tap < n {
        count += 1;
    }
    count
}

/// The error function (Abramowitz and Stegun 7.1.26; a series near 0; |error| < 2e-7).
fn erf(x: f64) -> f64 {
    if x.abs() < 0.5 {
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for n in 1..30 {
            term *= -x2 / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        return 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
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

    #[test]
    fn relu_then_a_residual() {
        use super::{forward_graph, GraphNode, GraphOp};
        use crate::layer::Nonlinear;
        use crate::Shape;
        let relu = GraphNode::<f32> {
            name: "relu",
            op: GraphOp::Nonlinear(&Nonlinear::Relu),
            inputs: vec![0],
        };
        let add = GraphNode {
            name: "add",
            op: GraphOp::Add,
            inputs: vec![0, 1],
        };
        let y = forward_graph(Shape::flat(2), &[relu, add], &[-1.0, 2.0], 2).unwrap();
        assert_eq!(y, vec![-1.0, 4.0]);
    }

    #[test]
    fn windows_table() {
        // n padded positions, kernel, stride, dilation -> count (PyTorch's floor rule)
        assert_eq!(super::windows(13, 5, 2, 1), 5);
        assert_eq!(super::windows(4, 5, 1, 1), 0);
        assert_eq!(super::windows(8, 3, 1, 2), 4);
        assert_eq!(super::windows(7, 2, 2, 1), 3);
    }
}
