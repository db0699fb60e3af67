//! One test per crash the fuzzers found (`fuzz/`), its input committed under `tests/data/regressions/`.
//! Each input must now be refused with an error naming the culprit, never a panic; `cargo test` builds
//! with overflow checks, so an unchecked sum or product on the input's numbers fails here as it did in
//! the fuzzer.

use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::{pipeline, Options};

use crate::common::data_dir;

fn small_budget() -> Options {
    Options {
        memory_budget: 64 << 20,
        ..Options::default()
    }
}

/// The error of the pipeline on a regression model: decoding, or else `inspect` (which plans and
/// costs every run).
fn onnx_error(name: &str) -> String {
    let path = data_dir().join("regressions").join(name);
    let model = match OnnxModel::read(&path) {
        Ok(m) => m,
        Err(e) => return e.to_string(),
    };
    match pipeline::inspect_onnx(&model, &small_budget()) {
        Ok(_) => panic!("{name}: accepted"),
        Err(e) => e.to_string(),
    }
}

/// The error of the chain pipeline on a regression spec with the seed's weights.
fn chain_error(name: &str) -> String {
    let spec = data_dir().join("regressions").join(name);
    let weights = data_dir().join("seed_conv_fc/weights.safetensors");
    let chain = match pipeline::read_chain(&weights, &spec) {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    match pipeline::collapse_chain(&chain, &small_budget()) {
        Ok(_) => panic!("{name}: accepted"),
        Err(e) => e.to_string(),
    }
}

/// onnx_pipeline: a Conv's `pads` of 4.8e18 before a GlobalAveragePool; the pool's kernel area
/// overflowed in `cost::layer_macs` (`attempt to multiply with overflow`).
#[test]
fn conv_pads_of_4e18_before_a_global_pool() {
    let err = onnx_error("gap_head_huge_pads.onnx");
    assert!(
        err.contains("'/conv/Conv'") && err.contains("64 bits"),
        "{err}"
    );
}

/// The same model as the fuzzer wrote it, with an opset version of 0.
#[test]
fn conv_pads_of_4e18_at_opset_0() {
    let err = onnx_error("gap_head_huge_pads_opset0.onnx");
    assert!(err.contains("version 0"), "{err}");
}

/// chain_spec: a Conv2d padding of 2^63; the shape error's message summed the two pads unchecked
/// (`attempt to add with overflow`, `infer/mod.rs`, height).
#[test]
fn chain_conv_padding_of_2_pow_63() {
    let err = chain_error("chain_padding_2_63.json");
    assert!(err.contains("layer #0"), "{err}");
}

/// The same on the width (`padding: [2, 2^63]`).
#[test]
fn chain_conv_width_padding_of_2_pow_63() {
    let err = chain_error("chain_padding_width_2_63.json");
    assert!(err.contains("layer #0"), "{err}");
}

/// A padding past 2^63 (18263576701900293990), with stray keys on the other layers.
#[test]
fn chain_conv_padding_past_2_pow_63() {
    let err = chain_error("chain_padding_past_2_63.json");
    assert!(err.contains("layer #0"), "{err}");
}

/// What the first crash reached: the multiply-adds of an average pool whose window is 2^40 x 2^40
/// (its kernel area overflowed). The count saturates; it is never a panic.
#[test]
fn cost_of_a_pool_with_a_window_of_2_pow_80() {
    use linear_collapse::layer::{AvgPool2d, AvgPool2dConfig, Layer};
    use linear_collapse::{cost, Shape};
    let k = 1usize << 40;
    let cfg = AvgPool2dConfig {
        padding: [k / 2; 4],
        ..AvgPool2dConfig::default()
    };
    let pool = AvgPool2d::new([k, k], cfg).expect("a valid pool");
    let macs = cost::macs(&Layer::<f32>::AvgPool2d(pool), Shape::chw(1, 1, 1)).expect("fits");
    assert_eq!(macs, u64::MAX);
}

/// onnx_pipeline: a `ConstantOfShape` of 255 axes `[0, 1, ..., 254]`: no element (a 0 axis), so it
/// passed the folding budget, but ndarray refuses a shape whose other axes multiply past `isize::MAX`
/// (`Shape too large` panic in `analyze/source.rs`).
#[test]
fn constant_of_shape_of_255_axes_one_of_them_empty() {
    let err = onnx_error("constant_of_shape_255_axes.onnx");
    assert!(
        err.contains("ConstantOfShape") && err.contains("overflows"),
        "{err}"
    );
}

/// chain_spec: six Pads, one of 2^40 columns, planned with `Method::Im2col`: the product planner's
/// multiply-add count overflowed (`compose/plan.rs`, `attempt to multiply with overflow`).
#[test]
fn chain_of_pads_past_u64_in_the_product_planner() {
    let dir = data_dir().join("regressions");
    let chain = pipeline::read_chain(
        dir.join("chain_product_past_u64.safetensors"),
        dir.join("chain_product_past_u64.json"),
    )
    .expect("a valid chain");
    let opts = Options {
        method: linear_collapse::Method::Im2col,
        par: linear_collapse::Par::Seq,
        ..small_budget()
    };
    let err = pipeline::collapse_chain(&chain, &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("memory budget"), "{err}");
}

/// safetensors_header: a tensor whose `data_offsets` end near `u64::MAX`; the `safetensors` crate adds
/// that end to the header's length unchecked (`attempt to add with overflow` in its `tensor.rs`).
#[test]
fn safetensors_offsets_near_u64_max() {
    use linear_collapse::io::safetensors::Weights;
    let header = br#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551610]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0; 4]);
    let err = Weights::from_bytes("st".into(), bytes)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tensor 'w'") && err.contains("data_offsets"),
        "{err}"
    );
}

/// onnx_pipeline: a `Slice` (negative step) folded over a constant with an empty axis; clamping its
/// start to `[0, dim - 1]` asked for `min > max` (`analyze/select.rs`, a panic in `i64::clamp`).
#[test]
fn slice_of_an_empty_axis() {
    let err = onnx_error("slice_of_an_empty_axis.onnx");
    assert!(err.contains("conv_11"), "{err}");
}

/// onnx_pipeline: a model of ai.onnx version 1, forced to collapse, was written with a two-input
/// `Reshape` (version 5 on) that its own opset does not have: the result did not decode. Models older
/// than the written ops' opset keep every run.
#[test]
fn a_model_of_opset_1_keeps_its_runs() {
    let path = data_dir().join("regressions/opset_1_model.onnx");
    let model = OnnxModel::read(&path).expect("a valid model");
    let opts = Options {
        policy: linear_collapse::Policy::Force,
        ..small_budget()
    };
    let (out, summary) = pipeline::collapse_onnx(model, &opts, &mut |_, _| {}).expect("collapses");
    OnnxModel::decode(&out.encode(), "collapsed").expect("the result decodes");
    let why = &summary.runs[0].why;
    assert!(why.contains("version 1"), "{why}");
}
