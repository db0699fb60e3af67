//! Values made from attributes or from shapes: `Constant`, `ConstantOfShape`, `Range`, `Shape`, `Size`;
//! and the ops that pass a value on: `Identity`, `Dropout` (inference), `Cast`, `CastLike`.

use ndarray::{ArrayD, IxDyn};

use super::node::{numel, Node};
use super::tensor::{dtype, Data, Tensor};
use super::{Act, Out, Value};
use crate::io::onnx::{attr_tensor, AttributeProto};
use crate::Result;

/// `Constant`: the `value` tensor (read by the driver without decoding), or `value_float(s)`,
/// `value_int(s)`; anything else (strings, sparse) is not a number this crate reads.
pub(super) fn constant(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    if let Some(t) = attr_tensor(n.proto(), "value")? {
        return Ok(vec![Out::Const(Tensor::from_proto(t)?)]);
    }
    let attr = |name: &str| n.proto().attribute.iter().find(|a| a.name == name);
    let scalar = |v: Data| Tensor {
        dtype: match v {
            Data::F32(_) => dtype::FLOAT,
            Data::I64(_) => dtype::INT64,
        },
        data: v,
    };
    let out = if let Some(a) = attr("value_float") {
        scalar(Data::F32(ArrayD::from_elem(IxDyn(&[]), a.f)))
    } else if let Some(a) = attr("value_floats") {
        let v = floats(a);
        scalar(Data::F32(
            ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).expect("1-d"),
        ))
    } else if let Some(a) = attr("value_int") {
        scalar(Data::I64(ArrayD::from_elem(IxDyn(&[]), a.i)))
    } else if let Some(a) = attr("value_ints") {
        Tensor::i64_vec(a.ints.clone())
    } else {
        return Ok(vec![Out::Act(Act::unknown(0))]);
    };
    Ok(vec![Out::Const(out)])
}

fn floats(a: &AttributeProto) -> Vec<f32> {
    a.floats.clone()
}

/// `ConstantOfShape(shape)`: a tensor of the `value` attribute (float 0 by default).
pub(super) fn constant_of_shape(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let fill = match attr_tensor(n.proto(), "value")? {
        Some(t) => Tensor::from_proto(t)?,
        None => Tensor::f32(ArrayD::zeros(IxDyn(&[1]))),
    };
    if fill.len() != 1 {
        return Err(n.err(format!(
            "its value has {} elements; it must have one",
            fill.len()
        )));
    }
    let Some(shape) = n.ints(0)? else {
        return Ok(vec![Out::Act(Act::unknown(fill.dtype))]);
    };
    let dims = shape
        .iter()
        .map(|&d| n.size("a dimension of the shape", d, false))
        .collect::<Result<Vec<usize>>>()?;
    let count = numel(&dims).ok_or_else(|| n.err(format!("the shape {dims:?} overflows")))?;
    n.reserve(count)?;
    let data = match &fill.data {
        Data::F32(a) => Data::F32(ArrayD::from_elem(
            IxDyn(&dims),
            a.iter().copied().next().unwrap_or(0.0),
        )),
        Data::I64(a) => Data::I64(ArrayD::from_elem(
            IxDyn(&dims),
            a.iter().copied().next().unwrap_or(0),
        )),
    };
    Ok(vec![Out::Const(Tensor {
        dtype: fill.dtype,
        data,
    })])
}

/// `Range(start, limit, delta)`: `max(ceil((limit - start) / delta), 0)` values.
pub(super) fn range(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(s), Some(l), Some(d)) = (n.tensor(0)?, n.tensor(1)?, n.tensor(2)?) else {
        return Ok(vec![n.act(None, false)]);
    };
    let first = |t: &Tensor| t.to_f32().iter().copied().next();
    let count = |start: f64, limit: f64, delta: f64| -> Result<usize> {
        if delta == 0.0 || !(start.is_finite() && limit.is_finite() && delta.is_finite()) {
            return Err(n.err("delta is 0 or a bound is not finite"));
        }
        let c = ((limit - start) / delta).ceil().max(0.0);
        n.reserve(c.min(u32::MAX as f64) as usize)?;
        Ok(c as usize)
    };
    let out = match (&s.data, &l.data, &d.data) {
        (Data::I64(a), Data::I64(b), Data::I64(c)) => {
            let (a, b, c) = (first_i(a), first_i(b), first_i(c));
            let k = count(a as f64, b as f64, c as f64)?;
            Tensor::ints_of(
                s.dtype,
                ArrayD::from_shape_fn(IxDyn(&[k]), |i| a + c * i[0] as i64),
            )
        }
        _ => {
            let (a, b, c) = (
                first(&s).unwrap_or(0.0),
                first(&l).unwrap_or(0.0),
                first(&d).unwrap_or(0.0),
            );
            let k = count(a as f64, b as f64, c as f64)?;
            Tensor::f32(ArrayD::from_shape_fn(IxDyn(&[k]), |i| a + c * i[0] as f32))
        }
    };
    Ok(vec![Out::Const(out)])
}

