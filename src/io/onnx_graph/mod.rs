//! ONNX graphs as [`Model`](crate::model::Model)s, and collapsed models written back as ONNX.
//!
//! [`import`] maps each ONNX node onto one model node (a `MatMul` and the `Add` of its bias become one
//! Linear); every op this crate cannot express as a linear layer becomes a boundary. [`collapse`] replaces
//! each maximal linear run by its collapsed form (`Conv`, or `Gemm` with a `Flatten`/`Reshape` where
//! needed) in place: the run's entry and exit keep their names, so the graph keeps its inputs, outputs,
//! batch dimension and every other node, initializer, opset import and metadata.

mod export;
mod import;

pub use export::collapse;
pub use import::{import, Imported};
