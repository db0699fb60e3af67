//! Replaced runs written back into the ONNX graph, in place.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::import::Imported;
use crate::graph::{Op, Src};
use crate::io::onnx::{tensor_from_f32, AttributeProto, NodeProto, OnnxModel, TensorProto};
use crate::layer::{Conv2d, Layer, Linear};
use crate::{Error, Result, Shape};

/// The oldest default-operator-set version the written ops are spelled for: `Reshape` takes its shape as
/// an input from version 5, and `Add` and `Gemm` broadcast without an attribute from version 7.
pub const MIN_WRITE_OPSET: i64 = 7;

/// `attribute_proto::AttributeType` values used here.
const INT: i32 = 2;
const INTS: i32 = 7;
/// `tensor_proto::DataType::Int64`.
const INT64: i32 = 7;

/// One run of the imported model to replace: its model nodes, the value it reads, the node whose output
/// leaves it, and the ops that replace it (applied in order to the entry).
#[derive(Clone, Copy, Debug)]
pub struct RunEdit<'a> {
    /// Indices of the run's nodes in [`Imported::model`].
    pub nodes: &'a [usize],
    /// The value the run reads.
    pub entry: Src,
    /// Its per-sample shape.
    pub input: Shape,
    /// The node whose output leaves the run.
    pub exit: usize,
    /// The replacement.
    pub ops: &'a [Op<f32>],
}

/// Writes each edit into the ONNX model `m` (which `imported` came from; taken, so that no weight is held
/// twice): the new nodes (`Conv`,
/// `Gemm`, `Flatten`, `Reshape`) read the run's entry value and write its exit value, placed where the run
/// ended, so every other node, the graph's inputs and outputs, initializers, opsets and metadata stay as
/// they were. An ONNX node goes only when every model node it became is replaced; a kept node's output
/// that a replacement now writes is renamed out of the way. Nodes, initializers and value infos nothing
/// reads any more are dropped.
///
/// # Errors
/// [`Error::Unsupported`] when a replacement op has no ONNX spelling here, or a run's entry or exit is a
/// value inside one ONNX node (see [`Imported::writable`]).
pub fn rewrite(m: OnnxModel, imported: &Imported, edits: &[RunEdit<'_>]) -> Result<OnnxModel> {
    let mut out = m.into_proto();
    let graph = out.graph.as_mut().expect("import checked the graph");
    let mut names = Names::of(graph);
    let replaced: BTreeSet<usize> = edits.iter().flat_map(|e| e.nodes.iter().copied()).collect();
    let mut removed = gone(imported, &replaced);
    // a folded node that reads a value going away (a Shape of a replaced node's output) becomes the
    // constants it computed
    let gone: HashSet<&str> = removed
        .iter()
        .flat_map(|&k| graph.node[k].output.iter().map(String::as_str))
        .collect();
    let mut baked_inits: Vec<TensorProto> = Vec::new();
    for (k, tensors) in &imported.baked {
        if graph.node[*k]
            .input
            .iter()
            .any(|i| gone.contains(i.as_str()))
        {
            removed.insert(*k);
            baked_inits.extend(tensors.iter().cloned());
        }
    }
    // (position of the run's last ONNX node, new nodes) per run
    let mut inserts: Vec<(usize, Vec<NodeProto>)> = Vec::new();
    let mut new_inits: Vec<TensorProto> = Vec::new();
    let mut written: HashSet<String> = HashSet::new();
    for run in edits {
        let (entry, exit) = imported.writable(run.nodes, run.entry, run.exit)?;
        let last = run
            .nodes
            .iter()
            .flat_map(|&k| imported.onnx_nodes[k].iter().copied())
            .max()
            .unwrap_or(0);
        let nodes = spell(
            run.ops,
            run.input,
            &entry,
            &exit,
            &mut names,
            &mut new_inits,
        )?;
        written.insert(exit);
        inserts.push((last, nodes));
    }
    // the new nodes go where their run ended; nodes are moved, never copied (a Constant holds a weight)
    let mut by_pos: HashMap<usize, Vec<NodeProto>> = HashMap::new();
    for (pos, new) in inserts {
        by_pos.entry(pos).or_default().extend(new);
    }
    let mut nodes = Vec::new();
    for (k, mut node) in std::mem::take(&mut graph.node).into_iter().enumerate() {
        if !removed.contains(&k) {
            for o in node
                .output
                .iter_mut()
                .filter(|o| written.contains(o.as_str()))
            {
                *o = names.fresh("lc_unused");
            }
            nodes.push(node);
        }
        nodes.extend(by_pos.remove(&k).unwrap_or_default());
    }
    graph.node = nodes;
    graph.initializer.extend(new_inits);
    graph.initializer.extend(baked_inits);
    prune(graph);
    Ok(OnnxModel::from_proto(out))
}

/// The ONNX nodes that go when the model nodes `replaced` are replaced: those every model node made from
/// them is replaced.
pub(crate) fn gone(imported: &Imported, replaced: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut owners: HashMap<usize, Vec<usize>> = HashMap::new();
    for (j, onnx) in imported.onnx_nodes.iter().enumerate() {
        for &k in onnx {
            owners.entry(k).or_default().push(j);
        }
    }
    owners
        .into_iter()
        .filter(|(_, js)| js.iter().all(|j| replaced.contains(j)))
        .map(|(k, _)| k)
        .collect()
}

/// Drops nodes none of whose outputs anything reads (repeatedly: a dead node's inputs may die with it),
/// then initializers, graph inputs listing them, and value infos that no longer name a value.
fn prune(graph: &mut crate::io::onnx::GraphProto) {
    // a value a subgraph reads from the outer scope is read, as an output is
    let outputs: HashSet<String> = graph
        .output
        .iter()
        .map(|v| v.name.clone())
        .chain(
            graph
                .node
                .iter()
                .flat_map(super::share::subgraph_reads)
                .map(str::to_owned),
        )
        .collect();
    loop {
        let read: HashSet<&str> = graph
            .node
            .iter()
            .flat_map(|n| n.input.iter().map(String::as_str))
            .collect();
        let keep: Vec<bool> = graph
            .node
            .iter()
            .map(|n| {
                n.output
                    .iter()
                    .any(|o| !o.is_empty() && (read.contains(o.as_str()) || outputs.contains(o)))
            })
            .collect();
        if keep.iter().all(|&k| k) {
            break;
        }
        let mut it = keep.into_iter();
        graph.node.retain(|_| it.next().unwrap_or(true));
    }
    let read: HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .chain(outputs.iter().cloned())
        .collect();
    let dropped: HashSet<String> = graph
        .initializer
        .iter()
        .filter(|t| !read.contains(&t.name))
        .map(|t| t.name.clone())
        .collect();
    graph.initializer.retain(|t| read.contains(&t.name));
    graph.input.retain(|v| !dropped.contains(&v.name));
    let produced: HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().cloned())
        .collect();
    graph.value_info.retain(|v| produced.contains(&v.name));
}