fn first_i(a: &ArrayD<i64>) -> i64 {
    a.iter().copied().next().unwrap_or(0)
}

/// `Shape(x)` with `start` and `end` (opset 15): a constant whenever `x`'s dims are known.
pub(super) fn shape(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(dims) = n.dims(0) else {
        return Ok(vec![Out::Act(Act::unknown(dtype::INT64))]);
    };
    let r = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(n.attr_int("start")?.unwrap_or(0));
    let end = clamp(n.attr_int("end")?.unwrap_or(r));
    let part: Vec<i64> = dims
        .get(start..end.max(start))
        .unwrap_or(&[])
        .iter()
        .map(|&d| d as i64)
        .collect();
    Ok(vec![Out::Const(Tensor::i64_vec(part))])
}

/// `Size(x)`: the number of elements, a scalar.
pub(super) fn size(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(count) = n.dims(0).and_then(|d| numel(&d)) else {
        return Ok(vec![Out::Act(Act::unknown(dtype::INT64))]);
    };
    Ok(vec![Out::Const(Tensor::i64(ArrayD::from_elem(
        IxDyn(&[]),
        count as i64,
    )))])
}

/// `Identity(x)`: `x`.
pub(super) fn identity(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    Ok(vec![pass(n)?])
}

/// `Dropout(x, ratio, training_mode)` at inference: `x`, and an all-true mask when asked for.
pub(super) fn dropout(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let training = n.ints(2)?.is_some_and(|v| v.iter().any(|&x| x != 0));
    if training || (n.input(2).is_some() && n.ints(2)?.is_none()) {
        // a training-mode dropout is random: nothing about its values is known
        return Ok(vec![n.act(n.dims(0), false), mask(n, None)]);
    }
    Ok(vec![pass(n)?, mask(n, n.dims(0))])
}

fn mask(n: &Node<'_, '_>, dims: Option<Vec<usize>>) -> Out {
    Out::Act(Act {
        dims,
        dtype: dtype::BOOL,
        batched: n.batched(0),
    })
}

/// Input 0 passed on: a constant stays one, a runtime value keeps its dims and batch.
fn pass(n: &Node<'_, '_>) -> Result<Out> {
    Ok(match n.required(0)? {
        Value::Const(c) => Out::Const((*c.tensor()?).clone()),
        Value::Act(a) => Out::Act(a.clone()),
    })
}

/// `Cast(x, to)`.
pub(super) fn cast(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let to = n
        .attr_int("to")?
        .ok_or_else(|| n.err("it has no 'to' attribute"))? as i32;
    Ok(vec![convert(n, to)?])
}

/// `CastLike(x, like)`: `x` in `like`'s data type.
pub(super) fn cast_like(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let to = n.dtype(1);
    Ok(vec![convert(n, to)?])
}

fn convert(n: &Node<'_, '_>, to: i32) -> Result<Out> {
    Ok(match n.required(0)? {
        Value::Const(c) => {
            let t = c.tensor()?;
            let data = if dtype::is_float(to) {
                Data::F32(t.to_f32())
            } else if to == dtype::BOOL {
                Data::I64(match &t.data {
                    Data::F32(a) => a.mapv(|v| (v != 0.0) as i64),
                    Data::I64(a) => a.mapv(|v| (v != 0) as i64),
                })
            } else if dtype::is_int(to) {
                Data::I64(t.to_i64())
            } else {
                return Ok(Out::Act(Act {
                    dims: Some(t.shape().to_vec()),
                    dtype: to,
                    batched: false,
                }));
            };
            Out::Const(Tensor { dtype: to, data })
        }
        Value::Act(a) => Out::Act(Act {
            dtype: to,
            ..a.clone()
        }),
    })
}
