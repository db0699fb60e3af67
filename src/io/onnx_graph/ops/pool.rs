//! `AveragePool` (1-d and 2-d), and the geometry of `MaxPool` (a boundary, kept for the reference).

use super::attrs::{auto_pad_ok, node_err, pair, quad};
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_int, attr_ints, NodeProto};
use crate::layer::{AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, Geometry2d, Layer};
use crate::{Error, Result, Shape};

pub(super) fn average_pool(
    _: &Ctx<'_>,
    node: &NodeProto,
    _: &[Src],
    shape: Shape,
) -> Result<Mapped> {
    if !auto_pad_ok(node)? {
        return Ok(None);
    }
    let Some(k) = attr_ints(node, "kernel_shape")? else {
        return Ok(None);
    };
    let ceil = attr_int(node, "ceil_mode")?.unwrap_or(0) == 1;
    let count_pad = attr_int(node, "count_include_pad")?.unwrap_or(0) == 1;
    let e = |err: Error| node_err(node, err);
    Ok(match (k, shape) {
        ([kh, kw], Shape::Chw { .. }) => {
            let cfg = AvgPool2dConfig {
                stride: Some(pair(attr_ints(node, "strides")?, 1)),
                padding: quad(attr_ints(node, "pads")?),
                ceil_mode: ceil,
                count_include_pad: count_pad,
            };
            Some(Op::Layer(Layer::AvgPool2d(
                AvgPool2d::new([*kh as usize, *kw as usize], cfg).map_err(e)?,
            )))
        }
        ([kl], Shape::Cl { .. }) => {
            let p = attr_ints(node, "pads")?.unwrap_or(&[0, 0]);
            let cfg = AvgPool1dConfig {
                stride: Some(
                    attr_ints(node, "strides")?
                        .and_then(|s| s.first().copied())
                        .unwrap_or(1) as usize,
                ),
                padding: [
                    p.first().copied().unwrap_or(0) as usize,
                    p.get(1).copied().unwrap_or(0) as usize,
                ],
                ceil_mode: ceil,
                count_include_pad: count_pad,
            };
            Some(Op::Layer(Layer::AvgPool1d(
                AvgPool1d::new(*kl as usize, cfg).map_err(e)?,
            )))
        }
        _ => None,
    })
}

/// The geometry of a 2-d `MaxPool`, `None` when it has none this crate can express.
pub(in crate::io::onnx_graph) fn pool_geometry(node: &NodeProto) -> Result<Option<Geometry2d>> {
    let Some([kh, kw]) = attr_ints(node, "kernel_shape")? else {
        return Ok(None);
    };
    if attr_int(node, "ceil_mode")?.unwrap_or(0) != 0 || !auto_pad_ok(node)? {
        return Ok(None);
    }
    Ok(Some(Geometry2d {
        kernel: [*kh as usize, *kw as usize],
        stride: pair(attr_ints(node, "strides")?, 1),
        dilation: pair(attr_ints(node, "dilations")?, 1),
        padding: quad(attr_ints(node, "pads")?),
    }))
}
