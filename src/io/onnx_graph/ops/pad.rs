//! `Pad` (constant, reflect, edge, wrap) on the spatial axes: pads as an attribute (opset < 11) or input.

use super::attrs::node_err;
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_float, attr_ints, attr_string, tensor_f32, tensor_i64, NodeProto};
use crate::layer::{Layer, Pad, PadMode};
use crate::{Error, Result, Shape};

pub(super) fn pad(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], shape: Shape) -> Result<Mapped> {
    let pads: Vec<i64> = match (ctx.input(node, 1), attr_ints(node, "pads")?) {
        (Some(t), _) => tensor_i64(t)?,
        (None, Some(p)) => p.to_vec(),
        _ => return Ok(None),
    };
    let value = match ctx.input(node, 2) {
        Some(t) => tensor_f32(t)?.iter().next().copied().unwrap_or(0.0),
        None => attr_float(node, "value")?.unwrap_or(0.0),
    };
    let mode = match attr_string(node, "mode")?.unwrap_or("constant") {
        "constant" => PadMode::Constant(value),
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Replicate,
        "wrap" => PadMode::Circular,
        _ => return Ok(None),
    };
    if pads.iter().any(|&p| p < 0) {
        return Ok(None);
    }
    let e = |err: Error| node_err(node, err);
    Ok(match (pads.as_slice(), shape) {
        ([0, 0, t, l, 0, 0, b, r], Shape::Chw { .. }) => Some(Op::Layer(Layer::Pad(
            Pad::new([*t as usize, *l as usize, *b as usize, *r as usize], mode).map_err(e)?,
        ))),
        ([0, 0, l, 0, 0, r], Shape::Cl { .. }) => Some(Op::Layer(Layer::Pad(
            Pad::new_1d([*l as usize, *r as usize], mode).map_err(e)?,
        ))),
        _ => None,
    })
}
