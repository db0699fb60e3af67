//! Shape inference along a chain; errors name the layer index and both shapes.

mod tensor;

use crate::layer::{
    AvgPool1d, AvgPool2d, BatchNorm, Conv1d, Conv2d, ConvTranspose2d, Layer, Linear, Pad, Permute,
    Reshape, ResizeTarget, Upsample,
};
use crate::{Error, Result, Scalar, Shape};

/// The shapes along a chain: element 0 is `input`, element `i + 1` the output of layer `i`.
///
/// # Errors
/// [`Error::Shape`] naming the first layer that cannot take what reaches it (channel mismatch, kernel larger
/// than the padded input, `in_features` not the input's last axis, a slice past the end, a parameter that
/// does not broadcast, an output size that overflows).
///
/// ```
/// use linear_collapse::{infer, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Shape};
/// use ndarray::{Array2, Array4};
/// let chain: Vec<Layer<f32>> = vec![
///     Conv2d::new(Array4::zeros((50, 5, 5, 5)), None, Conv2dConfig::default().stride(2))?.into(),
///     Flatten.into(),
///     Linear::new(Array2::zeros((100, 1250)), None)?.into(),
/// ];
/// let shapes = infer::shapes(&chain, Shape::chw(5, 13, 13))?;
/// assert_eq!(shapes[1], Shape::chw(50, 5, 5));
/// assert_eq!(shapes[3], Shape::flat(100));
/// let err = infer::shapes(&chain, Shape::chw(4, 13, 13)).unwrap_err();
/// assert!(err.to_string().starts_with("layer #0"));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn shapes<T: Scalar>(chain: &[Layer<T>], input: Shape) -> Result<Vec<Shape>> {
    let mut out = Vec::with_capacity(chain.len() + 1);
    out.push(input);
    let mut cur = input;
    for (i, layer) in chain.iter().enumerate() {
        cur = output_shape(i, layer, cur)?;
        out.push(cur);
    }
    Ok(out)
}

/// The output shape of `layer`, at position `index` of its chain, for `input`.
///
/// # Errors
/// [`Error::Shape`] as for [`shapes`].
///
/// ```
/// use linear_collapse::{infer, layer::{Flatten, Layer}, Shape};
/// let s = infer::output_shape(0, &Layer::<f32>::Flatten(Flatten), Shape::chw(2, 3, 4))?;
/// assert_eq!(s, Shape::flat(24));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn output_shape<T: Scalar>(index: usize, layer: &Layer<T>, input: Shape) -> Result<Shape> {
    let fail = |expected: String, reason: String| Error::Shape {
        layer: index,
        name: layer.describe(),
        expected,
        got: input,
        reason,
    };
    let overflow = |what: &str, r: String| {
        Error::invalid(
            format!("layer #{index} ({})", layer.describe()),
            format!("its {what} {r}"),
        )
    };
    checked_numel(&input.dims()).map_err(|r| overflow("input", r))?;
    let out = output_shape_unchecked(layer, input, fail)?;
    checked_numel(&out.dims()).map_err(|r| overflow("output", r))?;
    Ok(out)
}

