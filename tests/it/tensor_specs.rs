//! Random layers of any rank for the property tests, the part of [`Spec`] that is a [`TensorSpec`]: Linear
//! over the last axis, Slice, ScaleShift, Expand, Reduce, DepthToSpace, SpaceToDepth and Resize, with
//! their output shapes by ONNX's and PyTorch's formulas written out here.

use linear_collapse::layer::{
    CoordinateMode, DepthToSpace, DepthToSpaceMode, Expand, Layer, Linear, NearestMode, Reduce,
    ReduceOp, Resize, ResizeMode, ResizeTarget, ScaleShift, Slice, SpaceToDepth,
};
use linear_collapse::Shape;
use ndarray::{Array2, ArrayD, IxDyn};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng};

use crate::props::rand_array;
use crate::specs::Spec;

/// One layer of any rank without its weights.
#[derive(Clone, Debug)]
pub(crate) enum TensorSpec {
    Slice {
        axis: usize,
        start: usize,
        step: isize,
        len: usize,
    },
    /// The shapes of the scale and the shift (at least one), each broadcasting to the input.
    ScaleShift {
        scale: Option<Vec<usize>>,
        shift: Option<Vec<usize>>,
    },
    Expand(Shape),
    Reduce {
        sum: bool,
        axes: Vec<usize>,
        keepdims: bool,
    },
    DepthToSpace {
        block: usize,
        crd: bool,
    },
    SpaceToDepth(usize),
    Resize {
        mode: ResizeMode,
        coordinate: CoordinateMode,
        target: ResizeTarget,
    },
    /// A Linear over the last axis, `in_features` from the input.
    Linear {
        out: usize,
        bias: bool,
    },
}

impl TensorSpec {
    /// The output shape for `input`; `None` when the layer does not fit.
    pub(crate) fn out(&self, input: Shape) -> Option<Shape> {
        Some(match self {
            TensorSpec::ScaleShift { scale, shift } => {
                let dims = input.dims();
                let fits = |a: &Option<Vec<usize>>| {
                    a.as_ref().is_none_or(|a| {
                        a.len() <= dims.len()
                            && a.iter()
                                .zip(&dims[dims.len() - a.len()..])
                                .all(|(&n, &m)| n == 1 || n == m)
                    })
                };
                if !(fits(scale) && fits(shift)) {
                    return None;
                }
                input
            }
            TensorSpec::Slice {
                axis,
                start,
                step,
                len,
            } => {
                // indices start + i*step, each inside the axis
                let mut d = input.dims();
                let n = *d.get(*axis)? as isize;
                let last = *start as isize + (*len as isize - 1) * step;
                if *start as isize >= n || !(0..n).contains(&last) {
                    return None;
                }
                d[*axis] = *len;
                Shape::from_dims(&d)?
            }
            TensorSpec::Expand(to) => {
                let (from, to_dims) = (input.dims(), to.dims());
                let lead = to_dims.len().checked_sub(from.len())?;
                let fits = from
                    .iter()
                    .zip(&to_dims[lead..])
                    .all(|(&a, &b)| a == 1 || a == b);
                fits.then_some(*to)?
            }
            TensorSpec::Reduce { axes, keepdims, .. } => {
                let d = input.dims();
                if axes.iter().any(|&a| a >= d.len()) {
                    return None;
                }
                let out: Vec<usize> = (0..d.len())
                    .filter_map(|a| match (axes.contains(&a), keepdims) {
                        (false, _) => Some(d[a]),
                        (true, true) => Some(1),
                        (true, false) => None,
                    })
                    .collect();
                Shape::from_dims(&out)?
            }
            TensorSpec::DepthToSpace { block: b, .. } => {
                let Shape::Chw { c, h, w } = input else {
                    return None;
                };
                (c % (b * b) == 0).then(|| Shape::chw(c / (b * b), h * b, w * b))?
            }
            TensorSpec::SpaceToDepth(b) => {
                let Shape::Chw { c, h, w } = input else {
                    return None;
                };
                (h % b == 0 && w % b == 0).then(|| Shape::chw(c * b * b, h / b, w / b))?
            }
            TensorSpec::Resize { target, .. } => {
                // ONNX: floor(n * scale) (in f32, as onnxruntime computes it), or the sizes
                let d = input.dims();
                let out: Vec<usize> = match target {
                    ResizeTarget::Sizes(s) if s.len() == d.len() => s.clone(),
                    ResizeTarget::Scales(s) if s.len() == d.len() => d
                        .iter()
                        .zip(s)
                        .map(|(&n, &s)| (n as f32 * s as f32).floor() as usize)
                        .collect(),
                    _ => return None,
                };
                if out.contains(&0) {
                    return None;
                }
                Shape::from_dims(&out)?
            }
            TensorSpec::Linear { out, .. } => {
                let mut d = input.dims();
                *d.last_mut()? = *out;
                Shape::from_dims(&d)?
            }
        })
    }

