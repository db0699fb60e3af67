//! What is known of every value of an ONNX graph before it runs: constants (initializers, `Constant`
//! nodes, and every node whose inputs are all constant, folded here: the shape subgraphs exporters emit),
//! and for every other value its data type, its dimensions (computed by one rule per op family, or read
//! from the file's `value_info` for an op without a rule; never guessed) and whether its first axis is the
//! batch.
//!
//! The batch size is the graph input's first dimension; a symbolic one is analysed as 1, and constants
//! folded from it are marked `batch`-dependent so that no replacement bakes them in.

mod dims;
mod elementwise;
#[macro_use]
mod layout;
mod nn;
mod node;
mod select;
mod source;
mod spatial;
pub(crate) mod tensor;

use std::collections::HashMap;
use std::rc::Rc;

use crate::io::onnx::{
    attr_tensor, type_name, value_info_dims, Dim, GraphProto, ModelProto, TensorProto,
    ValueInfoProto,
};
use crate::memory;
use crate::{Error, Result};
pub(crate) use dims::explicit_pads;
pub(crate) use node::Node;
pub(crate) use select::cuts;
use tensor::Tensor;

/// What is known of one value.
#[derive(Clone, Debug)]
pub(crate) enum Value<'a> {
    /// Known without running the model.
    Const(Const<'a>),
    /// Computed when the model runs.
    Act(Act),
}

/// A constant value.
#[derive(Clone, Debug)]
pub(crate) enum Const<'a> {
    /// An initializer or a `Constant` node's tensor, decoded when needed.
    Proto(&'a TensorProto),
    /// A folded node's output; `batch` when it depends on a symbolic batch size (analysed as 1).
    Folded { tensor: Rc<Tensor>, batch: bool },
}

impl Const<'_> {
    /// The dimensions.
    pub(crate) fn dims(&self) -> Vec<usize> {
        match self {
            // validation refused negative dims
            Const::Proto(t) => t.dims.iter().map(|&d| d as usize).collect(),
            Const::Folded { tensor, .. } => tensor.shape().to_vec(),
        }
    }

    /// The ONNX data type.
    pub(crate) fn dtype(&self) -> i32 {
        match self {
            Const::Proto(t) => t.data_type,
            Const::Folded { tensor, .. } => tensor.dtype,
        }
    }

    /// The values.
    ///
    /// # Errors
    /// As [`Tensor::from_proto`].
    pub(crate) fn tensor(&self) -> Result<Rc<Tensor>> {
        match self {
            Const::Proto(t) => Tensor::from_proto(t).map(Rc::new),
            Const::Folded { tensor, .. } => Ok(tensor.clone()),
        }
    }

    /// The values as `f32`, decoded straight from the file (no intermediate copy of a large weight).
    ///
    /// # Errors
    /// As [`Tensor::from_proto`].
    pub(crate) fn floats(&self) -> Result<ndarray::ArrayD<f32>> {
        match self {
            Const::Proto(t) if tensor::dtype::is_float(t.data_type) => {
                crate::io::onnx::tensor_f32(t)
            }
            other => Ok(other.tensor()?.to_f32()),
        }
    }

    /// True when the value was folded from a symbolic batch size.
    pub(crate) fn batch_dependent(&self) -> bool {
        matches!(self, Const::Folded { batch: true, .. })
    }
}

/// A value computed when the model runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Act {
    /// Its dimensions, the batch axis included; `None` when they cannot be known before it runs.
    pub(crate) dims: Option<Vec<usize>>,
    /// Its ONNX data type (0 when not known).
    pub(crate) dtype: i32,
    /// True when its first axis is the batch: every sample's values stay in their own slice.
    pub(crate) batched: bool,
}

impl Act {
    /// A value whose dimensions are not known.
    pub(crate) fn unknown(dtype: i32) -> Self {
        Act {
            dims: None,
            dtype,
            batched: false,
        }
    }
}

/// What a rule computes for one output.
#[derive(Clone, Debug)]
pub(crate) enum Out {
    /// A folded constant.
    Const(Tensor),
    /// A runtime value.
    Act(Act),
}

/// The batch size the graph is analysed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The size (1 when symbolic).
    pub(crate) size: usize,
    /// True when the file leaves it symbolic.
    pub(crate) symbolic: bool,
}

