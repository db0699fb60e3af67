//! The graph-level entry point: a graph in ONNX's operator vocabulary (what the PyTorch fx front-end in
//! `linear_collapse/torch/` builds) in, the replaced pieces out as plain data. The front-end rewrites its
//! own graph from them; the maths stays here.

use std::collections::HashSet;

use lc::graph::Op;
use lc::io::onnx::{Attribute, Graph, Node, OnnxModel, Tensor, Value};
use lc::layer::Layer;
use lc::pipeline::{edits_onnx, Edit, Summary};
use lc::Options;
use linear_collapse as lc;
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::{options, policy, to_py, value_error};

/// A value as Python gives it: `(name, dims, is_float, first_axis_is_batch)`.
type PyValue = (String, Vec<usize>, bool, bool);

/// A node as Python gives it: `(name, op_type, domain, inputs, outputs, attributes)`.
type PyNode<'py> = (
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
    Bound<'py, PyDict>,
);

/// What [`collapse_graph`] returns: the edits, the run reports, the totals and the printed table.
type Collapsed<'py> = (
    Bound<'py, PyList>,
    Bound<'py, PyList>,
    Bound<'py, PyDict>,
    String,
);

/// collapse_graph(inputs, nodes, initializers, values, outputs, cuttable, objective="macs", force=False,
/// build=True, accumulate="f64", opset=17) -> (edits, runs, totals, table)
#[pyfunction]
#[pyo3(signature = (inputs, nodes, initializers, values, outputs, cuttable, objective="macs",
    force=false, build=true, accumulate="f64", opset=17))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn collapse_graph<'py>(
    py: Python<'py>,
    inputs: Vec<PyValue>,
    nodes: Vec<PyNode<'py>>,
    initializers: Vec<(String, Bound<'py, PyAny>)>,
    values: Vec<PyValue>,
    outputs: Vec<String>,
    cuttable: HashSet<String>,
    objective: &str,
    force: bool,
    build: bool,
    accumulate: &str,
    opset: i64,
) -> PyResult<Collapsed<'py>> {
    let opts = Options {
        policy: policy(objective, force)?,
        ..options("auto", accumulate)?
    };
    let graph = Graph {
        opset,
        inputs: inputs.into_iter().map(value).collect(),
        nodes: nodes.into_iter().map(node).collect::<PyResult<_>>()?,
        initializers: initializers
            .into_iter()
            .map(|(name, a)| Ok((name.clone(), tensor(&name, &a)?)))
            .collect::<PyResult<_>>()?,
        values: values.into_iter().map(value).collect(),
        outputs,
    };
    let channel_only: HashSet<String> = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op_type.as_str(), "BatchNormalization" | "Identity"))
        .map(|n| n.name.clone())
        .collect();
    let (mut edits, mut summary) = py
        .detach(|| -> lc::Result<(Vec<Edit>, Summary)> {
            let model = OnnxModel::build(graph)?;
            edits_onnx(&model, &opts, &|name| cuttable.contains(name), build)
        })
        .map_err(to_py)?;
    if !force {
        keep_batch_norms(&mut edits, &mut summary, &channel_only);
    }
    let out = PyList::empty(py);
    for e in edits {
        out.append(edit(py, e)?)?;
    }
    let runs = PyList::empty(py);
    for r in &summary.runs {
        let d = PyDict::new(py);
        d.set_item("nodes", &r.nodes)?;
        d.set_item("ops", &r.ops)?;
        d.set_item("input_shape", r.shapes.0.dims())?;
        d.set_item("output_shape", r.shapes.1.dims())?;
        d.set_item("form", r.form.to_string())?;
        d.set_item("why", &r.why)?;
        d.set_item("params", r.params)?;
        d.set_item("macs", r.macs)?;
        d.set_item("max_error", r.max_error)?;
        runs.append(d)?;
    }
    let totals = PyDict::new(py);
    totals.set_item("nodes", summary.totals.nodes)?;
    totals.set_item("params", summary.totals.params)?;
    totals.set_item("macs", summary.totals.macs)?;
    Ok((out, runs, totals, summary.to_string()))
}

