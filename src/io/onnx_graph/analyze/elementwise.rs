//! Elementwise ops: one input and the same shape out (activations, normalisations), or several inputs
//! broadcast together (arithmetic, comparisons, `Where`). Constants are folded for the integer and float
//! arithmetic that shape subgraphs use.

use ndarray::{ArrayD, IxDyn, Zip};

use super::dims::broadcast;
use super::node::{numel, Node};
use super::tensor::{dtype, Data, Tensor};
use super::{Act, Out, Value};
use crate::Result;

/// The same dims and type as input 0; folded for the few unary ops shape subgraphs use.
pub(super) fn unary(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    if let Some(t) = n.tensor(0)?.filter(|_| n.all_const()) {
        if let Some(folded) = fold_unary(&n.proto().op_type, &t) {
            return Ok(vec![Out::Const(folded)]);
        }
    }
    Ok(vec![n.act(n.dims(0), n.batched(0))])
}

fn fold_unary(op: &str, t: &Tensor) -> Option<Tensor> {
    let data = match (&t.data, op) {
        (Data::I64(a), "Neg") => Data::I64(a.mapv(|v| v.wrapping_neg())),
        (Data::I64(a), "Abs") => Data::I64(a.mapv(|v| v.wrapping_abs())),
        (Data::I64(a), "Relu") => Data::I64(a.mapv(|v| v.max(0))),
        (Data::I64(a), "Sign") => Data::I64(a.mapv(i64::signum)),
        (Data::I64(a), "Not") => Data::I64(a.mapv(|v| (v == 0) as i64)),
        (Data::F32(a), "Neg") => Data::F32(a.mapv(|v| -v)),
        (Data::F32(a), "Abs") => Data::F32(a.mapv(f32::abs)),
        (Data::F32(a), "Relu") => Data::F32(a.mapv(|v| v.max(0.0))),
        (Data::F32(a), "Sqrt") => Data::F32(a.mapv(f32::sqrt)),
        (Data::F32(a), "Reciprocal") => Data::F32(a.mapv(f32::recip)),
        (Data::F32(a), "Floor") => Data::F32(a.mapv(f32::floor)),
        (Data::F32(a), "Ceil") => Data::F32(a.mapv(f32::ceil)),
        (Data::F32(a), "Exp") => Data::F32(a.mapv(f32::exp)),
        (Data::F32(a), "Log") => Data::F32(a.mapv(f32::ln)),
        (Data::I64(a), "Floor" | "Ceil" | "Round") => Data::I64(a.clone()),
        _ => return None,
    };
    Some(Tensor {
        dtype: t.dtype,
        data,
    })
}

/// `IsNaN`, `IsInf`: the same dims, BOOL.
pub(super) fn predicate(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    Ok(vec![Out::Act(Act {
        dims: n.dims(0),
        dtype: dtype::BOOL,
        batched: n.batched(0),
    })])
}

/// `LayerNormalization(x, scale, bias)`: `Y` like `x`; `Mean` and `InvStdDev` with the normalised axes
/// (from `axis` on) kept as size 1.
pub(super) fn layer_norm(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let dims = n.dims(0);
    let stats = match &dims {
        Some(d) => {
            let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(-1), d.len())?;
            Some(
                d.iter()
                    .enumerate()
                    .map(|(i, &x)| if i < axis { x } else { 1 })
                    .collect(),
            )
        }
        None => None,
    };
    let batched = n.batched(0);
    let float = |dims| {
        Out::Act(Act {
            dims,
            dtype: dtype::FLOAT,
            batched,
        })
    };
    Ok(vec![
        n.act(dims, batched),
        float(stats.clone()),
        float(stats),
    ])
}

/// `BatchNormalization`: `Y` like `X`; the training outputs (running mean and variance) per channel.
pub(super) fn batch_norm(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let c = n.dims(0).and_then(|d| d.get(1).copied());
    let stat = |_| {
        Out::Act(Act {
            dims: c.map(|c| vec![c]),
            dtype: n.dtype(0),
            batched: false,
        })
    };
    Ok(vec![n.act(n.dims(0), n.batched(0)), stat(0), stat(1)])
}

