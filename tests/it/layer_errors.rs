//! Every validation of the layers beyond Conv2d and Linear: an `Err` naming the layer and the reason, from
//! the constructor (parameters) or from every entry point that takes a chain (shapes).

use linear_collapse::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig,
    ConvTranspose2d, ConvTranspose2dConfig, Dropout, Flatten, Layer, Pad, PadMode, Permute,
    Reshape, Upsample,
};
use linear_collapse::{Error, Shape};
use ndarray::{array, Array1, Array3, Array4};

use crate::errors::{assert_chain_error, assert_mentions};

/// A constructor's error: an [`Error::InvalidLayer`] printing every one of `parts`.
#[track_caller]
pub(crate) fn assert_invalid<T: std::fmt::Debug>(r: Result<T, Error>, parts: &[&str]) {
    let e = r.unwrap_err();
    assert!(matches!(e, Error::InvalidLayer { .. }), "{e:?}");
    assert_mentions(&e, parts);
}

fn bn(n: usize) -> BatchNorm<f32> {
    BatchNorm::new(Array1::zeros(n), Array1::ones(n), 1e-5, None, None).expect("valid")
}

#[test]
fn batchnorm_parameters() {
    let ones = || Array1::<f32>::ones(3);
    let e = BatchNorm::new(Array1::<f32>::zeros(0), Array1::zeros(0), 1e-5, None, None);
    assert_invalid(e, &["BatchNorm(0", "no channels"]);
    let e = BatchNorm::new(ones(), Array1::ones(2), 1e-5, None, None);
    assert_invalid(
        e,
        &[
            "BatchNorm(3",
            "running_var has 2 elements, running_mean has 3",
        ],
    );
    let e = BatchNorm::new(ones(), ones(), 1e-5, Some(Array1::ones(4)), None);
    assert_invalid(e, &["weight has 4 elements"]);
    let e = BatchNorm::new(ones(), ones(), 1e-5, None, Some(array![1.0, f32::NAN, 1.0]));
    assert_invalid(
        e,
        &[
            "BatchNorm(3",
            "bias has a non-finite value (NaN) at flat index 1",
        ],
    );
    let e = BatchNorm::new(array![f32::INFINITY], array![1.0], 1e-5, None, None);
    assert_invalid(e, &["running_mean has a non-finite value (inf)"]);
    let e = BatchNorm::new(array![0.0f32], array![1.0], f64::NAN, None, None);
    assert_invalid(e, &["eps = NaN is not finite"]);
    // var + eps must be positive: a zero variance needs eps > 0
    let e = BatchNorm::new(array![0.0f32, 0.0], array![1.0, 0.0], 0.0, None, None);
    assert_invalid(
        e,
        &[
            "BatchNorm(2, eps 0)",
            "running_var[1] + eps = 0 is not positive",
        ],
    );
    let e = BatchNorm::new(array![0.0f32], array![-0.5], 0.1, None, None);
    assert_invalid(e, &["running_var[0] + eps = -0.4 is not positive"]);
    assert!(BatchNorm::new(array![0.0f32], array![0.0], 1e-5, None, None).is_ok());
}

#[test]
fn batchnorm_shapes() {
    let chain: Vec<Layer<f32>> = vec![bn(3).into()];
    assert_chain_error(
        &chain,
        Shape::chw(4, 2, 2),
        0,
        &["num_features is 3", "4 channels"],
    );
    assert_chain_error(
        &chain,
        Shape::cl(2, 5),
        0,
        &["(3, H, W), (3, L) or (3)", "2 channels"],
    );
    assert_chain_error(&chain, Shape::flat(5), 0, &["5 features"]);
}

