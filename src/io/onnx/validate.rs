//! The checks [`decode_model`](super::decode_model) runs on a decoded model (listed there).

use std::collections::HashSet;

use super::operators::OPERATORS;
use super::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto};
use super::tensor::check_tensor;
use crate::{Error, Result};

/// Validates `model`; `source` (the file name) starts every error's context.
pub(super) fn model(model: &ModelProto, source: &str) -> Result<()> {
    let Some(graph) = &model.graph else {
        return Err(Error::format(source, "the model has no graph"));
    };
    let Some(opset) = model
        .opset_import
        .iter()
        .filter(|o| default_domain(&o.domain))
        .map(|o| o.version)
        .max()
    else {
        return Err(Error::format(
            source,
            "the model imports no version of the default (ai.onnx) operator set",
        ));
    };
    if opset < 1 {
        return Err(Error::format(
            format!("{source}: opset_import"),
            format!("the model imports ai.onnx version {opset}; versions start at 1"),
        ));
    }
    self::graph(graph, opset, source)
}

fn default_domain(d: &str) -> bool {
    d.is_empty() || d == "ai.onnx"
}

fn graph(g: &GraphProto, opset: i64, source: &str) -> Result<()> {
    let mut defined: HashSet<&str> = HashSet::new();
    for (i, t) in g.initializer.iter().enumerate() {
        let ctx = || format!("{source}: initializer #{i} '{}'", t.name);
        if t.name.is_empty() {
            return Err(Error::format(ctx(), "has no name"));
        }
        check_tensor(t).map_err(|m| Error::format(ctx(), m))?;
        defined.insert(&t.name);
    }
    defined.extend(
        g.sparse_initializer
            .iter()
            .filter_map(|s| Some(s.values.as_ref()?.name.as_str())),
    );
    let mut inputs: HashSet<&str> = HashSet::new();
    for v in &g.input {
        value_info(v, "input", source)?;
        if !inputs.insert(&v.name) {
            return Err(Error::format(
                format!("{source}: graph input '{}'", v.name),
                "is listed twice",
            ));
        }
        declared_as_initialized(v, g, source)?;
        defined.insert(&v.name);
    }
    for (i, n) in g.node.iter().enumerate() {
        node(n, i, &mut defined, source)?;
        operators(n, opset).map_err(|m| {
            Error::format(
                format!("{source}: node #{i} '{}' ({})", n.name, n.op_type),
                m,
            )
        })?;
    }
    for v in &g.output {
        value_info(v, "output", source)?;
        if !defined.contains(v.name.as_str()) {
            return Err(Error::format(
                format!("{source}: graph output '{}'", v.name),
                "is not a graph input, an initializer or the output of a node",
            ));
        }
    }
    g.value_info
        .iter()
        .try_for_each(|v| value_info(v, "value info", source))
}

/// Checks node `i`'s inputs against the values `defined` so far, then adds its outputs.
fn node<'a>(
    n: &'a NodeProto,
    i: usize,
    defined: &mut HashSet<&'a str>,
    source: &str,
) -> Result<()> {
    let ctx = || format!("{source}: node #{i} '{}' ({})", n.name, n.op_type);
    if n.op_type.is_empty() {
        return Err(Error::format(ctx(), "has no op type"));
    }
    for (k, input) in n.input.iter().enumerate() {
        if !input.is_empty() && !defined.contains(input.as_str()) {
            return Err(Error::format(
                ctx(),
                format!(
                    "input #{k} '{input}' is not a graph input, an initializer or the output of \
                     an earlier node"
                ),
            ));
        }
    }
    let mut attributes = HashSet::new();
    for a in &n.attribute {
        if !attributes.insert(a.name.as_str()) {
            return Err(Error::format(
                ctx(),
                format!("repeats attribute '{}'", a.name),
            ));
        }
        for t in a.t.iter().chain(&a.tensors) {
            check_tensor(t).map_err(|m| {
                Error::format(
                    format!("{}, attribute '{}', tensor '{}'", ctx(), a.name, t.name),
                    m,
                )
            })?;
        }
    }
    for output in n.output.iter().filter(|o| !o.is_empty()) {
        if !defined.insert(output) {
            return Err(Error::format(
                ctx(),
                format!("output '{output}' is already defined"),
            ));
        }
    }
    Ok(())
}

