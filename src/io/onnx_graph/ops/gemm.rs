//! `Gemm` and `MatMul` by a constant matrix: a Linear.

use ndarray::{Array1, Ix2};

use super::attrs::{fmt, node_err};
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_float, attr_int, tensor_f32, NodeProto};
use crate::layer::{Layer, Linear};
use crate::{Result, Shape};

pub(super) fn gemm(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], _: Shape) -> Result<Mapped> {
    let (Some(b), true) = (
        ctx.input(node, 1),
        attr_int(node, "transA")?.unwrap_or(0) == 0,
    ) else {
        return Ok(None);
    };
    let alpha = attr_float(node, "alpha")?.unwrap_or(1.0);
    let beta = attr_float(node, "beta")?.unwrap_or(1.0);
    let b = tensor_f32(b)?
        .into_dimensionality::<Ix2>()
        .map_err(|x| fmt(node, x))?;
    let weight = if attr_int(node, "transB")?.unwrap_or(0) == 1 {
        b
    } else {
        b.t().to_owned()
    };
    let weight = weight.mapv(|v| v * alpha);
    let bias = match ctx.input(node, 2) {
        Some(c) => Some(
            tensor_f32(c)?
                .into_iter()
                .map(|v| v * beta)
                .collect::<Array1<f32>>(),
        ),
        None => None,
    };
    let fc = Linear::new(weight, bias).map_err(|e| node_err(node, e))?;
    Ok(Some(Op::Layer(Layer::Linear(fc))))
}

pub(super) fn matmul(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], _: Shape) -> Result<Mapped> {
    let Some(b) = ctx.input(node, 1) else {
        return Ok(None);
    };
    let Ok(b) = tensor_f32(b)?.into_dimensionality::<Ix2>() else {
        return Ok(None);
    };
    let fc = Linear::new(b.t().to_owned(), None).map_err(|e| node_err(node, e))?;
    Ok(Some(Op::Layer(Layer::Linear(fc))))
}