    /// The layer for `input`, with weights from `rng`.
    pub(crate) fn build(&self, input: Shape, rng: &mut StdRng) -> Layer<f32> {
        match self {
            TensorSpec::Slice {
                axis,
                start,
                step,
                len,
            } => Slice::new(*axis, *start, *step, *len)
                .expect("valid by construction")
                .into(),
            TensorSpec::ScaleShift { scale, shift } => {
                let mut draw = |d: &Vec<usize>| {
                    ArrayD::from_shape_simple_fn(IxDyn(d), || rng.gen_range(-1.5f32..1.5))
                };
                let scale = scale.as_ref().map(&mut draw);
                let shift = shift.as_ref().map(&mut draw);
                ScaleShift::new(scale, shift)
                    .expect("valid by construction")
                    .into()
            }
            TensorSpec::Expand(to) => Expand::new(*to).expect("no zero dimension").into(),
            TensorSpec::Reduce {
                sum,
                axes,
                keepdims,
            } => {
                let op = if *sum { ReduceOp::Sum } else { ReduceOp::Mean };
                Reduce::new(op, axes.clone(), *keepdims)
                    .expect("valid by construction")
                    .into()
            }
            TensorSpec::DepthToSpace { block, crd } => {
                let mode = if *crd {
                    DepthToSpaceMode::Crd
                } else {
                    DepthToSpaceMode::Dcr
                };
                DepthToSpace::new(*block, mode).expect("positive").into()
            }
            TensorSpec::SpaceToDepth(block) => SpaceToDepth::new(*block).expect("positive").into(),
            TensorSpec::Resize {
                mode,
                coordinate,
                target,
            } => Resize::new(*mode, *coordinate, target.clone())
                .expect("valid by construction")
                .into(),
            TensorSpec::Linear { out, bias } => {
                let n_in = *input.dims().last().expect("an axis");
                let w: Array2<f32> = rand_array(rng, ndarray::Dim((*out, n_in)));
                let b = bias.then(|| rand_array(rng, ndarray::Dim(*out)));
                Linear::new(w, b).expect("valid by construction").into()
            }
        }
    }

    /// Rough multiply-adds of one forward pass.
    pub(crate) fn cost(&self, input: Shape, output: Shape) -> usize {
        match self {
            TensorSpec::Linear { .. } => output.numel() * input.dims().last().copied().unwrap_or(1),
            TensorSpec::Reduce { .. } => input.numel(),
            TensorSpec::Resize { .. } => output.numel() << input.rank(),
            _ => output.numel(),
        }
    }
}

/// A slice of any axis of `input`: a start inside it, a step of -3 to 3 (not 0), and as many indices as
/// stay inside.
pub(crate) fn slice_spec(input: Shape) -> BoxedStrategy<Spec> {
    let dims = input.dims();
    (
        0..dims.len(),
        prop::sample::select(vec![-3isize, -2, -1, 1, 2, 3]),
    )
        .prop_flat_map(move |(axis, step)| {
            let n = dims[axis];
            (Just(axis), 0..n, Just(step))
        })
        .prop_flat_map(move |(axis, start, step)| {
            let n = input.dims()[axis];
            let room = if step > 0 { n - 1 - start } else { start };
            let most = room / step.unsigned_abs() + 1;
            (1..=most).prop_map(move |len| {
                Spec::Tensor(TensorSpec::Slice {
                    axis,
                    start,
                    step,
                    len,
                })
            })
        })
        .boxed()
}

/// The shape of a parameter broadcasting to `dims`: its last 0 to `rank` axes, each kept or made 1.
fn broadcasting(dims: Vec<usize>) -> impl Strategy<Value = Vec<usize>> {
    (0..=dims.len()).prop_flat_map(move |k| {
        let tail = dims[dims.len() - k..].to_vec();
        prop::collection::vec(any::<bool>(), k).prop_map(move |keep| {
            tail.iter()
                .zip(&keep)
                .map(|(&n, &kept)| if kept { n } else { 1 })
                .collect()
        })
    })
}

/// A ScaleShift on `input`: a scale, a shift or both, each of a shape that broadcasts to it.
pub(crate) fn scale_shift_spec(input: Shape) -> BoxedStrategy<Spec> {
    let p = || prop::option::of(broadcasting(input.dims()));
    (p(), p())
        .prop_filter("neither", |(a, b)| a.is_some() || b.is_some())
        .prop_map(|(scale, shift)| Spec::Tensor(TensorSpec::ScaleShift { scale, shift }))
        .boxed()
}

/// A ScaleShift on `(c, ...)` that is one value per channel (what folds into a convolution).
pub(crate) fn per_channel_spec(input: Shape) -> BoxedStrategy<Spec> {
    let dims = input.dims();
    let per_channel: Vec<usize> = std::iter::once(dims[0])
        .chain(dims[1..].iter().map(|_| 1))
        .collect();
    let p = move || prop::option::of(prop::sample::select(vec![per_channel.clone(), vec![]]));
    (p(), p())
        .prop_filter("neither", |(a, b)| a.is_some() || b.is_some())
        .prop_map(|(scale, shift)| Spec::Tensor(TensorSpec::ScaleShift { scale, shift }))
        .boxed()
}

