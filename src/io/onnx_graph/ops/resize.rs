//! `Resize` (opset 10 on) and `Upsample` (opset 9): nearest or n-linear, with the coordinate transform and
//! rounding the node asks for; cubic, `tf_crop_and_resize` and antialiased downsampling are boundaries.

use super::{Ctx, Emit};
use crate::graph::Op;
use crate::io::onnx::{attr_int, attr_string};
use crate::layer::{CoordinateMode, Layer, NearestMode, Resize, ResizeMode, ResizeTarget};
use crate::Result;

pub(super) fn resize(ctx: &Ctx<'_, '_, '_>) -> Result<Option<Vec<Emit>>> {
    let Some(input) = ctx.data(0) else {
        return Ok(None);
    };
    if ctx.data_args() != [0] {
        return Ok(None);
    }
    let node = ctx.node;
    let upsample = node.op_type == "Upsample";
    // before opset 11 (and for Upsample) the transform is `asymmetric`, nearest rounds down
    let old = upsample || ctx.opset < 11;
    let scales_at = if old { 1 } else { 2 };
    let mode = match attr_string(node, "mode")?.unwrap_or("nearest") {
        "nearest" if old => ResizeMode::Nearest(NearestMode::Floor),
        "nearest" => ResizeMode::Nearest(
            match attr_string(node, "nearest_mode")?.unwrap_or("round_prefer_floor") {
                "round_prefer_floor" => NearestMode::RoundPreferFloor,
                "round_prefer_ceil" => NearestMode::RoundPreferCeil,
                "floor" => NearestMode::Floor,
                "ceil" => NearestMode::Ceil,
                _ => return Ok(None),
            },
        ),
        "linear" | "bilinear" => ResizeMode::Linear,
        _ => return Ok(None),
    };
    let coordinate = if old {
        CoordinateMode::Asymmetric
    } else {
        match attr_string(node, "coordinate_transformation_mode")?.unwrap_or("half_pixel") {
            "half_pixel" => CoordinateMode::HalfPixel,
            "pytorch_half_pixel" => CoordinateMode::PytorchHalfPixel,
            "align_corners" => CoordinateMode::AlignCorners,
            "asymmetric" => CoordinateMode::Asymmetric,
            "half_pixel_symmetric" => CoordinateMode::HalfPixelSymmetric,
            _ => return Ok(None),
        }
    };
    let policy = attr_string(node, "keep_aspect_ratio_policy")?.unwrap_or("stretch");
    if policy != "stretch" {
        return Ok(None);
    }
    let rank = input.rank() + 1;
    let axes: Vec<usize> = match crate::io::onnx::attr_ints(node, "axes")? {
        Some(a) => a
            .iter()
            .map(|&x| usize::try_from(if x < 0 { x + rank as i64 } else { x }).ok())
            .collect::<Option<_>>()
            .ok_or_else(|| ctx.invalid(format!("axes {a:?} are out of range")))?,
        None => (0..rank).collect(),
    };
    let scales: Option<Vec<f32>> = match node.attribute.iter().find(|a| a.name == "scales") {
        Some(a) => Some(a.floats.clone()),
        None => ctx
            .floats(scales_at)?
            .filter(|t| !t.is_empty())
            .map(|t| t.iter().copied().collect()),
    };
    let sizes = if upsample {
        None
    } else {
        ctx.ints(3)?.filter(|s| !s.is_empty())
    };
    let full = |given: Vec<f64>, default: f64| -> Option<Vec<f64>> {
        let mut v = vec![default; rank];
        for (k, &a) in axes.iter().enumerate() {
            *v.get_mut(a)? = *given.get(k)?;
        }
        Some(v)
    };
    let target = match (sizes, scales) {
        (Some(s), _) => {
            let dims = input.dims();
            let Some(v) = full(s.iter().map(|&x| x as f64).collect(), 0.0) else {
                return Ok(None);
            };
            let per: Vec<usize> = (0..rank - 1)
                .map(|a| {
                    if v[a + 1] == 0.0 {
                        dims[a]
                    } else {
                        v[a + 1] as usize
                    }
                })
                .collect();
            ResizeTarget::Sizes(per)
        }
        (None, Some(s)) => {
            let Some(v) = full(s.iter().map(|&x| x as f64).collect(), 1.0) else {
                return Ok(None);
            };
            if v[0] != 1.0 {
                return Ok(None);
            }
            if attr_int(node, "antialias")?.unwrap_or(0) != 0 && v.iter().any(|&x| x < 1.0) {
                return Ok(None);
            }
            ResizeTarget::Scales(v[1..].to_vec())
        }
        _ => return Ok(None),
    };
    let r = Resize::new(mode, coordinate, target).map_err(|e| ctx.err(e))?;
    Ok(Some(ctx.chain(vec![Op::Layer(Layer::Resize(r))])))
}
