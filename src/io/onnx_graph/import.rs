//! ONNX nodes onto model nodes.

use std::collections::HashMap;

use ndarray::Array1;

use super::ops::{self, node_err};
use crate::graph::{Model, Nonlinear, Op, Src};
use crate::io::onnx::{
    attr_float, attr_tensor, tensor_f32, value_info_dims, Dim, NodeProto, OnnxModel, TensorProto,
};
use crate::layer::{Identity, Layer, Linear};
use crate::{Error, Result, Shape};

/// An ONNX graph as a model, with the correspondence back to the ONNX nodes.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model (float32 weights).
    pub model: Model<f32>,
    /// For each model node, the indices of the ONNX nodes it came from.
    pub onnx_nodes: Vec<Vec<usize>>,
    /// For each model node, the name of the ONNX value it produces.
    pub values: Vec<String>,
    /// Name of the graph's input.
    pub input: String,
}

/// Maps an ONNX model onto a [`Model`].
///
/// # Errors
/// [`Error::Unsupported`] when the graph does not have exactly one non-initializer input, or its
/// per-sample dimensions are not fixed numbers; [`Error::Format`] naming the node or tensor when a
/// weight is malformed or not finite; [`Error::Shape`] when shapes do not fit.
pub fn import(m: &OnnxModel) -> Result<Imported> {
    let graph = m
        .proto()
        .graph
        .as_ref()
        .ok_or_else(|| Error::format("ONNX model", "it has no graph"))?;
    let inits: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|v| !inits.contains_key(v.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(Error::Unsupported {
            op_type: "graph".into(),
            detail: format!("{} graph inputs; exactly one is supported", inputs.len()),
        });
    };
    let shape = sample_shape(input)?;
    let mut b = Builder {
        model: Model::new(shape),
        shapes: vec![],
        onnx_nodes: vec![],
        values: vec![],
        names: HashMap::from([(input.name.clone(), Src::Input)]),
        inits,
        consumers: count_consumers(graph),
        value_dims: graph
            .value_info
            .iter()
            .chain(&graph.output)
            .filter_map(|v| Some((v.name.clone(), value_info_dims(v)?)))
            .collect(),
    };
    for (k, node) in graph.node.iter().enumerate() {
        b.node(k, node)?;
    }
    // The model's output must be the graph's output.
    let out = graph
        .output
        .first()
        .ok_or_else(|| Error::format("ONNX graph", "it has no output"))?;
    let src = *b.names.get(&out.name).ok_or_else(|| {
        Error::format(
            "ONNX graph",
            format!("output '{}' is not produced by any node", out.name),
        )
    })?;
    if src != b.model.output() {
        b.push(
            vec![],
            out.name.clone(),
            Op::Layer(Layer::Identity(Identity)),
            src,
        )?;
    }
    b.model.shapes()?;
    Ok(Imported {
        model: b.model,
        onnx_nodes: b.onnx_nodes,
        values: b.values,
        input: input.name.clone(),
    })
}

/// The per-sample shape of the graph input `(N, ...)`.
fn sample_shape(v: &crate::io::onnx::ValueInfoProto) -> Result<Shape> {
    let dims = value_info_dims(v).ok_or_else(|| Error::Unsupported {
        op_type: "graph input".into(),
        detail: format!("input '{}' has no tensor shape", v.name),
    })?;
    let per: Vec<usize> = dims
        .iter()
        .skip(1)
        .map(|d| match d {
            Dim::Fixed(n) if *n > 0 => Ok(*n as usize),
            other => Err(Error::Unsupported {
                op_type: "graph input".into(),
                detail: format!("input '{}' has a per-sample dimension {other:?}; spatial sizes must be fixed numbers", v.name),
            }),
        })
        .collect::<Result<_>>()?;
    Shape::from_dims(&per).ok_or_else(|| Error::Unsupported {
        op_type: "graph input".into(),
        detail: format!(
            "input '{}' has per-sample shape {per:?}; 1 to 3 dimensions are supported",
            v.name
        ),
    })
}