/// An Expand of `input`: 0 to 2 new leading axes of 1 to 3, and each axis of size 1 grown to 1 to 3 (at
/// most 7 axes).
pub(crate) fn expand_spec(input: Shape) -> BoxedStrategy<Spec> {
    let dims = input.dims();
    let room = (7 - dims.len()).min(2);
    let grown: Vec<BoxedStrategy<usize>> = dims
        .iter()
        .map(|&d| {
            if d == 1 {
                (1..=3usize).boxed()
            } else {
                Just(d).boxed()
            }
        })
        .collect();
    (prop::collection::vec(1..=3usize, 0..=room), grown)
        .prop_map(|(mut lead, grown)| {
            lead.extend(grown);
            Spec::Tensor(TensorSpec::Expand(
                Shape::from_dims(&lead).expect("at most 7 axes"),
            ))
        })
        .boxed()
}

/// A mean or sum over a non-empty set of the axes of `input` (which has at least one), in any order.
pub(crate) fn reduce_spec(input: Shape) -> BoxedStrategy<Spec> {
    let axes: Vec<usize> = (0..input.rank()).collect();
    (
        any::<bool>(),
        prop::sample::subsequence(axes.clone(), 1..=axes.len()).prop_shuffle(),
        any::<bool>(),
    )
        .prop_map(|(sum, axes, keepdims)| {
            Spec::Tensor(TensorSpec::Reduce {
                sum,
                axes,
                keepdims,
            })
        })
        .boxed()
}

/// A DepthToSpace of `(c, h, w)`: a block of 1 to 3 whose area divides `c`, either mode.
pub(crate) fn depth_to_space_spec(input: Shape) -> BoxedStrategy<Spec> {
    let c = input.dims()[0];
    let blocks: Vec<usize> = (1..=3).filter(|b| c.is_multiple_of(b * b)).collect();
    (prop::sample::select(blocks), any::<bool>())
        .prop_map(|(block, crd)| Spec::Tensor(TensorSpec::DepthToSpace { block, crd }))
        .boxed()
}

/// A SpaceToDepth of `(c, h, w)`: a block of 1 to 3 dividing `h` and `w`.
pub(crate) fn space_to_depth_spec(input: Shape) -> BoxedStrategy<Spec> {
    let d = input.dims();
    let blocks: Vec<usize> = (1..=3)
        .filter(|&b| d[1].is_multiple_of(b) && d[2].is_multiple_of(b))
        .collect();
    prop::sample::select(blocks)
        .prop_map(|b| Spec::Tensor(TensorSpec::SpaceToDepth(b)))
        .boxed()
}

/// A Resize of `input` in any mode and coordinate transform, to scales from 0.5 to 3 (at least one
/// output per axis) or to sizes of 1 to 6, at most 400 outputs.
pub(crate) fn resize_spec(input: Shape) -> BoxedStrategy<Spec> {
    let dims = input.dims();
    let mode = prop_oneof![
        Just(ResizeMode::Linear),
        prop::sample::select(vec![
            NearestMode::RoundPreferFloor,
            NearestMode::RoundPreferCeil,
            NearestMode::Floor,
            NearestMode::Ceil,
        ])
        .prop_map(ResizeMode::Nearest),
    ];
    let coordinate = prop::sample::select(vec![
        CoordinateMode::HalfPixel,
        CoordinateMode::PytorchHalfPixel,
        CoordinateMode::AlignCorners,
        CoordinateMode::Asymmetric,
        CoordinateMode::HalfPixelSymmetric,
    ]);
    let scales = dims
        .iter()
        .map(|&n| {
            let fit: Vec<f64> = [0.5, 0.6, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0]
                .into_iter()
                .filter(|&s| n as f32 * s as f32 >= 1.0)
                .collect();
            prop::sample::select(fit)
        })
        .collect::<Vec<_>>()
        .prop_map(ResizeTarget::Scales);
    let sizes = prop::collection::vec(1..=6usize, dims.len()).prop_map(ResizeTarget::Sizes);
    (mode, coordinate, prop_oneof![scales, sizes])
        .prop_map(|(mode, coordinate, target)| {
            Spec::Tensor(TensorSpec::Resize {
                mode,
                coordinate,
                target,
            })
        })
        .prop_filter("too large", move |s| {
            s.out(input).is_some_and(|o| o.numel() <= 400)
        })
        .boxed()
}

/// A Linear over the last axis with 1 to 4 outputs.
pub(crate) fn linear_spec() -> BoxedStrategy<Spec> {
    (1..=4usize, any::<bool>())
        .prop_map(|(out, bias)| Spec::Tensor(TensorSpec::Linear { out, bias }))
        .boxed()
}
