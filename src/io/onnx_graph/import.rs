//! ONNX nodes onto model nodes: the analysis says what every value is (a constant, or a runtime value with
//! its dims and batch axis), then each node that is not folded maps through the table of
//! [`super::ops`] onto linear model nodes, or becomes a boundary: one `Nonlinear` node per output.

use std::collections::HashMap;

use ndarray::Array1;

use super::analyze::tensor::dtype;
use super::analyze::{analyze, opset, Act, Analysis, Value};
use super::ops::{self, Arg, Ctx, Emit, From};
use crate::graph::{op_shape, Model, Nonlinear, Op, Src};
use crate::io::onnx::{GraphProto, NodeProto, OnnxModel, TensorProto};
use crate::layer::{Layer, Linear};
use crate::{Error, Options, Result, Shape};

/// An ONNX graph as a model, with the correspondence back to the ONNX nodes.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model (float32 weights).
    pub model: Model<f32>,
    /// For each model node, the indices of the ONNX nodes it came from.
    pub onnx_nodes: Vec<Vec<usize>>,
    /// For each model node, the name of the ONNX value it writes; `None` for a value inside one ONNX node
    /// (a `Sub` is a negation and an `Add`: the negation's output has no name in the file).
    pub values: Vec<Option<String>>,
    /// Name of the graph input the model reads as its input.
    pub input: String,
    /// The folded nodes that read a runtime value (a `Shape` of an activation), by ONNX node index, with
    /// their outputs as constants: a rewrite writes these instead, so that removing the value they read
    /// breaks nothing.
    pub(crate) baked: Vec<(usize, Vec<TensorProto>)>,
}

/// Maps an ONNX model onto a [`Model`]: every node whose inputs are all constant is folded, every other
/// node's outputs get their dims, and each node becomes linear model nodes where this crate can express
/// it (a `Conv` with a constant weight, a `Mul` by a constant, ...) or a boundary that ends the linear runs
/// around it. Constants folded here take at most `opts.memory_budget` bytes.
///
/// # Errors
/// [`Error::Unsupported`] when the model has no graph input or imports an operator set newer than this
/// crate knows; [`Error::Format`] or [`Error::InvalidLayer`] naming the node or tensor when a weight is
/// malformed or not finite, or the graph contradicts itself (shapes that do not fit); [`Error::TooLarge`]
/// when folding constants would exceed the memory budget.
///
/// ```
/// use linear_collapse::io::{onnx::OnnxModel, onnx_graph::import};
/// let m = OnnxModel::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/conv_relu_conv_fc/model.onnx"))?;
/// let imported = import(&m, &Default::default())?;
/// assert_eq!(imported.model.nodes()[1].op.describe(), "Relu");
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn import(m: &OnnxModel, opts: &Options) -> Result<Imported> {
    let proto = m.proto();
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| Error::format("ONNX model", "it has no graph"))?;
    let analysis = analyze(graph, opset(proto)?, opts.memory_budget)?;
    let mut b = Builder::new(graph, &analysis)?;
    let mut baked = Vec::new();
    let mut pinned = Vec::new();
    for (k, node) in graph.node.iter().enumerate() {
        if !analysis.folded[k] {
            b.node(k, node)?;
            continue;
        }
        // a folded node that reads a runtime value: its outputs are written as constants; when they
        // depend on a symbolic batch they cannot be, and what it reads stays a value read outside
        let reads: Vec<Src> = node
            .input
            .iter()
            .filter(|i| matches!(analysis.values.get(i.as_str()), Some(Value::Act(_))))
            .filter_map(|i| b.names.get(i.as_str()).copied())
            .collect();
        if reads.is_empty() {
            continue;
        }
        match bake(node, &analysis) {
            Some(tensors) => baked.push((k, tensors)),
            None => pinned.extend(reads),
        }
    }
    let outputs: Vec<Src> = graph
        .output
        .iter()
        .filter_map(|o| b.names.get(o.name.as_str()).copied())
        .chain(pinned)
        .collect();
    if !outputs.is_empty() {
        b.model.set_outputs(outputs)?;
    }
    Ok(Imported {
        model: b.model,
        onnx_nodes: b.onnx_nodes,
        values: b.values,
        input: b.input,
        baked,
    })
}