#[test]
fn avgpool_parameters() {
    let e = AvgPool2d::new([0, 2], AvgPool2dConfig::default());
    assert_invalid(
        e,
        &["AvgPool2d(k0x2)", "kernel [0, 2] has a zero dimension"],
    );
    let e = AvgPool2d::new([2, 2], AvgPool2dConfig::default().stride(0));
    assert_invalid(e, &["AvgPool2d(k2x2)", "stride [0, 0] must be at least 1"]);
    // PyTorch: "pad should be at most half of effective kernel size"
    let config = AvgPool2dConfig {
        padding: [0, 0, 0, 2],
        ..Default::default()
    };
    let e = AvgPool2d::new([3, 3], config);
    assert_invalid(
        e,
        &["padding [0, 0, 0, 2] must be at most half the kernel [3, 3]"],
    );
    assert!(AvgPool2d::new([3, 4], AvgPool2dConfig::default().padding(1)).is_ok());
    let e = AvgPool1d::new(0, AvgPool1dConfig::default());
    assert_invalid(e, &["AvgPool1d(k0)", "kernel must be at least 1"]);
    let e = AvgPool1d::new(2, AvgPool1dConfig::default().stride(0));
    assert_invalid(e, &["AvgPool1d(k2)", "stride must be at least 1"]);
    let e = AvgPool1d::new(3, AvgPool1dConfig::default().padding(2));
    assert_invalid(e, &["padding [2, 2] must be at most half the kernel 3"]);
}

#[test]
fn avgpool_shapes() {
    let pool = AvgPool2d::new([3, 3], AvgPool2dConfig::default()).unwrap();
    let chain: Vec<Layer<f32>> = vec![pool.into(), Flatten.into()];
    assert_chain_error(
        &chain,
        Shape::chw(1, 2, 5),
        0,
        &["AvgPool2d(k3x3)", "larger than the padded input 2x5"],
    );
    assert_chain_error(
        &chain,
        Shape::cl(1, 5),
        0,
        &["(C, H, W)", "takes a (C, H, W) input"],
    );
    // ceil mode admits a window hanging over the end, but not one starting past the input
    let ceil =
        AvgPool2d::new([3, 3], AvgPool2dConfig::default().stride(2).ceil_mode(true)).unwrap();
    assert_eq!(ceil.out_dims([2, 2]), Some([1, 1]));
    assert_eq!(ceil.out_dims([1, 1]), None);
    let pool = AvgPool1d::new(4, AvgPool1dConfig::default()).unwrap();
    let chain: Vec<Layer<f32>> = vec![pool.into()];
    assert_chain_error(
        &chain,
        Shape::cl(2, 3),
        0,
        &["AvgPool1d(k4)", "longer than the padded input 3"],
    );
    assert_chain_error(&chain, Shape::chw(2, 3, 3), 0, &["(C, L)"]);
}

#[test]
fn pad_parameters_and_limits() {
    let e = Pad::new([1, 1, 1, 1], PadMode::Constant(f32::INFINITY));
    assert_invalid(
        e,
        &[
            "Pad(constant, [1, 1, 1, 1])",
            "constant value inf is not finite",
        ],
    );
    let reflect = Pad::<f32>::new([0, 2, 0, 1], PadMode::Reflect).unwrap();
    let chain: Vec<Layer<f32>> = vec![reflect.into()];
    // PyTorch: "Padding size should be less than the corresponding input dimension"
    assert_chain_error(
        &chain,
        Shape::chw(1, 4, 2),
        0,
        &["reflect padding 2 must be smaller than the input width 2"],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(1, 1, 3)).is_ok());
    let circular = Pad::<f32>::new([3, 0, 0, 0], PadMode::Circular).unwrap();
    let chain: Vec<Layer<f32>> = vec![circular.into()];
    // PyTorch: "Padding value causes wrapping around more than once"
    assert_chain_error(
        &chain,
        Shape::chw(1, 2, 2),
        0,
        &["circular padding 3 must be at most the input height 2"],
    );
    assert!(linear_collapse::infer::shapes(&chain, Shape::chw(1, 3, 2)).is_ok());
    let two_d = Pad::<f32>::new([1, 0, 0, 0], PadMode::Constant(0.0)).unwrap();
    let chain: Vec<Layer<f32>> = vec![two_d.into()];
    assert_chain_error(
        &chain,
        Shape::cl(1, 4),
        0,
        &["top and bottom must be 0, got 1 and 0"],
    );
    assert_chain_error(&chain, Shape::flat(4), 0, &["(C, H, W) or (C, L)"]);
}

