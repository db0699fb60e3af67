//! Replaced runs written back into the ONNX graph, in place.

use std::collections::{BTreeSet, HashSet};

use super::import::Imported;
use crate::graph::{Op, Src};
use crate::io::onnx::{tensor_from_f32, AttributeProto, NodeProto, OnnxModel, TensorProto};
use crate::layer::{Conv2d, Layer, Linear};
use crate::{Error, Result};

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
    /// The node whose output leaves the run.
    pub exit: usize,
    /// The replacement.
    pub ops: &'a [Op<f32>],
}

/// Writes each edit into a copy of the ONNX model `m` (which `imported` came from): the run's ONNX
/// nodes are removed and the replacement's nodes (`Conv`, `Gemm`, `Flatten`, `Reshape`) inserted where the
/// run ended, reading the run's entry value and writing its exit value, so every other node, the graph's
/// inputs and outputs, initializers, opsets and metadata stay as they were. Initializers and value infos
/// nothing refers to any more are dropped.
///
/// # Errors
/// [`Error::Unsupported`] when a replacement op has no ONNX spelling here.
pub fn rewrite(m: &OnnxModel, imported: &Imported, edits: &[RunEdit<'_>]) -> Result<OnnxModel> {
    let mut out = m.proto().clone();
    let graph = out.graph.as_mut().expect("import checked the graph");
    let mut removed: BTreeSet<usize> = BTreeSet::new();
    // (position of the run's last ONNX node, new nodes) per collapsed run
    let mut inserts: Vec<(usize, Vec<NodeProto>)> = Vec::new();
    let mut new_inits: Vec<TensorProto> = Vec::new();
    for (r, run) in edits.iter().enumerate() {
        let ops = run.ops;
        let onnx: Vec<usize> = run
            .nodes
            .iter()
            .flat_map(|&k| imported.onnx_nodes[k].iter().copied())
            .collect();
        let Some(&last) = onnx.iter().max() else {
            continue;
        };
        let entry = match run.entry {
            Src::Input => imported.input.clone(),
            Src::Node(j) => imported.values[j].clone(),
        };
        let exit = imported.values[run.exit].clone();
        let prefix = format!("lc{r}");
        let nodes = spell(ops, &entry, &exit, &prefix, &mut new_inits)?;
        removed.extend(onnx);
        inserts.push((last, nodes));
    }
    let mut nodes = Vec::new();
    for (k, node) in graph.node.iter().enumerate() {
        if !removed.contains(&k) {
            nodes.push(node.clone());
        }
        for (pos, new) in &inserts {
            if *pos == k {
                nodes.extend(new.iter().cloned());
            }
        }
    }
    graph.node = nodes;
    graph.initializer.extend(new_inits);
    // Drop initializers and value infos nothing refers to any more.
    let used: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    let produced: HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().cloned())
        .collect();
    let outputs: HashSet<String> = graph.output.iter().map(|v| v.name.clone()).collect();
    let used: HashSet<String> = used.into_iter().map(str::to_string).collect();
    graph
        .initializer
        .retain(|t| used.contains(&t.name) || outputs.contains(&t.name));
    graph.value_info.retain(|v| produced.contains(&v.name));
    let init_names: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    graph.input.retain(|v| {
        !(v.name != imported.input && !init_names.contains(&v.name) && !used.contains(&v.name))
    });
    Ok(OnnxModel::from_proto(out))
}

/// The ONNX nodes for a run's replacement ops, reading `entry` and writing `exit`.
fn spell(
    ops: &[Op<f32>],
    entry: &str,
    exit: &str,
    prefix: &str,
    inits: &mut Vec<TensorProto>,
) -> Result<Vec<NodeProto>> {
    let mut nodes = Vec::new();
    let mut cur = entry.to_string();
    for (j, op) in ops.iter().enumerate() {
        let out = if j + 1 == ops.len() {
            exit.to_string()
        } else {
            format!("{prefix}_{j}")
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
            Op::Layer(Layer::Linear(l)) => gemm(l, &name, &cur, &out, prefix, j, inits),
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
    let bias = l.bias().map(|b| b.clone().into_dyn());
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