impl Imported {
    /// The ONNX names of a run's entry and exit (the run: its model `nodes`, the value it reads, the node
    /// whose output leaves it), as a rewrite needs them.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the entry or exit is a value inside one ONNX node, which has no name in
    /// the file.
    pub fn writable(&self, nodes: &[usize], entry: Src, exit: usize) -> Result<(String, String)> {
        let inside = |what: &str| {
            Error::Unsupported {
            op_type: "run".into(),
            detail: format!(
                "the run of {} nodes {what} a value inside one ONNX node, which has no name to rewrite",
                nodes.len()
            ),
        }
        };
        let entry = match entry {
            Src::Input => self.input.clone(),
            Src::Node(j) => self.values[j].clone().ok_or_else(|| inside("reads"))?,
        };
        let exit = self.values[exit].clone().ok_or_else(|| inside("ends at"))?;
        Ok((entry, exit))
    }
}

struct Builder<'g, 'a> {
    analysis: &'a Analysis<'g>,
    model: Model<f32>,
    /// Each model node's output shape so far.
    shapes: Vec<Option<Shape>>,
    onnx_nodes: Vec<Vec<usize>>,
    values: Vec<Option<String>>,
    names: HashMap<&'g str, Src>,
    /// How many nodes (and graph outputs) read each value.
    readers: HashMap<&'g str, usize>,
    input: String,
}