/// Keeps every piece made only of BatchNorms (and identities): in eval mode a BatchNorm is already the
/// per-channel scale and shift a 1x1 depthwise `Conv2d` would be, with as many multiply-adds, and PyTorch
/// runs it as one kernel; the core counts its running statistics as parameters, PyTorch does not.
fn keep_batch_norms(edits: &mut Vec<Edit>, summary: &mut Summary, channel_only: &HashSet<String>) {
    edits.retain(|e| {
        if !e.nodes.iter().all(|n| channel_only.contains(n)) {
            return true;
        }
        let r = &mut summary.runs[e.run];
        let t = &mut summary.totals;
        t.params.1 += r.params.0.saturating_sub(r.params.1);
        t.macs.1 += r.macs.0.saturating_sub(r.macs.1);
        t.nodes.1 += e.nodes.len().saturating_sub(1);
        r.why =
            "kept as it is: a BatchNorm in eval mode is already this per-channel scale and shift, \
                 which PyTorch runs as one kernel"
                .into();
        r.form = lc::form::Form::Unchanged;
        r.params.1 = r.params.0;
        r.macs.1 = r.macs.0;
        r.max_error = None;
        false
    });
}

fn value((name, dims, float, batched): PyValue) -> Value {
    Value {
        name,
        dims,
        float,
        batched,
    }
}

fn node((name, op_type, domain, inputs, outputs, attrs): PyNode<'_>) -> PyResult<Node> {
    let mut attributes = Vec::new();
    for (k, v) in attrs.iter() {
        let key: String = k.extract()?;
        let bad = || {
            PyTypeError::new_err(format!(
                "node {name}: attribute {key} must be an int, a float, a str or a list of ints or \
                 floats, got {v}"
            ))
        };
        let a = if v.is_instance_of::<pyo3::types::PyBool>() {
            Attribute::Int(i64::from(v.extract::<bool>()?))
        } else if let Ok(i) = v.extract::<i64>() {
            Attribute::Int(i)
        } else if let Ok(f) = v.extract::<f32>() {
            Attribute::Float(f)
        } else if let Ok(s) = v.extract::<String>() {
            Attribute::Text(s)
        } else if let Ok(is) = v.extract::<Vec<i64>>() {
            Attribute::Ints(is)
        } else if let Ok(fs) = v.extract::<Vec<f32>>() {
            Attribute::Floats(fs)
        } else {
            return Err(bad());
        };
        attributes.push((key, a));
    }
    Ok(Node {
        name,
        op_type,
        domain,
        inputs,
        outputs,
        attributes,
    })
}

/// A float32 or int64 array.
fn tensor(name: &str, a: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    if let Ok(a) = a.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        return Ok(Tensor::Float(a.as_array().to_owned()));
    }
    if let Ok(a) = a.extract::<PyReadonlyArrayDyn<'_, i64>>() {
        return Ok(Tensor::Int(a.as_array().to_owned()));
    }
    Err(PyTypeError::new_err(format!(
        "initializer {name} must be a float32 or int64 array"
    )))
}

fn edit(py: Python<'_>, e: Edit) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("run", e.run)?;
    d.set_item("nodes", e.nodes)?;
    d.set_item("entry", e.entry)?;
    d.set_item("exit", e.exit)?;
    d.set_item("input_shape", e.input.dims())?;
    let ops = PyList::empty(py);
    for op in e.ops {
        ops.append(layer(py, op)?)?;
    }
    d.set_item("ops", ops)?;
    Ok(d)
}

/// A replacement op as a dict: `kind` and its parameters.
fn layer(py: Python<'_>, op: Op<f32>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    match op {
        Op::Layer(Layer::Conv2d(c)) => {
            let g = *c.geometry();
            d.set_item("kind", "conv2d")?;
            d.set_item("groups", c.groups())?;
            d.set_item("stride", g.stride)?;
            d.set_item("dilation", g.dilation)?;
            d.set_item("padding", g.padding)?;
            d.set_item("bias", c.bias().map(|b| b.clone().into_pyarray(py)))?;
            d.set_item("weight", c.weight().clone().into_pyarray(py))?;
        }
        Op::Layer(Layer::Linear(l)) => {
            d.set_item("kind", "linear")?;
            d.set_item("bias", l.bias().map(|b| b.clone().into_pyarray(py)))?;
            d.set_item("weight", l.weight().clone().into_pyarray(py))?;
        }
        Op::Layer(Layer::Flatten(_)) => d.set_item("kind", "flatten")?,
        Op::Layer(Layer::Reshape(r)) => {
            d.set_item("kind", "reshape")?;
            d.set_item("shape", r.shape().dims())?;
        }
        other => {
            return Err(value_error(format!(
                "no PyTorch module for the collapsed form {}",
                other.describe()
            )))
        }
    }
    Ok(d)
}