fn count_consumers(g: &crate::io::onnx::GraphProto) -> HashMap<String, usize> {
    let mut c: HashMap<String, usize> = HashMap::new();
    for n in &g.node {
        for i in &n.input {
            *c.entry(i.clone()).or_default() += 1;
        }
    }
    for o in &g.output {
        *c.entry(o.name.clone()).or_default() += 1;
    }
    c
}

struct Builder<'a> {
    model: Model<f32>,
    /// Output shape of each model node so far.
    shapes: Vec<Shape>,
    onnx_nodes: Vec<Vec<usize>>,
    values: Vec<String>,
    names: HashMap<String, Src>,
    inits: HashMap<&'a str, &'a TensorProto>,
    consumers: HashMap<String, usize>,
    value_dims: HashMap<String, Vec<Dim>>,
}

impl<'a> Builder<'a> {
    fn push(&mut self, onnx: Vec<usize>, value: String, op: Op<f32>, src: Src) -> Result<Src> {
        self.push_many(onnx, value, op, vec![src])
    }

    fn push_many(
        &mut self,
        onnx: Vec<usize>,
        value: String,
        op: Op<f32>,
        srcs: Vec<Src>,
    ) -> Result<Src> {
        let name = value.clone();
        let s = self.model.push(name, op, srcs)?;
        // Each node's shape once, as it is added (the model's shapes() would redo all of them).
        let k = self.shapes.len();
        self.shapes.push(self.model.node_shape(k, &self.shapes)?);
        self.onnx_nodes.push(onnx);
        self.names.insert(value.clone(), s);
        self.values.push(value);
        Ok(s)
    }

    fn init(&self, name: &str) -> Option<&TensorProto> {
        self.inits.get(name).copied()
    }

    fn shape_of(&self, s: Src) -> Result<Shape> {
        Ok(match s {
            Src::Input => self.model.input_shape(),
            Src::Node(i) => self.shapes[i],
        })
    }

    fn node(&mut self, k: usize, node: &'a NodeProto) -> Result<()> {
        let out = node.output.first().cloned().unwrap_or_default();
        // A constant is a weight like an initializer.
        if node.op_type == "Constant" {
            if let (Some(t), Some(name)) = (attr_tensor(node, "value")?, node.output.first()) {
                self.inits.insert(name.as_str(), t);
            }
            return Ok(());
        }
        // An Identity of a weight (the legacy exporter shares weights this way) is that weight.
        if matches!(node.op_type.as_str(), "Identity" | "Dropout") {
            if let (Some(src), Some(name)) = (node.input.first(), node.output.first()) {
                if let Some(t) = self.inits.get(src.as_str()).copied() {
                    self.inits.insert(name.as_str(), t);
                    return Ok(());
                }
            }
        }
        let data: Vec<Src> = node
            .input
            .iter()
            .filter(|i| !i.is_empty() && self.init(i).is_none())
            .filter_map(|i| self.names.get(i).copied())
            .collect();
        let known = node
            .input
            .iter()
            .filter(|i| !i.is_empty() && self.init(i).is_none())
            .count();
        if data.len() != known || data.is_empty() {
            // reads something we do not model (a constant node, a second graph input): a boundary
            // whose output we cannot place; skip it and let its consumers fail loudly if they need it
            return Ok(());
        }
        // MatMul then Add(bias): fold the bias into the Linear the MatMul became.
        if node.op_type == "Add" && data.len() == 1 {
            if let (Src::Node(j), Some(c)) = (data[0], node.input.iter().find_map(|i| self.init(i)))
            {
                if let Op::Layer(Layer::Linear(l)) = &self.model.nodes()[j].op {
                    let single_use = self.consumers.get(&self.values[j]).copied() == Some(1);
                    if l.bias().is_none() && single_use {
                        let bias = tensor_f32(c)?;
                        // a bias over the Linear's last axis: (out,) or (1, .., 1, out), not longer
                        // than the output with its batch axis; a (out, 1) of the same length is not one
                        let rank = self.shape_of(data[0])?.rank() + 1;
                        let over_last = bias.ndim() <= rank
                            && bias.shape().split_last().is_some_and(|(&n, lead)| {
                                n == l.out_features() && lead.iter().all(|&d| d == 1)
                            });
                        if over_last {
                            let bias = bias.into_iter().collect::<Array1<f32>>();
                            let fused = Linear::new(l.weight().clone(), Some(bias))
                                .map_err(|e| node_err(node, e))?;
                            self.replace(j, Op::Layer(Layer::Linear(fused)), k, out);
                            return Ok(());
                        }
                    }
                }
            }
        }
        let shapes = data
            .iter()
            .map(|&d| self.shape_of(d))
            .collect::<Result<Vec<Shape>>>()?;
        // A sum of branches of different shapes broadcasts: not a sum of linear maps here.
        let broadcast = shapes.iter().any(|s| *s != shapes[0]);
        let ctx = ops::Ctx { inits: &self.inits };
        let mapped = match node.op_type.as_str() {
            "Add" | "Sum" if broadcast => None,
            _ => ops::map(&ctx, node, &data, shapes[0])?,
        };
        let Some(ops) = mapped else {
            let op = Op::Nonlinear(self.boundary(node, &shapes));
            self.push_many(vec![k], out, op, data)?;
            return Ok(());
        };
        let n = ops.len();
        for (i, op) in ops.into_iter().enumerate() {
            let srcs = match (i, &op) {
                (0, Op::Add | Op::Concat) => data.clone(),
                (0, _) => vec![data[0]],
                _ => vec![self.model.output()],
            };
            // the last op writes the node's output; the others are internal values
            let value = if i + 1 == n {
                out.clone()
            } else {
                format!("{out}#{i}")
            };
            self.push_many(vec![k], value, op, srcs)?;
        }
        Ok(())
    }

