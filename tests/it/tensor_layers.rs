//! ONNX's and PyTorch's semantics of the layers of any rank (Linear over the last axis, Slice, ScaleShift,
//! Expand, Reduce, DepthToSpace, SpaceToDepth, Resize) on tiny inputs, with the expected values from the
//! ONNX operator docs' examples and PyTorch's definitions, worked out by hand: both the lowered map and the
//! reference must give them.

use linear_collapse::compose::forward_batch;
use linear_collapse::graph::{Model, Op, Src};
use linear_collapse::layer::{
    CoordinateMode, DepthToSpace, DepthToSpaceMode, Expand, Flatten, Layer, Linear, NearestMode,
    Reduce, ReduceOp, Resize, ResizeMode, ResizeTarget, ScaleShift, Slice, SpaceToDepth,
};
use linear_collapse::verify::forward_model;
use linear_collapse::{collapse, collapse_model, lower, reference, Method, Options, Par, Shape};
use ndarray::{arr0, array, Array2, Array4, ArrayD, IxDyn};

use crate::layers::{assert_close_exact, assert_gives, assert_gives_within};

/// `nn.Linear(2, 3)` with `W = [[1, 0], [0, 1], [1, 1]]`, `b = [0.5, -1, 0]` on one `(2, 2)` sample
/// `[[1, 2], [3, 4]]`: PyTorch applies it to each row, `[[1.5, 1, 3], [3.5, 3, 7]]`, shape `(2, 3)`.
#[test]
fn linear_over_the_last_axis() {
    let fc = || {
        Linear::new(
            array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
            Some(array![0.5, -1.0, 0.0]),
        )
    };
    let x = [1.0, 2.0, 3.0, 4.0];
    let want = [1.5, 1.0, 3.0, 3.5, 3.0, 7.0];
    assert_gives(fc().unwrap(), Shape::cl(2, 2), &x, Shape::cl(2, 3), &want);
    // the same rows as a (2, 1, 2) image and a (1, 2, 1, 2) sample of rank 4
    assert_gives(
        fc().unwrap(),
        Shape::chw(2, 1, 2),
        &x,
        Shape::chw(2, 1, 3),
        &want,
    );
    let nd = |d: &[usize]| Shape::from_dims(d).unwrap();
    assert_gives(
        fc().unwrap(),
        nd(&[1, 2, 1, 2]),
        &x,
        nd(&[1, 2, 1, 3]),
        &want,
    );
    // a flat sample is the old W x + b, its matrix the dense weight
    assert_gives(
        fc().unwrap(),
        Shape::flat(2),
        &x[..2],
        Shape::flat(3),
        &want[..3],
    );
    let m = lower::lower(&Layer::Linear(fc().unwrap()), Shape::flat(2)).unwrap();
    assert!(matches!(
        m.matrix,
        linear_collapse::matrix::Matrix::Dense(_)
    ));
    // on (2, 2): kron(I_2, W) in CSR, the bias repeated
    let m = lower::lower(&Layer::Linear(fc().unwrap()), Shape::cl(2, 2)).unwrap();
    let w = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    let mut kron = Array2::zeros((6, 4));
    kron.slice_mut(ndarray::s![..3, ..2]).assign(&w);
    kron.slice_mut(ndarray::s![3.., 2..]).assign(&w);
    assert_eq!(m.matrix.to_dense().unwrap(), kron);
    assert_eq!(m.bias.to_vec(), [0.5, -1.0, 0.0, 0.5, -1.0, 0.0]);
}

