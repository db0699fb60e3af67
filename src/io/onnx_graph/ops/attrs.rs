//! Attribute helpers shared by the mappers, and the errors that name the node.

use crate::io::onnx::{attr_string, NodeProto};
use crate::{Error, Result};

/// An invalid layer built from `node`, naming it.
pub(in crate::io::onnx_graph) fn node_err(node: &NodeProto, err: Error) -> Error {
    Error::InvalidLayer {
        layer: format!("ONNX node '{}' ({})", node.name, node.op_type),
        reason: err.to_string(),
    }
}

/// A malformed tensor or attribute of `node`.
pub(super) fn fmt(node: &NodeProto, err: impl std::fmt::Display) -> Error {
    Error::format(
        format!("ONNX node '{}' ({})", node.name, node.op_type),
        err.to_string(),
    )
}

/// `auto_pad` is absent, `NOTSET` or `VALID` (explicit pads).
pub(super) fn auto_pad_ok(node: &NodeProto) -> Result<bool> {
    Ok(matches!(
        attr_string(node, "auto_pad")?,
        None | Some("NOTSET") | Some("VALID")
    ))
}

/// A 2-d attribute such as `strides`, or `default` on both axes.
pub(super) fn pair(v: Option<&[i64]>, default: usize) -> [usize; 2] {
    match v {
        Some([a, b]) => [*a as usize, *b as usize],
        _ => [default, default],
    }
}

/// ONNX 2-d `pads` `[top, left, bottom, right]`.
pub(super) fn quad(v: Option<&[i64]>) -> [usize; 4] {
    match v {
        Some([a, b, c, d]) => [*a as usize, *b as usize, *c as usize, *d as usize],
        _ => [0; 4],
    }
}
