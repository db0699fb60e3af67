//! An ONNX model built in memory from plain data: how a front-end that is not a file (the PyTorch fx
//! tracer of the Python package) hands a graph to the importer, in ONNX's operator vocabulary.

use ndarray::ArrayD;

use super::proto::{
    tensor_proto::DataType, tensor_shape_proto::dimension::Value as DimValue,
    tensor_shape_proto::Dimension, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use super::{order, tensor_from_f32, validate, OnnxModel};
use crate::Result;

/// A value of a node's attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    /// `INT`.
    Int(i64),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `FLOAT`.
    Float(f32),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `STRING`.
    Text(String),
}

/// A constant tensor (an initializer).
#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    /// `FLOAT`.
    Float(ArrayD<f32>),
    /// `INT64` (shapes, axes, pads).
    Int(ArrayD<i64>),
}

/// One node: `op_type` of `domain` (empty: the default `ai.onnx` set) reading and writing named values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// Its name, unique in the graph (reports and edits name nodes by it).
    pub name: String,
    /// The operator, e.g. `Conv`.
    pub op_type: String,
    /// The operator's domain; another domain than the default marks an operator this crate treats as a
    /// boundary between linear runs, whose outputs' dims come from [`Graph::values`].
    pub domain: String,
    /// The values it reads (an empty name: an omitted optional input).
    pub inputs: Vec<String>,
    /// The values it writes.
    pub outputs: Vec<String>,
    /// Its attributes.
    pub attributes: Vec<(String, Attribute)>,
}

/// The dims and kind of a value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// Its name.
    pub name: String,
    /// Its dims, batch axis included.
    pub dims: Vec<usize>,
    /// `FLOAT` when true, else `INT64`.
    pub float: bool,
    /// True when its first axis is the batch (written as ONNX's `DATA_BATCH` dimension denotation): a
    /// linear run may then start at it even when it is the output of an operator of another domain.
    pub batched: bool,
}

/// A graph: its inputs (the first is the model's input; its first axis is the batch), nodes in any
/// order, initializers, the dims of values, and the outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// The default operator set's version the nodes are written for.
    pub opset: i64,
    /// The graph inputs.
    pub inputs: Vec<Value>,
    /// The nodes.
    pub nodes: Vec<Node>,
    /// The constants.
    pub initializers: Vec<(String, Tensor)>,
    /// Dims of other values (every output of a node of another domain needs them).
    pub values: Vec<Value>,
    /// The graph outputs' names.
    pub outputs: Vec<String>,
}

impl OnnxModel {
    /// Builds and validates a model from `graph` (checked as [`OnnxModel::decode`] checks a file;
    /// nodes of other domains than the default are accepted as opaque operators).
    ///
    /// # Errors
    /// [`crate::Error::Format`] naming the node or value at fault.
    ///
    /// ```
    /// use linear_collapse::io::onnx::{Attribute, Graph, Node, OnnxModel, Tensor, Value};
    /// use ndarray::ArrayD;
    ///
    /// let value = |name: &str, dims: &[usize]| Value { name: name.into(), dims: dims.to_vec(), float: true, batched: true };
    /// let fc = |name: &str, x: &str, y: &str| Node {
    ///     name: name.into(),
    ///     op_type: "Gemm".into(),
    ///     inputs: vec![x.into(), format!("{name}.weight")],
    ///     outputs: vec![y.into()],
    ///     attributes: vec![("transB".into(), Attribute::Int(1))],
    ///     ..Default::default()
    /// };
    /// let weight = |name: &str| (format!("{name}.weight"), Tensor::Float(ArrayD::zeros(vec![4, 4])));
    /// let graph = Graph {
    ///     opset: 17,
    ///     inputs: vec![value("x", &[2, 4])],
    ///     nodes: vec![fc("fc1", "x", "h"), fc("fc2", "h", "y")],
    ///     initializers: vec![weight("fc1"), weight("fc2")],
    ///     values: vec![],
    ///     outputs: vec!["y".into()],
    /// };
    /// let model = OnnxModel::build(graph)?;
    /// assert_eq!(model.op_types(), ["Gemm", "Gemm"]);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn build(graph: Graph) -> Result<Self> {
        let mut domains: Vec<String> = graph
            .nodes
            .iter()
            .map(|n| n.domain.clone())
            .filter(|d| !d.is_empty() && d != "ai.onnx")
            .collect();
        domains.sort();
        domains.dedup();
        let mut opset_import = vec![OperatorSetIdProto {
            domain: String::new(),
            version: graph.opset,
        }];
        opset_import.extend(
            domains
                .into_iter()
                .map(|domain| OperatorSetIdProto { domain, version: 1 }),
        );
        let outputs = graph
            .outputs
            .iter()
            .map(|name| ValueInfoProto {
                name: name.clone(),
                ..Default::default()
            })
            .collect();
        let mut model = ModelProto {
            ir_version: 8,
            producer_name: "linear-collapse".into(),
            opset_import,
            graph: Some(GraphProto {
                name: "graph".into(),
                node: graph.nodes.into_iter().map(node).collect(),
                initializer: graph.initializers.iter().map(initializer).collect(),
                input: graph.inputs.iter().map(value_info).collect(),
                output: outputs,
                value_info: graph.values.iter().map(value_info).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        order::sort(&mut model);
        validate::model(&model, "graph")?;
        Ok(OnnxModel::from_proto(model))
    }
}

fn node(n: Node) -> NodeProto {
    NodeProto {
        name: n.name,
        op_type: n.op_type,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: n.attributes.into_iter().map(attribute).collect(),
        ..Default::default()
    }
}

fn attribute((name, value): (String, Attribute)) -> AttributeProto {
    use super::proto::attribute_proto::AttributeType as T;
    let mut a = AttributeProto {
        name,
        ..Default::default()
    };
    match value {
        Attribute::Int(i) => (a.r#type, a.i) = (T::Int as i32, i),
        Attribute::Ints(v) => (a.r#type, a.ints) = (T::Ints as i32, v),
        Attribute::Float(f) => (a.r#type, a.f) = (T::Float as i32, f),
        Attribute::Floats(v) => (a.r#type, a.floats) = (T::Floats as i32, v),
        Attribute::Text(s) => (a.r#type, a.s) = (T::String as i32, s.into_bytes()),
    }
    a
}

fn initializer((name, t): &(String, Tensor)) -> TensorProto {
    match t {
        Tensor::Float(a) => tensor_from_f32(name, a),
        Tensor::Int(a) => TensorProto {
            name: name.clone(),
            dims: a.shape().iter().map(|&d| d as i64).collect(),
            data_type: DataType::Int64 as i32,
            int64_data: a.iter().copied().collect(),
            ..Default::default()
        },
    }
}

fn value_info(v: &Value) -> ValueInfoProto {
    let dim = v
        .dims
        .iter()
        .enumerate()
        .map(|(axis, &d)| Dimension {
            value: Some(DimValue::DimValue(i64::try_from(d).unwrap_or(i64::MAX))),
            denotation: if axis == 0 && v.batched {
                "DATA_BATCH".into()
            } else {
                String::new()
            },
        })
        .collect();
    let elem_type = if v.float {
        DataType::Float
    } else {
        DataType::Int64
    };
    ValueInfoProto {
        name: v.name.clone(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem_type as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
