//! Pieces of a linear group: ranges of its nodes (in model order) that read one value and whose last node
//! alone is read outside, each planned as one layer; and the partition of the group into kept nodes and
//! replaced pieces that costs least under the [`Policy`].
//!
//! For each first node the range grows one node at a time, carrying each node's convolution form (relative
//! to the range's entry) along, so a group of `m` nodes costs `O(m * MAX_PIECE)` composition steps, not
//! `O(m^3)`. Costs come from the shapes ([`crate::cost`]); nothing dense is built here.

use std::collections::HashMap;

use super::choose::{plan, Candidate};
use super::fold::conv_step;
use super::last_axis::{last_axis_step, LastMap};
use crate::graph::{Model, Op, Readers, Run, Src};
use crate::layer::Conv2d;
use crate::{cost, Error, Options, Policy, Result, Scalar, Shape};
use std::sync::Arc;

/// The longest range planned as one piece.
const MAX_PIECE: usize = 64;

/// A range of a model's nodes seen as a model of its own, without copying its layers.
pub(crate) struct Piece<'m, T> {
    pub(crate) model: &'m Model<T>,
    pub(crate) shapes: &'m [Option<Shape>],
    pub(crate) run: Run,
}

impl<T: Scalar> Piece<'_, T> {
    /// The shape of the value the piece reads.
    pub(crate) fn input(&self) -> Shape {
        shape_of(self.model, self.shapes, self.run.entry)
            .expect("a linear node reads a known shape")
    }

    /// The shape of its exit.
    pub(crate) fn output(&self) -> Shape {
        self.shapes[self.run.exit].expect("a linear node has a known shape")
    }

    /// The piece as a model of its own (its layers copied), its entry as the input.
    ///
    /// # Errors
    /// As [`Model::push`].
    pub(crate) fn to_model(&self) -> Result<Model<T>> {
        let local: HashMap<usize, usize> = self
            .run
            .nodes
            .iter()
            .enumerate()
            .map(|(j, &k)| (k, j))
            .collect();
        let mut sub = Model::new(self.input());
        for &k in &self.run.nodes {
            let node = &self.model.nodes()[k];
            let inputs = node
                .inputs
                .iter()
                .map(|s| match s {
                    s if *s == self.run.entry => Src::Input,
                    Src::Node(i) => Src::Node(local[i]),
                    Src::Input => Src::Input,
                })
                .collect();
            sub.push(node.name.clone(), node.op.clone(), inputs)?;
        }
        sub.set_outputs(vec![Src::Node(local[&self.run.exit])])?;
        Ok(sub)
    }

    /// The names of its nodes.
    pub(crate) fn names(&self) -> Vec<String> {
        self.run
            .nodes
            .iter()
            .map(|&k| self.model.nodes()[k].name.clone())
            .collect()
    }

    /// What each node computes, short.
    pub(crate) fn ops(&self) -> Vec<String> {
        self.run
            .nodes
            .iter()
            .map(|&k| self.model.nodes()[k].op.describe())
            .collect()
    }
}

/// The shape of a value.
fn shape_of<T: Scalar>(model: &Model<T>, shapes: &[Option<Shape>], s: Src) -> Option<Shape> {
    match s {
        Src::Input => Some(model.input_shape()),
        Src::Node(i) => shapes[i],
    }
}

/// Parameters and multiply-adds of one node at its input shapes.
pub(crate) fn node_cost<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    k: usize,
) -> Result<(usize, u64)> {
    let node = &model.nodes()[k];
    Ok(match &node.op {
        Op::Layer(l) => {
            let input = shape_of(model, shapes, node.inputs[0]).ok_or_else(|| {
                Error::invalid(
                    format!("node '{}'", node.name),
                    "reads a value of unknown shape",
                )
            })?;
            (l.num_params(), cost::macs(l, input)?)
        }
        Op::Add => (
            0,
            shapes[k].map_or(0, |s| cost::add_macs(node.inputs.len(), s)),
        ),
        Op::Concat { .. } | Op::Nonlinear(_) => (0, 0),
    })
}

/// How a piece compares with another under the policy: lower is better.
pub(crate) fn key(policy: Policy, (params, macs): (usize, u64)) -> (u64, u64) {
    match policy {
        Policy::Params => (params as u64, macs),
        _ => (macs, params as u64),
    }
}

