//! ONNX model files: [`OnnxModel`] decodes, validates, encodes and writes them; the crate reads their
//! tensors and attributes.
//!
//! The protobuf message types are generated from ONNX's `onnx.proto3` with prost and checked in (private:
//! they are not part of this crate's API), so building the crate needs no `protoc`. A file is untrusted
//! input: [`OnnxModel::read`] and [`OnnxModel::decode`] validate what later stages rely on and every
//! failure is an [`Error::Format`] naming the file and the node or tensor at fault, never a panic.
//!
//! ```
//! use linear_collapse::io::onnx::OnnxModel;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gemm_gemm/model.onnx");
//! let model = OnnxModel::read(path)?;
//! assert_eq!(model.op_types(), ["Gemm", "Gemm"]);
//! assert_eq!(OnnxModel::decode(&model.encode(), "copy")?, model);
//! # Ok::<(), linear_collapse::Error>(())
//! ```

mod attr;
mod build;
mod external;
mod file;
mod operators;
mod order;
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls
)]
pub(crate) mod proto;
mod tensor;
#[cfg(test)]
mod tests;
mod validate;
mod write;

use std::path::Path;

use prost::Message;

use crate::{Error, Result};

pub(crate) use attr::{attr_float, attr_int, attr_ints, attr_string, attr_tensor};
pub use build::{Attribute, Graph, Node, Tensor, Value};
pub use file::OnnxModel;
pub(crate) use proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};
pub(crate) use tensor::{tensor_f32, tensor_from_f32, tensor_ints, type_name};

/// The largest model file accepted, in bytes: 2 GiB, protobuf's own limit for one message.
pub const MAX_MODEL_BYTES: u64 = 2 << 30;

/// The largest tensor accepted, in bytes: 2 GiB. A tensor whose dims declare more is refused before
/// anything is allocated for it.
pub const MAX_TENSOR_BYTES: u64 = 2 << 30;

/// Reads, decodes and validates an ONNX model file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Format`] naming the file when it is larger than
/// [`MAX_MODEL_BYTES`], is not a protobuf `ModelProto`, or fails validation (see [`decode_model`]).
pub(crate) fn read_model(path: impl AsRef<Path>) -> Result<ModelProto> {
    let path = path.as_ref();
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io_err)?.len();
    check_model_size(len, &path.display().to_string())?;
    // the tensors' raw data are views of this buffer, not copies of it
    let bytes = prost::bytes::Bytes::from(std::fs::read(path).map_err(io_err)?);
    let source = path.display().to_string();
    let mut model = decode_unchecked(bytes, &source)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    external::inline(&mut model, dir, &source)?;
    order::sort(&mut model);
    validate::model(&model, &source)?;
    Ok(model)
}

/// Decodes the protobuf, nothing more; raw tensor data stay views of `bytes`.
fn decode_unchecked(bytes: prost::bytes::Bytes, source_name: &str) -> Result<ModelProto> {
    check_model_size(bytes.len() as u64, source_name)?;
    ModelProto::decode(bytes).map_err(|e| Error::Format {
        context: source_name.to_string(),
        source: Box::new(e),
    })
}

/// Decodes and validates a model held in memory; `source_name` names it in errors.
///
/// Validation checks what later stages rely on:
/// - the model has a graph and imports the default (`ai.onnx`) operator set;
/// - every node has an op type, and each of its inputs is empty (an omitted optional input) or names a
///   graph input, an initializer or an output of an earlier node (nodes are in topological order);
/// - no value is defined twice, and every graph output names a defined value;
/// - initializers and tensor attributes have non-negative dims, are not over [`MAX_TENSOR_BYTES`], keep
///   their data inside the file, and for FLOAT, DOUBLE, INT32 and INT64 hold exactly as many values as
///   their dims declare;
/// - no node repeats an attribute, and shapes of graph inputs, outputs and value infos have no negative
///   dims.
///
/// Subgraphs (attributes of `If`, `Loop`, `Scan`) are not validated.
///
/// # Errors
/// [`Error::Format`] naming `source_name` and the node, tensor or value at fault.
pub(crate) fn decode_model(bytes: &[u8], source_name: &str) -> Result<ModelProto> {
    let mut model = decode_unchecked(prost::bytes::Bytes::copy_from_slice(bytes), source_name)?;
    order::sort(&mut model);
    validate::model(&model, source_name)?;
    Ok(model)
}

fn check_model_size(len: u64, source_name: &str) -> Result<()> {
    if len > MAX_MODEL_BYTES {
        return Err(Error::format(
            source_name,
            format!("the file has {len} bytes, over protobuf's limit of {MAX_MODEL_BYTES}"),
        ));
    }
    Ok(())
}

/// Encodes a model as protobuf bytes (what an `.onnx` file holds).
pub(crate) fn encode_model(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

/// One dimension of a value's shape, as a model declares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dim {
    /// A fixed size (`dim_value`).
    Fixed(i64),
    /// A named size (`dim_param`), e.g. the batch size `"N"`.
    Symbolic(String),
    /// Neither: the size is not known (also used for a negative `dim_value`).
    Unknown,
}

/// The shape of a tensor value (a graph input or output, or a value info), one [`Dim`] per axis.
///
/// `None` when the value is not a tensor or its rank is not known.
pub(crate) fn value_info_dims(value: &ValueInfoProto) -> Option<Vec<Dim>> {
    use proto::tensor_shape_proto::dimension::Value;
    use proto::type_proto::Value as Type;

    let Some(Type::TensorType(tensor)) = value.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let dims = tensor.shape.as_ref()?.dim.iter().map(|d| match &d.value {
        Some(Value::DimValue(v)) if *v >= 0 => Dim::Fixed(*v),
        Some(Value::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.clone()),
        _ => Dim::Unknown,
    });
    Some(dims.collect())
}
