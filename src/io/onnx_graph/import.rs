//! ONNX nodes onto model nodes.

use std::collections::HashMap;

use ndarray::{Array1, Ix2, Ix3, Ix4};

use crate::io::onnx::{
    attr_float, attr_int, attr_ints, attr_string, tensor_f32, tensor_i64, value_info_dims, Dim,
    ModelProto, NodeProto, TensorProto,
};
use crate::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig,
    Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Flatten, Geometry2d, Identity,
    Layer, Linear, Pad, PadMode, Permute, Reshape,
};
use crate::model::{Model, Nonlinear, Op, Src};
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
pub fn import(m: &ModelProto) -> Result<Imported> {
    let graph = m
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

/// The model layer or op an ONNX node maps to, or `None` for a boundary.
type Mapped = Option<Op<f32>>;

impl Builder<'_> {
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

    fn node(&mut self, k: usize, node: &NodeProto) -> Result<()> {
        let out = node.output.first().cloned().unwrap_or_default();
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
                        let bias = tensor_f32(c)?.into_iter().collect::<Array1<f32>>();
                        if bias.len() == l.out_features() {
                            let fused = Linear::new(l.weight().clone(), Some(bias))
                                .map_err(|e| node_err(node, e))?;
                            self.replace(j, Op::Layer(Layer::Linear(fused)), k, out);
                            return Ok(());
                        }
                    }
                }
            }
        }
        let op = match self.map(node, &data) {
            Ok(Some(op)) => op,
            Ok(None) => Op::Nonlinear(self.boundary(node)),
            Err(e) => return Err(e),
        };
        let srcs = match op {
            Op::Add | Op::Concat => data,
            _ => vec![data[0]],
        };
        self.push_many(vec![k], out, op, srcs)?;
        Ok(())
    }

    /// Rewrites model node `j` in place (used to fold a bias `Add` into its MatMul).
    fn replace(&mut self, j: usize, op: Op<f32>, onnx: usize, value: String) {
        self.model.replace_op(j, op);
        self.onnx_nodes[j].push(onnx);
        self.names.insert(value.clone(), Src::Node(j));
        self.values[j] = value;
    }

    fn boundary(&self, node: &NodeProto) -> Nonlinear {
        let output = node
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
        match node.op_type.as_str() {
            "Relu" => Nonlinear::Relu,
            "LeakyRelu" => {
                Nonlinear::LeakyRelu(attr_float(node, "alpha").ok().flatten().unwrap_or(0.01) as f64)
            }
            "Gelu" => Nonlinear::Gelu,
            "Sigmoid" => Nonlinear::Sigmoid,
            "Tanh" => Nonlinear::Tanh,
            "Softmax" if output.is_none() => Nonlinear::Softmax,
            "MaxPool" => match pool_geometry(node) {
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

    /// The linear op of `node`, `None` when it is not one (a boundary), `Err` when it should be but is
    /// malformed.
    fn map(&self, node: &NodeProto, data: &[Src]) -> Result<Mapped> {
        let w = |i: usize| node.input.get(i).and_then(|n| self.init(n));
        let shape = self.shape_of(data[0])?;
        let e = |err: Error| node_err(node, err);
        Ok(match node.op_type.as_str() {
            "Identity" | "Dropout" => Some(Op::Layer(Layer::Identity(Identity))),
            "Flatten" => match attr_int(node, "axis")?.unwrap_or(1) {
                1 => Some(Op::Layer(Layer::Flatten(Flatten))),
                _ => None,
            },
            "Add" | "Sum" if data.len() >= 2 => Some(Op::Add),
            "Concat" if data.len() >= 2 => match attr_int(node, "axis")? {
                Some(1) => Some(Op::Concat),
                _ => None,
            },
            "Gemm" => {
                let (Some(b), true) = (w(1), attr_int(node, "transA")?.unwrap_or(0) == 0) else {
                    return Ok(None);
                };
                let alpha = attr_float(node, "alpha")?.unwrap_or(1.0);
                let beta = attr_float(node, "beta")?.unwrap_or(1.0);
                let b = tensor_f32(b)?
                    .into_dimensionality::<Ix2>()
                    .map_err(|x| fmt(node, x))?;
                let weight = if attr_int(node, "transB")?.unwrap_or(0) == 1 {
                    b
                } else {
                    b.t().to_owned()
                };
                let weight = weight.mapv(|v| v * alpha);
                let bias = match w(2) {
                    Some(c) => Some(
                        tensor_f32(c)?
                            .into_iter()
                            .map(|v| v * beta)
                            .collect::<Array1<f32>>(),
                    ),
                    None => None,
                };
                Some(Op::Layer(Layer::Linear(
                    Linear::new(weight, bias).map_err(e)?,
                )))
            }
            "MatMul" => {
                let Some(b) = w(1) else { return Ok(None) };
                let b = tensor_f32(b)?;
                let Ok(b) = b.into_dimensionality::<Ix2>() else {
                    return Ok(None);
                };
                Some(Op::Layer(Layer::Linear(
                    Linear::new(b.t().to_owned(), None).map_err(e)?,
                )))
            }
            "Conv" => self.conv(node, shape)?,
            "ConvTranspose" => {
                let Some(wt) = w(1) else { return Ok(None) };
                if attr_ints(node, "output_shape")?.is_some() || !auto_pad_ok(node)? {
                    return Ok(None);
                }
                let weight = tensor_f32(wt)?;
                let Ok(weight) = weight.into_dimensionality::<Ix4>() else {
                    return Ok(None);
                };
                let bias = w(2)
                    .map(tensor_f32)
                    .transpose()?
                    .map(|b| b.into_iter().collect::<Array1<f32>>());
                let cfg = ConvTranspose2dConfig {
                    stride: pair(attr_ints(node, "strides")?, 1),
                    padding: quad(attr_ints(node, "pads")?),
                    output_padding: pair(attr_ints(node, "output_padding")?, 0),
                    dilation: pair(attr_ints(node, "dilations")?, 1),
                    groups: attr_int(node, "group")?.unwrap_or(1) as usize,
                };
                Some(Op::Layer(Layer::ConvTranspose2d(
                    ConvTranspose2d::new(weight, bias, cfg).map_err(e)?,
                )))
            }
            "BatchNormalization" => {
                let (Some(s), Some(b), Some(mean), Some(var)) = (w(1), w(2), w(3), w(4)) else {
                    return Ok(None);
                };
                let v = |t: &TensorProto| -> Result<Array1<f32>> {
                    Ok(tensor_f32(t)?.into_iter().collect())
                };
                let eps = attr_float(node, "epsilon")?.unwrap_or(1e-5) as f64;
                Some(Op::Layer(Layer::BatchNorm(
                    BatchNorm::new(v(mean)?, v(var)?, eps, Some(v(s)?), Some(v(b)?)).map_err(e)?,
                )))
            }
            "AveragePool" => self.avg_pool(node, shape)?,
            "Pad" => self.pad(node, shape)?,
            "Reshape" => {
                let Some(t) = w(1) else { return Ok(None) };
                let target = tensor_i64(t)?;
                reshape_target(&target, shape)
                    .map(|s| Reshape::new(s).map(|r| Op::Layer(Layer::Reshape(r))))
                    .transpose()
                    .map_err(e)?
            }
            "Squeeze" | "Unsqueeze" => {
                let axes: Vec<i64> = match (attr_ints(node, "axes")?, w(1)) {
                    (Some(a), _) => a.to_vec(),
                    (None, Some(t)) => tensor_i64(t)?,
                    _ => return Ok(None),
                };
                squeeze_target(&node.op_type, &axes, shape)
                    .map(|s| Reshape::new(s).map(|r| Op::Layer(Layer::Reshape(r))))
                    .transpose()
                    .map_err(e)?
            }
            "Transpose" => match attr_ints(node, "perm")? {
                Some([0, a, b, c]) if matches!(shape, Shape::Chw { .. }) => {
                    Some(Op::Layer(Layer::Permute(
                        Permute::new([*a as usize - 1, *b as usize - 1, *c as usize - 1])
                            .map_err(e)?,
                    )))
                }
                _ => None,
            },
            _ => None,
        })
    }

    fn conv(&self, node: &NodeProto, shape: Shape) -> Result<Mapped> {
        let Some(wt) = node.input.get(1).and_then(|n| self.init(n)) else {
            return Ok(None);
        };
        if !auto_pad_ok(node)? {
            return Ok(None);
        }
        let weight = tensor_f32(wt)?;
        let bias = node
            .input
            .get(2)
            .and_then(|n| self.init(n))
            .map(tensor_f32)
            .transpose()?
            .map(|b| b.into_iter().collect::<Array1<f32>>());
        let groups = attr_int(node, "group")?.unwrap_or(1) as usize;
        let e = |err: Error| node_err(node, err);
        Ok(match (weight.ndim(), shape) {
            (4, Shape::Chw { .. }) => {
                let cfg = Conv2dConfig {
                    stride: pair(attr_ints(node, "strides")?, 1),
                    dilation: pair(attr_ints(node, "dilations")?, 1),
                    padding: quad(attr_ints(node, "pads")?),
                    groups,
                };
                let w4 = weight
                    .into_dimensionality::<Ix4>()
                    .map_err(|x| fmt(node, x))?;
                Some(Op::Layer(Layer::Conv2d(
                    Conv2d::new(w4, bias, cfg).map_err(e)?,
                )))
            }
            (3, Shape::Cl { .. }) => {
                let p = attr_ints(node, "pads")?.unwrap_or(&[0, 0]);
                let cfg = Conv1dConfig {
                    stride: attr_ints(node, "strides")?
                        .and_then(|s| s.first().copied())
                        .unwrap_or(1) as usize,
                    dilation: attr_ints(node, "dilations")?
                        .and_then(|s| s.first().copied())
                        .unwrap_or(1) as usize,
                    padding: [
                        p.first().copied().unwrap_or(0) as usize,
                        p.get(1).copied().unwrap_or(0) as usize,
                    ],
                    groups,
                };
                let w3 = weight
                    .into_dimensionality::<Ix3>()
                    .map_err(|x| fmt(node, x))?;
                Some(Op::Layer(Layer::Conv1d(
                    Conv1d::new(w3, bias, cfg).map_err(e)?,
                )))
            }
            _ => None,
        })
    }

    fn avg_pool(&self, node: &NodeProto, shape: Shape) -> Result<Mapped> {
        if !auto_pad_ok(node)? {
            return Ok(None);
        }
        let Some(k) = attr_ints(node, "kernel_shape")? else {
            return Ok(None);
        };
        let ceil = attr_int(node, "ceil_mode")?.unwrap_or(0) == 1;
        let count_pad = attr_int(node, "count_include_pad")?.unwrap_or(0) == 1;
        let e = |err: Error| node_err(node, err);
        Ok(match (k, shape) {
            ([kh, kw], Shape::Chw { .. }) => {
                let cfg = AvgPool2dConfig {
                    stride: Some(pair(attr_ints(node, "strides")?, 1)),
                    padding: quad(attr_ints(node, "pads")?),
                    ceil_mode: ceil,
                    count_include_pad: count_pad,
                };
                Some(Op::Layer(Layer::AvgPool2d(
                    AvgPool2d::new([*kh as usize, *kw as usize], cfg).map_err(e)?,
                )))
            }
            ([kl], Shape::Cl { .. }) => {
                let p = attr_ints(node, "pads")?.unwrap_or(&[0, 0]);
                let cfg = AvgPool1dConfig {
                    stride: Some(
                        attr_ints(node, "strides")?
                            .and_then(|s| s.first().copied())
                            .unwrap_or(1) as usize,
                    ),
                    padding: [
                        p.first().copied().unwrap_or(0) as usize,
                        p.get(1).copied().unwrap_or(0) as usize,
                    ],
                    ceil_mode: ceil,
                    count_include_pad: count_pad,
                };
                Some(Op::Layer(Layer::AvgPool1d(
                    AvgPool1d::new(*kl as usize, cfg).map_err(e)?,
                )))
            }
            _ => None,
        })
    }

    fn pad(&self, node: &NodeProto, shape: Shape) -> Result<Mapped> {
        let pads: Vec<i64> = match (
            node.input.get(1).and_then(|n| self.init(n)),
            attr_ints(node, "pads")?,
        ) {
            (Some(t), _) => tensor_i64(t)?,
            (None, Some(p)) => p.to_vec(),
            _ => return Ok(None),
        };
        let value = match node
            .input
            .get(2)
            .filter(|n| !n.is_empty())
            .and_then(|n| self.init(n))
        {
            Some(t) => tensor_f32(t)?.iter().next().copied().unwrap_or(0.0),
            None => attr_float(node, "value")?.unwrap_or(0.0),
        };
        let mode = match attr_string(node, "mode")?.unwrap_or("constant") {
            "constant" => PadMode::Constant(value),
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Replicate,
            "wrap" => PadMode::Circular,
            _ => return Ok(None),
        };
        if pads.iter().any(|&p| p < 0) {
            return Ok(None);
        }
        let e = |err: Error| node_err(node, err);
        Ok(match (pads.as_slice(), shape) {
            ([0, 0, t, l, 0, 0, b, r], Shape::Chw { .. }) => Some(Op::Layer(Layer::Pad(
                Pad::new([*t as usize, *l as usize, *b as usize, *r as usize], mode).map_err(e)?,
            ))),
            ([0, 0, l, 0, 0, r], Shape::Cl { .. }) => Some(Op::Layer(Layer::Pad(
                Pad::new_1d([*l as usize, *r as usize], mode).map_err(e)?,
            ))),
            _ => None,
        })
    }
}

fn node_err(node: &NodeProto, err: Error) -> Error {
    Error::InvalidLayer {
        layer: format!("ONNX node '{}' ({})", node.name, node.op_type),
        reason: err.to_string(),
    }
}

fn fmt(node: &NodeProto, err: impl std::fmt::Display) -> Error {
    Error::format(
        format!("ONNX node '{}' ({})", node.name, node.op_type),
        err.to_string(),
    )
}

fn auto_pad_ok(node: &NodeProto) -> Result<bool> {
    Ok(matches!(
        attr_string(node, "auto_pad")?,
        None | Some("NOTSET") | Some("VALID")
    ))
}

fn pair(v: Option<&[i64]>, default: usize) -> [usize; 2] {
    match v {
        Some([a, b]) => [*a as usize, *b as usize],
        _ => [default, default],
    }
}

/// ONNX 2-d `pads` `[top, left, bottom, right]`.
fn quad(v: Option<&[i64]>) -> [usize; 4] {
    match v {
        Some([a, b, c, d]) => [*a as usize, *b as usize, *c as usize, *d as usize],
        _ => [0; 4],
    }
}

fn pool_geometry(node: &NodeProto) -> Result<Option<Geometry2d>> {
    let Some([kh, kw]) = attr_ints(node, "kernel_shape")? else {
        return Ok(None);
    };
    if attr_int(node, "ceil_mode")?.unwrap_or(0) != 0 || !auto_pad_ok(node)? {
        return Ok(None);
    }
    Ok(Some(Geometry2d {
        kernel: [*kh as usize, *kw as usize],
        stride: pair(attr_ints(node, "strides")?, 1),
        dilation: pair(attr_ints(node, "dilations")?, 1),
        padding: quad(attr_ints(node, "pads")?),
    }))
}

/// The per-sample shape of `Reshape(x, target)` when the batch axis is kept (`0` or `-1` first).
fn reshape_target(target: &[i64], input: Shape) -> Option<Shape> {
    let (first, rest) = target.split_first()?;
    if !matches!(first, 0 | -1) || (*first == -1 && rest.contains(&-1)) {
        return None;
    }
    let n = input.numel() as i64;
    let in_dims = input.dims();
    let mut dims: Vec<i64> = rest
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 0 {
                in_dims.get(i).map_or(-2, |&x| x as i64)
            } else {
                d
            }
        })
        .collect();
    if dims.iter().any(|&d| d < -1 || d == 0) {
        return None;
    }
    if let Some(pos) = dims.iter().position(|&d| d == -1) {
        let known: i64 = dims.iter().filter(|&&d| d != -1).product();
        if known == 0 || n % known != 0 {
            return None;
        }
        dims[pos] = n / known;
    }
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    (dims.iter().product::<usize>() as i64 == n)
        .then(|| Shape::from_dims(&dims))
        .flatten()
}

/// The per-sample shape after `Squeeze`/`Unsqueeze` on axes that do not touch the batch.
fn squeeze_target(op: &str, axes: &[i64], input: Shape) -> Option<Shape> {
    let mut dims: Vec<usize> = std::iter::once(1).chain(input.dims()).collect();
    let rank = dims.len() as i64
        + if op == "Unsqueeze" {
            axes.len() as i64
        } else {
            0
        };
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| {
            if a < 0 {
                (a + rank) as usize
            } else {
                a as usize
            }
        })
        .collect();
    if axes.contains(&0) {
        return None;
    }
    axes.sort_unstable();
    if op == "Squeeze" {
        for &a in axes.iter().rev() {
            if dims.get(a) != Some(&1) {
                return None;
            }
            dims.remove(a);
        }
    } else {
        for &a in &axes {
            if a > dims.len() {
                return None;
            }
            dims.insert(a, 1);
        }
    }
    Shape::from_dims(&dims[1..])
}