/// Every value of a graph, and which nodes were folded.
#[derive(Debug)]
pub(crate) struct Analysis<'a> {
    /// By value name.
    pub(crate) values: HashMap<&'a str, Value<'a>>,
    /// Per node (in the graph's order): every output is a constant.
    pub(crate) folded: Vec<bool>,
    /// The version of the default operator set.
    pub(crate) opset: i64,
}

/// The newest version of the default operator set whose ops this analysis knows.
pub const MAX_OPSET: i64 = 23;

/// The version of the default (`ai.onnx`) operator set a model imports.
///
/// # Errors
/// [`Error::Format`] when it is outside 1 to [`MAX_OPSET`].
pub(crate) fn opset(model: &ModelProto) -> Result<i64> {
    let v = model
        .opset_import
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .max()
        .unwrap_or(1);
    if !(1..=MAX_OPSET).contains(&v) {
        return Err(Error::format(
            "opset_import",
            format!(
                "the model imports ai.onnx version {v}; versions 1 to {MAX_OPSET} are supported"
            ),
        ));
    }
    Ok(v)
}

/// Analyses `graph` (nodes in topological order, as the reader leaves them) at operator set `opset`;
/// constants folded here may take at most `budget` bytes in all.
///
/// # Errors
/// [`Error::Format`] or [`Error::InvalidLayer`] naming the node when the graph contradicts itself (shapes
/// that do not broadcast, a weight that does not fit its input, an axis out of range);
/// [`Error::TooLarge`] when folding would exceed `budget`.
pub(crate) fn analyze(graph: &GraphProto, opset: i64, budget: u64) -> Result<Analysis<'_>> {
    let mut values: HashMap<&str, Value<'_>> = HashMap::new();
    for t in &graph.initializer {
        values.insert(&t.name, Value::Const(Const::Proto(t)));
    }
    let batch = graph_batch(graph, &values)?;
    for v in &graph.input {
        if !values.contains_key(v.name.as_str()) {
            let a = input_act(v, batch)?;
            within_budget(&a, || format!("graph input '{}'", v.name), budget)?;
            values.insert(&v.name, Value::Act(a));
        }
    }
    let declared: HashMap<&str, &ValueInfoProto> = graph
        .value_info
        .iter()
        .chain(&graph.output)
        .map(|v| (v.name.as_str(), v))
        .collect();
    let mut folded = Vec::with_capacity(graph.node.len());
    let mut used = 0u64;
    for node in &graph.node {
        let inputs: Vec<Option<&Value<'_>>> = node
            .input
            .iter()
            .map(|i| (!i.is_empty()).then(|| values.get(i.as_str())).flatten())
            .collect();
        let n = Node::new(node, inputs, opset, batch, budget.saturating_sub(used));
        // A Constant's tensor is read where it lies, not copied.
        let constant = match node.op_type.as_str() {
            "Constant" => attr_tensor(node, "value")?,
            _ => None,
        };
        if let Some(t) = constant {
            drop(n);
            if let Some(name) = node.output.first() {
                values.insert(name, Value::Const(Const::Proto(t)));
            }
            folded.push(true);
            continue;
        }
        let outs = rule(&n)?;
        let taint = n.batch_dependent();
        let mut all_const = !node.output.is_empty();
        let mut produced = Vec::with_capacity(node.output.len());
        for (k, name) in node.output.iter().enumerate() {
            let out = match outs.get(k) {
                Some(Out::Const(t)) => {
                    used = used.saturating_add((t.len() * 8) as u64);
                    memory::check(
                        || format!("folding node '{}' ({})", node.name, node.op_type),
                        used,
                        budget,
                        "",
                    )?;
                    Value::Const(Const::Folded {
                        tensor: Rc::new(t.clone()),
                        batch: taint,
                    })
                }
                Some(Out::Act(a)) => {
                    all_const = false;
                    let a = with_declared(a.clone(), declared.get(name.as_str()));
                    within_budget(
                        &a,
                        || {
                            format!(
                                "ONNX node '{}' ({}): output '{name}'",
                                node.name, node.op_type
                            )
                        },
                        budget,
                    )?;
                    Value::Act(one_sample(not_empty(a), batch))
                }
                None => {
                    all_const = false;
                    Value::Act(with_declared(Act::unknown(0), declared.get(name.as_str())))
                }
            };
            produced.push((name.as_str(), out));
        }
        drop(n);
        for (name, out) in produced {
            if !name.is_empty() {
                values.insert(name, out);
            }
        }
        folded.push(all_const);
    }
    Ok(Analysis {
        values,
        folded,
        opset,
    })
}

