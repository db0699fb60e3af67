//! The last-axis form of a run: when every node acts on each position alone, along the last axis (a
//! transformer's `Linear`, a LayerScale, a bias, a residual sum), the run is one `Linear` over the last
//! axis, carried node by node as a `(out, in)` matrix and a bias, as the convolution form is.

use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayD};

use super::conv::Why;
use crate::graph::{Model, Op, Src};
use crate::layer::{Layer, Linear};
use crate::{Scalar, Shape};

/// The last-axis map of node `k` as a function of the value `entry` (of shape `input`), given those of the
/// nodes before it in the same range, or why it has none.
pub(crate) fn last_axis_step<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    k: usize,
    entry: Src,
    input: Shape,
    maps: &HashMap<usize, Result<Linear<T>, Why>>,
) -> Result<Linear<T>, Why> {
    let dims = input.dims();
    let Some((&n, lead)) = dims.split_last() else {
        return Err("the run's input has no axis".into());
    };
    let node = &model.nodes()[k];
    let out = shapes[k].ok_or("a value of unknown shape")?.dims();
    if out.len() != dims.len() || out[..out.len() - 1] != *lead {
        return Err(format!("node '{}' does not keep the positions", node.name));
    }
    // `None`: the entry itself (the identity, never multiplied out)
    let src = |s: Src| -> Result<Option<Linear<T>>, Why> {
        if s == entry {
            return Ok(None);
        }
        match s {
            Src::Node(j) => match maps.get(&j) {
                Some(Ok(l)) => Ok(Some(l.clone())),
                Some(Err(why)) => Err(why.clone()),
                None => Err("it reads outside the run".into()),
            },
            Src::Input => Err("it reads outside the run".into()),
        }
    };
    let identity = || Linear::new(Array2::eye(n), None).expect("the identity");
    let first = node.inputs[0];
    match &node.op {
        Op::Layer(Layer::Linear(l)) => match src(first)? {
            None => Ok(l.clone()),
            Some(prev) => then(&prev, l.weight(), l.bias()),
        },
        Op::Layer(Layer::Identity(_) | Layer::Dropout(_)) => {
            Ok(src(first)?.unwrap_or_else(identity))
        }
        Op::Layer(Layer::ScaleShift(s)) => {
            let width = *out.last().expect("checked");
            let (scale, shift) = (along_last(s.scale(), width)?, along_last(s.shift(), width)?);
            let scale = scale.unwrap_or_else(|| Array1::ones(width));
            let prev = src(first)?.unwrap_or_else(identity);
            // diag(scale) (A, a) + shift, row by row
            let mut w = prev.weight().clone();
            for (mut row, &s) in w.outer_iter_mut().zip(scale.iter()) {
                row.mapv_inplace(|v| v * s);
            }
            let mut b = prev.bias().map(|b| b * &scale);
            if let Some(c) = shift {
                b = Some(b.map_or_else(|| c.clone(), |b| b + &c));
            }
            Linear::new(w, b).map_err(|e| e.to_string())
        }
        Op::Add => {
            let parts = node
                .inputs
                .iter()
                .map(|&s| src(s).map(|l| l.unwrap_or_else(identity)))
                .collect::<Result<Vec<_>, _>>()?;
            let w = parts
                .iter()
                .skip(1)
                .fold(parts[0].weight().clone(), |acc, p| acc + p.weight());
            let b = parts
                .iter()
                .map(|p| p.bias_or_zeros())
                .fold(Array1::zeros(w.nrows()), |acc, b| acc + &b);
            Linear::new(w, Some(b)).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "it contains {}, which mixes positions",
            other.describe()
        )),
    }
}

/// `(W, c) ∘ prev`: `W A` and `W a + c`.
fn then<T: Scalar>(
    prev: &Linear<T>,
    w: &Array2<T>,
    c: Option<&Array1<T>>,
) -> Result<Linear<T>, Why> {
    let weight = w.dot(prev.weight());
    let mut bias = prev.bias().map(|b| w.dot(b));
    if let Some(c) = c {
        bias = Some(bias.map_or_else(|| c.clone(), |b| b + c));
    }
    Linear::new(weight, bias).map_err(|e| e.to_string())
}

/// A ScaleShift operand as one value per position of the last axis (`width` of them), when it varies
/// along no other axis.
fn along_last<T: Scalar>(a: Option<&ArrayD<T>>, width: usize) -> Result<Option<Array1<T>>, Why> {
    let Some(a) = a else { return Ok(None) };
    let shape = a.shape();
    if shape.iter().rev().skip(1).any(|&d| d != 1) {
        return Err(format!(
            "a scale or shift of shape {shape:?} varies along more than the last axis"
        ));
    }
    let v: Vec<T> = a.iter().copied().collect();
    Ok(Some(match v.len() {
        1 => Array1::from_elem(width, v[0]),
        n if n == width => Array1::from(v),
        n => {
            return Err(format!(
                "a scale or shift of {n} values does not fit {width}"
            ))
        }
    }))
}