/// The fast paths that special-case a Linear (the batched forward pass, the planner's dense leaf, the
/// graph's reverse mode) treat a Linear over the last axis as its block-diagonal matrix.
#[test]
fn linear_over_the_last_axis_in_the_fast_paths() {
    let w = array![[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]];
    let fc = Linear::new(w, Some(array![0.5, -0.25])).unwrap();
    let input = Shape::chw(2, 2, 3);
    let chain: Vec<Layer<f64>> = vec![fc.clone().into(), Flatten.into()];
    let x = Array2::from_shape_fn((3, 12), |(r, c)| (r * 12 + c) as f64 * 0.5 - 4.0);
    let y = forward_batch(&chain, input, x.view(), Par::Seq).unwrap();
    for (xr, yr) in x.outer_iter().zip(y.outer_iter()) {
        let (want, shape) = reference::forward(&chain, input, xr.as_slice().unwrap()).unwrap();
        assert_eq!(shape, Shape::flat(8));
        assert_close_exact(yr.as_slice().unwrap(), &want, "forward_batch vs reference");
    }
    // alone, it is a collapse's only factor (no product): its matrix and bias are the result
    for method in [Method::Auto, Method::Dense, Method::Sparse, Method::Im2col] {
        let opts = Options {
            method,
            ..Options::default()
        };
        let one = collapse(&chain, input, &opts).unwrap();
        let probe = reference::probe(&chain, input).unwrap();
        assert_eq!(one.weight(), &probe.weight, "{method:?}");
        assert_eq!(one.bias_or_zeros(), probe.bias, "{method:?}");
    }
    // a residual around it: not a chain, so the graph's reverse mode carries the adjoint through it
    let mut m = Model::<f64>::new(Shape::cl(2, 2));
    let sq = Linear::new(array![[1.0, 2.0], [-1.0, 0.5]], Some(array![1.0, 0.0])).unwrap();
    let a = m
        .push("fc", Op::Layer(sq.into()), vec![Src::Input])
        .unwrap();
    let s = m.push("add", Op::Add, vec![a, Src::Input]).unwrap();
    let head = Linear::new(array![[1.0, 1.0]], None).unwrap();
    m.push("head", Op::Layer(head.into()), vec![s]).unwrap();
    let (small, _) = collapse_model(&m, &Options::default()).unwrap();
    for x in [[1.0, 0.0, 0.0, 0.0], [0.5, -1.0, 2.0, 3.0]] {
        let (a, b) = (
            forward_model(&m, &x).unwrap(),
            forward_model(&small, &x).unwrap(),
        );
        assert_close_exact(&b, &a, "collapsed residual vs the model");
    }
    // row p of the (2, 1) output: x_p0 + x_p1 + (x_p0 + 2 x_p1 + 1) + (-x_p0 + 0.5 x_p1) = x_p0 + 3.5 x_p1 + 1
    let y = forward_model(&small, &[1.0, 2.0, 0.0, 0.0]).unwrap();
    assert_close_exact(&y, &[9.0, 1.0], "by hand");
}

/// ONNX's `Slice` examples on `x = [[1, 2, 3, 4], [5, 6, 7, 8]]`: `starts [1, 0], ends [2, 3], steps [1, 2]`
/// gives `[[5, 7]]`; `starts [0, 1], ends [-1, 1000]` gives `[[2, 3, 4]]` (ends clamp to the axis). One
/// `Slice` per axis here. A negative step walks back: `x[::-1]` of `[1, 2, 3, 4]` (ONNX `starts [-1],
/// ends [-5], steps [-1]`) is `[4, 3, 2, 1]`.
#[test]
fn slice_onnx_examples() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let rows = Slice::new(0, 1, 1, 1).unwrap();
    assert_gives(rows, Shape::cl(2, 4), &x, Shape::cl(1, 4), &x[4..]);
    let cols = Slice::new(1, 0, 2, 2).unwrap();
    assert_gives(cols, Shape::cl(1, 4), &x[4..], Shape::cl(1, 2), &[5.0, 7.0]);
    let rows = Slice::new(0, 0, 1, 1).unwrap();
    assert_gives(rows, Shape::cl(2, 4), &x, Shape::cl(1, 4), &x[..4]);
    let cols = Slice::new(1, 1, 1, 3).unwrap();
    assert_gives(
        cols,
        Shape::cl(1, 4),
        &x[..4],
        Shape::cl(1, 3),
        &[2.0, 3.0, 4.0],
    );
    let back = Slice::new(0, 3, -1, 4).unwrap();
    assert_gives(
        back,
        Shape::flat(4),
        &x[..4],
        Shape::flat(4),
        &[4.0, 3.0, 2.0, 1.0],
    );
    // `x[:, :, 2::-2]` of a (1, 2, 3) sample: columns 2 and 0 of each row
    let every_other = Slice::new(2, 2, -2, 2).unwrap();
    let want = [3.0, 1.0, 6.0, 4.0];
    assert_gives(
        every_other,
        Shape::chw(1, 2, 3),
        &x[..6],
        Shape::chw(1, 2, 2),
        &want,
    );
}

fn nd(dims: &[usize], values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(dims), values.to_vec()).unwrap()
}

