//! Which of a file's parameters a rewrite frees. A weight read by nodes outside the replaced pieces stays
//! in the file (legacy exports keep one copy of equal tensors: every zero bias of a width is one
//! initializer), so a piece's own count of its parameters can overstate what replacing it saves.

use std::collections::{BTreeSet, HashSet};

use crate::io::onnx::{GraphProto, NodeProto, OnnxModel, TensorProto};

/// For each piece (a set of ONNX node indices, the pieces disjoint, and the value it reads, which its
/// replacement reads in turn), the parameters of the file that removing every piece frees and that this
/// piece reads: an initializer or `Constant` is freed when no
/// remaining node reads it (directly, through a node that dies with the pieces, or from inside a
/// subgraph), and a freed tensor read by several pieces is shared equally among them.
pub(crate) fn freed_params(m: &OnnxModel, pieces: &[(BTreeSet<usize>, &str)]) -> Vec<usize> {
    let mut credit = vec![0.0f64; pieces.len()];
    let Some(g) = m.proto().graph.as_ref() else {
        return vec![0; pieces.len()];
    };
    let mut piece_of = vec![None; g.node.len()];
    for (p, (nodes, _)) in pieces.iter().enumerate() {
        for &i in nodes {
            if let Some(slot) = piece_of.get_mut(i) {
                *slot = Some(p);
            }
        }
    }
    let mut pinned: HashSet<&str> = g.output.iter().map(|v| v.name.as_str()).collect();
    pinned.extend(g.node.iter().flat_map(subgraph_reads));
    pinned.extend(pieces.iter().map(|&(_, entry)| entry));
    // Nodes are in topological order: walking back, every reader of a node's outputs is settled. A node
    // dies with the pieces it feeds when none of its outputs is read by a live node or pinned.
    let mut readers: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, n) in g.node.iter().enumerate() {
        for x in n.input.iter().filter(|x| !x.is_empty()) {
            readers.entry(x.as_str()).or_default().push(i);
        }
    }
    let mut feeds: Vec<Option<BTreeSet<usize>>> = vec![None; g.node.len()];
    for i in (0..g.node.len()).rev() {
        feeds[i] = match piece_of[i] {
            Some(p) => Some(BTreeSet::from([p])),
            None => dead_feeds(&g.node[i].output, &readers, &pinned, &feeds),
        };
    }
    let mut share = |size: usize, of: &BTreeSet<usize>| {
        for &p in of {
            credit[p] += size as f64 / of.len() as f64;
        }
    };
    for t in &g.initializer {
        let name = [t.name.clone()];
        if let Some(of) = dead_feeds(&name, &readers, &pinned, &feeds) {
            share(params(t), &of);
        }
    }
    for (i, n) in g.node.iter().enumerate() {
        if let (Some(of), true) = (&feeds[i], n.op_type == "Constant") {
            for t in n.attribute.iter().filter_map(|a| a.t.as_ref()) {
                share(params(t), of);
            }
        }
    }
    credit.into_iter().map(|c| c.round() as usize).collect()
}

/// The pieces the `outputs` of a node feed when every reader of them dies; `None` when one is live.
fn dead_feeds(
    outputs: &[String],
    readers: &std::collections::HashMap<&str, Vec<usize>>,
    pinned: &HashSet<&str>,
    feeds: &[Option<BTreeSet<usize>>],
) -> Option<BTreeSet<usize>> {
    let mut of = BTreeSet::new();
    for o in outputs.iter().filter(|o| !o.is_empty()) {
        if pinned.contains(o.as_str()) {
            return None;
        }
        for &r in readers.get(o.as_str()).map_or(&[][..], Vec::as_slice) {
            of.extend(feeds[r].as_ref()?);
        }
    }
    // a node whose outputs nothing reads was dead before any rewrite: it frees nothing
    (!of.is_empty()).then_some(of)
}

/// Elements of a floating-point tensor, as [`OnnxModel::param_count`] counts them.
fn params(t: &TensorProto) -> usize {
    if matches!(t.data_type, 1 | 10 | 11 | 16) {
        t.dims.iter().map(|&d| d.max(0) as usize).product()
    } else {
        0
    }
}

/// Every name the subgraphs of `node` read (at any depth): an outer value they use must stay.
pub(crate) fn subgraph_reads(node: &NodeProto) -> Vec<&str> {
    fn walk<'a>(g: &'a GraphProto, out: &mut Vec<&'a str>) {
        for n in &g.node {
            out.extend(n.input.iter().map(String::as_str));
            for a in &n.attribute {
                for s in a.g.iter().chain(&a.graphs) {
                    walk(s, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for a in &node.attribute {
        for s in a.g.iter().chain(&a.graphs) {
            walk(s, &mut out);
        }
    }
    out
}
