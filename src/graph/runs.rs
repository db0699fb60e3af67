//! Linear groups (connected linear nodes) and their single-entry single-exit runs.

use std::collections::BTreeMap;

use super::{Model, Src};
use crate::Scalar;

/// A run of linear nodes that reads one value and whose one value leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Its nodes, in model order.
    pub(crate) nodes: Vec<usize>,
    /// The one value it reads from outside.
    pub(crate) entry: Src,
    /// The one node whose output leaves it.
    pub(crate) exit: usize,
}

/// Who reads each node's output: the nodes, and whether it is a model output.
pub(crate) struct Readers {
    nodes: Vec<Vec<usize>>,
    output: Vec<bool>,
}

impl Readers {
    /// The readers of every node of `model`.
    pub(crate) fn of<T: Scalar>(model: &Model<T>) -> Self {
        let n = model.nodes().len();
        let mut nodes = vec![Vec::new(); n];
        for (k, node) in model.nodes().iter().enumerate() {
            for s in &node.inputs {
                if let Src::Node(j) = *s {
                    if nodes[j].last() != Some(&k) {
                        nodes[j].push(k);
                    }
                }
            }
        }
        let mut output = vec![false; n];
        for s in model.outputs() {
            if let Src::Node(j) = s {
                output[j] = true;
            }
        }
        Readers { nodes, output }
    }

    /// True when node `j`'s output is a model output or is read by a node for which `inside` is false.
    pub(crate) fn read_outside(&self, j: usize, inside: impl Fn(usize) -> bool) -> bool {
        self.output[j] || self.nodes[j].iter().any(|&r| !inside(r))
    }
}

/// The linear groups of a model: linear nodes joined by edges between linear nodes, each in model order.
pub(crate) fn linear_groups<T: Scalar>(model: &Model<T>) -> Vec<Vec<usize>> {
    let nodes = model.nodes();
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
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
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, node) in nodes.iter().enumerate() {
        if node.op.is_linear() {
            let r = find(&mut parent, k);
            groups.entry(r).or_default().push(k);
        }
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by_key(|g| g[0]);
    out
}

/// `nodes` (sorted) as a run, when they read exactly one outside value and exactly one of them is read
/// outside; `None` otherwise.
pub(crate) fn as_run<T: Scalar>(
    model: &Model<T>,
    readers: &Readers,
    nodes: &[usize],
) -> Option<Run> {
    let inside = |k: usize| nodes.binary_search(&k).is_ok();
    let mut entry = None;
    for &k in nodes {
        for &s in &model.nodes()[k].inputs {
            if matches!(s, Src::Node(j) if inside(j)) {
                continue;
            }
            match entry {
                None => entry = Some(s),
                Some(e) if e == s => {}
                Some(_) => return None,
            }
        }
    }
    let mut exits = nodes.iter().filter(|&&k| readers.read_outside(k, inside));
    let exit = *exits.next()?;
    if exits.next().is_some() {
        return None;
    }
    Some(Run {
        nodes: nodes.to_vec(),
        entry: entry?,
        exit,
    })
}
