//! The ONNX importer on models PyTorch's two exporters wrote (`tests/data/import/`, made by
//! `scripts/make_import_fixtures.py`): dynamo's external data, `ReduceMean` with axes as an input,
//! legacy `GlobalAveragePool`, `Constant` nodes, and a `Mul` of two tensors of different shapes. Each is
//! collapsed, and original and result agree with onnxruntime's outputs through the reference.

use std::path::PathBuf;

use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::io::onnx_graph::import;
use linear_collapse::verify::forward_model;
use linear_collapse::{pipeline, Error, Options};
use ndarray::ArrayD;

use crate::common::data_dir;

/// Every fixture model: (path, case name, exporter).
fn fixtures() -> Vec<(PathBuf, String, String)> {
    let dir = data_dir().join("import");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/import")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let (case, exporter) = stem.split_once('.').expect("case.exporter");
            (p.clone(), case.to_string(), exporter.to_string())
        })
        .collect();
    out.sort();
    out
}

/// Largest difference between the reference pass of `m` and the fixture's outputs, per sample; `None`
/// when the model holds an op the reference does not implement.
fn max_error(m: &OnnxModel, case: &str, exporter: &str) -> Option<f64> {
    let dir = data_dir().join("import");
    let x: ArrayD<f32> = ndarray_npy::read_npy(dir.join(format!("{case}.inputs.npy"))).unwrap();
    let y: ArrayD<f32> =
        ndarray_npy::read_npy(dir.join(format!("{case}.{exporter}.outputs.npy"))).unwrap();
    let model = import(m, &Options::default()).expect("import");
    let mut worst = 0.0f64;
    for (xi, yi) in x.outer_iter().zip(y.outer_iter()) {
        let input: Vec<f64> = xi.iter().map(|&v| v as f64).collect();
        let got = match forward_model(&model.model, &input) {
            Ok(g) => g,
            Err(Error::Unsupported { .. }) => return None,
            Err(e) => panic!("{case}.{exporter}: {e}"),
        };
        assert_eq!(got.len(), yi.len(), "{case}.{exporter}");
        for (g, w) in got.iter().zip(yi.iter()) {
            worst = worst.max((g - *w as f64).abs());
        }
    }
    Some(worst)
}