/// An empty value (a 0 among its dims, e.g. a Slice that selects nothing) holds nothing to collapse:
/// its dims are forgotten, so no linear op reads it and every op after it is a boundary.
fn not_empty(a: Act) -> Act {
    match &a.dims {
        Some(d) if d.contains(&0) => Act::unknown(a.dtype),
        _ => a,
    }
}

/// Refuses a value whose elements would not fit in `budget` bytes (as 4-byte floats, the batch
/// included): no runtime could hold it, and every size computed from it would overflow.
fn within_budget(a: &Act, what: impl Fn() -> String, budget: u64) -> Result<()> {
    let Some(dims) = &a.dims else {
        return Ok(());
    };
    let bytes = dims
        .iter()
        .try_fold(4u64, |acc, &d| acc.checked_mul(d as u64));
    memory::check(
        || format!("{} of dims {dims:?}", what()),
        bytes.unwrap_or(u64::MAX),
        budget,
        "",
    )
}

/// The outputs of one node: its op's rule, or nothing known for an op without one.
fn rule(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let p = n.proto();
    if !(p.domain.is_empty() || p.domain == "ai.onnx") {
        return Ok(vec![]);
    }
    same_types(n)?;
    match RULES.iter().find(|(op, _)| *op == p.op_type) {
        Some((_, f)) => f(n),
        None => Ok(vec![]),
    }
}

/// For the linear ops whose inputs share one element type `T` (the inputs listed), refuses a node
/// whose known input types differ (a float16 weight on a float input), as onnxruntime does.
fn same_types(n: &Node<'_, '_>) -> Result<()> {
    const SHARED: &[(&str, usize)] = &[
        ("Add", 2),
        ("Sub", 2),
        ("Mul", 2),
        ("Div", 2),
        ("MatMul", 2),
        ("Gemm", 3),
        ("Conv", 3),
        ("ConvTranspose", 3),
        ("Concat", usize::MAX),
        ("Sum", usize::MAX),
    ];
    let p = n.proto();
    let Some(&(_, count)) = SHARED.iter().find(|(op, _)| *op == p.op_type) else {
        return Ok(());
    };
    let known: Vec<(usize, i32)> = (0..p.input.len().min(count))
        .filter(|&i| n.input(i).is_some())
        .map(|i| (i, n.dtype(i)))
        .filter(|&(_, t)| t != 0)
        .collect();
    match known.iter().find(|&&(_, t)| t != known[0].1) {
        Some(&(i, t)) => Err(n.err(format!(
            "input {i} '{}' holds {} values but input {} '{}' holds {}; they must be of one type",
            p.input[i],
            type_name(t),
            known[0].0,
            p.input[known[0].0],
            type_name(known[0].1)
        ))),
        None => Ok(()),
    }
}

/// A rule computes a node's outputs from what is known of its inputs.
type Rule = fn(&Node<'_, '_>) -> Result<Vec<Out>>;

