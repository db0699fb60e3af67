//! Every validation of the layers of any rank (Linear over the last axis, Slice, ScaleShift, Expand,
//! Reduce, DepthToSpace, SpaceToDepth, Resize): an `Err` naming the layer and the reason, from the
//! constructor (parameters) or from every entry point that takes a chain (shapes), never a panic or an
//! overflow on absurd sizes.

use linear_collapse::layer::{
    DepthToSpace, DepthToSpaceMode, Expand, Layer, Reduce, ReduceOp, ScaleShift, Slice,
    SpaceToDepth,
};
use linear_collapse::Shape;

use crate::errors::assert_chain_error;
use crate::layer_errors::assert_invalid;

#[test]
fn linear_over_the_last_axis_errors() {
    let fc =
        linear_collapse::layer::Linear::new(ndarray::Array2::<f32>::zeros((2, 3)), None).unwrap();
    let chain: Vec<Layer<f32>> = vec![fc.into()];
    assert_chain_error(
        &chain,
        Shape::chw(2, 3, 4),
        0,
        &[
            "(..., 3)",
            "in_features is 3 but the input's last axis has 4",
            "Flatten",
        ],
    );
    assert_chain_error(
        &chain,
        Shape::flat(4),
        0,
        &["in_features is 3 but the input has 4 features"],
    );
    let scalar = Shape::from_dims(&[]).unwrap();
    assert_chain_error(&chain, scalar, 0, &["a scalar sample has none"]);
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(5, 4, 3)).is_ok());
}

#[test]
fn slice_errors() {
    assert_invalid(
        Slice::new(0, 0, 1, 0),
        &[
            "Slice(axis 0, start 0, step 1, len 0)",
            "len must be at least 1",
        ],
    );
    assert_invalid(Slice::new(0, 0, 0, 2), &["step must not be 0"]);
    assert_invalid(
        Slice::new(7, 0, 1, 1),
        &["axis 7 does not exist", "at most 7 axes"],
    );
    // indices 1, 0, -1: the last is negative
    assert_invalid(Slice::new(0, 1, -1, 3), &["start + (len - 1)*step = -1"]);
    assert_invalid(Slice::new(0, usize::MAX, 1, 2), &["is outside 0..="]);
    assert_invalid(
        Slice::new(0, 0, isize::MIN, usize::MAX),
        &["is outside 0..="],
    );
    let chain: Vec<Layer<f32>> = vec![Slice::new(2, 1, 2, 2).unwrap().into()];
    // indices 1 and 3 of axis 2
    assert_chain_error(
        &chain,
        Shape::chw(1, 2, 3),
        0,
        &["at least 3 axes", "indices 1..=3 of axis 2, which has 3"],
    );
    assert_chain_error(
        &chain,
        Shape::cl(4, 4),
        0,
        &["it slices axis 2 but the input has 2 axes"],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(1, 2, 4)).is_ok());
    let back: Vec<Layer<f32>> = vec![Slice::new(0, 5, -2, 3).unwrap().into()];
    assert_chain_error(
        &back,
        Shape::flat(5),
        0,
        &["indices 1..=5 of axis 0, which has 5"],
    );
}

#[test]
fn scale_shift_errors() {
    use ndarray::{arr0, ArrayD, IxDyn};
    let ones = |d: &[usize]| ArrayD::<f32>::ones(IxDyn(d));
    assert_invalid(
        ScaleShift::<f32>::new(None, None),
        &["ScaleShift()", "needs a scale, a shift or both"],
    );
    let mut nan = ones(&[2, 1]);
    nan[[1, 0]] = f32::NAN;
    assert_invalid(
        ScaleShift::new(Some(nan), None),
        &[
            "ScaleShift(scale (2, 1))",
            "scale has a non-finite value (NaN) at flat index 1",
        ],
    );
    assert_invalid(
        ScaleShift::new(None, Some(arr0(f32::INFINITY).into_dyn())),
        &["shift has a non-finite value (inf)"],
    );
    assert_invalid(
        ScaleShift::new(Some(ones(&[1; 8])), None),
        &["scale has 8 axes, more than a sample's 7"],
    );
    assert_invalid(
        ScaleShift::new(None, Some(ones(&[3, 0]))),
        &["shift (3, 0) has a zero dimension"],
    );
    let per_channel = ScaleShift::new(Some(ones(&[3, 1, 1])), Some(ones(&[4]))).unwrap();
    let chain: Vec<Layer<f32>> = vec![per_channel.into()];
    assert_chain_error(
        &chain,
        Shape::chw(2, 5, 4),
        0,
        &[
            "a shape (3, 1, 1) and (4) broadcast to",
            "the scale (3, 1, 1) does not broadcast to (2, 5, 4): its axis 0 has 3, axis 0 there has 2",
        ],
    );
    assert_chain_error(
        &chain,
        Shape::chw(3, 5, 5),
        0,
        &["the shift (4) does not broadcast to (3, 5, 5): its axis 0 has 4, axis 2 there has 5"],
    );
    assert_chain_error(
        &chain,
        Shape::cl(3, 4),
        0,
        &["the scale (3, 1, 1) has more axes than (3, 4)"],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(3, 7, 4)).is_ok());
}