/// Whether a form costing `after` may replace nodes costing `before` (parameters, multiply-adds): under
/// `Macs` (and `Force`, for the pieces of a group that is no run) neither more multiply-adds nor more
/// parameters, and less of one; under `Params` fewer parameters first.
pub(crate) fn admissible(policy: Policy, after: (usize, u64), before: (usize, u64)) -> bool {
    match policy {
        Policy::Params => key(policy, after) < key(policy, before),
        _ => after.0 <= before.0 && after.1 <= before.1 && after != before,
    }
}

/// One piece chosen to be replaced, and its planned form.
pub(crate) struct Chosen<T> {
    pub(crate) run: Run,
    pub(crate) candidate: Candidate<T>,
    /// Parameters and multiply-adds of the nodes it replaces.
    pub(crate) before: (usize, u64),
}

/// A group's plan: the pieces to replace (none when keeping it is cheapest), and why it is kept when so.
pub(crate) struct GroupPlan<T> {
    pub(crate) chosen: Vec<Chosen<T>>,
    pub(crate) kept_why: String,
}

/// Plans `group` (a linear group's nodes, in model order): under [`Policy::Force`] the whole group as one
/// layer when it is a run; otherwise the cheapest partition into kept nodes and replaced pieces. A piece's
/// entry and exit must pass `cuttable` (a value with a name in the file).
///
/// # Errors
/// When a node's shape or cost cannot be computed.
pub(crate) fn plan_group<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    readers: &Readers,
    group: &[usize],
    opts: &Options,
    cuttable: &dyn Fn(Src) -> bool,
) -> Result<GroupPlan<T>> {
    let costs: Vec<(usize, u64)> = group
        .iter()
        .map(|&k| node_cost(model, shapes, k))
        .collect::<Result<_>>()?;
    let pieces = candidates(model, shapes, readers, group, &costs, opts, cuttable)?;
    let whole = pieces.iter().find(|p| p.0 == 0 && p.1 + 1 == group.len());
    let kept_why = match whole {
        Some((_, _, c, before)) if c.feasible => format!(
            "as {} it would take {} multiply-adds and {} parameters, the run takes {} and {} ({})",
            c.form, c.macs, c.params, before.1, before.0, c.why
        ),
        Some((_, _, c, _)) => c.why.clone(),
        None => "no part of it that reads one value and gives one is cheaper as one layer".into(),
    };
    if opts.policy == Policy::Force {
        if let Some((_, _, c, before)) = whole.filter(|w| w.2.feasible) {
            let run =
                range_run(model, readers, group, 0, group.len() - 1).expect("planned as a run");
            return Ok(GroupPlan {
                chosen: vec![Chosen {
                    run,
                    candidate: c.clone(),
                    before: *before,
                }],
                kept_why,
            });
        }
    }
    // the cheapest partition: best[i] covers group[..i], and says which piece ends there (if any)
    let policy = opts.policy;
    let add = |a: (u64, u64), b: (u64, u64)| (a.0.saturating_add(b.0), a.1.saturating_add(b.1));
    let mut best: Vec<((u64, u64), Option<usize>)> = vec![((0, 0), None); group.len() + 1];
    // the pieces ending at each position, so the partition is linear in the number of pieces
    let mut ending: Vec<Vec<usize>> = vec![Vec::new(); group.len()];
    for (p, piece) in pieces.iter().enumerate() {
        ending[piece.1].push(p);
    }
    for end in 1..=group.len() {
        let mut here = (add(best[end - 1].0, key(policy, costs[end - 1])), None);
        for &p in &ending[end - 1] {
            let (a, _, c, before) = &pieces[p];
            if admissible(policy, (c.params, c.macs), *before) {
                let via = add(best[*a].0, key(policy, (c.params, c.macs)));
                if via < here.0 {
                    here = (via, Some(p));
                }
            }
        }
        best[end] = here;
    }
    let mut chosen = Vec::new();
    let mut end = group.len();
    while end > 0 {
        match best[end].1 {
            Some(p) => {
                let (a, b, c, before) = &pieces[p];
                let run = range_run(model, readers, group, *a, *b).expect("planned as a run");
                chosen.push(Chosen {
                    run,
                    candidate: c.clone(),
                    before: *before,
                });
                end = *a;
            }
            None => end -= 1,
        }
    }
    chosen.reverse();
    Ok(GroupPlan { chosen, kept_why })
}

/// `group[a..=b]` as a run whose exit is its last node, when it is one.
fn range_run<T: Scalar>(
    model: &Model<T>,
    readers: &Readers,
    group: &[usize],
    a: usize,
    b: usize,
) -> Option<Run> {
    let run = crate::graph::as_run(model, readers, &group[a..=b])?;
    (run.exit == group[b]).then_some(run)
}

