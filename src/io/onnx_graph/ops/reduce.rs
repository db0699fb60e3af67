//! `ReduceMean` and `ReduceSum` over any sample axes (axes as an attribute or, from opset 13 for
//! `ReduceSum` and 18 for `ReduceMean`, an input); over exactly the spatial axes of an image a mean is a
//! whole-image average pool, which folds into a convolution.

use super::{pool, Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_ints};
use crate::layer::{Layer, Reduce, ReduceOp};
use crate::Result;

pub(super) fn reduce(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(input), [0]) = (ctx.data(0), ctx.data_args().as_slice()) else {
        return Ok(None);
    };
    let node = ctx.node;
    let axes: Vec<i64> = match (attr_ints(node, "axes")?, ctx.ints(1)?) {
        (Some(a), _) => a.to_vec(),
        (None, Some(t)) => t,
        (None, None) if ctx.arg(1).is_absent() => vec![],
        _ => return Ok(None),
    };
    if axes.is_empty() {
        // no axes: every axis (the batch's too), or none with noop_with_empty_axes
        return Ok(None);
    }
    let rank = input.rank() + 1;
    let mut per: Vec<usize> = Vec::with_capacity(axes.len());
    for &a in &axes {
        match ctx.sample_axis(a, rank) {
            Some(x) => per.push(x),
            None => return Ok(None), // the batch axis
        }
    }
    let keep = attr_int(node, "keepdims")?.unwrap_or(1) != 0;
    let mean = node.op_type == "ReduceMean";
    let spatial: Vec<usize> = (1..rank - 1).collect();
    let mut sorted = per.clone();
    sorted.sort_unstable();
    if mean && (3..=4).contains(&rank) && sorted == spatial {
        return pool::whole_image_mean(ctx, keep);
    }
    let op = if mean { ReduceOp::Mean } else { ReduceOp::Sum };
    let r = Reduce::new(op, per, keep).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Reduce(r))])))
}
