//! `Add`, `Sub`, `Mul`, `Div`, `Neg` and `Sum`: sums of runtime values, and each runtime value scaled and
//! shifted by constants (`ScaleShift`: per-channel scale and shift, LayerScale, a BatchNorm written out by
//! hand); an input that broadcasts to a larger output is expanded first.

use ndarray::{ArrayD, Axis};

use super::{Arg, Ctx, Emit, From};
use crate::graph::Op;
use crate::layer::{Expand, Layer, ScaleShift};
use crate::{Result, Shape};

/// A constant as a per-sample broadcast tensor: a leading axis of 1 that stands for the batch is dropped;
/// `None` when it varies along the batch or has more axes than the output.
fn per_sample(c: ArrayD<f32>, out: Shape) -> Option<ArrayD<f32>> {
    let rank = out.rank();
    match c.ndim() {
        n if n <= rank => Some(c),
        n if n == rank + 1 && c.shape()[0] == 1 => Some(c.index_axis_move(Axis(0), 0)),
        _ => None,
    }
}

/// The emits that bring input `i` (a runtime value) to the output's shape: nothing when it already has
/// it, else an `Expand`.
fn expanded(ctx: &Ctx<'_, '_, '_>, i: usize, emits: &mut Vec<Emit>) -> Result<From> {
    let out = ctx.outputs[0];
    if ctx.data(i) == Some(out) {
        return Ok(From::Arg(i));
    }
    let e = Expand::new(out).map_err(|e| ctx.err(e))?;
    emits.push(Emit {
        op: Op::Layer(Layer::Expand(e)),
        inputs: vec![From::Arg(i)],
        writes: None,
    });
    Ok(From::Emit(emits.len() - 1))
}

/// Appends `y = x * scale + shift` reading `from`.
fn scale_shift(
    ctx: &Ctx<'_, '_, '_>,
    from: From,
    scale: Option<ArrayD<f32>>,
    shift: Option<ArrayD<f32>>,
    emits: &mut Vec<Emit>,
) -> Result<From> {
    let s = ScaleShift::new(scale, shift).map_err(|e| ctx.err(e))?;
    emits.push(Emit {
        op: Op::Layer(Layer::ScaleShift(s)),
        inputs: vec![from],
        writes: None,
    });
    Ok(From::Emit(emits.len() - 1))
}

/// The last emit writes output 0 (an identity-free mapping always ends in an emit).
fn finish(mut emits: Vec<Emit>) -> Option<Vec<Emit>> {
    emits.last_mut()?.writes = Some(0);
    Some(emits)
}

/// A node's constant inputs: (input index, per-sample tensor).
type Constants = Vec<(usize, ArrayD<f32>)>;

/// Every constant input as a per-sample tensor; `None` when one is not usable (batch-dependent, or
/// varying along the batch).
fn constants(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Constants>> {
    let mut out = Vec::new();
    for (i, a) in ctx.args.iter().enumerate() {
        if let Arg::Const(_) = a {
            let Some(c) = ctx.floats(i)?.and_then(|c| per_sample(c, ctx.outputs[0])) else {
                return Ok(None);
            };
            out.push((i, c));
        }
    }
    Ok(Some(out))
}

/// `Add` and `Sum`: runtime values summed, constants added as a shift.
pub(super) fn add(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(consts) = constants(ctx)? else {
        return Ok(None);
    };
    let data = ctx.data_args();
    let mut emits = Vec::new();
    let mut terms = Vec::new();
    for &i in &data {
        terms.push(expanded(ctx, i, &mut emits)?);
    }
    let mut cur = match terms.as_slice() {
        [one] => *one,
        many => {
            emits.push(Emit {
                op: Op::Add,
                inputs: many.to_vec(),
                writes: None,
            });
            From::Emit(emits.len() - 1)
        }
    };
    if let Some(shift) = sum(consts.into_iter().map(|(_, c)| c)) {
        cur = scale_shift(ctx, cur, None, Some(shift), &mut emits)?;
    }
    if cur == From::Arg(data[0]) {
        return Ok(None); // nothing to do: the identity is not worth a node here
    }
    Ok(finish(emits))
}

/// The broadcast sum of constants.
fn sum(cs: impl Iterator<Item = ArrayD<f32>>) -> Option<ArrayD<f32>> {
    cs.reduce(|a, b| {
        if b.ndim() > a.ndim() || b.len() > a.len() {
            &b + &a
        } else {
            &a + &b
        }
    })
}

/// `Sub(a, b)`: `a + (-1) b` for runtime values, a shift by a constant, or `c - x`.
pub(super) fn sub(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(consts) = constants(ctx)? else {
        return Ok(None);
    };
    let mut emits = Vec::new();
    let out = match (ctx.arg(0), ctx.arg(1)) {
        (Arg::Data { .. }, Arg::Data { .. }) => {
            let a = expanded(ctx, 0, &mut emits)?;
            let b = expanded(ctx, 1, &mut emits)?;
            let neg = scale_shift(
                ctx,
                b,
                Some(ArrayD::from_elem(vec![], -1.0)),
                None,
                &mut emits,
            )?;
            emits.push(Emit {
                op: Op::Add,
                inputs: vec![a, neg],
                writes: None,
            });
            From::Emit(emits.len() - 1)
        }
        (Arg::Data { .. }, Arg::Const(_)) => {
            let a = expanded(ctx, 0, &mut emits)?;
            let c = consts[0].1.mapv(|v| -v);
            scale_shift(ctx, a, None, Some(c), &mut emits)?
        }
        (Arg::Const(_), Arg::Data { .. }) => {
            let b = expanded(ctx, 1, &mut emits)?;
            let minus = ArrayD::from_elem(vec![], -1.0);
            scale_shift(ctx, b, Some(minus), Some(consts[0].1.clone()), &mut emits)?
        }
        _ => return Ok(None),
    };
    let _ = out;
    Ok(finish(emits))
}

/// `Mul` by a constant (a product of two runtime values is not linear), `Div` by a constant.
pub(super) fn mul(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(consts) = constants(ctx)? else {
        return Ok(None);
    };
    let div = ctx.node.op_type == "Div";
    let (x, c) = match (ctx.data_args().as_slice(), consts.as_slice()) {
        ([x], [(j, c)]) if !(div && *j == 0) => (*x, c.clone()),
        _ => return Ok(None),
    };
    let scale = if div { c.mapv(|v| 1.0 / v) } else { c };
    if scale.iter().any(|v| !v.is_finite()) {
        return Ok(None); // dividing by zero is not a linear map onnxruntime would compute the same way
    }
    let mut emits = Vec::new();
    let from = expanded(ctx, x, &mut emits)?;
    scale_shift(ctx, from, Some(scale), None, &mut emits)?;
    Ok(finish(emits))
}

/// `Neg`: a scale of -1.
pub(super) fn neg(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let mut emits = Vec::new();
    scale_shift(
        ctx,
        From::Arg(0),
        Some(ArrayD::from_elem(vec![], -1.0)),
        None,
        &mut emits,
    )?;
    Ok(finish(emits))
}
