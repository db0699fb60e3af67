//! The op fixtures (`tests/data/ops/`, written node by node with `onnx.helper` by
//! `scripts/make_op_fixtures.py`, outputs from onnxruntime): every linear op and opset spelling the
//! importer maps. Each case must map exactly its linear ONNX nodes onto linear model nodes, its reference
//! pass must agree with onnxruntime, and it must still agree after collapsing (forced, and by default,
//! where it must not cost more).

use std::collections::BTreeSet;

use linear_collapse::graph::Op;
use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::io::onnx_graph::import;
use linear_collapse::verify::forward_model;
use linear_collapse::{pipeline, Options, Policy};
use ndarray::ArrayD;
use serde_json::Value;

use crate::common::data_dir;

/// Every case of `cases.json`.
fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(data_dir().join("ops/cases.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["cases"].as_array().unwrap().clone()
}

/// The largest violation of `|got - want| <= 1e-5 + 1e-4 |want|` (0 when within), per sample of `m` on
/// the case's inputs, against the first output.
fn worst(m: &OnnxModel, name: &str) -> f64 {
    let dir = data_dir().join("ops");
    let x: ArrayD<f32> = ndarray_npy::read_npy(dir.join(format!("{name}.inputs.npy"))).unwrap();
    let y: ArrayD<f32> = ndarray_npy::read_npy(dir.join(format!("{name}.outputs.npy"))).unwrap();
    let model = import(m, &Options::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .model;
    let mut worst = 0.0f64;
    for (xi, yi) in x.outer_iter().zip(y.outer_iter()) {
        let input: Vec<f64> = xi.iter().map(|&v| v as f64).collect();
        let got = forward_model(&model, &input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), yi.len(), "{name}: output size");
        for (g, w) in got.iter().zip(yi.iter()) {
            let w = *w as f64;
            worst = worst.max((g - w).abs() - (1e-5 + 1e-4 * w.abs()));
        }
    }
    worst.max(0.0)
}

#[test]
fn every_linear_op_maps_onto_linear_nodes() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let m = OnnxModel::read(data_dir().join(format!("ops/{name}.onnx"))).unwrap();
        let imported = import(&m, &Options::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let linear: BTreeSet<usize> = imported
            .model
            .nodes()
            .iter()
            .zip(&imported.onnx_nodes)
            .filter(|(n, _)| !matches!(n.op, Op::Nonlinear(_)))
            .flat_map(|(_, k)| k.iter().copied())
            .collect();
        let want = case["linear_nodes"].as_u64().unwrap() as usize;
        assert_eq!(linear.len(), want, "{name}: {:?}", m.op_types());
    }
}

#[test]
fn every_case_agrees_with_onnxruntime_before_and_after_collapsing() {
    let force = Options {
        policy: Policy::Force,
        ..Options::default()
    };
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let m = OnnxModel::read(data_dir().join(format!("ops/{name}.onnx"))).unwrap();
        assert_eq!(
            worst(&m, name),
            0.0,
            "{name}: the import disagrees with onnxruntime"
        );
        for (policy, opts) in [("forced", &force), ("default", &Options::default())] {
            let (out, summary) = pipeline::collapse_onnx(m.clone(), opts, &mut |_, _| {})
                .unwrap_or_else(|e| panic!("{name} ({policy}): {e}"));
            // what is written is read again, as a user would
            let back = OnnxModel::decode(&out.encode(), name).unwrap();
            assert_eq!(worst(&back, name), 0.0, "{name} ({policy}): {summary}");
            if policy == "default" {
                let t = summary.totals;
                assert!(
                    t.macs.1 <= t.macs.0 && t.params.1 <= t.params.0,
                    "{name}: {summary}"
                );
                assert!(t.nodes.1 <= t.nodes.0, "{name}: {summary}");
            }
        }
    }
}
