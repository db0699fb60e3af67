//! Invalid input is a clear `Err` naming the layer (index or description) and the reason; never a panic.

use linear_collapse::compose::{explain, forward_batch};
use linear_collapse::io::safetensors::Weights;
use linear_collapse::layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use linear_collapse::{collapse, infer, lower, reference, Error, Method, Options, Par, Shape};
use ndarray::{array, Array1, Array2, Array4};

use crate::common::{data_dir, largest_allocation, Case};

/// Asserts that `err` prints every one of `parts`.
#[track_caller]
pub(crate) fn assert_mentions(err: &Error, parts: &[&str]) {
    let msg = err.to_string();
    for p in parts {
        assert!(
            msg.contains(p),
            "error message {msg:?} does not mention {p:?}"
        );
    }
}

fn conv(c_out: usize, c_in: usize, k: usize, config: Conv2dConfig) -> Conv2d<f32> {
    let w = Array4::from_elem((c_out, c_in / config.groups, k, k), 0.1);
    Conv2d::new(w, Some(Array1::zeros(c_out)), config).expect("valid conv")
}

fn linear(out: usize, inp: usize) -> Linear<f32> {
    Linear::new(Array2::from_elem((out, inp), 0.1), None).expect("valid linear")
}

/// A chain error seen through every entry point that takes a chain: all name the same layer.
#[track_caller]
pub(crate) fn assert_chain_error(chain: &[Layer<f32>], input: Shape, index: usize, parts: &[&str]) {
    let layer = format!("layer #{index}");
    let name = chain[index].describe();
    let mut all = vec![layer.as_str(), name.as_str()];
    all.extend_from_slice(parts);
    let e = infer::shapes(chain, input).unwrap_err();
    assert!(
        matches!(e, Error::Shape { layer, .. } if layer == index),
        "{e:?}"
    );
    assert_mentions(&e, &all);
    assert_mentions(
        &collapse(chain, input, &Options::default()).unwrap_err(),
        &all,
    );
    for method in [Method::Dense, Method::Sparse, Method::Im2col] {
        let opts = Options {
            method,
            ..Options::default()
        };
        assert_mentions(&collapse(chain, input, &opts).unwrap_err(), &all);
        assert_mentions(&explain(chain, input, &opts).unwrap_err(), &all);
    }
    let batch = ndarray::Array2::<f32>::zeros((2, input.numel()));
    let e = forward_batch(chain, input, batch.view(), Par::Seq).unwrap_err();
    assert_mentions(&e, &all);
    let x = vec![0.0; input.numel()];
    // the reference has its own wording of the reason; it must still name the layer and the shapes
    let e = reference::forward(chain, input, &x).unwrap_err();
    assert!(
        matches!(e, Error::Shape { layer, .. } if layer == index),
        "{e:?}"
    );
    assert_mentions(&e, &[layer.as_str(), name.as_str()]);
    assert!(reference::probe(chain, input).is_err());
}

#[test]
fn channel_mismatch() {
    let chain: Vec<Layer<f32>> = vec![
        conv(4, 3, 3, Conv2dConfig::default()).into(),
        conv(2, 5, 3, Conv2dConfig::default()).into(),
        Flatten.into(),
    ];
    assert_chain_error(&chain, Shape::chw(3, 8, 8), 1, &["C_in is 5", "4 channels"]);
    let e = lower::lower(&chain[0], Shape::chw(2, 8, 8)).unwrap_err();
    assert_mentions(&e, &["Conv2d(3->4", "C_in is 3", "2 channels"]);
}

#[test]
fn kernel_larger_than_padded_input() {
    let chain: Vec<Layer<f32>> = vec![
        conv(2, 1, 5, Conv2dConfig::default().padding(1)).into(),
        Flatten.into(),
    ];
    assert_chain_error(
        &chain,
        Shape::chw(1, 2, 9),
        0,
        &["kernel 5x5 is larger than the padded input 4x11"],
    );
    let e = lower::toeplitz(&conv(2, 1, 5, Conv2dConfig::default()), Shape::chw(1, 9, 4));
    assert_mentions(&e.unwrap_err(), &["larger than the padded input"]);
}

