//! The last-axis form of a run: when every node acts on each position alone, along the last axis (a
//! transformer's `Linear`, a LayerScale, a bias, a residual sum), the run is one `Linear` over the last
//! axis, carried node by node as a [`LastMap`], as the convolution form is. Scales and shifts stay
//! diagonal until a `Linear` takes them (a column scaling, never a product with a diagonal matrix), and a
//! product of two dense maps is refused past `limit` parameters, as a convolution's is. Planning carries
//! dense maps by their widths only ([`LastMap::Planned`]); the chosen piece's map is multiplied out once,
//! when it is built ([`last_axis_map`]).

use std::collections::HashMap;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayD, Axis};

use super::conv::Why;
use crate::graph::{Model, Op, Src};
use crate::layer::{Layer, Linear};
use crate::{Scalar, Shape};

/// An affine map of the last axis: `diag(scale) x + shift`, or a dense `Linear`.
#[derive(Clone, Debug)]
pub(crate) enum LastMap<T> {
    Diagonal {
        scale: Array1<T>,
        shift: Option<Array1<T>>,
    },
    Dense(Linear<T>),
    /// A dense map not multiplied out: its widths and whether it has a bias.
    Planned {
        n_in: usize,
        n_out: usize,
        bias: bool,
    },
}

impl<T: Scalar> LastMap<T> {
    /// The identity on `n` values.
    fn identity(n: usize) -> Self {
        LastMap::Diagonal {
            scale: Array1::ones(n),
            shift: None,
        }
    }

    /// Output width.
    pub(crate) fn out_features(&self) -> usize {
        match self {
            LastMap::Diagonal { scale, .. } => scale.len(),
            LastMap::Dense(l) => l.out_features(),
            LastMap::Planned { n_out, .. } => *n_out,
        }
    }

    /// Input width.
    pub(crate) fn in_features(&self) -> usize {
        match self {
            LastMap::Diagonal { scale, .. } => scale.len(),
            LastMap::Dense(l) => l.in_features(),
            LastMap::Planned { n_in, .. } => *n_in,
        }
    }

    /// Parameters of the map as one `Linear`.
    pub(crate) fn num_params(&self) -> usize {
        match self {
            LastMap::Diagonal { scale, shift } => {
                scale.len() * scale.len() + shift.as_ref().map_or(0, Array1::len)
            }
            LastMap::Dense(l) => l.num_params(),
            LastMap::Planned { n_in, n_out, bias } => n_out * (n_in + usize::from(*bias)),
        }
    }

    /// Whether the map adds a constant.
    fn has_bias(&self) -> bool {
        match self {
            LastMap::Diagonal { shift, .. } => shift.is_some(),
            LastMap::Dense(l) => l.bias().is_some(),
            LastMap::Planned { bias, .. } => *bias,
        }
    }

    /// The map as one `Linear`.
    ///
    /// # Errors
    /// When a weight is not finite, or the map was only planned.
    pub(crate) fn to_linear(&self) -> crate::Result<Linear<T>> {
        match self {
            LastMap::Diagonal { scale, shift } => {
                Linear::new(Array2::from_diag(scale), shift.clone())
            }
            LastMap::Dense(l) => Ok(l.clone()),
            LastMap::Planned { .. } => Err(crate::Error::invalid(
                "last-axis map",
                "planned only, not multiplied out",
            )),
        }
    }

    /// `(w, c) ∘ self`: `W A` and `W a + c`, with `W A` refused past `limit` parameters; widths only
    /// unless `numeric` (or `self` is diagonal: a column scaling is cheap).
    fn then_linear(
        &self,
        w: &Array2<T>,
        c: Option<&Array1<T>>,
        limit: usize,
        numeric: bool,
    ) -> Result<Self, Why> {
        if !matches!(self, LastMap::Diagonal { .. }) && w.nrows() * self.in_features() > limit {
            return Err(format!(
                "the composed {}x{} weight has more parameters than the run",
                w.nrows(),
                self.in_features()
            ));
        }
        if !numeric {
            return Ok(LastMap::Planned {
                n_in: self.in_features(),
                n_out: w.nrows(),
                bias: self.has_bias() || c.is_some(),
            });
        }
        let (weight, bias) = match self {
            LastMap::Diagonal { scale, shift } => {
                // W diag(s): every row times `s`, in memory order
                let weight = w * &scale.view().insert_axis(Axis(0));
                (weight, shift.as_ref().map(|a| w.dot(a)))
            }
            LastMap::Dense(l) => (w.dot(l.weight()), l.bias().map(|a| w.dot(a))),
            LastMap::Planned { .. } => unreachable!("a planned map is never multiplied out"),
        };
        let bias = match (bias, c) {
            (Some(b), Some(c)) => Some(b + c),
            (b, c) => b.or_else(|| c.cloned()),
        };
        Ok(LastMap::Dense(
            Linear::new(weight, bias).map_err(|e| e.to_string())?,
        ))
    }

    /// `diag(s) self + t`.
    fn then_scale(&self, s: Option<&Array1<T>>, t: Option<&Array1<T>>) -> Result<Self, Why> {
        let times = |a: &Array1<T>| s.map_or_else(|| a.clone(), |s| a * s);
        let plus = |b: Option<Array1<T>>| match (b, t) {
            (Some(b), Some(t)) => Some(b + t),
            (b, t) => b.or_else(|| t.cloned()),
        };
        Ok(match self {
            LastMap::Diagonal { scale, shift } => LastMap::Diagonal {
                scale: times(scale),
                shift: plus(shift.as_ref().map(times)),
            },
            LastMap::Dense(l) => {
                let w = match s {
                    Some(s) => l.weight() * &s.view().insert_axis(Axis(1)),
                    None => l.weight().clone(),
                };
                let bias = plus(l.bias().map(times));
                LastMap::Dense(Linear::new(w, bias).map_err(|e| e.to_string())?)
            }
            LastMap::Planned { n_in, n_out, bias } => LastMap::Planned {
                n_in: *n_in,
                n_out: *n_out,
                bias: *bias || t.is_some(),
            },
        })
    }

