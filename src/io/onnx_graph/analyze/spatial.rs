//! Ops on the spatial layout: `Pad`, `DepthToSpace`, `SpaceToDepth`, `Resize` and `Upsample` (output
//! dims from their attributes or constant inputs, as each opset spells them).

use super::node::Node;
use super::Out;
use crate::Result;

/// The pads of a `Pad` over `rank` axes (`pads` attribute before opset 11, input after; `axes` from
/// opset 18): `(begin, end)` per axis, negative values crop.
pub(crate) fn pad_amounts(n: &Node<'_, '_>, rank: usize) -> Result<Option<Vec<(i64, i64)>>> {
    let Some(pads) = n.ints_from("pads", 1)? else {
        return Ok(None);
    };
    let axes = match n.ints(3)? {
        Some(a) => n.axes("axes", &a, rank)?,
        None if n.input(3).is_some() => return Ok(None),
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(n.err(format!(
            "pads has {} values; {} axes need {}",
            pads.len(),
            axes.len(),
            2 * axes.len()
        )));
    }
    let mut out = vec![(0, 0); rank];
    for (k, &a) in axes.iter().enumerate() {
        out[a] = (pads[k], pads[axes.len() + k]);
    }
    Ok(Some(out))
}

/// `Pad(x, pads, value, axes)`.
pub(super) fn pad(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let modes: &[&str] = if n.opset() >= 19 {
        &["constant", "reflect", "edge", "wrap"]
    } else {
        &["constant", "reflect", "edge"]
    };
    n.attr_choice("mode", "constant", modes)?;
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let Some(pads) = pad_amounts(n, x.len())? else {
        return Ok(vec![n.act(None, false)]);
    };
    let dims = x
        .iter()
        .zip(&pads)
        .enumerate()
        .map(|(a, (&d, &(lo, hi)))| {
            let out = (d as i64).checked_add(lo).and_then(|v| v.checked_add(hi));
            match out {
                Some(v) if v >= 1 => usize::try_from(v).map_err(|_| n.err("")),
                _ => Err(n.err(format!(
                    "pads ({lo}, {hi}) on axis {a} of size {d} leave no elements (at most {} \
                     may be cropped)",
                    d.saturating_sub(1)
                ))),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(vec![n.act(Some(dims), n.batched(0) && pads[0] == (0, 0))])
}

/// `DepthToSpace(x, blocksize)`: `(N, C, H, W)` to `(N, C/b², H*b, W*b)`.
pub(super) fn depth_to_space(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    space(n, true)
}

/// `SpaceToDepth(x, blocksize)`: `(N, C, H, W)` to `(N, C*b², H/b, W/b)`.
pub(super) fn space_to_depth(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    space(n, false)
}

fn space(n: &Node<'_, '_>, to_space: bool) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let b = n.size(
        "blocksize",
        n.attr_int("blocksize")?
            .ok_or_else(|| n.err("it has no blocksize"))?,
        true,
    )?;
    let &[batch, c, h, w] = x.as_slice() else {
        return Err(n.err(format!("it takes (N, C, H, W), got {x:?}")));
    };
    let bb = b
        .checked_mul(b)
        .ok_or_else(|| n.err("blocksize overflows"))?;
    let dims = if to_space {
        if c % bb != 0 {
            return Err(n.err(format!(
                "{c} channels are not a multiple of blocksize² {bb}"
            )));
        }
        vec![batch, c / bb, h.saturating_mul(b), w.saturating_mul(b)]
    } else {
        if h % b != 0 || w % b != 0 {
            return Err(n.err(format!("{h}x{w} is not a multiple of blocksize {b}")));
        }
        vec![batch, c.saturating_mul(bb), h / b, w / b]
    };
    Ok(vec![n.act(Some(dims), n.batched(0))])
}

/// The output dims of `Resize` (opset 10 on, with `scales` or `sizes`, and `axes` from 18) or `Upsample`
/// (`scales` attribute before opset 9, input after); `None` when they are computed at run time.
pub(crate) fn resize_dims(n: &Node<'_, '_>, x: &[usize]) -> Result<Option<(Vec<usize>, Vec<f64>)>> {
    let upsample = n.proto().op_type == "Upsample";
    let scales_at = if upsample || n.opset() < 11 { 1 } else { 2 };
    let axes: Vec<usize> = match n.attr_ints("axes")? {
        Some(a) => n.axes("axes", a, x.len())?,
        None => (0..x.len()).collect(),
    };
    let scales: Option<Vec<f32>> = match n.proto().attribute.iter().find(|a| a.name == "scales") {
        Some(a) => Some(a.floats.clone()),
        None => match n.tensor(scales_at)? {
            Some(t) if t.len() > 0 => Some(t.to_f32().iter().copied().collect()),
            _ => None,
        },
    };
    let sizes = if upsample { None } else { n.ints(3)? };
    if let Some(sizes) = sizes.filter(|s| !s.is_empty()) {
        if sizes.len() != axes.len() {
            return Err(n.err(format!(
                "sizes {sizes:?} must have one entry per resized axis"
            )));
        }
        let mut dims = x.to_vec();
        let mut sc = vec![1.0; x.len()];
        let policy = n
            .attr_string("keep_aspect_ratio_policy")?
            .unwrap_or("stretch");
        let wanted: Vec<usize> = sizes
            .iter()
            .map(|&s| n.size("a size", s, true))
            .collect::<Result<_>>()?;
        let ratio = |k: usize| wanted[k] as f64 / x[axes[k]] as f64;
        let common = match policy {
            "stretch" => None,
            "not_larger" => Some((0..axes.len()).map(ratio).fold(f64::INFINITY, f64::min)),
            "not_smaller" => Some((0..axes.len()).map(ratio).fold(0.0, f64::max)),
            other => return Err(n.err(format!("keep_aspect_ratio_policy {other:?} is not valid"))),
        };
        for (k, &a) in axes.iter().enumerate() {
            match common {
                None => {
                    dims[a] = wanted[k];
                    sc[a] = ratio(k);
                }
                Some(r) => {
                    dims[a] = (x[a] as f64 * r).round() as usize;
                    sc[a] = r;
                }
            }
        }
        return Ok(Some((dims, sc)));
    }
    let Some(scales) = scales else {
        return Ok(None);
    };
    if scales.len() != axes.len() {
        return Err(n.err(format!(
            "scales {scales:?} must have one entry per resized axis"
        )));
    }
    let mut dims = x.to_vec();
    let mut sc = vec![1.0; x.len()];
    for (k, &a) in axes.iter().enumerate() {
        let s = scales[k] as f64;
        if !(s.is_finite() && s > 0.0) {
            return Err(n.err(format!("scale {s} must be positive")));
        }
        // onnxruntime multiplies in f32: 10 x 0.7f32 is 7, not 6.99...
        let d = (x[a] as f32 * scales[k]).floor() as f64;
        if !(1.0..=u32::MAX as f64).contains(&d) {
            return Err(n.err(format!("scale {s} gives {d} elements on axis {a}")));
        }
        dims[a] = d as usize;
        sc[a] = s;
    }
    Ok(Some((dims, sc)))
}

/// `Resize` and `Upsample`.
pub(super) fn resize(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    if n.proto().op_type == "Upsample" {
        n.attr_choice("mode", "nearest", &["nearest", "linear", "bilinear"])?;
    } else {
        n.attr_choice("mode", "nearest", &["nearest", "linear", "cubic"])?;
        n.attr_choice(
            "nearest_mode",
            "round_prefer_floor",
            &["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"],
        )?;
        n.attr_choice(
            "coordinate_transformation_mode",
            "half_pixel",
            &[
                "half_pixel",
                "half_pixel_symmetric",
                "pytorch_half_pixel",
                "align_corners",
                "asymmetric",
                "tf_half_pixel_for_nn",
                "tf_crop_and_resize",
            ],
        )?;
    }
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    match resize_dims(n, &x)? {
        Some((dims, _)) => {
            let keeps = dims.first() == x.first();
            Ok(vec![n.act(Some(dims), keeps && n.batched(0))])
        }
        None => Ok(vec![n.act(None, false)]),
    }
}
