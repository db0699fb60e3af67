//! `Flatten`, `Reshape`, `Squeeze`/`Unsqueeze` (the output's per-sample shape, computed beforehand, is the
//! target) and `Transpose`: re-indexing that keeps the batch axis.

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::attr_ints;
use crate::layer::{Identity, Layer, Permute, Reshape};
use crate::Result;

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
    let rank = input.rank() as i64 + 1;
    let perm: Vec<i64> = match attr_ints(ctx.node, "perm")? {
        Some(p) => p
            .iter()
            .map(|&a| if a < 0 { a + rank } else { a })
            .collect(),
        None => (0..rank).rev().collect(),
    };
    // the batch stays first; the rest permutes the sample's axes
    if perm.first() != Some(&0) || perm[1..].iter().any(|&a| !(1..rank).contains(&a)) {
        return Ok(None);
    }
    let dims: Vec<usize> = perm[1..].iter().map(|&a| a as usize - 1).collect();
    let p = Permute::new(&dims).map_err(|e| ctx.err(e))?;
    if p.is_identity() {
        return Ok(Some(ctx.chain(vec![Op::Layer(Layer::Identity(Identity))])));
    }
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Permute(p))])))
}
