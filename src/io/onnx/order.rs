//! Nodes in any valid order: a stable topological sort of the main graph before it is validated.

use std::collections::{HashMap, HashSet};

use super::ModelProto;

/// Reorders the main graph's nodes so that each comes after the producers of its inputs, keeping the
/// file's order wherever it already is valid. Nodes that can never run (an input nobody produces, or a
/// cycle) keep their relative order at the end, where validation names them.
pub(super) fn sort(model: &mut ModelProto) {
    let Some(g) = model.graph.as_mut() else {
        return;
    };
    let mut defined: HashSet<String> = g
        .initializer
        .iter()
        .map(|t| t.name.clone())
        .chain(g.input.iter().map(|v| v.name.clone()))
        .chain(
            g.sparse_initializer
                .iter()
                .filter_map(|s| Some(s.values.as_ref()?.name.clone())),
        )
        .collect();
    let producer: HashMap<&str, usize> = g
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let ready = |n: &super::NodeProto, defined: &HashSet<String>| {
        n.input
            .iter()
            .all(|i| i.is_empty() || defined.contains(i) || !producer.contains_key(i.as_str()))
    };
    let mut done = vec![false; g.node.len()];
    let mut order: Vec<usize> = Vec::with_capacity(g.node.len());
    // Repeated passes in file order: linear for a sorted graph, quadratic at worst.
    loop {
        let before = order.len();
        for (i, n) in g.node.iter().enumerate() {
            if !done[i] && ready(n, &defined) {
                done[i] = true;
                order.push(i);
                defined.extend(n.output.iter().cloned());
            }
        }
        if order.len() == before {
            break;
        }
    }
    order.extend((0..g.node.len()).filter(|&i| !done[i]));
    if order.iter().enumerate().any(|(k, &i)| k != i) {
        let mut nodes: Vec<Option<super::NodeProto>> = g.node.drain(..).map(Some).collect();
        g.node = order
            .iter()
            .map(|&i| nodes[i].take().expect("each once"))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::sort;
    use crate::io::onnx::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto};

    fn node(name: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            name: name.into(),
            op_type: "Relu".into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    #[test]
    fn nodes_out_of_order_are_sorted_stably() {
        let mut m = ModelProto {
            graph: Some(GraphProto {
                input: vec![ValueInfoProto {
                    name: "x".into(),
                    ..Default::default()
                }],
                node: vec![
                    node("c", &["b"], "c"),
                    node("a", &["x"], "a"),
                    node("d", &["x"], "d"),
                    node("b", &["a"], "b"),
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        sort(&mut m);
        let names: Vec<_> = m
            .graph
            .unwrap()
            .node
            .iter()
            .map(|n| n.name.clone())
            .collect();
        assert_eq!(names, ["a", "d", "b", "c"]);
    }
}
