//! PyTorch's semantics of each layer on tiny inputs, with the expected values worked out by hand (and as
//! `torch.nn` prints them): both the lowered map and the reference must give them.

use linear_collapse::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig,
    ConvTranspose2d, ConvTranspose2dConfig, Dropout, Identity, Layer, Pad, PadMode, Permute,
    Reshape, Upsample,
};
use linear_collapse::{collapse, lower, reference, Options, Shape};
use ndarray::{array, Array1, Array4};

/// `layer` applied to `x` by the lowered map and by the reference both give `want`, of shape `out`.
#[track_caller]
pub(crate) fn assert_gives(
    layer: impl Into<Layer<f64>>,
    input: Shape,
    x: &[f64],
    out: Shape,
    want: &[f64],
) {
    assert_gives_within(layer, input, x, out, want, 1e-12);
}

/// [`assert_gives`] to a relative `tol` (a Resize computes its weights in `f32`, as onnxruntime does).
#[track_caller]
pub(crate) fn assert_gives_within(
    layer: impl Into<Layer<f64>>,
    input: Shape,
    x: &[f64],
    out: Shape,
    want: &[f64],
    tol: f64,
) {
    let layer = layer.into();
    let what = layer.describe();
    let (y, shape) = reference::forward(std::slice::from_ref(&layer), input, x).expect("reference");
    assert_eq!(shape, out, "{what}: reference shape");
    assert_close_to(&y, want, tol, &format!("{what}: reference"));
    let map = lower::lower(&layer, input).expect("lowers");
    let y = map.apply(&Array1::from(x.to_vec()));
    let y = y.as_slice().expect("contiguous");
    assert_close_to(y, want, tol, &format!("{what}: lowered"));
}

#[track_caller]
pub(crate) fn assert_close_exact(got: &[f64], want: &[f64], what: &str) {
    assert_close_to(got, want, 1e-12, what);
}

#[track_caller]
fn assert_close_to(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: [{i}] = {g}, want {w}"
        );
    }
}

const ONE_TO_FIVE: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];

/// `F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True)` on `[1, 2, 3, 4, 5]`: three windows
/// `[pad 1 2]`, `[2 3 4]`, `[4 5 pad]`; with `count_include_pad` every divisor is 3.
#[test]
fn avgpool1d_ceil_mode_with_padding() {
    let config = AvgPool1dConfig::default()
        .stride(2)
        .padding(1)
        .ceil_mode(true);
    let pool = AvgPool1d::new(3, config).unwrap();
    assert_gives(
        pool,
        Shape::cl(1, 5),
        &ONE_TO_FIVE,
        Shape::cl(1, 3),
        &[1.0, 3.0, 3.0],
    );
    let pool = AvgPool1d::new(3, config.count_include_pad(false)).unwrap();
    assert_gives(
        pool,
        Shape::cl(1, 5),
        &ONE_TO_FIVE,
        Shape::cl(1, 3),
        &[1.5, 3.0, 4.5],
    );
}

/// `F.avg_pool1d(x, 2, ceil_mode=True)` on `[1, 2, 3, 4, 5]` is `[1.5, 3.5, 5.0]`: the last window hangs
/// over the end and, clipped to the (unpadded) input, has size 1 even with `count_include_pad`.
#[test]
fn avgpool1d_ceil_mode_window_past_the_end() {
    let pool = AvgPool1d::new(2, AvgPool1dConfig::default().ceil_mode(true)).unwrap();
    assert_gives(
        pool,
        Shape::cl(1, 5),
        &ONE_TO_FIVE,
        Shape::cl(1, 3),
        &[1.5, 3.5, 5.0],
    );
    let pool = AvgPool1d::new(2, AvgPool1dConfig::default()).unwrap();
    assert_gives(
        pool,
        Shape::cl(1, 5),
        &ONE_TO_FIVE,
        Shape::cl(1, 2),
        &[1.5, 3.5],
    );
}