fn output_shape_unchecked<T: Scalar>(
    layer: &Layer<T>,
    input: Shape,
    fail: impl Fn(String, String) -> Error,
) -> Result<Shape> {
    match layer {
        Layer::Flatten(_) => Ok(Shape::flat(input.numel())),
        Layer::Linear(l) => {
            linear_shape(l, input).map_err(|r| fail(format!("(..., {})", l.in_features()), r))
        }
        Layer::Conv2d(c) => {
            conv2d_shape(c, input).map_err(|r| fail(format!("({}, H, W)", c.c_in()), r))
        }
        Layer::Identity(_) | Layer::Dropout(_) => Ok(input),
        Layer::BatchNorm(b) => batchnorm_shape(b, input).map_err(|r| {
            let n = b.num_features();
            fail(format!("({n}, H, W), ({n}, L) or ({n})"), r)
        }),
        Layer::AvgPool2d(p) => avgpool2d_shape(p, input).map_err(|r| fail("(C, H, W)".into(), r)),
        Layer::AvgPool1d(p) => avgpool1d_shape(p, input).map_err(|r| fail("(C, L)".into(), r)),
        Layer::Pad(p) => pad_shape(p, input).map_err(|r| fail("(C, H, W) or (C, L)".into(), r)),
        Layer::Conv1d(c) => {
            conv1d_shape(c, input).map_err(|r| fail(format!("({}, L)", c.c_in()), r))
        }
        Layer::ConvTranspose2d(c) => {
            conv_transpose2d_shape(c, input).map_err(|r| fail(format!("({}, H, W)", c.c_in()), r))
        }
        Layer::Upsample(u) => {
            upsample_shape(u, input).map_err(|r| fail("(C, H, W) or (C, L)".into(), r))
        }
        Layer::Reshape(r) => reshape_shape(r, input)
            .map_err(|why| fail(format!("{} elements", r.shape().numel()), why)),
        Layer::Permute(p) => permute_shape(p, input).map_err(|r| fail(axes(p.rank()), r)),
        Layer::Slice(s) => {
            tensor::slice(s, input).map_err(|r| fail(format!("at least {}", axes(s.axis() + 1)), r))
        }
        Layer::ScaleShift(s) => {
            tensor::scale_shift(s, input).map_err(|r| fail(tensor::scale_shift_expected(s), r))
        }
        Layer::Expand(e) => tensor::expand(e, input)
            .map_err(|r| fail(format!("a shape that broadcasts to {}", e.shape()), r)),
        Layer::Reduce(r) => {
            let least = r.axes().last().map_or(0, |a| a + 1);
            tensor::reduce(r, input).map_err(|why| fail(format!("at least {}", axes(least)), why))
        }
        Layer::DepthToSpace(d) => tensor::depth_to_space(d, input).map_err(|r| {
            let b = d.block();
            fail(format!("(C, H, W) with C a multiple of {b}x{b}"), r)
        }),
        Layer::SpaceToDepth(s) => tensor::space_to_depth(s, input).map_err(|r| {
            let b = s.block();
            fail(format!("(C, H, W) with H and W multiples of {b}"), r)
        }),
        Layer::Resize(r) => tensor::resize(r, input).map_err(|why| {
            let n = match r.target() {
                ResizeTarget::Scales(s) => s.len(),
                ResizeTarget::Sizes(s) => s.len(),
            };
            fail(axes(n), why)
        }),
    }
}

/// PyTorch's `(..., in_features) -> (..., out_features)`.
fn linear_shape<T: Scalar>(l: &Linear<T>, input: Shape) -> Result<Shape, String> {
    let mut dims = input.dims();
    let rank = dims.len();
    match dims.last_mut() {
        None => Err("a Linear applies over the last axis, and a scalar sample has none".into()),
        Some(n) if *n == l.in_features() => {
            *n = l.out_features();
            checked_numel(&dims)?;
            Ok(Shape::from_dims(&dims).expect("the input's rank"))
        }
        Some(n) if rank == 1 => Err(format!(
            "in_features is {} but the input has {n} features",
            l.in_features()
        )),
        Some(n) => Err(format!(
            "in_features is {} but the input's last axis has {n} (a Linear applies over the last \
             axis; put a Flatten before it to take the whole sample)",
            l.in_features()
        )),
    }
}

/// `"1 axis"`, `"3 axes"`.
fn axes(n: usize) -> String {
    match n {
        1 => "1 axis".into(),
        n => format!("{n} axes"),
    }
}

/// The number of elements of `dims`, or why it overflows.
fn checked_numel(dims: &[usize]) -> Result<usize, String> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("{dims:?} would hold more elements than 64 bits can count"))
}

fn conv2d_shape<T: Scalar>(c: &Conv2d<T>, input: Shape) -> Result<Shape, String> {
    let Shape::Chw { c: ch, h, w } = input else {
        return Err("a Conv2d takes a (C, H, W) input".into());
    };
    if ch != c.c_in() {
        return Err(format!(
            "C_in is {} but the input has {ch} channels",
            c.c_in()
        ));
    }
    let g = c.geometry();
    let [oh, ow] = g.out_dims([h, w]).ok_or_else(|| {
        format!(
            "the dilated kernel {}x{} is larger than the padded input {}x{}",
            g.extent(0),
            g.extent(1),
            h.saturating_add(g.padding[0]).saturating_add(g.padding[2]),
            w.saturating_add(g.padding[1]).saturating_add(g.padding[3]),
        )
    })?;
    Ok(Shape::chw(c.c_out(), oh, ow))
}

fn batchnorm_shape<T: Scalar>(b: &BatchNorm<T>, input: Shape) -> Result<Shape, String> {
    let (c, what) = match input {
        Shape::Chw { c, .. } | Shape::Cl { c, .. } => (c, "channels"),
        Shape::Flat(n) => (n, "features"),
        Shape::Nd(d) => match d.as_slice().first() {
            Some(&c) => (c, "channels"),
            None => return Err("a BatchNorm takes an input with channels, not a scalar".into()),
        },
    };
    if c != b.num_features() {
        return Err(format!(
            "num_features is {} but the input has {c} {what}",
            b.num_features()
        ));
    }
    Ok(input)
}