/// Every name a graph uses, to make new ones that collide with none.
struct Names {
    taken: HashSet<String>,
    next: usize,
}

impl Names {
    fn of(graph: &crate::io::onnx::GraphProto) -> Self {
        let taken = graph
            .node
            .iter()
            .flat_map(|n| {
                n.input
                    .iter()
                    .chain(&n.output)
                    .chain(std::iter::once(&n.name))
            })
            .chain(graph.initializer.iter().map(|t| &t.name))
            .chain(graph.input.iter().map(|v| &v.name))
            .chain(graph.output.iter().map(|v| &v.name))
            .cloned()
            .collect();
        Names { taken, next: 0 }
    }

    /// A new name starting with `stem`, which no name in use starts with (so `NAME.0.weight` is new too).
    fn fresh(&mut self, stem: &str) -> String {
        loop {
            let name = format!("{stem}_{}", self.next);
            self.next += 1;
            if !self.taken.iter().any(|t| t.starts_with(&name)) {
                self.taken.insert(name.clone());
                return name;
            }
        }
    }
}

/// The ONNX nodes for a run's replacement ops, reading `entry` and writing `exit`.
fn spell(
    ops: &[Op<f32>],
    input: Shape,
    entry: &str,
    exit: &str,
    names: &mut Names,
    inits: &mut Vec<TensorProto>,
) -> Result<Vec<NodeProto>> {
    let mut nodes = Vec::new();
    let mut cur = entry.to_string();
    let mut shape = input;
    let prefix = &names.fresh("lc");
    for (j, op) in ops.iter().enumerate() {
        let out = if j + 1 == ops.len() {
            exit.to_string()
        } else {
            names.fresh(&format!("{prefix}_out"))
        };
        let name = format!("{prefix}/{j}");
        let node = match op {
            Op::Layer(Layer::Flatten(_)) => node(
                "Flatten",
                &name,
                vec![cur.clone()],
                &out,
                vec![int("axis", 1)],
            ),
            Op::Layer(Layer::Linear(l)) if matches!(shape, Shape::Flat(_)) => {
                gemm(l, &name, &cur, &out, prefix, j, inits)
            }
            Op::Layer(Layer::Linear(l)) => {
                // over the last axis of an N-d value: MatMul by W^T, then the bias
                let wt = format!("{prefix}.{j}.weight");
                inits.push(tensor_from_f32(&wt, &l.weight().t().to_owned().into_dyn()));
                let Some(b) = l.bias() else {
                    nodes.push(node("MatMul", &name, vec![cur.clone(), wt], &out, vec![]));
                    shape = crate::infer::output_shape(0, &Layer::Linear(l.clone()), shape)?;
                    cur = out;
                    continue;
                };
                let mid = names.fresh(&format!("{prefix}_out"));
                nodes.push(node("MatMul", &name, vec![cur.clone(), wt], &mid, vec![]));
                let bn = format!("{prefix}.{j}.bias");
                inits.push(tensor_from_f32(&bn, &b.clone().into_dyn()));
                node("Add", &format!("{name}/bias"), vec![mid, bn], &out, vec![])
            }
            Op::Layer(Layer::Conv2d(c)) => conv(c, &name, &cur, &out, prefix, j, inits),
            Op::Layer(Layer::Reshape(r)) => {
                let shape_name = format!("{prefix}.{j}.shape");
                let dims: Vec<i64> = std::iter::once(-1)
                    .chain(r.shape().dims().iter().map(|&d| d as i64))
                    .collect();
                inits.push(TensorProto {
                    name: shape_name.clone(),
                    dims: vec![dims.len() as i64],
                    data_type: INT64,
                    int64_data: dims,
                    ..Default::default()
                });
                node(
                    "Reshape",
                    &name,
                    vec![cur.clone(), shape_name],
                    &out,
                    vec![],
                )
            }
            other => {
                return Err(Error::Unsupported {
                    op_type: other.describe(),
                    detail: "no ONNX spelling for this collapsed form".into(),
                })
            }
        };
        if let Op::Layer(l) = op {
            shape = crate::infer::output_shape(0, l, shape)?;
        }
        nodes.push(node);
        cur = out;
    }
    Ok(nodes)
}

