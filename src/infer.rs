//! Shape inference along a chain; errors name the layer index and both shapes.

use crate::layer::{Conv2d, Layer, Linear};
use crate::{Error, Result, Scalar, Shape};

/// The shapes along a chain: element 0 is `input`, element `i + 1` the output of layer `i`.
///
/// # Errors
/// [`Error::Shape`] naming the first layer that cannot take what reaches it (channel mismatch, kernel larger
/// than the padded input, `in_features` mismatch, a Linear given an image).
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
    match layer {
        Layer::Flatten(_) => Ok(Shape::flat(input.numel())),
        Layer::Linear(l) => {
            linear_shape(l, input).map_err(|r| fail(format!("({})", l.in_features()), r))
        }
        Layer::Conv2d(c) => {
            conv2d_shape(c, input).map_err(|r| fail(format!("({}, H, W)", c.c_in()), r))
        }
    }
}

fn linear_shape<T: Scalar>(l: &Linear<T>, input: Shape) -> Result<Shape, String> {
    match input {
        Shape::Flat(n) if n == l.in_features() => Ok(Shape::flat(l.out_features())),
        Shape::Flat(n) => Err(format!(
            "in_features is {} but the input has {n} features",
            l.in_features()
        )),
        _ => Err("a Linear takes a flat input: put a Flatten before it".into()),
    }
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
            h.saturating_add(g.padding[0] + g.padding[2]),
            w.saturating_add(g.padding[1] + g.padding[3]),
        )
    })?;
    Ok(Shape::chw(c.c_out(), oh, ow))
}