/// ONNX `Mul`, `Add`, `Sub`, `Div` by constants and `Neg` on one `(2, 1, 2)` sample `[1, 2, 3, 4]`, the
/// constants broadcast by NumPy's rules (aligned on the last axis):
/// - `x * [[[2]], [[-1]]] + 0.5` (per channel, then a scalar): `[2.5, 4.5, -2.5, -3.5]`;
/// - `x * [1, 10]` (along the width): `[1, 20, 3, 40]`;
/// - `x - [[1, 2]]` (ONNX `Sub` of a `(1, 2)` constant: the shift `[[-1, -2]]`): `[0, 0, 2, 2]`;
/// - `x / 4` is the scale `0.25`, `-x` the scale `-1`.
#[test]
fn scale_shift_onnx_arithmetic() {
    let s = Shape::chw(2, 1, 2);
    let x = [1.0, 2.0, 3.0, 4.0];
    let per_channel = ScaleShift::new(
        Some(nd(&[2, 1, 1], &[2.0, -1.0])),
        Some(arr0(0.5).into_dyn()),
    );
    assert_gives(per_channel.unwrap(), s, &x, s, &[2.5, 4.5, -2.5, -3.5]);
    let width = ScaleShift::new(Some(nd(&[2], &[1.0, 10.0])), None).unwrap();
    assert_gives(width, s, &x, s, &[1.0, 20.0, 3.0, 40.0]);
    let sub = ScaleShift::new(None, Some(nd(&[1, 2], &[-1.0, -2.0]))).unwrap();
    assert_gives(sub, s, &x, s, &[0.0, 0.0, 2.0, 2.0]);
    let div = ScaleShift::new(Some(arr0(0.25).into_dyn()), None).unwrap();
    assert_gives(div, s, &x, s, &[0.25, 0.5, 0.75, 1.0]);
    let neg = ScaleShift::new(Some(arr0(-1.0).into_dyn()), None).unwrap();
    assert_gives(
        neg,
        Shape::flat(4),
        &x,
        Shape::flat(4),
        &[-1.0, -2.0, -3.0, -4.0],
    );
    // a shift alone is the identity matrix and a bias
    let add = ScaleShift::new(None, Some(arr0(1.0).into_dyn())).unwrap();
    let m = lower::lower(&Layer::ScaleShift(add), s).unwrap();
    assert_eq!(m.matrix, linear_collapse::matrix::Matrix::Identity(4));
}

/// A ScaleShift after a convolution folds into it when it is one value per channel (like a BatchNorm);
/// one that varies along the width does not, and the report says why.
#[test]
fn per_channel_scale_shift_folds_into_a_conv() {
    use linear_collapse::form::Form;
    use linear_collapse::layer::{Conv2d, Conv2dConfig};
    let w = Array4::from_shape_fn((2, 1, 2, 2), |(o, _, y, x)| (o + 2 * y + x) as f64 - 1.5);
    let conv = Conv2d::new(w, Some(array![0.5, -0.5]), Conv2dConfig::default()).unwrap();
    let input = Shape::chw(1, 3, 3);
    let per_channel = ScaleShift::new(
        Some(nd(&[2, 1, 1], &[2.0, -3.0])),
        Some(nd(&[2, 1, 1], &[1.0, 0.25])),
    );
    let width = ScaleShift::new(Some(nd(&[2], &[2.0, -3.0])), None);
    for (s, form) in [(per_channel, Form::Conv2d), (width, Form::Unchanged)] {
        let ops = vec![Op::Layer(conv.clone().into()), Op::Layer(s.unwrap().into())];
        let m = Model::sequential(input, ops).unwrap();
        let (small, reports) = collapse_model(&m, &Options::default()).unwrap();
        assert_eq!(reports[0].form, form, "{}", reports[0]);
        if form == Form::Unchanged {
            assert!(
                reports[0]
                    .why
                    .contains("varies along more than the channels"),
                "{}",
                reports[0]
            );
        }
        let x: Vec<f64> = (0..9).map(|i| i as f64 - 4.0).collect();
        let (a, b) = (
            forward_model(&m, &x).unwrap(),
            forward_model(&small, &x).unwrap(),
        );
        assert_close_exact(&b, &a, "folded vs the model");
    }
}