    /// The sum of maps of the same widths.
    fn sum(parts: &[Arc<Self>]) -> Result<Self, Why> {
        let shift_sum =
            |shifts: Vec<Option<Array1<T>>>| shifts.into_iter().flatten().reduce(|a, b| a + b);
        if let Some(scales) = parts
            .iter()
            .map(|p| match &**p {
                LastMap::Diagonal { scale, .. } => Some(scale),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
        {
            let scale = scales.iter().skip(1).fold(scales[0].clone(), |a, b| a + *b);
            let shifts = parts
                .iter()
                .map(|p| match &**p {
                    LastMap::Diagonal { shift, .. } => shift.clone(),
                    _ => None,
                })
                .collect();
            return Ok(LastMap::Diagonal {
                scale,
                shift: shift_sum(shifts),
            });
        }
        if parts.iter().any(|p| matches!(**p, LastMap::Planned { .. })) {
            return Ok(LastMap::Planned {
                n_in: parts[0].in_features(),
                n_out: parts[0].out_features(),
                bias: parts.iter().any(|p| p.has_bias()),
            });
        }
        let dense = parts
            .iter()
            .map(|p| p.to_linear())
            .collect::<crate::Result<Vec<_>>>()
            .map_err(|e| e.to_string())?;
        let w = dense
            .iter()
            .skip(1)
            .fold(dense[0].weight().clone(), |acc, p| acc + p.weight());
        let shifts = dense.iter().map(|p| p.bias().cloned()).collect();
        Ok(LastMap::Dense(
            Linear::new(w, shift_sum(shifts)).map_err(|e| e.to_string())?,
        ))
    }
}

/// The last-axis map of node `k` as a function of the value `entry` (of shape `input`), given those of the
/// nodes before it in the same range, or why it has none; a product of dense maps past `limit` parameters
/// is refused. Dense maps are multiplied out only when `numeric`.
pub(crate) fn last_axis_step<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    k: usize,
    (entry, input): (Src, Shape),
    maps: &HashMap<usize, Result<Arc<LastMap<T>>, Why>>,
    (limit, numeric): (usize, bool),
) -> Result<Arc<LastMap<T>>, Why> {
    let dims = input.dims();
    let Some((&n, lead)) = dims.split_last() else {
        return Err("the run's input has no axis".into());
    };
    let node = &model.nodes()[k];
    let out = shapes[k].ok_or("a value of unknown shape")?.dims();
    if out.len() != dims.len() || out[..out.len() - 1] != *lead {
        return Err(format!("node '{}' does not keep the positions", node.name));
    }
    let src = |s: Src| -> Result<Arc<LastMap<T>>, Why> {
        if s == entry {
            return Ok(Arc::new(LastMap::identity(n)));
        }
        match s {
            Src::Node(j) => match maps.get(&j) {
                Some(Ok(l)) => Ok(Arc::clone(l)),
                Some(Err(why)) => Err(why.clone()),
                None => Err("it reads outside the run".into()),
            },
            Src::Input => Err("it reads outside the run".into()),
        }
    };
    let first = node.inputs[0];
    let map = match &node.op {
        Op::Layer(Layer::Linear(l)) => {
            src(first)?.then_linear(l.weight(), l.bias(), limit, numeric)?
        }
        Op::Layer(Layer::Identity(_) | Layer::Dropout(_)) => return src(first),
        Op::Layer(Layer::ScaleShift(s)) => {
            let width = *out.last().expect("checked");
            let (scale, shift) = (along_last(s.scale(), width)?, along_last(s.shift(), width)?);
            src(first)?.then_scale(scale.as_ref(), shift.as_ref())?
        }
        Op::Add => {
            let parts = node
                .inputs
                .iter()
                .map(|&s| src(s))
                .collect::<Result<Vec<_>, _>>()?;
            LastMap::sum(&parts)?
        }
        other => {
            return Err(format!(
                "it contains {}, which mixes positions",
                other.describe()
            ))
        }
    };
    Ok(Arc::new(map))
}

/// The run `sub` (every node of it, from its input to its last node) as one `Linear` over the last axis,
/// multiplied out.
///
/// # Errors
/// When the run has no last-axis form (the message says why) or a product is not finite.
pub(crate) fn last_axis_map<T: Scalar>(sub: &Model<T>) -> crate::Result<Linear<T>> {
    let shapes: Vec<Option<Shape>> = sub.shapes()?.into_iter().map(Some).collect();
    let mut maps = HashMap::new();
    for k in 0..sub.nodes().len() {
        let map = last_axis_step(
            sub,
            &shapes,
            k,
            (Src::Input, sub.input_shape()),
            &maps,
            (usize::MAX, true),
        );
        maps.insert(k, map);
    }
    let last = sub
        .nodes()
        .len()
        .checked_sub(1)
        .and_then(|k| maps.remove(&k));
    match last {
        Some(Ok(map)) => map.to_linear(),
        Some(Err(why)) => Err(crate::Error::invalid("last-axis form", why)),
        None => Err(crate::Error::invalid("last-axis form", "an empty run")),
    }
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
