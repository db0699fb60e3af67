//! `Flatten`, `Reshape`, `Squeeze`/`Unsqueeze` (the output's per-sample shape, computed beforehand, is the
//! target) and `Transpose`: re-indexing that keeps the batch axis.

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::attr_ints;
use crate::layer::{Layer, Permute, Reshape};
use crate::{Result, Shape};

pub(super) fn reshape(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let target = Reshape::new(ctx.outputs[0]).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Reshape(target))])))
}

pub(super) fn transpose(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(input) = ctx.data(0) else {
        return Ok(None);
    };
    let rank = input.rank() + 1;
    let perm: Vec<i64> = match attr_ints(ctx.node, "perm")? {
        Some(p) => p.to_vec(),
        None => (0..rank as i64).rev().collect(),
    };
    // the batch stays first; the rest permutes the sample's axes
    let (Some(&0), true) = (perm.first(), matches!(input, Shape::Chw { .. })) else {
        return Ok(None);
    };
    let r = rank as i64;
    let dims: Vec<usize> = perm[1..]
        .iter()
        .map(|&a| (if a < 0 { a + r } else { a }).clamp(1, r - 1) as usize - 1)
        .collect();
    let Ok(dims) = <[usize; 3]>::try_from(dims) else {
        return Ok(None);
    };
    let p = Permute::new(dims).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Permute(p))])))
}