    /// Rewrites model node `j` in place (used to fold a bias `Add` into its MatMul).
    fn replace(&mut self, j: usize, op: Op<f32>, onnx: usize, value: String) {
        self.model.replace_op(j, op);
        self.onnx_nodes[j].push(onnx);
        self.names.insert(value.clone(), Src::Node(j));
        self.values[j] = value;
    }

    /// The nonlinear op of a node that is not linear; `inputs` are the shapes of its data inputs. Its
    /// output shape comes from the file's value infos when declared, else from broadcasting its inputs'
    /// shapes when they differ (`Mul(x, scale)` of a squeeze-excite block), else it is its input's.
    fn boundary(&self, node: &NodeProto, inputs: &[Shape]) -> Nonlinear {
        let declared = node
            .output
            .first()
            .and_then(|o| self.value_dims.get(o))
            .and_then(|d| {
                let per: Option<Vec<usize>> = d
                    .iter()
                    .skip(1)
                    .map(|x| match x {
                        Dim::Fixed(n) if *n > 0 => Some(*n as usize),
                        _ => None,
                    })
                    .collect();
                Shape::from_dims(&per?)
            });
        let output = declared.or_else(|| {
            inputs
                .iter()
                .any(|s| *s != inputs[0])
                .then(|| broadcast(inputs))
                .flatten()
        });
        match node.op_type.as_str() {
            "Relu" => Nonlinear::Relu,
            "LeakyRelu" => {
                Nonlinear::LeakyRelu(attr_float(node, "alpha").ok().flatten().unwrap_or(0.01) as f64)
            }
            "Gelu" => Nonlinear::Gelu,
            "Sigmoid" => Nonlinear::Sigmoid,
            "Tanh" => Nonlinear::Tanh,
            "Softmax" if output.is_none() => Nonlinear::Softmax,
            "MaxPool" => match ops::pool_geometry(node) {
                Ok(Some(g)) => Nonlinear::MaxPool2d(g),
                _ => Nonlinear::Other {
                    name: node.op_type.clone(),
                    output,
                },
            },
            other => Nonlinear::Other {
                name: other.to_string(),
                output,
            },
        }
    }
}

/// NumPy broadcasting of per-sample shapes of one rank; `None` when they do not broadcast.
fn broadcast(shapes: &[Shape]) -> Option<Shape> {
    let rank = shapes[0].dims().len();
    let mut dims = vec![1usize; rank];
    for s in shapes {
        let d = s.dims();
        if d.len() != rank {
            return None;
        }
        for (out, &x) in dims.iter_mut().zip(&d) {
            *out = match (*out, x) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return None,
            };
        }
    }
    Shape::from_dims(&dims)
}