/// ONNX's `Expand` examples on `data = [[1], [2], [3]]` (shape `(3, 1)`): to `(3, 4)` each row repeats its
/// value 4 times; to `(2, 3, 6)` (the broadcast of `(3, 1)` and ONNX's `shape = [2, 1, 6]`) that block of
/// rows appears twice, each row 6 times.
#[test]
fn expand_onnx_examples() {
    let x = [1.0, 2.0, 3.0];
    let rows =
        |n: usize| -> Vec<f64> { x.iter().flat_map(|&v| std::iter::repeat_n(v, n)).collect() };
    let to = Expand::new(Shape::cl(3, 4)).unwrap();
    assert_gives(to, Shape::cl(3, 1), &x, Shape::cl(3, 4), &rows(4));
    let to = Expand::new(Shape::chw(2, 3, 6)).unwrap();
    let twice: Vec<f64> = rows(6).repeat(2);
    assert_gives(to, Shape::cl(3, 1), &x, Shape::chw(2, 3, 6), &twice);
    // a scalar sample broadcast everywhere
    let to = Expand::new(Shape::cl(2, 2)).unwrap();
    assert_gives(
        to,
        Shape::from_dims(&[]).unwrap(),
        &[7.0],
        Shape::cl(2, 2),
        &[7.0; 4],
    );
}

/// ONNX's `ReduceMean` and `ReduceSum` examples with `axes = [1]`, `keepdims = 1`, the data as one sample of
/// shape `(3, 2, 2)`: the mean of `[[[5, 1], [20, 2]], [[30, 1], [40, 2]], [[55, 1], [60, 2]]]` is
/// `[[[12.5, 1.5]], [[35, 1.5]], [[57.5, 1.5]]]`, the sum of `1..=12` is `[[[4, 6]], [[12, 14]], [[20, 22]]]`;
/// without `keepdims` the axis goes, and reducing every axis leaves a sample with no axis (`78`).
#[test]
fn reduce_onnx_examples() {
    let input = Shape::chw(3, 2, 2);
    let x = [
        5.0, 1.0, 20.0, 2.0, 30.0, 1.0, 40.0, 2.0, 55.0, 1.0, 60.0, 2.0,
    ];
    let mean = Reduce::new(ReduceOp::Mean, vec![1], true).unwrap();
    let want = [12.5, 1.5, 35.0, 1.5, 57.5, 1.5];
    assert_gives(mean, input, &x, Shape::chw(3, 1, 2), &want);
    let ones: Vec<f64> = (1..=12).map(f64::from).collect();
    let sum = Reduce::new(ReduceOp::Sum, vec![1], true).unwrap();
    let want = [4.0, 6.0, 12.0, 14.0, 20.0, 22.0];
    assert_gives(sum, input, &ones, Shape::chw(3, 1, 2), &want);
    let sum = Reduce::new(ReduceOp::Sum, vec![1], false).unwrap();
    assert_gives(sum, input, &ones, Shape::cl(3, 2), &want);
    let all = Reduce::new(ReduceOp::Sum, vec![0, 1, 2], false).unwrap();
    assert_gives(all, input, &ones, Shape::from_dims(&[]).unwrap(), &[78.0]);
    // PyTorch's x.mean((1, 3)) of one (2, 2, 1, 2) sample: means over pairs 2 apart, then 1 apart
    let nd = Shape::from_dims(&[2, 2, 1, 2]).unwrap();
    let r = Reduce::new(ReduceOp::Mean, vec![3, 1], false).unwrap();
    let want = [(1.0 + 2.0 + 3.0 + 4.0) / 4.0, (5.0 + 6.0 + 7.0 + 8.0) / 4.0];
    assert_gives(r, nd, &ones[..8], Shape::cl(2, 1), &want);
}