#[test]
fn groups_not_dividing_channels() {
    let w = Array4::<f32>::zeros((6, 2, 3, 3));
    let e = Conv2d::new(w.clone(), None, Conv2dConfig::default().groups(4)).unwrap_err();
    assert!(matches!(e, Error::InvalidLayer { .. }), "{e:?}");
    assert_mentions(&e, &["Conv2d(", "groups = 4 must divide C_out = 6"]);
    let e = Conv2d::new(w, None, Conv2dConfig::default().groups(0)).unwrap_err();
    assert_mentions(&e, &["Conv2d(", "groups = 0"]);
    // C_in = groups * C_in/groups always divides; a mismatch with the input is a shape error
    let g2 = conv(4, 4, 1, Conv2dConfig::default().groups(2));
    let chain: Vec<Layer<f32>> = vec![g2.into()];
    assert_chain_error(&chain, Shape::chw(3, 4, 4), 0, &["C_in is 4"]);
}

#[test]
fn linear_in_features_mismatch() {
    let chain: Vec<Layer<f32>> = vec![
        conv(2, 1, 3, Conv2dConfig::default()).into(),
        Flatten.into(),
        linear(10, 51).into(),
    ];
    assert_chain_error(
        &chain,
        Shape::chw(1, 7, 7),
        2,
        &["Linear(51->10)", "in_features is 51", "50 features"],
    );
}

#[test]
fn linear_given_an_image() {
    let chain: Vec<Layer<f32>> = vec![
        conv(2, 1, 3, Conv2dConfig::default()).into(),
        linear(10, 50).into(),
    ];
    assert_chain_error(
        &chain,
        Shape::chw(1, 7, 7),
        1,
        &[
            "(2, 5, 5)",
            "in_features is 50 but the input's last axis has 5",
            "Flatten",
        ],
    );
}

#[test]
fn conv_given_a_flat_input() {
    let chain: Vec<Layer<f32>> = vec![
        linear(16, 4).into(),
        conv(1, 1, 3, Conv2dConfig::default()).into(),
    ];
    assert_chain_error(&chain, Shape::flat(4), 1, &["(C, H, W)"]);
}

#[test]
fn zero_stride() {
    let w = Array4::<f32>::zeros((2, 1, 3, 3));
    let config = Conv2dConfig {
        stride: [1, 0],
        ..Conv2dConfig::default()
    };
    let e = Conv2d::new(w, None, config).unwrap_err();
    assert!(matches!(e, Error::InvalidLayer { .. }), "{e:?}");
    assert_mentions(
        &e,
        &["Conv2d(1->2, k3x3", "stride [1, 0] must be at least 1"],
    );
}

#[test]
fn zero_dilation() {
    let w = Array4::<f32>::zeros((2, 1, 3, 3));
    let e = Conv2d::new(w, None, Conv2dConfig::default().dilation(0)).unwrap_err();
    assert_mentions(
        &e,
        &["Conv2d(1->2, k3x3", "dilation [0, 0] must be at least 1"],
    );
}

#[test]
fn zero_sizes() {
    let e = Conv2d::new(
        Array4::<f32>::zeros((2, 1, 0, 3)),
        None,
        Conv2dConfig::default(),
    );
    assert_mentions(
        &e.unwrap_err(),
        &["Conv2d(", "kernel [0, 3] has a zero dimension"],
    );
    let e = Conv2d::new(
        Array4::<f32>::zeros((0, 1, 3, 3)),
        None,
        Conv2dConfig::default(),
    );
    assert_mentions(&e.unwrap_err(), &["Conv2d(", "zero channel"]);
    let e = Linear::new(Array2::<f32>::zeros((0, 3)), None).unwrap_err();
    assert_mentions(&e, &["Linear(3->0)", "zero dimension"]);
}

#[test]
fn nan_weight() {
    let mut w = Array4::<f32>::zeros((2, 1, 3, 3));
    w[[1, 0, 2, 1]] = f32::NAN;
    let e = Conv2d::new(w, None, Conv2dConfig::default()).unwrap_err();
    assert_mentions(
        &e,
        &[
            "Conv2d(1->2",
            "weight has a non-finite value (NaN) at flat index 16",
        ],
    );
    let e = Linear::new(array![[1.0f64, f64::INFINITY]], None).unwrap_err();
    assert_mentions(
        &e,
        &[
            "Linear(2->1)",
            "weight has a non-finite value (inf) at flat index 1",
        ],
    );
    let e = Linear::new(array![[1.0f32]], Some(array![f32::NAN])).unwrap_err();
    assert_mentions(&e, &["Linear(1->1)", "bias has a non-finite value"]);
}

