//! `Pad` (constant, reflect, edge, wrap) on the spatial axes of `(C, H, W)` or `(C, L)`: pads as an
//! attribute (opset < 11) or an input, `axes` from opset 18; negative pads (crops) are a boundary.

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_float, attr_ints, attr_string};
use crate::layer::{Layer, Pad, PadMode};
use crate::{Result, Shape};

pub(super) fn pad(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(input) = ctx.data(0) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let rank = input.rank() + 1;
    let pads: Vec<i64> = match (attr_ints(ctx.node, "pads")?, ctx.ints(1)?) {
        (Some(p), _) => p.to_vec(),
        (None, Some(p)) => p,
        _ => return Ok(None),
    };
    // pads per axis of the full tensor, from the `axes` input when there is one
    let axes: Vec<usize> = match ctx.ints(3)? {
        Some(a) => a
            .iter()
            .map(|&x| if x < 0 { x + rank as i64 } else { x })
            .map(|x| usize::try_from(x).ok().filter(|&x| x < rank))
            .collect::<Option<_>>()
            .ok_or_else(|| ctx.invalid(format!("axes {a:?} are out of range")))?,
        None if ctx.arg(3).is_absent() => (0..rank).collect(),
        None => return Ok(None),
    };
    if pads.len() != 2 * axes.len() {
        return Ok(None);
    }
    let mut per = vec![(0i64, 0i64); rank];
    for (k, &a) in axes.iter().enumerate() {
        per[a] = (pads[k], pads[axes.len() + k]);
    }
    let value = match ctx.floats(2)? {
        Some(t) => t.iter().next().copied().unwrap_or(0.0),
        None => attr_float(ctx.node, "value")?.unwrap_or(0.0),
    };
    let mode = match attr_string(ctx.node, "mode")?.unwrap_or("constant") {
        "constant" => PadMode::Constant(value),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Replicate,
        "wrap" => PadMode::Circular,
        _ => return Ok(None),
    };
    if per.iter().any(|&(a, b)| a < 0 || b < 0) {
        return Ok(None);
    }
    let u = |v: i64| v as usize;
    let layer = match (per.as_slice(), input) {
        ([(0, 0), (0, 0), (t, b), (l, r)], Shape::Chw { .. }) => {
            Pad::new([u(*t), u(*l), u(*b), u(*r)], mode)
        }
        ([(0, 0), (0, 0), (l, r)], Shape::Cl { .. }) => Pad::new_1d([u(*l), u(*r)], mode),
        _ => return Ok(None),
    };
    let layer = layer.map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Pad(layer))])))
}
