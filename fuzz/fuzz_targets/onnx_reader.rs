//! Untrusted ONNX bytes: decoding must return `Ok` or `Err`, never panic, abort or allocate unboundedly;
//! a model it accepts re-encodes to bytes that decode to the same model, and its import and plan (the
//! pipeline's `inspect`, under a small memory budget) return `Ok` or `Err` too.
//!
//! `cargo fuzz run onnx_reader CORPUS_DIR tests/data/*/model.onnx`, from the repository root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linear_collapse::io::onnx::OnnxModel;
use linear_collapse::{pipeline, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = OnnxModel::decode(data, "fuzz") else {
        return;
    };
    // What was accepted re-encodes to a model that is accepted again and encodes the same (bytes, not
    // `==`, which a NaN weight would fail).
    let bytes = model.encode();
    let again = OnnxModel::decode(&bytes, "re-encoded").expect("re-decode");
    assert_eq!(again.encode(), bytes, "round trip changed the model");
    let opts = Options {
        memory_budget: 64 << 20,
        ..Options::default()
    };
    let _ = pipeline::inspect_onnx(&model, &opts);
});
