//! `Conv` (1-d and 2-d) and `ConvTranspose` (2-d) with constant weights.

use ndarray::{Array1, Ix3, Ix4};

use super::attrs::{auto_pad_ok, fmt, node_err, pair, quad};
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_int, attr_ints, tensor_f32, NodeProto};
use crate::layer::{
    Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Layer,
};
use crate::{Error, Result, Shape};

pub(super) fn conv(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], shape: Shape) -> Result<Mapped> {
    let Some(wt) = ctx.input(node, 1) else {
        return Ok(None);
    };
    if !auto_pad_ok(node)? {
        return Ok(None);
    }
    let weight = tensor_f32(wt)?;
    let bias = ctx
        .input(node, 2)
        .map(tensor_f32)
        .transpose()?
        .map(|b| b.into_iter().collect::<Array1<f32>>());
    let groups = attr_int(node, "group")?.unwrap_or(1) as usize;
    let e = |err: Error| node_err(node, err);
    Ok(match (weight.ndim(), shape) {
        (4, Shape::Chw { .. }) => {
            let cfg = Conv2dConfig {
                stride: pair(attr_ints(node, "strides")?, 1),
                dilation: pair(attr_ints(node, "dilations")?, 1),
                padding: quad(attr_ints(node, "pads")?),
                groups,
            };
            let w4 = weight
                .into_dimensionality::<Ix4>()
                .map_err(|x| fmt(node, x))?;
            Some(Op::Layer(Layer::Conv2d(
                Conv2d::new(w4, bias, cfg).map_err(e)?,
            )))
        }
        (3, Shape::Cl { .. }) => {
            let p = attr_ints(node, "pads")?.unwrap_or(&[0, 0]);
            let cfg = Conv1dConfig {
                stride: attr_ints(node, "strides")?
                    .and_then(|s| s.first().copied())
                    .unwrap_or(1) as usize,
                dilation: attr_ints(node, "dilations")?
                    .and_then(|s| s.first().copied())
                    .unwrap_or(1) as usize,
                padding: [
                    p.first().copied().unwrap_or(0) as usize,
                    p.get(1).copied().unwrap_or(0) as usize,
                ],
                groups,
            };
            let w3 = weight
                .into_dimensionality::<Ix3>()
                .map_err(|x| fmt(node, x))?;
            Some(Op::Layer(Layer::Conv1d(
                Conv1d::new(w3, bias, cfg).map_err(e)?,
            )))
        }
        _ => None,
    })
}

pub(super) fn conv_transpose(
    ctx: &Ctx<'_>,
    node: &NodeProto,
    _: &[Src],
    _: Shape,
) -> Result<Mapped> {
    let Some(wt) = ctx.input(node, 1) else {
        return Ok(None);
    };
    if attr_ints(node, "output_shape")?.is_some() || !auto_pad_ok(node)? {
        return Ok(None);
    }
    let Ok(weight) = tensor_f32(wt)?.into_dimensionality::<Ix4>() else {
        return Ok(None);
    };
    let bias = ctx
        .input(node, 2)
        .map(tensor_f32)
        .transpose()?
        .map(|b| b.into_iter().collect::<Array1<f32>>());
    let cfg = ConvTranspose2dConfig {
        stride: pair(attr_ints(node, "strides")?, 1),
        padding: quad(attr_ints(node, "pads")?),
        output_padding: pair(attr_ints(node, "output_padding")?, 0),
        dilation: pair(attr_ints(node, "dilations")?, 1),
        groups: attr_int(node, "group")?.unwrap_or(1) as usize,
    };
    let layer = ConvTranspose2d::new(weight, bias, cfg).map_err(|e| node_err(node, e))?;
    Ok(Some(Op::Layer(Layer::ConvTranspose2d(layer))))
}
