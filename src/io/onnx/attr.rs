//! Typed access to a node's attributes: absent is `Ok(None)`, present with another type is an error.

use super::proto::attribute_proto::AttributeType;
use super::proto::{AttributeProto, NodeProto, TensorProto};
use crate::{Error, Result};

/// The INT attribute `name` of `node` (e.g. `group` of `Conv`, `transB` of `Gemm`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
///
/// ```
/// use linear_collapse::io::onnx::{self, AttributeProto, NodeProto};
///
/// let flatten = NodeProto {
///     op_type: "Flatten".into(),
///     attribute: vec![AttributeProto { name: "axis".into(), r#type: 2, i: 1, ..Default::default() }],
///     ..Default::default()
/// };
/// assert_eq!(onnx::attr_int(&flatten, "axis")?, Some(1));
/// assert_eq!(onnx::attr_int(&flatten, "other")?, None);
/// let err = onnx::attr_float(&flatten, "axis").unwrap_err().to_string();
/// assert_eq!(err, "node '' (Flatten), attribute 'axis': is INT, expected FLOAT");
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn attr_int(node: &NodeProto, name: &str) -> Result<Option<i64>> {
    Ok(find(node, name, AttributeType::Int)?.map(|a| a.i))
}

/// The INTS attribute `name` of `node` (e.g. `kernel_shape`, `strides`, `pads`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
///
/// ```
/// use linear_collapse::io::onnx::{self, AttributeProto, NodeProto};
///
/// let strides = AttributeProto { name: "strides".into(), r#type: 7, ints: vec![2, 2], ..Default::default() };
/// let conv = NodeProto { name: "conv0".into(), op_type: "Conv".into(), attribute: vec![strides], ..Default::default() };
/// assert_eq!(onnx::attr_ints(&conv, "strides")?, Some(&[2i64, 2][..]));
/// assert!(onnx::attr_int(&conv, "strides").is_err());
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn attr_ints<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a [i64]>> {
    Ok(find(node, name, AttributeType::Ints)?.map(|a| a.ints.as_slice()))
}

/// The FLOAT attribute `name` of `node` (e.g. `epsilon` of `BatchNormalization`, `alpha` of `Gemm`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type.
///
/// ```
/// use linear_collapse::io::onnx::{self, AttributeProto, NodeProto};
///
/// let eps = AttributeProto { name: "epsilon".into(), r#type: 1, f: 1e-5, ..Default::default() };
/// let bn = NodeProto { op_type: "BatchNormalization".into(), attribute: vec![eps], ..Default::default() };
/// assert_eq!(onnx::attr_float(&bn, "epsilon")?, Some(1e-5));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn attr_float(node: &NodeProto, name: &str) -> Result<Option<f32>> {
    Ok(find(node, name, AttributeType::Float)?.map(|a| a.f))
}

/// The STRING attribute `name` of `node` (e.g. `mode` of `Pad`, `auto_pad` of `Conv`).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type or is not
/// UTF-8.
///
/// ```
/// use linear_collapse::io::onnx::{self, AttributeProto, NodeProto};
///
/// let mode = AttributeProto { name: "mode".into(), r#type: 3, s: b"constant".to_vec(), ..Default::default() };
/// let pad = NodeProto { op_type: "Pad".into(), attribute: vec![mode], ..Default::default() };
/// assert_eq!(onnx::attr_string(&pad, "mode")?, Some("constant"));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn attr_string<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a str>> {
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

/// The TENSOR attribute `name` of `node` (e.g. `value` of `Constant`); read it with
/// [`tensor_f32`](super::tensor_f32) or [`tensor_i64`](super::tensor_i64).
///
/// # Errors
/// [`Error::Format`] naming the node and the attribute when it is present with another type or holds
/// no tensor.
///
/// ```
/// use linear_collapse::io::onnx::{self, AttributeProto, NodeProto, TensorProto};
///
/// let shape = TensorProto { dims: vec![2], data_type: 7, int64_data: vec![1, -1], ..Default::default() };
/// let value = AttributeProto { name: "value".into(), r#type: 4, t: Some(shape), ..Default::default() };
/// let constant = NodeProto { op_type: "Constant".into(), attribute: vec![value], ..Default::default() };
/// let t = onnx::attr_tensor(&constant, "value")?.unwrap();
/// assert_eq!(onnx::tensor_i64(t)?, vec![1, -1]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn attr_tensor<'a>(node: &'a NodeProto, name: &str) -> Result<Option<&'a TensorProto>> {
    let Some(a) = find(node, name, AttributeType::Tensor)? else {
        return Ok(None);
    };
    match &a.t {
        Some(t) => Ok(Some(t)),
        None => Err(Error::format(context(node, name), "holds no tensor")),
    }
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

fn context(node: &NodeProto, attr: &str) -> String {
    format!(
        "node '{}' ({}), attribute '{attr}'",
        node.name, node.op_type
    )
}