/// ONNX's `DepthToSpace` examples, blocksize 2, on the `(8, 2, 3)` sample whose channel `k`, row `r`,
/// column `j` holds `9k + 3r + j`. DCR (ONNX's default):
/// `[[[0, 18, 1, 19, 2, 20], [36, 54, 37, 55, 38, 56], [3, 21, 4, 22, 5, 23], [39, 57, 40, 58, 41, 59]],
///   [[9, 27, 10, 28, 11, 29], [45, 63, 46, 64, 47, 65], [12, 30, 13, 31, 14, 32], [48, 66, 49, 67, 50, 68]]]`;
/// CRD (PyTorch's `pixel_shuffle`):
/// `[[[0, 9, 1, 10, 2, 11], [18, 27, 19, 28, 20, 29], [3, 12, 4, 13, 5, 14], [21, 30, 22, 31, 23, 32]],
///   [[36, 45, 37, 46, 38, 47], [54, 63, 55, 64, 56, 65], [39, 48, 40, 49, 41, 50], [57, 66, 58, 67, 59, 68]]]`.
/// `SpaceToDepth` (ONNX's definition) undoes DCR.
#[test]
fn depth_to_space_onnx_examples() {
    let x: Vec<f64> = (0..48).map(|i| (9 * (i / 6) + i % 6) as f64).collect();
    let (input, out) = (Shape::chw(8, 2, 3), Shape::chw(2, 4, 6));
    let dcr = [
        0, 18, 1, 19, 2, 20, 36, 54, 37, 55, 38, 56, 3, 21, 4, 22, 5, 23, 39, 57, 40, 58, 41,
        59, //
        9, 27, 10, 28, 11, 29, 45, 63, 46, 64, 47, 65, 12, 30, 13, 31, 14, 32, 48, 66, 49, 67, 50,
        68,
    ]
    .map(f64::from);
    let crd = [
        0, 9, 1, 10, 2, 11, 18, 27, 19, 28, 20, 29, 3, 12, 4, 13, 5, 14, 21, 30, 22, 31, 23,
        32, //
        36, 45, 37, 46, 38, 47, 54, 63, 55, 64, 56, 65, 39, 48, 40, 49, 41, 50, 57, 66, 58, 67, 59,
        68,
    ]
    .map(f64::from);
    let d = DepthToSpace::new(2, DepthToSpaceMode::Dcr).unwrap();
    assert_gives(d, input, &x, out, &dcr);
    let d = DepthToSpace::new(2, DepthToSpaceMode::Crd).unwrap();
    assert_gives(d, input, &x, out, &crd);
    assert_gives(SpaceToDepth::new(2).unwrap(), out, &dcr, input, &x);
    // by hand: the 2x2 block [[1, 2], [3, 4]] of one channel becomes 4 channels of one pixel
    let s = SpaceToDepth::new(2).unwrap();
    let four = [1.0, 2.0, 3.0, 4.0];
    assert_gives(s, Shape::chw(1, 2, 2), &four, Shape::chw(4, 1, 1), &four);
}

/// The tolerance of a Resize's hand values: its weights are `f32` (onnxruntime's arithmetic).
const F32: f64 = 1e-6;

fn resize(mode: ResizeMode, coordinate: CoordinateMode, target: ResizeTarget) -> Resize {
    Resize::new(mode, coordinate, target).unwrap()
}