/// `nn.AvgPool2d(3, stride=3, padding=1, ceil_mode=True)` on 5x5: the rounded-up count is 3 per axis, but
/// the third window would start in the bottom padding (at 6 >= 5 + 1), so PyTorch keeps 2.
#[test]
fn avgpool2d_ceil_mode_drops_a_window_starting_in_the_padding() {
    let config = AvgPool2dConfig::default().padding(1).ceil_mode(true);
    let pool = AvgPool2d::new([3, 3], config).unwrap();
    assert_eq!(pool.out_dims([5, 5]), Some([2, 2]));
    let x: Vec<f64> = (0..25).map(f64::from).collect();
    // window rows -1..2 and 2..5, columns likewise; divisor 9 (count_include_pad)
    let sum = |ys: &[usize], xs: &[usize]| -> f64 {
        ys.iter()
            .flat_map(|&y| xs.iter().map(move |&c| (y * 5 + c) as f64))
            .sum()
    };
    let want = [
        sum(&[0, 1], &[0, 1]) / 9.0,
        sum(&[0, 1], &[2, 3, 4]) / 9.0,
        sum(&[2, 3, 4], &[0, 1]) / 9.0,
        sum(&[2, 3, 4], &[2, 3, 4]) / 9.0,
    ];
    assert_gives(pool, Shape::chw(1, 5, 5), &x, Shape::chw(1, 2, 2), &want);
}

#[test]
fn pad_modes_1d() {
    let x = [1.0, 2.0, 3.0];
    let cases = [
        (PadMode::Reflect, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]),
        (PadMode::Replicate, [1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]),
        (PadMode::Circular, [2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]),
        (PadMode::Constant(0.5), [0.5, 0.5, 1.0, 2.0, 3.0, 0.5, 0.5]),
    ];
    for (mode, want) in cases {
        let pad = Pad::new_1d([2, 2], mode).unwrap();
        assert_gives(pad, Shape::cl(1, 3), &x, Shape::cl(1, 7), &want);
    }
}

/// `F.pad(x, (1, 0, 0, 1), mode="reflect")` on `[[1, 2], [3, 4]]`: left 1, bottom 1 (our `[0, 1, 1, 0]`).
#[test]
fn pad_reflect_2d_corner() {
    let pad = Pad::new([0, 1, 1, 0], PadMode::Reflect).unwrap();
    let want = [2.0, 1.0, 2.0, 4.0, 3.0, 4.0, 2.0, 1.0, 2.0];
    assert_gives(
        pad,
        Shape::chw(1, 2, 2),
        &[1.0, 2.0, 3.0, 4.0],
        Shape::chw(1, 3, 3),
        &want,
    );
}

/// `eps` inside the square root: `2 * (3 - 1) / sqrt(3 + 1) + 0.5 = 2.5`.
#[test]
fn batchnorm_formula() {
    let bn = BatchNorm::new(
        array![1.0],
        array![3.0],
        1.0,
        Some(array![2.0]),
        Some(array![0.5]),
    )
    .unwrap();
    assert_gives(bn, Shape::flat(1), &[3.0], Shape::flat(1), &[2.5]);
    let bn2 = BatchNorm::new(array![0.0, 1.0], array![1.0, 4.0], 0.0, None, None).unwrap();
    let x = [1.0, 2.0, 3.0, 5.0];
    assert_gives(
        bn2,
        Shape::cl(2, 2),
        &x,
        Shape::cl(2, 2),
        &[1.0, 2.0, 1.0, 2.0],
    );
}

/// `nn.Conv1d(1, 1, 3, padding=1)` with weight `[1, 0, -1]` on `[1, 2, 3, 4]`: `[-2, -2, -2, 3]`.
#[test]
fn conv1d_values() {
    let conv = Conv1d::new(
        array![[[1.0, 0.0, -1.0]]],
        None,
        Conv1dConfig::default().padding(1),
    )
    .unwrap();
    assert_gives(
        conv,
        Shape::cl(1, 4),
        &[1.0, 2.0, 3.0, 4.0],
        Shape::cl(1, 4),
        &[-2.0, -2.0, -2.0, 3.0],
    );
    let conv = Conv1d::new(
        array![[[1.0, 0.0, -1.0]]],
        Some(array![1.0]),
        Conv1dConfig::default().stride(2),
    )
    .unwrap();
    assert_gives(
        conv,
        Shape::cl(1, 5),
        &ONE_TO_FIVE,
        Shape::cl(1, 2),
        &[-1.0, -1.0],
    );
}

/// `nn.ConvTranspose2d(1, 1, (1, 3), stride=2)` with weight ones on `[1, 2]`: the kernels land at 0 and 2,
/// `[1, 1, 3, 2, 2]`; `padding=(0, 1)` crops one each side, `output_padding=(0, 1)` adds a bias-only column.
#[test]
fn conv_transpose2d_values() {
    let w = Array4::from_elem((1, 1, 1, 3), 1.0);
    let input = Shape::chw(1, 1, 2);
    let x = [1.0, 2.0];
    let plain = ConvTranspose2dConfig {
        stride: [1, 2],
        ..Default::default()
    };
    let up = ConvTranspose2d::new(w.clone(), None, plain).unwrap();
    assert_gives(
        up,
        input,
        &x,
        Shape::chw(1, 1, 5),
        &[1.0, 1.0, 3.0, 2.0, 2.0],
    );
    let cropped = ConvTranspose2dConfig {
        padding: [0, 1, 0, 1],
        ..plain
    };
    let up = ConvTranspose2d::new(w.clone(), None, cropped).unwrap();
    assert_gives(up, input, &x, Shape::chw(1, 1, 3), &[1.0, 3.0, 2.0]);
    let grown = ConvTranspose2dConfig {
        output_padding: [0, 1],
        ..plain
    };
    let up = ConvTranspose2d::new(w, Some(array![0.5]), grown).unwrap();
    let want = [1.5, 1.5, 3.5, 2.5, 2.5, 0.5];
    assert_gives(up, input, &x, Shape::chw(1, 1, 6), &want);
}

