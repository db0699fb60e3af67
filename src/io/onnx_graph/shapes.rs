//! What the analysis knows of every value, for people and for checking it against a runtime.

use super::analyze::{analyze, opset, Value};
use crate::io::onnx::OnnxModel;
use crate::{Error, Result};

/// One value of an ONNX graph as the importer sees it before the model runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueShape {
    /// The value's name.
    pub name: String,
    /// Its dims, the batch axis included (a symbolic batch is analysed as 1); `None` when not known.
    pub dims: Option<Vec<usize>>,
    /// True for a constant (an initializer, a `Constant`, or a folded node's output).
    pub constant: bool,
    /// True when its first axis is the batch (samples stay in their own slices).
    pub batched: bool,
}

/// Every value the graph's nodes produce, in node order, with its dims as the importer computes them
/// (constants folded, one shape rule per op family, the file's `value_info` for ops without a rule).
///
/// # Errors
/// As [`super::import`] for a graph that contradicts itself.
///
/// ```
/// use linear_collapse::io::{onnx::OnnxModel, onnx_graph::value_shapes};
/// let m = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/seed_conv_fc/model.onnx"))?;
/// let shapes = value_shapes(&m)?;
/// assert_eq!(shapes[0].dims, Some(vec![1, 50, 5, 5])); // the Conv's output
/// assert!(shapes[0].batched && !shapes[0].constant);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn value_shapes(m: &OnnxModel) -> Result<Vec<ValueShape>> {
    let proto = m.proto();
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::format("ONNX model", "it has no graph"))?;
    let a = analyze(graph, opset(proto)?, u64::MAX)?;
    Ok(graph
        .node
        .iter()
        .flat_map(|n| n.output.iter())
        .filter(|o| !o.is_empty())
        .map(|o| match a.values.get(o.as_str()) {
            Some(Value::Const(c)) => ValueShape {
                name: o.clone(),
                dims: Some(c.dims()),
                constant: true,
                batched: false,
            },
            Some(Value::Act(act)) => ValueShape {
                name: o.clone(),
                dims: act.dims.clone(),
                constant: false,
                batched: act.batched,
            },
            None => ValueShape {
                name: o.clone(),
                dims: None,
                constant: false,
                batched: false,
            },
        })
        .collect())
}