/// Every op type with a rule.
const RULES: &[(&str, Rule)] = &[
    // sources and casts
    ("Constant", source::constant),
    ("ConstantOfShape", source::constant_of_shape),
    ("Range", source::range),
    ("Shape", source::shape),
    ("Size", source::size),
    ("Identity", source::identity),
    ("Dropout", source::dropout),
    ("Cast", source::cast),
    ("CastLike", source::cast_like),
    // one value in, the same shape out
    ("Relu", elementwise::unary),
    ("LeakyRelu", elementwise::unary),
    ("Sigmoid", elementwise::unary),
    ("HardSigmoid", elementwise::unary),
    ("HardSwish", elementwise::unary),
    ("Tanh", elementwise::unary),
    ("Erf", elementwise::unary),
    ("Exp", elementwise::unary),
    ("Log", elementwise::unary),
    ("Sqrt", elementwise::unary),
    ("Abs", elementwise::unary),
    ("Neg", elementwise::unary),
    ("Reciprocal", elementwise::unary),
    ("Floor", elementwise::unary),
    ("Ceil", elementwise::unary),
    ("Round", elementwise::unary),
    ("Sign", elementwise::unary),
    ("Sin", elementwise::unary),
    ("Cos", elementwise::unary),
    ("Softplus", elementwise::unary),
    ("Softsign", elementwise::unary),
    ("Selu", elementwise::unary),
    ("Elu", elementwise::unary),
    ("Celu", elementwise::unary),
    ("Gelu", elementwise::unary),
    ("Mish", elementwise::unary),
    ("ThresholdedRelu", elementwise::unary),
    ("Clip", elementwise::unary),
    ("Not", elementwise::unary),
    ("IsNaN", elementwise::predicate),
    ("IsInf", elementwise::predicate),
    ("LRN", elementwise::unary),
    ("Softmax", elementwise::unary),
    ("LogSoftmax", elementwise::unary),
    ("Hardmax", elementwise::unary),
    ("CumSum", elementwise::unary),
    ("Trilu", elementwise::unary),
    ("InstanceNormalization", elementwise::unary),
    ("GroupNormalization", elementwise::unary),
    ("MeanVarianceNormalization", elementwise::unary),
    ("RMSNormalization", elementwise::unary),
    ("RotaryEmbedding", elementwise::unary),
    ("LayerNormalization", elementwise::layer_norm),
    ("BatchNormalization", elementwise::batch_norm),
    ("QuantizeLinear", elementwise::quantize),
    ("DequantizeLinear", elementwise::dequantize),
    // broadcasting
    ("Add", elementwise::binary),
    ("Sub", elementwise::binary),
    ("Mul", elementwise::binary),
    ("Div", elementwise::binary),
    ("Pow", elementwise::binary),
    ("Mod", elementwise::binary),
    ("PRelu", elementwise::binary),
    ("BitShift", elementwise::binary),
    ("Max", elementwise::binary),
    ("Min", elementwise::binary),
    ("Sum", elementwise::binary),
    ("Mean", elementwise::binary),
    ("Equal", elementwise::compare),
    ("Less", elementwise::compare),
    ("Greater", elementwise::compare),
    ("LessOrEqual", elementwise::compare),
    ("GreaterOrEqual", elementwise::compare),
    ("And", elementwise::compare),
    ("Or", elementwise::compare),
    ("Xor", elementwise::compare),
    ("Where", elementwise::select),
    // networks
    ("Conv", nn::conv),
    ("ConvTranspose", nn::conv_transpose),
    ("MaxPool", nn::pool),
    ("AveragePool", nn::pool),
    ("LpPool", nn::pool),
    ("GlobalAveragePool", nn::global_pool),
    ("GlobalMaxPool", nn::global_pool),
    ("GlobalLpPool", nn::global_pool),
    ("Gemm", nn::gemm),
    ("MatMul", nn::matmul),
    ("ReduceMean", nn::reduce),
    ("ReduceSum", nn::reduce),
    ("ReduceMax", nn::reduce),
    ("ReduceMin", nn::reduce),
    ("ReduceProd", nn::reduce),
    ("ReduceL1", nn::reduce),
    ("ReduceL2", nn::reduce),
    ("ReduceLogSum", nn::reduce),
    ("ReduceLogSumExp", nn::reduce),
    ("ReduceSumSquare", nn::reduce),
    ("ArgMax", nn::arg_reduce),
    ("ArgMin", nn::arg_reduce),
    ("TopK", nn::top_k),
    ("Attention", nn::attention),
    // re-indexing
    ("Reshape", layout::reshape),
    ("Flatten", layout::flatten),
    ("Squeeze", layout::squeeze),
    ("Unsqueeze", layout::unsqueeze),
    ("Transpose", layout::transpose),
    ("Concat", select::concat),
    ("Split", select::split),
    ("Slice", select::slice),
    ("Gather", select::gather),
    ("GatherElements", select::gather_elements),
    ("ScatterND", select::scatter),
    ("ScatterElements", select::scatter),
    ("Expand", layout::expand),
    ("Tile", layout::tile),
    ("Pad", spatial::pad),
    ("DepthToSpace", spatial::depth_to_space),
    ("SpaceToDepth", spatial::space_to_depth),
    ("Resize", spatial::resize),
    ("Upsample", spatial::resize),
];

