//! `AveragePool` (1-d and 2-d), `GlobalAveragePool` and `ReduceMean` over the spatial axes (a pool over
//! the whole image, then a reshape when the axes are dropped), and the geometry of `MaxPool` (a boundary, kept for the reference).

use super::attrs::{auto_pad_ok, node_err, pair, quad};
use super::{Ctx, Mapped, MappedMany};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_int, attr_ints, tensor_i64, NodeProto};
use crate::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, Geometry2d, Layer, Reshape,
};
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

/// `GlobalAveragePool`: the mean over every spatial axis, kept as size-1 axes.
pub(super) fn global_average_pool(
    _: &Ctx<'_>,
    node: &NodeProto,
    _: &[Src],
    shape: Shape,
) -> Result<MappedMany> {
    whole_image_mean(node, shape, true)
}

/// `ReduceMean` over exactly the spatial axes (axes as an attribute before opset 18, as an input after),
/// `keepdims` 1 or 0; any other axes are a boundary.
pub(super) fn reduce_mean(
    ctx: &Ctx<'_>,
    node: &NodeProto,
    _: &[Src],
    shape: Shape,
) -> Result<MappedMany> {
    let axes: Vec<i64> = match (attr_ints(node, "axes")?, ctx.input(node, 1)) {
        (Some(a), _) => a.to_vec(),
        (None, Some(t)) => tensor_i64(t)?,
        _ => return Ok(None), // every axis, the batch's too
    };
    let rank = shape.dims().len() as i64 + 1;
    let mut axes: Vec<i64> = axes
        .iter()
        .map(|&a| if a < 0 { a + rank } else { a })
        .collect();
    axes.sort_unstable();
    axes.dedup();
    let spatial: Vec<i64> = (2..rank).collect();
    if rank < 3 || axes != spatial {
        return Ok(None);
    }
    let keep = attr_int(node, "keepdims")?.unwrap_or(1) != 0;
    whole_image_mean(node, shape, keep)
}

/// One average pool over the whole `(C, H, W)` or `(C, L)` sample; then a reshape to `(C,)` unless the
/// reduced axes are kept.
fn whole_image_mean(node: &NodeProto, shape: Shape, keep: bool) -> Result<MappedMany> {
    let e = |err: Error| node_err(node, err);
    let (pool, c) = match shape {
        Shape::Chw { c, h, w } => {
            let cfg = AvgPool2dConfig {
                stride: Some([h, w]),
                padding: [0; 4],
                ceil_mode: false,
                count_include_pad: true,
            };
            let p = AvgPool2d::new([h, w], cfg).map_err(e)?;
            (Layer::AvgPool2d(p), c)
        }
        Shape::Cl { c, l } => {
            let cfg = AvgPool1dConfig {
                stride: Some(l),
                padding: [0, 0],
                ceil_mode: false,
                count_include_pad: true,
            };
            let p = AvgPool1d::new(l, cfg).map_err(e)?;
            (Layer::AvgPool1d(p), c)
        }
        Shape::Flat(_) | Shape::Nd(_) => return Ok(None),
    };
    let mut ops = vec![Op::Layer(pool)];
    if !keep {
        let flat = Reshape::new(Shape::flat(c)).map_err(e)?;
        ops.push(Op::Layer(Layer::Reshape(flat)));
    }
    Ok(Some(ops))
}