impl<'g, 'a> Builder<'g, 'a> {
    /// A model reading the graph's first input (its per-sample dims when known); every other graph input
    /// becomes a node that reads nothing.
    fn new(graph: &'g GraphProto, analysis: &'a Analysis<'g>) -> Result<Self> {
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|v| matches!(analysis.values.get(v.name.as_str()), Some(Value::Act(_))))
            .collect();
        let first = inputs
            .first()
            .ok_or_else(|| Error::format("graph", "it has no input that is not an initializer"))?;
        let shape = act(analysis, &first.name)
            .and_then(sample_shape)
            .unwrap_or(Shape::flat(1));
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for n in &graph.node {
            for i in &n.input {
                *readers.entry(i.as_str()).or_default() += 1;
            }
        }
        for o in &graph.output {
            *readers.entry(o.name.as_str()).or_default() += 1;
        }
        let mut b = Builder {
            analysis,
            model: Model::new(shape),
            shapes: vec![],
            onnx_nodes: vec![],
            values: vec![],
            names: HashMap::from([(first.name.as_str(), Src::Input)]),
            readers,
            input: first.name.clone(),
        };
        for v in &inputs[1..] {
            let output = act(analysis, &v.name).and_then(sample_shape);
            let op = Op::Nonlinear(Nonlinear::Other {
                name: "graph input".into(),
                output,
            });
            b.push(vec![], v.name.clone(), Some(&v.name), op, vec![])?;
        }
        Ok(b)
    }

    /// Appends a model node named `name` (the ONNX node's name, for reports) that writes the ONNX value
    /// `value` (`None`: a value inside one ONNX node).
    fn push(
        &mut self,
        onnx: Vec<usize>,
        name: String,
        value: Option<&'g str>,
        op: Op<f32>,
        srcs: Vec<Src>,
    ) -> Result<Src> {
        let s = self.model.push(name, op, srcs)?;
        let k = self.shapes.len();
        self.shapes.push(self.model.node_shape(k, &self.shapes)?);
        self.onnx_nodes.push(onnx);
        if let Some(v) = value {
            self.names.insert(v, s);
        }
        self.values.push(value.map(str::to_string));
        Ok(s)
    }

    fn node(&mut self, k: usize, node: &'g NodeProto) -> Result<()> {
        let args: Vec<Arg<'_, 'g>> = node.input.iter().map(|i| self.arg(i)).collect();
        let outs: Vec<Option<Shape>> = node
            .output
            .iter()
            .map(|o| {
                act(self.analysis, o)
                    .filter(|a| a.batched)
                    .and_then(sample_shape)
            })
            .collect();
        let mappable = node.domain.is_empty()
            && args.iter().any(|a| matches!(a, Arg::Data { .. }))
            && args.iter().all(|a| match a {
                Arg::Data { float, .. } => *float,
                Arg::Other(_) => false,
                _ => true,
            })
            && outs.iter().all(Option::is_some);
        if mappable {
            let ctx = Ctx {
                node,
                args: &args,
                outputs: outs.iter().map(|s| s.expect("checked")).collect(),
                opset: self.analysis.opset,
            };
            if let Some(emits) = ops::map(&ctx)? {
                if self.fold_bias(k, node, &args, &emits)? {
                    return Ok(());
                }
                return self.emit(k, node, &args, emits);
            }
        }
        self.boundary(k, node, &args)
    }

    /// What node input `name` is to a mapper.
    fn arg(&self, name: &'g str) -> Arg<'a, 'g> {
        if name.is_empty() {
            return Arg::Absent;
        }
        match self.analysis.values.get(name) {
            Some(Value::Const(c)) => Arg::Const(c),
            Some(Value::Act(a)) => match (
                self.names.get(name),
                a.batched.then(|| sample_shape(a)).flatten(),
            ) {
                (Some(&src), Some(shape)) => Arg::Data {
                    src,
                    shape,
                    float: a.dtype == dtype::FLOAT,
                },
                (Some(&src), None) => Arg::Other(Some(src)),
                (None, _) => Arg::Other(None),
            },
            None => Arg::Other(None),
        }
    }

    /// The mapper's model nodes, in order; each reads node inputs or earlier emits.
    fn emit(
        &mut self,
        k: usize,
        node: &'g NodeProto,
        args: &[Arg<'_, 'g>],
        emits: Vec<Emit>,
    ) -> Result<()> {
        let mut made: Vec<Src> = Vec::with_capacity(emits.len());
        let emits_len = emits.len();
        for (j, e) in emits.into_iter().enumerate() {
            let srcs = e
                .inputs
                .iter()
                .map(|f| match *f {
                    From::Arg(i) => match args.get(i) {
                        Some(Arg::Data { src, .. }) => Ok(*src),
                        _ => Err(Error::invalid(
                            format!("ONNX node '{}' ({})", node.name, node.op_type),
                            format!("the mapping reads input #{i}, which is not a runtime value"),
                        )),
                    },
                    From::Emit(j) => Ok(made[j]),
                })
                .collect::<Result<Vec<Src>>>()?;
            let value = e
                .writes
                .and_then(|o| node.output.get(o))
                .map(String::as_str);
            let name = match (emits_len, j) {
                (1, _) => display_name(node),
                _ => format!("{}#{j}", display_name(node)),
            };
            made.push(self.push(vec![k], name, value, e.op, srcs)?);
        }
        Ok(())
    }

    /// A `MatMul` then an `Add` of a bias vector (how `nn.Linear` is often exported): the bias folds into
    /// the Linear when the MatMul's output has no other reader. True when it did.
    fn fold_bias(
        &mut self,
        k: usize,
        node: &'g NodeProto,
        args: &[Arg<'_, 'g>],
        emits: &[Emit],
    ) -> Result<bool> {
        let ([Arg::Data {
            src: Src::Node(j), ..
        }, Arg::Const(c)]
        | [Arg::Const(c), Arg::Data {
            src: Src::Node(j), ..
        }]) = args
        else {
            return Ok(false);
        };
        if node.op_type != "Add" || emits.len() != 1 {
            return Ok(false);
        }
        let j = *j;
        let Op::Layer(Layer::Linear(l)) = &self.model.nodes()[j].op else {
            return Ok(false);
        };
        let single = self.values[j]
            .as_deref()
            .is_some_and(|v| self.readers.get(v) == Some(&1));
        let dims = c.dims();
        let vector =
            dims.last() == Some(&l.out_features()) && dims.iter().rev().skip(1).all(|&d| d == 1);
        if l.bias().is_some()
            || !single
            || !vector
            || dims.len() > self.shapes[j].map_or(0, |s| s.rank() + 1)
        {
            return Ok(false);
        }
        let bias: Array1<f32> = c.tensor()?.to_f32().iter().copied().collect();
        let fused =
            Linear::new(l.weight().clone(), Some(bias)).map_err(|e| ops::node_err(node, e))?;
        self.model.replace_op(j, Op::Layer(Layer::Linear(fused)));
        self.onnx_nodes[j].push(k);
        let out = node.output[0].as_str();
        self.names.insert(out, Src::Node(j));
        self.values[j] = Some(out.to_string());
        Ok(true)
    }

    /// One `Nonlinear` model node per output of a node that is not linear here, reading every runtime
    /// value the node reads.
    fn boundary(&mut self, k: usize, node: &'g NodeProto, args: &[Arg<'_, 'g>]) -> Result<()> {
        let srcs: Vec<Src> = args
            .iter()
            .filter_map(|a| match a {
                Arg::Data { src, .. } | Arg::Other(Some(src)) => Some(*src),
                _ => None,
            })
            .collect();
        for out in node.output.iter().filter(|o| !o.is_empty()) {
            let shape = act(self.analysis, out)
                .filter(|a| a.batched)
                .and_then(sample_shape);
            let op = Op::Nonlinear(ops::nonlinear(node, srcs.len(), shape)?);
            // A known nonlinearity must agree with the analysis on its shape; else it stays opaque.
            let agrees = match &op {
                Op::Nonlinear(Nonlinear::Other { .. }) => true,
                _ => self.model_shape(&op, &srcs) == Some(shape),
            };
            let op = if agrees {
                op
            } else {
                Op::Nonlinear(Nonlinear::Other {
                    name: node.op_type.clone(),
                    output: shape,
                })
            };
            let name = match node.output.len() {
                1 => display_name(node),
                _ => format!("{}:{out}", display_name(node)),
            };
            self.push(vec![k], name, Some(out), op, srcs.clone())?;
        }
        Ok(())
    }

    /// The shape the model would give `op` reading `srcs`, `None` when it would fail.
    fn model_shape(&self, op: &Op<f32>, srcs: &[Src]) -> Option<Option<Shape>> {
        let ins: Vec<Option<Shape>> = srcs
            .iter()
            .map(|s| match s {
                Src::Input => Some(self.model.input_shape()),
                Src::Node(i) => self.shapes[*i],
            })
            .collect();
        op_shape(self.shapes.len(), "", op, &ins).ok()
    }
}

