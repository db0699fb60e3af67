//! Typed access to a node's attributes: absent is `Ok(None)`, present with another type is an error.

use super::proto::attribute_proto::AttributeType;
use super::proto::{AttributeProto, NodeProto, TensorProto};
use crate::{Error, Result};

/// The INT attribute `name` of `node` (e.g. `group` of `Conv`, `transB` of `Gemm`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
pub(crate) fn attr_int(node: &NodeProto, name: &str) -> Result<Option<i64>> {
    Ok(find(node, name, AttributeType::Int)?.map(|a| a.i))
}

/// The INTS attribute `name` of `node` (e.g. `kernel_shape`, `strides`, `pads`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
pub(crate) fn attr_ints<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a [i64]>> {
    Ok(find(node, name, AttributeType::Ints)?.map(|a| a.ints.as_slice()))
}

/// The FLOAT attribute `name` of `node` (e.g. `epsilon` of `BatchNormalization`, `alpha` of `Gemm`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
pub(crate) fn attr_float(node: &NodeProto, name: &str) -> Result<Option<f32>> {
    Ok(find(node, name, AttributeType::Float)?.map(|a| a.f))
}

/// The STRING attribute `name` of `node` (e.g. `mode` of `Pad`, `auto_pad` of `Conv`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type or is not
/// UTF-8.
pub(crate) fn attr_string<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a str>> {
    let Some(a) = find(node, name, AttributeType::String)? else {
        return Ok(None);
    };
    std::str::from_utf8(&a.s)
        .map(Some)
        .map_err(|e| Error::Format {
            context: context(node, name),
            source: Box::new(e),
        })
}

/// The attribute `name` of `node`, checked to be of type `want`.
fn find<'a>(
    node: &'a NodeProto,
    name: &str,
    want: AttributeType,
) -> Result<Option<&'a AttributeProto>> {
    let Some(a) = node.attribute.iter().find(|a| a.name == name) else {
        return Ok(None);
    };
    if a.r#type != want as i32 {
        let got = AttributeType::try_from(a.r#type)
            .map(|t| t.as_str_name().to_string())
            .unwrap_or_else(|_| format!("type #{}", a.r#type));
        return Err(Error::format(
            context(node, name),
            format!("is {got}, expected {}", want.as_str_name()),
        ));
    }
    Ok(Some(a))
}

/// The TENSOR attribute `name` of `node` (the `value` of a `Constant`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type or holds
/// no tensor.
pub(crate) fn attr_tensor<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a TensorProto>> {
    let Some(a) = find(node, name, AttributeType::Tensor)? else {
        return Ok(None);
    };
    match &a.t {
        Some(t) => Ok(Some(t)),
        None => Err(Error::format(context(node, name), "holds no tensor")),
    }
}

fn context(node: &NodeProto, attr: &str) -> String {
    format!(
        "node '{}' ({}), attribute '{attr}'",
        node.name, node.op_type
    )
}