#[test]
fn upsample_nearest() {
    let up = Upsample::new([2, 2]).unwrap();
    let want = [
        1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0,
    ];
    assert_gives(
        up,
        Shape::chw(1, 2, 2),
        &[1.0, 2.0, 3.0, 4.0],
        Shape::chw(1, 4, 4),
        &want,
    );
    let up = Upsample::new_1d(3).unwrap();
    assert_gives(
        up,
        Shape::cl(1, 2),
        &[1.0, 2.0],
        Shape::cl(1, 6),
        &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0],
    );
}

/// `x.permute(0, 1, 3, 2)` on one `1x2x3` sample: a transpose of the image.
#[test]
fn permute_swaps_height_and_width() {
    let p = Permute::new(&[0, 2, 1]).unwrap();
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    assert_gives(
        p,
        Shape::chw(1, 2, 3),
        &x,
        Shape::chw(1, 3, 2),
        &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0],
    );
    // channels last: (c, h, w) -> (h, w, c)
    let p = Permute::new(&[1, 2, 0]).unwrap();
    let x = [1.0, 2.0, 3.0, 4.0];
    assert_gives(
        p,
        Shape::chw(2, 1, 2),
        &x,
        Shape::chw(1, 2, 2),
        &[1.0, 3.0, 2.0, 4.0],
    );
}

/// `x.permute(0, 2, 1)` on one `(2, 3)` sample (a matrix transpose), and `x.permute(0, 4, 3, 2, 1)` on one
/// `(1, 2, 1, 2)` sample: element `(0, a, 0, b)` goes to `(b, 0, a, 0)`.
#[test]
fn permute_any_rank() {
    let p = Permute::new(&[1, 0]).unwrap();
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let want = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
    assert_gives(p, Shape::cl(2, 3), &x, Shape::cl(3, 2), &want);
    let p = Permute::new(&[3, 2, 1, 0]).unwrap();
    let input = Shape::from_dims(&[1, 2, 1, 2]).unwrap();
    let out = Shape::from_dims(&[2, 1, 2, 1]).unwrap();
    assert_gives(p, input, &[1.0, 2.0, 3.0, 4.0], out, &[1.0, 3.0, 2.0, 4.0]);
    assert_gives(
        Permute::new(&[0]).unwrap(),
        Shape::flat(2),
        &[1.0, 2.0],
        Shape::flat(2),
        &[1.0, 2.0],
    );
}

#[test]
fn identity_like_layers_lower_to_the_identity() {
    let x = [1.0, -2.0, 3.0, 0.5, 7.0, 1.0];
    let s = Shape::chw(1, 2, 3);
    assert_gives(Identity, s, &x, s, &x);
    assert_gives(Dropout::new(0.9).unwrap(), s, &x, s, &x);
    let r = Reshape::new(Shape::cl(3, 2)).unwrap();
    assert_gives(r, s, &x, Shape::cl(3, 2), &x);
    for layer in [
        Layer::<f64>::Identity(Identity),
        Dropout::new(0.5).unwrap().into(),
        r.into(),
    ] {
        let m = lower::lower(&layer, s).unwrap();
        assert_eq!(m.matrix, linear_collapse::matrix::Matrix::Identity(6));
    }
}

/// A chain of only identity-like layers collapses to the identity.
#[test]
fn identity_chain_collapses_to_the_identity() {
    let chain: Vec<Layer<f32>> = vec![
        Identity.into(),
        Dropout::new(0.1).unwrap().into(),
        Reshape::new(Shape::flat(6)).unwrap().into(),
    ];
    let fc = collapse(&chain, Shape::chw(1, 2, 3), &Options::default()).unwrap();
    assert_eq!(fc.weight(), &ndarray::Array2::<f32>::eye(6));
    assert_eq!(fc.bias_or_zeros(), Array1::<f32>::zeros(6));
}