/// A planned piece: first and last position in the group, its best form, and the cost of its nodes.
type Planned<T> = (usize, usize, Candidate<T>, (usize, u64));

/// Every range of the group that is a run ending at its last node, with its best planned form when that
/// is cheaper than the nodes it replaces (under `Force`, the whole group's best form in any case).
fn candidates<T: Scalar>(
    model: &Model<T>,
    shapes: &[Option<Shape>],
    readers: &Readers,
    group: &[usize],
    costs: &[(usize, u64)],
    opts: &Options,
    cuttable: &dyn Fn(Src) -> bool,
) -> Result<Vec<Planned<T>>> {
    let pos: HashMap<usize, usize> = group.iter().enumerate().map(|(p, &k)| (k, p)).collect();
    // no admissible conv form has more parameters than the whole group (`Force` takes any)
    let limit = match opts.policy {
        Policy::Force => usize::MAX,
        _ => costs.iter().map(|c| c.0).sum::<usize>().max(1),
    };
    let mut out = Vec::new();
    for a in 0..group.len() {
        let mut entry: Option<Src> = None;
        let mut forms: HashMap<usize, std::result::Result<Conv2d<T>, String>> = HashMap::new();
        let mut lasts: HashMap<usize, std::result::Result<Arc<LastMap<T>>, String>> =
            HashMap::new();
        let mut before = (0usize, 0u64);
        let mut smallest = usize::MAX;
        for b in a..group.len().min(a + MAX_PIECE) {
            let k = group[b];
            let node = &model.nodes()[k];
            let inside = |j: usize| pos.get(&j).is_some_and(|&p| p >= a && p <= b);
            let mut external = node
                .inputs
                .iter()
                .filter(|s| !matches!(s, Src::Node(j) if inside(*j)));
            if let Some(&s) = external.next() {
                if entry.is_some_and(|e| e != s) || external.any(|&t| t != s) {
                    break; // a second outside value: no longer range reads one value
                }
                entry = Some(s);
            }
            let Some(entry) = entry else { break };
            before = (before.0 + costs[b].0, before.1.saturating_add(costs[b].1));
            smallest = smallest.min(shapes[k].map_or(usize::MAX, |s| s.numel()));
            let Some(input) = shape_of(model, shapes, entry) else {
                break;
            };
            let form = conv_step(model, shapes, k, entry, input, &forms, limit);
            forms.insert(k, form);
            if input.rank() > 1 {
                let last = last_axis_step(model, shapes, k, (entry, input), &lasts, (limit, false));
                lasts.insert(k, last);
            }
            let exits_ok = group[a..=b]
                .iter()
                .all(|&j| (j == k) == readers.read_outside(j, inside));
            if b == a || !exits_ok || !cuttable(entry) || !cuttable(Src::Node(k)) {
                continue;
            }
            let output = shapes[k].expect("a linear node's shape is known");
            // a chain's rank is at most its narrowest value
            let chain = group[a..=b].iter().enumerate().all(|(i, &j)| {
                let ins = &model.nodes()[j].inputs;
                ins.len() == 1 && (i == 0 || ins[0] == Src::Node(group[a + i - 1]))
            });
            let rank_bound = if chain {
                smallest.min(input.numel())
            } else {
                input.numel().min(output.numel())
            };
            let last = lasts.get(&k).and_then(|l| l.as_ref().ok());
            let forms_planned = plan(forms[&k].as_ref(), last, input, output, rank_bound, opts);
            let k_of = |c: &Candidate<T>| key(opts.policy, (c.params, c.macs));
            let fits = |c: &&Candidate<T>| {
                c.feasible && admissible(opts.policy, (c.params, c.macs), before)
            };
            let best_fit = forms_planned.iter().filter(fits).min_by_key(|c| k_of(c));
            let whole = a == 0 && b + 1 == group.len();
            if let Some(c) = best_fit {
                out.push((a, b, c.clone(), before));
            } else if whole {
                // the whole group's smallest form serves the report (and `Force`) even when it costs more
                let smallest = forms_planned
                    .iter()
                    .filter(|c| c.feasible)
                    .min_by_key(|c| (c.params, c.macs));
                let c = smallest.unwrap_or(&forms_planned[forms_planned.len() - 1]);
                out.push((a, b, c.clone(), before));
            }
        }
    }
    Ok(out)
}
