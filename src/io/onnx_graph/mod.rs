//! ONNX graphs as [`Model`](crate::graph::Model)s, and replaced runs written back as ONNX.
//!
//! [`import`] maps each ONNX node onto one model node (a `MatMul` and the `Add` of its bias become one
//! Linear); every op this crate cannot express as a linear layer becomes a boundary. [`rewrite`] replaces
//! runs by new ops (`Conv`, or `Gemm` with a `Flatten`/`Reshape` where needed) in place: the run's entry
//! and exit keep their names, so the graph keeps its inputs, outputs, batch dimension and every other
//! node, initializer, opset import and metadata. What to replace is decided elsewhere
//! ([`crate::pipeline`]).

mod analyze;
mod export;
mod import;
mod ops;
mod shapes;
mod share;

pub(crate) use analyze::opset;
pub(crate) use export::gone;
pub use export::{rewrite, RunEdit, MIN_WRITE_OPSET};
pub use import::{import, Imported};
pub use shapes::{value_shapes, ValueShape};
pub(crate) use share::freed_params;
