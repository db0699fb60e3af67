//! The integration tests, built as one binary (`cargo test --test integration`).
//!
//! - `golden`: the PyTorch/onnxruntime cases of `tests/data/`, the outside oracle;
//! - `golden_layers`: the same for the layers of any rank, one layer per case (`tests/data/layers/`);
//! - `props`: property tests over random geometries: collapse == probe == forward == lowered maps;
//! - `errors`: every invalid input is a clear `Err` naming the layer and the reason, never a panic;
//! - `determinism`: `Par::Seq` and `Par::Rayon` with 1 or 2 threads give the same bits;
//! - `import`: models both PyTorch exporters wrote, imported, collapsed and checked;
//! - `independence`: the reference does not import the code it checks;
//! - `layers`: PyTorch's semantics of each layer beyond Conv2d/Linear on tiny hand-checked inputs;
//! - `tensor_layers`: the same for the layers of any rank, from ONNX's operator examples;
//! - `layer_props`: property tests of those layers, alone and in random chains with Conv2d and Linear
//!   (their strategies live in `specs` and, for the layers of any rank, `tensor_specs`);
//! - `layer_errors`, `tensor_layer_errors`: their validation errors;
//! - `hostile`: malformed ONNX files, chain specs and safetensors files through the binary
//!   (`tests/data/hostile/`): refused in one line with exit 2, or collapsed and checked;
//! - `built`: graphs built in memory (the PyTorch front-end's way in) and their edits;
//! - `regressions`: one test per crash the fuzzers found, its input in `tests/data/regressions/`.

mod built;
#[cfg(feature = "cli")]
mod cli;
mod common;
mod determinism;
mod docs;
mod errors;
mod golden;
mod golden_layers;
#[cfg(feature = "cli")]
mod hostile;
mod import;
mod independence;
mod layer_errors;
mod layer_props;
mod layers;
mod model;
mod ops;
mod props;
mod regressions;
mod reparam;
mod specs;
mod tensor_layer_errors;
mod tensor_layers;
mod tensor_specs;

/// Every allocation is recorded, so the memory-guard tests can see what `collapse` allocated.
#[global_allocator]
static ALLOC: common::Tracking = common::Tracking;
