//! Untrusted ONNX bytes: `decode_model` must return `Ok` or `Err`, never panic, abort or allocate
//! unboundedly, and the tensors and attributes of any model it accepts must read back the same way.
//!
//! `cargo fuzz run onnx_reader CORPUS_DIR tests/data/*/model.onnx`, from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linear_collapse::io::onnx;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = onnx::decode_model(data, "fuzz") else {
        return;
    };
    let Some(graph) = &model.graph else {
        panic!("decode_model accepted a model with no graph");
    };
    for t in &graph.initializer {
        let _ = onnx::tensor_f32(t);
        let _ = onnx::tensor_i64(t);
    }
    for node in &graph.node {
        // Each look-up scans the attributes: bound the work per node.
        for a in node.attribute.iter().take(16) {
            let _ = onnx::attr_int(node, &a.name);
            let _ = onnx::attr_ints(node, &a.name);
            let _ = onnx::attr_float(node, &a.name);
            let _ = onnx::attr_string(node, &a.name);
            if let Ok(Some(t)) = onnx::attr_tensor(node, &a.name) {
                let _ = onnx::tensor_f32(t);
                let _ = onnx::tensor_i64(t);
            }
        }
    }
    for v in graph
        .input
        .iter()
        .chain(&graph.output)
        .chain(&graph.value_info)
    {
        let _ = onnx::value_info_dims(v);
    }
    // What was accepted re-encodes to a model that is accepted again and encodes the same (bytes, not
    // `==`, which a NaN weight would fail).
    let bytes = onnx::encode_model(&model);
    let again = onnx::decode_model(&bytes, "re-encoded").expect("re-decode");
    assert_eq!(
        onnx::encode_model(&again),
        bytes,
        "round trip changed the model"
    );
});