#[test]
fn conv1d_parameters() {
    let w = || Array3::<f32>::zeros((4, 2, 3));
    let e = Conv1d::new(
        Array3::<f32>::zeros((4, 2, 0)),
        None,
        Conv1dConfig::default(),
    );
    assert_invalid(e, &["Conv1d(2->4, k0", "kernel size must be at least 1"]);
    let e = Conv1d::new(w(), None, Conv1dConfig::default().stride(0));
    assert_invalid(e, &["Conv1d(2->4, k3", "stride must be at least 1"]);
    let e = Conv1d::new(w(), None, Conv1dConfig::default().dilation(0));
    assert_invalid(e, &["dilation must be at least 1"]);
    let e = Conv1d::new(w(), None, Conv1dConfig::default().groups(3));
    assert_invalid(
        e,
        &[
            "Conv1d(6->4, k3, groups 3)",
            "groups = 3 must divide C_out = 4",
        ],
    );
    let e = Conv1d::new(w(), Some(Array1::zeros(3)), Conv1dConfig::default());
    assert_invalid(e, &["Conv1d(2->4", "bias has 3 elements, C_out is 4"]);
    let mut bad = w();
    bad[[1, 0, 2]] = f32::NAN;
    let e = Conv1d::new(bad, None, Conv1dConfig::default());
    assert_invalid(
        e,
        &[
            "Conv1d(2->4",
            "weight has a non-finite value (NaN) at flat index 8",
        ],
    );
    let e = Conv1d::new(
        Array3::<f32>::zeros((0, 2, 3)),
        None,
        Conv1dConfig::default(),
    );
    assert_invalid(e, &["Conv1d(", "zero channel"]);
}

#[test]
fn conv1d_shapes() {
    let conv = Conv1d::new(
        Array3::<f32>::zeros((4, 2, 5)),
        None,
        Conv1dConfig::default().dilation(2),
    )
    .unwrap();
    let chain: Vec<Layer<f32>> = vec![conv.into(), Flatten.into()];
    assert_chain_error(
        &chain,
        Shape::cl(3, 20),
        0,
        &["(2, L)", "C_in is 2 but the input has 3 channels"],
    );
    assert_chain_error(
        &chain,
        Shape::cl(2, 8),
        0,
        &["dilated kernel 9 is longer than the padded input 8"],
    );
    assert_chain_error(&chain, Shape::chw(2, 1, 20), 0, &["takes a (C, L) input"]);
}

#[test]
fn conv_transpose2d_parameters() {
    let w = || Array4::<f32>::zeros((4, 2, 3, 3));
    let e = ConvTranspose2d::new(Array4::<f32>::zeros((4, 2, 0, 3)), None, Default::default());
    assert_invalid(
        e,
        &[
            "ConvTranspose2d(4->2, k0x3",
            "kernel [0, 3] has a zero dimension",
        ],
    );
    let e = ConvTranspose2d::new(Array4::<f32>::zeros((0, 2, 3, 3)), None, Default::default());
    assert_invalid(e, &["zero channel"]);
    let e = ConvTranspose2d::new(w(), None, ConvTranspose2dConfig::default().stride(0));
    assert_invalid(e, &["stride [0, 0] must be at least 1"]);
    let e = ConvTranspose2d::new(w(), None, ConvTranspose2dConfig::default().dilation(0));
    assert_invalid(e, &["dilation [0, 0] must be at least 1"]);
    // PyTorch: "output padding must be smaller than either stride or dilation"
    let config = ConvTranspose2dConfig {
        stride: [2, 1],
        dilation: [1, 1],
        output_padding: [1, 1],
        ..Default::default()
    };
    let e = ConvTranspose2d::new(w(), None, config);
    let why = "output_padding [1, 1] must be smaller than either the stride [2, 1] or the dilation [1, 1]";
    assert_invalid(e, &[why]);
    let ok = ConvTranspose2dConfig {
        dilation: [1, 2],
        ..config
    };
    assert!(ConvTranspose2d::new(w(), None, ok).is_ok());
    let e = ConvTranspose2d::new(w(), None, ConvTranspose2dConfig::default().groups(3));
    assert_invalid(
        e,
        &[
            "ConvTranspose2d(4->6, k3x3, groups 3)",
            "groups = 3 must divide C_in = 4",
        ],
    );
    let e = ConvTranspose2d::new(
        w(),
        Some(Array1::zeros(3)),
        ConvTranspose2dConfig::default().groups(2),
    );
    assert_invalid(e, &["bias has 3 elements, C_out is 4"]);
    let mut bad = w();
    bad[[0, 1, 0, 0]] = f32::NEG_INFINITY;
    let e = ConvTranspose2d::new(bad, None, Default::default());
    assert_invalid(e, &["weight has a non-finite value (-inf) at flat index 9"]);
}

