//! `Gemm` and `MatMul` by a constant matrix: a Linear over the last axis.

use ndarray::{Array1, Ix2};

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_float, attr_int};
use crate::layer::{Layer, Linear};
use crate::Result;

pub(super) fn gemm(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let node = ctx.node;
    let (Some(b), Some(_), 0) = (ctx.floats(1)?, ctx.data(0), attr_int(node, "transA")?.unwrap_or(0)) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let alpha = attr_float(node, "alpha")?.unwrap_or(1.0);
    let beta = attr_float(node, "beta")?.unwrap_or(1.0);
    let b = b
        .into_dimensionality::<Ix2>()
        .map_err(|e| ctx.invalid(e.to_string()))?;
    let weight = if attr_int(node, "transB")?.unwrap_or(0) != 0 {
        b
    } else {
        b.t().to_owned()
    };
    let weight = weight.mapv(|v| v * alpha);
    let out = weight.nrows();
    let bias = match ctx.floats(2)? {
        // C broadcasts over (M, N): a bias is constant along M
        Some(c) if c.len() == out || c.len() == 1 => Some(
            c.broadcast(out)
                .map(|v| v.iter().map(|x| x * beta).collect::<Array1<f32>>())
                .ok_or_else(|| ctx.invalid(format!("C {:?} does not broadcast to ({out},)", c.shape())))?,
        ),
        Some(_) => return Ok(None), // a C that varies along M is not a bias
        None if ctx.arg(2).is_absent() => None,
        None => return Ok(None),
    };
    let fc = Linear::new(weight, bias).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Linear(fc))])))
}

pub(super) fn matmul(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(b), Some(x)) = (ctx.floats(1)?, ctx.data(0)) else {
        return Ok(None);
    };
    if x.rank() != 1 {
        return Ok(None);
    }
    let Ok(b) = b.into_dimensionality::<Ix2>() else {
        return Ok(None);
    };
    let fc = Linear::new(b.t().to_owned(), None).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Linear(fc))])))
}