#[test]
fn weights_that_overflow_f32_are_an_error() {
    let l = Layer::Linear(Linear::new(array![[1e300f64]], None).expect("finite in f64"));
    let e = l.cast::<f32>().unwrap_err();
    assert_mentions(&e, &["Linear(1->1)", "non-finite"]);
    // a product that overflows is reported, not returned as infinity
    let big = Array2::from_elem((1, 4), 1e30f32);
    let chain: Vec<Layer<f32>> = vec![
        Linear::new(big.clone().reversed_axes(), None)
            .unwrap()
            .into(),
        Linear::new(big, None).unwrap().into(),
    ];
    let e = collapse(&chain, Shape::flat(1), &Options::default()).unwrap_err();
    assert_mentions(&e, &["collapsed layer", "not finite in f32"]);
}

#[test]
fn bias_length_mismatch() {
    let e = Linear::new(Array2::<f32>::zeros((3, 2)), Some(Array1::zeros(2))).unwrap_err();
    assert_mentions(
        &e,
        &["Linear(2->3)", "bias has 2 elements, out_features is 3"],
    );
    let w = Array4::<f32>::zeros((4, 1, 3, 3));
    let e = Conv2d::new(w, Some(Array1::zeros(3)), Conv2dConfig::default()).unwrap_err();
    assert_mentions(&e, &["Conv2d(1->4", "bias has 3 elements, C_out is 4"]);
}

fn seed_weights_bytes() -> Vec<u8> {
    std::fs::read(data_dir().join("seed_conv_fc/weights.safetensors")).expect("fixture")
}

#[test]
fn truncated_safetensors() {
    let bytes = seed_weights_bytes();
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = Weights::from_bytes("seed.safetensors".into(), bytes[..cut].to_vec()).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "cut at {cut}: {e:?}");
        assert_mentions(&e, &["seed.safetensors"]);
    }
}