#[test]
fn conv_transpose2d_shapes() {
    let config = ConvTranspose2dConfig::default().padding(1);
    let up = ConvTranspose2d::new(Array4::<f32>::zeros((2, 3, 1, 1)), None, config).unwrap();
    let chain: Vec<Layer<f32>> = vec![up.into()];
    assert_chain_error(
        &chain,
        Shape::chw(3, 4, 4),
        0,
        &["(2, H, W)", "C_in is 2 but the input has 3 channels"],
    );
    // output 2 - 1 - 1 = 0 rows
    assert_chain_error(
        &chain,
        Shape::chw(2, 2, 4),
        0,
        &["padding [1, 1, 1, 1] crops the whole output of a 2x4 input"],
    );
    assert_chain_error(&chain, Shape::flat(8), 0, &["takes a (C, H, W) input"]);
}

#[test]
fn upsample_errors() {
    assert_invalid(
        Upsample::new([2, 0]),
        &["Upsample(nearest, scale [2, 0])", "at least 1"],
    );
    assert_invalid(Upsample::new_1d(0), &["scale [1, 0]"]);
    let chain: Vec<Layer<f32>> = vec![Upsample::new([2, 2]).unwrap().into()];
    assert_chain_error(
        &chain,
        Shape::cl(1, 4),
        0,
        &["the scale must be [1, s], got [2, 2]"],
    );
    assert_chain_error(&chain, Shape::flat(4), 0, &["(C, H, W) or (C, L)"]);
}

#[test]
fn dropout_reshape_permute_errors() {
    assert_invalid(Dropout::new(-0.1), &["Dropout(p -0.1)", "between 0 and 1"]);
    assert_invalid(Dropout::new(f64::NAN), &["between 0 and 1"]);
    assert!(Dropout::new(1.0).is_ok());
    assert_invalid(
        Reshape::new(Shape::cl(0, 3)),
        &["Reshape(0, 3)", "zero dimension"],
    );
    let chain: Vec<Layer<f32>> = vec![Reshape::new(Shape::cl(4, 5)).unwrap().into()];
    assert_chain_error(
        &chain,
        Shape::chw(2, 3, 3),
        0,
        &[
            "Reshape(4, 5)",
            "the input has 18 elements, the target shape (4, 5) has 20",
        ],
    );
    assert_invalid(
        Permute::new(&[0, 1, 3]),
        &["Permute[0, 1, 3]", "permutation of [0, 1, 2]"],
    );
    assert_invalid(Permute::new(&[1, 0, 0]), &["permutation of [0, 1, 2]"]);
    assert_invalid(Permute::new(&[]), &["Permute[]", "1 to 7 axes, got 0"]);
    let eight: Vec<usize> = (0..8).collect();
    assert_invalid(Permute::new(&eight), &["1 to 7 axes, got 8"]);
    let chain: Vec<Layer<f32>> = vec![Permute::new(&[0, 2, 1]).unwrap().into()];
    assert_chain_error(
        &chain,
        Shape::cl(2, 3),
        0,
        &["3 axes", "it permutes 3 axes but the input has 2"],
    );
}

/// A shape error deeper in a chain names that layer, after the new layers before it passed.
#[test]
fn error_after_new_layers_names_the_right_index() {
    let chain: Vec<Layer<f32>> = vec![
        Pad::new([1; 4], PadMode::Constant(0.0)).unwrap().into(),
        bn(2).into(),
        AvgPool2d::new([2, 2], AvgPool2dConfig::default())
            .unwrap()
            .into(),
        Permute::new(&[0, 2, 1]).unwrap().into(),
        Reshape::new(Shape::flat(19)).unwrap().into(),
    ];
    // (2, 4, 6) -> pad (2, 6, 8) -> pool (2, 3, 4) -> permute (2, 4, 3): 24 elements, not 19
    assert_chain_error(
        &chain,
        Shape::chw(2, 4, 6),
        4,
        &["(2, 4, 3)", "24 elements"],
    );
}
