//! `Identity`, `Dropout` (inference: the identity), and `Concat` along a sample axis.

use super::{Ctx, Emit, From};
use crate::graph::Op;
use crate::io::onnx::attr_int;
use crate::layer::{Identity, Layer};
use crate::Result;

pub(super) fn identity(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Identity(Identity))])))
}

/// A concatenation of runtime values along a sample axis.
pub(super) fn concat(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let data = ctx.data_args();
    let rank = ctx.outputs[0].rank() + 1;
    let axis = attr_int(ctx.node, "axis")?.and_then(|a| ctx.sample_axis(a, rank));
    let (Some(axis), true) = (axis, data.len() == ctx.args.len() && data.len() >= 2) else {
        return Ok(None);
    };
    Ok(Some(vec![Emit {
        op: Op::Concat { axis },
        inputs: data.into_iter().map(From::Arg).collect(),
        writes: Some(0),
    }]))
}