/// The batch of the graph's first input that is not an initializer.
fn graph_batch(graph: &GraphProto, consts: &HashMap<&str, Value<'_>>) -> Result<Batch> {
    let first = graph
        .input
        .iter()
        .find(|v| !consts.contains_key(v.name.as_str()))
        .and_then(value_info_dims)
        .and_then(|d| d.first().cloned());
    Ok(match first {
        Some(Dim::Fixed(0)) => {
            return Err(Error::format(
                "graph input",
                "its batch dimension is 0: there is no sample to collapse",
            ))
        }
        Some(Dim::Fixed(n)) => Batch {
            size: usize::try_from(n).unwrap_or(usize::MAX),
            symbolic: false,
        },
        _ => Batch {
            size: 1,
            symbolic: true,
        },
    })
}

/// In a graph whose batch is fixed at 1 there is one sample: any value whose first axis has size 1 holds
/// it whole, whatever the ops before it did (a transformer's attention reshapes the batch away and back).
fn one_sample(mut a: Act, batch: Batch) -> Act {
    if batch
        == (Batch {
            size: 1,
            symbolic: false,
        })
        && a.dims.as_ref().is_some_and(|d| d.first() == Some(&1))
    {
        a.batched = true;
    }
    a
}

/// A graph input: its dims (the first one is the batch), known when every other is a fixed number.
fn input_act(v: &ValueInfoProto, batch: Batch) -> Result<Act> {
    let dtype = elem_type(v);
    let Some(dims) = value_info_dims(v) else {
        return Ok(Act::unknown(dtype));
    };
    let mut out = Vec::with_capacity(dims.len());
    for (axis, d) in dims.iter().enumerate() {
        match d {
            // another input's fixed first axis is its own (a weight fed at run time), not the batch
            Dim::Fixed(n) if axis == 0 => out.push(usize::try_from(*n).unwrap_or(usize::MAX)),
            _ if axis == 0 => out.push(batch.size),
            Dim::Fixed(0) => {
                return Err(Error::format(
                    format!("graph input '{}'", v.name),
                    format!(
                    "dimension {axis} is 0: the input holds no values (each must be at least 1)"
                ),
                ))
            }
            Dim::Fixed(n) => out.push(usize::try_from(*n).unwrap_or(usize::MAX)),
            _ => return Ok(Act::unknown(dtype)),
        }
    }
    Ok(Act {
        batched: !out.is_empty(),
        dims: Some(out),
        dtype,
    })
}

/// The element type a value info declares (0 when none).
pub(crate) fn elem_type(v: &ValueInfoProto) -> i32 {
    use crate::io::onnx::proto::type_proto::Value as Type;
    match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(Type::TensorType(t)) => t.elem_type,
        _ => 0,
    }
}

/// `a`, with the dims and type the file declares for it when the rule did not know them.
fn with_declared(mut a: Act, declared: Option<&&ValueInfoProto>) -> Act {
    let Some(v) = declared else { return a };
    if a.dtype == 0 {
        a.dtype = elem_type(v);
    }
    if a.dims.is_none() {
        let fixed: Option<Vec<usize>> = value_info_dims(v).and_then(|d| {
            d.iter()
                .map(|x| match x {
                    Dim::Fixed(n) => usize::try_from(*n).ok(),
                    _ => None,
                })
                .collect()
        });
        // A declared shape is only the file's word for its dims; whether the first axis is still the
        // batch is not known unless the file says so with ONNX's `DATA_BATCH` dimension denotation (as
        // the PyTorch front-end does for the values it saw follow the batch size); otherwise the value
        // stays outside every linear run.
        a.batched = fixed.as_ref().is_some_and(|d| !d.is_empty()) && batch_denoted(v);
        a.dims = fixed;
    }
    a
}

/// True when the first dimension of `v` carries the denotation `DATA_BATCH`.
fn batch_denoted(v: &ValueInfoProto) -> bool {
    use crate::io::onnx::proto::type_proto::Value as Type;
    let Some(Type::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return false;
    };
    t.shape
        .as_ref()
        .and_then(|s| s.dim.first())
        .is_some_and(|d| d.denotation == "DATA_BATCH")
}
