//! Selections along one axis: `Split` (one slice per output), `Slice` (one per sliced axis), `Gather`
//! with constant indices (a slice when they step evenly; one index drops the axis), and `Expand` of a
//! runtime value.

use super::{Ctx, Emit, From};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_ints};
use crate::io::onnx_graph::analyze::cuts;
use crate::layer::{Expand, Layer, Reshape, Slice};
use crate::Result;

/// The per-sample axis of attribute `axis` (default `default`), `None` for the batch axis.
fn axis(ctx: &Ctx<'_, '_, '_>, default: i64) -> Result<Option<usize>> {
    let rank = ctx.data(0).map_or(0, |s| s.rank()) + 1;
    Ok(ctx.sample_axis(attr_int(ctx.node, "axis")?.unwrap_or(default), rank))
}

/// `Split`: output `k` is the slice of its length along the axis.
pub(super) fn split(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(axis), [0]) = (axis(ctx, 0)?, ctx.data_args().as_slice()) else {
        return Ok(None);
    };
    let mut start = 0;
    let mut emits = Vec::new();
    for (k, out) in ctx.outputs.iter().enumerate() {
        let len = out.dims()[axis];
        let s = Slice::new(axis, start, 1, len).map_err(|e| ctx.err(e))?;
        start += len;
        emits.push(Emit {
            op: Op::Layer(Layer::Slice(s)),
            inputs: vec![From::Arg(0)],
            writes: Some(k),
        });
    }
    Ok(Some(emits))
}

/// `Slice`: one slice per sliced axis (starts, ends and steps clamped as ONNX does).
pub(super) fn slice(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(x), [0]) = (ctx.data(0), ctx.data_args().as_slice()) else {
        return Ok(None);
    };
    let list = |name: &str, i: usize| -> Result<Option<Vec<i64>>> {
        Ok(match attr_ints(ctx.node, name)? {
            Some(v) => Some(v.to_vec()),
            None => ctx.ints(i)?,
        })
    };
    let (Some(starts), Some(ends)) = (list("starts", 1)?, list("ends", 2)?) else {
        return Ok(None);
    };
    let (axes, steps) = (list("axes", 3)?, ctx.ints(4)?);
    if (axes.is_none() && !ctx.arg(3).is_absent()) || (steps.is_none() && !ctx.arg(4).is_absent()) {
        return Ok(None);
    }
    let input = x.dims();
    let full: Vec<usize> = std::iter::once(1).chain(input.iter().copied()).collect();
    let cuts = cuts(&full, &starts, &ends, axes.as_deref(), steps.as_deref())
        .map_err(|e| ctx.invalid(e))?;
    if cuts.iter().any(|c| c.axis == 0 || c.len == 0) {
        return Ok(None);
    }
    let ops = cuts
        .iter()
        // an axis taken whole, in order, is no slice at all
        .filter(|c| !(c.start == 0 && c.step == 1 && c.len == input[c.axis - 1]))
        .map(|c| {
            Slice::new(c.axis - 1, c.start, c.step, c.len)
                .map(|s| Op::Layer(Layer::Slice(s)))
                .map_err(|e| ctx.err(e))
        })
        .collect::<Result<Vec<_>>>()?;
    if ops.is_empty() {
        return Ok(None);
    }
    Ok(Some(ctx.chain(ops)))
}

/// `Gather(x, indices)` with constant indices that step evenly along a sample axis: a slice, and a
/// reshape when a single index drops the axis.
pub(super) fn gather(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(axis), Some(input), Some(idx)) = (axis(ctx, 0)?, ctx.data(0), ctx.ints(1)?) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] || idx.is_empty() {
        return Ok(None);
    }
    let len = input.dims()[axis] as i64;
    let idx: Vec<i64> = idx
        .iter()
        .map(|&i| if i < 0 { i + len } else { i })
        .collect();
    let step = if idx.len() > 1 { idx[1] - idx[0] } else { 1 };
    let even = step != 0 && idx.windows(2).all(|w| w[1] - w[0] == step);
    if !even || idx.iter().any(|&i| !(0..len).contains(&i)) {
        return Ok(None);
    }
    let s = Slice::new(axis, idx[0] as usize, step as isize, idx.len()).map_err(|e| ctx.err(e))?;
    let mut ops = vec![Op::Layer(Layer::Slice(s))];
    if ctx.konst(1).is_some_and(|c| c.dims().is_empty()) {
        // a single index drops the axis
        let reshape = Reshape::new(ctx.outputs[0]).map_err(|e| ctx.err(e))?;
        ops.push(Op::Layer(Layer::Reshape(reshape)));
    }
    Ok(Some(ctx.chain(ops)))
}

/// `Expand(x, shape)` of a runtime value.
pub(super) fn expand(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] || ctx.data(0) == Some(ctx.outputs[0]) {
        return Ok(None);
    }
    let e = Expand::new(ctx.outputs[0]).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Expand(e))])))
}