/// `QuantizeLinear`: the same dims in the zero point's type (UINT8 when absent).
pub(super) fn quantize(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let to = if n.input(2).is_some() { n.dtype(2) } else { 2 };
    Ok(vec![Out::Act(Act {
        dims: n.dims(0),
        dtype: to,
        batched: n.batched(0),
    })])
}

/// `DequantizeLinear`: the same dims in the scale's type.
pub(super) fn dequantize(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    Ok(vec![Out::Act(Act {
        dims: n.dims(0),
        dtype: n.dtype(1),
        batched: n.batched(0),
    })])
}

/// Arithmetic with broadcasting (`Add`, `Mul`, ..., and the variadic `Sum`, `Max`, `Min`, `Mean`).
pub(super) fn binary(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (dims, batched) = broadcast_inputs(n)?;
    if n.all_const() {
        if let Some(t) = fold_binary(n, dims.as_deref())? {
            return Ok(vec![Out::Const(t)]);
        }
    }
    Ok(vec![n.act(dims, batched)])
}

/// Comparisons and logic: broadcast, BOOL.
pub(super) fn compare(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (dims, batched) = broadcast_inputs(n)?;
    if n.all_const() {
        if let Some(t) = fold_binary(n, dims.as_deref())? {
            return Ok(vec![Out::Const(t)]);
        }
    }
    Ok(vec![Out::Act(Act {
        dims,
        dtype: dtype::BOOL,
        batched,
    })])
}

/// `Where(condition, x, y)`: broadcast, in `x`'s type.
pub(super) fn select(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (dims, batched) = broadcast_inputs(n)?;
    if let (true, Some(d)) = (n.all_const(), &dims) {
        let (c, x, y) = (n.tensor(0)?, n.tensor(1)?, n.tensor(2)?);
        if let (Some(c), Some(x), Some(y)) = (c, x, y) {
            n.reserve(numel(d).unwrap_or(usize::MAX))?;
            let c = c.to_i64();
            let c = c.broadcast(IxDyn(d)).expect("broadcast checked");
            let data = match (&x.data, &y.data) {
                (Data::I64(a), Data::I64(b)) => Data::I64(
                    Zip::from(&c)
                        .and(a.broadcast(IxDyn(d)).expect("checked"))
                        .and(b.broadcast(IxDyn(d)).expect("checked"))
                        .map_collect(|&c, &a, &b| if c != 0 { a } else { b }),
                ),
                _ => {
                    let (a, b) = (x.to_f32(), y.to_f32());
                    Data::F32(
                        Zip::from(&c)
                            .and(a.broadcast(IxDyn(d)).expect("checked"))
                            .and(b.broadcast(IxDyn(d)).expect("checked"))
                            .map_collect(|&c, &a, &b| if c != 0 { a } else { b }),
                    )
                }
            };
            return Ok(vec![Out::Const(Tensor {
                dtype: x.dtype,
                data,
            })]);
        }
    }
    Ok(vec![Out::Act(Act {
        dims,
        dtype: n.dtype(1),
        batched,
    })])
}

/// The broadcast dims of every present input (`None` when one is unknown), and whether the result keeps
/// the batch on its first axis: every runtime input is batched with the result's rank, and every input's
/// first axis there equals the result's (a constant that varies along the batch would mix samples).
fn broadcast_inputs(n: &Node<'_, '_>) -> Result<(Option<Vec<usize>>, bool)> {
    let present: Vec<usize> = (0..n.arity()).filter(|&i| n.input(i).is_some()).collect();
    let all: Option<Vec<Vec<usize>>> = present.iter().map(|&i| n.dims(i)).collect();
    let Some(all) = all else {
        return Ok((None, false));
    };
    let refs: Vec<&[usize]> = all.iter().map(Vec::as_slice).collect();
    let dims = broadcast(&refs)
        .ok_or_else(|| n.err(format!("its inputs {all:?} do not broadcast to one shape")))?;
    let batched = present.iter().any(|&i| n.batched(i))
        && present.iter().zip(&all).all(|(&i, d)| match n.input(i) {
            Some(Value::Act(_)) => {
                n.batched(i) && d.len() == dims.len() && d.first() == dims.first()
            }
            _ => d.len() < dims.len() || d.first() == Some(&1),
        });
    Ok((Some(dims), batched))
}