fn node(
    op: &str,
    name: &str,
    inputs: Vec<String>,
    out: &str,
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs,
        output: vec![out.into()],
        attribute,
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: INT,
        i: v,
        ..Default::default()
    }
}

fn ints(name: &str, v: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: INTS,
        ints: v.iter().map(|&x| x as i64).collect(),
        ..Default::default()
    }
}

/// The node's inputs: `x`, the weight and (if any) the bias, each weight added as an initializer named
/// `<prefix>.<j>.weight` / `.bias`.
fn with_params(
    x: &str,
    weight: ndarray::ArrayD<f32>,
    bias: Option<ndarray::ArrayD<f32>>,
    (prefix, j): (&str, usize),
    inits: &mut Vec<TensorProto>,
) -> Vec<String> {
    let w = format!("{prefix}.{j}.weight");
    inits.push(tensor_from_f32(&w, &weight));
    let mut inputs = vec![x.to_string(), w];
    if let Some(b) = bias {
        let bn = format!("{prefix}.{j}.bias");
        inits.push(tensor_from_f32(&bn, &b));
        inputs.push(bn);
    }
    inputs
}

fn gemm(
    l: &Linear<f32>,
    name: &str,
    x: &str,
    out: &str,
    prefix: &str,
    j: usize,
    inits: &mut Vec<TensorProto>,
) -> NodeProto {
    // C is required before opset 11: a Linear without a bias gets zeros
    let bias = Some(l.bias_or_zeros().into_dyn());
    let inputs = with_params(x, l.weight().clone().into_dyn(), bias, (prefix, j), inits);
    node("Gemm", name, inputs, out, vec![int("transB", 1)])
}

fn conv(
    c: &Conv2d<f32>,
    name: &str,
    x: &str,
    out: &str,
    prefix: &str,
    j: usize,
    inits: &mut Vec<TensorProto>,
) -> NodeProto {
    let bias = c.bias().map(|b| b.clone().into_dyn());
    let inputs = with_params(x, c.weight().clone().into_dyn(), bias, (prefix, j), inits);
    let g = c.geometry();
    let attrs = vec![
        ints("kernel_shape", &g.kernel),
        ints("strides", &g.stride),
        ints("dilations", &g.dilation),
        ints("pads", &g.padding),
        int("group", c.groups() as i64),
    ];
    node("Conv", name, inputs, out, attrs)
}
