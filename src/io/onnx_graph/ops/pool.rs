//! `AveragePool` (1-d and 2-d; with dilations, a depthwise convolution) and `GlobalAveragePool` (a pool
//! over the whole image, then a reshape when the axes are dropped).

use ndarray::Array4;

use super::attrs::Window;
use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_ints};
use crate::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, Conv2d, Conv2dConfig, Identity, Layer,
    Reshape,
};
use crate::{Result, Shape};

pub(super) fn average_pool(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let node = ctx.node;
    let (Some(input), Some(k)) = (ctx.data(0), attr_ints(node, "kernel_shape")?) else {
        return Ok(None);
    };
    let Some(kernel) = k
        .iter()
        .map(|&v| usize::try_from(v).ok())
        .collect::<Option<Vec<usize>>>()
    else {
        return Err(ctx.invalid(format!("kernel_shape {k:?} has a negative entry")));
    };
    let spatial = &input.dims()[1..];
    if spatial.len() != kernel.len() {
        return Ok(None);
    }
    let win = Window::read(ctx, spatial, &kernel)?;
    if kernel.iter().all(|&k| k == 1)
        && win.strides.iter().all(|&s| s == 1)
        && win.pads.iter().all(|&p| p == 0)
    {
        // a 1x1 window that steps by 1 (an adaptive pool to the size it is given) copies its input
        return Ok(Some(ctx.chain(vec![Op::Layer(Layer::Identity(Identity))])));
    }
    let ceil = attr_int(node, "ceil_mode")?.unwrap_or(0) == 1;
    let count_pad = attr_int(node, "count_include_pad")?.unwrap_or(0) == 1;
    let layer = match (kernel.as_slice(), input) {
        (&[kh, kw], Shape::Chw { c, .. }) if win.dilations != [1, 1] => {
            // a dilated average is a depthwise convolution when no window divides by fewer taps
            if ceil || (!count_pad && win.pads.iter().any(|&p| p > 0)) {
                return Ok(None);
            }
            let w = Array4::from_elem((c, 1, kh, kw), 1.0 / (kh * kw) as f32);
            let cfg = Conv2dConfig {
                stride: [win.strides[0], win.strides[1]],
                dilation: [win.dilations[0], win.dilations[1]],
                padding: win.quad(),
                groups: c,
            };
            Layer::Conv2d(Conv2d::new(w, None, cfg).map_err(|e| ctx.err(e))?)
        }
        (&[kh, kw], Shape::Chw { .. }) => {
            let cfg = AvgPool2dConfig {
                stride: Some([win.strides[0], win.strides[1]]),
                padding: win.quad(),
                ceil_mode: ceil,
                count_include_pad: count_pad,
            };
            Layer::AvgPool2d(AvgPool2d::new([kh, kw], cfg).map_err(|e| ctx.err(e))?)
        }
        (&[kl], Shape::Cl { .. }) if win.dilations == [1] => {
            let cfg = AvgPool1dConfig {
                stride: Some(win.strides[0]),
                padding: [win.pads[0], win.pads[1]],
                ceil_mode: ceil,
                count_include_pad: count_pad,
            };
            Layer::AvgPool1d(AvgPool1d::new(kl, cfg).map_err(|e| ctx.err(e))?)
        }
        _ => return Ok(None),
    };
    Ok(Some(ctx.chain(vec![Op::Layer(layer)])))
}

/// `GlobalAveragePool`: the mean over every spatial axis, kept as size-1 axes.
pub(super) fn global_average_pool(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    whole_image_mean(ctx, true)
}

/// One average pool over the whole `(C, H, W)` or `(C, L)` sample; then a reshape to `(C,)` unless the
/// reduced axes are kept.
pub(super) fn whole_image_mean(ctx: &Ctx<'_, '_, '_>, keep: bool) -> Result<Option<Vec<Emit>>> {
    let (pool, c) = match ctx.data(0) {
        Some(Shape::Chw { c, h, w }) => {
            let cfg = AvgPool2dConfig {
                stride: Some([h, w]),
                padding: [0; 4],
                ceil_mode: false,
                count_include_pad: true,
            };
            let p = AvgPool2d::new([h, w], cfg).map_err(|e| ctx.err(e))?;
            (Layer::AvgPool2d(p), c)
        }
        Some(Shape::Cl { c, l }) => {
            let cfg = AvgPool1dConfig {
                stride: Some(l),
                padding: [0, 0],
                ceil_mode: false,
                count_include_pad: true,
            };
            let p = AvgPool1d::new(l, cfg).map_err(|e| ctx.err(e))?;
            (Layer::AvgPool1d(p), c)
        }
        _ => return Ok(None),
    };
    let mut ops = vec![Op::Layer(pool)];
    if !keep {
        let flat = Reshape::new(Shape::flat(c)).map_err(|e| ctx.err(e))?;
        ops.push(Op::Layer(Layer::Reshape(flat)));
    }
    Ok(Some(ctx.chain(ops)))
}
