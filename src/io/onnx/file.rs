//! [`OnnxModel`]: a decoded and validated ONNX file, opaque to users of the crate.

use std::path::Path;

use super::write::write_model;
use super::{decode_model, encode_model, read_model, ModelProto};
use crate::Result;

/// An ONNX model, decoded and validated (see [`OnnxModel::decode`] for what is checked).
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxModel {
    proto: ModelProto,
}

impl OnnxModel {
    /// Reads, decodes and validates an ONNX model file.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be read; [`crate::Error::Format`] naming the file when it
    /// is larger than [`super::MAX_MODEL_BYTES`], is not a protobuf `ModelProto`, or fails validation.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conv_bn_fc/model.onnx");
    /// let model = linear_collapse::io::onnx::OnnxModel::read(path)?;
    /// assert_eq!(model.node_count(), 4);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        read_model(path).map(Self::from_proto)
    }

    /// Decodes and validates a model held in memory; `source_name` names it in errors.
    ///
    /// Validation checks what later stages rely on:
    /// - the model has a graph and imports the default (`ai.onnx`) operator set;
    /// - every node has an op type, and each of its inputs is empty (an omitted optional input) or names a
    ///   graph input, an initializer or an output of another node (nodes in any valid order are sorted first;
    ///   a cycle is refused);
    /// - no value is defined twice, and every graph output names a defined value;
    /// - initializers and tensor attributes have non-negative dims, are not over
    ///   [`super::MAX_TENSOR_BYTES`], keep their data inside the file, and for FLOAT, DOUBLE, INT32 and
    ///   INT64 hold exactly as many values as their dims declare;
    /// - no node repeats an attribute, and shapes of graph inputs, outputs and value infos have no
    ///   negative dims.
    ///
    /// Subgraphs (attributes of `If`, `Loop`, `Scan`) are not validated.
    ///
    /// # Errors
    /// [`crate::Error::Format`] naming `source_name` and the node, tensor or value at fault.
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    ///
    /// let err = OnnxModel::decode(b"\x08\x08", "tiny.onnx").unwrap_err(); // ir_version 8, nothing else
    /// assert_eq!(err.to_string(), "tiny.onnx: the model has no graph");
    /// assert!(OnnxModel::decode(b"\xff\xff", "junk").is_err());
    /// ```
    pub fn decode(bytes: &[u8], source_name: &str) -> Result<Self> {
        decode_model(bytes, source_name).map(Self::from_proto)
    }

    /// The protobuf bytes (what an `.onnx` file holds).
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gemm_gemm/model.onnx");
    /// let model = OnnxModel::read(path)?;
    /// assert_eq!(OnnxModel::decode(&model.encode(), "copy")?, model);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        encode_model(&self.proto)
    }

    /// Writes the model to `path`, atomically: the bytes go to a temporary file in the same directory,
    /// which is then renamed over `path`, so a failure leaves `path` as it was. The bytes are streamed a
    /// node and a tensor at a time; a model over protobuf's 2 GiB puts its tensors of 1 KiB or more in
    /// `PATH.data` beside it (external data, as PyTorch writes large models), which [`OnnxModel::read`]
    /// reads back.
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming `path` when the temporary file cannot be created, written or renamed.
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    /// let model = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gemm_gemm/model.onnx"))?;
    /// let out = std::env::temp_dir().join(format!("doc-write-model-{}.onnx", std::process::id()));
    /// model.write(&out)?;
    /// assert_eq!(OnnxModel::read(&out)?, model);
    /// # std::fs::remove_file(&out).unwrap();
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        write_model(path.as_ref(), &self.proto)
    }

    /// The number of nodes of the main graph.
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    /// let model = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gemm_gemm/model.onnx"))?;
    /// assert_eq!(model.node_count(), 2);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn node_count(&self) -> usize {
        self.proto.graph.as_ref().map_or(0, |g| g.node.len())
    }

    /// The number of parameters: the elements of the main graph's floating-point initializers and
    /// `Constant` tensors.
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    /// let model = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gemm_gemm/model.onnx"))?;
    /// assert_eq!(model.param_count(), 64 * 32 + 32 + 32 * 10 + 10);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn param_count(&self) -> usize {
        let Some(g) = self.proto.graph.as_ref() else {
            return 0;
        };
        let constants = g
            .node
            .iter()
            .filter(|n| n.op_type == "Constant")
            .flat_map(|n| n.attribute.iter().filter_map(|a| a.t.as_ref()));
        g.initializer
            .iter()
            .chain(constants)
            .filter(|t| matches!(t.data_type, 1 | 10 | 11 | 16))
            .map(|t| t.dims.iter().map(|&d| d.max(0) as usize).product::<usize>())
            .sum()
    }

    /// The op type of every node of the main graph, in order.
    ///
    /// ```
    /// use linear_collapse::io::onnx::OnnxModel;
    /// let model = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conv_bn_fc/model.onnx"))?;
    /// assert_eq!(model.op_types()[0], "Conv");
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn op_types(&self) -> Vec<String> {
        self.proto
            .graph
            .iter()
            .flat_map(|g| g.node.iter().map(|n| n.op_type.clone()))
            .collect()
    }

    pub(crate) fn from_proto(proto: ModelProto) -> Self {
        OnnxModel { proto }
    }

    pub(crate) fn proto(&self) -> &ModelProto {
        &self.proto
    }

    pub(crate) fn into_proto(self) -> ModelProto {
        self.proto
    }
}