/// Folds a broadcasting op whose inputs are all constants; `None` for an op or type not folded here.
fn fold_binary(n: &Node<'_, '_>, dims: Option<&[usize]>) -> Result<Option<Tensor>> {
    let Some(dims) = dims else { return Ok(None) };
    n.reserve(numel(dims).unwrap_or(usize::MAX))?;
    let ts = (0..n.arity())
        .filter_map(|i| n.tensor(i).transpose())
        .collect::<Result<Vec<_>>>()?;
    let op = n.proto().op_type.as_str();
    let int = ts.iter().all(|t| matches!(t.data, Data::I64(_)));
    let shape = IxDyn(dims);
    let compare = matches!(
        op,
        "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor"
    );
    if int {
        let arrays: Vec<ArrayD<i64>> = ts.iter().map(|t| t.to_i64()).collect();
        let f: fn(i64, i64) -> Option<i64> = match op {
            "Add" | "Sum" => |a, b| a.checked_add(b),
            "Sub" => |a, b| a.checked_sub(b),
            "Mul" => |a, b| a.checked_mul(b),
            "Div" => |a, b| a.checked_div(b),
            "Mod" => |a, b| a.checked_rem_euclid(b),
            "Max" => |a, b| Some(a.max(b)),
            "Min" => |a, b| Some(a.min(b)),
            "Equal" => |a, b| Some((a == b) as i64),
            "Less" => |a, b| Some((a < b) as i64),
            "Greater" => |a, b| Some((a > b) as i64),
            "LessOrEqual" => |a, b| Some((a <= b) as i64),
            "GreaterOrEqual" => |a, b| Some((a >= b) as i64),
            "And" => |a, b| Some((a != 0 && b != 0) as i64),
            "Or" => |a, b| Some((a != 0 || b != 0) as i64),
            "Xor" => |a, b| Some(((a != 0) != (b != 0)) as i64),
            _ => return Ok(None),
        };
        let Some(out) = fold_arrays(&arrays, &shape, f) else {
            return Err(n.err("its integer arithmetic overflows or divides by zero"));
        };
        let dt = if compare { dtype::BOOL } else { ts[0].dtype };
        return Ok(Some(Tensor::ints_of(dt, out)));
    }
    let arrays: Vec<ArrayD<f32>> = ts.iter().map(|t| t.to_f32()).collect();
    let f: fn(f32, f32) -> Option<f32> = match op {
        "Add" | "Sum" => |a, b| Some(a + b),
        "Sub" => |a, b| Some(a - b),
        "Mul" => |a, b| Some(a * b),
        "Div" => |a, b| Some(a / b),
        "Pow" => |a, b| Some(a.powf(b)),
        "Max" => |a, b| Some(a.max(b)),
        "Min" => |a, b| Some(a.min(b)),
        "Equal" => |a, b| Some((a == b) as i64 as f32),
        "Less" => |a, b| Some((a < b) as i64 as f32),
        "Greater" => |a, b| Some((a > b) as i64 as f32),
        "LessOrEqual" => |a, b| Some((a <= b) as i64 as f32),
        "GreaterOrEqual" => |a, b| Some((a >= b) as i64 as f32),
        _ => return Ok(None),
    };
    let out = fold_arrays(&arrays, &shape, f).expect("float ops do not fail");
    Ok(Some(if compare {
        Tensor::ints_of(dtype::BOOL, out.mapv(|v| v as i64))
    } else {
        Tensor {
            dtype: ts[0].dtype,
            data: Data::F32(out),
        }
    }))
}

/// `f` folded over the arrays left to right, each broadcast to `shape`.
fn fold_arrays<A: Copy>(
    arrays: &[ArrayD<A>],
    shape: &IxDyn,
    f: fn(A, A) -> Option<A>,
) -> Option<ArrayD<A>> {
    let first = arrays.first()?.broadcast(shape.clone())?.to_owned();
    arrays[1..].iter().try_fold(first, |acc, b| {
        let b = b.broadcast(shape.clone())?;
        let mut failed = false;
        let out = Zip::from(&acc).and(b).map_collect(|&x, &y| {
            f(x, y).unwrap_or_else(|| {
                failed = true;
                x
            })
        });
        (!failed).then_some(out)
    })
}