/// The outputs of a folded node as tensors to write in its place; `None` when one depends on a symbolic
/// batch size or has a type that is not written here.
fn bake(node: &NodeProto, analysis: &Analysis<'_>) -> Option<Vec<TensorProto>> {
    node.output
        .iter()
        .filter(|o| !o.is_empty())
        .map(|o| match analysis.values.get(o.as_str())? {
            Value::Const(c) if !c.batch_dependent() => c.tensor().ok()?.to_proto(o),
            _ => None,
        })
        .collect()
}

/// A node's name for reports: its name in the file, else its op type and first output.
fn display_name(node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!(
            "{}:{}",
            node.op_type,
            node.output.first().map_or("", String::as_str)
        )
    } else {
        node.name.clone()
    }
}

/// The analysis of a runtime value.
fn act<'x>(a: &'x Analysis<'_>, name: &str) -> Option<&'x Act> {
    match a.values.get(name)? {
        Value::Act(act) => Some(act),
        Value::Const(_) => None,
    }
}

/// A batched value's per-sample shape (its dims without the batch axis), when known and of a rank the
/// crate handles.
fn sample_shape(a: &Act) -> Option<Shape> {
    let dims = a.dims.as_ref()?;
    dims.split_first()
        .and_then(|(_, rest)| Shape::from_dims(rest))
}