/// ONNX's `Resize` test cases (the operator's examples), each on one sample without the batch axis (its
/// scale 1 or size 1 dropped). `[[1, 2], [3, 4]]` at scales `(2, 3)`, nearest, half_pixel,
/// round_prefer_floor: `[[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]]`;
/// linear at scales `(2, 2)`: `[[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5],
/// [3, 3.25, 3.75, 4]]` (PyTorch's `F.interpolate(scale_factor=2, mode="bilinear")` gives the same); with
/// align_corners every step is a third. `[[1, 2, 3, 4], [5, 6, 7, 8]]` at scales `(0.6, 0.6)`: linear
/// `[[8/3, 13/3]]`, nearest `[[1, 3]]`.
#[test]
fn resize_onnx_examples_2x2() {
    use CoordinateMode::{AlignCorners, HalfPixel};
    let nearest = ResizeMode::Nearest(NearestMode::RoundPreferFloor);
    let x = [1.0, 2.0, 3.0, 4.0];
    let input = Shape::chw(1, 2, 2);
    let r = resize(
        nearest,
        HalfPixel,
        ResizeTarget::Scales(vec![1.0, 2.0, 3.0]),
    );
    let want = [
        [1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
        [3.0, 3.0, 3.0, 4.0, 4.0, 4.0],
    ];
    let want: Vec<f64> = [want[0], want[0], want[1], want[1]].concat();
    assert_gives_within(r, input, &x, Shape::chw(1, 4, 6), &want, F32);
    let r = resize(
        ResizeMode::Linear,
        HalfPixel,
        ResizeTarget::Scales(vec![1.0, 2.0, 2.0]),
    );
    let want = [
        1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
    ];
    assert_gives_within(r, input, &x, Shape::chw(1, 4, 4), &want, F32);
    let r = resize(
        ResizeMode::Linear,
        AlignCorners,
        ResizeTarget::Scales(vec![1.0, 2.0, 2.0]),
    );
    let want: Vec<f64> = (0..16)
        .map(|i| 1.0 + (i / 4) as f64 * 2.0 / 3.0 + (i % 4) as f64 / 3.0)
        .collect();
    assert_gives_within(r, input, &x, Shape::chw(1, 4, 4), &want, F32);
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let down = ResizeTarget::Scales(vec![0.6, 0.6]);
    let r = resize(ResizeMode::Linear, HalfPixel, down.clone());
    let want = [8.0 / 3.0, 13.0 / 3.0];
    assert_gives_within(r, Shape::cl(2, 4), &x, Shape::cl(1, 2), &want, F32);
    let r = resize(nearest, HalfPixel, down);
    assert_gives_within(r, Shape::cl(2, 4), &x, Shape::cl(1, 2), &[1.0, 3.0], F32);
}

/// ONNX's examples on the 4x4 sample `1..=16` resized to 8x8, one row of the output for each input row
/// (the rows repeat as the columns do): nearest floor + align_corners reads columns
/// `[0, 0, 0, 1, 1, 2, 2, 3]`; nearest ceil + half_pixel `[0, 1, 1, 2, 2, 3, 3, 3]`; nearest
/// round_prefer_ceil + asymmetric `[0, 1, 1, 2, 2, 3, 3, 3]`. To sizes `(3, 1)`, linear +
/// pytorch_half_pixel gives `[5/3, 7, 37/3]` (the single column reads column 0; PyTorch itself would read
/// the centre, 1.5). `[1, 2, 3, 4]` at scale 0.6, linear + half_pixel_symmetric: `[5/3, 10/3]`.
#[test]
fn resize_onnx_examples_4x4() {
    use CoordinateMode::*;
    use NearestMode::*;
    let x: Vec<f64> = (1..=16).map(f64::from).collect();
    let input = Shape::cl(4, 4);
    let sizes = ResizeTarget::Sizes(vec![8, 8]);
    let cases = [
        (Floor, AlignCorners, [0, 0, 0, 1, 1, 2, 2, 3]),
        (Ceil, HalfPixel, [0, 1, 1, 2, 2, 3, 3, 3]),
        (RoundPreferCeil, Asymmetric, [0, 1, 1, 2, 2, 3, 3, 3]),
    ];
    for (round, coordinate, picks) in cases {
        let r = resize(ResizeMode::Nearest(round), coordinate, sizes.clone());
        let want: Vec<f64> = (0..64)
            .map(|i| x[picks[i / 8] * 4 + picks[i % 8]])
            .collect();
        assert_gives_within(r, input, &x, Shape::cl(8, 8), &want, F32);
    }
    let r = resize(
        ResizeMode::Linear,
        PytorchHalfPixel,
        ResizeTarget::Sizes(vec![3, 1]),
    );
    assert_gives_within(
        r,
        input,
        &x,
        Shape::cl(3, 1),
        &[5.0 / 3.0, 7.0, 37.0 / 3.0],
        F32,
    );
    let r = resize(
        ResizeMode::Linear,
        HalfPixelSymmetric,
        ResizeTarget::Scales(vec![0.6]),
    );
    let want = [5.0 / 3.0, 10.0 / 3.0];
    assert_gives_within(r, Shape::flat(4), &x[..4], Shape::flat(2), &want, F32);
}

/// Bug (found by the onnxruntime goldens): with coordinates in `f64`, `(1 + 0.5) / 0.6f32 - 0.5` is
/// 1.9999999 and `floor` read row 1, where onnxruntime (in `f32`) gets exactly 2 and reads row 2; its
/// `half_pixel_symmetric` sums in `f64` and reads row 1. Output lengths are `f32` too: 10 at scale 0.7
/// has 7 outputs in onnxruntime (`f64` would give 6).
#[test]
fn resize_rounds_as_onnxruntime_in_f32() {
    use CoordinateMode::{Asymmetric, HalfPixel, HalfPixelSymmetric};
    let floor = ResizeMode::Nearest(NearestMode::Floor);
    let rows: Vec<f64> = (0..5).map(f64::from).collect();
    let scales = ResizeTarget::Scales(vec![0.6, 1.0]);
    let r = resize(floor, HalfPixel, scales.clone());
    assert_gives(r, Shape::cl(5, 1), &rows, Shape::cl(3, 1), &[0.0, 2.0, 3.0]);
    let r = resize(floor, HalfPixelSymmetric, scales);
    assert_gives(r, Shape::cl(5, 1), &rows, Shape::cl(3, 1), &[0.0, 1.0, 3.0]);
    let ten: Vec<f64> = (0..10).map(f64::from).collect();
    let r = resize(floor, Asymmetric, ResizeTarget::Scales(vec![0.7]));
    let want = [0.0, 1.0, 2.0, 4.0, 5.0, 7.0, 8.0];
    assert_gives(r, Shape::flat(10), &ten, Shape::flat(7), &want);
}