fn avgpool2d_shape(p: &AvgPool2d, input: Shape) -> Result<Shape, String> {
    let Shape::Chw { c, h, w } = input else {
        return Err("an AvgPool2d takes a (C, H, W) input".into());
    };
    let [oh, ow] = p.out_dims([h, w]).ok_or_else(|| {
        let (k, pad) = (p.kernel_size(), p.padding());
        format!(
            "the kernel {}x{} is larger than the padded input {}x{}",
            k[0],
            k[1],
            h.saturating_add(pad[0] + pad[2]),
            w.saturating_add(pad[1] + pad[3]),
        )
    })?;
    Ok(Shape::chw(c, oh, ow))
}

fn avgpool1d_shape(p: &AvgPool1d, input: Shape) -> Result<Shape, String> {
    let Shape::Cl { c, l } = input else {
        return Err("an AvgPool1d takes a (C, L) input".into());
    };
    let ol = p.out_len(l).ok_or_else(|| {
        let pad = p.padding();
        format!(
            "the kernel {} is longer than the padded input {}",
            p.kernel_size(),
            l.saturating_add(pad[0] + pad[1])
        )
    })?;
    Ok(Shape::cl(c, ol))
}

fn pad_shape<T: Scalar>(p: &Pad<T>, input: Shape) -> Result<Shape, String> {
    match input {
        Shape::Chw { c, h, w } => {
            let [oh, ow] = p.out_dims([h, w])?;
            Ok(Shape::chw(c, oh, ow))
        }
        Shape::Cl { c, l } => {
            let [t, _, b, _] = p.padding();
            if t != 0 || b != 0 {
                return Err(format!(
                    "a (C, L) input has no height to pad: top and bottom must be 0, got {t} and {b}"
                ));
            }
            let [_, ol] = p.out_dims([1, l])?;
            Ok(Shape::cl(c, ol))
        }
        Shape::Flat(_) | Shape::Nd(_) => Err("a Pad takes a (C, H, W) or (C, L) input".into()),
    }
}

fn conv1d_shape<T: Scalar>(c: &Conv1d<T>, input: Shape) -> Result<Shape, String> {
    let Shape::Cl { c: ch, l } = input else {
        return Err("a Conv1d takes a (C, L) input".into());
    };
    if ch != c.c_in() {
        return Err(format!(
            "C_in is {} but the input has {ch} channels",
            c.c_in()
        ));
    }
    let ol = c.out_len(l).ok_or_else(|| {
        let cfg = c.config();
        format!(
            "the dilated kernel {} is longer than the padded input {}",
            cfg.dilation * (c.kernel_size() - 1) + 1,
            l.saturating_add(cfg.padding[0])
                .saturating_add(cfg.padding[1])
        )
    })?;
    Ok(Shape::cl(c.c_out(), ol))
}

fn conv_transpose2d_shape<T: Scalar>(
    c: &ConvTranspose2d<T>,
    input: Shape,
) -> Result<Shape, String> {
    let Shape::Chw { c: ch, h, w } = input else {
        return Err("a ConvTranspose2d takes a (C, H, W) input".into());
    };
    if ch != c.c_in() {
        return Err(format!(
            "C_in is {} but the input has {ch} channels",
            c.c_in()
        ));
    }
    let [oh, ow] = c.out_dims([h, w]).ok_or_else(|| {
        format!(
            "the padding {:?} crops the whole output of a {h}x{w} input",
            c.config().padding
        )
    })?;
    Ok(Shape::chw(c.c_out(), oh, ow))
}

fn upsample_shape(u: &Upsample, input: Shape) -> Result<Shape, String> {
    let [sh, sw] = u.scale();
    let mul = |n: usize, s: usize| {
        n.checked_mul(s)
            .ok_or_else(|| "the upsampled size overflows".to_string())
    };
    match input {
        Shape::Chw { c, h, w } => Ok(Shape::chw(c, mul(h, sh)?, mul(w, sw)?)),
        Shape::Cl { c, l } if sh == 1 => Ok(Shape::cl(c, mul(l, sw)?)),
        Shape::Cl { .. } => Err(format!(
            "a (C, L) input has no height to scale: the scale must be [1, s], got [{sh}, {sw}]"
        )),
        Shape::Flat(_) | Shape::Nd(_) => {
            Err("an Upsample takes a (C, H, W) or (C, L) input".into())
        }
    }
}

fn reshape_shape(r: &Reshape, input: Shape) -> Result<Shape, String> {
    let target = r.shape();
    if target.numel() != input.numel() {
        return Err(format!(
            "the input has {} elements, the target shape {target} has {}",
            input.numel(),
            target.numel()
        ));
    }
    Ok(target)
}

fn permute_shape(p: &Permute, input: Shape) -> Result<Shape, String> {
    if input.rank() != p.rank() {
        return Err(format!(
            "it permutes {} axes but the input has {}",
            p.rank(),
            input.rank()
        ));
    }
    Ok(Shape::from_dims(&p.out_dims(&input.dims())).expect("same rank as the input"))
}
