//! Maximal linear runs: connected groups of linear nodes with one entry and one exit.

use std::collections::BTreeSet;

use super::{Model, Src};
use crate::Scalar;

/// A maximal linear run of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Its nodes, in model order.
    pub(crate) nodes: Vec<usize>,
    /// The one value it reads from outside.
    pub(crate) entry: Src,
    /// The one node whose output leaves it.
    pub(crate) exit: usize,
}

/// A group of linear nodes that cannot collapse into one layer, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unsplittable {
    pub(crate) nodes: Vec<usize>,
    pub(crate) why: String,
}

/// Finds the maximal linear runs: linear nodes joined by edges between linear nodes, grouped; a group
/// collapses when it reads exactly one outside value and exactly one of its nodes is read from outside
/// (or is the model's output).
pub(crate) fn linear_runs<T: Scalar>(model: &Model<T>) -> Vec<Result<Run, Unsplittable>> {
    let nodes = model.nodes();
    let n = nodes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (k, node) in nodes.iter().enumerate() {
        if !node.op.is_linear() {
            continue;
        }
        for s in &node.inputs {
            if let Src::Node(j) = *s {
                if nodes[j].op.is_linear() {
                    let (a, b) = (find(&mut parent, j), find(&mut parent, k));
                    parent[a] = b;
                }
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (k, node) in nodes.iter().enumerate() {
        if node.op.is_linear() {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(k);
        }
    }
    let outputs = model.outputs();
    groups
        .into_values()
        .map(|members| {
            let inside: BTreeSet<usize> = members.iter().copied().collect();
            let entries: BTreeSet<Src> = members
                .iter()
                .flat_map(|&k| nodes[k].inputs.iter().copied())
                .filter(|s| !matches!(s, Src::Node(j) if inside.contains(j)))
                .collect();
            let exits: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&k| {
                    outputs.contains(&Src::Node(k))
                        || nodes
                            .iter()
                            .enumerate()
                            .any(|(c, node)| !inside.contains(&c) && node.inputs.contains(&Src::Node(k)))
                })
                .collect();
            match (entries.len(), exits.as_slice()) {
                (1, &[exit]) => Ok(Run { nodes: members, entry: *entries.first().expect("one"), exit }),
                (e, x) => Err(Unsplittable {
                    nodes: members,
                    why: format!("the run reads {e} outside values and {} of its nodes are read outside; one of each is needed", x.len()),
                }),
            }
        })
        .collect()
}
