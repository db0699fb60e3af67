//! `Conv` (1-d and 2-d) and `ConvTranspose` (2-d) with constant weights; `auto_pad` becomes explicit pads.

use ndarray::{Array1, Ix3, Ix4};

use super::attrs::Window;
use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_ints, attr_string};
use crate::layer::{
    Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Layer,
};
use crate::{Result, Shape};

/// The bias input `i` as a vector, when present.
fn bias(ctx: &Ctx<'_, '_, '_>, i: usize) -> Result<Option<Array1<f32>>> {
    Ok(ctx.floats(i)?.map(|b| b.into_iter().collect()))
}

pub(super) fn conv(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(weight), Some(input)) = (ctx.floats(1)?, ctx.data(0)) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let bias = bias(ctx, 2)?;
    let groups = usize::try_from(attr_int(ctx.node, "group")?.unwrap_or(1))
        .map_err(|_| ctx.invalid("group is negative"))?;
    let kernel: Vec<usize> = weight.shape()[2..].to_vec();
    let spatial = &input.dims()[1..];
    if spatial.len() != kernel.len() {
        return Ok(None);
    }
    let win = Window::read(ctx, spatial, &kernel)?;
    let layer = match input {
        Shape::Chw { .. } => {
            let cfg = Conv2dConfig {
                stride: [win.strides[0], win.strides[1]],
                dilation: [win.dilations[0], win.dilations[1]],
                padding: win.quad(),
                groups,
            };
            let w4 = weight
                .into_dimensionality::<Ix4>()
                .map_err(|e| ctx.invalid(e.to_string()))?;
            Layer::Conv2d(Conv2d::new(w4, bias, cfg).map_err(|e| ctx.err(e))?)
        }
        Shape::Cl { .. } => {
            let cfg = Conv1dConfig {
                stride: win.strides[0],
                dilation: win.dilations[0],
                padding: [win.pads[0], win.pads[1]],
                groups,
            };
            let w3 = weight
                .into_dimensionality::<Ix3>()
                .map_err(|e| ctx.invalid(e.to_string()))?;
            Layer::Conv1d(Conv1d::new(w3, bias, cfg).map_err(|e| ctx.err(e))?)
        }
        _ => return Ok(None),
    };
    Ok(Some(ctx.chain(vec![Op::Layer(layer)])))
}

pub(super) fn conv_transpose(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let (Some(weight), Some(Shape::Chw { .. })) = (ctx.floats(1)?, ctx.data(0)) else {
        return Ok(None);
    };
    let node = ctx.node;
    let auto = attr_string(node, "auto_pad")?.unwrap_or("NOTSET");
    if attr_ints(node, "output_shape")?.is_some() || !matches!(auto, "NOTSET" | "VALID") {
        return Ok(None);
    }
    let Ok(weight) = weight.into_dimensionality::<Ix4>() else {
        return Ok(None);
    };
    let two = |name: &str, default: usize| -> Result<[usize; 2]> {
        match attr_ints(node, name)? {
            None => Ok([default; 2]),
            Some(&[a, b]) => match (usize::try_from(a), usize::try_from(b)) {
                (Ok(a), Ok(b)) => Ok([a, b]),
                _ => Err(ctx.invalid(format!("{name} [{a}, {b}] has a negative entry"))),
            },
            Some(v) => Err(ctx.invalid(format!("{name} has {} values; 2 are needed", v.len()))),
        }
    };
    let padding = match (auto, attr_ints(node, "pads")?) {
        ("NOTSET", Some(&[a, b, c, d])) => {
            let p = [a, b, c, d].map(usize::try_from);
            match p {
                [Ok(a), Ok(b), Ok(c), Ok(d)] => [a, b, c, d],
                _ => {
                    return Err(ctx.invalid(format!("pads {:?} has a negative entry", [a, b, c, d])))
                }
            }
        }
        ("NOTSET", Some(p)) => {
            return Err(ctx.invalid(format!("pads has {} values; 4 are needed", p.len())))
        }
        _ => [0; 4],
    };
    let cfg = ConvTranspose2dConfig {
        stride: two("strides", 1)?,
        padding,
        output_padding: two("output_padding", 0)?,
        dilation: two("dilations", 1)?,
        groups: usize::try_from(attr_int(node, "group")?.unwrap_or(1))
            .map_err(|_| ctx.invalid("group is negative"))?,
    };
    let layer = ConvTranspose2d::new(weight, bias(ctx, 2)?, cfg).map_err(|e| ctx.err(e))?;
    Ok(Some(
        ctx.chain(vec![Op::Layer(Layer::ConvTranspose2d(layer))]),
    ))
}