#[test]
fn garbage_safetensors_file() {
    let dir = std::env::temp_dir().join(format!("linear-collapse-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("garbage.safetensors");
    // a header length far beyond the file, then junk
    let mut junk = u64::MAX.to_le_bytes().to_vec();
    junk.extend_from_slice(b"{\"not\": \"a tensor\"}");
    std::fs::write(&path, &junk).expect("write");
    let e = Weights::read(&path).unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e:?}");
    assert_mentions(&e, &["garbage.safetensors"]);
    // a valid header length with a header that is not JSON
    let mut junk = 8u64.to_le_bytes().to_vec();
    junk.extend_from_slice(b"notjson!");
    std::fs::write(&path, &junk).expect("write");
    assert_mentions(&Weights::read(&path).unwrap_err(), &["garbage.safetensors"]);
    let missing = dir.join("missing.safetensors");
    let e = Weights::read(&missing).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert_mentions(&e, &["missing.safetensors"]);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn missing_tensor() {
    let w = Weights::from_bytes("seed.safetensors".into(), seed_weights_bytes()).expect("valid");
    let e = w.tensor::<f32>("1.weight").unwrap_err();
    assert!(matches!(e, Error::Format { .. }), "{e:?}");
    assert_mentions(
        &e,
        &[
            "seed.safetensors",
            "tensor '1.weight'",
            "not found",
            "0.weight, 2.bias",
        ],
    );
}

#[test]
fn tensor_of_the_wrong_shape() {
    let w = Weights::from_bytes("seed.safetensors".into(), seed_weights_bytes()).expect("valid");
    let e = w
        .tensor_shaped::<f32>("0.weight", &[50, 5, 3, 3])
        .unwrap_err();
    assert_mentions(
        &e,
        &[
            "tensor '0.weight'",
            "has shape [50, 5, 5, 5], expected [50, 5, 3, 3]",
        ],
    );
}

/// A conv whose dense Toeplitz matrix is 137 GB (262144 x 131072 floats) and sparse one ~226 MB; the
/// Linear after it is 1 MB.
fn big_conv_chain() -> (Vec<Layer<f32>>, Shape) {
    let chain = vec![
        conv(16, 8, 3, Conv2dConfig::default().padding(1)).into(),
        Flatten.into(),
        linear(1, 16 * 128 * 128).into(),
    ];
    (chain, Shape::chw(8, 128, 128))
}

const SMALL_BUDGET: u64 = 4 << 20;

#[test]
fn memory_guard_dense() {
    let (chain, input) = big_conv_chain();
    let opts = Options {
        memory_budget: SMALL_BUDGET,
        method: Method::Dense,
        ..Options::default()
    };
    let e = collapse(&chain, input, &opts).unwrap_err();
    let Error::TooLarge { needed, budget, .. } = &e else {
        panic!("expected TooLarge, got {e:?}");
    };
    assert_eq!(*budget, SMALL_BUDGET);
    assert!(*needed >= 262_144 * 131_072 * 4, "{e}");
    assert_mentions(&e, &["(8, 128, 128)", "Dense", "bytes", "4194304 bytes"]);
}

/// The guard must fire before anything of the size it guards against is allocated (the first version
/// built the sparse Toeplitz matrix, 226 MB here, before checking a 4 MiB budget).
#[test]
fn memory_guard_fires_before_allocating() {
    let (chain, input) = big_conv_chain();
    let opts = Options {
        memory_budget: SMALL_BUDGET,
        method: Method::Dense,
        ..Options::default()
    };
    let (r, peak) = largest_allocation(|| collapse(&chain, input, &opts));
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    assert!(
        peak as u64 <= SMALL_BUDGET,
        "collapse allocated {peak} bytes at once under a budget of {SMALL_BUDGET}"
    );
}

/// With `Method::Sparse` the sparse Toeplitz matrix is the working set; it must be counted too (the first
/// version checked only the `rows x n_in` result, so a 226 MB sparse matrix passed a 4 MiB guard).
#[test]
fn memory_guard_counts_the_sparse_toeplitz() {
    let (chain, input) = big_conv_chain();
    let opts = Options {
        memory_budget: SMALL_BUDGET,
        method: Method::Sparse,
        ..Options::default()
    };
    let (r, peak) = largest_allocation(|| collapse(&chain, input, &opts));
    assert!(
        peak as u64 <= SMALL_BUDGET,
        "collapse allocated {peak} bytes at once under a budget of {SMALL_BUDGET} (result {:?})",
        r.map(|fc| fc.weight().dim())
    );
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
}

/// Asserts that the largest single allocation of `collapse_with` is within the plan's predicted peak, in
/// f32 and f64, for the `conv_conv_fc` golden chain.
fn assert_plan_covers_allocations(method: Method) {
    let case = Case::load("conv_conv_fc");
    let chain64: Vec<Layer<f64>> = case
        .chain
        .iter()
        .map(|l| l.cast().expect("widens"))
        .collect();
    let opts = Options {
        method,
        par: Par::Seq,
        ..Options::default()
    };
    let plan = explain(&case.chain, case.input, &opts).expect("plan");
    let (r, peak) = largest_allocation(|| collapse(&case.chain, case.input, &opts));
    r.expect("collapse");
    assert!(
        peak as u64 <= plan.peak_bytes(),
        "{method:?}: one allocation of {peak} bytes, the plan predicts a peak of {}\n{plan}",
        plan.peak_bytes()
    );
    let plan = explain(&chain64, case.input, &opts).expect("plan");
    let (r, peak) = largest_allocation(|| collapse(&chain64, case.input, &opts));
    r.expect("collapse");
    assert!(
        peak as u64 <= plan.peak_bytes(),
        "{method:?}, f64: {peak} bytes\n{plan}"
    );
}

/// The plan's predicted peak covers every single allocation, so a budget that admits the plan is not
/// exceeded by one allocation.
#[test]
fn memory_plan_covers_the_largest_allocation() {
    assert_plan_covers_allocations(Method::Dense);
    assert_plan_covers_allocations(Method::Sparse);
}

/// Bug: the im2col kernel's column buffer is not in the plan (`product_options` gives im2col 0 temporary
/// bytes), and `fold_row` sizes it for `rows_per_tile(ow)` output rows even when the image has fewer:
/// for `conv_conv_fc` (OW = 5, OH = 5) it allocates 72 x 510 floats (146880 bytes, once per row of `M`)
/// where 72 x 25 would do, against a predicted peak of 63360 bytes.
#[test]

fn memory_plan_counts_the_im2col_column_buffer() {
    assert_plan_covers_allocations(Method::Im2col);
    assert_plan_covers_allocations(Method::Auto);
}

#[test]
fn memory_guard_identity_chain() {
    // a chain of only Flattens collapses to the identity, which is guarded too
    let chain: Vec<Layer<f32>> = vec![Flatten.into()];
    let opts = Options {
        memory_budget: SMALL_BUDGET,
        ..Options::default()
    };
    let e = collapse(&chain, Shape::chw(3, 64, 64), &opts).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
    assert_mentions(&e, &["(3, 64, 64)", "603979776 bytes"]);
}

#[test]
fn reference_input_length_mismatch() {
    let chain: Vec<Layer<f32>> = vec![linear(2, 3).into()];
    let e = reference::forward(&chain, Shape::flat(3), &[1.0, 2.0]).unwrap_err();
    assert_mentions(&e, &["2 values given for shape (3)"]);
}
