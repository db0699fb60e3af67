//! `DepthToSpace` (DCR or CRD) and `SpaceToDepth`: permutations of `(C, H, W)`.

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_string};
use crate::layer::{DepthToSpace, DepthToSpaceMode, Layer, SpaceToDepth};
use crate::Result;

/// The block size attribute.
fn block(ctx: &Ctx<'_, '_, '_>) -> Result<usize> {
    let b = attr_int(ctx.node, "blocksize")?.unwrap_or(0);
    usize::try_from(b)
        .ok()
        .filter(|&b| b > 0)
        .ok_or_else(|| ctx.invalid(format!("blocksize is {b}; it must be at least 1")))
}

pub(super) fn depth_to_space(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let mode = match attr_string(ctx.node, "mode")?.unwrap_or("DCR") {
        "DCR" => DepthToSpaceMode::Dcr,
        "CRD" => DepthToSpaceMode::Crd,
        other => return Err(ctx.invalid(format!("mode {other:?} is not DCR or CRD"))),
    };
    let l = DepthToSpace::new(block(ctx)?, mode).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::DepthToSpace(l))])))
}

pub(super) fn space_to_depth(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let l = SpaceToDepth::new(block(ctx)?).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::SpaceToDepth(l))])))
}