#[test]
fn expand_errors() {
    assert_invalid(
        Expand::new(Shape::chw(2, 0, 3)),
        &["Expand(2, 0, 3)", "zero dimension"],
    );
    let chain: Vec<Layer<f32>> = vec![Expand::new(Shape::chw(2, 3, 4)).unwrap().into()];
    assert_chain_error(
        &chain,
        Shape::cl(2, 4),
        0,
        &[
            "a shape that broadcasts to (2, 3, 4)",
            "the input (2, 4) does not broadcast to (2, 3, 4): its axis 0 has 2, axis 1 there has 3",
        ],
    );
    let huge: Vec<Layer<f32>> = vec![Expand::new(Shape::cl(usize::MAX, 2)).unwrap().into()];
    assert_chain_error(
        &huge,
        Shape::flat(1),
        0,
        &["the output's size", "overflows"],
    );
    let five = Shape::from_dims(&[1, 1, 1, 1, 4]).unwrap();
    assert_chain_error(
        &chain,
        five,
        0,
        &["the input (1, 1, 1, 1, 4) has more axes than (2, 3, 4)"],
    );
    for ok in [
        Shape::flat(4),
        Shape::flat(1),
        Shape::cl(3, 1),
        Shape::chw(2, 3, 4),
    ] {
        assert!(linear_collapse::infer::shapes(&chain, ok).is_ok(), "{ok}");
    }
}

#[test]
fn reduce_errors() {
    assert_invalid(
        Reduce::new(ReduceOp::Mean, vec![], true),
        &["ReduceMean(axes [], keepdims)", "at least one axis"],
    );
    assert_invalid(
        Reduce::new(ReduceOp::Sum, vec![2, 0, 2], false),
        &["ReduceSum(axes [2, 0, 2])", "axis 2 is named twice"],
    );
    assert_invalid(
        Reduce::new(ReduceOp::Sum, vec![7], false),
        &["axis 7 does not exist"],
    );
    let chain: Vec<Layer<f32>> = vec![Reduce::new(ReduceOp::Mean, vec![0, 2], false)
        .unwrap()
        .into()];
    assert_chain_error(
        &chain,
        Shape::cl(2, 3),
        0,
        &[
            "at least 3 axes",
            "it reduces axis 2 but the input has 2 axes",
        ],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(2, 3, 4)).is_ok());
}

#[test]
fn depth_to_space_errors() {
    assert_invalid(
        DepthToSpace::new(0, DepthToSpaceMode::Dcr),
        &["DepthToSpace(block 0, DCR)", "at least 1"],
    );
    assert_invalid(
        SpaceToDepth::new(0),
        &["SpaceToDepth(block 0)", "at least 1"],
    );
    let d2s: Vec<Layer<f32>> = vec![DepthToSpace::new(2, DepthToSpaceMode::Crd).unwrap().into()];
    assert_chain_error(
        &d2s,
        Shape::chw(6, 2, 2),
        0,
        &[
            "(C, H, W) with C a multiple of 2x2",
            "the input's 6 channels are not a multiple of the block area 2x2",
        ],
    );
    assert_chain_error(&d2s, Shape::cl(4, 4), 0, &["takes a (C, H, W) input"]);
    let huge: Vec<Layer<f32>> = vec![DepthToSpace::new(usize::MAX, DepthToSpaceMode::Dcr)
        .unwrap()
        .into()];
    assert_chain_error(
        &huge,
        Shape::chw(1, 1, 1),
        0,
        &["the block area", "overflows"],
    );
    let s2d: Vec<Layer<f32>> = vec![SpaceToDepth::new(3).unwrap().into()];
    assert_chain_error(
        &s2d,
        Shape::chw(1, 6, 4),
        0,
        &[
            "(C, H, W) with H and W multiples of 3",
            "the input's 6x4 pixels do not split into 3x3 blocks",
        ],
    );
    assert!(linear_collapse::infer::shapes(&s2d, Shape::chw(2, 6, 9)).is_ok());
}

#[test]
fn resize_errors() {
    use linear_collapse::layer::{CoordinateMode, Resize, ResizeMode, ResizeTarget};
    let new = |t| Resize::new(ResizeMode::Linear, CoordinateMode::HalfPixel, t);
    assert_invalid(
        new(ResizeTarget::Scales(vec![])),
        &["Resize(linear, half_pixel, scales [])", "1 to 7, got 0"],
    );
    assert_invalid(new(ResizeTarget::Sizes(vec![1; 8])), &["1 to 7, got 8"]);
    for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        assert_invalid(
            new(ResizeTarget::Scales(vec![1.0, bad])),
            &["of axis 1 is not a finite positive number"],
        );
    }
    assert_invalid(
        new(ResizeTarget::Sizes(vec![2, 0])),
        &["size of axis 1 is 0"],
    );
    let chain: Vec<Layer<f32>> = vec![new(ResizeTarget::Scales(vec![1.0, 0.3, 2.0]))
        .unwrap()
        .into()];
    assert_chain_error(
        &chain,
        Shape::cl(2, 3),
        0,
        &[
            "3 axes",
            "it has 3 scales or sizes, one per axis, but the input has 2 axes",
        ],
    );
    assert_chain_error(
        &chain,
        Shape::chw(2, 3, 3),
        0,
        &["axis 1 of 3 at scale 0.3 has floor(3 x 0.3) = 0 outputs"],
    );
    assert_chain_error(
        &chain,
        Shape::chw(2, 0, 3),
        0,
        &["axis 1 of the input is empty"],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(2, 4, 3)).is_ok());
    let huge: Vec<Layer<f32>> = vec![new(ResizeTarget::Scales(vec![1e300])).unwrap().into()];
    assert_chain_error(
        &huge,
        Shape::flat(2),
        0,
        &["axis 0 of 2 at scale 1e300 overflows"],
    );
    let big: Vec<Layer<f32>> = vec![new(ResizeTarget::Sizes(vec![usize::MAX, 2]))
        .unwrap()
        .into()];
    assert_chain_error(
        &big,
        Shape::cl(1, 1),
        0,
        &["the output's size", "overflows"],
    );
}
