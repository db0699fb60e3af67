//! Output shapes of the layers that act on samples of any rank (slicing, broadcasting, reductions,
//! resizing, moving blocks between depth and space). Each returns the reason a shape does not fit.

use crate::layer::{
    DepthToSpace, Expand, Reduce, Resize, ResizeTarget, ScaleShift, Slice, SpaceToDepth,
};
use crate::{Scalar, Shape};

/// The shape with these dimensions, or why it cannot be one.
fn shape_of(dims: &[usize]) -> Result<Shape, String> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("the output's size {dims:?} overflows"))?;
    Shape::from_dims(dims).ok_or_else(|| format!("the output {dims:?} has too many axes"))
}

/// `(3, 1, 1)`; `()` for no axis.
fn text(dims: &[usize]) -> String {
    let d: Vec<String> = dims.iter().map(usize::to_string).collect();
    format!("({})", d.join(", "))
}

/// Whether `small` broadcasts to `big` without enlarging it (NumPy's rule, aligned on the last axis: each
/// axis of `small` is 1 or the size of `big`'s), or why not.
fn broadcasts_to(what: &str, small: &[usize], big: &[usize]) -> Result<(), String> {
    let Some(lead) = big.len().checked_sub(small.len()) else {
        return Err(format!(
            "{what} {} has more axes than {}",
            text(small),
            text(big)
        ));
    };
    for (k, &n) in small.iter().enumerate() {
        let m = big[lead + k];
        if n != 1 && n != m {
            return Err(format!(
                "{what} {} does not broadcast to {}: its axis {k} has {n}, axis {} there has {m}",
                text(small),
                text(big),
                lead + k
            ));
        }
    }
    Ok(())
}

/// What a `ScaleShift` accepts, for its error message.
pub(super) fn scale_shift_expected<T: Scalar>(s: &ScaleShift<T>) -> String {
    let parts: Vec<String> = [s.scale(), s.shift()]
        .into_iter()
        .flatten()
        .map(|a| text(a.shape()))
        .collect();
    format!("a shape {} broadcast to", parts.join(" and "))
}

pub(super) fn scale_shift<T: Scalar>(s: &ScaleShift<T>, input: Shape) -> Result<Shape, String> {
    let dims = input.dims();
    if let Some(a) = s.scale() {
        broadcasts_to("the scale", a.shape(), &dims)?;
    }
    if let Some(a) = s.shift() {
        broadcasts_to("the shift", a.shape(), &dims)?;
    }
    Ok(input)
}

pub(super) fn slice(s: &Slice, input: Shape) -> Result<Shape, String> {
    let mut dims = input.dims();
    let Some(n) = dims.get_mut(s.axis()) else {
        return Err(format!(
            "it slices axis {} but the input has {} axes",
            s.axis(),
            input.rank()
        ));
    };
    let (low, high) = s.input_range();
    if high >= *n {
        return Err(format!(
            "it reads indices {low}..={high} of axis {}, which has {n}",
            s.axis()
        ));
    }
    *n = s.len();
    shape_of(&dims)
}

pub(super) fn expand(e: &Expand, input: Shape) -> Result<Shape, String> {
    let to = e.shape().dims();
    broadcasts_to("the input", &input.dims(), &to)
        .map_err(|why| format!("{why} (the target is {})", e.shape()))?;
    shape_of(&to)
}

pub(super) fn reduce(r: &Reduce, input: Shape) -> Result<Shape, String> {
    let dims = input.dims();
    if let Some(a) = r.axes().iter().find(|&&a| a >= dims.len()) {
        return Err(format!(
            "it reduces axis {a} but the input has {} axes",
            dims.len()
        ));
    }
    let out: Vec<usize> = dims
        .iter()
        .enumerate()
        .filter_map(|(a, &n)| match (r.axes().contains(&a), r.keepdims()) {
            (false, _) => Some(n),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    shape_of(&out)
}

/// `block * block`, or why it overflows.
fn block_area(block: usize) -> Result<usize, String> {
    block
        .checked_mul(block)
        .ok_or_else(|| format!("the block area {block}x{block} overflows"))
}

pub(super) fn depth_to_space(d: &DepthToSpace, input: Shape) -> Result<Shape, String> {
    let Shape::Chw { c, h, w } = input else {
        return Err("a DepthToSpace takes a (C, H, W) input".into());
    };
    let (b, area) = (d.block(), block_area(d.block())?);
    if c % area != 0 {
        return Err(format!(
            "the input's {c} channels are not a multiple of the block area {b}x{b}"
        ));
    }
    let grow = |n: usize| {
        n.checked_mul(b)
            .ok_or_else(|| format!("the output's size {n}x{b} overflows"))
    };
    Ok(Shape::chw(c / area, grow(h)?, grow(w)?))
}

pub(super) fn space_to_depth(s: &SpaceToDepth, input: Shape) -> Result<Shape, String> {
    let Shape::Chw { c, h, w } = input else {
        return Err("a SpaceToDepth takes a (C, H, W) input".into());
    };
    let (b, area) = (s.block(), block_area(s.block())?);
    if h % b != 0 || w % b != 0 {
        return Err(format!(
            "the input's {h}x{w} pixels do not split into {b}x{b} blocks"
        ));
    }
    let c = c
        .checked_mul(area)
        .ok_or_else(|| format!("the output's {c}x{b}x{b} channels overflow"))?;
    Ok(Shape::chw(c, h / b, w / b))
}

/// ONNX: the output length of an axis is `floor(n * scale)` for scales (in `f32`, as onnxruntime computes
/// it: `10 x 0.7` gives 7), the size itself for sizes.
pub(super) fn resize(r: &Resize, input: Shape) -> Result<Shape, String> {
    let dims = input.dims();
    let entries = match r.target() {
        ResizeTarget::Scales(s) => s.len(),
        ResizeTarget::Sizes(s) => s.len(),
    };
    if entries != dims.len() {
        return Err(format!(
            "it has {entries} scales or sizes, one per axis, but the input has {} axes",
            dims.len()
        ));
    }
    if let Some(k) = dims.iter().position(|&n| n == 0) {
        return Err(format!(
            "axis {k} of the input is empty: there is nothing to sample"
        ));
    }
    let out = match r.target() {
        ResizeTarget::Sizes(s) => s.clone(),
        ResizeTarget::Scales(s) => dims
            .iter()
            .zip(s)
            .enumerate()
            .map(|(k, (&n, &scale))| {
                let m = f64::from((n as f32 * scale as f32).floor());
                if m < 1.0 {
                    Err(format!(
                        "axis {k} of {n} at scale {scale:?} has floor({n} x {scale:?}) = 0 outputs"
                    ))
                } else if m >= usize::MAX as f64 {
                    Err(format!("axis {k} of {n} at scale {scale:?} overflows"))
                } else {
                    Ok(m as usize)
                }
            })
            .collect::<Result<_, _>>()?,
    };
    shape_of(&out)
}