/// A graph input that names an initializer (IR < 4 lists them) must declare the initializer's dims.
fn declared_as_initialized(v: &ValueInfoProto, g: &GraphProto, source: &str) -> Result<()> {
    use super::Dim;
    let (Some(t), Some(dims)) = (
        g.initializer.iter().find(|t| t.name == v.name),
        super::value_info_dims(v),
    ) else {
        return Ok(());
    };
    let agree = dims.len() == t.dims.len()
        && dims.iter().zip(&t.dims).all(|(d, &n)| match d {
            Dim::Fixed(m) => *m == n,
            _ => true,
        });
    if agree {
        return Ok(());
    }
    Err(Error::format(
        format!("{source}: graph input '{}'", v.name),
        format!(
            "declares dims [{}] but its initializer has {:?}",
            dims.iter()
                .map(|d| match d {
                    Dim::Fixed(n) => n.to_string(),
                    Dim::Symbolic(s) => s.clone(),
                    _ => "?".into(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            t.dims
        ),
    ))
}

/// [`operator`] for `n` and every node of the subgraphs in its attributes (an `If`'s branches, a
/// `Loop`'s body).
fn operators(n: &NodeProto, opset: i64) -> std::result::Result<(), String> {
    operator(n, opset)?;
    for a in &n.attribute {
        for g in a.g.iter().chain(&a.graphs) {
            for inner in &g.node {
                operators(inner, opset).map_err(|m| {
                    format!(
                        "attribute '{}', node '{}' ({}): {m}",
                        a.name, inner.name, inner.op_type
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Refuses an op of the default operator set that does not exist, or not yet at version `opset`, or
/// that lists more or fewer inputs or outputs than its definition at that version takes.
fn operator(n: &NodeProto, opset: i64) -> std::result::Result<(), String> {
    if !default_domain(&n.domain) {
        return Ok(());
    }
    let op = n.op_type.as_str();
    let lo = OPERATORS.partition_point(|o| o.name < op);
    let hi = OPERATORS.partition_point(|o| o.name <= op);
    let versions = &OPERATORS[lo..hi];
    let Some(first) = versions.first() else {
        return Err(format!(
            "'{op}' is not an operator of the default (ai.onnx) operator set; give its domain if it \
             is a custom op"
        ));
    };
    let Some(def) = versions.iter().rev().find(|o| o.since <= opset) else {
        return Err(format!(
            "'{op}' exists from ai.onnx version {}; the model imports version {opset}",
            first.since
        ));
    };
    let count = |what: &str, listed: usize, (min, max): (usize, usize)| {
        if (min..=max).contains(&listed) {
            return Ok(());
        }
        let range = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, usize::MAX) | (a, 2147483647) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        Err(format!(
            "lists {listed} {what}; {op} (version {}) takes {range}",
            def.since
        ))
    };
    count("inputs", n.input.len(), def.inputs)?;
    count("outputs", n.output.len(), def.outputs)
}

/// Refuses negative dims in the declared shape of a graph input, output or value info.
fn value_info(v: &ValueInfoProto, kind: &str, source: &str) -> Result<()> {
    use super::proto::tensor_shape_proto::dimension::Value;
    use super::proto::type_proto::Value as Type;

    let Some(Type::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Ok(());
    };
    let dims = t.shape.iter().flat_map(|s| &s.dim);
    for (axis, d) in dims.enumerate() {
        if let Some(Value::DimValue(n @ ..=-1)) = d.value {
            return Err(Error::format(
                format!("{source}: graph {kind} '{}'", v.name),
                format!("dim {axis} is {n}"),
            ));
        }
    }
    Ok(())
}