#[test]
fn both_exporters_import_and_collapse_within_tolerance() {
    let all = fixtures();
    assert!(all.len() >= 8, "{} fixtures", all.len());
    let mut checked = 0;
    for (path, case, exporter) in &all {
        let original = OnnxModel::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (collapsed, summary) =
            pipeline::collapse_onnx(original.clone(), &Options::default(), &mut |_, _| {})
                .unwrap_or_else(|e| panic!("{case}.{exporter}: {e}"));
        assert!(
            !summary.runs.is_empty(),
            "{case}.{exporter}: no linear run found"
        );
        assert!(
            collapsed.node_count() <= original.node_count(),
            "{case}.{exporter}"
        );
        for m in [&original, &collapsed] {
            if let Some(err) = max_error(m, case, exporter) {
                assert!(err < 1e-4, "{case}.{exporter}: max error {err:.2e}");
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 12,
        "only {checked} models checked against the reference"
    );
}

#[test]
fn a_global_pool_ends_a_run_as_the_pooled_shape() {
    // legacy GlobalAveragePool and dynamo ReduceMean both give the Linear its 8 inputs
    for exporter in ["legacy", "dynamo"] {
        let path = data_dir().join(format!("import/gap_head.{exporter}.onnx"));
        let m = import(&OnnxModel::read(path).unwrap(), &Options::default()).unwrap();
        let shapes = m.model.shapes().unwrap();
        assert_eq!(shapes.last().unwrap().numel(), 5, "{exporter}");
        assert!(
            shapes
                .iter()
                .any(|s| s.dims() == [8, 1, 1] || s.dims() == [8]),
            "{exporter}: {shapes:?}"
        );
    }
}

#[test]
fn external_data_must_stay_in_the_models_folder() {
    let dir = std::env::temp_dir().join(format!("lc-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = data_dir().join("import/gap_head.dynamo.onnx");
    // The model without its data file beside it: refused, naming the tensor and the file.
    std::fs::copy(&src, dir.join("alone.onnx")).unwrap();
    let e = OnnxModel::read(dir.join("alone.onnx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tensor") && e.contains(".data"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `MatMul` by a constant on a `(N, 3, 2)` input is a Linear over the last axis; the `Add` after it folds
/// into its bias only when the constant is a bias over that axis: `(3,)` does, `(3, 1)` (one value per
/// row, the same length) does not.
#[test]
fn matmul_add_folds_only_a_bias_over_the_last_axis() {
    use linear_collapse::graph::Op;
    use linear_collapse::layer::Layer;
    for (file, folded) in [("matmul_add_bias", true), ("matmul_add_column", false)] {
        let path = data_dir().join(format!("extra/{file}.onnx"));
        let m = import(&OnnxModel::read(path).unwrap(), &Options::default()).unwrap();
        let Op::Layer(Layer::Linear(fc)) = &m.model.nodes()[0].op else {
            panic!("{file}: {:?}", m.model.nodes()[0].op)
        };
        assert_eq!(fc.bias().is_some(), folded, "{file}");
        assert_eq!(m.model.nodes().len(), if folded { 1 } else { 2 }, "{file}");
        if folded {
            // x = [[1, 0], [0, 1], [1, 1]]: rows of W^T = [[1, 2, 3], [4, 5, 6]] plus [10, 20, 30]
            let x = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
            let y = linear_collapse::verify::forward_model(&m.model, &x).unwrap();
            let want = [11.0, 22.0, 33.0, 14.0, 25.0, 36.0, 15.0, 27.0, 39.0];
            assert_eq!(y, want, "{file}");
        }
    }
}

/// A `Shape` of a value inside a replaced run, read by a node the run does not contain (LeViT's
/// `LinearNorm` does this with `reshape_as`): the `Shape` is written as the constant it computed, so the
/// collapsed file stays valid and still agrees with onnxruntime.
#[test]
fn a_shape_of_a_value_inside_a_replaced_run_becomes_a_constant() {
    let dir = data_dir().join("extra");
    let m = OnnxModel::read(dir.join("shape_of_internal.onnx")).unwrap();
    let (out, summary) = pipeline::collapse_onnx(m, &Options::default(), &mut |_, _| {}).unwrap();
    assert_eq!(out.op_types(), ["MatMul", "Relu", "Reshape"], "{summary}");
    let back = OnnxModel::decode(&out.encode(), "collapsed").unwrap();
    let model = import(&back, &Options::default()).unwrap().model;
    let x: ArrayD<f32> = ndarray_npy::read_npy(dir.join("shape_of_internal.inputs.npy")).unwrap();
    let y: ArrayD<f32> = ndarray_npy::read_npy(dir.join("shape_of_internal.outputs.npy")).unwrap();
    let got = forward_model(&model, &x.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
    for (g, w) in got.iter().zip(y.iter()) {
        assert!(
            (g - *w as f64).abs() < 1e-5 + 1e-4 * (*w as f64).abs(),
            "{g} vs {w}"
        );
    }
}

/// Two Linears share one zero bias initializer (as legacy exports of freshly initialised models do):
/// folding the shift into the first would write a bias of its own while the shared one stays for the
/// second, so the file would grow. The default keeps the run and says why; `Force` replaces it, and both
/// files agree with onnxruntime.
#[test]
fn a_run_sharing_its_weights_with_nodes_that_stay_is_kept_when_the_file_would_grow() {
    let dir = data_dir().join("extra");
    let read = || OnnxModel::read(dir.join("shared_bias.onnx")).unwrap();
    let x: ArrayD<f32> = ndarray_npy::read_npy(dir.join("shared_bias.inputs.npy")).unwrap();
    let y: ArrayD<f32> = ndarray_npy::read_npy(dir.join("shared_bias.outputs.npy")).unwrap();
    let params = read().param_count();
    let (kept, summary) =
        pipeline::collapse_onnx(read(), &Options::default(), &mut |_, _| {}).unwrap();
    assert_eq!(kept.op_types(), read().op_types(), "{summary}");
    assert_eq!(summary.totals.params, (params, params));
    assert!(summary.runs[0].why.contains("shares weights"), "{summary}");
    let forced = Options {
        policy: linear_collapse::Policy::Force,
        ..Options::default()
    };
    let (out, summary) = pipeline::collapse_onnx(read(), &forced, &mut |_, _| {}).unwrap();
    assert!(summary.totals.params.1 > params, "{summary}");
    for m in [kept, out] {
        let model = import(&m, &Options::default()).unwrap().model;
        let got = forward_model(&model, &x.iter().map(|&v| v as f64).collect::<Vec<_>>()).unwrap();
        for (g, w) in got.iter().zip(y.iter()) {
            assert!(
                (g - *w as f64).abs() < 1e-4 + 1e-5 * (*w as f64).abs(),
                "{g} vs {w}"
            );
        }
    }
}
